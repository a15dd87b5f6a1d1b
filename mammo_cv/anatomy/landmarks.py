"""Breast anatomy: breast mask, chest-wall side, pectoral muscle and nipple, composed.

Everything is computed on a coarse, isotropic working grid (``AnatomyConfig.working_spacing_mm``)
in a canonical orientation with the chest wall on the left (column 0); results are flipped back
and scaled to the stored pixel grid of the input on the way out
(:mod:`mammo_cv.anatomy.working_grid`).

Steps
-----
1. Breast mask (:mod:`mammo_cv.anatomy.breast`): smoothed working image, threshold between the
   background level and the tissue level (both from an Otsu split), opening to cut thin bridges
   to labels and film borders, the largest component, holes filled, outline smoothed.
2. Chest-wall side (:mod:`mammo_cv.anatomy.chest_wall`): the column edge where the breast is
   tallest (the breast tapers towards the nipple). Laterality tags break near-ties only.
3. Pectoral muscle (oblique/lateral views, :mod:`mammo_cv.anatomy.pectoral`): gradient-directed
   Hough transform on the upper chest-wall part of the breast, accepted only when the muscle
   side is clearly brighter.
4. Nipple (:mod:`mammo_cv.anatomy.nipple`): the centre of the skin-line segment farthest from the
   pectoral line (or from the chest wall when no muscle is found).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from mammo_cv.anatomy.breast import breast_mask
from mammo_cv.anatomy.chest_wall import chest_wall_side
from mammo_cv.anatomy.nipple import find_nipple
from mammo_cv.anatomy.pectoral import Pectoral, find_pectoral, half_plane_mask
from mammo_cv.anatomy.working_grid import WorkingGrid, upsample_mask
from mammo_cv.core.errors import NoBreastFoundError
from mammo_cv.core.types import Anatomy, ChestWallSide, MammoImage, View

__all__ = ["AnatomyConfig", "find_anatomy"]


@dataclass(frozen=True)
class AnatomyConfig:
    """Parameters of :func:`find_anatomy`. Sizes in mm, angles in degrees.

    How each default was chosen is recorded in ``docs/validation.md``.

    Attributes
    ----------
    working_spacing_mm : float
        Pixel size of the isotropic working grid, mm. 0.8 mm keeps a 4096 x 3328 image at about
        370 x 300 px (speed) while the skin line and the pectoral edge, transitions several mm wide,
        stay resolved.
    smoothing_sigma_mm : float
        Gaussian sigma applied before thresholding, mm; removes quantum noise and film grain (< 0.5 mm)
        but not the 2-5 mm skin-line transition.
    threshold_fraction : float
        Core breast threshold = background + fraction x (tissue - background), the levels being the
        medians of the two Otsu classes. 0.2 lies inside the skin-line fall-off and keeps film fog, which
        can bridge the breast to a label, out of the core.
    skin_threshold_fraction : float
        Lower level used only within ``skin_reach_mm`` of the core, to bring the outline out to the skin
        line: 0.1 ends on the skin, where 0.2 ends 2-5 mm inside it and 0.05 takes fog and label halos.
    skin_reach_mm : float
        How far beyond the core the skin threshold may grow the mask, mm: the 2-5 mm between the two
        levels.
    min_contrast_to_noise : float
        Minimum (tissue - background) / noise, the noise being the robust std of the unsmoothed working
        image in the tissue class. Below it the image holds no breast (NoBreastFoundError): pure noise
        images give about 0.2, the mini-MIAS mammograms 27 or more.
    opening_mm : float
        Diameter of the opening that cuts thin bridges between the breast and burned-in labels or
        film-border strips, mm (such bridges are 1-3 mm wide).
    edge_strip_mm : float
        Foreground within this distance of an image edge is kept only where it continues at this depth,
        mm: removes scanner lines and film-border bands (up to ~3 mm plus fog) without eating the breast
        where it meets the edge.
    outline_sigma_mm : float
        Gaussian sigma that smooths the mask outline before it is returned at full resolution, mm.
    min_extent_mm : float
        Images smaller than this along either axis cannot hold a breast, mm.
    min_breast_area_mm2 : float
        Smallest accepted breast footprint, mm^2. A small breast on CC covers more than 30 cm^2, so
        4 cm^2 only rejects specks and labels.
    tie_ratio : float
        Chest-wall side: when the two edge heights differ by less than this fraction, the laterality tag
        (if any) decides.
    edge_band_fraction : float
        Chest-wall side: width of the band at each end of the breast, as a fraction of its width, over
        which the breast height is averaged.
    pectoral_sigma_mm : float
        Gaussian sigma before the gradient for the pectoral edge, mm: vessels should not vote, and the
        skin edge must stay more than ~4 sigma from the voting points (``pectoral_skin_margin_mm``).
    pectoral_skin_margin_mm : float
        Edge points within this distance of the skin line are ignored, mm: the skin edge is the strongest
        edge of the image and must not be taken for the muscle.
    pectoral_angle_range_deg : tuple of float
        Accepted angle (min, max) of the muscle edge's normal from the image row axis, deg. On MLO the
        edge runs at 45-85 deg from the horizontal (normal 5-45 deg), widened to (2, 60) for tilted films.
    pectoral_angle_spread_deg : float
        Each edge point votes for line angles within this distance of its gradient direction, deg.
    pectoral_inlier_mm : float
        Edge points within this distance of the Hough line refine it by weighted least squares, mm (the
        Hough grid is 1 deg x 1 working px; 1 deg is 2.4 mm over 140 mm).
    pectoral_min_contrast : float
        Minimum (muscle band median - adjacent band median) / (tissue - background) across the fitted
        line on oblique and lateral views; true muscle edges give 0.08 or more.
    pectoral_min_contrast_unknown_view : float
        The same when the view is unknown: stronger evidence is required.
    pectoral_band_mm : float
        Width of the bands on each side of the line used for the contrast test, mm.
    pectoral_max_area_fraction : float
        A muscle larger than this fraction of the breast is rejected: the pectoral is a corner triangle,
        under ~35 % of the breast.
    pectoral_min_area_fraction : float
        A muscle smaller than this fraction of the breast is treated as not found.
    nipple_reference : {"pectoral", "chest_wall"}
        What the nipple is farthest from on oblique and lateral views when a pectoral line is found. The
        nipple is the apex of the breast profile, the point farthest from the chest-wall edge in a
        compressed MLO; the point farthest from a steep pectoral line drifts toward the inframammary
        fold. CC views and views without a muscle always use the chest wall.
    nipple_tolerance_mm : float
        Skin-line points within this distance of the farthest one form the nipple segment, whose centre
        is returned, mm (the nipple is ~10 mm wide; a rounded skin line stays within 2 mm of its apex
        over 20-30 mm).
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
        low_deg, high_deg = self.pectoral_angle_range_deg
        if not 0.0 <= low_deg < high_deg <= 90.0:
            raise ValueError(f"pectoral_angle_range_deg must be (min, max) with 0 <= min < max <= 90, "
                             f"got {self.pectoral_angle_range_deg}")
        if self.skin_threshold_fraction > self.threshold_fraction:
            raise ValueError("skin_threshold_fraction must be <= threshold_fraction (the skin level is the lower one)")
        if self.pectoral_min_contrast_unknown_view < self.pectoral_min_contrast:
            raise ValueError("pectoral_min_contrast_unknown_view must be >= pectoral_min_contrast "
                             "(an unknown view asks for stronger evidence)")
        if self.pectoral_min_area_fraction > self.pectoral_max_area_fraction:
            raise ValueError("pectoral_min_area_fraction must be <= pectoral_max_area_fraction")


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
    work, spacing_mm = _working_image(image, cfg)
    smooth = cv2.GaussianBlur(work, (0, 0), cfg.smoothing_sigma_mm / spacing_mm)
    mask, levels, notes = breast_mask(
        work, smooth, spacing_mm, threshold_fraction=cfg.threshold_fraction,
        skin_threshold_fraction=cfg.skin_threshold_fraction, skin_reach_mm=cfg.skin_reach_mm,
        min_contrast_to_noise=cfg.min_contrast_to_noise, opening_mm=cfg.opening_mm,
        edge_strip_mm=cfg.edge_strip_mm, min_breast_area_mm2=cfg.min_breast_area_mm2, path=image.source_path)
    side, side_note = chest_wall_side(mask, image.laterality, tie_ratio=cfg.tie_ratio,
                                      edge_band_fraction=cfg.edge_band_fraction)
    notes.append(side_note)

    grid = WorkingGrid(spacing_mm, work.shape, image.shape, side is ChestWallSide.RIGHT)
    mask_c = grid.canonical(mask)
    pectoral, pectoral_note = _pectoral_on_view(grid.canonical(work), mask_c, levels, image.view, grid, cfg)
    notes.append(pectoral_note)
    reference = pectoral if cfg.nipple_reference == "pectoral" else None
    nipple_rc = grid.to_full(find_nipple(mask_c, reference, spacing_mm, tolerance_mm=cfg.nipple_tolerance_mm))[0]

    breast = upsample_mask(mask, image.shape, cfg.outline_sigma_mm / spacing_mm)
    pectoral_mask, pectoral_line = _pectoral_outputs(pectoral, grid, breast)
    return Anatomy(breast_mask=breast, chest_wall_side=side, pectoral_mask=pectoral_mask,
                   pectoral_line=pectoral_line, nipple_rc=(float(nipple_rc[0]), float(nipple_rc[1])),
                   method_notes=tuple(notes))


def _working_image(image: MammoImage, cfg: AnatomyConfig) -> tuple[np.ndarray, float]:
    """The image reduced (area mean) to the isotropic working grid: ((m, n) float32, spacing mm).

    Raises NoBreastFoundError for an image too small, non-finite or constant.
    """
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
    return work, spacing_mm


def _pectoral_on_view(work_c: np.ndarray, mask_c: np.ndarray, levels: tuple[float, float], view: View,
                      grid: WorkingGrid, cfg: AnatomyConfig) -> tuple[Pectoral | None, str]:
    """The pectoral muscle on oblique/lateral views (stronger evidence asked when the view is
    unknown); not searched on the others."""
    if not (view.is_oblique_or_lateral or view is View.UNKNOWN):
        return None, f"pectoral: not searched on view {view.value}"
    min_contrast = cfg.pectoral_min_contrast if view.is_oblique_or_lateral else cfg.pectoral_min_contrast_unknown_view
    return find_pectoral(
        work_c, mask_c, levels, grid.spacing_mm, min_contrast=min_contrast, sigma_mm=cfg.pectoral_sigma_mm,
        skin_margin_mm=cfg.pectoral_skin_margin_mm, angle_range_deg=cfg.pectoral_angle_range_deg,
        angle_spread_deg=cfg.pectoral_angle_spread_deg, inlier_mm=cfg.pectoral_inlier_mm,
        band_mm=cfg.pectoral_band_mm, min_area_fraction=cfg.pectoral_min_area_fraction,
        max_area_fraction=cfg.pectoral_max_area_fraction)


def _pectoral_outputs(pectoral: Pectoral | None, grid: WorkingGrid, breast: np.ndarray):
    """(M, N) bool muscle mask inside ``breast`` and the line's ((row, col), (row, col)) ends in
    the stored grid; all False and None without a muscle."""
    if pectoral is None:
        return np.zeros(grid.full_shape, dtype=bool), None
    ends = grid.to_full(np.array([pectoral.top_rc, pectoral.chest_wall_rc]))
    line = ((float(ends[0, 0]), float(ends[0, 1])), (float(ends[1, 0]), float(ends[1, 1])))
    return half_plane_mask(pectoral, grid) & breast, line
