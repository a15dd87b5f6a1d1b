"""The declarative schema of every setting: section, key, type, unit, range and description.

Modelled on pyradiomics' ``paramSchema``: one entry per key of every stage config dataclass
and of every rule, in the order of a settings file. The defaults are not written here: each
entry takes its default from its dataclass, where it lives once. The stage entries are
declared below; the rule entries come from the field metadata of the rule dataclasses in
:mod:`mammo_cv.classify.rules`, which must validate rules files without importing this layer.

Ranges are closed ``[low, high]`` and physically meaningful per key (a kernel diameter in mm,
an angle in degrees, a fraction in 0..1, a count >= 1); for a sequence they bound each element.
Units: ``mm``, ``mm2``, ``deg``, ``px``, ``sigma`` (local noise standard deviations), ``count``,
``fraction`` (a part of a whole, 0..1), ``ratio`` (dimensionless, e.g. an elongation),
``score``, ``weight``, ``mm/mm``; ``""`` for switches and choices.

Examples
--------
>>> from mammo_cv.config.schema import SETTINGS
>>> entry = next(s for s in SETTINGS if s.key == "skin_margin_mm")
>>> entry.section, entry.unit, entry.low, entry.high, entry.default
('detection', 'mm', 0.0, 30.0, 5.0)
"""

from __future__ import annotations

import math
import os
from dataclasses import MISSING, dataclass, fields
from typing import Any

from mammo_cv.anatomy.landmarks import AnatomyConfig
from mammo_cv.classify.rules import RULE_SECTIONS
from mammo_cv.describe.calcifications import FeatureConfig
from mammo_cv.describe.grouping import ClusterConfig
from mammo_cv.describe.groups import GroupConfig
from mammo_cv.describe.vascular import VascularConfig
from mammo_cv.detection.detect import DetectionConfig

__all__ = ["Setting", "SettingsError", "SETTINGS", "SECTIONS", "STAGE_SECTIONS", "entries"]


class SettingsError(ValueError):
    """A settings file (or an assembled ``Config``) that cannot be used.

    Attributes
    ----------
    path : str
        The settings file; ``""`` for a ``Config`` built in code.
    section : str
        The section (``"detection"``, ``"rules.secretory"``); ``""`` for the whole file.
    key : str
        The offending key; ``""`` for a whole section or file.
    problem : str
    """

    def __init__(self, path: str | os.PathLike[str], section: str, key: str, problem: str) -> None:
        self.path, self.section, self.key, self.problem = str(path), section, key, problem
        where = [self.path] if self.path else []
        if section:
            where.append(f"[{section}]" + (f" {key}" if key else ""))
        super().__init__(": ".join([*where, problem]))


@dataclass(frozen=True)
class Setting:
    """One key of a settings file.

    Attributes
    ----------
    section, key : str
        ``[section]`` and key in the file, the dataclass field name.
    type : type
        ``float``, ``int``, ``bool``, ``str`` or ``tuple`` (of floats, a TOML array).
    unit : str
        See the module docstring.
    low, high : float or None
        Closed allowed range (of each element for a tuple); None for ``bool`` and ``str``.
    default
        The dataclass default.
    description : str
        One line.
    choices : tuple of str
        The allowed values of a ``str``.
    length : int or None
        Number of elements of a ``tuple``; None = one or more.
    increasing : bool
        The elements of a ``tuple`` strictly increase (a ``(min, max)`` interval).
    """

    section: str
    key: str
    type: type
    unit: str
    low: float | None
    high: float | None
    default: Any
    description: str
    choices: tuple[str, ...] = ()
    length: int | None = None
    increasing: bool = False

    def parse(self, value: Any, path: str = "") -> Any:
        """``value`` read from a TOML file, checked and converted to the field's type.

        Raises
        ------
        SettingsError
            Wrong type, length, order, choice or a value outside ``[low, high]``.
        """
        if self.type is bool:
            if not isinstance(value, bool):
                raise SettingsError(path, self.section, self.key, f"must be true or false, got {value!r}")
            return value
        if self.type is str:
            if value not in self.choices:
                raise SettingsError(path, self.section, self.key,
                                    f"must be one of {list(self.choices)}, got {value!r}")
            return value
        if self.type is tuple:
            return self._parse_sequence(value, path)
        return self._parse_number(value, path, "")

    def _parse_sequence(self, value: Any, path: str) -> tuple[float, ...]:
        count = "one or more" if self.length is None else str(self.length)
        if not isinstance(value, (list, tuple)) or not value or self.length not in (None, len(value)):
            raise SettingsError(path, self.section, self.key, f"must be an array of {count} numbers, got {value!r}")
        numbers = tuple(self._parse_number(item, path, "each element ") for item in value)
        if self.increasing and any(b <= a for a, b in zip(numbers, numbers[1:])):
            raise SettingsError(path, self.section, self.key, f"must be [min, max] with min < max, got {value!r}")
        return numbers

    def _parse_number(self, value: Any, path: str, what: str) -> float | int:
        integer = self.type is int
        if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
            raise SettingsError(path, self.section, self.key,
                                f"{what}must be {'an integer' if integer else 'a number'}, got {value!r}")
        if not math.isfinite(value) or not self.low <= value <= self.high:
            raise SettingsError(path, self.section, self.key,
                                f"{what}must be in [{self.low:g}, {self.high:g}] {self.unit}, got {value!r}")
        return int(value) if integer else float(value)


def _num(key: str, unit: str, low: float, high: float, description: str) -> dict:
    return {"key": key, "type": float, "unit": unit, "low": low, "high": high, "description": description}


def _int(key: str, unit: str, low: int, high: int, description: str) -> dict:
    return {**_num(key, unit, low, high, description), "type": int}


def _flag(key: str, description: str) -> dict:
    return {"key": key, "type": bool, "unit": "", "low": None, "high": None, "description": description}


def _choice(key: str, choices: tuple[str, ...], description: str) -> dict:
    return {**_flag(key, description), "type": str, "choices": choices}


def _seq(key: str, unit: str, low: float, high: float, description: str, *, pair: bool = False) -> dict:
    return {**_num(key, unit, low, high, description), "type": tuple, "length": 2 if pair else None,
            "increasing": pair}


_ANATOMY = (
    _num("working_spacing_mm", "mm", 0.1, 3.0, "pixel size of the grid the anatomy is found on"),
    _num("smoothing_sigma_mm", "mm", 0.1, 5.0, "Gaussian sigma applied before the breast threshold"),
    _num("threshold_fraction", "fraction", 0.0, 1.0, "core breast level, from background (0) to tissue (1)"),
    _num("skin_threshold_fraction", "fraction", 0.0, 1.0, "lower level that grows the core out to the skin line"),
    _num("skin_reach_mm", "mm", 0.0, 20.0, "how far beyond the core the skin level may grow the mask"),
    _num("min_contrast_to_noise", "ratio", 0.0, 100.0, "least (tissue - background) / noise of a breast"),
    _num("opening_mm", "mm", 0.0, 20.0, "diameter of the opening that cuts bridges to labels and film borders"),
    _num("edge_strip_mm", "mm", 0.0, 20.0, "depth of the image-edge strips cleared unless the breast continues"),
    _num("outline_sigma_mm", "mm", 0.1, 10.0, "Gaussian sigma that smooths the mask outline"),
    _num("min_extent_mm", "mm", 5.0, 100.0, "shortest image side that can hold a breast"),
    _num("min_breast_area_mm2", "mm2", 0.0, 10000.0, "smallest accepted breast footprint"),
    _num("tie_ratio", "fraction", 0.0, 1.0, "chest-wall edge heights closer than this fraction are a tie"),
    _num("edge_band_fraction", "fraction", 0.01, 0.5, "band at each end of the breast whose height is averaged"),
    _num("pectoral_sigma_mm", "mm", 0.1, 10.0, "Gaussian sigma before the gradient of the pectoral edge"),
    _num("pectoral_skin_margin_mm", "mm", 0.0, 30.0, "edge points this close to the skin line do not vote"),
    _seq("pectoral_angle_range_deg", "deg", 0.0, 90.0, "accepted [min, max] angle of the muscle edge's normal "
         "from the row axis", pair=True),
    _num("pectoral_angle_spread_deg", "deg", 0.0, 45.0, "an edge point votes for angles this close to its gradient"),
    _num("pectoral_inlier_mm", "mm", 0.1, 20.0, "edge points this close to the Hough line refine it"),
    _num("pectoral_min_contrast", "fraction", 0.0, 1.0, "least contrast across the muscle line (oblique views)"),
    _num("pectoral_min_contrast_unknown_view", "fraction", 0.0, 1.0, "that contrast when the view is unknown"),
    _num("pectoral_band_mm", "mm", 0.5, 30.0, "width of the bands on each side of the line for the contrast"),
    _num("pectoral_max_area_fraction", "fraction", 0.0, 1.0, "largest muscle, as a fraction of the breast"),
    _num("pectoral_min_area_fraction", "fraction", 0.0, 1.0, "smallest muscle that counts as found"),
    _choice("nipple_reference", ("pectoral", "chest_wall"), "what the nipple is farthest from on oblique views"),
    _num("nipple_tolerance_mm", "mm", 0.0, 20.0, "skin points this close to the farthest one form the nipple"),
)

_DETECTION = (
    _flag("noise_equalization", "variance-stabilise the pixels before any filter"),
    _num("noise_sample_mm", "mm", 0.1, 5.0, "cell side of the samples of the noise-versus-grey curve"),
    _int("noise_curve_bins", "count", 1, 256, "equal-count grey bins of that curve"),
    _seq("tophat_diameters_mm", "mm", 0.1, 30.0, "diameters of the top-hat kernels, one scale each"),
    _int("kernel_px_target", "px", 3, 101, "a scale whose kernel is wider than this runs downsampled"),
    _num("noise_cell_mm", "mm", 0.5, 50.0, "side of the cells whose RMS gives the local noise"),
    _num("noise_window_mm", "mm", 1.0, 200.0, "side of the window whose median cell RMS is the local noise"),
    _num("noise_floor_fraction", "fraction", 0.0, 1.0, "downsampled scales: least noise, as a share of its median"),
    _num("seed_snr", "sigma", 1.0, 50.0, "peak SNR a candidate needs (top-hat or -LoG)"),
    _num("grow_snr", "sigma", 0.5, 50.0, "pixels with this SNR join a seed (hysteresis low threshold)"),
    _num("half_max_fraction", "fraction", 0.05, 0.95, "a candidate keeps the pixels above this share of its range"),
    _num("min_area_mm2", "mm2", 0.0, 100.0, "smaller candidates (at half maximum) are reported only in a group"),
    _num("whole_min_diameter_mm", "mm", 0.1, 30.0, "a region the area of this disk or more is segmented whole"),
    _num("whole_core_fraction", "fraction", 0.05, 0.99, "plateau level, from the background to the blob's maximum"),
    _num("whole_min_core_share", "fraction", 0.0, 1.0, "share of a whole blob's pixels that lie on its plateau"),
    _num("max_area_mm2", "mm2", 0.01, 1000.0, "largest candidate area (80 mm2: a 10-mm disk)"),
    _num("whole_edge_max_mm", "mm", 0.0, 5.0, "whole objects with an edge this sharp keep their unweighted SNR"),
    _num("psf_excess_sigma", "sigma", 0.0, math.inf,
         "spots sharper than the measured system PSF by this many sigma are removed (inf: off)"),
    _num("soft_edge_min_mm", "mm", 0.0, math.inf,
         "coarse pixels: candidates of the whole_min_diameter_mm disk or more with blurrier edges go (inf: off)"),
    _num("soft_edge_spare_confidence", "sigma", 0.0, math.inf, "the tissue-edge test spares candidates this confident"),
    _num("coarse_solid_min_diameter_mm", "mm", 0.1, 30.0,
         "coarse pixels: candidates of this disk or more with sharp edges keep their unweighted SNR"),
    _num("coarse_solid_edge_max_mm", "mm", 0.0, 5.0, "... when their edge blur is at most this (0: off)"),
    _num("skin_margin_mm", "mm", 0.0, 30.0, "candidates this close to the breast-mask edge are removed"),
    _num("pectoral_margin_mm", "mm", 0.0, 30.0, "candidates on or this close to the pectoral muscle are removed"),
    _num("elongation_free", "ratio", 1.0, 1000.0, "elongation up to which confidence is not reduced"),
    _seq("scale_weights", "weight", 0.0, 2.0, "confidence weight of each top-hat scale"),
    _num("sharpness_sigma_mm", "mm", 0.01, 1.0, "LoG sigma of the sharpness test and of the -LoG finder"),
    _num("sharpness_min_sigma_px", "px", 0.1, 10.0, "the sharpness test runs when its sigma spans this many px"),
    _num("sharpness_max_penalty", "sigma", 0.0, 50.0, "most the sharpness test lowers a confidence"),
    _num("log_weight", "weight", 0.0, 2.0, "confidence is at least this times the -LoG SNR"),
    _num("min_confidence", "sigma", 0.0, 100.0, "reporting operating point; 0 keeps every candidate"),
    _num("isolated_min_confidence", "sigma", 0.0, 100.0, "a lone punctate-size candidate needs this confidence"),
    _num("isolated_max_diameter_mm", "mm", 0.0, 10.0, "candidates smaller than this disk count as punctate-size"),
    _num("context_min_confidence", "sigma", 1.0, 50.0, "fainter candidates from this are reported beside groups"),
    _num("context_radius_mm", "mm", 0.0, 20.0, "radius within which the confident neighbours are counted"),
    _int("context_min_neighbours", "count", 1, 100, "confident neighbours a faint candidate needs"),
)

_FEATURES = (
    _num("end_fraction", "fraction", 0.05, 0.45, "part of the skeleton path at each end that tapering compares"),
    _num("min_elongation_tapering", "ratio", 1.0, 20.0, "tapering is 0 below this elongation"),
    _num("min_elongation_axis", "ratio", 1.0, 20.0, "orientation to the nipple is NaN below this elongation"),
    _num("width_correction_px", "px", 0.0, 1.0, "c in width = 2 mean(distance transform) - c"),
    _num("end_correction_px", "px", 0.0, 1.0, "subtracted from the distance at each end of the skeleton path"),
    _num("core_depth_fraction", "fraction", 0.05, 0.95, "lucent centre: the core is deeper than this share"),
    _num("ring_distance_mm", "mm", 0.05, 5.0, "distance of the local-background ring outside the bounding box"),
    _num("spur_factor", "ratio", 0.0, 5.0, "a terminal branch shorter than this many local radii is a spur"),
    _num("path_step_mm", "mm", 0.05, 5.0, "chord step along the skeleton path that measures its length"),
)

_CLUSTERS = (
    _num("min_member_confidence", "sigma", 0.0, 100.0, "least confidence of a cluster member"),
    _num("link_mm", "mm", 0.1, 20.0, "members closer than this join one cluster (single linkage)"),
    _int("min_members", "count", 1, 100, "fewest members of a cluster"),
    _int("top_members", "count", 1, 100, "the score is the mean confidence of this many best members"),
    _num("min_score", "sigma", 0.0, 100.0, "clusters with a lower score are not reported"),
    _num("bi_rads_span_mm", "mm", 1.0, 50.0, "diameter of the circle of the BI-RADS link and group flag"),
    _int("bi_rads_min_calcs", "count", 1, 100, "members within that circle for the BI-RADS link and group flag"),
    _num("collinear_gap_mm", "mm", 0.0, 20.0, "largest end gap of collinear fragments that link; 0 disables"),
    _num("collinear_max_angle_deg", "deg", 1.0, 89.0, "largest angle of each fragment's axis to the joining line"),
    _num("collinear_min_elongation", "ratio", 1.0, 20.0, "collinear fragments are at least this elongated"),
)

_GROUPS = (
    _num("max_extent_mm", "mm", 1.0, 100.0, "largest extent of a grouped cluster (BI-RADS: 2 cm)"),
    _num("linear_min_linearity", "fraction", 0.0, 1.0, "linearity from which a group is linear"),
    _num("segmental_min_linearity", "fraction", 0.0, 1.0, "linearity a segment needs"),
    _num("segmental_max_alignment_deg", "deg", 0.0, 90.0, "a segment's axis is this close to the line to the nipple"),
    _num("segmental_min_apex", "score", -1.0, 1.0, "least apex_toward_nipple of a segment (a correlation)"),
    _num("segmental_min_fan", "mm/mm", 0.0, 1.0, "least widening of a segment per mm away from the nipple"),
    _num("round_max_linearity", "fraction", 0.0, 1.0, "below this linearity a group has no axis"),
    _num("diffuse_area_fraction", "fraction", 0.0, 1.0, "diffuse: the groups cover this share of the breast ..."),
    _int("diffuse_min_calcs", "count", 1, 10000, "... and hold at least this many members"),
)

_VASCULAR = (
    _num("min_elongation", "ratio", 1.0, 20.0, "a vessel fragment is at least this elongated"),
    _num("max_gap_mm", "mm", 0.0, 20.0, "largest gap between consecutive fragments of one vessel"),
    _num("max_bend_deg", "deg", 1.0, 89.0, "largest angle between linked fragments and the joining line"),
    _num("max_lateral_mm", "mm", 0.0, 5.0, "largest offset of linked centroids from their mean axis"),
    _int("min_fragments", "count", 2, 100, "a chain has at least this many fragments ..."),
    _num("min_chain_length_mm", "mm", 0.5, 200.0, "... or spans at least this length"),
    _seq("track_gap_mm", "mm", 0.1, 10.0, "[min, max] distance between the two walls of a vessel", pair=True),
    _num("max_parallel_deg", "deg", 1.0, 89.0, "two tracks are parallel within this angle"),
    _int("min_tram_fragments", "count", 1, 100, "fragments with a parallel partner that make a tram track"),
    _num("full_score_length_mm", "mm", 1.0, 200.0, "chain length at which the chain term of vascular_score is 1"),
)

#: The stage sections of a settings file -> their dataclass (and the ``Config`` field name).
STAGE_SECTIONS: dict[str, type] = {
    "anatomy": AnatomyConfig, "detection": DetectionConfig, "features": FeatureConfig,
    "clusters": ClusterConfig, "groups": GroupConfig, "vascular": VascularConfig,
}

#: Every section of a settings file -> its dataclass: the stages, then ``rules.<rule>``.
SECTIONS: dict[str, type] = {**STAGE_SECTIONS, **{f"rules.{name}": cls for name, cls in RULE_SECTIONS.items()}}

_STAGE_ENTRIES = {"anatomy": _ANATOMY, "detection": _DETECTION, "features": _FEATURES, "clusters": _CLUSTERS,
                  "groups": _GROUPS, "vascular": _VASCULAR}


def _defaults(cls: type) -> dict[str, Any]:
    instance = cls()
    return {f.name: getattr(instance, f.name) for f in fields(cls)}


def _stage_settings() -> list[Setting]:
    settings = []
    for section, declared in _STAGE_ENTRIES.items():
        defaults = _defaults(STAGE_SECTIONS[section])
        settings += [Setting(section=section, default=defaults.get(spec["key"], MISSING), **spec) for spec in declared]
    return settings


def _rule_settings() -> list[Setting]:
    settings = []
    for name, cls in RULE_SECTIONS.items():
        for f in fields(cls):
            meta = f.metadata
            settings.append(Setting(f"rules.{name}", f.name, meta["type"], meta["unit"], *meta["range"],
                                    default=f.default, description=meta["description"]))
    return settings


#: Every setting, in the order of a settings file.
SETTINGS: tuple[Setting, ...] = (*_stage_settings(), *_rule_settings())


def entries(section: str) -> dict[str, Setting]:
    """The settings of one section, by key (``{}`` for an unknown section).

    Parameters
    ----------
    section : str
        ``"detection"``, ``"rules.macro"``, ...

    Returns
    -------
    dict of str to Setting

    Examples
    --------
    >>> entries("rules.punctate")["max_length_mm"].unit
    'mm'
    """
    return {entry.key: entry for entry in SETTINGS if entry.section == section}

