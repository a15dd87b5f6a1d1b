"""Candidate scores and selection: the allowed zone, confidence, sharpness cap, context threshold.

Candidates may lie only in the allowed zone: inside the breast, away from the skin line and
clear of the pectoral muscle (:func:`_allowed_zone`; the detector zeroes the response maps
outside it before any region is grown). Confidence is the largest scale-weighted SNR, capped by
the sharpness (-LoG) SNR and at least ``log_weight`` x the -LoG SNR at the peak where the pixels
resolve the test, and down-weighted for elongation. Artefacts, soft-edged tissue and candidates
outside the area limits are removed; faint ones stay only beside confident ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np
from scipy.spatial import cKDTree

from mammo_cv.core.geometry import principal_moments
from mammo_cv.core.types import Anatomy
from mammo_cv.core.units import area_mm2_to_px, disk_area_px
from mammo_cv.detection.reductions import _label_argmax, _label_max
from mammo_cv.detection.segmentation import _areas, _Candidates, _Regions

if TYPE_CHECKING:  # the config lives with the composition in detect.py, which imports this module
    from mammo_cv.detection.detect import DetectionConfig

__all__: list[str] = []


@dataclass(frozen=True)
class _Scores:
    """Per candidate (n,): ``peak_at`` position of its SNR peak in the regions' arrays (int64),
    ``peak_snr`` that SNR, ``score`` its confidence before the elongation weight, ``found``
    whether it reaches the seed in the top-hat or the -LoG finder, ``area_px`` its pixel count
    (int64) and ``elongation`` its major/minor axis ratio (float64, >= 1)."""

    peak_at: np.ndarray
    peak_snr: np.ndarray
    score: np.ndarray
    found: np.ndarray
    area_px: np.ndarray
    elongation: np.ndarray


def _scores(regions: _Regions, candidates: _Candidates, solid: np.ndarray, config: DetectionConfig) -> _Scores:
    """Peak SNR, confidence score, seed test, area and elongation of every candidate; ``solid``
    (n,) bool marks the sharp-edged whole objects, whose score is at least their peak SNR."""
    at, lab, n = candidates.at, candidates.label, candidates.n_labels
    peak_at = at[_label_argmax(regions.snr[at], lab, n)[1:]]
    peak = regions.snr[peak_at].astype(np.float64)
    weighted_peak = _label_max(regions.weighted[at], lab, n)[1:].astype(np.float64)
    found = peak >= config.seed_snr
    if regions.sharp is not None:
        # a calcification must be sharp: the peak -LoG SNR over the candidate caps the
        # confidence (by at most sharpness_max_penalty); and, matched filter for a small sharp
        # disk, its -LoG SNR at the top-hat peak x log_weight is a confidence of its own
        sharp_peak = _label_max(regions.sharp[at], lab, n)[1:].astype(np.float64)
        matched = regions.sharp[peak_at].astype(np.float64)
        weighted_peak = np.maximum(
            config.log_weight * matched,
            np.minimum(weighted_peak, np.maximum(sharp_peak, weighted_peak - config.sharpness_max_penalty)))
        found |= matched >= config.seed_snr
    # a solid calcification stands out at every scale: the coarse-scale weights, there against
    # glandular texture, which a sharp edge rules out, do not apply to it
    weighted_peak = np.where(solid, np.maximum(weighted_peak, peak), weighted_peak)
    return _Scores(peak_at=peak_at, peak_snr=peak, score=weighted_peak, found=found,
                   area_px=_areas(candidates),
                   elongation=_elongation(lab, regions.rr[at].astype(np.float64), regions.cc[at].astype(np.float64),
                                       n - 1))


def _elongation(labels_flat: np.ndarray, rr: np.ndarray, cc: np.ndarray, n: int) -> np.ndarray:
    """Elongation (sqrt of the eigenvalue ratio of the second moments) per label 1..n, (n,)
    float64; ``rr``/``cc`` (P,) float64 pixel positions, ``labels_flat`` (P,) their labels."""
    counts = np.bincount(labels_flat, minlength=n + 1)[1:].astype(np.float64)
    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(labels_flat, weights=values, minlength=n + 1)[1:]
    mr, mc = total(rr) / counts, total(cc) / counts
    # +1/12: variance of a uniform unit pixel, so a single pixel is round, not degenerate
    vrr = total(rr * rr) / counts - mr * mr + 1.0 / 12
    vcc = total(cc * cc) / counts - mc * mc + 1.0 / 12
    vrc = total(rr * cc) / counts - mr * mc
    major, minor = principal_moments(vrr, vcc, vrc)
    return np.sqrt(major / np.maximum(minor, 1e-12))


def _allowed_zone(anatomy: Anatomy, box: tuple[slice, slice], spacing_mm: float,
                  config: DetectionConfig) -> np.ndarray:
    """(h, w) bool over the crop ``box`` of the image: where a candidate may lie. Inside the
    breast, at least ``skin_margin_mm`` from its edge, and clear of the pectoral muscle plus
    ``pectoral_margin_mm``. Distances are computed on a grid of about a quarter of the smaller
    margin (speed) and read back at full resolution by nearest neighbour."""
    shape = anatomy.breast_mask.shape
    margin_mm = min(config.skin_margin_mm, config.pectoral_margin_mm)
    factor = max(1, int(margin_mm / (4 * spacing_mm)))
    small = (max(1, shape[1] // factor), max(1, shape[0] // factor))
    step_mm = spacing_mm * shape[0] / small[1]

    def shrink(mask: np.ndarray) -> np.ndarray:
        return cv2.resize(mask.view(np.uint8), small, interpolation=cv2.INTER_NEAREST)

    breast = np.pad(shrink(anatomy.breast_mask), 1)  # the image border counts as an edge
    allowed = cv2.distanceTransform(breast, cv2.DIST_L2, 5)[1:-1, 1:-1] * step_mm >= config.skin_margin_mm
    if anatomy.pectoral_mask.any():
        allowed &= cv2.distanceTransform(1 - shrink(anatomy.pectoral_mask), cv2.DIST_L2, 5) * step_mm \
            > config.pectoral_margin_mm
    full = cv2.resize(allowed.view(np.uint8), (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
    return full[box].view(bool) & anatomy.breast_mask[box]


def _reported(valid: np.ndarray, confidence: np.ndarray, peak_mm: np.ndarray, small: np.ndarray,
              tiny: np.ndarray, config: DetectionConfig) -> np.ndarray:
    """Bool (n,): which ``valid`` candidates are reported.

    Those at ``config.min_confidence`` or more, except that a ``tiny`` one (below
    ``config.min_area_mm2``) needs ``config.context_min_neighbours`` of the others within
    ``config.context_radius_mm`` (a group), and a lone ``small`` one (punctate size, none of the
    others within that radius) needs ``config.isolated_min_confidence``;
    and those at ``config.context_min_confidence`` or more with at least
    ``config.context_min_neighbours`` of the former within ``config.context_radius_mm`` of their
    peak (``peak_mm``, (n, 2) row and column in mm)."""
    strong = valid & (confidence >= config.min_confidence)
    if strong.any():
        tree = cKDTree(peak_mm[strong])
        others = np.zeros(strong.size, np.int64)
        others[strong] = tree.query_ball_point(peak_mm[strong], config.context_radius_mm, return_length=True) - 1
        strong &= ~(tiny & (others < config.context_min_neighbours))
        strong &= ~(small & (others == 0) & (confidence < config.isolated_min_confidence))
    faint = np.flatnonzero(valid & ~strong & (confidence >= config.context_min_confidence))
    if faint.size == 0 or strong.sum() < config.context_min_neighbours:
        return strong
    neighbours = cKDTree(peak_mm[strong]).query_ball_point(peak_mm[faint], config.context_radius_mm,
                                                            return_length=True)
    reported = strong.copy()
    reported[faint[neighbours >= config.context_min_neighbours]] = True
    return reported


def _selected(scores: _Scores, peak_rc: np.ndarray, removed: np.ndarray, spacing_mm: tuple[float, float],
              config: DetectionConfig) -> tuple[np.ndarray, np.ndarray]:
    """Which candidates are reported, and their confidence.

    Parameters
    ----------
    scores : _Scores
    peak_rc : (n, 2) ndarray of int64
        (row, col) of each candidate's peak in the full image grid, px.
    removed : (n,) ndarray of bool
        Candidates removed as artefacts (:mod:`.artefacts`) or as tissue (``soft_edge_min_mm``).
    spacing_mm : (float, float)
        (row, col) pixel spacing.
    config : DetectionConfig

    Returns
    -------
    reported : (n,) ndarray of bool
    confidence : (n,) ndarray of float64
        Score x ``min(1, elongation_free / elongation)``.
    """
    keep = scores.found & ~removed
    keep &= scores.area_px <= area_mm2_to_px(config.max_area_mm2, spacing_mm)
    confidence = scores.score * np.minimum(1.0, config.elongation_free / scores.elongation)
    small = scores.area_px < disk_area_px(config.isolated_max_diameter_mm, spacing_mm)
    tiny = scores.area_px < area_mm2_to_px(config.min_area_mm2, spacing_mm)
    return _reported(keep, confidence, peak_rc * np.asarray(spacing_mm), small, tiny, config), confidence
