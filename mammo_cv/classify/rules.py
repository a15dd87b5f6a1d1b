"""The rule set of the classifier: its defaults, their schema, and rules files.

A rule set has one section per rule (``vascular``, ``secretory``, ``macro``, ``punctate``,
``suspicious_cluster``). The defaults live in the section dataclasses below, each threshold
with its type, unit, allowed range and a one-line description (field metadata, read by
:mod:`mammo_cv.config.schema`). A rules file (TOML, one table per section) may set any subset
of the keys; what it leaves out keeps its default. The shipped ``mammo_cv/classify/rules.toml``
sets every key to its default and cites the source of each threshold (BI-RADS 5th ed. or a
measurement); ``tests/test_rules.py`` checks that it equals the defaults.

Examples
--------
>>> from mammo_cv.classify.rules import Rules
>>> rules = Rules()
>>> rules.secretory.min_length_mm, len(rules.digest)
(3.0, 16)
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["RulesError", "Rules", "VascularRule", "SecretoryRule", "MacroRule", "PunctateRule",
           "SuspiciousClusterRule", "RULE_SECTIONS", "rules_from_mapping", "load_rules", "DEFAULT_RULES_PATH"]

#: The shipped rules file: every key at its default, with the source of each threshold.
DEFAULT_RULES_PATH = Path(__file__).with_name("rules.toml")


def _key(default: float, low: float, high: float, unit: str, description: str, kind: type = float) -> Any:
    """A rule threshold: its default, allowed closed range, unit, type and one-line description."""
    return field(default=default, metadata={"range": (low, high), "type": kind, "unit": unit,
                                            "description": description})


class RulesError(ValueError):
    """A rules file (or rule set) that cannot be used.

    Attributes
    ----------
    path : str
        The rules file; ``""`` for a rule set built in code.
    key : str
        The offending key, dotted (``"secretory.min_length_mm"``); a section name for a whole
        section; ``""`` for the whole file.
    problem : str
    """

    def __init__(self, path: str | os.PathLike[str], key: str, problem: str) -> None:
        self.path, self.key, self.problem = str(path), key, problem
        where = f" key {key!r}:" if key else ":"
        super().__init__(f"{self.path or '<rules>'}:{where} {problem}")


@dataclass(frozen=True)
class VascularRule:
    """Vessel-wall fragments; see ``rules.toml`` ``[vascular]``."""

    min_vascular_score: float = _key(0.5, 0.0, 1.0, "score", "vascular_score from which a calcification is vascular")


@dataclass(frozen=True)
class SecretoryRule:
    """Large rod-like (secretory) calcifications (mm, degrees)."""

    min_length_mm: float = _key(3.0, 0.5, 30.0, "mm", "shortest secretory rod (BI-RADS: 3-10 mm long)")
    max_length_mm: float = _key(12.0, 0.5, 50.0, "mm", "longest secretory rod (10 mm plus 20 % for measurement)")
    min_width_mm: float = _key(0.3, 0.05, 5.0, "mm", "thinnest secretory rod (BI-RADS: mostly >= 0.5 mm)")
    min_elongation: float = _key(3.0, 1.0, 100.0, "ratio", "length / width a rod needs")
    max_irregularity: float = _key(0.4, 0.0, 1.0, "fraction", "largest 1 - solidity of a smooth rod")
    max_nipple_angle_deg: float = _key(30.0, 0.0, 90.0, "deg",
                                       "largest angle between a rod's axis and the line to the nipple")
    bilateral_max_nipple_angle_deg: float = _key(45.0, 0.0, 90.0, "deg",
                                                 "that angle when the other breast shows rods")
    bilateral_min_width_mm: float = _key(0.25, 0.05, 5.0, "mm", "the thinnest rod when the other breast shows rods")
    min_contralateral_rods: int = _key(1, 1, 1000, "count", "rods in the other breast that count as bilateral", int)


@dataclass(frozen=True)
class MacroRule:
    """Coarse, popcorn, large round, dystrophic and rim calcifications (mm, mm2)."""

    min_length_mm: float = _key(1.0, 0.1, 30.0, "mm", "greatest dimension of a macrocalcification (BI-RADS: ~1 mm)")
    min_width_mm: float = _key(0.35, 0.05, 10.0, "mm", "coarse: calibre at least this ...")
    min_area_mm2: float = _key(0.785, 0.01, 1000.0, "mm2", "... or area at least this (a 1-mm disk)")
    coarse_min_length_mm: float = _key(2.0, 0.5, 30.0, "mm", "coarse or popcorn wording from this length")
    round_max_elongation: float = _key(2.0, 1.0, 20.0, "ratio", "large round below this elongation")
    dystrophic_min_irregularity: float = _key(0.1, 0.0, 1.0, "fraction", "dystrophic wording from this 1 - solidity")
    rim_min_lucent_center: float = _key(0.5, 0.0, 1.0, "fraction", "rim (eggshell) from this lucent_center")
    arc_min_irregularity: float = _key(0.45, 0.0, 1.0, "fraction", "a rim arc has at least this 1 - solidity ...")
    arc_min_length_mm: float = _key(2.0, 0.1, 30.0, "mm", "... and at least this length")
    fragment_min_fill: float = _key(0.1, 0.0, 2.0, "ratio",
                                    "fragmented macro cluster: pieces cover this share of its extent disk ...")
    fragment_min_length_fraction: float = _key(0.6, 0.0, 2.0, "ratio",
                                               "... or a macro member is this share of the cluster extent")


@dataclass(frozen=True)
class PunctateRule:
    """Small round calcifications (mm)."""

    max_length_mm: float = _key(1.0, 0.05, 5.0, "mm", "longest punctate calcification")
    max_elongation: float = _key(2.0, 1.0, 20.0, "ratio", "punctate: round or oval below this elongation")


@dataclass(frozen=True)
class SuspiciousClusterRule:
    """Suspicion score of a cluster and its operating point."""

    max_fine_width_mm: float = _key(0.5, 0.05, 2.0, "mm", "a member is fine below this calibre (BI-RADS: 0.5 mm)")
    min_fine_calcs: int = _key(5, 1, 100, "count", "fine members for a full count term (BI-RADS: 5)", int)
    min_fine_calcs_label: int = _key(5, 1, 100, "count", "fewest fine members for the suspicious label (BI-RADS: 5)",
                                     int)
    shaped_min_fine_calcs_label: int = _key(3, 1, 100, "count",
                                            "fewest fine members when their shape is measured (resolved or "
                                            "fine-linear)", int)
    min_shaped_members: int = _key(2, 1, 100, "count",
                                   "resolved or fine-linear fine members that lower the floor to "
                                   "shaped_min_fine_calcs_label", int)
    fine_linear_min_elongation: float = _key(3.0, 1.0, 20.0, "ratio", "a fine member this elongated is fine-linear")
    full_pleomorphism: float = _key(0.4, 0.01, 1.0, "score", "pleomorphism at which the morphology term is full")
    full_linear_fraction: float = _key(0.5, 0.01, 1.0, "fraction",
                                       "fine-linear fraction or branching at which the morphology term is full")
    count_weight: float = _key(0.5, 0.0, 1.0, "fraction", "weight of the count term (weights sum to 1)")
    morphology_weight: float = _key(0.3, 0.0, 1.0, "fraction", "weight of the morphology term")
    distribution_weight: float = _key(0.2, 0.0, 1.0, "fraction", "weight of the linear or segmental term")
    min_score: float = _key(0.5, 0.0, 1.0, "score", "suspicion score from which a cluster is suspicious")


#: Section name -> its dataclass, in the order of the rules file.
RULE_SECTIONS: dict[str, type] = {
    "vascular": VascularRule,
    "secretory": SecretoryRule,
    "macro": MacroRule,
    "punctate": PunctateRule,
    "suspicious_cluster": SuspiciousClusterRule,
}


@dataclass(frozen=True)
class Rules:
    """A rule set (frozen); ``Rules()`` holds the defaults.

    Attributes
    ----------
    vascular, secretory, macro, punctate, suspicious_cluster
        One frozen section per rule, thresholds in mm, mm2, degrees or 0..1.
    source : str
        The file it was read from; ``""`` for a rule set built in code. Not compared: two rule
        sets with the same thresholds are equal.

    Raises
    ------
    RulesError
        When thresholds of different keys contradict each other (e.g. ``secretory.min_length_mm``
        above ``secretory.max_length_mm``).
    """

    vascular: VascularRule = field(default_factory=VascularRule)
    secretory: SecretoryRule = field(default_factory=SecretoryRule)
    macro: MacroRule = field(default_factory=MacroRule)
    punctate: PunctateRule = field(default_factory=PunctateRule)
    suspicious_cluster: SuspiciousClusterRule = field(default_factory=SuspiciousClusterRule)
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        _cross_checks(self)

    @property
    def digest(self) -> str:
        """SHA-256 (hex, first 16 digits) of the thresholds (sorted keys and values, not the
        comments or the path): the rule-set hash recorded with every output."""
        return hashlib.sha256(json.dumps(self.values(), sort_keys=True).encode()).hexdigest()[:16]

    def values(self) -> dict[str, dict[str, float | int]]:
        """The thresholds as ``{section: {key: value}}``."""
        return {name: {f.name: getattr(getattr(self, name), f.name) for f in fields(cls)}
                for name, cls in RULE_SECTIONS.items()}

    def to_dict(self) -> dict:
        """JSON-serialisable values plus ``source`` and ``digest``."""
        return {**self.values(), "source": self.source, "digest": self.digest}


def _cross_checks(rules: Rules) -> None:
    sec, clus, path = rules.secretory, rules.suspicious_cluster, rules.source
    if sec.min_length_mm > sec.max_length_mm:
        raise RulesError(path, "secretory.max_length_mm", "must be >= secretory.min_length_mm")
    if sec.bilateral_max_nipple_angle_deg < sec.max_nipple_angle_deg:
        raise RulesError(path, "secretory.bilateral_max_nipple_angle_deg",
                         "must be >= secretory.max_nipple_angle_deg (bilateral support relaxes)")
    if sec.bilateral_min_width_mm > sec.min_width_mm:
        raise RulesError(path, "secretory.bilateral_min_width_mm",
                         "must be <= secretory.min_width_mm (bilateral support relaxes)")
    total = clus.count_weight + clus.morphology_weight + clus.distribution_weight
    if abs(total - 1.0) > 1e-9:
        raise RulesError(path, "suspicious_cluster.count_weight",
                         f"count, morphology and distribution weights must sum to 1, got {total:g}")


def _unknown(name: str, known: Mapping[str, Any] | list[str]) -> str:
    """``"unknown ...; did you mean ...?"`` or the list of the known names."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"did you mean {close[0]!r}?" if close else f"expected one of {sorted(known)}"


def _check_value(path: str, key: str, value: Any, spec: Mapping[str, Any]) -> float | int:
    kind = spec["type"]
    low, high = spec["range"]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not isinstance(value, int)):
        raise RulesError(path, key, f"must be {'an integer' if kind is int else 'a number'}, got {value!r}")
    if not math.isfinite(value) or not low <= value <= high:
        raise RulesError(path, key, f"must be in [{low:g}, {high:g}] {spec['unit']}, got {value!r}")
    return kind(value)


def _section(path: str, name: str, raw: Any) -> Any:
    """One validated section: the keys ``raw`` sets, the defaults for the others."""
    if name not in RULE_SECTIONS:
        raise RulesError(path, name, f"unknown section; {_unknown(name, RULE_SECTIONS)}")
    if not isinstance(raw, dict):
        raise RulesError(path, name, "must be a table ([section])")
    specs = {f.name: f.metadata for f in fields(RULE_SECTIONS[name])}
    for key in raw:
        if key not in specs:
            raise RulesError(path, f"{name}.{key}", f"unknown key; {_unknown(key, specs)}")
    return RULE_SECTIONS[name](**{key: _check_value(path, f"{name}.{key}", value, specs[key])
                                  for key, value in raw.items()})


def rules_from_mapping(raw: Mapping[str, Any], source: str | os.PathLike[str] = "") -> Rules:
    """Validate ``{section: {key: value}}`` (a parsed rules file) into a rule set.

    Parameters
    ----------
    raw : mapping
        Any subset of the sections and keys; what it leaves out keeps its default.
    source : path, optional
        Where the values come from; recorded as ``Rules.source`` and named in errors.

    Returns
    -------
    Rules

    Raises
    ------
    RulesError
        An unknown section or key, an ill-typed or out-of-range value, or contradicting keys;
        the message names the source and the dotted key.

    Examples
    --------
    >>> rules_from_mapping({"macro": {"min_length_mm": 1.5}}).macro.min_length_mm
    1.5
    """
    src = str(source)
    sections = {name: _section(src, name, value) for name, value in raw.items()}
    return Rules(**sections, source=src)


def load_rules(path: str | os.PathLike[str] | None = None) -> Rules:
    """Read and validate a rules file.

    Parameters
    ----------
    path : path, optional
        A TOML rules file with any subset of the sections and keys; None = the defaults,
        ``Rules()`` (the values of the shipped ``mammo_cv/classify/rules.toml``).

    Returns
    -------
    Rules

    Raises
    ------
    RulesError
        Unreadable or invalid TOML, an unknown section or key, an ill-typed or out-of-range
        value; the message names the file and the dotted key.

    Examples
    --------
    >>> rules = load_rules(DEFAULT_RULES_PATH)
    >>> rules.secretory.min_length_mm, rules == Rules()
    (3.0, True)
    """
    if path is None:
        return Rules()
    source = Path(path)
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesError(source, "", f"cannot read the rules file ({exc.strerror or exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(source, "", f"not valid TOML ({exc})") from exc
    return rules_from_mapping(raw, source)
