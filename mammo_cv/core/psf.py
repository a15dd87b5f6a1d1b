"""The noise and the blur of a mammogram, measured on the image itself, and its system PSF.

The noise is modelled as white noise blurred by a Gaussian of ``blur_sigma_px``, measured from the
lag-1 autocorrelation of a high-pass residual (:func:`measure_noise`,
:func:`blur_sigma_from_correlation`). The system PSF follows from it and the image's kind
(:data:`IMAGE_KINDS`, :func:`image_kind`, :func:`psf_sigma_mm`):

- FFDM (``"linear"`` For Processing, ``"log"`` For Presentation): with a scintillator the quantum
  noise passes through the same light spread as the signal, so the noise blur is the presampling
  blur where it is resolved; white noise (a-Se) gives none, and the kind's default is used
  (:data:`DEFAULT_PSF_SIGMA_MM`).
- Scanned film (``"film"``): the noise is mostly film grain, which only the digitiser blurs, while
  an object in the breast is blurred by the intensifying screen too, so the PSF is the noise blur
  and :data:`FILM_SCREEN_SIGMA_MM` added in quadrature. Dust and grain on the film are therefore
  sharper than any object in the breast can be (:func:`point_source_sharpness`).

Detection (its artefact test) and the lesion-insertion harness both use this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from mammo_cv.core.stats import robust_sigma
from mammo_cv.core.types import MammoImage, PresentationIntent

__all__ = [
    "IMAGE_KINDS",
    "FFDM_PSF_SIGMA_MM",
    "DEFAULT_PSF_SIGMA_MM",
    "FILM_SCREEN_SIGMA_MM",
    "HIGHPASS_SIGMA_PX",
    "image_kind",
    "blur_sigma_from_correlation",
    "NoiseModel",
    "measure_noise",
    "psf_sigma_mm",
    "point_source_sharpness",
    "breast_noise",
    "image_psf_sigma_mm",
    "sampled_blur_sigma_mm",
    "blur_fwhm_mm",
]

#: How an exposure change shows in the stored grey: ``"linear"`` in exposure (For Processing),
#: ``"log"`` in its logarithm (For Presentation), ``"film"`` in optical density (scanned film).
IMAGE_KINDS: tuple[str, ...] = ("linear", "log", "film")

#: Presampling blur of an FFDM detector beyond its pixel aperture, as a Gaussian sigma (mm). a-Se,
#: 70 um: MTF > 0.4 at Nyquist 7.1 /mm (Hoheisel et al. 2004, IEEE NSS), about 0.02 mm; CsI, 100 um:
#: MTF 0.28 at 5 /mm (Vedantham et al. 2000, Med Phys 27:558), about 0.04 mm. 0.03 mm is within
#: 0.01 mm of both.
FFDM_PSF_SIGMA_MM = 0.03
#: Gaussian PSF sigma (mm) used when the image does not resolve its own blur. FFDM:
#: :data:`FFDM_PSF_SIGMA_MM`. Film: a
#: screen-film system's MTF falls to 0.5 at about 5 cycles/mm, i.e. a Gaussian of sigma
#: sqrt(ln 2 / 2) / (pi x 5) = 0.037 mm; with the digitiser's own spot, 0.042 mm (FWHM 0.1 mm).
DEFAULT_PSF_SIGMA_MM: dict[str, float] = {
    "linear": FFDM_PSF_SIGMA_MM,
    "log": FFDM_PSF_SIGMA_MM,
    "film": 0.1 / (2.0 * math.sqrt(2.0 * math.log(2.0))),
}
#: Blur of a mammographic intensifying screen as a Gaussian (mm): an MTF of 0.5 at about
#: 5 cycles/mm, sigma = sqrt(ln 2 / 2) / (pi x 5 /mm). An order of magnitude taken from
#: published screen-film MTFs, not a measurement of the films used here.
FILM_SCREEN_SIGMA_MM = math.sqrt(math.log(2.0) / 2.0) / (math.pi * 5.0)

#: Side of the square window about the breast centroid in which :func:`breast_noise` measures
#: the noise, px: the statistics of the noise do not need every pixel.
PSF_WINDOW_PX = 512
_INTERIOR_ERODE_PX = 9
HIGHPASS_SIGMA_PX = 2.0  # residual = grey - Gaussian(grey, 2 px): noise passes, tissue mostly not
# blurs below ~0.3 px do not change a discrete Gaussian kernel (OpenCV): the grid jumps from 0
_BLUR_GRID_PX = np.concatenate([[0.0], np.linspace(0.3, 3.0, 55)])


def _blur_kernel(blur_sigma_px: float) -> np.ndarray:
    """Discrete Gaussian blur of a unit impulse, on a grid wide enough for the residual, (k, k) float64."""
    half = int(math.ceil(4 * HIGHPASS_SIGMA_PX + 4 * blur_sigma_px)) + 2
    delta = np.zeros((2 * half + 1, 2 * half + 1))
    delta[half, half] = 1.0
    return cv2.GaussianBlur(delta, (0, 0), blur_sigma_px) if blur_sigma_px > 0 else delta


def _residual_kernel(blur_sigma_px: float) -> np.ndarray:
    """2-D kernel taking white noise to the high-pass residual of blurred noise, (k, k) float64."""
    blurred = _blur_kernel(blur_sigma_px)
    return blurred - cv2.GaussianBlur(blurred, (0, 0), HIGHPASS_SIGMA_PX)


def _lag1_correlation(kernel: np.ndarray) -> float:
    """Lag-1 (along columns) autocorrelation of white noise filtered by ``kernel``."""
    return float((kernel[:, 1:] * kernel[:, :-1]).sum() / (kernel * kernel).sum())


_RHO_GRID = np.array([_lag1_correlation(_residual_kernel(s)) for s in _BLUR_GRID_PX])


def blur_sigma_from_correlation(rho: float) -> float:
    """Gaussian blur (sigma, px) of white noise whose high-pass residual has lag-1 correlation ``rho``.

    Inverts the correlation computed for blurs of 0 and 0.3-3 px (monotone); 0 below, 3 above.

    Examples
    --------
    >>> round(blur_sigma_from_correlation(_lag1_correlation(_residual_kernel(0.8))), 2)
    0.8
    """
    return float(np.interp(rho, _RHO_GRID, _BLUR_GRID_PX))


@dataclass(frozen=True)
class NoiseModel:
    """Noise of one image: blurred white noise, and the residual that measures it.

    Attributes
    ----------
    residual : (M, N) ndarray of float32
        grey - Gaussian(grey, ``HIGHPASS_SIGMA_PX``): the noise, with little tissue.
    blur_sigma_px : float
        Gaussian blur of the noise (px), from the smaller of the row and column lag-1
        correlations (scanner lines correlate one direction only).
    pixel_per_residual : float
        Per-pixel noise sigma / residual sigma for that blur.
    """

    residual: np.ndarray
    blur_sigma_px: float
    pixel_per_residual: float

    def sigma_at(self, rows: slice, cols: slice, mask: np.ndarray) -> float:
        """Per-pixel noise sigma (grey) over ``mask`` (bool, the window's shape) of a window:
        1.4826 x the median absolute deviation of the residual, scaled to one pixel."""
        values = self.residual[rows, cols][mask]
        if values.size < 16:
            raise ValueError("noise window holds fewer than 16 breast pixels")
        return float(robust_sigma(values)) * self.pixel_per_residual


def _lag1(a: np.ndarray, b: np.ndarray, both: np.ndarray, limit: float) -> float:
    """Correlation of the pairs ``a``/``b`` where ``both`` holds and neither exceeds ``limit`` in
    magnitude (structure, not noise); 0 with 16 pairs or fewer."""
    x, y = a[both].astype(np.float64), b[both].astype(np.float64)
    noise = (np.abs(x) < limit) & (np.abs(y) < limit)
    return float(np.corrcoef(x[noise], y[noise])[0, 1]) if noise.sum() > 16 else 0.0


def measure_noise(pixels: np.ndarray, mask: np.ndarray, *, max_pairs: int = 1_000_000) -> NoiseModel:
    """Measure the noise residual and the noise blur of an image over ``mask``.

    The blur comes from the lag-1 correlation of the residual along rows and along columns, the
    smaller of the two (scanner lines correlate one way only), over pixel pairs whose residuals
    both lie within 3 robust sigma: calcifications and tissue edges are not noise.

    Parameters
    ----------
    pixels : (M, N) ndarray of float32
    mask : (M, N) ndarray of bool
        Breast interior, away from its edge.
    max_pairs : int
        About this many pixel pairs per direction are used: every k-th line of a larger image.

    Returns
    -------
    NoiseModel
    """
    pixels = np.asarray(pixels, np.float32)
    residual = pixels - cv2.GaussianBlur(pixels, (0, 0), HIGHPASS_SIGMA_PX)
    step = max(1, int(math.ceil(mask.sum() / max_pairs)))
    limit = 3.0 * float(robust_sigma(residual[::step][mask[::step]])) if mask.any() else 0.0
    rows, cols = residual[::step], residual[:, ::step]  # every k-th row for the lag along it, and column
    rhos = [_lag1(rows[:, 1:], rows[:, :-1], mask[::step, 1:] & mask[::step, :-1], limit),
            _lag1(cols[1:], cols[:-1], mask[1:, ::step] & mask[:-1, ::step], limit)]
    blur = blur_sigma_from_correlation(min(rhos))
    kernel = _residual_kernel(blur)
    blurred = _blur_kernel(blur)
    ratio = math.sqrt(float((blurred * blurred).sum()) / float((kernel * kernel).sum()))
    residual.setflags(write=False)
    return NoiseModel(residual, blur, ratio)


def psf_sigma_mm(noise_blur_px: float, kind: str, spacing_mm: float, *, min_blur_px: float = 0.3) -> tuple[float, str]:
    """System PSF (Gaussian sigma, mm) of an image from its measured noise blur (module docstring).

    Parameters
    ----------
    noise_blur_px : float
        :attr:`NoiseModel.blur_sigma_px`.
    kind : {"linear", "log", "film"}
    spacing_mm : float
    min_blur_px : float
        A noise blur below this is not resolved: the kind's default is used.

    Returns
    -------
    sigma_mm : float
    source : str
        ``"measured"``, ``"measured + screen"`` or ``"default for <kind>"``.

    Examples
    --------
    >>> psf_sigma_mm(0.0, "linear", 0.1)
    (0.03, 'default for linear')
    """
    if noise_blur_px < min_blur_px:
        return DEFAULT_PSF_SIGMA_MM[kind], f"default for {kind}"
    measured = noise_blur_px * spacing_mm
    if kind == "film":
        return math.hypot(measured, FILM_SCREEN_SIGMA_MM), "measured + screen"
    return measured, "measured"


def image_kind(image: MammoImage) -> str:
    """The kind of ``image`` (:data:`IMAGE_KINDS`): For Presentation -> ``"log"``, For Processing
    -> ``"linear"``, otherwise (scanned film, raster files) ``"film"``."""
    return {PresentationIntent.FOR_PRESENTATION: "log",
            PresentationIntent.FOR_PROCESSING: "linear"}.get(image.presentation_intent, "film")


def point_source_sharpness(psf_sigma_px: float) -> float:
    """The sharpest a real object can look: (centre - mean of its 8 neighbours) / centre for a
    point source at a pixel centre after a Gaussian PSF of ``psf_sigma_px`` (px) and the pixel
    aperture. 1 for no blur; about 0.49 at 1 px.

    Examples
    --------
    >>> round(point_source_sharpness(1.0), 3)
    0.485
    """
    if psf_sigma_px <= 0:
        return 1.0
    scale = psf_sigma_px * math.sqrt(2.0)
    weights = np.array([0.5 * (math.erf((i + 0.5) / scale) - math.erf((i - 0.5) / scale)) for i in (-1, 0, 1)])
    grid = np.outer(weights, weights)  # fraction of the point's signal in each of the 3 x 3 pixels
    return float((grid[1, 1] - (grid.sum() - grid[1, 1]) / 8.0) / grid[1, 1])


def _centroid(mask: np.ndarray) -> tuple[float, float] | None:
    """(row, col) centroid of the (M, N) bool ``mask``, px; None when it is empty. From its row
    and column counts (exact integers, as ``cv2.moments`` gives them, in a twentieth of the time)."""
    pixels = mask.view(np.uint8)
    per_row = cv2.reduce(pixels, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
    per_col = cv2.reduce(pixels, 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
    count = float(per_row.sum(dtype=np.int64))
    if count == 0:
        return None
    return (float(np.dot(np.arange(per_row.size, dtype=np.float64), per_row)) / count,
            float(np.dot(np.arange(per_col.size, dtype=np.float64), per_col)) / count)


def breast_noise(pixels: np.ndarray, breast_mask: np.ndarray) -> tuple[NoiseModel, np.ndarray] | None:
    """The noise of an image (:func:`measure_noise`) in a :data:`PSF_WINDOW_PX` window about the
    centroid of the breast, over the breast eroded by 9 px (its edge is not noise).

    Parameters
    ----------
    pixels : (M, N) ndarray of float32
    breast_mask : (M, N) ndarray of bool

    Returns
    -------
    (NoiseModel, interior) or None
        The noise of the window, and the window's interior pixels, (h, w) bool; None when the
        breast is empty or the window holds fewer than 256 interior pixels.
    """
    centroid = _centroid(breast_mask)
    if centroid is None:
        return None
    window = []
    for axis, centre in enumerate(centroid):
        size = min(PSF_WINDOW_PX, breast_mask.shape[axis])
        start = int(min(max(centre - size / 2, 0), breast_mask.shape[axis] - size))
        window.append(slice(start, start + size))
    kernel = np.ones((_INTERIOR_ERODE_PX, _INTERIOR_ERODE_PX), np.uint8)
    interior = cv2.erode(np.ascontiguousarray(breast_mask[window[0], window[1]]).view(np.uint8), kernel) > 0
    if interior.sum() < 256:
        return None
    return measure_noise(pixels[window[0], window[1]], interior), interior


def image_psf_sigma_mm(image: MammoImage, breast_mask: np.ndarray) -> float:
    """System PSF (Gaussian sigma, mm) of ``image``, from its noise blur (:func:`breast_noise`,
    :func:`psf_sigma_mm`); the kind's default when :func:`breast_noise` has too few pixels.

    Parameters
    ----------
    image : MammoImage
    breast_mask : (M, N) ndarray of bool

    Returns
    -------
    float
    """
    kind = image_kind(image)
    measured = breast_noise(image.pixels, breast_mask)
    if measured is None:
        return DEFAULT_PSF_SIGMA_MM[kind]
    spacing_mm = math.sqrt(image.spacing_mm[0] * image.spacing_mm[1])
    return psf_sigma_mm(measured[0].blur_sigma_px, kind, spacing_mm)[0]


def sampled_blur_sigma_mm(psf_sigma_mm: float, spacing_mm: float) -> float:
    """Sigma (mm) of the system blur as the image samples it: the Gaussian PSF and the pixel
    aperture (a box of ``spacing_mm``, variance spacing^2 / 12) in quadrature.

    Examples
    --------
    >>> round(sampled_blur_sigma_mm(0.03, 0.1), 4)
    0.0416
    """
    return math.sqrt(psf_sigma_mm ** 2 + spacing_mm ** 2 / 12.0)


def blur_fwhm_mm(psf_sigma_mm: float, spacing_mm: float) -> float:
    """Full width at half maximum (mm) of the sampled system blur (:func:`sampled_blur_sigma_mm`).

    Examples
    --------
    >>> round(blur_fwhm_mm(0.135, 0.2), 3)
    0.346
    """
    return 2.0 * math.sqrt(2.0 * math.log(2.0)) * sampled_blur_sigma_mm(psf_sigma_mm, spacing_mm)
