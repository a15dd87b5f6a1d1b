"""Noise equalisation: make the per-pixel noise sigma the same at every grey level.

Quantum noise grows with attenuation (fewer photons reach the detector behind dense tissue) and
film grain with optical density, so one fixed SNR threshold means a different false-alarm rate
in fat and in dense tissue. :func:`noise_curve` measures the noise sigma against the local mean
grey on the image itself and :func:`equalize_noise` maps every pixel through the
variance-stabilising transform g(x) = s0 * integral dI / sigma(I) (McLoughlin et al. 2004,
IEEE TMI 23:313; Veldkamp & Karssemeijer 2000, IEEE TMI 19:731).
"""

from __future__ import annotations

import cv2
import numpy as np

from mammo_cv.core.stats import robust_sigma

__all__ = ["noise_curve", "equalize_noise"]

MIN_SAMPLES_PER_BIN = 20


def _noise_samples(pixels: np.ndarray, mask: np.ndarray, spacing_mm: float,
                   sample_mm: float) -> tuple[np.ndarray, np.ndarray]:
    """One sample per cell of ``sample_mm`` (at least 3 px) inside ``mask``: the cell's mean
    grey and its centre pixel minus the mean of its 8 neighbours. Two (k,) float64 arrays."""
    step = max(3, int(round(sample_mm / spacing_mm)))
    rows, cols = pixels.shape[0] // step, pixels.shape[1] // step
    if rows < 1 or cols < 1:
        return np.zeros(0), np.zeros(0)
    local_mean = cv2.resize(pixels[:rows * step, :cols * step], (cols, rows), interpolation=cv2.INTER_AREA)
    first = step // 2  # the sampled pixel of each cell, and its neighbours, lie inside the cell

    def shifted(dr: int, dc: int) -> np.ndarray:
        return pixels[first + dr: first + dr + rows * step: step, first + dc: first + dc + cols * step: step]

    neighbours = sum(shifted(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if dr or dc)
    residual = shifted(0, 0) - neighbours / np.float32(8)
    inside = mask[first: rows * step: step, first: cols * step: step]
    return local_mean[inside].astype(np.float64), residual[inside].astype(np.float64)


def noise_curve(pixels: np.ndarray, mask: np.ndarray, spacing_mm: float, *, sample_mm: float,
                bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel noise sigma as a function of the local mean grey, measured on the image.

    One pixel is sampled per ``sample_mm`` cell inside ``mask``: its local mean grey is the
    cell's mean, its noise sample the difference from the mean of its 8 neighbours (white
    noise passes, structures wider than a few pixels do not). The samples are split by mean
    grey into ``bins`` equal-count bins; each bin's sigma is 1.4826 x its median absolute
    deviation, so calcifications and edges among the samples do not raise it.

    Parameters
    ----------
    pixels : (M, N) ndarray of float32
        Grey values.
    mask : (M, N) ndarray of bool
        Where to measure (the breast).
    spacing_mm : float
        Pixel spacing (mm).
    sample_mm : float
        Side of the sampling cells (mm); at least 3 px are used (the detector's is
        ``DetectionConfig.noise_sample_mm``).
    bins : int
        Number of grey bins (``DetectionConfig.noise_curve_bins``).

    Returns
    -------
    grey, sigma : (k,) ndarray of float64
        Bin median grey (strictly increasing) and the noise sigma of a pixel-minus-neighbours
        difference there (grey units, > 0); empty when ``mask`` holds fewer than 20 samples
        per bin.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> level = np.repeat(np.linspace(100, 1000, 512, dtype=np.float32)[None, :], 512, axis=0)
    >>> noisy = level + rng.normal(size=level.shape).astype(np.float32) * np.sqrt(level)
    >>> grey, sigma = noise_curve(noisy, np.ones(level.shape, bool), 0.1, sample_mm=0.5, bins=16)
    >>> ratio = sigma / np.sqrt(grey * (1 + 1 / 8))  # sd of x - mean(8 neighbours)
    >>> bool(np.all(np.abs(ratio - 1) < 0.1))
    True
    """
    grey, residual = _noise_samples(pixels, mask, spacing_mm, sample_mm)
    if grey.size < MIN_SAMPLES_PER_BIN * bins:
        return np.zeros(0), np.zeros(0)
    order = np.argsort(grey)
    grey_bins = np.array_split(grey[order], bins)
    residual_bins = np.array_split(residual[order], bins)
    centre_grey = np.array([np.median(g) for g in grey_bins])
    sigma = np.array([robust_sigma(r) for r in residual_bins])
    sigma = np.maximum(sigma, 0.1 * np.median(sigma) + 1e-12)  # quantised film: a MAD of 0
    distinct = np.concatenate([[True], np.diff(centre_grey) > 0])  # equal bin medians (8-bit film)
    return centre_grey[distinct], sigma[distinct]


def equalize_noise(pixels: np.ndarray, mask: np.ndarray, spacing_mm: float, *, sample_mm: float,
                   bins: int) -> np.ndarray:
    """Variance-stabilised copy of ``pixels``: noise sigma s0 at every grey.

    g(x) = s0 * integral of dI / sigma(I), with sigma(I) from :func:`noise_curve` (linear
    between bins, constant beyond them) and s0 its median bin sigma, so grey differences keep
    their usual size. g is tabulated every sigma_min / 20 grey (rounding adds < sigma_min / 69
    rms) and applied by one table look-up per pixel.

    Parameters
    ----------
    pixels : (M, N) ndarray of float32
        Grey values.
    mask : (M, N) ndarray of bool
        Where the noise is measured (the breast).
    spacing_mm : float
        Pixel spacing (mm).
    sample_mm, bins : float, int
        As in :func:`noise_curve`.

    Returns
    -------
    (M, N) ndarray of float32
        The transformed grey values (monotone in ``pixels``); ``pixels`` itself when no curve
        can be measured (too small a mask).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> level = np.repeat(np.linspace(100, 1000, 512, dtype=np.float32)[None, :], 512, axis=0)
    >>> noisy = level + rng.normal(size=level.shape).astype(np.float32) * np.sqrt(level)
    >>> flat = equalize_noise(noisy, np.ones(level.shape, bool), 0.1, sample_mm=0.5, bins=16)
    >>> dark, bright = (float(np.std(np.diff(part, axis=0))) for part in (flat[:, :64], flat[:, -64:]))
    >>> round(bright / dark, 1)  # 2.5 before
    1.0
    """
    grey, sigma = noise_curve(pixels, mask, spacing_mm, sample_mm=sample_mm, bins=bins)
    if grey.size < 2:
        return pixels
    low, high = cv2.minMaxLoc(pixels)[:2]
    step = max(float(sigma.min()) / 20, (high - low) / (2 ** 20 - 2))
    levels = int((high - low) / step) + 2
    knots = low + step * np.arange(levels)
    inverse = 1.0 / np.interp(knots, grey, sigma)
    table = np.concatenate([[0.0], np.cumsum((inverse[1:] + inverse[:-1]) / 2 * step)])
    table = (table * float(np.median(sigma))).astype(np.float32)
    index = pixels - np.float32(low)
    index *= np.float32(1 / step)
    index += np.float32(0.5)
    return table[np.minimum(index.astype(np.int32), levels - 1)]
