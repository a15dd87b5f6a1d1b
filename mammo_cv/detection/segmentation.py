"""Candidate segmentation: hysteresis regions of the SNR, their half-maximum pieces, whole objects.

Connected regions of SNR >= ``grow_snr`` that contain a seed (top-hat or -LoG SNR >=
``seed_snr``) are cut into pieces at half the SNR peak of each basin (:func:`_cut_levels`), so
that touching calcifications separate and a dim one joined through tissue to a brighter one
keeps its own piece; each piece keeps only its grey full width at half maximum (the coarse
scales blur the SNR map) and its SNR peak pixel. A large calcification, whose SNR peaks at its
edges, is taken whole instead: the grey half-maximum blob of its region, when its plateau fills
it. Every candidate contains a piece.

All arrays are kept over the pixels of the regions only (flat indices into the cropped grid),
never as full label images beyond the labelling itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from mammo_cv.core.units import area_mm2_to_px, disk_area_px
from mammo_cv.detection.reductions import _label_argmax, _label_max, _label_min, _mask_of

if TYPE_CHECKING:  # the config lives with the composition in detect.py, which imports this module
    from mammo_cv.detection.detect import DetectionConfig

__all__: list[str] = []


@dataclass(frozen=True)
class _Regions:
    """The pixels of the hysteresis regions, in one flat order (P pixels).

    ``flat`` (P,) int64 are their flat indices in the cropped grid of ``shape``, ``rr``/``cc``
    their (row, col) there. Per pixel: ``snr``, ``weighted`` and ``sharp`` (None when the
    sharpness test is off) are the response maps (float32), ``grey`` the pixel value, and
    ``peak_snr``, ``background`` and ``high`` the SNR maximum, grey minimum and grey maximum of
    its region; ``seeded`` (bool) tells whether its region holds a seed.
    """

    shape: tuple[int, int]
    flat: np.ndarray
    rr: np.ndarray
    cc: np.ndarray
    snr: np.ndarray
    weighted: np.ndarray
    sharp: np.ndarray | None
    grey: np.ndarray
    peak_snr: np.ndarray
    background: np.ndarray
    high: np.ndarray
    seeded: np.ndarray


@dataclass(frozen=True)
class _Candidates:
    """The pixels of the candidates: ``at`` (K,) int64 positions in the regions' arrays,
    ``label`` (K,) int32 candidate label 1..``n_labels``-1 (label 0 is unused), ``whole``
    (K,) bool whether the pixel came from a whole object (:func:`_whole_objects`)."""

    at: np.ndarray
    label: np.ndarray
    n_labels: int
    whole: np.ndarray


def _areas(candidates: _Candidates) -> np.ndarray:
    """(n,) int64 pixel count of every candidate."""
    return np.bincount(candidates.label, minlength=candidates.n_labels)[1:]


def _whole(candidates: _Candidates) -> np.ndarray:
    """Bool (n,): is each candidate a whole object (:func:`_whole_objects`)?"""
    return np.bincount(candidates.label, weights=candidates.whole, minlength=candidates.n_labels)[1:] > 0


def _hysteresis_regions(snr: np.ndarray, weighted: np.ndarray, sharp: np.ndarray | None, pixels: np.ndarray,
                        config: DetectionConfig) -> _Regions | None:
    """Connected regions of ``snr >= config.grow_snr`` (8-connected) and their per-pixel values;
    None when there is none. The maps and ``pixels`` are (M, N) float32 on one grid."""
    above = snr >= config.grow_snr
    n, labels = cv2.connectedComponents(above.view(np.uint8), connectivity=8, ltype=cv2.CV_32S)
    if n <= 1:
        return None
    flat = np.flatnonzero(above)  # the labelled pixels; a bool scan is about 4x faster than an int32 one
    del above
    lab = labels.ravel()[flat]
    del labels
    val, weighted_val = snr.ravel()[flat], weighted.ravel()[flat]
    sharp_val = None if sharp is None else sharp.ravel()[flat]
    rr, cc = np.divmod(flat, snr.shape[1])
    grey = pixels[rr, cc]
    region_peak = _label_max(val, lab, n)[lab]
    seeded = region_peak >= config.seed_snr
    if sharp_val is not None:  # second finder: the matched filter (-LoG SNR) seeds a region too
        seeded |= _label_max(sharp_val, lab, n)[lab] >= config.seed_snr
    return _Regions(shape=snr.shape, flat=flat, rr=rr, cc=cc, snr=val, weighted=weighted_val, sharp=sharp_val,
                    grey=grey, peak_snr=region_peak, background=_label_min(grey, lab, n)[lab],
                    high=_label_max(grey, lab, n)[lab], seeded=seeded)


def _cut_levels(regions: _Regions, config: DetectionConfig) -> np.ndarray:
    """Bool (P,): the pixels of the seeded regions that lie at or above half the SNR peak of
    their own basin.

    The SNR is thresholded at levels ``grow_snr`` x r^k, r = 1 / sqrt(``half_max_fraction``)
    (two levels per halving). A connected part at one level whose half maximum lies below the
    next level is cut there, at half its own peak; a brighter part goes on to the next level,
    where a dimmer peak that joined it only through lower tissue comes apart from it. A part that
    comes apart only above its own half maximum (by more than one level) was one object with the
    brighter one and gets no piece of its own. So each object is cut at half its own peak, as if
    it were alone, unless it is joined to a brighter one above that half maximum (touching
    calcifications, or a bump on a bright ridge of tissue). A single cut per region, at half its
    peak, dropped a calcification joined through dense tissue to a brighter response
    (``docs/real-images.md``, section 6).
    """
    step = 1.0 / math.sqrt(config.half_max_fraction)
    keep = np.zeros(regions.flat.size, bool)
    pos = np.flatnonzero(regions.seeded)
    level = config.grow_snr
    peak = regions.peak_snr[pos]  # at the first level the parts are the regions themselves
    while pos.size:
        val = regions.snr[pos]
        cut = np.maximum(config.half_max_fraction * peak, config.grow_snr)
        here = cut < level * step
        keep[pos[here & (val >= cut) & (cut * step >= level)]] = True
        level *= step
        pos = pos[~here & (val >= level)]
        peak = _part_peaks(regions, pos)
    return keep


def _part_peaks(regions: _Regions, pos: np.ndarray) -> np.ndarray:
    """(K,) float32: the SNR maximum of the 8-connected part of the pixels ``pos`` (positions in
    the regions' arrays) that holds each of them; labelled over their bounding box only."""
    if pos.size == 0:
        return np.zeros(0, np.float32)
    rr, cc = regions.rr[pos], regions.cc[pos]
    r0, c0 = int(rr.min()), int(cc.min())
    window = np.zeros((int(rr.max()) - r0 + 1, int(cc.max()) - c0 + 1), np.uint8)
    window[rr - r0, cc - c0] = 1
    n, parts = cv2.connectedComponents(window, connectivity=8, ltype=cv2.CV_32S)
    part = parts[rr - r0, cc - c0]
    return _label_max(regions.snr[pos], part, n)[part]


def _pieces(regions: _Regions, config: DetectionConfig) -> np.ndarray | None:
    """Positions (in the regions' arrays, int64) of the pixels of the pieces; None when no region
    is seeded.

    A piece is a connected part of a seeded region at SNR >= half the peak of its own basin
    (and >= ``grow_snr``, :func:`_cut_levels`), so that touching calcifications separate. It
    keeps only the pixels above half way from the local background (grey minimum of its
    hysteresis region, which spreads beyond the object) to its own grey maximum, and always its
    SNR peak pixel.
    """
    keep_px = _cut_levels(regions, config)
    n, pieces = cv2.connectedComponents(_mask_of(regions.flat[keep_px], regions.shape), connectivity=8,
                                        ltype=cv2.CV_32S)
    if n <= 1:
        return None
    piece = pieces.ravel()[regions.flat[keep_px]]
    del pieces
    grey, background = regions.grey[keep_px], regions.background[keep_px]
    high = _label_max(grey, piece, n)[piece]
    trim = grey >= background + config.half_max_fraction * (high - background)
    trim[_label_argmax(regions.snr[keep_px], piece, n)[1:]] = True
    return np.flatnonzero(keep_px)[trim]


def _whole_objects(flat: np.ndarray, grey: np.ndarray, background: np.ndarray, high: np.ndarray,
                   shape: tuple[int, int], spacing_mm: tuple[float, float],
                   config: DetectionConfig) -> np.ndarray:
    """The pixels of whole large calcifications, as positions in ``flat``.

    A large, flat-topped (saturated) calcification peaks in SNR at its edges, where the small
    scales respond, and its core (found by the coarse scales only) falls below half that peak.
    Its extent is the full width at half maximum in grey over its hysteresis region: pixels
    ``flat`` with ``grey >= background + half_max_fraction * (high - background)`` (per-pixel
    values of their region). Such a blob is kept if its area lies between a disk of
    ``whole_min_diameter_mm`` and ``max_area_mm2`` (larger: tissue, not one calcification) and
    its plateau fills it (``whole_min_core_share``): one solid object, not neighbours joined
    through dimmer tissue.

    Returns
    -------
    (k,) ndarray of int64
        Positions in ``flat`` (indices into its entries) of the whole objects' pixels.
    """
    inside = grey >= background + config.half_max_fraction * (high - background)
    whole, grey, background = flat[inside], grey[inside], background[inside]
    n, blobs = cv2.connectedComponents(_mask_of(whole, shape), connectivity=8, ltype=cv2.CV_32S)
    blob = blobs.ravel()[whole]
    del blobs
    blob_area = np.bincount(blob, minlength=n)
    # one object, not neighbours joined through tissue: its plateau (grey >= core_fraction of
    # the way from the background to the blob's own maximum) fills most of the blob
    blob_high = _label_max(grey, blob, n)[blob]
    core = grey >= background + config.whole_core_fraction * (blob_high - background)
    core_share = (np.bincount(blob, weights=core, minlength=n) / np.maximum(blob_area, 1))[blob]
    blob_area = blob_area[blob]
    return np.flatnonzero(inside)[
        (blob_area >= disk_area_px(config.whole_min_diameter_mm, spacing_mm))
        & (blob_area <= area_mm2_to_px(config.max_area_mm2, spacing_mm))
        & (core_share >= config.whole_min_core_share)]


def _candidates(regions: _Regions, spacing_mm: tuple[float, float], config: DetectionConfig) -> _Candidates | None:
    """The candidates: pieces and whole objects merged (8-connected), keeping those that hold a
    piece, labelled 1..n-1 in raster order of their first pixel; None when no region is seeded.
    ``spacing_mm`` is the (row, col) spacing of the grid."""
    fine = _pieces(regions, config)
    if fine is None:  # no seeded region: nothing for a whole object to join either
        return None
    seeded = regions.seeded
    whole = np.flatnonzero(seeded)[_whole_objects(regions.flat[seeded], regions.grey[seeded],
                                                  regions.background[seeded], regions.high[seeded],
                                                  regions.shape, spacing_mm, config)]
    from_whole = np.zeros(regions.flat.size, bool)
    from_whole[whole] = True
    chosen = from_whole.copy()
    chosen[fine] = True
    n, labels = cv2.connectedComponents(_mask_of(regions.flat[chosen], regions.shape), connectivity=8,
                                        ltype=cv2.CV_32S)
    lab = labels.ravel()[regions.flat[chosen]]
    has_piece = np.bincount(labels.ravel()[regions.flat[fine]], minlength=n) > 0
    del labels
    has_piece[0] = False
    renumber = np.cumsum(has_piece).astype(np.int32)
    at = np.flatnonzero(chosen)[has_piece[lab]]
    return _Candidates(at=at, label=renumber[lab[has_piece[lab]]], n_labels=int(renumber[-1]) + 1,
                       whole=from_whole[at])
