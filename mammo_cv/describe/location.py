"""Where a finding lies, as a radiologist reports it: clock face, distance from the nipple, depth.

The reference is the *nipple axis* (the posterior nipple line of BI-RADS positioning): the
perpendicular from the nipple to the chest wall. The chest wall is the pectoral line on MLO,
ML, LM and LMO views when one is found, else the breast mask's column edge on the chest-wall
side (the image edge on a CC view). For a position (row, col) in the stored grid:

- ``distance_to_nipple_mm``: straight distance to the nipple in the image plane, mm;
- ``depth``: the position's projection on the nipple axis, as a fraction of the
  nipple-to-chest-wall distance: ``anterior`` below 1/3, ``middle`` below 2/3, else
  ``posterior`` (BI-RADS depth thirds); in front of the nipple counts as anterior;
- ``clock_face``: the hour as if facing the patient (12 superior, 6 inferior; the right
  breast's lateral side at 9, the left breast's at 3). One view shows one of the two axes of
  the clock only, so the hour given is the middle of the known half: a CC view (CC, XCCL,
  XCCM) tells lateral from medial, given as 9 or 3; an MLO, ML, LM or LMO view tells upper from
  lower, given as 12 or 6. The side is that of the perpendicular offset from the nipple
  axis. It assumes the standard storage of the rows (top of the image = lateral on CC views,
  superior on the others; DICOM Patient Orientation ``..\\L``/``..\\R`` resp. ``..\\F``); the
  column direction is taken from the pixels (chest-wall side). An MLO is oblique, so "above
  the nipple axis" on it mixes upper with lateral; only a true lateral (ML, LM) separates
  them. The full hour needs both views of the breast, which one image row does not have.

Empty (NaN, ``""``) means unknown: the nipple is not a finite point or lies on the chest-wall
line (all three), the view is another (SIO, FB, SPOT, unknown), a CC view has no laterality,
or the position is on the nipple axis (``clock_face`` only).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mammo_cv.core.types import Anatomy, ChestWallSide, Laterality, MammoImage, View

__all__ = ["LOCATION_COLUMNS", "EXTENT_COLUMNS", "NippleAxis", "nipple_axis", "location_columns",
           "extent_columns"]

LOCATION_COLUMNS: dict[str, np.dtype] = {
    "clock_face": np.dtype(np.float64),
    "distance_to_nipple_mm": np.dtype(np.float64),
    "depth": np.dtype(object),
}

EXTENT_COLUMNS: dict[str, np.dtype] = {
    "bbox_row_min_px": np.dtype(np.int64),
    "bbox_col_min_px": np.dtype(np.int64),
    "bbox_row_max_px": np.dtype(np.int64),
    "bbox_col_max_px": np.dtype(np.int64),
    "area_px": np.dtype(np.int64),
}

_CC_VIEWS = (View.CC, View.XCCL, View.XCCM)
_UP_DOWN_VIEWS = (View.MLO, View.ML, View.LM, View.LMO)
_LATERAL_HOUR = {Laterality.RIGHT: 9.0, Laterality.LEFT: 3.0}
_MEDIAL_HOUR = {Laterality.RIGHT: 3.0, Laterality.LEFT: 9.0}
_DEPTHS = ("anterior", "middle", "posterior")


@dataclass(frozen=True)
class NippleAxis:
    """The nipple axis of one image, in mm of the stored grid.

    Attributes
    ----------
    nipple_mm : (2,) ndarray of float64
        Nipple (row, col), mm; NaN when unknown.
    toward_chest : (2,) ndarray of float64
        Unit (row, col) vector from the nipple toward the chest wall; NaN when unknown.
    length_mm : float
        Nipple-to-chest-wall distance along the axis, mm; NaN when unknown.
    hour_up, hour_down : float
        ``clock_face`` of a position above (toward row 0) resp. below the axis; NaN when the
        view and laterality do not tell.
    """

    nipple_mm: np.ndarray
    toward_chest: np.ndarray
    length_mm: float
    hour_up: float
    hour_down: float


def _chest_wall_line_mm(image: MammoImage, anatomy: Anatomy) -> np.ndarray:
    """(2, 2) ndarray: two (row, col) points of the chest-wall line, mm."""
    spacing = np.asarray(image.spacing_mm, dtype=np.float64)
    if image.view.is_oblique_or_lateral and anatomy.pectoral_line is not None:
        return np.asarray(anatomy.pectoral_line, dtype=np.float64) * spacing
    cols = np.flatnonzero(anatomy.breast_mask.any(axis=0))
    edge = float(cols[0] if anatomy.chest_wall_side is ChestWallSide.LEFT else cols[-1]) if cols.size else np.nan
    return np.array([[0.0, edge], [float(image.shape[0] - 1), edge]]) * spacing


def _hours(laterality: Laterality, view: View) -> tuple[float, float]:
    if view in _UP_DOWN_VIEWS:
        return 12.0, 6.0
    if view in _CC_VIEWS and laterality in _LATERAL_HOUR:
        return _LATERAL_HOUR[laterality], _MEDIAL_HOUR[laterality]
    return np.nan, np.nan


def nipple_axis(image: MammoImage, anatomy: Anatomy) -> NippleAxis:
    """The nipple axis of an analysed image: the perpendicular from the nipple to the chest wall.

    Parameters
    ----------
    image : MammoImage
        Spacing, laterality and view are read.
    anatomy : Anatomy
        Nipple, pectoral line, chest-wall side and breast mask are read.

    Returns
    -------
    NippleAxis

    Examples
    --------
    >>> import numpy as np
    >>> from mammo_cv.core.types import Anatomy, MammoImage
    >>> mask = np.zeros((100, 60), bool); mask[20:80, :40] = True
    >>> image = MammoImage(pixels=np.zeros((100, 60), np.float32), spacing_mm=(0.5, 0.5),
    ...                    spacing_source="argument", laterality="L", view="CC")
    >>> anatomy = Anatomy(breast_mask=mask, chest_wall_side="left", pectoral_mask=np.zeros_like(mask),
    ...                   pectoral_line=None, nipple_rc=(50.0, 39.0))
    >>> axis = nipple_axis(image, anatomy)
    >>> float(axis.length_mm), axis.toward_chest.tolist(), (axis.hour_up, axis.hour_down)
    (19.5, [0.0, -1.0], (3.0, 9.0))
    """
    nipple = np.asarray(anatomy.nipple_rc, dtype=np.float64) * np.asarray(image.spacing_mm, dtype=np.float64)
    a, b = _chest_wall_line_mm(image, anatomy)
    direction = (b - a) / np.linalg.norm(b - a)
    foot = a + np.dot(nipple - a, direction) * direction
    length = float(np.linalg.norm(foot - nipple))
    if not np.isfinite(length) or length == 0.0:
        return NippleAxis(nipple, np.full(2, np.nan), np.nan, np.nan, np.nan)
    hour_up, hour_down = _hours(image.laterality, image.view)
    return NippleAxis(nipple, (foot - nipple) / length, length, hour_up, hour_down)


def location_columns(row_px: np.ndarray, col_px: np.ndarray, *, spacing_mm: tuple[float, float],
                     axis: NippleAxis) -> dict[str, np.ndarray]:
    """Clock face, distance to the nipple and depth of positions in the stored grid.

    Parameters
    ----------
    row_px, col_px : (n,) ndarray of float
        Positions (row, col) in px of the stored grid.
    spacing_mm : (float, float)
        Row and column spacing, mm.
    axis : NippleAxis
        From :func:`nipple_axis` of the same image.

    Returns
    -------
    dict of str to (n,) ndarray
        ``LOCATION_COLUMNS``: ``clock_face`` (float64, 12, 3, 6 or 9, NaN unknown),
        ``distance_to_nipple_mm`` (float64, mm), ``depth`` (object, ``""`` unknown).

    Examples
    --------
    >>> import numpy as np
    >>> axis = NippleAxis(np.array([20.0, 20.0]), np.array([0.0, -1.0]), 20.0, 3.0, 9.0)
    >>> columns = location_columns(np.array([20.0, 60.0]), np.array([40.0, 20.0]), spacing_mm=(0.5, 0.5),
    ...                            axis=axis)
    >>> columns["clock_face"].tolist(), columns["distance_to_nipple_mm"].tolist(), columns["depth"].tolist()
    ([3.0, 9.0], [10.0, 14.142135623730951], ['anterior', 'middle'])
    """
    offset = (np.column_stack([row_px, col_px]).astype(np.float64) * np.asarray(spacing_mm, dtype=np.float64)
              - axis.nipple_mm)
    along = offset @ axis.toward_chest
    across_up = offset @ np.array([-axis.toward_chest[1], axis.toward_chest[0]])
    across_up = across_up * (-1.0 if axis.toward_chest[1] < 0 else 1.0)  # positive toward row 0
    clock = np.where(across_up > 0, axis.hour_up, np.where(across_up < 0, axis.hour_down, np.nan))
    third = np.floor(np.clip(along / axis.length_mm, 0.0, None) * 3.0)
    depth = np.array([*_DEPTHS, ""], dtype=object)[np.where(np.isfinite(third), np.minimum(third, 2), 3).astype(int)]
    return {"clock_face": clock.astype(np.float64), "distance_to_nipple_mm": np.hypot(offset[:, 0], offset[:, 1]),
            "depth": depth}


def extent_columns(label_image: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """Half-open bounding box and pixel count of labels 1..n, one row per label.

    Parameters
    ----------
    label_image : (M, N) ndarray of int
        0 background, k for object k (stored grid).
    n : int
        Number of objects; row k-1 is label k.

    Returns
    -------
    dict of str to (n,) ndarray of int64
        ``EXTENT_COLUMNS``: the object's pixels are rows ``bbox_row_min_px`` to
        ``bbox_row_max_px - 1`` and columns ``bbox_col_min_px`` to ``bbox_col_max_px - 1``
        (half open, as scikit-image's ``bbox``); ``area_px`` its pixel count.

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.zeros((5, 6), np.int32); labels[1:3, 2:5] = 1; labels[4, 0] = 2
    >>> {name: values.tolist() for name, values in extent_columns(labels, 2).items()}
    {'bbox_row_min_px': [1, 4], 'bbox_col_min_px': [2, 0], 'bbox_row_max_px': [3, 5], 'bbox_col_max_px': [5, 1], \
'area_px': [6, 1]}
    """
    rows, cols = np.nonzero(label_image)
    ids = label_image[rows, cols].astype(np.int64) - 1
    row_min, col_min = np.full(n, np.iinfo(np.int64).max), np.full(n, np.iinfo(np.int64).max)
    row_max, col_max = np.full(n, -1, np.int64), np.full(n, -1, np.int64)
    np.minimum.at(row_min, ids, rows)
    np.minimum.at(col_min, ids, cols)
    np.maximum.at(row_max, ids, rows)
    np.maximum.at(col_max, ids, cols)
    return {"bbox_row_min_px": row_min, "bbox_col_min_px": col_min, "bbox_row_max_px": row_max + 1,
            "bbox_col_max_px": col_max + 1, "area_px": np.bincount(ids, minlength=n)[:n].astype(np.int64)}
