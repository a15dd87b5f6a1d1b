"""Where the overlay's text goes: boxes in display pixels, and a free place for each caption.

A box is ``(x0, y0, x1, y1)`` in display px, half-open (``x0 <= x < x1``), as OpenCV draws it.
:func:`place_box` puts a caption next to its cluster where it intersects no caption already
placed (hard) and, when it can, no cluster hull (soft); :class:`OverlayLayout` records every box
the overlay drew, so that tests and callers can check the layout from the boxes themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Box", "OverlayLayout", "intersects", "place_box"]

Box = tuple[int, int, int, int]

# Cost added to a place that covers a cluster hull: any free place off the hulls is preferred.
_HULL_PENALTY = 1e6


@dataclass(frozen=True)
class OverlayLayout:
    """The boxes one overlay drew, display px (see the module docstring).

    Attributes
    ----------
    image : Box
        The mammogram, ``(0, 0, W, H)``.
    panel : Box
        The side panel added right of the mammogram, holding the legend and the scale bar.
    legend, scale_bar : Box
        Inside ``panel``.
    captions : tuple of Box
        One per captioned cluster, inside ``image``.
    caption_cluster_ids : tuple of int
        The ``cluster_id`` of each caption; a cluster is left uncaptioned only when no free place
        exists (it is still outlined, and counted in the legend).
    """

    image: Box
    panel: Box
    legend: Box
    scale_bar: Box
    captions: tuple[Box, ...]
    caption_cluster_ids: tuple[int, ...]


def intersects(a: Box, b: Box) -> bool:
    """True when the half-open boxes ``a`` and ``b`` share a pixel."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _overlaps_any(x0: np.ndarray, y0: np.ndarray, size: tuple[int, int], boxes: list[Box]) -> np.ndarray:
    """(n,) bool: which candidate boxes at (x0, y0) of ``size`` (w, h) intersect one of ``boxes``."""
    hit = np.zeros(x0.shape, bool)
    for bx0, by0, bx1, by1 in boxes:  # a handful of captions and hulls per image
        hit |= (x0 < bx1) & (bx0 < x0 + size[0]) & (y0 < by1) & (by0 < y0 + size[1])
    return hit


def _candidates(size: tuple[int, int], target: Box, bounds: Box, gap: int) -> tuple[np.ndarray, np.ndarray]:
    """Candidate top-left corners: above, below, right and left of ``target`` first, then a grid
    over ``bounds`` at half the box height; all inside ``bounds``."""
    w, h = size
    tx0, ty0, tx1, ty1 = target
    first_x = np.array([tx0, tx0, tx1 + gap, tx0 - w - gap])
    first_y = np.array([ty0 - h - gap, ty1 + gap, ty0, ty0])
    step = max(1, h // 2)
    grid_x, grid_y = np.meshgrid(np.arange(bounds[0], bounds[2] - w + 1, step),
                                 np.arange(bounds[1], bounds[3] - h + 1, step))
    x0 = np.concatenate([np.clip(first_x, bounds[0], bounds[2] - w), grid_x.ravel()])
    y0 = np.concatenate([np.clip(first_y, bounds[1], bounds[3] - h), grid_y.ravel()])
    return x0.astype(np.int64), y0.astype(np.int64)


def place_box(size: tuple[int, int], target: Box, bounds: Box, *, taken: list[Box], avoid: list[Box],
              gap: int) -> Box | None:
    """The free place for a box of ``size`` nearest to ``target``.

    Parameters
    ----------
    size : (int, int)
        Box (width, height), display px.
    target : Box
        What the box labels (a cluster hull's bounding box).
    bounds : Box
        The box stays inside this one.
    taken : list of Box
        Boxes it must not intersect (captions already placed).
    avoid : list of Box
        Boxes it should not intersect (cluster hulls, its own included) when another place exists.
    gap : int
        Distance kept from ``target`` in the first four places (above, below, right, left), px.

    Returns
    -------
    Box or None
        None when ``size`` does not fit in ``bounds`` or every place intersects ``taken``.
    """
    w, h = size
    if w > bounds[2] - bounds[0] or h > bounds[3] - bounds[1]:
        return None
    x0, y0 = _candidates(size, target, bounds, gap)
    free = ~_overlaps_any(x0, y0, size, taken)
    if not free.any():
        return None
    dx = np.maximum(0, np.maximum(target[0] - (x0 + w), x0 - target[2]))
    dy = np.maximum(0, np.maximum(target[1] - (y0 + h), y0 - target[3]))
    # No place is nearer than the gap: among equals the preferred places, listed first, win.
    cost = np.maximum(np.hypot(dx, dy), gap) + _HULL_PENALTY * _overlaps_any(x0, y0, size, avoid)
    cost[~free] = np.inf
    best = int(np.argmin(cost))  # the first of equal costs: the preferred places come first
    return int(x0[best]), int(y0[best]), int(x0[best]) + w, int(y0[best]) + h
