"""Calcification candidates: multi-scale top-hat, noise-adaptive threshold, blob labelling.

The image is cropped to the breast and variance-stabilised (its noise sigma, measured against
grey level on the image itself, becomes the same at every grey). Background is removed by white
top-hats with elliptical kernels sized in mm (small kernels at full resolution, large ones on
area-downsampled copies so that each kernel stays a few pixels wide), each top-hat response is
divided by a robust local noise sigma, and the largest signal-to-noise ratio (SNR) over the
scales is labelled with hysteresis; a large calcification's grey full width at half maximum
joins its pieces so that it comes out whole, when its bright plateau fills that width (one
object, not a cluster). Confidence is the largest scale-weighted SNR (coarse scales weigh
less), capped by a sharpness SNR (a small-scale Laplacian of Gaussian) where the pixels resolve
it; there that LoG, the matched filter for a small calcification, is also a second candidate
finder. Only the allowed zone is searched: inside the breast, away from the skin line and clear
of the pectoral muscle (the response maps are zeroed elsewhere before regions grow). Spots
sharper than the image's measured system PSF allows (dust and grain on film, noise spikes) are
removed (:mod:`.artefacts`); elongated candidates are down-weighted, not removed.

This module holds the settings, the result and :func:`detect_calcifications`, which composes
the steps: :mod:`.noise` (equalisation), :mod:`.scales` (response maps), :mod:`.segmentation`
(hysteresis regions, pieces, whole objects) and :mod:`.selection` (confidence, removal, context
threshold).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from mammo_cv.core.psf import image_kind
from mammo_cv.core.types import Anatomy, MammoImage
from mammo_cv.core.units import disk_area_px, mean_spacing_mm, odd_kernel_px
from mammo_cv.detection.artefacts import _sharper_than_psf
from mammo_cv.detection.edges import _edge_sigma_mm, _soft
from mammo_cv.detection.noise import equalize_noise
from mammo_cv.detection.scales import _response_maps
from mammo_cv.detection.segmentation import _areas, _Candidates, _candidates, _hysteresis_regions, _Regions, _whole
from mammo_cv.detection.selection import _allowed_zone, _scores, _selected

__all__ = ["DetectionConfig", "Detections", "detect_calcifications"]


@dataclass(frozen=True)
class DetectionConfig:
    """Every threshold of the detector, in mm, mm^2 or noise-sigma units.

    How each default was chosen, on which data and with which figures, is recorded in
    ``docs/validation.md``.

    Attributes
    ----------
    noise_equalization : bool
        Variance-stabilise the pixels before any filter (:func:`mammo_cv.detection.noise.equalize_noise`).
        Quantum noise grows behind dense tissue (fewer photons; film grain likewise), so without it one
        sigma threshold lets noise peaks in dense lumps through. On: it lets ``min_confidence`` be 6.
    noise_sample_mm : float
        Cell side of the noise-versus-grey curve, mm: one sample per cell, its mean grey against the
        difference of one pixel from its 8 neighbours (white noise passes, wider structures do not).
    noise_curve_bins : int
        Equal-count grey bins of that curve; each bin's sigma is 1.4826 x MAD, robust to the
        calcifications and edges among its samples.
    tophat_diameters_mm : tuple of float
        Diameters of the elliptical white top-hat kernels, mm; a bright object narrower than a kernel
        survives it. 0.5 and 1.2 mm cover micro-calcifications (0.1-1 mm, BI-RADS 5th ed.), 3 and 10 mm
        macro-calcifications up to about 10 mm.
    kernel_px_target : int
        Kernel width in working pixels, px. A scale whose kernel would be wider at the native spacing
        runs on an area-downsampled copy where it is about this wide (speed; ~9 px still resolve the object).
    noise_cell_mm : float
        Side of the grid cells on which the RMS of each top-hat response is computed, mm.
    noise_window_mm : float
        Side of the window whose median cell RMS is the local noise sigma, mm. A cluster spans at most
        10-20 mm (BI-RADS), so it does not raise a 20-mm median, which still follows fatty versus dense tissue.
    noise_floor_fraction : float
        On the downsampled (macro) scales the sigma used for confidence is at least this fraction of its
        median over the breast: averaging removes the quantum noise there, and in the smooth fatty
        periphery glandular edges would reach SNRs in the hundreds. Segmentation keeps the local sigma.
    seed_snr : float
        Peak SNR a candidate needs in the top-hat or the -LoG finder, sigma. Equal to
        ``context_min_confidence``: a higher seed would cap the context threshold. Candidates at
        ``min_confidence`` and above do not depend on it.
    grow_snr : float
        Hysteresis low threshold: pixels with SNR at least this join a seed, sigma.
    half_max_fraction : float
        A candidate keeps the pixels at or above its region's minimum plus this fraction of its
        (maximum - minimum): the full width at half maximum, so that its area depends neither on its
        contrast nor on the scale that found it.
    min_area_mm2, max_area_mm2 : float
        Area limits, mm^2. A candidate smaller than ``min_area_mm2``, a 0.1-mm disk (0.00785 mm^2), is
        reported only inside a group (``context_min_neighbours`` others within ``context_radius_mm``):
        lone spots that small are below what screening mammography resolves and what BI-RADS describes
        (its smallest descriptor, punctate, is < 0.5 mm), and on scanned film they are dust and grain
        (``docs/real-images.md``: 55 % of the marks on the CBIS-DDSM development films). Inside a group
        they stay, because the half-maximum area of a faint 0.15-0.3 mm member is set by the noise, often
        1 px at 0.07 mm. ``max_area_mm2``, 80 mm^2, is a 10-mm disk, the largest macro-calcification the
        large scales look for.
    whole_min_diameter_mm : float
        A large calcification comes out whole: the grey half-maximum region of a hysteresis region joins
        the pieces it touches when its area is at least that of a disk of this diameter, mm. 1.2 mm, the
        largest full-resolution top-hat, which finds narrower objects whole by itself.
    whole_core_fraction, whole_min_core_share : float
        ... and only when it is one object: at least ``whole_min_core_share`` of its pixels lie on its
        plateau, grey at least ``whole_core_fraction`` of the way from the background to its maximum. A
        solid calcification's plateau fills its half-maximum region; micro-calcifications joined through
        dense tissue leave dim gaps. 0.75 lies between the two.
    psf_excess_sigma : float
        Artefact test (:mod:`.artefacts`): a candidate whose spot is sharper than a point source
        through the image's measured system PSF, by more than this many sigma of its sharpness's
        noise, is removed (dust and grain on film, noise spikes). ``inf`` switches the test off.
    soft_edge_min_mm : float
        Tissue-edge test, where the pixels are too coarse for the sharpness test (``sharpness_min_sigma_px``:
        spacings above 0.12 mm): a candidate of at least the ``whole_min_diameter_mm`` disk whose edge blur
        (Gaussian sigma, :mod:`.edges`) exceeds this is removed, mm. A calcification's edge is as sharp as
        the system renders it: macro-calcifications inserted into the mini-MIAS development normals (0.2 mm)
        measure 0.26-0.29 mm (median per type, 90 % under 0.29-0.54 mm); a glandular lump's, a band's or a
        ligament's edge is its tissue gradient: the macro false marks on those normals measure 0.61 mm
        (median). ``inf`` switches the test off.
    soft_edge_spare_confidence : float
        The tissue-edge test spares candidates whose confidence (before the elongation weight) is at least
        this, sigma: a calcification that stands out this far is kept even where the tissue it lies on
        blurs its measured edge. 10, the "obvious" contrast of issue 14: on the development normals 90 % of
        the soft false marks lie below it, and the calcifications the test removed above it were rims and
        rods of 10-48 sigma.
    coarse_solid_min_diameter_mm, coarse_solid_edge_max_mm : float, float
        Where the pixels are too coarse for the sharpness test (spacings above 0.12 mm) the edge blur is the
        only sharpness evidence, so a candidate of at least the disk of this diameter (mm; BI-RADS 5th ed.:
        macro-calcifications are larger than about 1 mm) whose edge blur is at most this (mm) is solid too,
        whole or not: its confidence is at least its unweighted peak SNR. At 0.2 mm a 1.2-1.5 mm round
        calcification is 6-7 px wide: the 1.2-mm top-hat, weighted 0.5, finds it, and its half-maximum
        region is smaller than the ``whole_min_diameter_mm`` disk a whole object needs. 0.35 mm lies above
        the edges of macro-calcifications inserted into the mini-MIAS development normals (median per type
        0.26-0.29 mm) and below those of the tissue false marks (0.49 mm). Chosen there
        (``docs/real-images.md``, section 12). ``coarse_solid_edge_max_mm`` 0 switches it off.
    whole_edge_max_mm : float
        A whole object whose edge blur (Gaussian sigma, :mod:`.edges`) is at most this is solid,
        mm: its confidence is at least its unweighted peak SNR (``scale_weights`` do not apply).
        A calcification's edge is as sharp as the system renders it (PSF and pixel: about 0.05 mm
        at 0.05-0.1 mm pixels, 0.2 mm at 0.2 mm), a glandular lump's spreads over 0.5-1 mm. 0: off.
    skin_margin_mm : float
        Candidates whose peak lies closer than this to the breast-mask edge are removed, mm (skin line,
        dermal folds, the mask border; skin calcifications are benign). 5 mm: no annotated cluster of the
        development set lies closer to the edge than 10 mm, and many false candidates do.
    pectoral_margin_mm : float
        Candidates on the pectoral muscle or within this distance of it are removed, mm: the muscle edge
        and its fibres are the main source of bright ridges on MLO views.
    elongation_free : float
        Elongation (major/minor axis ratio) up to which confidence is not reduced; beyond it, confidence
        falls as ``elongation_free / elongation``. 20: secretory rods and vascular fragments reach ~20:1.
    scale_weights : tuple of float
        Confidence is the largest ``weight x SNR`` over the scales, one weight per entry of
        ``tophat_diameters_mm``. Glandular texture adds outliers that grow with the scale, so coarse scales
        weigh less: 0.5 at 1.2 mm, 0.25 at 3 and 10 mm (a macro-calcification must stand out 4x as far).
    sharpness_sigma_mm : float
        Scale of the sharpness test, mm: confidence is at most the largest scale-normalised -LoG response
        (sigma^2 x -LoG) over the candidate, over its own local noise, so soft glandular lumps lose it and
        sharp-edged calcifications keep it. 0.06 mm is the matched scale (sigma = r / sqrt 2, Lindeberg
        1998) of a 0.17-mm calcification, the middle of the hardest band (0.15-0.3 mm).
    sharpness_min_sigma_px : float
        The sharpness test (and the -LoG finder) runs only when ``sharpness_sigma_mm`` is at least this many
        pixels, px: at 0.5, spacings up to 0.12 mm. Coarser pixels are wider than a calcification's edge, so
        lumps and calcifications look equally sharp; there confidence is the weighted top-hat SNR alone.
    sharpness_max_penalty : float
        The sharpness cap lowers a confidence by at most this, sigma. A LoG of about 1 px is a poor filter
        on white noise and would drop clear calcifications; the texture lumps sit at confidence 7-9, so a
        penalty of 3 removes them.
    log_weight : float
        Second candidate finder where the sharpness test runs: the -LoG at ``sharpness_sigma_mm`` is the
        matched filter for a small blurred disk in white noise, so a hysteresis region is also seeded where
        its -LoG SNR reaches ``seed_snr``, and its confidence is at least ``log_weight`` x that SNR at its
        top-hat peak. 1.0: the matched filter counts as much as the top-hat.
    min_confidence : float
        Reporting operating point, sigma: only candidates with confidence at least this are labelled.
        6 = ``ClusterConfig.min_member_confidence``, so that every candidate a cluster may use is reported;
        0, with ``isolated_min_confidence`` 0, keeps every candidate above the seed (for FROC scripts).
    isolated_min_confidence, isolated_max_diameter_mm : float, float
        An isolated punctate-size candidate (area below a disk of ``isolated_max_diameter_mm``, with no
        other candidate at ``min_confidence`` within ``context_radius_mm``) is reported only at this
        confidence or more, sigma. A lone punctate calcification is benign and not reported by a
        radiologist (BI-RADS: punctate < 0.5 mm; a group needs 5 within 1 cm), while film grain and
        tissue spots just above the operating point are mostly such lone dots (mini-MIAS normals:
        median confidence 6.8). Chosen on the development backgrounds (``docs/real-images.md``).
    context_min_confidence, context_radius_mm, context_min_neighbours : float, float, int
        Context threshold (sigma, mm, count): a candidate between ``context_min_confidence`` and
        ``min_confidence`` is reported when at least ``context_min_neighbours`` candidates at
        ``min_confidence`` lie within ``context_radius_mm`` of its peak. Calcifications that matter come in
        groups (BI-RADS: 5 within 1 cm), so a faint spot is searched for only beside confident ones: 5 mm
        is half the 1-cm group, and 3 neighbours plus the faint one make 4 within it. No effect when
        ``context_min_confidence >= min_confidence``. Clusters and vascular chains use only candidates at
        ``ClusterConfig.min_member_confidence`` (:mod:`mammo_cv.pipeline.analysis`), so it adds
        calcifications beside groups, never a group or a chain.
    """

    noise_equalization: bool = True
    noise_sample_mm: float = 0.5
    noise_curve_bins: int = 16
    tophat_diameters_mm: tuple[float, ...] = (0.5, 1.2, 3.0, 10.0)
    kernel_px_target: int = 11
    noise_cell_mm: float = 4.0
    noise_window_mm: float = 20.0
    noise_floor_fraction: float = 0.5
    seed_snr: float = 4.5
    grow_snr: float = 3.0
    half_max_fraction: float = 0.5
    min_area_mm2: float = 0.00785
    whole_min_diameter_mm: float = 1.2
    whole_core_fraction: float = 0.6
    whole_min_core_share: float = 0.75
    max_area_mm2: float = 80.0
    whole_edge_max_mm: float = 0.3
    psf_excess_sigma: float = 3.0
    soft_edge_min_mm: float = 0.5
    soft_edge_spare_confidence: float = 10.0
    coarse_solid_min_diameter_mm: float = 1.0
    coarse_solid_edge_max_mm: float = 0.35
    skin_margin_mm: float = 5.0
    pectoral_margin_mm: float = 2.0
    elongation_free: float = 20.0
    scale_weights: tuple[float, ...] = (1.0, 0.5, 0.25, 0.25)
    sharpness_sigma_mm: float = 0.06
    sharpness_min_sigma_px: float = 0.5
    sharpness_max_penalty: float = 3.0
    log_weight: float = 1.0
    min_confidence: float = 6.0
    isolated_min_confidence: float = 10.0
    isolated_max_diameter_mm: float = 0.5
    context_min_confidence: float = 4.5
    context_radius_mm: float = 5.0
    context_min_neighbours: int = 3

    def __post_init__(self) -> None:
        if not self.tophat_diameters_mm or min(self.tophat_diameters_mm) <= 0:
            raise ValueError(f"tophat_diameters_mm must be positive, got {self.tophat_diameters_mm}")
        if not 0 < self.grow_snr <= self.seed_snr:
            raise ValueError(f"need 0 < grow_snr <= seed_snr, got {self.grow_snr}, {self.seed_snr}")
        if not 0 < self.half_max_fraction < 1:
            raise ValueError(f"half_max_fraction must be in (0, 1), got {self.half_max_fraction}")
        if self.whole_min_diameter_mm <= 0:
            raise ValueError(f"whole_min_diameter_mm must be positive, got {self.whole_min_diameter_mm}")
        if not self.half_max_fraction <= self.whole_core_fraction < 1 or not 0 <= self.whole_min_core_share <= 1:
            raise ValueError("need half_max_fraction <= whole_core_fraction < 1 and 0 <= whole_min_core_share <= 1, "
                             f"got {self.whole_core_fraction}, {self.whole_min_core_share}")
        if not 0 <= self.min_area_mm2 < self.max_area_mm2:
            raise ValueError("need 0 <= min_area_mm2 < max_area_mm2")
        if self.sharpness_sigma_mm <= 0 or self.sharpness_min_sigma_px <= 0:
            raise ValueError("sharpness_sigma_mm and sharpness_min_sigma_px must be positive")
        if self.log_weight < 0:
            raise ValueError(f"log_weight must be >= 0, got {self.log_weight}")
        if self.context_radius_mm < 0 or self.context_min_neighbours < 1:
            raise ValueError("need context_radius_mm >= 0 and context_min_neighbours >= 1, got "
                             f"{self.context_radius_mm}, {self.context_min_neighbours}")
        if len(self.scale_weights) != len(self.tophat_diameters_mm):
            raise ValueError(f"scale_weights needs one weight per tophat_diameters_mm, got {len(self.scale_weights)} "
                             f"for {len(self.tophat_diameters_mm)} scales")


@dataclass(frozen=True)
class Detections:
    """Calcification candidates of one image, in its stored pixel grid.

    Attributes
    ----------
    label_image : (M, N) ndarray of int32
        0 = background, k = candidate k (1-based).
    confidence : (n,) ndarray of float32
        Monotone "how sure" score of candidate k at index k-1: peak of the scale-weighted SNR
        (``config.scale_weights``), at most the peak sharpness SNR (``config.sharpness_sigma_mm``)
        but at least ``config.log_weight`` x that -LoG SNR at the peak, down-weighted for
        elongation; >= ``config.min_confidence``, or >= ``config.context_min_confidence``
        beside confident candidates (the context threshold).
    peak_snr : (n,) ndarray of float32
        Peak top-hat response over the local noise sigma, all scales (sigma units).
    area_px : (n,) ndarray of int64
        Pixel count of each candidate.
    peak_rc : (n, 2) ndarray of int64
        (row, col) of each candidate's SNR peak, in px.
    elongation : (n,) ndarray of float32
        Major/minor axis ratio from second moments (>= 1).
    config : DetectionConfig
    """

    label_image: np.ndarray
    confidence: np.ndarray
    peak_snr: np.ndarray
    area_px: np.ndarray
    peak_rc: np.ndarray
    elongation: np.ndarray
    config: DetectionConfig = field(default_factory=DetectionConfig)

    def __len__(self) -> int:
        return int(self.confidence.shape[0])


def _empty(shape: tuple[int, int], config: DetectionConfig) -> Detections:
    """No candidate: zero-length arrays and an all-zero (M, N) int32 label image of ``shape``."""
    return Detections(
        label_image=np.zeros(shape, np.int32),
        confidence=np.zeros(0, np.float32),
        peak_snr=np.zeros(0, np.float32),
        area_px=np.zeros(0, np.int64),
        peak_rc=np.zeros((0, 2), np.int64),
        elongation=np.zeros(0, np.float32),
        config=config,
    )


def _breast_box(image: MammoImage, breast_mask: np.ndarray, config: DetectionConfig) -> tuple[slice, slice] | None:
    """The bounding box of the breast padded by the largest top-hat kernel, as (rows, cols)
    slices; None, with a ``RuntimeWarning`` naming the file and the problem, when the breast
    mask is empty or the image is smaller than twice the smallest kernel."""
    rows_any = np.flatnonzero(breast_mask.any(axis=1))
    cols_any = np.flatnonzero(breast_mask.any(axis=0))
    min_side_px = 2 * odd_kernel_px(min(config.tophat_diameters_mm), image.spacing_mm)
    if rows_any.size == 0 or min(image.shape) < min_side_px:
        problem = ("the breast mask is empty" if rows_any.size == 0 else
                   f"the image ({image.shape[0]} x {image.shape[1]} px) is smaller than {min_side_px} px")
        # stacklevel 3: the warning names the caller of detect_calcifications
        warnings.warn(f"{image.source_path or 'image'}: no detection, {problem}", RuntimeWarning, stacklevel=3)
        return None
    pad = odd_kernel_px(max(config.tophat_diameters_mm), image.spacing_mm)
    r0, r1 = max(0, rows_any[0] - pad), min(image.shape[0], rows_any[-1] + 1 + pad)
    c0, c1 = max(0, cols_any[0] - pad), min(image.shape[1], cols_any[-1] + 1 + pad)
    return slice(r0, r1), slice(c0, c1)


def _label_image(shape: tuple[int, int], regions: _Regions, candidates: _Candidates, kept: np.ndarray,
                 origin: tuple[int, int]) -> np.ndarray:
    """(M, N) int32 label image of the ``kept`` candidates (indices 0..n-1), relabelled 1..k in
    their order; ``origin`` is the (row, col) of the regions' cropped grid in the image."""
    lut = np.zeros(candidates.n_labels, np.int32)
    lut[kept + 1] = np.arange(1, kept.size + 1, dtype=np.int32)
    label_image = np.zeros(shape, np.int32)
    label_image[regions.rr[candidates.at] + origin[0], regions.cc[candidates.at] + origin[1]] = lut[candidates.label]
    return label_image


def detect_calcifications(image: MammoImage, anatomy: Anatomy, *,
                          config: DetectionConfig | None = None) -> Detections:
    """Find calcification candidates in one mammogram.

    Parameters
    ----------
    image : MammoImage
        ``pixels`` (M, N) float32, larger = more attenuation.
    anatomy : Anatomy
        Breast and pectoral masks of the same (M, N) grid.
    config : DetectionConfig, optional
        Thresholds; the defaults when None.

    Returns
    -------
    Detections
        Label image (M, N) int32 and per-candidate arrays; zero-length arrays and an all-zero
        label image when nothing is found, and also (with a ``RuntimeWarning`` naming the file
        and the problem) when the breast mask is empty or the image is too small.

    Examples
    --------
    >>> from mammo_cv.anatomy.landmarks import find_anatomy
    >>> from mammo_cv.synthetic.phantoms import phantom
    >>> image = phantom(spacing_mm=0.2, seed=1).image
    >>> dets = detect_calcifications(image, find_anatomy(image))
    >>> int(dets.label_image.max()) == len(dets) > 0
    True
    >>> keep = dets.confidence >= 8.0
    """
    config = config or DetectionConfig()
    if anatomy.breast_mask.shape != image.shape:
        raise ValueError(f"anatomy grid {anatomy.breast_mask.shape} != image grid {image.shape}")
    box = _breast_box(image, anatomy.breast_mask, config)
    if box is None:
        return _empty(image.shape, config)
    spacing_mm = mean_spacing_mm(image.spacing_mm)
    mask = anatomy.breast_mask[box]  # row-strided views: OpenCV reads them without a copy
    pixels = image.pixels[box]
    if config.noise_equalization:
        pixels = equalize_noise(pixels, mask, spacing_mm, sample_mm=config.noise_sample_mm,
                                bins=config.noise_curve_bins)
    snr, weighted, sharp = _response_maps(pixels, mask, spacing_mm, config)
    # outside the allowed zone before any region grows: the skin line's response (SNR 140-440)
    # would otherwise set the half-maximum cut of everything connected to it
    allowed = _allowed_zone(anatomy, box, spacing_mm, config).view(np.uint8).astype(np.float32)
    for response in (snr, weighted, sharp):
        if response is not None:
            response *= allowed  # 0 outside, unchanged inside: one pass, not a boolean scatter
    del allowed
    regions = _hysteresis_regions(snr, weighted, sharp, pixels, config)
    del snr, weighted, sharp  # the regions keep the values they need
    candidates = None if regions is None else _candidates(regions, image.spacing_mm, config)
    if candidates is None:
        return _empty(image.shape, config)
    # where the pixels are too coarse for the sharpness test, the edge blur stands in for it
    coarse = regions.sharp is None
    soft_test = coarse and math.isfinite(config.soft_edge_min_mm)
    whole = _whole(candidates)
    edge_mm = (_edge_sigma_mm(pixels, regions, candidates, spacing_mm) if coarse or whole.any()
               else np.full(candidates.n_labels - 1, np.inf))
    solid = whole & (edge_mm <= config.whole_edge_max_mm)
    if coarse:
        macro_px = disk_area_px(config.coarse_solid_min_diameter_mm, image.spacing_mm)
        solid |= (_areas(candidates) >= macro_px) & (edge_mm <= config.coarse_solid_edge_max_mm)
    scores = _scores(regions, candidates, solid, config)
    origin = (box[0].start, box[1].start)
    crop_rc = np.stack([regions.rr[scores.peak_at], regions.cc[scores.peak_at]], axis=1)
    removed = _sharper_than_psf(pixels, mask, crop_rc, spacing_mm, image_kind(image), config.psf_excess_sigma)
    if soft_test:
        lump_px = disk_area_px(config.whole_min_diameter_mm, image.spacing_mm)
        removed |= _soft(scores.area_px, edge_mm, scores.score, lump_px, config.soft_edge_min_mm,
                         config.soft_edge_spare_confidence)
    peak_rc = crop_rc + np.asarray(origin)
    reported, confidence = _selected(scores, peak_rc, removed, image.spacing_mm, config)
    kept = np.flatnonzero(reported)
    return Detections(
        label_image=_label_image(image.shape, regions, candidates, kept, origin),
        confidence=confidence[kept].astype(np.float32),
        peak_snr=scores.peak_snr[kept].astype(np.float32),
        area_px=scores.area_px[kept].astype(np.int64),
        peak_rc=peak_rc[kept].astype(np.int64),
        elongation=scores.elongation[kept].astype(np.float32),
        config=config,
    )
