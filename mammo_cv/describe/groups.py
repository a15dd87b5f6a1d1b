"""BI-RADS groups of calcifications and their description in mm.

Input is the per-calcification table of :mod:`mammo_cv.describe.calcifications` (positions and sizes in mm);
output is one row per group with the schema ``GROUP_COLUMNS``. Positions are member centroids,
so every number is independent of the pixel spacing.

The groups themselves come from :mod:`mammo_cv.describe.grouping` (one grouping for the whole
package); this module only describes them.

Columns (:func:`describe_groups`), row g = group g:

- ``row_px``, ``col_px``, ``row_mm``, ``col_mm``: mean member centroid.
- ``extent_mm``: Feret diameter of the member centroids plus the mean member
  ``length_mm`` (each end member reaches on average half a length further out).
- ``area_mm2``: convex hull of the member centroids dilated by half the mean member
  width, by Steiner's formula ``A + P r + pi r^2`` (hull area A, perimeter P): exact
  for a hull of disks of that width, and still > 0 for collinear members.
- ``density_per_cm2``: ``n_calcs / (area_mm2 / 100)``.
- ``linearity``: ``1 - sqrt(l_min / l_max)`` of the centroid covariance, in [0, 1];
  0 for a round group, 1 for members on a straight line.
- ``branching``: fraction of members with ``branching > 0``, in [0, 1] (the
  group's branching pattern).
- ``pleomorphism``: mean of ``min(CV(area_mm2), 1)``, ``min(CV(elongation), 1)`` and
  ``min(2 std(irregularity), 1)`` (CV = std / mean), in [0, 1]; 0 = identical members.
- ``nipple_alignment_deg``: angle in [0, 90] between the principal axis and the line
  from the centroid to the nipple; NaN when ``linearity < round_max_linearity`` or the
  centroid is on the nipple.
- ``apex_toward_nipple``: Pearson correlation, in [-1, 1], between each member's
  distance from the nipple along the principal axis and its distance from that axis;
  > 0 when the group narrows toward the nipple (a segment's apex), NaN when undefined.
- ``mean_width_mm``, ``max_length_mm``: of the members.
- ``distribution``: one of ``DISTRIBUTIONS``, by the rules below.

Distribution (:func:`describe_groups`), tested in this order:

1. ``segmental``: larger than ``max_extent_mm``, elongated (``linearity >=
   segmental_min_linearity``), its principal axis within ``segmental_max_alignment_deg`` of the
   line to the nipple, and the narrow end toward the nipple (``apex_toward_nipple >=
   segmental_min_apex``, spread growing by ``segmental_min_fan`` mm per mm): a duct tree fans
   out from the nipple (BI-RADS "segmental"). Tested before ``linear`` because a tall segment
   is also elongated; a line whose members do not fan out stays linear.
2. ``linear``: ``linearity >= linear_min_linearity`` (members along a line), any extent.
3. ``diffuse``: calcifications scattered through the breast (BI-RADS 5th ed. "diffuse:
   distributed randomly throughout the breast"). The groups of the image together hold at
   least ``diffuse_min_calcs`` members and the convex hull of all those members covers at
   least ``diffuse_area_fraction`` of the breast; then every group that is not linear or
   segmental is "diffuse". Scattered calcifications form many small groups at a 3 mm link, so
   this is an image-level property given to each of them; it needs ``breast_area_mm2``
   (without it they are "grouped" or "regional").
4. ``grouped``: ``extent_mm <= max_extent_mm``.
5. ``regional``: everything else larger than ``max_extent_mm`` (not ductal).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from mammo_cv.core.geometry import axis_to_line_deg, principal_axis_rad, principal_moments

__all__ = ["GROUP_COLUMNS", "DISTRIBUTIONS", "GroupConfig", "describe_groups", "empty_group_table"]

#: The BI-RADS 5th-edition distribution descriptors, as written in ``distribution``.
DISTRIBUTIONS: tuple[str, ...] = ("grouped", "linear", "segmental", "regional", "diffuse")

GROUP_COLUMNS: dict[str, np.dtype] = {
    "group_id": np.dtype(np.int64),
    "n_calcs": np.dtype(np.int64),
    "row_px": np.dtype(np.float64),
    "col_px": np.dtype(np.float64),
    "row_mm": np.dtype(np.float64),
    "col_mm": np.dtype(np.float64),
    "extent_mm": np.dtype(np.float64),
    "area_mm2": np.dtype(np.float64),
    "density_per_cm2": np.dtype(np.float64),
    "linearity": np.dtype(np.float64),
    "branching": np.dtype(np.float64),
    "pleomorphism": np.dtype(np.float64),
    "nipple_alignment_deg": np.dtype(np.float64),
    "apex_toward_nipple": np.dtype(np.float64),
    "mean_width_mm": np.dtype(np.float64),
    "max_length_mm": np.dtype(np.float64),
    "distribution": np.dtype(object),
}

_NEEDED = ("row_px", "col_px", "row_mm", "col_mm", "area_mm2", "length_mm", "width_mm", "elongation",
           "irregularity", "branching")


@dataclass(frozen=True)
class GroupConfig:
    """Distribution thresholds of the cluster description (mm, degrees or dimensionless).

    How each default was chosen is recorded in ``docs/validation.md``.

    Attributes
    ----------
    max_extent_mm : float
        BI-RADS 5th ed. upper limit of "grouped", mm: a group spanning 2 cm. Larger groups are regional,
        segmental or linear.
    linear_min_linearity : float
        ``linearity`` from which a group is "linear". Members spread uniformly over a band of width w and
        length L have minor/major = w / L, so 0.6 admits bands up to 0.4 L wide: room for the side
        branches and gentle curves of a duct (BI-RADS "linear: ... may have branch points").
    segmental_min_linearity : float
        Elongation a segment needs: a uniform triangle twice as tall as its base has linearity 0.57, and
        0.3 (minor/major at most 0.7) separates it from a round region (BI-RADS "segmental: a duct and its
        branches"; package choice).
    segmental_max_alignment_deg : float
        A segment points to the nipple: principal axis within this angle of the line to the nipple, deg.
        30 deg, the angular half-width of a breast lobe (package choice).
    segmental_min_apex : float
        Minimum ``apex_toward_nipple`` (correlation of the spread across the axis with the distance from
        the nipple, in [-1, 1]). A uniform triangle with its apex at the nipple scores ~0.5 and a uniform
        rectangle ~0, so 0.2 is almost halfway (package choice).
    segmental_min_fan : float
        ... and the mean distance of members from the axis grows by at least this many mm per mm away
        from the nipple: 0.05, a fan of ~11 deg full angle, so that a jittered straight line is no
        segment (package choice).
    round_max_linearity : float
        Below this ``linearity`` (minor/major above 0.7) a group has no axis and ``nipple_alignment_deg``
        is NaN: 10 points drawn uniformly in a disk have a median linearity of 0.30, so a lower value is
        what a round group gives by chance.
    diffuse_area_fraction : float
        "Diffuse": the members of all groups of the image cover at least this fraction of the breast area
        (BI-RADS 5th ed. "throughout the breast"; a quarter is this package's choice).
    diffuse_min_calcs : int
        ... and the groups of the image hold at least this many members: six times the BI-RADS group
        minimum, so that a few neighbouring groups never make a breast diffuse (package choice).
    """

    max_extent_mm: float = 20.0
    linear_min_linearity: float = 0.6
    segmental_min_linearity: float = 0.3
    segmental_max_alignment_deg: float = 30.0
    segmental_min_apex: float = 0.2
    segmental_min_fan: float = 0.05
    round_max_linearity: float = 0.3
    diffuse_area_fraction: float = 0.25
    diffuse_min_calcs: int = 30

    def __post_init__(self) -> None:
        if self.max_extent_mm <= 0:
            raise ValueError(f"max_extent_mm must be > 0, got {self.max_extent_mm}")
        if self.diffuse_min_calcs < 1:
            raise ValueError(f"diffuse_min_calcs must be >= 1, got {self.diffuse_min_calcs}")
        for name in ("linear_min_linearity", "segmental_min_linearity", "round_max_linearity",
                     "diffuse_area_fraction"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if not 0.0 <= self.segmental_max_alignment_deg <= 90.0:
            raise ValueError(f"segmental_max_alignment_deg must be in [0, 90], got "
                             f"{self.segmental_max_alignment_deg}")


def empty_group_table() -> dict[str, np.ndarray]:
    """A table with no rows: every column of ``GROUP_COLUMNS`` as a zero-length array."""
    return {name: np.zeros(0, dtype) for name, dtype in GROUP_COLUMNS.items()}


def _hull_geometry(points: np.ndarray, ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Convex-hull area (mm^2), perimeter (mm) and Feret diameter (mm) of each group's points.
    A loop over groups (k <= n / min_members); a hull of < 3 or collinear points has area 0."""
    area = np.zeros(k)
    perimeter = np.zeros(k)
    feret = np.zeros(k)
    order = np.argsort(ids, kind="stable")
    bounds = np.searchsorted(ids[order], np.arange(k + 1))
    for g in range(k):
        pts = points[order[bounds[g]:bounds[g + 1]]]
        # recentre on the group so that float32 keeps sub-micrometre precision
        hull = cv2.convexHull((pts - pts.mean(axis=0)).astype(np.float32)).reshape(-1, 2).astype(np.float64)
        area[g] = cv2.contourArea(hull.astype(np.float32)) if len(hull) >= 3 else 0.0
        perimeter[g] = cv2.arcLength(hull.astype(np.float32), True) if len(hull) >= 2 else 0.0
        diff = hull[:, None, :] - hull[None, :, :]
        feret[g] = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff).max())
    return area, perimeter, feret


@dataclass(frozen=True)
class _Members:
    """The calcifications that lie in a group: ``ids`` (m,) int64 group of each (0..k-1),
    ``count`` (k,) float64 members per group and ``col`` the ``_NEEDED`` columns, (m,) float64."""

    ids: np.ndarray
    count: np.ndarray
    col: dict[str, np.ndarray]

    def mean(self, values: np.ndarray) -> np.ndarray:
        """Group mean of the per-member ``values``, (k,) float64."""
        return np.bincount(self.ids, values, self.count.size) / self.count

    def std(self, values: np.ndarray) -> np.ndarray:
        """Group standard deviation (population), (k,) float64."""
        return np.sqrt(np.maximum(self.mean(values * values) - self.mean(values) ** 2, 0.0))

    def cv(self, values: np.ndarray) -> np.ndarray:
        """Group coefficient of variation std / mean, 0 where the mean is not positive."""
        m = self.mean(values)
        return np.where(m > 0, self.std(values) / np.where(m > 0, m, 1.0), 0.0)

    @property
    def points_mm(self) -> np.ndarray:
        """(m, 2) float64 (row, col) member centroids in mm."""
        return np.column_stack([self.col["row_mm"], self.col["col_mm"]])


def _members(calcs: dict[str, np.ndarray], group_id: np.ndarray) -> _Members | None:
    """The grouped calcifications of the table; None when no calcification is in a group.
    Raises ValueError for a missing column or a group without members."""
    missing = [name for name in _NEEDED if name not in calcs]
    if missing:
        raise ValueError(f"calcification table lacks columns {missing}")
    ids_all = np.asarray(group_id, np.int64)
    inside = ids_all >= 0
    k = int(ids_all.max()) + 1 if inside.any() else 0
    if k == 0:
        return None
    count = np.bincount(ids_all[inside], minlength=k).astype(np.float64)
    if np.any(count == 0):
        raise ValueError("group ids must be 0..k-1 with no empty group")
    return _Members(ids=ids_all[inside], count=count,
                    col={name: np.asarray(calcs[name], np.float64)[inside] for name in _NEEDED})


@dataclass(frozen=True)
class _Axes:
    """Per group (k,): mean centroid ``row_mm``/``col_mm``, ``linearity`` and the principal axis
    ``axis_rad`` of the member centroids; per member (m,): its offset ``dr``/``dc`` (mm) from
    its group's centroid."""

    row_mm: np.ndarray
    col_mm: np.ndarray
    dr: np.ndarray
    dc: np.ndarray
    linearity: np.ndarray
    axis_rad: np.ndarray


def _principal_axes(m: _Members) -> _Axes:
    """Centroid, linearity and principal axis of each group's member centroids."""
    row, colm = m.mean(m.col["row_mm"]), m.mean(m.col["col_mm"])
    dr, dc = m.col["row_mm"] - row[m.ids], m.col["col_mm"] - colm[m.ids]
    c_rr, c_cc, c_rc = m.mean(dr * dr), m.mean(dc * dc), m.mean(dr * dc)
    l_max, l_min = principal_moments(c_rr, c_cc, c_rc)
    l_min = np.maximum(l_min, 0.0)
    linearity = np.where(l_max > 0, 1.0 - np.sqrt(l_min / np.where(l_max > 0, l_max, 1.0)), 0.0)
    return _Axes(row_mm=row, col_mm=colm, dr=dr, dc=dc, linearity=linearity,
                 axis_rad=principal_axis_rad(c_rr, c_cc, c_rc))


def _apex(m: _Members, axes: _Axes, to_row: np.ndarray, to_col: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Does the spread about the axis grow with distance from the nipple? (k,) ``apex`` (the
    correlation, NaN when undefined) and ``fan`` (mm of spread gained per mm, 0 when
    undefined); ``to_row``/``to_col`` (k,) point from each centroid to the nipple (mm)."""
    k = m.count.size
    u_row, u_col = np.sin(axes.axis_rad), np.cos(axes.axis_rad)
    away = -np.sign(u_row * to_row + u_col * to_col)      # +1: axis points away from the nipple
    t = (axes.dr * u_row[m.ids] + axes.dc * u_col[m.ids]) * away[m.ids]
    s = np.abs(axes.dc * u_row[m.ids] - axes.dr * u_col[m.ids])
    cov_ts = m.mean(t * s) - m.mean(t) * m.mean(s)
    sd_t, sd_s = m.std(t), m.std(s)
    defined = (sd_t > 0) & (sd_s > 0) & (away != 0)
    apex = np.full(k, np.nan)
    apex[defined] = np.clip(cov_ts[defined] / (sd_t[defined] * sd_s[defined]), -1.0, 1.0)
    fan = np.zeros(k)
    fan[defined] = cov_ts[defined] / sd_t[defined] ** 2
    return apex, fan


def _size_columns(m: _Members) -> dict[str, np.ndarray]:
    """``extent_mm``, ``area_mm2``, ``density_per_cm2``, ``mean_width_mm`` and ``max_length_mm``
    (module docstring)."""
    hull_mm2, perimeter_mm, feret_mm = _hull_geometry(m.points_mm, m.ids, m.count.size)
    mean_width = m.mean(m.col["width_mm"])
    radius = 0.5 * mean_width
    area_mm2 = hull_mm2 + perimeter_mm * radius + np.pi * radius ** 2
    max_length = np.zeros(m.count.size)
    np.maximum.at(max_length, m.ids, m.col["length_mm"])
    return {"extent_mm": feret_mm + m.mean(m.col["length_mm"]), "area_mm2": area_mm2,
            "density_per_cm2": 100.0 * m.count / np.where(area_mm2 > 0, area_mm2, np.nan),
            "mean_width_mm": mean_width, "max_length_mm": max_length}


def _pleomorphism(m: _Members) -> np.ndarray:
    """``pleomorphism``: spread of member morphology per group, (k,) in [0, 1] (module docstring)."""
    return (np.minimum(m.cv(m.col["area_mm2"]), 1.0) + np.minimum(m.cv(m.col["elongation"]), 1.0)
            + np.minimum(2.0 * m.std(m.col["irregularity"]), 1.0)) / 3.0


def _distribution(m: _Members, linearity: np.ndarray, alignment: np.ndarray, apex: np.ndarray, fan: np.ndarray,
                  extent_mm: np.ndarray, breast_area_mm2: float | None, config: GroupConfig) -> np.ndarray:
    """BI-RADS distribution of each group, (k,) object array of ``DISTRIBUTIONS`` (rules in the
    module docstring)."""
    linear = linearity >= config.linear_min_linearity
    small = extent_mm <= config.max_extent_mm
    with np.errstate(invalid="ignore"):
        ductal = ((linearity >= config.segmental_min_linearity)
                  & (alignment <= config.segmental_max_alignment_deg)
                  & (apex >= config.segmental_min_apex) & (fan >= config.segmental_min_fan))
    scattered = breast_area_mm2 is not None and m.ids.size >= config.diffuse_min_calcs and (
        _hull_geometry(m.points_mm, np.zeros(m.ids.size, np.int64), 1)[0][0]
        >= config.diffuse_area_fraction * float(breast_area_mm2))
    return np.select([ductal & ~small, linear, np.full(m.count.size, scattered), small],
                     ["segmental", "linear", "diffuse", "grouped"], "regional").astype(object)


def describe_groups(calcs: dict[str, np.ndarray], group_id: np.ndarray, *,
                    nipple_rc_mm: tuple[float, float], breast_area_mm2: float | None = None,
                    config: GroupConfig | None = None) -> dict[str, np.ndarray]:
    """One row per group: size, shape, morphology spread and BI-RADS distribution.

    Parameters
    ----------
    calcs : dict of str to (n,) ndarray
        Calcification table (``features.CALC_COLUMNS``); needs ``row_px``, ``col_px``,
        ``row_mm``, ``col_mm``, ``area_mm2``, ``length_mm``, ``width_mm``, ``elongation``,
        ``irregularity`` and ``branching``.
    group_id : (n,) array_like of int
        From :func:`mammo_cv.describe.grouping.find_clusters`; ids 0..k-1, -1 = in no group.
    nipple_rc_mm : (float, float)
        Nipple (row, col) in mm, in the same frame as ``row_mm``/``col_mm``.
    breast_area_mm2 : float, optional
        Breast area; needed to call a group "diffuse".
    config : GroupConfig, optional

    Returns
    -------
    dict of str to (k,) ndarray
        ``GROUP_COLUMNS`` in order, row g = group g (definitions in the module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> rows = np.array([0.0, 1, 2, 3, 4, 5]); cols = np.zeros(6)
    >>> calcs = {"row_px": rows * 10, "col_px": cols, "row_mm": rows, "col_mm": cols,
    ...          "area_mm2": np.full(6, 0.1), "length_mm": np.full(6, 0.4),
    ...          "width_mm": np.full(6, 0.3), "elongation": np.full(6, 1.3),
    ...          "irregularity": np.full(6, 0.1), "branching": np.zeros(6, np.int32)}
    >>> table = describe_groups(calcs, np.zeros(6, np.int64), nipple_rc_mm=(50.0, 0.0))
    >>> table["distribution"].tolist(), round(float(table["nipple_alignment_deg"][0]))
    (['linear'], 0)
    """
    config = config or GroupConfig()
    m = _members(calcs, group_id)
    if m is None:
        return empty_group_table()
    axes = _principal_axes(m)
    to_row, to_col = nipple_rc_mm[0] - axes.row_mm, nipple_rc_mm[1] - axes.col_mm
    alignment = np.where(axes.linearity >= config.round_max_linearity,
                         axis_to_line_deg(np.degrees(axes.axis_rad), to_row, to_col), np.nan)
    apex, fan = _apex(m, axes, to_row, to_col)
    sizes = _size_columns(m)
    table = {
        "group_id": np.arange(m.count.size),
        "n_calcs": m.count,
        "row_px": m.mean(m.col["row_px"]),
        "col_px": m.mean(m.col["col_px"]),
        "row_mm": axes.row_mm,
        "col_mm": axes.col_mm,
        **sizes,
        "linearity": axes.linearity,
        "branching": m.mean((m.col["branching"] > 0).astype(np.float64)),
        "pleomorphism": _pleomorphism(m),
        "nipple_alignment_deg": alignment,
        "apex_toward_nipple": apex,
        "distribution": _distribution(m, axes.linearity, alignment, apex, fan, sizes["extent_mm"],
                                      breast_area_mm2, config),
    }
    return {name: np.asarray(table[name]).astype(dtype) for name, dtype in GROUP_COLUMNS.items()}
