"""The response maps of the detector: multi-scale top-hat SNR and the sharpness (-LoG) SNR.

Each white top-hat (elliptical kernel sized in mm) runs on a level of an area-downsampled
pyramid chosen so that its kernel stays about ``DetectionConfig.kernel_px_target`` px wide, and
is divided by a robust local noise sigma: the RMS over coarse cells of the breast, median
filtered over a window of cells so that a few bright objects do not raise it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np
from scipy import ndimage

from mammo_cv.core.units import odd_kernel_px

if TYPE_CHECKING:  # the config lives with the composition in detect.py, which imports this module
    from mammo_cv.detection.detect import DetectionConfig

__all__: list[str] = []


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
    float32 (area resampling). The area weights are separable, so the rows are reduced first and
    the columns then: about twice as fast as one two-dimensional pass, and equal to it up to
    float32 rounding."""
    rows, cols = max(1, values.shape[0] // cell_px), max(1, values.shape[1] // cell_px)
    tall = cv2.resize(values, (values.shape[1], rows), interpolation=cv2.INTER_AREA)
    return cv2.resize(tall, (cols, rows), interpolation=cv2.INTER_AREA)


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


def _scales_by_level(spacing_mm: float, config: DetectionConfig) -> dict[int, list[tuple[float, float]]]:
    """(diameter_mm, weight) of each top-hat scale, by the pyramid level it runs on: level
    L = ceil(log2(d / (kernel_px_target * spacing))), 0 when the kernel fits at full resolution."""
    levels: dict[int, list[tuple[float, float]]] = {}
    for diameter_mm, weight in zip(config.tophat_diameters_mm, config.scale_weights):
        ratio = diameter_mm / (config.kernel_px_target * spacing_mm)
        level = int(math.ceil(math.log2(ratio))) if ratio > 1 else 0
        levels.setdefault(level, []).append((diameter_mm, weight))
    return levels


def _snr_maps(pixels: np.ndarray, mask: np.ndarray, maskf: np.ndarray, cells0: _NoiseCells,
              spacing_mm: float, config: DetectionConfig) -> tuple[np.ndarray, np.ndarray]:
    """Max over scales of top-hat / local noise sigma, on the grid of ``pixels``.

    Each scale runs on its pyramid level L (:func:`_scales_by_level`; 2**L area-averaged
    pixels), so each kernel is at most ~``kernel_px_target`` px wide. The per-level maxima are
    merged from the coarsest level up, one upsampling per level. ``maskf`` is
    :func:`_level_mask` of ``mask`` and ``cells0`` its noise cells (level 0).

    Returns
    -------
    snr_all, snr_weighted : (M, N) ndarray of float32
        Maximum over all scales of the SNR (segmentation) and of ``scale_weights`` x SNR
        (confidence), 0 outside ``mask``.
    """
    levels = _scales_by_level(spacing_mm, config)
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


def _response_maps(pixels: np.ndarray, mask: np.ndarray, spacing_mm: float,
                   config: DetectionConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The three maps the candidates are found on, (M, N) float32 each on the grid of ``pixels``.

    Returns
    -------
    snr, weighted : (M, N) ndarray of float32
        Top-hat SNR over all scales, and its scale-weighted version (:func:`_snr_maps`).
    sharp : (M, N) ndarray of float32 or None
        Sharpness (-LoG) SNR, None when the pixels are too coarse (:func:`_sharpness_snr`).
    """
    maskf = _level_mask(mask)
    cells = _noise_cells(maskf, spacing_mm, config)
    snr, weighted = _snr_maps(pixels, mask, maskf, cells, spacing_mm, config)
    return snr, weighted, _sharpness_snr(pixels, maskf, cells, spacing_mm, config)
