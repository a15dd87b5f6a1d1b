"""Settings of different keys that must agree, checked where the whole configuration is assembled.

Each coupling ties a dependent key to the key it follows. :func:`check_couplings` runs on the
values of a settings file before the stage dataclasses are built (so that the error names the
file, the section and the key) and again in ``Config.__post_init__`` (so that a ``Config``
assembled in code cannot break them either). A stage dataclass built alone may break the two
equalities on purpose: the tests turn the detector's context threshold off by raising
``context_min_confidence`` to ``min_confidence`` without moving ``seed_snr``.

Examples
--------
>>> from mammo_cv.config.couplings import COUPLINGS
>>> [(c.section, c.key, c.relation) for c in COUPLINGS][0]
('detection', 'seed_snr', 'equal')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mammo_cv.config.schema import SettingsError

__all__ = ["Coupling", "COUPLINGS", "check_couplings", "coupling_notes"]


@dataclass(frozen=True)
class Coupling:
    """``[section] key`` must stand in ``relation`` to ``[other_section] other_key``.

    Attributes
    ----------
    section, key : str
        The dependent key, named in the error.
    other_section, other_key : str
        The key it follows.
    relation : {"equal", "same length"}
    reason : str
        Why, in one line.
    """

    section: str
    key: str
    other_section: str
    other_key: str
    relation: str
    reason: str

    def holds(self, values: Mapping[str, Mapping[str, Any]]) -> bool:
        """Whether the coupling holds in ``{section: {key: value}}``."""
        mine, other = values[self.section][self.key], values[self.other_section][self.other_key]
        return mine == other if self.relation == "equal" else len(mine) == len(other)

    def rule(self) -> str:
        """``"must equal [detection] context_min_confidence"`` and the like."""
        verb = "must equal" if self.relation == "equal" else "needs one entry per entry of"
        return f"{verb} [{self.other_section}] {self.other_key}"


COUPLINGS: tuple[Coupling, ...] = (
    Coupling("detection", "seed_snr", "detection", "context_min_confidence", "equal",
             "candidates are seeded down to the context threshold: a higher seed would cap it, a lower one "
             "finds candidates nothing reports"),
    Coupling("clusters", "min_member_confidence", "detection", "min_confidence", "equal",
             "every candidate a cluster may use is reported, and every reported one at the operating point "
             "may join a cluster"),
    Coupling("detection", "scale_weights", "detection", "tophat_diameters_mm", "same length",
             "one confidence weight per top-hat scale (a missing weight would drop its scale)"),
)


def check_couplings(values: Mapping[str, Mapping[str, Any]], path: str = "") -> None:
    """Raise on the first coupling that ``values`` break.

    Parameters
    ----------
    values : mapping
        ``{section: {key: value}}`` holding at least the stage sections of the couplings.
    path : str, optional
        The settings file, named in the error.

    Raises
    ------
    SettingsError
        Naming the dependent key, the key it follows, both values and the reason.

    Examples
    --------
    >>> values = {"detection": {"seed_snr": 4.5, "context_min_confidence": 5.0}}
    >>> check_couplings(values)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mammo_cv.config.schema.SettingsError: [detection] seed_snr: must equal [detection] context_min_confidence ...
    """
    for coupling in COUPLINGS:
        if not coupling.holds(values):
            mine = values[coupling.section][coupling.key]
            other = values[coupling.other_section][coupling.other_key]
            raise SettingsError(path, coupling.section, coupling.key,
                                f"{coupling.rule()} ({other!r}), got {mine!r}: {coupling.reason}")


def coupling_notes(section: str, key: str) -> list[str]:
    """The couplings in which ``[section] key`` is the dependent key, as ``rule()`` texts.

    Parameters
    ----------
    section, key : str

    Returns
    -------
    list of str

    Examples
    --------
    >>> coupling_notes("clusters", "min_member_confidence")
    ['must equal [detection] min_confidence']
    """
    return [c.rule() for c in COUPLINGS if (c.section, c.key) == (section, key)]
