"""Lesion insertion: calcifications of known shape, place and contrast in real mammograms.

A real normal mammogram keeps its own anatomy, noise, texture and artefacts; calcifications of
every kind of :data:`mammo_cv.synthetic.phantoms.CALC_KINDS` are added at known positions, with
a truth record and a label image, so that detection can be measured on real backgrounds.

The approach follows the insertion of simulated calcification clusters into normal FFDM images
of Shaheen et al. 2011 (Med Phys 38:6659, "The simulation of 3D microcalcification clusters in
2D digital mammography and breast tomosynthesis") and Warren et al. 2012 (Med Phys 39:3202,
"Effect of image quality on calcification detection in digital mammography"): the lesion is a
map of calcium path length, turned into an exposure change by attenuation and scatter, blurred
by the system's presampling blur, and applied in the image's own signal domain, where the
background's noise stays as it was (Mackenzie et al. 2012, Med Phys 39:2721, on adapting
noise and sharpness; here neither is changed).

Model, per calcification
------------------------
1. Shape and placement: the phantom generator's own calcification generators
   (``mammo_cv.synthetic.phantoms._gen_*``, with its BI-RADS size ranges, its placement
   without overlap and its cluster geometry), driven by the real breast: the breast mask of
   :func:`mammo_cv.anatomy.find_anatomy` less the pectoral muscle, ``skin_margin_mm`` from
   its edge, in the phantom's canonical frame (chest wall on the left).
2. Calcium thickness t (mm) at ``supersample`` x the pixel resolution: the phantom's
   rasteriser (``phantoms._draw_calc``: the chord of an ellipsoid-like profile through the
   outline, capped at ``PhantomConfig.calc_max_thickness_mm``), times a thickness scale
   ``s`` in (0, 1] (s = 1: solid hydroxyapatite filling the outline's depth).
3. Transmission with scatter: T = 1 - (1 - exp(-mu s t)) / (1 + SPR), mu = 2.07 /mm
   (hydroxyapatite, 3.16 g/cm^3, at 20 keV: ``PhantomConfig.mu_calc_per_mm``, Elam et al.
   2002 tables) and a scatter-to-primary ratio SPR = 0.2 behind 4-6 cm of breast with a grid
   (``PhantomConfig.scatter_to_primary``, Boone et al. 2000, Med Phys 27:1818).
4. Blur: T - 1 is convolved with a Gaussian PSF derived from the image's measured noise blur
   (:func:`mammo_cv.core.psf.psf_sigma_mm`: the noise blur for FFDM, plus the
   screen's blur for film, the kind's default when unresolved); then area-averaged to the
   pixel grid (the pixel aperture).
5. Grey: ln T per pixel in the image's grey scale (:class:`mammo_cv.synthetic.contrast.GreyScale`:
   linear, log or film), summed over overlapping blur tails; rounded to integers and clipped
   to the stored range; float32 like every ``MammoImage``.

Contrast spread: each calcification gets a target contrast-to-noise ratio drawn log-uniform in
``snr_range`` (members of a group around a group level), and ``s`` is solved by bisection so
that its peak grey change over the local per-pixel noise sigma reaches it, capped at s = 1
(a target above what solid calcium gives is not reached: the measured SNR is recorded).
SNR = peak |grey change| / per-pixel noise sigma measured on the untouched background in a
window of ``noise_window_mm`` around the object (:meth:`NoiseModel.sigma_at`).

Truth conventions are the phantom's (:mod:`mammo_cv.synthetic.phantoms`): (row, col) px of the
stored grid, pixel i centred at i x spacing mm; ``length_mm`` the greatest dimension,
``width_mm`` the calibre of linear kinds, ``angle_deg`` counter-clockwise from +col as
displayed, None for isotropic kinds.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from mammo_cv.anatomy import find_anatomy
from mammo_cv.core.psf import NoiseModel, measure_noise, psf_sigma_mm
from mammo_cv.core.types import Anatomy, ChestWallSide, MammoImage
from mammo_cv.synthetic.contrast import GreyScale, grey_scale_of
from mammo_cv.synthetic.phantoms import (
    _ISOTROPIC_KINDS,
    KIND_TO_LABEL,
    PhantomConfig,
    _Calc,
    _curve_points,
    _draw_calc,
    _feret,
    _gen_flb,
    _gen_macro,
    _gen_pleomorphic,
    _gen_punctate,
    _gen_secretory,
    _gen_vascular,
    _parse_kinds,
    _Placer,
)

__all__ = ["InsertionConfig", "Insertion", "insert_calcifications"]


@dataclass(frozen=True)
class InsertionConfig:
    """Settings of :func:`insert_calcifications` (mm, sigma units).

    Attributes
    ----------
    supersample : int
        Thickness-map resolution: this many sub-pixels per pixel side.
    snr_range : (float, float)
        Target SNR range, log-uniform: 2 is below the Rose visibility threshold (about 5, Rose
        1948), 40 is obvious on any display.
    group_snr_spread : float
        Members of one group draw their target log-uniform within this factor either side of
        the group's level (cluster members differ, but one cluster is faint or obvious as a whole).
    skin_margin_mm : float
        Every calcification lies this far inside the breast edge and off the pectoral muscle:
        beyond the detector's 5 mm skin margin, so a miss is the detector's, not the margin's.
    groups_per_kind : int
        How many clusters of each group kind (pleomorphic, fine-linear-branching, vascular).
    noise_window_mm : float
        Side of the window in which the local noise sigma is measured.
    bisection_steps : int
        Steps of the thickness-scale search (on log s from 1e-4 to 1: 2^-14 of that range).
    min_blur_px : float
        A noise blur below this is not resolved: the kind's default PSF is used.
    phantom : PhantomConfig
        Source of mu, the scatter-to-primary ratio, the thickness cap and the shape settings.
    """

    supersample: int = 4
    snr_range: tuple[float, float] = (2.0, 40.0)
    group_snr_spread: float = 2.0
    skin_margin_mm: float = 8.0
    groups_per_kind: int = 1
    noise_window_mm: float = 6.0
    bisection_steps: int = 14
    min_blur_px: float = 0.3
    phantom: PhantomConfig = field(default_factory=PhantomConfig)

    def __post_init__(self) -> None:
        if int(self.supersample) < 1:
            raise ValueError(f"supersample must be >= 1, got {self.supersample}")
        low, high = self.snr_range
        if not 0 < low <= high:
            raise ValueError(f"snr_range must be 0 < low <= high, got {self.snr_range}")
        if self.group_snr_spread < 1 or self.groups_per_kind < 0 or self.skin_margin_mm < 0:
            raise ValueError("need group_snr_spread >= 1, groups_per_kind >= 0, skin_margin_mm >= 0")


@dataclass(frozen=True)
class Insertion:
    """A real mammogram with inserted calcifications, and their truth.

    Attributes
    ----------
    image : MammoImage
        A new image: the background's pixels plus the calcifications (float32, integer values
        in the stored range); every other field is the background's.
    truth : dict
        JSON-serialisable: ``calcifications`` (id, kind, label, group_id, row_px, col_px,
        row_mm, col_mm, size_mm, length_mm, width_mm, angle_deg, area_mm2, snr, target_snr,
        noise_sigma, thickness_scale, peak_thickness_mm), ``groups``, ``grey``, ``psf_sigma_mm``,
        ``psf_source``, ``noise_blur_px``, ``seed``, ``spacing_mm``, ``shape``.
    labels : (M, N) ndarray of int32
        0 background, k where calcification ``id`` k lies (pixels at least half covered, or
        the best-covered pixel of a smaller one). Read-only.
    """

    image: MammoImage
    truth: dict
    labels: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        labels = np.asarray(self.labels).view()
        labels.setflags(write=False)
        object.__setattr__(self, "labels", labels)


# --------------------------------------------------------------------------------------------
# The real breast, seen by the phantom's placement code (canonical frame, mm)


@dataclass(frozen=True)
class _RealBreast:
    """A real breast with the attributes the phantom's placement reads from ``_Breast``."""

    depth_map_mm: np.ndarray  # (M, N) distance to the breast edge or pectoral muscle, canonical grid
    spacing_mm: float
    center_row_mm: float
    semi_up_mm: float
    semi_down_mm: float
    depth_mm: float
    nipple_mm: tuple[float, float]

    def inside(self, rc_mm: np.ndarray, margin_mm: float) -> np.ndarray:
        """Bool per (row, col) point (mm): at least ``margin_mm`` inside the breast."""
        idx = np.rint(np.asarray(rc_mm, np.float64) / self.spacing_mm).astype(np.int64)
        rows, cols = idx[..., 0], idx[..., 1]
        ok = (rows >= 0) & (cols >= 0) & (rows < self.depth_map_mm.shape[0]) & (cols < self.depth_map_mm.shape[1])
        out = np.zeros(ok.shape, bool)
        out[ok] = self.depth_map_mm[rows[ok], cols[ok]] >= margin_mm
        return out


def _canonical(array: np.ndarray, flip: bool) -> np.ndarray:
    return np.ascontiguousarray(array[:, ::-1]) if flip else array


def _real_breast(anatomy: Anatomy, spacing_mm: float, flip: bool) -> _RealBreast:
    """Placement geometry of ``anatomy`` in the canonical frame (chest wall on the left)."""
    inside = _canonical(anatomy.breast_mask & ~anatomy.pectoral_mask, flip)
    padded = np.pad(inside.view(np.uint8), 1)  # the image border is an edge too
    depth = cv2.distanceTransform(padded, cv2.DIST_L2, 5)[1:-1, 1:-1] * np.float32(spacing_mm)
    rows = np.flatnonzero(inside.any(axis=1))
    cols = np.flatnonzero(inside.any(axis=0))
    if rows.size == 0:
        raise ValueError("the breast mask is empty: nowhere to insert")
    top, bottom = rows[0] * spacing_mm, rows[-1] * spacing_mm
    nipple_r, nipple_c = anatomy.nipple_rc
    if flip:
        nipple_c = inside.shape[1] - 1 - nipple_c
    centre = 0.5 * (top + bottom)
    return _RealBreast(depth, spacing_mm, centre, centre - top, bottom - centre, (cols[-1] + 1) * spacing_mm,
                       (nipple_r * spacing_mm, nipple_c * spacing_mm))


def _generate(breast: _RealBreast, kinds: tuple[str, ...], seed: int, config: InsertionConfig) -> list[_Calc]:
    """Calcifications placed by the phantom's generators in ``breast`` (canonical mm)."""
    cfg = dataclasses.replace(config.phantom, calc_margin_mm=config.skin_margin_mm)
    placer = _Placer(breast, cfg)  # type: ignore[arg-type]  # duck-typed _Breast
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(7)]
    calcs: list[_Calc] = []
    group = 0
    for _ in range(config.groups_per_kind):
        for kind, make in (("pleomorphic", _gen_pleomorphic), ("fine_linear_branching", _gen_flb),
                           ("vascular", None)):
            if kind not in kinds:
                continue
            if make is None:
                vessels = [(_curve_points(streams[6], breast, (0.02, 0.3), (0.05, 0.3), (2.0, 10.0), 0.25),
                            float(streams[6].uniform(*cfg.vessel_width_range_mm))) for _ in range(4)]
                members = _gen_vascular(streams[2], placer, group, vessels)
            else:
                members = make(streams[0 if kind == "pleomorphic" else 1], placer, group)
            group += bool(members)
            calcs += members
    calcs += _gen_macro(streams[3], placer, kinds)
    if "secretory" in kinds:
        calcs += _gen_secretory(streams[4], placer)
    if "punctate" in kinds:
        calcs += _gen_punctate(streams[5], placer)
    return calcs


# --------------------------------------------------------------------------------------------
# One object: thickness map, transmission, blur, grey change


@dataclass(frozen=True)
class _Patch:
    """One calcification rasterised: fine thickness map and the coarse window it falls in."""

    rows: slice
    cols: slice
    thickness_mm: np.ndarray  # (h * ss, w * ss) float32, calcium path at the fine grid
    cover: np.ndarray         # (h, w) float64, fraction of each pixel inside the outline
    centroid_px: tuple[float, float]  # canonical grid
    fine_mm: float            # sub-pixel side


def _rasterise(calc: _Calc, spacing_mm: float, shape: tuple[int, int], margin_px: int,
               config: InsertionConfig) -> _Patch:
    """Thickness map of ``calc`` by the phantom's rasteriser, drawn at ``supersample`` x."""
    ss = int(config.supersample)
    outline_px = calc.outline / spacing_mm
    r0, c0 = (np.floor(outline_px.min(axis=0)).astype(int) - margin_px).tolist()
    r1, c1 = (np.ceil(outline_px.max(axis=0)).astype(int) + margin_px + 1).tolist()
    if r0 < 0 or c0 < 0 or r1 > shape[0] or c1 > shape[1]:
        raise ValueError("calcification patch leaves the image")
    fine_mm = spacing_mm / ss
    # fine pixel j centred at j * fine_mm; fine pixels i*ss .. i*ss+ss-1 tile coarse pixel i
    shift = np.array([r0, c0]) * spacing_mm - 0.5 * (spacing_mm - fine_mm)
    local = dataclasses.replace(calc, polys=[(poly - shift, filled) for poly, filled in calc.polys])
    h, w = r1 - r0, c1 - c0
    thickness = np.zeros((h * ss, w * ss), np.float32)
    inside = np.zeros((h * ss, w * ss), np.int32)
    draw_cfg = dataclasses.replace(config.phantom, supersample=1, mu_calc_per_mm=1.0, calc_density=1.0)
    fr, fc = _draw_calc(thickness, inside, 1, local, fine_mm, draw_cfg)
    cover = (inside > 0).reshape(h, ss, w, ss).mean(axis=(1, 3))
    centroid = (r0 + (fr + 0.5) / ss - 0.5, c0 + (fc + 0.5) / ss - 0.5)
    return _Patch(slice(r0, r1), slice(c0, c1), thickness, cover, centroid, fine_mm)


def _ln_transmission(patch: _Patch, scale: float, grey: GreyScale, psf_sigma_fine_px: float,
                     config: InsertionConfig) -> np.ndarray:
    """(h, w) float64 ln T per pixel of ``patch`` at thickness scale ``scale``."""
    ss = int(config.supersample)
    mu, spr = config.phantom.mu_calc_per_mm, config.phantom.scatter_to_primary
    loss = (1.0 - np.exp(-mu * scale * patch.thickness_mm.astype(np.float64))) / (1.0 + spr)
    if psf_sigma_fine_px > 0:
        loss = cv2.GaussianBlur(loss, (0, 0), psf_sigma_fine_px, borderType=cv2.BORDER_CONSTANT)
    transmission = np.clip(1.0 - loss, 1e-6, 1.0)
    h, w = patch.cover.shape
    if grey.kind == "linear":  # exposure averages over the pixel aperture
        return np.log(transmission.reshape(h, ss, w, ss).mean(axis=(1, 3)))
    return np.log(transmission).reshape(h, ss, w, ss).mean(axis=(1, 3))


def _peak_change(background: np.ndarray, ln_t: np.ndarray, grey: GreyScale) -> float:
    return float(np.max(np.abs(grey.apply(background, ln_t) - background)))


def _solve_scale(patch: _Patch, background: np.ndarray, target_change: float, grey: GreyScale,
                 psf_sigma_fine_px: float, config: InsertionConfig) -> float:
    """Thickness scale in (0, 1] whose peak grey change is ``target_change`` (1 if out of reach)."""
    def change(scale: float) -> float:
        return _peak_change(background, _ln_transmission(patch, scale, grey, psf_sigma_fine_px, config), grey)

    if change(1.0) <= target_change:
        return 1.0
    low, high = math.log(1e-4), 0.0
    for _ in range(config.bisection_steps):
        mid = 0.5 * (low + high)
        low, high = (mid, high) if change(math.exp(mid)) < target_change else (low, mid)
    return math.exp(0.5 * (low + high))


# --------------------------------------------------------------------------------------------
# Public entry point


def _targets(calcs: list[_Calc], rng: np.random.Generator, config: InsertionConfig) -> np.ndarray:
    """Target SNR per calcification: log-uniform, group members around their group's level."""
    low, high = np.log(config.snr_range)
    levels = {c.group_id: float(rng.uniform(low, high)) for c in calcs if c.group_id >= 0}
    spread = math.log(config.group_snr_spread)
    out = []
    for calc in calcs:
        if calc.group_id >= 0:
            out.append(float(np.clip(levels[calc.group_id] + rng.uniform(-spread, spread), low, high)))
        else:
            out.append(float(rng.uniform(low, high)))
    return np.exp(np.asarray(out))


def _object_row(k: int, calc: _Calc, patch: _Patch, flip: bool, width_px: int, spacing_mm: float,
                measured: dict) -> dict:
    """Truth record of one calcification (stored grid)."""
    length, width, angle = _feret(calc.outline)
    width = width if calc.calibre_mm is None else calc.calibre_mm
    row, col = patch.centroid_px
    col = width_px - 1 - col if flip else col
    angle_out = None if calc.kind in _ISOTROPIC_KINDS else round(float((180.0 - angle) % 180.0 if flip else angle), 3)
    area = float(np.count_nonzero(patch.thickness_mm)) * patch.fine_mm ** 2
    return {"id": k, "kind": calc.kind, "label": KIND_TO_LABEL[calc.kind], "group_id": calc.group_id,
            "row_px": float(row), "col_px": float(col), "row_mm": float(row * spacing_mm),
            "col_mm": float(col * spacing_mm), "size_mm": round(length, 4), "length_mm": round(length, 4),
            "width_mm": round(float(width), 4), "angle_deg": angle_out, "area_mm2": round(area, 5), **measured}


def _group_rows(calc_rows: list[dict], calcs: list[_Calc]) -> list[dict]:
    groups = []
    for gid in sorted({c.group_id for c in calcs if c.group_id >= 0}):
        members = [c for c in calcs if c.group_id == gid]
        rows = [r for r in calc_rows if r["group_id"] == gid]
        groups.append({"group_id": gid, "label": KIND_TO_LABEL[members[0].kind], "kind": members[0].kind,
                       "center_rc": [float(np.mean([r["row_px"] for r in rows])),
                                     float(np.mean([r["col_px"] for r in rows]))],
                       "extent_mm": round(_feret(np.concatenate([m.outline for m in members]))[0], 4),
                       "n_calcs": len(members)})
    return groups


def insert_calcifications(image: MammoImage, *, kinds: str | Sequence[str] = "all", seed: int = 0,
                          grey: GreyScale | None = None, anatomy: Anatomy | None = None,
                          config: InsertionConfig | None = None) -> Insertion:
    """Insert calcifications of known shape, position and contrast into a real mammogram.

    Parameters
    ----------
    image : MammoImage
        A normal mammogram (not modified). Isotropic spacing is assumed (the mean is used).
    kinds : "all" or sequence of str
        Kinds or labels of :data:`mammo_cv.synthetic.phantoms.CALC_KINDS`.
    seed : int
        Shapes, places and target contrasts all follow from it.
    grey : GreyScale, optional
        The image's grey scale; default :func:`mammo_cv.synthetic.contrast.grey_scale_of`
        (which needs a film's grey per OD, so pass it for scanned film).
    anatomy : Anatomy, optional
        Of ``image``; found with :func:`mammo_cv.anatomy.find_anatomy` when None.
    config : InsertionConfig, optional

    Returns
    -------
    Insertion
        New image (float32), truth and label image (int32) in the stored grid.

    Examples
    --------
    >>> from mammo_cv.synthetic.phantoms import phantom
    >>> from mammo_cv.synthetic.contrast import film_grey_scale
    >>> background = phantom(spacing_mm=0.2, seed=3, calcifications="none").image
    >>> out = insert_calcifications(background, kinds=["round"], seed=1,
    ...                             grey=film_grey_scale(background, grey_per_od=1000.0))
    >>> {c["label"] for c in out.truth["calcifications"]}, out.image.pixels.dtype
    ({'macro'}, dtype('float32'))
    >>> int(out.labels.max()) == len(out.truth["calcifications"])
    True
    """
    config = config or InsertionConfig()
    anatomy = anatomy or find_anatomy(image)
    spacing = math.sqrt(image.spacing_mm[0] * image.spacing_mm[1])
    flip = anatomy.chest_wall_side is ChestWallSide.RIGHT
    breast = _real_breast(anatomy, spacing, flip)
    interior = breast.depth_map_mm >= 2.0  # canonical grid: noise measured off the skin line
    pixels = _canonical(np.asarray(image.pixels), flip)
    grey = grey or grey_scale_of(image, _canonical(interior, flip))
    noise = measure_noise(pixels, interior)
    psf_mm, psf_source = psf_sigma_mm(noise.blur_sigma_px, grey.kind, spacing, min_blur_px=config.min_blur_px)
    calcs = _generate(breast, _parse_kinds(kinds), seed, config)
    targets = _targets(calcs, np.random.default_rng(np.random.SeedSequence(int(seed)).spawn(8)[7]), config)

    ln_total = np.zeros(pixels.shape, np.float64)
    labels = np.zeros(pixels.shape, np.int32)
    margin_px = 3 + int(math.ceil(4.0 * psf_mm / spacing))
    half_window = max(4, int(round(0.5 * config.noise_window_mm / spacing)))
    psf_fine_px = psf_mm / (spacing / config.supersample)
    rows = []
    for k, (calc, target) in enumerate(zip(calcs, targets), start=1):
        patch = _rasterise(calc, spacing, pixels.shape, margin_px, config)
        measured = _insert_one(patch, target, pixels, interior, noise, grey, psf_fine_px, half_window, config,
                               ln_total)
        drawn = patch.cover >= 0.5
        if not drawn.any():
            drawn = patch.cover == patch.cover.max()
        labels[patch.rows, patch.cols][drawn & (labels[patch.rows, patch.cols] == 0)] = k
        rows.append(_object_row(k, calc, patch, flip, pixels.shape[1], spacing, measured))
    new = np.clip(np.rint(grey.apply(pixels, ln_total)), grey.low, grey.high).astype(np.float32)
    truth = {"schema": 1, "seed": int(seed), "spacing_mm": [spacing, spacing], "shape": list(pixels.shape),
             "grey": grey.to_dict(), "psf_sigma_mm": round(psf_mm, 5), "psf_source": psf_source,
             "noise_blur_px": round(noise.blur_sigma_px, 4), "calcifications": rows, "groups": _group_rows(rows, calcs)}
    return Insertion(image=dataclasses.replace(image, pixels=_canonical(new, flip)), truth=truth,
                     labels=_canonical(labels, flip))


def _insert_one(patch: _Patch, target: float, pixels: np.ndarray, interior: np.ndarray, noise: NoiseModel,
                grey: GreyScale, psf_fine_px: float, half_window: int, config: InsertionConfig,
                ln_total: np.ndarray) -> dict:
    """Solve one object's thickness scale, add its ln T to ``ln_total`` (in place); its measures."""
    row, col = (int(round(v)) for v in patch.centroid_px)
    window = (slice(max(0, row - half_window), row + half_window + 1),
              slice(max(0, col - half_window), col + half_window + 1))
    sigma = noise.sigma_at(*window, interior[window])
    background = pixels[patch.rows, patch.cols]
    scale = _solve_scale(patch, background, target * sigma, grey, psf_fine_px, config)
    ln_t = _ln_transmission(patch, scale, grey, psf_fine_px, config)
    ln_total[patch.rows, patch.cols] += ln_t
    return {"snr": round(_peak_change(background, ln_t, grey) / sigma, 3), "target_snr": round(float(target), 3),
            "noise_sigma": round(sigma, 4), "thickness_scale": round(scale, 5),
            "peak_thickness_mm": round(float(scale * patch.thickness_mm.max()), 5)}
