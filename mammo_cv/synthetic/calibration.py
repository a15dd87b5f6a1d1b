"""Calibration of the phantom's calcium contrast against real calcifications.

The phantom draws every calcification as solid hydroxyapatite (:class:`PhantomConfig`
``mu_calc_per_mm``, the ellipsoid chord). Real calcifications are aggregates of mineral
in an organic matrix and give less contrast than a solid body of the same outline. This module
measures that contrast on real images and on phantoms with one estimator, so that the ratio is
the phantom's calcium fraction (``PhantomConfig.calc_density``):

- **What is measured**: the peak calcium attenuation ``mu t`` (nepers) of the ``top`` brightest
  local maxima of a white top-hat (disk, ``tophat_diameter_mm``) inside each calcification group.
  The brightest spots of a group stand well above the noise on both sides, so the choice of spots
  does not depend on each image's noise.
- **Real images** (scanned film, :func:`mammo_cv.synthetic.contrast.film_grey_scale`): ``mu t =
  (1 + SPR) * dgrey / G``, with ``G`` grey per neper of the film and SPR the scatter-to-primary
  ratio that divides every contrast (Boone et al. 2000).
- **Phantoms**: ``mu t = dvalue / value_gain`` (the phantom stores ``offset + gain * A``; its scatter
  is modelled as fewer quanta, not as lower contrast). The phantom is first blurred by the
  Gaussian that brings its PSF (detector blur and pixel aperture) to the real image's measured
  PSF, because blur lowers the peak of a small calcification.
- **Result**: median real / median phantom peak attenuation.

The real images are mini-MIAS (Suckling et al. 1994) films at 0.2 mm with annotated calcification
groups; the film gradient (3) is the average gradient of mammographic film (Haus & Yaffe 2000).
A calcification in the toe of the characteristic curve, where the gradient is lower, appears
fainter, so this estimate of the fraction is low rather than high.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage as ndi

from mammo_cv.core.psf import sampled_blur_sigma_mm

__all__ = ["GroupPeaks", "group_peaks", "psf_matching_sigma_px", "calcium_fraction"]


@dataclass(frozen=True)
class GroupPeaks:
    """The brightest spots of one calcification group.

    Attributes
    ----------
    source : str
        Image and group, e.g. ``"mias/mdb249#1"`` or ``"phantom/seed-3#0"``.
    part : str
        ``"dev"`` or ``"heldout"`` for real groups (the backgrounds' split), ``"phantom"`` otherwise.
    attenuation : (k,) ndarray of float
        Peak calcium attenuation ``mu t`` of each spot, nepers, brightest first.
    noise : float
        Per-pixel noise sigma in the same units, nepers.
    """

    source: str
    part: str
    attenuation: np.ndarray
    noise: float


def _disk(diameter_mm: float, spacing_mm: float) -> np.ndarray:
    size = 2 * int(round(0.5 * diameter_mm / spacing_mm)) + 1
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))


def group_peaks(pixels: np.ndarray, centre_rc: tuple[float, float], radius_px: float, *, spacing_mm: float,
                top: int = 5, tophat_diameter_mm: float = 3.0) -> np.ndarray:
    """Top-hat values (grey) of the ``top`` brightest local maxima within a circle.

    Parameters
    ----------
    pixels : (M, N) ndarray
        Larger = more attenuation.
    centre_rc : (float, float)
        Circle centre (row, col), px.
    radius_px : float
        Circle radius, px; the maxima lie within ``radius_px + 2``.
    spacing_mm : float
    top : int
    tophat_diameter_mm : float
        Disk of the white top-hat, mm: larger than any micro-calcification (BI-RADS < 0.5 mm, and
        the coarse ones of a benign group up to about 2 mm).

    Returns
    -------
    (k,) ndarray of float, k <= top
        Brightest first; a flat-topped spot counts once.
    """
    margin = int(math.ceil(radius_px)) + int(math.ceil(tophat_diameter_mm / spacing_mm))
    r0 = max(0, int(centre_rc[0]) - margin)
    c0 = max(0, int(centre_rc[1]) - margin)
    window = np.asarray(pixels[r0:int(centre_rc[0]) + margin + 1, c0:int(centre_rc[1]) + margin + 1], np.float32)
    tophat = cv2.morphologyEx(window, cv2.MORPH_TOPHAT, _disk(tophat_diameter_mm, spacing_mm))
    rows, cols = np.mgrid[r0:r0 + window.shape[0], c0:c0 + window.shape[1]]
    inside = np.hypot(rows - centre_rc[0], cols - centre_rc[1]) <= radius_px + 2.0
    maxima = (tophat == ndi.maximum_filter(tophat, 3)) & inside & (tophat > 0)
    plateaus, count = ndi.label(maxima, structure=np.ones((3, 3), bool))  # one value per flat-topped spot
    values = ndi.maximum(tophat, plateaus, index=np.arange(1, count + 1)) if count else np.empty(0)
    return np.sort(np.asarray(values, np.float64))[::-1][:top]


def psf_matching_sigma_px(target_psf_mm: float, phantom_blur_mm: float, spacing_mm: float) -> float:
    """Gaussian sigma (px) that brings a phantom's PSF to ``target_psf_mm``.

    The phantom's PSF is its detector blur and its pixel aperture
    (:func:`mammo_cv.core.psf.sampled_blur_sigma_mm`); 0 when the phantom is already blurrier.
    """
    own = sampled_blur_sigma_mm(phantom_blur_mm, spacing_mm)
    return math.sqrt(max(target_psf_mm ** 2 - own ** 2, 0.0)) / spacing_mm


def calcium_fraction(real: list[GroupPeaks], phantom: list[GroupPeaks]) -> float:
    """Median peak attenuation of the real spots over that of the phantom spots (dimensionless).

    Raises
    ------
    ValueError
        When either side holds no spot.
    """
    real_values = np.concatenate([g.attenuation for g in real]) if real else np.empty(0)
    phantom_values = np.concatenate([g.attenuation for g in phantom]) if phantom else np.empty(0)
    if real_values.size == 0 or phantom_values.size == 0:
        raise ValueError("calcium_fraction needs spots on both sides")
    return float(np.median(real_values) / np.median(phantom_values))
