"""Edge width of candidates: a solid calcification's edge is as sharp as the system renders it, a
glandular lump's spreads over half a millimetre or more.

For an edge of height C blurred by a Gaussian of sigma s, the grey gradient at its half-maximum
crossing is C / (s sqrt(2 pi)), so s = C / (sqrt(2 pi) x gradient). The candidate's boundary
pixels lie on its half-maximum contour (:mod:`.segmentation`), its height is its grey maximum
over the background of its region, and the gradient is the median over its boundary (central
differences, which alone make a perfect step read about 0.8 px).
"""

from __future__ import annotations

import math

import numpy as np

from mammo_cv.detection.reductions import _label_max, _label_min, _mask_of
from mammo_cv.detection.segmentation import _Candidates, _Regions

__all__: list[str] = []


def _boundary(flat_mask: np.ndarray, rr: np.ndarray, cc: np.ndarray) -> np.ndarray:
    """Bool (K,): does pixel (rr, cc) of ``flat_mask`` (M, N) uint8 have a 4-neighbour outside it?"""
    h, w = flat_mask.shape
    outside = np.zeros(rr.size, bool)
    for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        r, c = np.clip(rr + dr, 0, h - 1), np.clip(cc + dc, 0, w - 1)
        outside |= flat_mask[r, c] == 0
    return outside


def _edge_sigma_px(pixels: np.ndarray, regions: _Regions, candidates: _Candidates) -> np.ndarray:
    """(n,) float64 edge blur (Gaussian sigma, px) of every candidate, from the grey ``pixels``
    (the regions' grid); inf where the edge has no gradient."""
    at, lab, n = candidates.at, candidates.label, candidates.n_labels
    rr, cc = regions.rr[at], regions.cc[at]
    edge = _boundary(_mask_of(regions.flat[at], regions.shape), rr, cc)
    h, w = pixels.shape
    r, c, edge_lab = rr[edge], cc[edge], lab[edge]
    grad_r = (pixels[np.minimum(r + 1, h - 1), c] - pixels[np.maximum(r - 1, 0), c]) * 0.5
    grad_c = (pixels[r, np.minimum(c + 1, w - 1)] - pixels[r, np.maximum(c - 1, 0)]) * 0.5
    gradient = np.hypot(grad_r.astype(np.float64), grad_c.astype(np.float64))
    order = np.lexsort((gradient, edge_lab))
    gradient, edge_lab = gradient[order], edge_lab[order]
    starts = np.searchsorted(edge_lab, np.arange(1, n))
    ends = np.searchsorted(edge_lab, np.arange(1, n), side="right")
    median = np.where(ends > starts, gradient[np.minimum((starts + ends) // 2, gradient.size - 1)], 0.0)
    height = _label_max(regions.grey[at], lab, n)[1:] - _label_min(regions.background[at], lab, n)[1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = height / (math.sqrt(2.0 * math.pi) * median)
    return np.where(median > 0, sigma, np.inf)


def _edge_sigma_mm(pixels: np.ndarray, regions: _Regions, candidates: _Candidates, spacing_mm: float) -> np.ndarray:
    """(n,) float64 edge blur (Gaussian sigma, mm) of every candidate; inf where the edge has no gradient."""
    return _edge_sigma_px(pixels, regions, candidates) * spacing_mm


def _soft(area_px: np.ndarray, edge_mm: np.ndarray, score: np.ndarray, min_area_px: float,
          soft_edge_min_mm: float, spare_score: float) -> np.ndarray:
    """Bool (n,): candidates of at least ``min_area_px`` whose edge blur ``edge_mm`` exceeds
    ``soft_edge_min_mm`` and whose confidence ``score`` (sigma) is below ``spare_score``: a
    glandular lump or band, not a calcification."""
    return (area_px >= min_area_px) & (edge_mm > soft_edge_min_mm) & (score < spare_score)
