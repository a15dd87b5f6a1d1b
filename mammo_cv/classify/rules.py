"""The rule set of the classifier: load and validate ``rules.toml``.

A rules file has one table per rule (``[vascular]``, ``[secretory]``, ``[macro]``,
``[punctate]``, ``[suspicious_cluster]``); every key must be present, have the right type and
lie in its range. The shipped file, ``mammo_cv/classify/rules.toml``, cites the source of each threshold.

Examples
--------
>>> from mammo_cv.classify.rules import load_rules
>>> rules = load_rules()
>>> rules.secretory.min_length_mm, len(rules.digest)
(3.0, 16)
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["RulesError", "Rules", "VascularRule", "SecretoryRule", "MacroRule", "PunctateRule",
           "SuspiciousClusterRule", "load_rules", "DEFAULT_RULES_PATH"]

#: The shipped rule set.
DEFAULT_RULES_PATH = Path(__file__).with_name("rules.toml")

_MM = (0.0, 100.0)       # any size in mm
_DEG = (0.0, 90.0)       # angle between two lines
_UNIT = (0.0, 1.0)       # fractions and scores


def _key(low: float, high: float, kind: type = float) -> Any:
    """A rule threshold with its allowed closed range and type."""
    return field(metadata={"range": (low, high), "type": kind})


class RulesError(ValueError):
    """A rules file that cannot be used.

    Attributes
    ----------
    path : str
        The rules file.
    key : str
        The offending key, dotted (``"secretory.min_length_mm"``); ``""`` for the whole file.
    problem : str
    """

    def __init__(self, path: str | os.PathLike[str], key: str, problem: str) -> None:
        self.path, self.key, self.problem = str(path), key, problem
        where = f" key {key!r}:" if key else ":"
        super().__init__(f"{self.path}:{where} {problem}")


@dataclass(frozen=True)
class VascularRule:
    """Vessel-wall fragments; see ``rules.toml`` ``[vascular]``."""

    min_vascular_score: float = _key(*_UNIT)


@dataclass(frozen=True)
class SecretoryRule:
    """Large rod-like (secretory) calcifications (mm, degrees)."""

    min_length_mm: float = _key(*_MM)
    max_length_mm: float = _key(*_MM)
    min_width_mm: float = _key(*_MM)
    min_elongation: float = _key(1.0, 1000.0)
    max_irregularity: float = _key(*_UNIT)
    max_nipple_angle_deg: float = _key(*_DEG)
    bilateral_max_nipple_angle_deg: float = _key(*_DEG)
    bilateral_min_width_mm: float = _key(*_MM)
    min_contralateral_rods: int = _key(1, 1000, int)


@dataclass(frozen=True)
class MacroRule:
    """Coarse, popcorn, large round, dystrophic and rim calcifications (mm, mm2)."""

    min_length_mm: float = _key(*_MM)
    min_width_mm: float = _key(*_MM)
    min_area_mm2: float = _key(0.0, 10000.0)
    coarse_min_length_mm: float = _key(*_MM)
    round_max_elongation: float = _key(1.0, 1000.0)
    dystrophic_min_irregularity: float = _key(*_UNIT)
    rim_min_lucent_center: float = _key(*_UNIT)
    arc_min_irregularity: float = _key(*_UNIT)
    arc_min_length_mm: float = _key(*_MM)
    fragment_min_fill: float = _key(0.0, 1000.0)
    fragment_min_length_fraction: float = _key(0.0, 1000.0)


@dataclass(frozen=True)
class PunctateRule:
    """Small round calcifications (mm)."""

    max_length_mm: float = _key(*_MM)
    max_elongation: float = _key(1.0, 1000.0)


@dataclass(frozen=True)
class SuspiciousClusterRule:
    """Suspicion score of a cluster and its operating point."""

    max_fine_width_mm: float = _key(*_MM)
    min_fine_calcs: int = _key(1, 1000, int)
    min_fine_calcs_label: int = _key(1, 1000, int)
    fine_linear_min_elongation: float = _key(1.0, 1000.0)
    full_pleomorphism: float = _key(1e-6, 1.0)
    full_linear_fraction: float = _key(1e-6, 1.0)
    count_weight: float = _key(*_UNIT)
    morphology_weight: float = _key(*_UNIT)
    distribution_weight: float = _key(*_UNIT)
    min_score: float = _key(*_UNIT)


_SECTIONS: dict[str, type] = {
    "vascular": VascularRule,
    "secretory": SecretoryRule,
    "macro": MacroRule,
    "punctate": PunctateRule,
    "suspicious_cluster": SuspiciousClusterRule,
}


@dataclass(frozen=True)
class Rules:
    """A validated rule set (frozen).

    Attributes
    ----------
    vascular, secretory, macro, punctate, suspicious_cluster
        One frozen section per rule, thresholds in mm, mm2, degrees or 0..1.
    source : str
        The file it was read from.
    digest : str
        SHA-256 (hex, first 16 digits) of the canonical content (sorted keys and values, not
        the comments or the path): the rule-set hash recorded with every output.
    """

    vascular: VascularRule
    secretory: SecretoryRule
    macro: MacroRule
    punctate: PunctateRule
    suspicious_cluster: SuspiciousClusterRule
    source: str = ""
    digest: str = ""

    def values(self) -> dict[str, dict[str, float | int]]:
        """The thresholds as ``{section: {key: value}}``."""
        return {name: {f.name: getattr(getattr(self, name), f.name) for f in fields(cls)}
                for name, cls in _SECTIONS.items()}

    def to_dict(self) -> dict:
        """JSON-serialisable values plus ``source`` and ``digest``."""
        return {**self.values(), "source": self.source, "digest": self.digest}


def _check_value(path: str, key: str, value: Any, spec: dict) -> float | int:
    kind = spec["type"]
    low, high = spec["range"]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not isinstance(value, int)):
        raise RulesError(path, key, f"must be {'an integer' if kind is int else 'a number'}, got {value!r}")
    if not math.isfinite(value) or not low <= value <= high:
        raise RulesError(path, key, f"must be in [{low}, {high}], got {value!r}")
    return kind(value)


def _cross_checks(path: str, rules: dict[str, dict]) -> None:
    sec, clus = rules["secretory"], rules["suspicious_cluster"]
    if sec["min_length_mm"] > sec["max_length_mm"]:
        raise RulesError(path, "secretory.max_length_mm", "must be >= secretory.min_length_mm")
    if sec["bilateral_max_nipple_angle_deg"] < sec["max_nipple_angle_deg"]:
        raise RulesError(path, "secretory.bilateral_max_nipple_angle_deg",
                         "must be >= secretory.max_nipple_angle_deg (bilateral support relaxes)")
    if sec["bilateral_min_width_mm"] > sec["min_width_mm"]:
        raise RulesError(path, "secretory.bilateral_min_width_mm",
                         "must be <= secretory.min_width_mm (bilateral support relaxes)")
    total = clus["count_weight"] + clus["morphology_weight"] + clus["distribution_weight"]
    if abs(total - 1.0) > 1e-9:
        raise RulesError(path, "suspicious_cluster.count_weight",
                         f"count, morphology and distribution weights must sum to 1, got {total:g}")


def load_rules(path: str | os.PathLike[str] | None = None) -> Rules:
    """Read and validate a rules file.

    Parameters
    ----------
    path : path, optional
        A TOML rules file; None = the shipped ``mammo_cv/classify/rules.toml``.

    Returns
    -------
    Rules

    Raises
    ------
    RulesError
        Unreadable or invalid TOML, a missing or unknown section or key, an ill-typed or
        out-of-range value; the message names the file and the dotted key.

    Examples
    --------
    >>> rules = load_rules()
    >>> rules.secretory.min_length_mm, len(rules.digest)
    (3.0, 16)
    """
    source = Path(path) if path is not None else DEFAULT_RULES_PATH
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesError(source, "", f"cannot read the rules file ({exc.strerror or exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(source, "", f"not valid TOML ({exc})") from exc
    src = str(source)
    for name, value in raw.items():
        if name not in _SECTIONS:
            raise RulesError(src, name, f"unknown section; expected one of {sorted(_SECTIONS)}")
        if not isinstance(value, dict):
            raise RulesError(src, name, "must be a table ([section])")
    checked: dict[str, dict] = {}
    for name, cls in _SECTIONS.items():
        if name not in raw:
            raise RulesError(src, name, "missing section")
        specs = {f.name: f.metadata for f in fields(cls)}
        for key in raw[name]:
            if key not in specs:
                raise RulesError(src, f"{name}.{key}", f"unknown key; expected one of {sorted(specs)}")
        checked[name] = {}
        for key, spec in specs.items():
            if key not in raw[name]:
                raise RulesError(src, f"{name}.{key}", "missing key")
            checked[name][key] = _check_value(src, f"{name}.{key}", raw[name][key], spec)
    _cross_checks(src, checked)
    digest = hashlib.sha256(json.dumps(checked, sort_keys=True).encode()).hexdigest()[:16]
    sections = {name: cls(**checked[name]) for name, cls in _SECTIONS.items()}
    return Rules(**sections, source=src, digest=digest)
