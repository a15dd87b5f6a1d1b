"""The grey scale of a real mammogram, its noise and its blur: what a lesion insertion needs.

A calcification changes the exposure behind it by a transmission factor T (0 < T <= 1). How T
shows in the stored grey depends on the image's kind (:data:`GREY_KINDS`):

``"linear"``
    Grey linear in exposure E (For Processing data of most FFDM detectors). With
    ``MammoImage``'s convention (larger = more attenuation) the grey is ``z - k E``, ``z`` the
    grey at zero exposure, so the calcification gives ``z - (z - grey) T``.
``"log"``
    Grey linear in ln E (For Presentation data after the vendor's log transform):
    ``grey - G ln T``, with ``G`` grey per neper. ``G`` is measured from the image's quantum
    noise: in a log image sigma_grey = G / sqrt(q) with q the quanta per pixel, proportional to
    exp(-(grey - c) / G), so ln sigma rises with slope 1 / (2 G) against the grey
    (:func:`log_gain_from_noise`).
``"film"``
    Scanned film: the digitiser is linear in optical density D (MIAS: Suckling et al. 1994, a
    Joyce-Loebl microdensitometer linear over 0-3.2 OD) and the film's characteristic curve has
    the gradient gamma, D = gamma log10 E + const, so ``grey - k gamma log10(e) ln T`` with
    ``k`` grey per OD: the log case with ``G = k gamma log10(e)`` (:func:`film_grey_scale`).

Noise, blur and the system PSF are measured with :mod:`mammo_cv.core.psf`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from mammo_cv.core.psf import IMAGE_KINDS, image_kind
from mammo_cv.core.stats import robust_sigma
from mammo_cv.core.types import MammoImage

__all__ = [
    "GREY_KINDS",
    "GreyScale",
    "film_grey_scale",
    "linear_grey_scale",
    "log_gain_from_noise",
    "grey_scale_of",
]

GREY_KINDS: tuple[str, ...] = IMAGE_KINDS
MIN_NOISE_RISE = 1.1


@dataclass(frozen=True)
class GreyScale:
    """How an exposure change appears in one image's grey values.

    Attributes
    ----------
    kind : {"linear", "log", "film"}
    gain_per_neper : float
        ``log``/``film``: grey units per unit of ln exposure (> 0). ``linear``: unused (0).
    zero_exposure_grey : float
        ``linear``: the grey at zero exposure (``MammoImage`` grey is larger where exposure is
        lower). Unused otherwise.
    low, high : float
        Stored range the result is clipped to.
    source : str
        Where the gain came from (``"noise slope"``, ``"film: 79.7 grey/OD x gamma 3"``, ...).
    """

    kind: str
    gain_per_neper: float
    zero_exposure_grey: float
    low: float
    high: float
    source: str

    def __post_init__(self) -> None:
        if self.kind not in GREY_KINDS:
            raise ValueError(f"kind must be one of {GREY_KINDS}, got {self.kind!r}")
        if self.kind != "linear" and not self.gain_per_neper > 0:
            raise ValueError(f"gain_per_neper must be > 0 for {self.kind!r}, got {self.gain_per_neper}")
        if not self.low < self.high:
            raise ValueError(f"need low < high, got {self.low}, {self.high}")

    def apply(self, grey: np.ndarray, ln_transmission: np.ndarray) -> np.ndarray:
        """Grey after an exposure change by ``exp(ln_transmission)``, unrounded, unclipped.

        Parameters
        ----------
        grey : (M, N) ndarray of float
        ln_transmission : (M, N) ndarray of float
            ln T per pixel (<= 0 for an attenuating object).

        Returns
        -------
        (M, N) ndarray of float64
        """
        grey = np.asarray(grey, np.float64)
        if self.kind == "linear":
            return self.zero_exposure_grey - (self.zero_exposure_grey - grey) * np.exp(ln_transmission)
        return grey - self.gain_per_neper * np.asarray(ln_transmission, np.float64)

    def to_dict(self) -> dict:
        """JSON-serialisable description (for the truth record)."""
        return {"kind": self.kind, "gain_per_neper": float(self.gain_per_neper),
                "zero_exposure_grey": float(self.zero_exposure_grey), "low": float(self.low),
                "high": float(self.high), "source": self.source}


def _stored_range(image: MammoImage) -> tuple[float, float]:
    return 0.0, float(2 ** int(image.bits_stored) - 1)


def film_grey_scale(image: MammoImage, *, grey_per_od: float, gamma: float = 3.0) -> GreyScale:
    """Grey scale of a scanned film whose digitiser is linear in optical density.

    Parameters
    ----------
    image : MammoImage
    grey_per_od : float
        Grey units per unit of optical density (> 0), e.g. 255 / 3.2 for MIAS.
    gamma : float
        Film gradient dD / dlog10(E); mammographic films have average gradients of about 3
        (Haus & Yaffe 2000, Radiol Clin North Am 38:871).

    Returns
    -------
    GreyScale
        ``kind="film"``, ``gain_per_neper = grey_per_od * gamma * log10(e)``.
    """
    low, high = _stored_range(image)
    gain = float(grey_per_od) * float(gamma) * math.log10(math.e)
    return GreyScale("film", gain, 0.0, low, high, f"film: {grey_per_od:.4g} grey/OD x gamma {gamma:g}")


def linear_grey_scale(image: MammoImage) -> GreyScale:
    """Grey scale of a linear (For Processing) image: zero exposure at the top of the stored range."""
    low, high = _stored_range(image)
    return GreyScale("linear", 0.0, high, low, high, "linear: zero exposure at the stored maximum")


def _noise_by_grey(pixels: np.ndarray, mask: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """(grey, sigma) of the pixel-minus-8-neighbours difference in ``bins`` equal-count bins of the
    5 x 5 local mean over ``mask``: the narrowest high-pass, so that tissue texture, which grows
    with density, adds least to the noise."""
    ring = np.full((3, 3), 1.0 / 8.0, np.float32)
    ring[1, 1] = 0.0
    residual = (pixels - cv2.filter2D(pixels, -1, ring, borderType=cv2.BORDER_REPLICATE))[mask]
    grey = cv2.blur(pixels, (5, 5))[mask]
    order = np.argsort(grey)
    centres, sigmas = [], []
    for part in np.array_split(order, bins):
        values = residual[part]
        centres.append(float(np.median(grey[part])))
        sigmas.append(float(robust_sigma(values)))
    return np.asarray(centres), np.asarray(sigmas)


def log_gain_from_noise(pixels: np.ndarray, mask: np.ndarray, *, bins: int = 12) -> float:
    """Grey per neper of a log-domain image, from its quantum noise (see the module docstring).

    Parameters
    ----------
    pixels : (M, N) ndarray of float32
        Larger = more attenuation.
    mask : (M, N) ndarray of bool
        Where to measure (the breast, away from its edge).
    bins : int
        Equal-count grey bins of the noise curve.

    Returns
    -------
    float
        G = 1 / (2 x slope of ln sigma against grey), > 0. Texture that passes the high-pass
        raises the noise in dense tissue and so lowers G: on a phantom (G = 540) it reads 513 at
        0.1 mm and 346 at 0.2 mm, where 1-2 px fibrous strands pass.

    Raises
    ------
    ValueError
        When the fitted noise rises by less than ``MIN_NOISE_RISE`` over the grey range: G
        would exceed 5 x that range, beyond what the noise can tell.
    """
    grey, sigma = _noise_by_grey(np.asarray(pixels, np.float32), mask, bins)
    ok = sigma > 0
    if ok.sum() < 3:
        raise ValueError("too few noise samples to measure a log gain")
    slope = float(np.polyfit(grey[ok], np.log(sigma[ok]), 1)[0])
    if not slope * float(np.ptp(grey[ok])) > math.log(MIN_NOISE_RISE):
        raise ValueError(f"noise rises by less than {MIN_NOISE_RISE:g}x over the grey range (slope {slope:.3g} "
                         "per grey): not a quantum-limited log image; pass a GreyScale with a known gain")
    return 1.0 / (2.0 * slope)


def grey_scale_of(image: MammoImage, mask: np.ndarray, *, kind: str | None = None,
                  grey_per_od: float | None = None, film_gamma: float = 3.0) -> GreyScale:
    """The grey scale of ``image``.

    Parameters
    ----------
    image : MammoImage
    mask : (M, N) ndarray of bool
        Breast interior (for the ``log`` gain).
    kind : {"linear", "log", "film"} or None
        None: For Presentation -> ``log``, For Processing -> ``linear``, otherwise (scanned
        film, raster files) ``film``.
    grey_per_od : float, optional
        Required for ``film``.
    film_gamma : float

    Returns
    -------
    GreyScale
    """
    if kind is None:
        kind = image_kind(image)
    if kind == "linear":
        return linear_grey_scale(image)
    if kind == "log":
        low, high = _stored_range(image)
        return GreyScale("log", log_gain_from_noise(image.pixels, mask), 0.0, low, high, "noise slope")
    if kind == "film":
        if grey_per_od is None:
            raise ValueError("a film grey scale needs grey_per_od (the digitiser's grey per optical density)")
        return film_grey_scale(image, grey_per_od=grey_per_od, gamma=film_gamma)
    raise ValueError(f"kind must be one of {GREY_KINDS} or None, got {kind!r}")


