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
finder. Candidates near the skin line, on or along the pectoral muscle and outside the breast
are removed; elongated candidates are down-weighted, not removed.

This module holds the settings, the result and :func:`detect_calcifications`, which composes
the steps: :mod:`.noise` (equalisation), :mod:`.scales` (response maps), :mod:`.segmentation`
(hysteresis regions, pieces, whole objects) and :mod:`.selection` (confidence, removal, context
threshold).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from mammo_cv.core.types import Anatomy, MammoImage
from mammo_cv.core.units import mean_spacing_mm, odd_kernel_px
from mammo_cv.detection.noise import equalize_noise
from mammo_cv.detection.scales import _response_maps
from mammo_cv.detection.segmentation import _Candidates, _candidates, _hysteresis_regions, _Regions
from mammo_cv.detection.selection import _scores, _selected

__all__ = ["DetectionConfig", "Detections", "detect_calcifications"]


@dataclass(frozen=True)
class DetectionConfig:
    """Every threshold of the detector, in mm, mm^2 or noise-sigma units.

    Attributes
    ----------
    noise_equalization : bool
        Variance-stabilise the pixels before any filter (:func:`mammo_cv.detection.noise.equalize_noise`):
        quantum noise grows with attenuation (fewer photons behind dense tissue; film grain
        likewise with density), by 2.7x from the fattiest to the densest decile of a phantom breast, far
        faster than the noise cells below can follow. Without it the 7-sigma candidates on
        calc-free phantoms were mostly noise peaks in dense lumps (at 0.07 mm, seed 1500: 76
        candidates >= 5 sigma, 4 with it). With it the operating point could come down from 7
        to 6 sigma (``min_confidence``): held-out seeds 100-104, 0.15-0.3 mm recall 0.725 /
        0.800 -> 0.825 / 0.825 (0.07 / 0.1 mm), >= 0.3 mm 0.971 / 0.977 -> 0.994 / 0.988,
        calc-free false detections 0.4 / 0.4 -> 0.2 / 0.0 per image; mini-MIAS 11/13 lesions at
        0.90 -> 12/13 at 0.87 false clusters per image.
    noise_sample_mm : float
        The noise-versus-grey curve samples one pixel per cell of this side: its local mean grey
        is the cell's mean, its noise sample the difference from its 8 neighbours (white noise
        passes, structures wider than a few pixels do not).
    noise_curve_bins : int
        Equal-count grey bins of that curve; each bin's sigma is 1.4826 x MAD, robust to the
        calcifications and edges among its samples.
    tophat_diameters_mm : tuple of float
        Diameters of the elliptical top-hat kernels. A bright object narrower than the kernel
        survives the top-hat. 0.5 and 1.2 mm cover micro-calcifications (0.1-1 mm, BI-RADS 5th
        ed.); 3 and 10 mm cover macro-calcifications up to ~10 mm (the "large-scale path").
    kernel_px_target : int
        Kernel width in working pixels: a scale whose kernel would be wider than this at the
        native spacing runs on an image area-downsampled so that it is about this wide
        (speed; a kernel of ~9 px still resolves its object, measured on synthetic disks).
    noise_cell_mm : float
        Side of the coarse grid cells on which the RMS of each top-hat response is computed.
    noise_window_mm : float
        Side of the window over which the median of the cell RMS gives the local noise sigma.
        A cluster is <= 10-20 mm (BI-RADS), so a median over ~20 mm is not raised by it, yet it
        follows the change between fatty and dense tissue.
    seed_snr : float
        A candidate needs a peak SNR >= this (sigma units) in the top-hat or the -LoG finder.
        4.5 = ``context_min_confidence``: faint candidates are reported only beside confident
        ones (the context threshold); a higher seed would cap that threshold. Candidates at
        ``min_confidence`` and above do not depend on it (regions seeded at 4.5-5 are separate
        hysteresis regions).
    grow_snr : float
        Pixels with SNR >= this join a seed (hysteresis low threshold, sigma units).
    half_max_fraction : float
        A candidate keeps only the pixels whose value is >= its region's minimum plus this
        fraction of its (maximum - minimum): full width at half maximum, so that its area
        depends neither on its contrast nor on the scale that found it.
    min_area_mm2, max_area_mm2 : float
        Area limits. 80 mm^2 is a 10 mm disk, the largest macro-calcification the large path
        looks for. The minimum is 0 (every candidate keeps at least its peak pixel): the area
        tested is the full width at half maximum in grey, which for a faint 0.15-0.3 mm
        calcification is set by the per-pixel noise, often 1 px at 0.07 mm. The former 0.008
        mm^2 (a 0.1 mm disk) acted only at spacings below 0.09 mm (elsewhere it is under 1 px)
        and there removed found calcifications: dev seeds 500-519 at 0.07 mm, 9 of the 10
        0.15-0.3 mm calcifications with top-hat SNR >= 5 but no candidate; 0.15-0.3 mm recall
        0.620 -> 0.633, >= 0.3 mm 0.962 -> 0.963, calc-free false detections 0.60 -> 0.60.
    whole_min_diameter_mm : float
        A large calcification is segmented whole: the grey full width at half maximum of its
        hysteresis region joins the pieces it touches when its area is at least that of a disk
        of this diameter. Flat-topped (saturated) macro-calcifications otherwise came out as
        edge pieces (their SNR peaks at the edges, where the small scales respond). 1.2 mm, the
        largest full-resolution top-hat: narrower objects are found whole by it, and smaller
        regions only merged neighbouring cluster members (mini-MIAS mdb223 lost a cluster).
    whole_core_fraction, whole_min_core_share : float
        ... and only when the blob is ONE object: at least ``whole_min_core_share`` of its pixels
        lie on its plateau, grey >= ``whole_core_fraction`` of the way from the background to the
        blob's own maximum. A calcification is solid with a sharp edge, so its plateau fills its
        half-maximum region (phantom popcorn, coarse, rim and secretory objects of 2-10 mm:
        share >= 0.81 at 0.6, seeds 400-403); neighbouring micro-calcifications joined through
        dense tissue leave their dim gaps in it (the mini-MIAS mdb241 malignant cluster: 0.31,
        17 separate cores). 0.75 sits between them; on the mini-MIAS dev set 0.65 / 0.75 / 0.85
        labelled 5/6 / 6/6 / 6/6 malignant groups suspicious at 0.81 / 0.90 / 1.03 false
        clusters per image (scripts/evaluate_classification.py).
    skin_margin_mm : float
        Candidates whose peak lies closer than this to the breast-mask edge are removed (skin
        line, dermal folds and the mask border itself; skin calcifications are benign anyway).
        5 mm: a quarter of the mini-MIAS false candidates lie within 6 mm of the mask edge,
        and no annotated cluster inside the mask lies closer than 10 mm.
    pectoral_margin_mm : float
        Candidates on the pectoral muscle or within this distance of it are removed (the
        muscle edge and its fibres are the main source of bright ridges on MLO views).
    elongation_free : float
        Elongation (major/minor axis ratio) up to which confidence is not reduced; beyond it
        confidence falls as (elongation_free / elongation). 20: secretory rods (0.5-1.5 mm
        wide, 3-10 mm long) and vascular fragments reach ~20:1. A 3:1 limit cost 0.22 of the
        phantom recall for calcifications >= 0.3 mm (vascular, secretory, fine-linear ones)
        while lowering the mini-MIAS false clusters only from 0.90 to 0.69 per image.
    noise_floor_fraction : float
        On the scales that run on a downsampled pyramid level (the coarse, macro path), the
        sigma used for confidence is at least this fraction of its median over the breast:
        averaging removes the quantum noise there, and in the smooth fatty periphery the local
        RMS fell so low that glandular edges reached SNR 300-1900 on calc-free phantoms.
        Segmentation keeps the local sigma. 0.5 took the calc-free false detections at 0.1 mm
        from 4.1 to 2.0 per image with the same recall and the same mini-MIAS operating point.
    scale_weights : tuple of float
        Confidence is the largest of ``weight x SNR`` over the scales (one weight per entry of
        ``tophat_diameters_mm``). The top-hat noise sigma is set by the quantum noise or film
        grain, but glandular texture (1/f^3, heavy-tailed) adds outliers that grow with the
        scale: on calc-free phantoms the 3 and 10 mm scales exceed 7 sigma at 280 and 1800 ppm
        of breast pixels against 4 and 18 ppm for the 0.5 and 1.2 mm ones. 0.25 at 3 and 10 mm
        means a macro-calcification must be 4x as far out as a micro one (a uniform 5 mm disk
        at 10 noise sigma reaches ~100 sigma at 10 mm after the pyramid's averaging; glandular
        lumps reach 10-20). 0.5 at 1.2 mm: the calc-free phantom false detections at confidence
        7-10 are 1-mm texture lumps found at that scale (0.5 mm SNR 3-5), while calcifications
        of 0.15-0.5 mm peak at the 0.5 mm scale and 0.5-1 mm ones reach 20-50 sigma at 1.2 mm.
        It took calc-free false detections from 8.0 / 11.1 to 0.4 / 4.1 per image (0.07 /
        0.1 mm, seeds 200-207) with the same recall; mini-MIAS: 11/13 at 0.84 (was 0.90) FP
        clusters per image.
    sharpness_sigma_mm : float
        Scale of the sharpness test: confidence is at most the largest scale-normalised
        Laplacian-of-Gaussian response (sigma^2 x -LoG) over the candidate, divided by its own
        local noise sigma (same cells and window as the top-hats). sigma = r / sqrt(2) is the
        LoG's matched scale for a disk of radius r (Lindeberg 1998); 0.06 mm matches a 0.17 mm
        calcification, the middle of the hardest band (0.15-0.3 mm, blurred by the detector).
        On noise-equalised dev seeds 500-519 at operating point 6: 0.05 / 0.06 / 0.07 / 0.08 mm
        gave 0.15-0.3 mm recall 0.747 / 0.753 / 0.747 / 0.734 at 0.07 mm with 0.00 / 0.05 /
        0.45 / 1.65 false detections per calc-free image. Calcifications are sharp-edged (the
        phantom's 0.03 mm presampling blur; film: the grain-limited edge), glandular lumps are
        soft (0.5-1 mm), so the LoG at this
        scale keeps the former and not the latter. On calc-free phantoms at 0.1 mm (seeds
        1300-1309) the false detections at confidence >= 7 were such lumps (top-hat SNR 7-9,
        LoG SNR median 5.8); the test took them from 6.5 to 0.4 per image and kept 57/57
        detected calcifications < 0.3 mm and 461/462 >= 0.3 mm (seeds 300-309).
    sharpness_min_sigma_px : float
        The sharpness test runs only when ``sharpness_sigma_mm`` is at least this many pixels
        (spacing <= 0.14 mm): coarser pixels are wider than a calcification's edge, so lumps
        and calcifications look equally sharp. On mini-MIAS (0.2 mm film) a LoG of 0.5-1.5 px
        lowered the default operating point from 11/13 to 0-5/13 clusters, so there the
        confidence is the weighted top-hat SNR alone.
    sharpness_max_penalty : float
        The sharpness cap lowers a confidence by at most this (sigma units). On white noise the
        LoG at <= 1 px is a poor filter: a 1.5 mm disk at 10 sigma per pixel (top-hat SNR 40)
        has a sharpness SNR of only ~7, so an unbounded cap would drop clear calcifications.
        The texture lumps sit at confidence 7-9, so a penalty of 3 removes them
        (measured on the seeds above).
    log_weight : float
        Second candidate finder, where the sharpness test runs: the scale-normalised -LoG at
        ``sharpness_sigma_mm`` is the matched filter for a small blurred disk in white noise
        (optimal linear detector), so a hysteresis region of the top-hat SNR (>= ``grow_snr``)
        is also seeded where its -LoG SNR reaches ``seed_snr``, and a candidate's confidence
        is at least ``log_weight`` x its -LoG SNR at its top-hat peak (3 x 3 px would add no
        recall). Before noise equalisation the "sharp texture spots" at -LoG SNR 7-9 (noise
        peaks in dense tissue) forced a weight of 0.75; after it, on dev seeds 500-519 at
        operating point 6 and sigma 0.06 mm: 0.15-0.3 mm recall at 0.07 / 0.1 mm 0.753 / 0.785
        at 1.0 (false 0.05 / 0.00 per clean image), 0.810 / 0.797 at 1.1 (false 0.70 / 0.15),
        0.835 / 0.829 at 1.2 (false 3.1 / 1.1). 1.0: the matched filter counts as much as the
        top-hat. Off at 0.2 mm (sharpness test off).
    min_confidence : float
        Reporting operating point: only candidates with confidence >= this are labelled. 6 =
        ``ClusterConfig.min_member_confidence``, so that every candidate a cluster may use is
        reported; 0 keeps every candidate above the seed (for FROC scripts). With noise
        equalisation, on dev seeds 500-519 (0.07 / 0.1 mm): 7 gave 0.15-0.3 mm recall 0.639 /
        0.715 at 0.00 / 0.05 false per clean image, 6 gave 0.684 / 0.772 at 0.05 / 0.05 and 5
        gave 0.753 / 0.829 at 3.1 / 3.4 (the one-sided 5-sigma Gaussian tail over ~7 M px).
    context_min_confidence, context_radius_mm, context_min_neighbours : float, float, int
        Context threshold: a candidate with confidence between ``context_min_confidence`` and
        ``min_confidence`` is reported too when at least ``context_min_neighbours`` candidates
        at ``min_confidence`` or more lie within ``context_radius_mm`` of its peak.
        Micro-calcifications that matter come in groups (BI-RADS: >= 5 within 1 cm), so a faint
        spot beside confident ones is far likelier to be one than the same spot alone, and the
        4.5-sigma noise tail that makes 4.5 unusable over a whole breast (~7 M px) is searched
        only in the few discs of 5 mm around confident groups. 5 mm = half of the 1 cm group; 3
        neighbours plus the faint one make 4 within it. No effect when ``context_min_confidence
        >= min_confidence``. On dev seeds 500-519 (0.07 / 0.1 mm), 0.15-0.3 mm recall 0.753 /
        0.785 -> 0.861 / 0.886 and >= 0.3 mm 0.971 / 0.971 -> 0.979 / 0.976, false detections
        per calc-free image unchanged (0.05 / 0.00), per image with calcifications 0.10 / 0.00
        -> 0.55 / 0.00. Other settings: 2 neighbours 0.861 / 0.886 at 0.75 / 0.05 false per
        image with calcifications, 1 neighbour 2.45 / 0.35; radius 4 mm 0.854 / 0.880 at 0.30 /
        0.00; threshold 5 (2 neighbours) 0.829 / 0.829 at 0.20 / 0.00. Clusters and vascular
        chains are built from candidates at ``ClusterConfig.min_member_confidence`` only
        (:mod:`mammo_cv.pipeline.analysis`), so the threshold adds calcifications beside groups, never a
        group or a chain. Attaching the faint ones to the cluster beside them was measured and
        not kept: held-out seeds 1000-1019, macro-F1 0.964 -> 0.957 (faint false detections took
        a cluster's macro label).
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
    min_area_mm2: float = 0.0
    whole_min_diameter_mm: float = 1.2
    whole_core_fraction: float = 0.6
    whole_min_core_share: float = 0.75
    max_area_mm2: float = 80.0
    skin_margin_mm: float = 5.0
    pectoral_margin_mm: float = 2.0
    elongation_free: float = 20.0
    scale_weights: tuple[float, ...] = (1.0, 0.5, 0.25, 0.25)
    sharpness_sigma_mm: float = 0.06
    sharpness_min_sigma_px: float = 0.5
    sharpness_max_penalty: float = 3.0
    log_weight: float = 1.0
    min_confidence: float = 6.0
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
    regions = _hysteresis_regions(snr, weighted, sharp, pixels, config)
    del snr, weighted, sharp  # the regions keep the values they need
    candidates = None if regions is None else _candidates(regions, image.spacing_mm, config)
    if candidates is None:
        return _empty(image.shape, config)
    scores = _scores(regions, candidates, config)
    origin = (box[0].start, box[1].start)
    peak_rc = np.stack([regions.rr[scores.peak_at] + origin[0], regions.cc[scores.peak_at] + origin[1]], axis=1)
    reported, confidence = _selected(scores, peak_rc, anatomy, image.spacing_mm, config)
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
