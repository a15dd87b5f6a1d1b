"""Artefact test: spots sharper than the imaging system can render an object in the breast.

Anything inside the breast reaches the detector through the system's blur (the PSF: focal spot,
detector or intensifying screen, digitiser). Its sharpness, (centre - mean of its 8 neighbours)
/ (centre - local background), is therefore at most that of a point source through the PSF
(:func:`mammo_cv.core.psf.point_source_sharpness`). Dust and grain on a scanned film pass only
the digitiser's blur, and noise spikes or defective detector elements none, so they are sharper
(``docs/real-images.md``: on CBIS-DDSM films 40 of 56.5 false marks per image, at a cost of 3 of
359 found insertions). The PSF is measured on the image from the blur of its noise
(:func:`mammo_cv.core.psf.breast_noise`, :func:`mammo_cv.core.psf.psf_sigma_mm`).
"""

from __future__ import annotations

import math

import numpy as np

from mammo_cv.core.psf import breast_noise, point_source_sharpness, psf_sigma_mm
from mammo_cv.core.stats import robust_sigma

__all__ = ["brightest_near", "spot_sharpness"]

_HALF = 6  # the 13 x 13 window: 3 x 3 centre, background ring from 4 to 6 px


def _sharpness_limit(pixels: np.ndarray, mask: np.ndarray, spacing_mm: float, kind: str) -> tuple[float, float]:
    """(largest sharpness an object can have, per-pixel noise sigma in grey) of the image ``pixels``
    (M, N) float32 over ``mask`` (the breast), with ``kind`` one of :data:`mammo_cv.core.psf.IMAGE_KINDS`;
    measured in a window about the breast's centroid (:func:`mammo_cv.core.psf.breast_noise`)."""
    measured = breast_noise(pixels, mask)
    if measured is None:
        return 1.0, 0.0
    noise, interior = measured
    psf_mm, _ = psf_sigma_mm(noise.blur_sigma_px, kind, spacing_mm)
    sigma = float(robust_sigma(noise.residual[interior])) * noise.pixel_per_residual
    return point_source_sharpness(psf_mm / spacing_mm), sigma


def brightest_near(pixels: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, col) int64 of the brightest pixel in the 3 x 3 around each (rows, cols)."""
    offsets = np.array([(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1)])
    rr = np.clip(rows[:, None] + offsets[:, 0], 0, pixels.shape[0] - 1)
    cc = np.clip(cols[:, None] + offsets[:, 1], 0, pixels.shape[1] - 1)
    best = np.argmax(pixels[rr, cc], axis=1)
    pick = np.arange(rows.size)
    return rr[pick, best], cc[pick, best]


def spot_sharpness(pixels: np.ndarray, peak_rc: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Sharpness of the spots at ``peak_rc`` and its noise sigma.

    Parameters
    ----------
    pixels : (M, N) ndarray of float
        Grey, larger = more attenuation.
    peak_rc : (n, 2) ndarray of int
        (row, col) of each spot, px; the brightest pixel of the 3 x 3 around it is its centre.
    sigma : float
        Per-pixel noise sigma, grey.

    Returns
    -------
    sharpness, sharpness_sigma : (n,) ndarray of float64
        (centre - mean of its 8 neighbours) / (centre - median of the ring 4-6 px away), and its
        noise sigma; NaN within 6 px of the border or without contrast over the ring.
    """
    sharpness = np.full(peak_rc.shape[0], np.nan)
    sharpness_sigma = np.full(peak_rc.shape[0], np.nan)
    if peak_rc.shape[0] == 0:
        return sharpness, sharpness_sigma
    rows, cols = brightest_near(pixels, peak_rc[:, 0], peak_rc[:, 1])
    inside = ((rows >= _HALF) & (cols >= _HALF) & (rows < pixels.shape[0] - _HALF)
              & (cols < pixels.shape[1] - _HALF))
    rows, cols = rows[inside], cols[inside]
    d = np.arange(-_HALF, _HALF + 1)
    window = pixels[rows[:, None, None] + d[None, :, None], cols[:, None, None] + d[None, None, :]].astype(np.float64)
    ring = np.ones((2 * _HALF + 1,) * 2, bool)
    ring[_HALF - 4:_HALF + 5, _HALF - 4:_HALF + 5] = False
    centre = window[:, _HALF, _HALF]
    neighbours = (window[:, _HALF - 1:_HALF + 2, _HALF - 1:_HALF + 2].sum(axis=(1, 2)) - centre) / 8.0
    contrast = centre - np.median(window[:, ring], axis=1)
    contrast = np.where(contrast > 0, contrast, np.nan)
    sharpness[inside] = (centre - neighbours) / contrast
    sharpness_sigma[inside] = sigma * math.sqrt(1.0 + 1.0 / 8.0) / contrast
    return sharpness, sharpness_sigma


def _sharper_than_psf(pixels: np.ndarray, mask: np.ndarray, peak_rc: np.ndarray, spacing_mm: float, kind: str,
                      excess_sigma: float) -> np.ndarray:
    """Bool (n,): is the spot at each ``peak_rc`` (n, 2) px of ``pixels`` sharper than the PSF lets
    an object be, by more than ``excess_sigma`` times its sharpness's own noise sigma? Spots whose
    sharpness cannot be measured (:func:`spot_sharpness`) are never flagged."""
    if peak_rc.shape[0] == 0 or not math.isfinite(excess_sigma):
        return np.zeros(peak_rc.shape[0], bool)
    limit, sigma = _sharpness_limit(pixels, mask, spacing_mm, kind)
    sharpness, sharpness_sigma = spot_sharpness(pixels, peak_rc, sigma)
    with np.errstate(invalid="ignore"):
        return np.nan_to_num(sharpness - excess_sigma * sharpness_sigma, nan=-np.inf) > limit
