"""Breast anatomy: breast mask, chest-wall side, pectoral muscle and nipple.

Everything is computed on a coarse, isotropic working grid (``AnatomyConfig.working_spacing_mm``)
in a canonical orientation with the chest wall on the left (column 0); results are flipped back
and scaled to the stored pixel grid of the input on the way out.

Steps
-----
1. Breast mask: smoothed working image, threshold between the background level and the tissue
   level (both from an Otsu split), opening to cut thin bridges to labels and film borders, the
   largest component, holes filled, outline smoothed.
2. Chest-wall side: the column edge where the breast is tallest (the breast tapers towards the
   nipple). Laterality tags break near-ties only.
3. Pectoral muscle (oblique/lateral views): gradient-directed Hough transform on the upper
   chest-wall part of the breast, accepted only when the muscle side is clearly brighter.
4. Nipple: the centre of the skin-line segment farthest from the pectoral line (or from the
   chest wall when no muscle is found).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage

from mammo_cv.core.errors import NoBreastFoundError
from mammo_cv.core.types import Anatomy, ChestWallSide, Laterality, MammoImage, View

__all__ = ["AnatomyConfig", "find_anatomy"]


@dataclass(frozen=True)
class AnatomyConfig:
    """Parameters of :func:`find_anatomy`. Sizes in mm, angles in degrees.

    Attributes
    ----------
    working_spacing_mm : float
        Pixel size of the working grid. 0.8 mm keeps a 4096 x 3328 image at ~370 x 300 px
        (speed budget) while the skin line and the pectoral edge (several mm wide transitions
        on film and FFDM) stay resolved.
    smoothing_sigma_mm : float
        Gaussian sigma applied before thresholding; removes quantum noise and film grain
        (grain and noise are < 0.5 mm; the skin-line transition is 2-5 mm wide on mini-MIAS).
    threshold_fraction : float
        Core breast threshold = background + fraction x (tissue - background), levels being
        the medians of the two Otsu classes. 0.2 sits inside the skin-line fall-off on
        mini-MIAS profiles (background ~0-15, subcutaneous fat ~90-150 on the 8-bit scale) and
        keeps film fog, which can bridge the breast to a label, out of the core.
    skin_threshold_fraction : float
        Lower level used only within ``skin_reach_mm`` of the core, to bring the outline out to
        the skin line (seen visually on contrast-stretched mini-MIAS images: 0.2 ends 2-5 mm
        inside the skin, 0.1 on it, 0.05 takes fog and label halos).
    skin_reach_mm : float
        How far beyond the core the skin threshold may grow the mask (the 0.2 -> 0.1 gap is
        2-5 mm on mini-MIAS).
    min_contrast_to_noise : float
        Minimum (tissue - background) / noise, levels being the Otsu class medians and noise the
        robust std of the unsmoothed working image in the tissue class (texture included).
        Pure Gaussian, uniform or Poisson noise images give ~0.2; mini-MIAS dev images >= 27.
    opening_mm : float
        Diameter of the opening that cuts thin bridges between the breast and burned-in
        labels or film-border strips (bridges seen on mini-MIAS are 1-3 mm wide).
    edge_strip_mm : float
        Foreground within this distance of an image edge is kept only where the foreground
        continues at this depth (same column for top/bottom edges, same row for left/right):
        removes scanner lines and film-border bands along image edges (<= ~3 mm wide, plus
        fog, on mini-MIAS) without eating the breast where it meets the edge.
    outline_sigma_mm : float
        Gaussian sigma used to smooth the mask outline before returning it at full resolution.
    min_extent_mm : float
        Images smaller than this along either axis cannot hold a breast (brief: ~20 mm).
    min_breast_area_mm2 : float
        Smallest accepted breast footprint; a small breast on CC covers > 30 cm^2, so 4 cm^2
        only rejects specks and labels.
    tie_ratio : float
        Chest-wall side: if the edge heights differ by less than this fraction, the
        laterality tag (if any) decides.
    edge_band_fraction : float
        Chest-wall side: width of the band at each end of the breast (fraction of its width)
        over which the breast height is averaged.
    pectoral_sigma_mm : float
        Gaussian sigma before the gradient for the pectoral edge. Small structures (vessels)
        should not vote, and the skin edge must stay > ~4 sigma away from the voting points
        (see ``pectoral_skin_margin_mm``): with 2.5 mm the skin edge tilted the fitted muscle
        edge by 2-3 degrees on the hand-made MLO test image; 1.5 mm does not.
    pectoral_skin_margin_mm : float
        Edge points within this distance of the skin line are ignored (the skin edge is the
        strongest edge of the image and must not be taken for the muscle).
    pectoral_angle_range_deg : tuple of float
        Accepted angle of the muscle edge's normal from the image row axis, (min, max). On MLO
        the muscle edge runs from the top edge down to the chest wall at 45-85 degrees from the
        horizontal (normal 5-45 degrees); the range is widened to (2, 60) for tilted films.
    pectoral_angle_spread_deg : float
        Each edge point votes for line angles within this distance of its gradient direction.
    pectoral_inlier_mm : float
        Edge points within this distance of the Hough line refine it by weighted least
        squares (the Hough grid is 1 degree x 1 working px; 1 degree is 2.4 mm over 140 mm).
    pectoral_min_contrast : float
        Minimum (muscle band median - adjacent band median) / (tissue - background) across the
        fitted line on oblique/lateral views. Measured on mini-MIAS: true edges give >= ~0.08.
    pectoral_min_contrast_unknown_view : float
        Same, when the view is unknown (stronger evidence required).
    pectoral_band_mm : float
        Width of the bands on each side of the line used for the contrast test.
    pectoral_max_area_fraction : float
        A muscle larger than this fraction of the breast is rejected (the pectoral is a corner
        triangle; on mini-MIAS it covers < ~35 % of the breast).
    pectoral_min_area_fraction : float
        A muscle smaller than this fraction of the breast is treated as not found.
    nipple_reference : {"pectoral", "chest_wall"}
        What the nipple is farthest from on oblique/lateral views when a pectoral line is
        found: the chest-wall column edge (default), or the pectoral line. The nipple is the
        apex of the breast profile, and in a compressed MLO the profile's apex is the point
        farthest from the detector's chest-wall edge; the farthest point from a steep pectoral
        line drifts 20 mm toward the inframammary fold (measured on the phantoms, whose nipple
        is at the profile apex). CC views and views without a muscle always use the chest wall.
    nipple_tolerance_mm : float
        Skin-line points within this distance of the farthest one form the nipple segment,
        whose centre is returned (the nipple is ~10 mm wide; a rounded skin line is within
        2 mm of its apex over ~20-30 mm).
    """

    working_spacing_mm: float = 0.8
    smoothing_sigma_mm: float = 0.8
    threshold_fraction: float = 0.2
    skin_threshold_fraction: float = 0.1
    skin_reach_mm: float = 5.0
    min_contrast_to_noise: float = 5.0
    opening_mm: float = 4.0
    edge_strip_mm: float = 5.0
    outline_sigma_mm: float = 1.5
    min_extent_mm: float = 20.0
    min_breast_area_mm2: float = 400.0
    tie_ratio: float = 0.05
    edge_band_fraction: float = 0.15
    pectoral_sigma_mm: float = 1.5
    pectoral_skin_margin_mm: float = 6.0
    pectoral_angle_range_deg: tuple[float, float] = (2.0, 60.0)
    pectoral_angle_spread_deg: float = 8.0
    pectoral_inlier_mm: float = 3.0
    pectoral_min_contrast: float = 0.08
    pectoral_min_contrast_unknown_view: float = 0.15
    pectoral_band_mm: float = 6.0
    pectoral_max_area_fraction: float = 0.5
    pectoral_min_area_fraction: float = 0.01
    nipple_reference: str = "chest_wall"
    nipple_tolerance_mm: float = 2.0

    def __post_init__(self) -> None:
        if self.nipple_reference not in ("pectoral", "chest_wall"):
            raise ValueError(f"nipple_reference: expected 'pectoral' or 'chest_wall', "
                             f"got {self.nipple_reference!r}")


@dataclass(frozen=True)
class _Grid:
    """Working grid: isotropic ``spacing_mm``, ``shape`` (rows, cols), chest wall flipped left."""

    spacing_mm: float
    shape: tuple[int, int]
    full_shape: tuple[int, int]
    flipped: bool

    def to_full(self, rc_canonical: np.ndarray) -> np.ndarray:
        """(K, 2) canonical working (row, col) -> (K, 2) float64 (row, col) in the full grid."""
        rc = np.asarray(rc_canonical, dtype=np.float64).reshape(-1, 2).copy()
        if self.flipped:
            rc[:, 1] = self.shape[1] - 1 - rc[:, 1]
        scale = np.array(self.full_shape, dtype=np.float64) / np.array(self.shape)
        return (rc + 0.5) * scale - 0.5


@dataclass(frozen=True)
class _Pectoral:
    """Pectoral edge n . (row, col) = rho in canonical working px, n = (sin t, cos t)."""

    theta_deg: float
    rho_px: float
    top_rc: tuple[float, float]
    chest_wall_rc: tuple[float, float]  # lower end: on the chest wall, or on the breast's lower border
    contrast: float

    @property
    def normal(self) -> np.ndarray:
        t = np.deg2rad(self.theta_deg)
        return np.array([np.sin(t), np.cos(t)])


def find_anatomy(image: MammoImage, *, config: AnatomyConfig | None = None) -> Anatomy:
    """Find the breast, chest-wall side, pectoral muscle and nipple of one mammogram.

    Parameters
    ----------
    image : MammoImage
        Any spacing and bit depth; larger pixel values mean more attenuation.
    config : AnatomyConfig, optional
        Defaults to ``AnatomyConfig()``.

    Returns
    -------
    Anatomy
        Masks are (M, N) bool in the stored grid of ``image``; ``pectoral_line`` and
        ``nipple_rc`` are (row, col) px in that grid.

    Raises
    ------
    NoBreastFoundError
        Blank or constant image, image smaller than ``config.min_extent_mm``, non-finite
        pixels, or no breast-like foreground (contrast below noise, or too small).

    Examples
    --------
    >>> from mammo_cv.synthetic.phantoms import phantom
    >>> anatomy = find_anatomy(phantom(spacing_mm=0.2, seed=1).image)
    >>> anatomy.chest_wall_side
    <ChestWallSide.LEFT: 'left'>
    """
    cfg = AnatomyConfig() if config is None else config
    path = image.source_path
    extent_mm = np.array(image.shape) * np.array(image.spacing_mm)
    if extent_mm.min() < cfg.min_extent_mm:
        raise NoBreastFoundError(path, f"image is {extent_mm[0]:.1f} x {extent_mm[1]:.1f} mm, "
                                       f"smaller than {cfg.min_extent_mm:g} mm")
    spacing_mm = max(cfg.working_spacing_mm, *image.spacing_mm)
    work_shape = (max(1, round(extent_mm[0] / spacing_mm)), max(1, round(extent_mm[1] / spacing_mm)))
    work = cv2.resize(np.asarray(image.pixels), work_shape[::-1], interpolation=cv2.INTER_AREA)
    if not np.isfinite(work).all():
        raise NoBreastFoundError(path, "pixel data contain NaN or infinite values")
    if np.ptp(work) <= 0:
        raise NoBreastFoundError(path, "image is constant")

    smooth = cv2.GaussianBlur(work, (0, 0), cfg.smoothing_sigma_mm / spacing_mm)
    mask, levels, notes = _breast_mask_working(work, smooth, spacing_mm, cfg, path)
    side, side_note = _chest_wall_side(mask, image.laterality, cfg)
    notes.append(side_note)

    grid = _Grid(spacing_mm, work_shape, image.shape, side is ChestWallSide.RIGHT)
    mask_c = np.ascontiguousarray(mask[:, ::-1]) if grid.flipped else mask
    work_c = np.ascontiguousarray(work[:, ::-1]) if grid.flipped else work

    pectoral = None
    if image.view.is_oblique_or_lateral or image.view is View.UNKNOWN:
        min_contrast = (cfg.pectoral_min_contrast if image.view.is_oblique_or_lateral
                        else cfg.pectoral_min_contrast_unknown_view)
        pectoral, pect_note = _find_pectoral(work_c, mask_c, levels, spacing_mm, min_contrast, cfg)
        notes.append(pect_note)
    else:
        notes.append(f"pectoral: not searched on view {image.view.value}")

    reference = pectoral if cfg.nipple_reference == "pectoral" else None
    nipple_c = _find_nipple(mask_c, reference, spacing_mm, cfg)
    nipple_rc = grid.to_full(nipple_c)[0]

    breast_mask = _upsample_mask(mask, image.shape, cfg.outline_sigma_mm / spacing_mm)
    if pectoral is None:
        pectoral_mask = np.zeros(image.shape, dtype=bool)
        pectoral_line = None
    else:
        pectoral_mask = _half_plane_mask(pectoral, grid) & breast_mask
        ends = grid.to_full(np.array([pectoral.top_rc, pectoral.chest_wall_rc]))
        pectoral_line = ((float(ends[0, 0]), float(ends[0, 1])), (float(ends[1, 0]), float(ends[1, 1])))
    return Anatomy(breast_mask=breast_mask, chest_wall_side=side, pectoral_mask=pectoral_mask,
                   pectoral_line=pectoral_line, nipple_rc=(float(nipple_rc[0]), float(nipple_rc[1])),
                   method_notes=tuple(notes))


def _otsu(values: np.ndarray, bins: int = 256) -> float:
    """Otsu threshold of a 1-D float array (histogram of ``bins`` bins)."""
    hist, edges = np.histogram(values, bins=bins)
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


def _breast_mask_working(work: np.ndarray, smooth: np.ndarray, spacing_mm: float, cfg: AnatomyConfig,
                         path: str | None) -> tuple[np.ndarray, tuple[float, float], list[str]]:
    """Breast mask on the working grid, from the working image and its smoothed copy.

    Returns
    -------
    mask : (m, n) ndarray of bool
    levels : (float, float)
        (background, tissue) levels in pixel units (medians of the two Otsu classes).
    notes : list of str
    """
    values = smooth.ravel()
    threshold = _otsu(values)
    upper = values > threshold
    background = float(np.median(values[~upper]))
    tissue = float(np.median(values[upper]))
    residual = work.ravel()[upper] - values[upper]
    noise = 1.4826 * float(np.median(np.abs(residual - np.median(residual))))
    if not tissue - background > cfg.min_contrast_to_noise * noise:
        raise NoBreastFoundError(path, f"no breast-like foreground: tissue/background contrast "
                                       f"{tissue - background:.3g} is below {cfg.min_contrast_to_noise:g}"
                                       f" x noise ({noise:.3g})")
    level = background + cfg.threshold_fraction * (tissue - background)
    raw = _drop_edge_strips(smooth > level, int(np.ceil(cfg.edge_strip_mm / spacing_mm))).astype(np.uint8)

    size = max(3, int(round(cfg.opening_mm / spacing_mm)) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    opened = cv2.morphologyEx(raw, cv2.MORPH_OPEN, kernel)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(opened, connectivity=4)
    if count < 2:
        raise NoBreastFoundError(path, "no foreground above the breast threshold")
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    area_mm2 = float(stats[largest, cv2.CC_STAT_AREA]) * spacing_mm**2
    if area_mm2 < cfg.min_breast_area_mm2:
        raise NoBreastFoundError(path, f"largest foreground region is {area_mm2:.0f} mm^2, "
                                       f"below {cfg.min_breast_area_mm2:g} mm^2")
    core = (labels == largest).astype(np.uint8)
    reach = 2 * int(round(cfg.skin_reach_mm / spacing_mm)) + 1
    near_core = cv2.dilate(core, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (reach, reach)))
    skin_level = background + cfg.skin_threshold_fraction * (tissue - background)
    grown = _drop_edge_strips((smooth > skin_level) & (near_core > 0), int(np.ceil(cfg.edge_strip_mm / spacing_mm)))
    _, grown_labels = cv2.connectedComponents((grown | (core > 0)).astype(np.uint8), connectivity=4)
    mask = ndimage.binary_fill_holes(grown_labels == grown_labels[core > 0][0])
    notes = [f"breast: threshold {level:.4g}, skin {skin_level:.4g} (background {background:.4g}, "
             f"tissue {tissue:.4g}), {count - 2} other region(s) dropped"]
    return mask, (background, tissue), notes


def _drop_edge_strips(mask: np.ndarray, depth_px: int) -> np.ndarray:
    """Clear foreground within ``depth_px`` of each image edge where it does not continue at
    that depth (same column or row). (m, n) bool -> (m, n) bool."""
    out = mask.copy()
    rows, cols = mask.shape
    if rows > 2 * depth_px:
        out[:depth_px] &= mask[depth_px][None, :]
        out[rows - depth_px:] &= mask[rows - 1 - depth_px][None, :]
    if cols > 2 * depth_px:
        out[:, :depth_px] &= mask[:, depth_px][:, None]
        out[:, cols - depth_px:] &= mask[:, cols - 1 - depth_px][:, None]
    return out


def _chest_wall_side(mask: np.ndarray, laterality: Laterality,
                     cfg: AnatomyConfig) -> tuple[ChestWallSide, str]:
    """Chest-wall side: the end of the breast's column range where the breast is taller."""
    heights = mask.sum(axis=0).astype(np.float64)
    cols = np.flatnonzero(heights)
    c0, c1 = int(cols[0]), int(cols[-1])
    band = max(1, int(round(cfg.edge_band_fraction * (c1 - c0 + 1))))
    left = float(heights[c0:c0 + band].mean())
    right = float(heights[c1 - band + 1:c1 + 1].mean())
    if abs(left - right) >= cfg.tie_ratio * max(left, right):
        side = ChestWallSide.LEFT if left > right else ChestWallSide.RIGHT
        return side, f"chest wall: {side.value} (edge heights {left:.0f} vs {right:.0f} px)"
    # Conventional storage puts the chest wall of a left breast on the image's left.
    by_tag = {Laterality.LEFT: ChestWallSide.LEFT, Laterality.RIGHT: ChestWallSide.RIGHT}
    side = by_tag.get(laterality, ChestWallSide.LEFT if left >= right else ChestWallSide.RIGHT)
    return side, f"chest wall: {side.value} (near tie, decided by laterality {laterality.value})"


def _find_pectoral(work: np.ndarray, mask: np.ndarray, levels: tuple[float, float],
                   spacing_mm: float, min_contrast: float,
                   cfg: AnatomyConfig) -> tuple[_Pectoral | None, str]:
    """Pectoral edge in the canonical working grid (chest wall at the left).

    Edge points in the upper chest-wall part of the breast whose gradient points to the
    upper-left corner (brighter towards the muscle) vote, weighted by gradient magnitude, for
    lines whose normal is within ``pectoral_angle_spread_deg`` of their gradient direction.
    The best line is accepted if it cuts a corner triangle of plausible size that is clearly
    brighter than the tissue beyond it.
    """
    smooth = cv2.GaussianBlur(work, (0, 0), cfg.pectoral_sigma_mm / spacing_mm)
    grad_r = cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3)
    grad_c = cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3)

    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    top, bottom, c0, c1 = int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])
    margin = max(3, int(round(2 * cfg.pectoral_skin_margin_mm / spacing_mm)) | 1)
    inner = cv2.erode(mask.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (margin, margin)))
    inner[int(top + 0.75 * (bottom - top)):, :] = 0
    inner[:, int(c0 + 0.75 * (c1 - c0)):] = 0
    rr, cc = np.nonzero(inner)
    gr, gc = grad_r[rr, cc], grad_c[rr, cc]
    theta_pt = np.rad2deg(np.arctan2(-gr, -gc))
    magnitude = np.hypot(gr, gc)
    lo, hi = cfg.pectoral_angle_range_deg
    spread = cfg.pectoral_angle_spread_deg
    keep = (theta_pt > lo - spread) & (theta_pt < hi + spread)
    if keep.sum() < 10:
        return None, "pectoral: not found (no edge pointing to the chest-wall corner)"
    keep &= magnitude >= np.percentile(magnitude[keep], 75)
    rr, cc, theta_pt, magnitude = rr[keep], cc[keep], theta_pt[keep], magnitude[keep]

    thetas = np.arange(lo, hi + 0.5, 1.0)
    t = np.deg2rad(thetas)
    rho = rr[:, None] * np.sin(t)[None, :] + cc[:, None] * np.cos(t)[None, :]
    votes = np.abs(theta_pt[:, None] - thetas[None, :]) <= spread
    n_rho = int(np.hypot(*mask.shape)) + 2
    index = np.arange(thetas.size)[None, :] * n_rho + np.clip(np.round(rho), 0, n_rho - 1).astype(np.intp)
    weights = np.broadcast_to(magnitude[:, None], votes.shape)[votes]
    accumulator = np.bincount(index[votes], weights=weights, minlength=thetas.size * n_rho)
    accumulator = cv2.blur(accumulator.reshape(thetas.size, n_rho).astype(np.float32), (3, 3))
    k_theta, k_rho = np.unravel_index(int(np.argmax(accumulator)), accumulator.shape)
    theta, rho_line = _refine_line(np.stack([rr, cc], axis=1).astype(np.float64), theta_pt, magnitude,
                                   float(thetas[k_theta]), float(k_rho),
                                   cfg.pectoral_inlier_mm / spacing_mm, spread)
    if not lo <= theta <= hi:
        return None, f"pectoral: not found (refined edge at {theta:.0f} deg is out of range)"
    s, c = np.sin(np.deg2rad(theta)), np.cos(np.deg2rad(theta))

    c_top = (rho_line - top * s) / c
    r_cw = (rho_line - c0 * c) / s
    min_len_px = cfg.pectoral_band_mm / spacing_mm
    if not (c0 + min_len_px < c_top < c1 and r_cw > top + min_len_px):
        return None, (f"pectoral: not found (best line at {theta:.0f} deg does not cut the "
                      f"upper chest-wall corner)")
    # A steep muscle edge may leave the breast through its lower border instead of the chest wall.
    end_rc = (r_cw, float(c0)) if r_cw <= bottom else (float(bottom), (rho_line - bottom * s) / c)

    grid_r, grid_c = np.indices(mask.shape)
    signed = grid_r * s + grid_c * c - rho_line
    muscle = mask & (signed < 0)
    fraction = muscle.sum() / mask.sum()
    if not cfg.pectoral_min_area_fraction <= fraction <= cfg.pectoral_max_area_fraction:
        return None, f"pectoral: not found (corner region is {100 * fraction:.0f} % of the breast)"
    band = cfg.pectoral_band_mm / spacing_mm
    near = mask & (grid_r <= end_rc[0])
    inside = near & (signed > -band) & (signed < 0)
    outside = near & (signed >= 0) & (signed < band)
    contrast = (float(np.median(smooth[inside])) - float(np.median(smooth[outside]))) / (levels[1] - levels[0])
    if contrast < min_contrast:
        return None, f"pectoral: not found (edge contrast {contrast:.2f} < {min_contrast:.2f})"
    pectoral = _Pectoral(theta_deg=theta, rho_px=rho_line, top_rc=(float(top), float(c_top)),
                         chest_wall_rc=(float(end_rc[0]), float(end_rc[1])), contrast=contrast)
    return pectoral, f"pectoral: found at {theta:.0f} deg, contrast {contrast:.2f}"


def _refine_line(points: np.ndarray, theta_pt: np.ndarray, weights: np.ndarray, theta_deg: float,
                 rho_px: float, inlier_px: float, spread_deg: float, iterations: int = 2) -> tuple[float, float]:
    """Refine a Hough line by magnitude-weighted total least squares on its inliers: edge
    points (K, 2) within ``inlier_px`` of the line whose gradient angle is within
    ``spread_deg``. Returns (theta_deg, rho_px) with the normal kept towards +row/+col."""
    for _ in range(iterations):
        t = np.deg2rad(theta_deg)
        distance = points @ np.array([np.sin(t), np.cos(t)]) - rho_px
        inliers = (np.abs(distance) <= inlier_px) & (np.abs(theta_pt - theta_deg) <= spread_deg)
        if inliers.sum() < 10:
            break
        w = weights[inliers]
        centre = (w[:, None] * points[inliers]).sum(axis=0) / w.sum()
        offsets = points[inliers] - centre
        normal = np.linalg.eigh((w[:, None] * offsets).T @ offsets)[1][:, 0]  # smallest eigenvalue
        normal = normal if normal[1] > 0 else -normal
        theta_deg = float(np.rad2deg(np.arctan2(normal[0], normal[1])))
        rho_px = float(centre @ normal)
    return theta_deg, rho_px


def _find_nipple(mask: np.ndarray, pectoral: _Pectoral | None, spacing_mm: float,
                 cfg: AnatomyConfig) -> np.ndarray:
    """Nipple (row, col) in the canonical working grid: centre of the skin-line run farthest
    from the pectoral line (or from the chest-wall column). Returns (2,) float64."""
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    contour = max(contours, key=len)[:, 0, ::-1].astype(np.float64)  # (K, 2) as (row, col)
    if pectoral is None:
        distance = contour[:, 1] - contour[:, 1].min()
    else:
        distance = contour @ pectoral.normal - pectoral.rho_px
    rows, cols = mask.shape
    on_border = ((contour[:, 0] <= 0) | (contour[:, 0] >= rows - 1)
                 | (contour[:, 1] <= 0) | (contour[:, 1] >= cols - 1))
    if on_border.all():
        on_border[:] = False
    distance = np.where(on_border, -np.inf, distance)
    apex = int(np.argmax(distance))
    near = distance >= distance[apex] - cfg.nipple_tolerance_mm / spacing_mm
    ahead = np.roll(near, -apex)
    behind = np.roll(near[::-1], apex + 1)
    if ahead.all():
        return contour[near].mean(axis=0)
    n_ahead = int(np.argmin(ahead))
    n_behind = int(np.argmin(behind))
    run = (apex + np.arange(-n_behind, n_ahead)) % len(contour)
    return contour[run].mean(axis=0)


def _upsample_mask(mask: np.ndarray, full_shape: tuple[int, int], sigma_px: float) -> np.ndarray:
    """Working bool mask -> (M, N) bool mask with a smoothed outline.

    The smoothed mask is upsampled as uint8 (0-255), not float32: the full-size temporary is
    a quarter of the size and the resize is ~2.5x faster; the 0.5 level moves by < 1/255.
    """
    soft = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), sigma_px)
    soft_u8 = np.rint(soft * 255.0).astype(np.uint8)
    return cv2.resize(soft_u8, full_shape[::-1], interpolation=cv2.INTER_LINEAR) > 127


def _half_plane_mask(pectoral: _Pectoral, grid: _Grid) -> np.ndarray:
    """(M, N) bool: the muscle side (n . p < rho) of the pectoral line in the full grid."""
    rows, cols = grid.shape
    corners = np.array([[-0.5, -0.5], [-0.5, cols - 0.5], [rows - 0.5, cols - 0.5], [rows - 0.5, -0.5]])
    polygon = _clip_half_plane(corners, pectoral.normal, pectoral.rho_px)
    out = np.zeros(grid.full_shape, dtype=np.uint8)
    if len(polygon) >= 3:
        full = grid.to_full(polygon)
        points = np.round(full[:, ::-1] * 16).astype(np.int32)  # (x, y), 4 fractional bits
        cv2.fillPoly(out, [points], 1, lineType=cv2.LINE_8, shift=4)
    return out.view(bool)  # 0/1 bytes: a view, not a second full-size copy


def _clip_half_plane(polygon: np.ndarray, normal: np.ndarray, rho: float) -> np.ndarray:
    """Clip a convex polygon ((K, 2) row, col) to {p : normal . p <= rho} (Sutherland-Hodgman)."""
    signed = polygon @ normal - rho
    out = []
    for k in range(len(polygon)):
        p, q, sp, sq = polygon[k], polygon[(k + 1) % len(polygon)], signed[k], signed[(k + 1) % len(polygon)]
        if sp <= 0:
            out.append(p)
        if (sp < 0 < sq) or (sq < 0 < sp):
            out.append(p + (q - p) * sp / (sp - sq))
    return np.array(out).reshape(-1, 2)
