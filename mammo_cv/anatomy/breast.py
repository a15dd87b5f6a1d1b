"""The breast mask on the working grid: tissue levels, core region, growth to the skin line.

Threshold between the background level and the tissue level (both from an Otsu split), opening
to cut thin bridges to burned-in labels and film borders, the largest component (labels and
markers are left out), growth out to the skin line at a lower level, holes filled. Foreground
along an image edge that does not continue inwards (scanner lines, film-border bands) is
dropped at each threshold.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

from mammo_cv.core.errors import NoBreastFoundError
from mammo_cv.core.stats import robust_sigma

__all__ = ["otsu_threshold", "breast_mask", "drop_edge_strips"]


def otsu_threshold(values: np.ndarray, bins: int = 256) -> float:
    """Otsu threshold of a 1-D float array (histogram of ``bins`` bins).

    Examples
    --------
    >>> import numpy as np
    >>> values = np.r_[np.full(100, 10.0), np.full(50, 90.0)]
    >>> 10.0 < otsu_threshold(values) < 90.0
    True
    """
    try:
        hist, edges = np.histogram(values, bins=bins)
    except ValueError:  # a span too narrow for float32 bin edges (near-constant 16-bit data)
        hist, edges = np.histogram(np.asarray(values, dtype=np.float64), bins=bins)
    centres = 0.5 * (edges[:-1] + edges[1:])
    p = hist / hist.sum()
    w0 = np.cumsum(p)
    m0 = np.cumsum(p * centres)
    mean = m0[-1]
    w1 = 1.0 - w0
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mean * w0 - m0) ** 2 / (w0 * w1)
    between = np.nan_to_num(between[:-1], nan=0.0, posinf=0.0)
    return float(edges[int(np.argmax(between)) + 1])


def breast_mask(work: np.ndarray, smooth: np.ndarray, spacing_mm: float, *, threshold_fraction: float,
                skin_threshold_fraction: float, skin_reach_mm: float, min_contrast_to_noise: float,
                opening_mm: float, edge_strip_mm: float, min_breast_area_mm2: float,
                path: str | None = None) -> tuple[np.ndarray, tuple[float, float], list[str]]:
    """Breast mask on the working grid, from the working image and its smoothed copy.

    Parameters
    ----------
    work, smooth : (m, n) ndarray of float32
        Working image and its Gaussian-smoothed copy, larger = more attenuation.
    spacing_mm : float
        Working pixel size, mm.
    threshold_fraction, skin_threshold_fraction : float
        Core and skin levels, as fractions of the way from the background to the tissue level.
    skin_reach_mm : float
        How far beyond the core the skin level may grow the mask.
    min_contrast_to_noise : float
        Minimum (tissue - background) / noise.
    opening_mm, edge_strip_mm, min_breast_area_mm2 : float
        Opening diameter, edge-strip depth and smallest accepted core area.
    path : str, optional
        Named in the errors.

    Returns
    -------
    mask : (m, n) ndarray of bool
    levels : (float, float)
        (background, tissue) levels in pixel units (medians of the two Otsu classes).
    notes : list of str

    Raises
    ------
    NoBreastFoundError
        Contrast below ``min_contrast_to_noise`` x noise, or no foreground region large enough.
    """
    background, tissue = _tissue_levels(work, smooth, min_contrast_to_noise, path)
    level = background + threshold_fraction * (tissue - background)
    strip_px = int(np.ceil(edge_strip_mm / spacing_mm))
    core, n_regions = _core_region(smooth > level, strip_px, spacing_mm, opening_mm, min_breast_area_mm2, path)
    skin_level = background + skin_threshold_fraction * (tissue - background)
    reach_px = 2 * int(round(skin_reach_mm / spacing_mm)) + 1
    mask = _grow_to_skin(core, smooth > skin_level, strip_px, reach_px)
    notes = [f"breast: threshold {level:.4g}, skin {skin_level:.4g} (background {background:.4g}, "
             f"tissue {tissue:.4g}), {n_regions - 2} other region(s) dropped"]
    return mask, (background, tissue), notes


def _tissue_levels(work: np.ndarray, smooth: np.ndarray, min_contrast_to_noise: float,
                   path: str | None) -> tuple[float, float]:
    """(background, tissue): medians of the two Otsu classes of ``smooth``, checked against the
    noise (robust std of ``work - smooth`` in the tissue class, texture included)."""
    values = smooth.ravel()
    threshold = otsu_threshold(values)
    upper = values > threshold
    background = float(np.median(values[~upper]))
    tissue = float(np.median(values[upper]))
    residual = work.ravel()[upper] - values[upper]
    noise = float(robust_sigma(residual))
    if not tissue - background > min_contrast_to_noise * noise:
        raise NoBreastFoundError(path, f"no breast-like foreground: tissue/background contrast "
                                       f"{tissue - background:.3g} is below {min_contrast_to_noise:g}"
                                       f" x noise ({noise:.3g})")
    return background, tissue


def _core_region(above: np.ndarray, strip_px: int, spacing_mm: float, opening_mm: float,
                 min_area_mm2: float, path: str | None) -> tuple[np.ndarray, int]:
    """The largest 4-connected region of ``above`` after edge strips and an opening are removed:
    ((m, n) uint8 0/1, number of labels counting the background)."""
    raw = drop_edge_strips(above, strip_px).astype(np.uint8)
    size = max(3, int(round(opening_mm / spacing_mm)) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    opened = cv2.morphologyEx(raw, cv2.MORPH_OPEN, kernel)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(opened, connectivity=4)
    if count < 2:
        raise NoBreastFoundError(path, "no foreground above the breast threshold")
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    area_mm2 = float(stats[largest, cv2.CC_STAT_AREA]) * spacing_mm**2
    if area_mm2 < min_area_mm2:
        raise NoBreastFoundError(path, f"largest foreground region is {area_mm2:.0f} mm^2, "
                                       f"below {min_area_mm2:g} mm^2")
    return (labels == largest).astype(np.uint8), count


def _grow_to_skin(core: np.ndarray, above_skin: np.ndarray, strip_px: int, reach_px: int) -> np.ndarray:
    """The core plus the connected ``above_skin`` pixels within a ``reach_px`` disk of it, holes
    filled: (m, n) bool."""
    near_core = cv2.dilate(core, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (reach_px, reach_px)))
    grown = drop_edge_strips(above_skin & (near_core > 0), strip_px)
    _, grown_labels = cv2.connectedComponents((grown | (core > 0)).astype(np.uint8), connectivity=4)
    return ndimage.binary_fill_holes(grown_labels == grown_labels[core > 0][0])


def drop_edge_strips(mask: np.ndarray, depth_px: int) -> np.ndarray:
    """Clear foreground within ``depth_px`` of each image edge where it does not continue at
    that depth (same column or row). (m, n) bool -> (m, n) bool.

    Examples
    --------
    >>> import numpy as np
    >>> mask = np.zeros((8, 8), bool)
    >>> mask[7, :] = True          # a line along the bottom edge
    >>> mask[2:, 2:5] = True       # tissue that reaches the bottom edge
    >>> drop_edge_strips(mask, 2)[7].astype(int).tolist()
    [0, 0, 1, 1, 1, 0, 0, 0]
    """
    out = mask.copy()
    rows, cols = mask.shape
    if rows > 2 * depth_px:
        out[:depth_px] &= mask[depth_px][None, :]
        out[rows - depth_px:] &= mask[rows - 1 - depth_px][None, :]
    if cols > 2 * depth_px:
        out[:, :depth_px] &= mask[:, depth_px][:, None]
        out[:, cols - depth_px:] &= mask[:, cols - 1 - depth_px][:, None]
    return out
