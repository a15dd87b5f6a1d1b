"""Calcification candidates: multi-scale top-hat, noise-adaptive threshold, blob labelling.

The image is cropped to the breast and variance-stabilised (its noise sigma, measured against
grey level on the image itself, becomes the same at every grey). Background is removed by white
top-hats with elliptical kernels sized in mm (small kernels at full resolution, large ones on
area-downsampled copies so that each kernel stays a few pixels wide), each top-hat response is
divided by a robust local noise sigma, and the largest signal-to-noise ratio (SNR) over the
scales is labelled with hysteresis; a large calcification's grey full width at half maximum
joins its pieces so that it comes out whole, when its bright plateau fills that width (one
object, not a cluster). Confidence is the largest scale-weighted SNR (coarse scales weigh
less), capped by a sharpness SNR (a small-scale Laplacian of Gaussian) where the pixels resolve
it; there that LoG, the matched filter for a small calcification, is also a second candidate
finder. Candidates near the skin line, on or along the pectoral muscle and outside the breast
are removed; elongated candidates are down-weighted, not removed.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import cv2
import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

from mammo_cv.core.types import Anatomy, MammoImage
from mammo_cv.core.units import area_mm2_to_px, mean_spacing_mm, odd_kernel_px
from mammo_cv.detection.noise import equalize_noise

__all__ = ["DetectionConfig", "Detections", "detect_calcifications"]


@dataclass(frozen=True)
class DetectionConfig:
    """Every threshold of the detector, in mm, mm^2 or noise-sigma units.

    How each default was chosen, on which data and with which figures, is recorded in
    ``docs/validation.md``.

    Attributes
    ----------
    noise_equalization : bool
        Variance-stabilise the pixels before any filter (:func:`mammo_cv.detection.noise.equalize_noise`).
        Quantum noise grows behind dense tissue (fewer photons; film grain likewise), so without it one
        sigma threshold lets noise peaks in dense lumps through. On: it lets ``min_confidence`` be 6.
    noise_sample_mm : float
        Cell side of the noise-versus-grey curve, mm: one sample per cell, its mean grey against the
        difference of one pixel from its 8 neighbours (white noise passes, wider structures do not).
    noise_curve_bins : int
        Equal-count grey bins of that curve; each bin's sigma is 1.4826 x MAD, robust to the
        calcifications and edges among its samples.
    tophat_diameters_mm : tuple of float
        Diameters of the elliptical white top-hat kernels, mm; a bright object narrower than a kernel
        survives it. 0.5 and 1.2 mm cover micro-calcifications (0.1-1 mm, BI-RADS 5th ed.), 3 and 10 mm
        macro-calcifications up to about 10 mm.
    kernel_px_target : int
        Kernel width in working pixels, px. A scale whose kernel would be wider at the native spacing
        runs on an area-downsampled copy where it is about this wide (speed; ~9 px still resolve the object).
    noise_cell_mm : float
        Side of the grid cells on which the RMS of each top-hat response is computed, mm.
    noise_window_mm : float
        Side of the window whose median cell RMS is the local noise sigma, mm. A cluster spans at most
        10-20 mm (BI-RADS), so it does not raise a 20-mm median, which still follows fatty versus dense tissue.
    noise_floor_fraction : float
        On the downsampled (macro) scales the sigma used for confidence is at least this fraction of its
        median over the breast: averaging removes the quantum noise there, and in the smooth fatty
        periphery glandular edges would reach SNRs in the hundreds. Segmentation keeps the local sigma.
    seed_snr : float
        Peak SNR a candidate needs in the top-hat or the -LoG finder, sigma. Equal to
        ``context_min_confidence``: a higher seed would cap the context threshold. Candidates at
        ``min_confidence`` and above do not depend on it.
    grow_snr : float
        Hysteresis low threshold: pixels with SNR at least this join a seed, sigma.
    half_max_fraction : float
        A candidate keeps the pixels at or above its region's minimum plus this fraction of its
        (maximum - minimum): the full width at half maximum, so that its area depends neither on its
        contrast nor on the scale that found it.
    min_area_mm2, max_area_mm2 : float
        Area limits, mm^2. 80 mm^2 is a 10-mm disk, the largest macro-calcification the large scales look
        for. The minimum is 0 (a candidate keeps at least its peak pixel): the half-maximum area of a faint
        0.15-0.3 mm calcification is set by the noise, often 1 px at 0.07 mm.
    whole_min_diameter_mm : float
        A large calcification comes out whole: the grey half-maximum region of a hysteresis region joins
        the pieces it touches when its area is at least that of a disk of this diameter, mm. 1.2 mm, the
        largest full-resolution top-hat, which finds narrower objects whole by itself.
    whole_core_fraction, whole_min_core_share : float
        ... and only when it is one object: at least ``whole_min_core_share`` of its pixels lie on its
        plateau, grey at least ``whole_core_fraction`` of the way from the background to its maximum. A
        solid calcification's plateau fills its half-maximum region; micro-calcifications joined through
        dense tissue leave dim gaps. 0.75 lies between the two.
    skin_margin_mm : float
        Candidates whose peak lies closer than this to the breast-mask edge are removed, mm (skin line,
        dermal folds, the mask border; skin calcifications are benign). 5 mm: no annotated cluster of the
        development set lies closer to the edge than 10 mm, and many false candidates do.
    pectoral_margin_mm : float
        Candidates on the pectoral muscle or within this distance of it are removed, mm: the muscle edge
        and its fibres are the main source of bright ridges on MLO views.
    elongation_free : float
        Elongation (major/minor axis ratio) up to which confidence is not reduced; beyond it, confidence
        falls as ``elongation_free / elongation``. 20: secretory rods and vascular fragments reach ~20:1.
    scale_weights : tuple of float
        Confidence is the largest ``weight x SNR`` over the scales, one weight per entry of
        ``tophat_diameters_mm``. Glandular texture adds outliers that grow with the scale, so coarse scales
        weigh less: 0.5 at 1.2 mm, 0.25 at 3 and 10 mm (a macro-calcification must stand out 4x as far).
    sharpness_sigma_mm : float
        Scale of the sharpness test, mm: confidence is at most the largest scale-normalised -LoG response
        (sigma^2 x -LoG) over the candidate, over its own local noise, so soft glandular lumps lose it and
        sharp-edged calcifications keep it. 0.06 mm is the matched scale (sigma = r / sqrt 2, Lindeberg
        1998) of a 0.17-mm calcification, the middle of the hardest band (0.15-0.3 mm).
    sharpness_min_sigma_px : float
        The sharpness test (and the -LoG finder) runs only when ``sharpness_sigma_mm`` is at least this many
        pixels, px: at 0.5, spacings up to 0.12 mm. Coarser pixels are wider than a calcification's edge, so
        lumps and calcifications look equally sharp; there confidence is the weighted top-hat SNR alone.
    sharpness_max_penalty : float
        The sharpness cap lowers a confidence by at most this, sigma. A LoG of about 1 px is a poor filter
        on white noise and would drop clear calcifications; the texture lumps sit at confidence 7-9, so a
        penalty of 3 removes them.
    log_weight : float
        Second candidate finder where the sharpness test runs: the -LoG at ``sharpness_sigma_mm`` is the
        matched filter for a small blurred disk in white noise, so a hysteresis region is also seeded where
        its -LoG SNR reaches ``seed_snr``, and its confidence is at least ``log_weight`` x that SNR at its
        top-hat peak. 1.0: the matched filter counts as much as the top-hat.
    min_confidence : float
        Reporting operating point, sigma: only candidates with confidence at least this are labelled.
        6 = ``ClusterConfig.min_member_confidence``, so that every candidate a cluster may use is reported;
        0 keeps every candidate above the seed (for FROC scripts).
    context_min_confidence, context_radius_mm, context_min_neighbours : float, float, int
        Context threshold (sigma, mm, count): a candidate between ``context_min_confidence`` and
        ``min_confidence`` is reported when at least ``context_min_neighbours`` candidates at
        ``min_confidence`` lie within ``context_radius_mm`` of its peak. Calcifications that matter come in
        groups (BI-RADS: 5 within 1 cm), so a faint spot is searched for only beside confident ones: 5 mm
        is half the 1-cm group, and 3 neighbours plus the faint one make 4 within it. No effect when
        ``context_min_confidence >= min_confidence``. Clusters and vascular chains use only candidates at
        ``ClusterConfig.min_member_confidence`` (:mod:`mammo_cv.pipeline.analysis`), so it adds
        calcifications beside groups, never a group or a chain.
    """

    noise_equalization: bool = True
    noise_sample_mm: float = 0.5
    noise_curve_bins: int = 16
    tophat_diameters_mm: tuple[float, ...] = (0.5, 1.2, 3.0, 10.0)
    kernel_px_target: int = 11
    noise_cell_mm: float = 4.0
    noise_window_mm: float = 20.0
    noise_floor_fraction: float = 0.5
    seed_snr: float = 4.5
    grow_snr: float = 3.0
    half_max_fraction: float = 0.5
    min_area_mm2: float = 0.0
    whole_min_diameter_mm: float = 1.2
    whole_core_fraction: float = 0.6
    whole_min_core_share: float = 0.75
    max_area_mm2: float = 80.0
    skin_margin_mm: float = 5.0
    pectoral_margin_mm: float = 2.0
    elongation_free: float = 20.0
    scale_weights: tuple[float, ...] = (1.0, 0.5, 0.25, 0.25)
    sharpness_sigma_mm: float = 0.06
    sharpness_min_sigma_px: float = 0.5
    sharpness_max_penalty: float = 3.0
    log_weight: float = 1.0
    min_confidence: float = 6.0
    context_min_confidence: float = 4.5
    context_radius_mm: float = 5.0
    context_min_neighbours: int = 3

    def __post_init__(self) -> None:
        if not self.tophat_diameters_mm or min(self.tophat_diameters_mm) <= 0:
            raise ValueError(f"tophat_diameters_mm must be positive, got {self.tophat_diameters_mm}")
        if not 0 < self.grow_snr <= self.seed_snr:
            raise ValueError(f"need 0 < grow_snr <= seed_snr, got {self.grow_snr}, {self.seed_snr}")
        if not 0 < self.half_max_fraction < 1:
            raise ValueError(f"half_max_fraction must be in (0, 1), got {self.half_max_fraction}")
        if self.whole_min_diameter_mm <= 0:
            raise ValueError(f"whole_min_diameter_mm must be positive, got {self.whole_min_diameter_mm}")
        if not self.half_max_fraction <= self.whole_core_fraction < 1 or not 0 <= self.whole_min_core_share <= 1:
            raise ValueError("need half_max_fraction <= whole_core_fraction < 1 and 0 <= whole_min_core_share <= 1, "
                             f"got {self.whole_core_fraction}, {self.whole_min_core_share}")
        if not 0 <= self.min_area_mm2 < self.max_area_mm2:
            raise ValueError("need 0 <= min_area_mm2 < max_area_mm2")
        if self.sharpness_sigma_mm <= 0 or self.sharpness_min_sigma_px <= 0:
            raise ValueError("sharpness_sigma_mm and sharpness_min_sigma_px must be positive")
        if self.log_weight < 0:
            raise ValueError(f"log_weight must be >= 0, got {self.log_weight}")
        if self.context_radius_mm < 0 or self.context_min_neighbours < 1:
            raise ValueError("need context_radius_mm >= 0 and context_min_neighbours >= 1, got "
                             f"{self.context_radius_mm}, {self.context_min_neighbours}")
        if len(self.scale_weights) != len(self.tophat_diameters_mm):
            raise ValueError(f"scale_weights needs one weight per tophat_diameters_mm, got {len(self.scale_weights)} "
                             f"for {len(self.tophat_diameters_mm)} scales")


@dataclass(frozen=True)
class Detections:
    """Calcification candidates of one image, in its stored pixel grid.

    Attributes
    ----------
    label_image : (M, N) ndarray of int32
        0 = background, k = candidate k (1-based).
    confidence : (n,) ndarray of float32
        Monotone "how sure" score of candidate k at index k-1: peak of the scale-weighted SNR
        (``config.scale_weights``), at most the peak sharpness SNR (``config.sharpness_sigma_mm``)
        but at least ``config.log_weight`` x that -LoG SNR at the peak, down-weighted for
        elongation; >= ``config.min_confidence``, or >= ``config.context_min_confidence``
        beside confident candidates (the context threshold).
    peak_snr : (n,) ndarray of float32
        Peak top-hat response over the local noise sigma, all scales (sigma units).
    area_px : (n,) ndarray of int64
        Pixel count of each candidate.
    peak_rc : (n, 2) ndarray of int64
        (row, col) of each candidate's SNR peak, in px.
    elongation : (n,) ndarray of float32
        Major/minor axis ratio from second moments (>= 1).
    config : DetectionConfig
    """

    label_image: np.ndarray
    confidence: np.ndarray
    peak_snr: np.ndarray
    area_px: np.ndarray
    peak_rc: np.ndarray
    elongation: np.ndarray
    config: DetectionConfig = field(default_factory=DetectionConfig)

    def __len__(self) -> int:
        return int(self.confidence.shape[0])


def _empty(shape: tuple[int, int], config: DetectionConfig) -> Detections:
    return Detections(
        label_image=np.zeros(shape, np.int32),
        confidence=np.zeros(0, np.float32),
        peak_snr=np.zeros(0, np.float32),
        area_px=np.zeros(0, np.int64),
        peak_rc=np.zeros((0, 2), np.int64),
        elongation=np.zeros(0, np.float32),
        config=config,
    )


def _ellipse(diameter_px: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (diameter_px, diameter_px))


def _level_mask(mask: np.ndarray) -> np.ndarray:
    """(M, N) float32 copy of the bool ``mask`` (1 inside, 0 outside): weights the squared
    responses and gives each noise cell its breast coverage; built once per pyramid level."""
    return mask.view(np.uint8).astype(np.float32)


@dataclass(frozen=True)
class _NoiseCells:
    """The noise-estimation grid of one pyramid level: square cells of ``cell_px``, their
    breast coverage, and for each cell the nearest cell that lies mostly in the breast.

    Built once per level and shared by every response measured on it."""

    cell_px: int
    window_cells: int
    cover: np.ndarray
    valid: np.ndarray
    nearest: tuple[np.ndarray, np.ndarray]


def _cell_means(values: np.ndarray, cell_px: int) -> np.ndarray:
    """Mean of ``values`` over a grid of (M // cell_px, N // cell_px) cells (at least 1 x 1)
    that tile the whole image, so each cell is ``cell_px`` or a fraction of a pixel wider,
    float32 (area resampling)."""
    size = (max(1, values.shape[1] // cell_px), max(1, values.shape[0] // cell_px))  # (width, height)
    return cv2.resize(values, size, interpolation=cv2.INTER_AREA)


def _noise_cells(maskf: np.ndarray, step_mm: float, config: DetectionConfig) -> _NoiseCells:
    """Cells of ``config.noise_cell_mm`` on a level of ``step_mm`` pixels whose breast mask is
    ``maskf`` (float32 0/1); the median window spans ``config.noise_window_mm``."""
    cell_px = max(2, int(round(config.noise_cell_mm / step_mm)))
    window_cells = int(round(config.noise_window_mm / (cell_px * step_mm))) | 1
    cover = _cell_means(maskf, cell_px)
    valid = cover > 0.5
    _, nearest = ndimage.distance_transform_edt(~valid, return_indices=True)
    return _NoiseCells(cell_px, window_cells, cover, valid, (nearest[0], nearest[1]))


def _local_sigma(response: np.ndarray, maskf: np.ndarray, cells: _NoiseCells) -> tuple[np.ndarray, float]:
    """Robust local RMS of ``response`` over the breast ``maskf`` (float32 0/1): per-cell RMS,
    median over a window of cells (so that a few bright objects do not raise it), upsampled to
    the response's grid.

    Returns
    -------
    sigma : (M, N) ndarray of float32
        Strictly positive.
    typical : float
        Median of the local RMS over the breast cells.
    """
    rows, cols = response.shape
    if not cells.valid.any():
        return np.full(response.shape, np.inf, np.float32), math.inf
    sq = np.square(response)
    sq *= maskf
    rms = np.sqrt(_cell_means(sq, cells.cell_px) / np.maximum(cells.cover, 1e-6))
    # cells mostly outside the breast take the value of the nearest valid cell
    rms = ndimage.median_filter(rms[cells.nearest], size=max(1, cells.window_cells), mode="nearest")
    typical = float(np.median(rms[cells.valid]))
    rms = np.maximum(rms, max(typical * 1e-3, float(np.finfo(np.float32).tiny))).astype(np.float32)
    return cv2.resize(rms, (cols, rows), interpolation=cv2.INTER_LINEAR), typical


def _half(pixels: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One pyramid level down: 2x2 area average of the pixels, nearest sample of the mask."""
    size = (max(1, pixels.shape[1] // 2), max(1, pixels.shape[0] // 2))
    small = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
    small_mask = cv2.resize(mask.view(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    return small, small_mask


def _snr_maps(pixels: np.ndarray, mask: np.ndarray, maskf: np.ndarray, cells0: _NoiseCells,
              spacing_mm: float, config: DetectionConfig) -> tuple[np.ndarray, np.ndarray]:
    """Max over scales of top-hat / local noise sigma, on the grid of ``pixels``.

    Scale with kernel diameter d runs on pyramid level L = ceil(log2(d / (target * spacing)))
    (2**L area-averaged pixels), so each kernel is at most ~``kernel_px_target`` px wide.
    The per-level maxima are merged from the coarsest level up, one upsampling per level.
    ``maskf`` is :func:`_level_mask` of ``mask`` and ``cells0`` its noise cells (level 0).

    Returns
    -------
    snr_all, snr_weighted : (M, N) ndarray of float32
        Maximum over all scales of the SNR (segmentation) and of ``scale_weights`` x SNR
        (confidence), 0 outside ``mask``.
    """
    levels: dict[int, list[tuple[float, float]]] = {}
    for diameter_mm, weight in zip(config.tophat_diameters_mm, config.scale_weights):
        ratio = diameter_mm / (config.kernel_px_target * spacing_mm)
        level = int(math.ceil(math.log2(ratio))) if ratio > 1 else 0
        levels.setdefault(level, []).append((diameter_mm, weight))
    pyramid = [(pixels, mask)]
    for _ in range(max(levels)):
        pyramid.append(_half(*pyramid[-1]))
    snr = np.zeros((1, 1), np.float32)
    weighted = np.zeros((1, 1), np.float32)
    for level in range(max(levels), -1, -1):
        work, work_mask = pyramid.pop()
        size = (work.shape[1], work.shape[0])
        snr = cv2.resize(snr, size, interpolation=cv2.INTER_LINEAR)
        weighted = cv2.resize(weighted, size, interpolation=cv2.INTER_LINEAR)
        if level not in levels:
            continue
        step_mm = spacing_mm * 2 ** level
        if level == 0:
            work_maskf, cells = maskf, cells0
        else:
            work_maskf = _level_mask(work_mask)
            cells = _noise_cells(work_maskf, step_mm, config)
        for diameter_mm, weight in levels[level]:
            kernel = _ellipse(odd_kernel_px(diameter_mm, (step_mm, step_mm)))
            ratio = cv2.morphologyEx(work, cv2.MORPH_TOPHAT, kernel, borderType=cv2.BORDER_REPLICATE)
            sigma, typical = _local_sigma(ratio, work_maskf, cells)
            ratio /= sigma  # the top-hat becomes its SNR in place
            np.maximum(snr, ratio, out=snr)
            if level > 0:  # confidence only: the segmentation keeps the local sigma
                ratio *= sigma / np.maximum(sigma, np.float32(config.noise_floor_fraction * typical))
            del sigma
            ratio *= np.float32(weight)
            np.maximum(weighted, ratio, out=weighted)
            del ratio
    snr *= maskf  # the upsampled coarse levels spread beyond the breast
    weighted *= maskf
    return snr, weighted


def _sharpness_snr(pixels: np.ndarray, maskf: np.ndarray, cells: _NoiseCells, spacing_mm: float,
                   config: DetectionConfig) -> np.ndarray | None:
    """Scale-normalised -LoG of ``pixels`` at ``config.sharpness_sigma_mm`` over its local noise
    sigma (sigma units) over the breast ``maskf`` (float32 0/1, noise ``cells``), (M, N)
    float32 on the grid of ``pixels``; None when that sigma is below
    ``config.sharpness_min_sigma_px`` (pixels too coarse for the test)."""
    sigma_px = config.sharpness_sigma_mm / spacing_mm
    if sigma_px < config.sharpness_min_sigma_px:
        return None
    log = cv2.Laplacian(cv2.GaussianBlur(pixels, (0, 0), sigma_px), cv2.CV_32F)
    log *= np.float32(-sigma_px * sigma_px)
    noise, _ = _local_sigma(log, maskf, cells)
    log /= noise
    return log


def _allowed_at(anatomy: Anatomy, rows: np.ndarray, cols: np.ndarray, spacing_mm: float,
                config: DetectionConfig) -> np.ndarray:
    """Bool (n,): may a candidate peak at (rows, cols) px stay? Inside the breast, at least
    ``skin_margin_mm`` from its edge, and clear of the pectoral muscle plus its margin.
    Distances are computed on a grid of about a quarter of the smaller margin (speed)."""
    margin_mm = min(config.skin_margin_mm, config.pectoral_margin_mm)
    factor = max(1, int(margin_mm / (4 * spacing_mm)))
    small = (max(1, anatomy.breast_mask.shape[1] // factor), max(1, anatomy.breast_mask.shape[0] // factor))
    step_mm = spacing_mm * anatomy.breast_mask.shape[0] / small[1]
    r = np.minimum((rows / factor).astype(np.int64), small[1] - 1)
    c = np.minimum((cols / factor).astype(np.int64), small[0] - 1)

    def shrink(mask: np.ndarray) -> np.ndarray:
        return cv2.resize(mask.view(np.uint8), small, interpolation=cv2.INTER_NEAREST)

    breast = np.pad(shrink(anatomy.breast_mask), 1)  # the image border counts as an edge
    depth_mm = cv2.distanceTransform(breast, cv2.DIST_L2, 5)[1:-1, 1:-1] * step_mm
    allowed = anatomy.breast_mask[rows, cols] & (depth_mm[r, c] >= config.skin_margin_mm)
    if anatomy.pectoral_mask.any():
        clear_mm = cv2.distanceTransform(1 - shrink(anatomy.pectoral_mask), cv2.DIST_L2, 5) * step_mm
        allowed &= clear_mm[r, c] > config.pectoral_margin_mm
    return allowed


def _mask_of(flat: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(M, N) uint8 mask, 1 at the flat indices ``flat``."""
    mask = np.zeros(shape[0] * shape[1], np.uint8)
    mask[flat] = 1
    return mask.reshape(shape)


def _moments(labels_flat: np.ndarray, rr: np.ndarray, cc: np.ndarray, n: int) -> np.ndarray:
    """Elongation (sqrt of the eigenvalue ratio of the second moments) per label 1..n. (n,)"""
    counts = np.bincount(labels_flat, minlength=n + 1)[1:].astype(np.float64)
    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(labels_flat, weights=values, minlength=n + 1)[1:]
    mr, mc = total(rr) / counts, total(cc) / counts
    # +1/12: variance of a uniform unit pixel, so a single pixel is round, not degenerate
    vrr = total(rr * rr) / counts - mr * mr + 1.0 / 12
    vcc = total(cc * cc) / counts - mc * mc + 1.0 / 12
    vrc = total(rr * cc) / counts - mr * mc
    half_trace, det_root = (vrr + vcc) / 2, np.sqrt(((vrr - vcc) / 2) ** 2 + vrc * vrc)
    major, minor = half_trace + det_root, np.maximum(half_trace - det_root, 1e-12)
    return np.sqrt(major / minor)


def _label_max(values: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    """Largest of ``values`` per label 0..n-1, (n,) of the dtype of ``values`` (-inf for a
    label without values). One unbuffered pass (``np.maximum.at``): no sort, unlike
    ``scipy.ndimage.maximum``, which costs most of the detection time on 0.5 M pixels."""
    out = np.full(n, -np.inf, values.dtype)
    np.maximum.at(out, labels, values)
    return out


def _label_min(values: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    """Smallest of ``values`` per label 0..n-1, (n,) (+inf for a label without values)."""
    out = np.full(n, np.inf, values.dtype)
    np.minimum.at(out, labels, values)
    return out


def _label_argmax(values: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    """Index into ``values`` of the largest value of each label 0..n-1 (the first such index
    on ties), (n,) int64; ``values.size`` for a label without values."""
    best = _label_max(values, labels, n)
    at_best = np.flatnonzero(values == best[labels])
    first = np.full(n, values.size, np.int64)
    np.minimum.at(first, labels[at_best], at_best)
    return first


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
        (blob_area >= area_mm2_to_px(math.pi / 4 * config.whole_min_diameter_mm ** 2, spacing_mm))
        & (blob_area <= area_mm2_to_px(config.max_area_mm2, spacing_mm))
        & (core_share >= config.whole_min_core_share)]


def _reported(valid: np.ndarray, confidence: np.ndarray, peak_mm: np.ndarray,
              config: DetectionConfig) -> np.ndarray:
    """Bool (n,): which ``valid`` candidates are reported. Those at ``config.min_confidence``
    or more, and those at ``config.context_min_confidence`` or more with at least
    ``config.context_min_neighbours`` of the former within ``config.context_radius_mm`` of
    their peak (``peak_mm``, (n, 2) row and column in mm)."""
    strong = valid & (confidence >= config.min_confidence)
    faint = np.flatnonzero(valid & ~strong & (confidence >= config.context_min_confidence))
    if faint.size == 0 or strong.sum() < config.context_min_neighbours:
        return strong
    neighbours = cKDTree(peak_mm[strong]).query_ball_point(peak_mm[faint], config.context_radius_mm,
                                                            return_length=True)
    reported = strong.copy()
    reported[faint[neighbours >= config.context_min_neighbours]] = True
    return reported


def detect_calcifications(image: MammoImage, anatomy: Anatomy, *,
                          config: DetectionConfig | None = None) -> Detections:
    """Find calcification candidates in one mammogram.

    Parameters
    ----------
    image : MammoImage
        ``pixels`` (M, N) float32, larger = more attenuation.
    anatomy : Anatomy
        Breast and pectoral masks of the same (M, N) grid.
    config : DetectionConfig, optional
        Thresholds; the defaults when None.

    Returns
    -------
    Detections
        Label image (M, N) int32 and per-candidate arrays; zero-length arrays and an all-zero
        label image when nothing is found, and also (with a ``RuntimeWarning`` naming the file
        and the problem) when the breast mask is empty or the image is too small.

    Examples
    --------
    >>> from mammo_cv.anatomy.landmarks import find_anatomy
    >>> from mammo_cv.synthetic.phantoms import phantom
    >>> image = phantom(spacing_mm=0.2, seed=1).image
    >>> dets = detect_calcifications(image, find_anatomy(image))
    >>> int(dets.label_image.max()) == len(dets) > 0
    True
    >>> keep = dets.confidence >= 8.0
    """
    config = config or DetectionConfig()
    if anatomy.breast_mask.shape != image.shape:
        raise ValueError(f"anatomy grid {anatomy.breast_mask.shape} != image grid {image.shape}")
    spacing_mm = mean_spacing_mm(image.spacing_mm)
    rows_any = np.flatnonzero(anatomy.breast_mask.any(axis=1))
    cols_any = np.flatnonzero(anatomy.breast_mask.any(axis=0))
    min_side_px = 2 * odd_kernel_px(min(config.tophat_diameters_mm), image.spacing_mm)
    if rows_any.size == 0 or min(image.shape) < min_side_px:
        problem = ("the breast mask is empty" if rows_any.size == 0 else
                   f"the image ({image.shape[0]} x {image.shape[1]} px) is smaller than {min_side_px} px")
        warnings.warn(f"{image.source_path or 'image'}: no detection, {problem}", RuntimeWarning, stacklevel=2)
        return _empty(image.shape, config)
    pad = odd_kernel_px(max(config.tophat_diameters_mm), image.spacing_mm)
    r0, r1 = max(0, rows_any[0] - pad), min(image.shape[0], rows_any[-1] + 1 + pad)
    c0, c1 = max(0, cols_any[0] - pad), min(image.shape[1], cols_any[-1] + 1 + pad)
    box = (slice(r0, r1), slice(c0, c1))
    mask = anatomy.breast_mask[box]  # row-strided views: OpenCV reads them without a copy
    pixels = image.pixels[box]
    if config.noise_equalization:
        pixels = equalize_noise(pixels, mask, spacing_mm, sample_mm=config.noise_sample_mm,
                                bins=config.noise_curve_bins)
    maskf = _level_mask(mask)
    cells = _noise_cells(maskf, spacing_mm, config)
    snr, weighted = _snr_maps(pixels, mask, maskf, cells, spacing_mm, config)
    sharp = _sharpness_snr(pixels, maskf, cells, spacing_mm, config)
    del maskf, cells
    shape = snr.shape

    # hysteresis: connected regions of SNR >= grow_snr that contain a seed
    n, labels = cv2.connectedComponents((snr >= config.grow_snr).view(np.uint8), connectivity=8,
                                        ltype=cv2.CV_32S)
    if n <= 1:
        return _empty(image.shape, config)
    flat = np.flatnonzero(labels)
    lab = labels.ravel()[flat]
    del labels
    # every candidate pixel lies in these regions: keep the maps' values there, free the maps
    val, weighted_val = snr.ravel()[flat], weighted.ravel()[flat]
    sharp_val = None if sharp is None else sharp.ravel()[flat]
    del snr, weighted, sharp
    rr, cc = np.divmod(flat, shape[1])
    grey = pixels[rr, cc]
    region_peak = _label_max(val, lab, n)[lab]
    background = _label_min(grey, lab, n)[lab]
    region_high = _label_max(grey, lab, n)[lab]
    seeded = region_peak >= config.seed_snr
    if sharp_val is not None:  # second finder: the matched filter (-LoG SNR) seeds a region too
        seeded |= _label_max(sharp_val, lab, n)[lab] >= config.seed_snr
    # pieces: half-maximum cut of the SNR per region, relabelled so that touching
    # calcifications separate, then each piece keeps only the pixels above half way from the
    # local background (grey minimum of its hysteresis region, which spreads beyond the object)
    # to its own grey maximum (full width at half maximum; the coarse scales blur the SNR map),
    # and always its SNR peak pixel
    keep_px = seeded & (val >= np.maximum(config.half_max_fraction * region_peak, config.grow_snr))
    n, pieces = cv2.connectedComponents(_mask_of(flat[keep_px], shape), connectivity=8, ltype=cv2.CV_32S)
    if n <= 1:  # no seeded region: nothing for a whole object to join either
        return _empty(image.shape, config)
    piece = pieces.ravel()[flat[keep_px]]
    del pieces
    high = _label_max(grey[keep_px], piece, n)[piece]
    trim = grey[keep_px] >= background[keep_px] + config.half_max_fraction * (high - background[keep_px])
    trim[_label_argmax(val[keep_px], piece, n)[1:]] = True
    fine = np.flatnonzero(keep_px)[trim]  # positions in ``flat``, as below
    whole = np.flatnonzero(seeded)[_whole_objects(flat[seeded], grey[seeded], background[seeded],
                                                  region_high[seeded], shape, image.spacing_mm, config)]
    chosen = np.zeros(flat.size, bool)
    chosen[fine] = True
    chosen[whole] = True
    n, labels = cv2.connectedComponents(_mask_of(flat[chosen], shape), connectivity=8, ltype=cv2.CV_32S)
    if n <= 1:
        return _empty(image.shape, config)
    lab = labels.ravel()[flat[chosen]]
    has_piece = np.bincount(labels.ravel()[flat[fine]], minlength=n) > 0
    del labels
    has_piece[0] = False
    renumber = np.cumsum(has_piece).astype(np.int32)
    at = np.flatnonzero(chosen)[has_piece[lab]]
    lab, n = renumber[lab[has_piece[lab]]], int(renumber[-1]) + 1
    peak_at = at[_label_argmax(val[at], lab, n)[1:]]
    peak = val[peak_at].astype(np.float64)
    weighted_peak = _label_max(weighted_val[at], lab, n)[1:].astype(np.float64)
    found = peak >= config.seed_snr
    if sharp_val is not None:
        # a calcification must be sharp: the peak -LoG SNR over the candidate caps the
        # confidence (by at most sharpness_max_penalty); and, matched filter for a small sharp
        # disk, its -LoG SNR at the top-hat peak x log_weight is a confidence of its own
        sharp_peak = _label_max(sharp_val[at], lab, n)[1:].astype(np.float64)
        matched = sharp_val[peak_at].astype(np.float64)
        weighted_peak = np.maximum(
            config.log_weight * matched,
            np.minimum(weighted_peak, np.maximum(sharp_peak, weighted_peak - config.sharpness_max_penalty)))
        found |= matched >= config.seed_snr
    area = np.bincount(lab, minlength=n)[1:]
    elongation = _moments(lab, rr[at].astype(np.float64), cc[at].astype(np.float64), n - 1)

    peak_r, peak_c = rr[peak_at] + r0, cc[peak_at] + c0
    peak_rc = np.stack([peak_r, peak_c], axis=1)
    keep = found & _allowed_at(anatomy, peak_r, peak_c, spacing_mm, config)
    keep &= area >= max(1.0, area_mm2_to_px(config.min_area_mm2, image.spacing_mm))
    keep &= area <= area_mm2_to_px(config.max_area_mm2, image.spacing_mm)
    confidence = weighted_peak * np.minimum(1.0, config.elongation_free / elongation)
    keep = _reported(keep, confidence, peak_rc * np.asarray(image.spacing_mm), config)

    kept = np.flatnonzero(keep)
    lut = np.zeros(n, np.int32)
    lut[kept + 1] = np.arange(1, kept.size + 1, dtype=np.int32)
    label_image = np.zeros(image.shape, np.int32)
    label_image[rr[at] + r0, cc[at] + c0] = lut[lab]
    return Detections(
        label_image=label_image,
        confidence=confidence[kept].astype(np.float32),
        peak_snr=peak[kept].astype(np.float32),
        area_px=area[kept].astype(np.int64),
        peak_rc=peak_rc[kept].astype(np.int64),
        elongation=elongation[kept].astype(np.float32),
        config=config,
    )
