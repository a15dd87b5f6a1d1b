"""Object skeletons in the mosaic: the 8-neighbour graph, the longest path and the junctions.

The longest geodesic path of each object's skeleton gives its length along curved tracks and
the pixels whose width is measured; junctions that keep three arms after dropping spurs give
its branching.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from skimage.morphology import skeletonize

from mammo_cv.core.units import mean_spacing_mm
from mammo_cv.describe.mosaic import _Masks

if TYPE_CHECKING:  # the config lives with the features in calcifications.py, which imports this module
    from mammo_cv.describe.calcifications import FeatureConfig

__all__: list[str] = []

# 8-neighbourhood in cyclic order (N, NE, E, SE, S, SW, W, NW) as (d_row, d_col).
_RING8 = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))


def _skeleton_graph(skeleton_idx: np.ndarray, flat_skeleton: np.ndarray, width: int,
                    spacing_mm: tuple[float, float]) -> csr_matrix:
    """Undirected 8-neighbour graph of skeleton pixels, edge weights in mm."""
    rows, cols, weights = [], [], []
    for dr, dc in ((0, 1), (1, -1), (1, 0), (1, 1)):
        nb = skeleton_idx + dr * width + dc
        hit = flat_skeleton[nb].astype(bool)
        rows.append(np.flatnonzero(hit))
        cols.append(np.searchsorted(skeleton_idx, nb[hit]))
        weights.append(np.full(int(hit.sum()), math.hypot(dr * spacing_mm[0], dc * spacing_mm[1])))
    s = skeleton_idx.size
    return csr_matrix((np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(s, s))


def _farthest(dist: np.ndarray, obj: np.ndarray, n: int) -> np.ndarray:
    """Node index of the largest finite ``dist`` per object (-1 for objects without nodes)."""
    finite = np.isfinite(dist)
    nodes = np.flatnonzero(finite)
    order = nodes[np.lexsort((dist[nodes], obj[nodes]))]
    out = np.full(n, -1, np.int64)
    out[obj[order]] = order                              # the last write per object wins
    return out


def _longest_paths(graph: csr_matrix, obj: np.ndarray, n: int):
    """Longest geodesic path of every object's skeleton (double sweep; exact on trees).

    Returns ends (n, 2) node indices (-1 when an object has no skeleton), position (S,) mm of
    each node along the path from the first end (chain-code metric) and on_path (S,) bool.
    """
    _, first = np.unique(obj, return_index=True)
    d0 = dijkstra(graph, directed=False, indices=first, min_only=True)
    a = _farthest(d0, obj, n)
    da = dijkstra(graph, directed=False, indices=a[a >= 0], min_only=True)
    b = _farthest(da, obj, n)
    db = dijkstra(graph, directed=False, indices=b[b >= 0], min_only=True)
    total = np.zeros(n)
    has = b >= 0
    total[has] = da[b[has]]
    total = total[obj]
    on_path = np.isfinite(da) & np.isfinite(db) & (np.abs(da + db - total) <= 1e-6 * (1.0 + total))
    return np.stack([a, b], axis=1), np.where(np.isfinite(da), da, 0.0), on_path


def _chord_length(node_rc_mm: np.ndarray, obj: np.ndarray, position: np.ndarray, n: int,
                  step: int) -> np.ndarray:
    """Length (mm) of each object's path as the sum of chords between every ``step``-th node.

    The chain-code length of an 8-connected digital line over-estimates a straight line by up
    to 8 % (at 22.5 deg); chords over ``step`` nodes remove that bias. node_rc_mm : (P, 2)
    positions of the path nodes, obj/position : (P,) their object and order along the path.
    """
    if obj.size == 0:
        return np.zeros(n)
    order = np.lexsort((position, obj))
    o = obj[order]
    first = np.r_[True, o[1:] != o[:-1]]
    rank = np.arange(o.size) - np.flatnonzero(first)[np.cumsum(first) - 1]
    last = np.r_[o[1:] != o[:-1], True]
    keep = order[(rank % step == 0) | last]
    pts, ko = node_rc_mm[keep], obj[keep]
    same = ko[1:] == ko[:-1]
    chord = np.hypot(*(pts[1:] - pts[:-1]).T)
    return np.bincount(ko[1:][same], chord[same], n)


def _junctions(skeleton_idx, flat_skeleton, graph, obj, depth_mm, width, n, spur_mm):
    """Number of junctions per object that keep >= 3 non-spur arms. (n,) int32."""
    ring = np.stack([flat_skeleton[skeleton_idx + dr * width + dc] for dr, dc in _RING8], axis=1)
    crossings = np.sum((ring == 0) & (np.roll(ring, -1, axis=1) == 1), axis=1)
    junction = crossings >= 3
    if not junction.any():
        return np.zeros(n, np.int32)
    coo = graph.tocoo()
    i, j = coo.row, coo.col
    s = skeleton_idx.size

    def components(keep_edge: np.ndarray) -> np.ndarray:
        sub = csr_matrix((np.ones(int(keep_edge.sum())), (i[keep_edge], j[keep_edge])), shape=(s, s))
        return connected_components(sub, directed=False)[1]

    # The junction zone is the junction pixels and their neighbours: arms of an 8-connected
    # skeleton touch each other diagonally next to a junction, so they only separate there.
    jj = np.concatenate([i, j])
    kk = np.concatenate([j, i])
    zone = junction.copy()
    zone[kk[junction[jj]]] = True
    cluster = components(zone[i] & zone[j])
    segment = components(~zone[i] & ~zone[j])
    seg_size = np.bincount(segment[~zone], minlength=s)
    terminal = np.zeros(s, bool)
    terminal[segment[~zone & (crossings <= 1)]] = True
    cluster_depth = np.zeros(s)
    np.maximum.at(cluster_depth, cluster[junction], depth_mm[junction])
    touch = zone[jj] & ~zone[kk]
    pairs = np.unique(np.stack([cluster[jj[touch]], segment[kk[touch]]], axis=1), axis=0)
    seg_len_mm = seg_size[pairs[:, 1]] * spur_mm[1]
    spur = terminal[pairs[:, 1]] & (seg_len_mm < spur_mm[0] * cluster_depth[pairs[:, 0]] + spur_mm[1])
    arms = np.bincount(pairs[~spur, 0], minlength=s)
    real = np.flatnonzero(arms >= 3)
    owner_of_cluster = np.zeros(s, np.int64)
    owner_of_cluster[cluster[zone]] = obj[zone]
    return np.bincount(owner_of_cluster[real], minlength=n).astype(np.int32)


@dataclass(frozen=True)
class _Skeleton:
    """The skeleton of every object and its longest path.

    ``flat`` (H * W,) uint8 is the skeleton image of the mosaic, ``idx`` (S,) its pixels (flat
    mosaic indices), ``obj`` (S,) their object and ``graph`` their 8-neighbour graph (edges in
    mm). Per skeleton pixel: ``on_path`` (bool) whether it lies on its object's longest path,
    ``position`` (mm) its distance along that path from the first end, ``local_width`` (mm)
    twice its depth less the width correction. Per object (n,): ``path_mm`` the chord-smoothed
    path length, ``path_count`` its number of pixels, ``width_mm`` the mean local width along
    it, ``end_ext`` (n, 2) the extension (mm) from each end pixel to the tip, and ``geodesic``
    the path length plus both extensions.
    """

    flat: np.ndarray
    idx: np.ndarray
    obj: np.ndarray
    graph: csr_matrix
    on_path: np.ndarray
    position: np.ndarray
    local_width: np.ndarray
    path_mm: np.ndarray
    path_count: np.ndarray
    width_mm: np.ndarray
    end_ext: np.ndarray
    geodesic: np.ndarray


def _skeleton(masks: _Masks, mosaic_shape: tuple[int, int], n: int, spacing_mm: tuple[float, float],
              config: FeatureConfig) -> _Skeleton:
    """Skeletonise the objects of the mosaic and measure their longest paths."""
    h, w = mosaic_shape
    s_mean = mean_spacing_mm(spacing_mm)
    flat_skeleton = skeletonize(masks.own.reshape(h, w).astype(bool)).ravel().view(np.uint8)
    sk_idx = np.flatnonzero(flat_skeleton)
    sk_obj = masks.owner[sk_idx]
    graph = _skeleton_graph(sk_idx, flat_skeleton, w, spacing_mm)
    ends, position, on_path = _longest_paths(graph, sk_obj, n)
    sk_r, sk_c = np.divmod(sk_idx, w)
    node_mm = np.stack([sk_r * spacing_mm[0], sk_c * spacing_mm[1]], axis=1)
    step = max(3, int(round(config.path_step_mm / s_mean)))
    path_mm = _chord_length(node_mm[on_path], sk_obj[on_path], position[on_path], n, step)
    correction_mm = config.width_correction_px * s_mean
    local_width = np.maximum(2.0 * masks.depth[sk_idx] - correction_mm, 0.0)
    path_count = np.bincount(sk_obj[on_path], minlength=n)
    skeleton_width = np.bincount(sk_obj[on_path], local_width[on_path], n) / np.maximum(path_count, 1)
    end_ext = np.where(ends >= 0, masks.depth[sk_idx[np.maximum(ends, 0)]]
                       - 0.5 * correction_mm - config.end_correction_px * s_mean, 0.0)
    return _Skeleton(flat=flat_skeleton, idx=sk_idx, obj=sk_obj, graph=graph, on_path=on_path, position=position,
                     local_width=local_width, path_mm=path_mm, path_count=path_count, width_mm=skeleton_width,
                     end_ext=end_ext, geodesic=path_mm + end_ext.sum(axis=1))
