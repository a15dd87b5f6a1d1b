"""The mosaic: every labelled object's padded bounding box packed into one small image.

Shelf packing, fully vectorised, so that the hole filling, the distance transforms and the
skeleton of all objects run once on a few hundred thousand pixels instead of the full field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage

__all__: list[str] = []

# Zero border around each object in the mosaic: one for the 8-neighbour look-ups, one spare.
_PAD_PX = 2


@dataclass(frozen=True)
class _Objects:
    """The labelled pixels, grouped by object, and the mosaic they are packed into.

    ``flat``/``obj`` list every object pixel (flat index in the input, object index 0..n-1),
    sorted by object; ``starts`` (n,) is where each object begins. ``mosaic_flat`` is each
    pixel's flat index in the mosaic of ``mosaic_shape``; input (row, col) = mosaic (row, col)
    + ``shift_rc[obj]``.
    """

    flat: np.ndarray
    obj: np.ndarray
    starts: np.ndarray
    boxes: np.ndarray          # (n, 4) int64: row0, row1, col0, col1 (half-open)
    mosaic_flat: np.ndarray
    mosaic_shape: tuple[int, int]
    shift_rc: np.ndarray       # (n, 2) int64


def _pack(boxes: np.ndarray, pad: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Shelf-pack slots of the padded boxes. Returns (n, 2) slot origins and the canvas shape."""
    heights = boxes[:, 1] - boxes[:, 0] + 2 * pad
    widths = boxes[:, 3] - boxes[:, 2] + 2 * pad
    order = np.argsort(-heights, kind="stable")
    shelf_width = max(int(widths.max()), int(math.sqrt(float(np.sum(heights * widths)))))
    start = np.concatenate(([0], np.cumsum(widths[order])[:-1]))
    shelf = start // shelf_width
    x = start - shelf * shelf_width
    first = np.flatnonzero(np.r_[True, shelf[1:] != shelf[:-1]])
    shelf_height = heights[order][first]                  # sorted: the first is the tallest
    shelf_top = np.concatenate(([0], np.cumsum(shelf_height)[:-1]))
    origin = np.empty((boxes.shape[0], 2), np.int64)
    origin[order, 0] = shelf_top[np.searchsorted(first, np.arange(order.size), side="right") - 1]
    origin[order, 1] = x
    return origin, (int(shelf_height.sum()), int(shelf_width + widths.max()))


def _gather_objects(labels: np.ndarray, n: int) -> _Objects:
    """One scan of the label image: pixels per object, bounding boxes and their mosaic."""
    width = labels.shape[1]
    flat = np.flatnonzero(labels.ravel() != 0)
    obj = labels.ravel()[flat].astype(np.int64) - 1
    order = np.argsort(obj, kind="stable")
    flat, obj = flat[order], obj[order]
    starts = np.flatnonzero(np.r_[True, obj[1:] != obj[:-1]])
    if starts.size != n:
        present = np.zeros(n, bool)
        present[obj[starts]] = True
        missing = (np.flatnonzero(~present)[:5] + 1).tolist()
        raise ValueError(f"labels must be consecutive 1..{n}; missing e.g. {missing}")
    r, c = np.divmod(flat, width)
    boxes = np.stack([np.minimum.reduceat(r, starts), np.maximum.reduceat(r, starts) + 1,
                      np.minimum.reduceat(c, starts), np.maximum.reduceat(c, starts) + 1], axis=1)
    origin, shape = _pack(boxes, _PAD_PX)
    shift = np.stack([boxes[:, 0] - _PAD_PX - origin[:, 0], boxes[:, 2] - _PAD_PX - origin[:, 1]], axis=1)
    mosaic_flat = (r - shift[obj, 0]) * shape[1] + (c - shift[obj, 1])
    return _Objects(flat, obj, starts, boxes, mosaic_flat, shape, shift)


def _distance_mm(mask: np.ndarray, spacing_mm: tuple[float, float]) -> np.ndarray:
    """Euclidean distance (mm) from each nonzero pixel centre to the nearest zero pixel centre.

    mask : (H, W) uint8. Returns (H, W) float32. OpenCV's exact transform when the spacing is
    isotropic (50x faster), SciPy's anisotropic one otherwise.
    """
    if abs(spacing_mm[0] - spacing_mm[1]) <= 1e-6 * spacing_mm[0]:
        # OpenCV 5.0's precise transform returns sqrt(integer) with a last-bit error that depends
        # on buffer alignment (so on what ran before: batch tables differed with --workers);
        # the squared pixel distance is an exact integer, so rounding it restores determinism.
        squared_px = np.rint(np.square(cv2.distanceTransform(mask, cv2.DIST_L2, cv2.DIST_MASK_PRECISE),
                                       dtype=np.float64))
        return (np.sqrt(squared_px) * spacing_mm[0]).astype(np.float32)
    return ndimage.distance_transform_edt(mask, sampling=spacing_mm).astype(np.float32)


@dataclass(frozen=True)
class _Masks:
    """The objects in the mosaic, as flat (H * W,) arrays over its pixels.

    ``own`` (uint8) is 1 on object pixels and ``filled`` (uint8) also on their holes; ``owner``
    (int64) is the object index of those pixels, -1 elsewhere. ``hole_idx`` lists the hole
    pixels and ``has_hole`` (n,) bool tells which objects have one. ``depth`` and
    ``filled_depth`` (float32) are the distances (mm) to the background of ``own`` and
    ``filled``.
    """

    own: np.ndarray
    filled: np.ndarray
    owner: np.ndarray
    hole_idx: np.ndarray
    has_hole: np.ndarray
    depth: np.ndarray
    filled_depth: np.ndarray


def _mosaic_masks(objects: _Objects, n: int, spacing_mm: tuple[float, float]) -> _Masks:
    """Object and filled masks of the mosaic, the owner of each pixel and both depth maps."""
    h, w = objects.mosaic_shape
    own = np.zeros(h * w, np.uint8)
    own[objects.mosaic_flat] = 1
    owner = np.full(h * w, -1, np.int64)
    owner[objects.mosaic_flat] = objects.obj
    _, background = cv2.connectedComponents(1 - own.reshape(h, w), connectivity=4, ltype=cv2.CV_32S)
    hole = background.ravel() != background[0, 0]
    hole &= own == 0
    hole_idx = np.flatnonzero(hole)
    if hole_idx.size:
        # a hole belongs to the object around it: its 8-connected component in the filled mask
        _, parts = cv2.connectedComponents((own | hole).view(np.uint8).reshape(h, w),
                                           connectivity=8, ltype=cv2.CV_32S)
        part_owner = np.zeros(int(parts.max()) + 1, np.int64)
        part_owner[parts.ravel()[objects.mosaic_flat]] = objects.obj
        owner[hole_idx] = part_owner[parts.ravel()[hole_idx]]
    filled = (own | hole).view(np.uint8)
    depth = _distance_mm(own.reshape(h, w), spacing_mm).ravel()
    filled_depth = _distance_mm(filled.reshape(h, w), spacing_mm).ravel() if hole_idx.size else depth
    return _Masks(own=own, filled=filled, owner=owner, hole_idx=hole_idx,
                  has_hole=np.bincount(owner[hole_idx], minlength=n) > 0, depth=depth, filled_depth=filled_depth)
