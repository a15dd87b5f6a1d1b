"""Pixel privacy of the review images: when to blank everything outside the breast.

DICOM PS3.15 Annex E ("Clean Pixel Data") asks that identifying text burned into the pixels be
removed before images are shared. The review images (overlay PNGs, gallery, notebook thumbnail)
are the only outputs that carry pixels, so they blank every pixel outside the breast mask when

- the file says ``BurnedInAnnotation`` YES (``MammoImage.burned_in_annotation``), or
- text-like content is found outside the breast: :func:`text_outside_breast`.

Blanking applies on either reason, and only then. The burned-in laterality/view markers of most
mammograms ("L CC") are text-like too, so they are blanked with the rest: the overlay legend
states laterality and view, so nothing the reader needs is lost, and a name burned in beside a
marker cannot survive because the marker was judged harmless. The tables never carry pixels and
are not affected. The reason is recorded in ``images.csv`` (``review_blanking``).
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["BLANKING_REASONS", "TEXT_SEARCH_SIDE_PX", "blanking_reason", "text_outside_breast"]

#: Values of ``images.csv`` ``review_blanking``: no blanking, the DICOM flag, detected text.
BLANKING_REASONS: tuple[str, ...] = ("none", "burned_in_annotation", "text_outside_breast")

#: The search runs on a copy reduced (area mean) to this long side, px: characters of 2 mm and
#: more stay several pixels tall on a 24 x 30 cm field, and the search stays a few ms.
TEXT_SEARCH_SIDE_PX = 1024

# Margin kept around the breast mask, mm: the skin line's gradual fall-off is not text.
_BREAST_MARGIN_MM = 3.0
# A text-like component differs from the background median by at least this many robust
# sigmas of the background and this fraction of the breast's range (a label, not film noise).
_MIN_CONTRAST_SIGMA = 8.0
_MIN_CONTRAST_FRACTION = 0.15
# Size of a character or a line of text, mm: smaller is noise, larger is a film border.
_MIN_HEIGHT_MM, _MAX_SIDE_MM = 1.5, 80.0
_MIN_AREA_MM2 = 0.5
# Sharp edges: the steepest step at the component's border, as a fraction of its contrast.
_MIN_EDGE_FRACTION = 0.3


def _reduced(pixels: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(pixels, mask) reduced so the long side is at most TEXT_SEARCH_SIDE_PX, and the factor."""
    rows, cols = pixels.shape
    scale = min(1.0, TEXT_SEARCH_SIDE_PX / max(rows, cols))
    if scale == 1.0:
        return np.asarray(pixels, np.float32), np.asarray(mask, bool), 1.0
    size = (max(1, round(cols * scale)), max(1, round(rows * scale)))
    small = cv2.resize(np.asarray(pixels, np.float32), size, interpolation=cv2.INTER_AREA)
    small_mask = cv2.resize(np.asarray(mask, np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    return small, small_mask, scale


def _sample(values: np.ndarray) -> np.ndarray:
    """A deterministic stride of at most ~100 000 values: robust statistics stay cheap."""
    return values[:: max(1, values.size // 100_000)]


def _candidates(small: np.ndarray, breast: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Background pixels far from the background level: (m, n) uint8, 1 = candidate."""
    values = _sample(small[background])
    median = float(np.median(values))
    sigma = 1.4826 * float(np.median(np.abs(values - median)))
    reference = _sample(small[breast] if breast.any() else small.ravel())
    span = float(np.percentile(reference, 99.0)) - float(np.percentile(reference, 1.0))
    threshold = max(_MIN_CONTRAST_SIGMA * sigma, _MIN_CONTRAST_FRACTION * max(span, 1e-6))
    return (background & (np.abs(small - median) > threshold)).astype(np.uint8)


def _is_text_like(stats_row: np.ndarray, ring_gradient: float, contrast: float, mm_per_px: float) -> bool:
    """A component's size (mm) is that of text, and its steepest 3 x 3 step is sharp for its contrast."""
    height_mm, width_mm = stats_row[cv2.CC_STAT_HEIGHT] * mm_per_px, stats_row[cv2.CC_STAT_WIDTH] * mm_per_px
    area_mm2 = stats_row[cv2.CC_STAT_AREA] * mm_per_px ** 2
    return bool(height_mm >= _MIN_HEIGHT_MM and max(height_mm, width_mm) <= _MAX_SIDE_MM
                and area_mm2 >= _MIN_AREA_MM2 and ring_gradient >= _MIN_EDGE_FRACTION * contrast)


def text_outside_breast(pixels: np.ndarray, breast_mask: np.ndarray, spacing_mm: tuple[float, float]) -> np.ndarray:
    """Find text-like content outside the breast: small, high-contrast, sharp-edged components.

    Parameters
    ----------
    pixels : (M, N) ndarray of float32
        The stored image, any units.
    breast_mask : (M, N) ndarray of bool
    spacing_mm : (float, float)
        Stored pixel spacing (row, col), mm.

    Returns
    -------
    (M, N) ndarray of bool
        True on the pixels (bounding boxes, at the search resolution) of every text-like
        component; all False when none is found.
    """
    small, breast, scale = _reduced(pixels, breast_mask)
    mm_per_px = float(np.sqrt(spacing_mm[0] * spacing_mm[1])) / scale
    radius = max(1, int(round(_BREAST_MARGIN_MM / mm_per_px)))
    near_breast = cv2.dilate(breast.astype(np.uint8), cv2.getStructuringElement(
        cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)) > 0
    found_small = np.zeros(small.shape, bool)
    background = ~near_breast
    if np.count_nonzero(background) >= 16:
        candidates = _candidates(small, breast, background)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(candidates, connectivity=8)
        gradient = cv2.morphologyEx(small, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
        median = float(np.median(_sample(small[background])))
        for k in range(1, n):  # a handful of components: labels, markers, text lines
            x, y, w, h = (int(stats[k, i]) for i in (cv2.CC_STAT_LEFT, cv2.CC_STAT_TOP,
                                                    cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT))
            inside = labels[y:y + h, x:x + w] == k
            contrast = float(np.abs(small[y:y + h, x:x + w][inside] - median).mean())
            ring = float(gradient[y:y + h, x:x + w][inside].max())
            if _is_text_like(stats[k], ring, contrast, mm_per_px):
                found_small[y:y + h, x:x + w] = True
    if scale == 1.0:
        return found_small
    rows, cols = np.asarray(pixels).shape
    return cv2.resize(found_small.astype(np.uint8), (cols, rows), interpolation=cv2.INTER_NEAREST) > 0


def blanking_reason(image, breast_mask: np.ndarray) -> str:
    """Why the review images of ``image`` are blanked outside the breast, one of :data:`BLANKING_REASONS`.

    Parameters
    ----------
    image : mammo_cv.core.types.MammoImage
        Reads ``burned_in_annotation``, ``pixels`` and ``spacing_mm``.
    breast_mask : (M, N) ndarray of bool

    Returns
    -------
    str
        ``"burned_in_annotation"`` when the file flags burned-in text, else
        ``"text_outside_breast"`` when :func:`text_outside_breast` finds any, else ``"none"``.
    """
    if getattr(image, "burned_in_annotation", False):
        return "burned_in_annotation"
    if text_outside_breast(image.pixels, breast_mask, image.spacing_mm).any():
        return "text_outside_breast"
    return "none"
