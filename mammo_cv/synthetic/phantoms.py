"""Synthetic mammograms with known ground truth, for tests, docs and notebooks.

A phantom is built in millimetres in a canonical frame (chest wall on the left column edge)
and rasterised at the requested spacing, so that one ``seed`` gives the same anatomy and the
same calcifications at 0.07 mm and at 0.1 mm. The image model is a linear attenuation line
integral ``A`` at 20 keV (fat, glandular tissue, skin, muscle, vessels, strands, calcium), with
Poisson-like quantum noise at a clinical detector dose and a Gaussian detector blur (constants
cited in :class:`PhantomConfig`), mapped to 12-bit-like values ``offset + gain * A`` (larger =
more attenuation, as in :class:`mammo_cv.core.types.MammoImage`).

Size ranges per calcification kind (rods 3-10 x 0.5-1.5 mm, pleomorphic 0.1-0.5 mm in
< 1 cm, ...) are the BI-RADS 5th-edition descriptors of the lexicon; they are written
where each kind is generated.

Truth conventions (``Phantom.truth``): positions are (row, col) px in the stored grid, with
pixel index i centred at i * spacing mm. Per calcification, ``size_mm`` = ``length_mm`` =
greatest dimension (max Feret) of the drawn outline; ``width_mm`` = calibre for the linear
kinds (secretory, vascular, fine_linear_branching), else the extent perpendicular to the
greatest dimension; ``angle_deg`` = direction of the greatest dimension in [0, 180), degrees
counter-clockwise from +col as displayed (row axis down), None for round/rim/punctate.
Group ``extent_mm`` = greatest dimension of the union of its members.

Examples
--------
>>> from mammo_cv.synthetic.phantoms import phantom
>>> ph = phantom(spacing_mm=0.2, seed=1)
>>> ph.image.pixels.shape, ph.image.pixels.dtype
((1200, 950), dtype('float32'))
>>> sorted({c["label"] for c in ph.truth["calcifications"]})  # doctest: +NORMALIZE_WHITESPACE
['macro', 'punctate', 'secretory', 'suspicious_cluster', 'vascular']
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from mammo_cv.core.psf import FFDM_PSF_SIGMA_MM
from mammo_cv.core.types import ChestWallSide, Laterality, MammoImage, PresentationIntent, View
from mammo_cv.synthetic.glyphs import text_bitmap

__all__ = ["CALC_KINDS", "KIND_TO_LABEL", "CALIBRATED_CALC_DENSITY", "PhantomConfig", "Phantom", "phantom",
           "seed_pose"]

# (laterality, view) of phantom seed k: _POSES[k % 4]
_POSES: tuple[tuple[Laterality, View], ...] = (("L", "CC"), ("R", "CC"), ("L", "MLO"), ("R", "MLO"))

#: ``PhantomConfig.calc_density`` that matches the real calcifications of the development women of
#: mini-MIAS (``python scripts/calibrate_phantoms.py MIAS_DIR --solve``; docs/real-images.md section 8).
CALIBRATED_CALC_DENSITY = 0.459


def seed_pose(seed: int) -> tuple[Laterality, View]:
    """The (laterality, view) the evaluation scripts give phantom ``seed``: L CC, R CC, L MLO, R MLO in turn.

    Examples
    --------
    >>> [seed_pose(k) for k in range(5)]
    [('L', 'CC'), ('R', 'CC'), ('L', 'MLO'), ('R', 'MLO'), ('L', 'CC')]
    """
    return _POSES[seed % len(_POSES)]


#: Calcification kind -> truth label (the classifier's target vocabulary).
KIND_TO_LABEL: dict[str, str] = {
    "secretory": "secretory",
    "vascular": "vascular",
    "coarse": "macro",
    "popcorn": "macro",
    "round": "macro",
    "rim": "macro",
    "dystrophic": "macro",
    "pleomorphic": "suspicious_cluster",
    "fine_linear_branching": "suspicious_cluster",
    "punctate": "punctate",
}
CALC_KINDS: tuple[str, ...] = tuple(KIND_TO_LABEL)
_ISOTROPIC_KINDS = ("round", "rim", "punctate")


@dataclass(frozen=True)
class PhantomConfig:
    """Physical and geometric constants of the phantom (mm, 1/mm, degrees).

    Attenuation coefficients are at about 20 keV from Johns & Yaffe 1987 (Phys. Med. Biol.
    32:675): fat 0.456 /cm, fibroglandular 0.802 /cm; skeletal muscle and skin are taken as
    glandular-like (Hammerstein et al. 1979). The full citation of every other constant is in the
    comment beside its field.

    Attributes
    ----------
    mu_fat_per_mm, mu_gland_per_mm, mu_muscle_per_mm : float
        Linear attenuation of fat, fibroglandular tissue and muscle at 20 keV, 1/mm.
    mu_calc_per_mm : float
        Linear attenuation of calcium hydroxyapatite (3.16 g/cm^3, the mineral of most breast
        calcifications) at 20 keV, 1/mm (Elam, Ravel & Sieber 2002 tables).
    calc_density : float
        Calcium attenuation of a calcification as a fraction of solid hydroxyapatite's, measured
        against real calcifications (:mod:`mammo_cv.synthetic.calibration`); 1 draws solid calcium.
    calc_max_thickness_mm : float
        Cap of the projected calcium path, mm: macro-calcifications saturate rather than overflow 12 bits.
    value_offset, value_gain, max_value : float
        Stored value = ``value_offset + value_gain * A``, clipped to [0, ``max_value``]: a 60-mm fully glandular
        breast plus a capped calcification stays below 4095 (12 bits), and air stays near the offset.
    thickness_range_mm : (float, float)
        Compressed breast thickness, mm (typical range 40-65 mm, Hauge et al. 2012).
    skin_thickness_mm : float
        Skin thickness, mm (Huang et al. 2008).
    detector_air_kerma_uGy, photons_per_mm2_per_uGy, detector_dqe : float
        Quantum noise: the automatic exposure control's air kerma at the detector (uGy), the photon
        fluence per uGy at 20 keV (1/mm^2) and the detector's DQE(0) (Marshall 2009; NIST).
    scatter_to_primary : float
        Scatter-to-primary ratio behind 4-6 cm of breast with a grid (Boone et al. 2000), modelled as
        fewer effective quanta, (1 + SPR)^-2.
    detector_blur_sigma_mm : float
        Gaussian presampling blur beyond the pixel aperture, mm: within 0.01 mm of a-Se at 70 um and CsI
        at 100 um detectors.
    texture_beta, texture_grid_mm, texture_cutoff_mm : float
        Anatomical noise 1/f^beta with beta = 3 (Burgess et al. 2001), generated on a grid of this
        spacing (mm, so that one seed gives the same breast at every pixel spacing), flat below
        1 / ``texture_cutoff_mm``.
    gland_fraction_at_50, gland_fraction_per_year, gland_fraction_range : float, float, (float, float)
        Glandular volume fraction at age 50, its change per year of age, and its clip range (Yaffe et
        al. 2009: median ~0.15, decreasing with age).
    gland_softness : float
        Width of the fat/gland transition, in texture sigma: mottled, not blob-like, parenchyma.
    strand_count_range, strand_width_range_mm, strand_path_mm : (int, int), (float, float), float
        Fibrous strands (sheets seen edge-on): how many, how wide (mm) and the extra glandular path
        length they add (mm).
    vessel_count_range, vessel_width_range_mm : (int, int), (float, float)
        Vessels per breast and their diameter, mm; calcified walls (tram tracks) are then 1-2.7 mm apart.
    pectoral_ramp_mm : float
        The pectoral muscle path reaches full thickness this far inside its edge, mm.
    label_size_mm, label_margin_mm, label_value, label_text_value : (float, float), float, float, float
        Burned-in label: size (rows, cols) and margin from the image edges in mm, background and text
        values.
    calc_margin_mm : float
        Calcifications stay this far inside the skin line and off the chest wall and pectoral, mm.
    clearance_mm, member_gap_mm, punctate_clearance_mm : float
        Clearance between unrelated calcifications, gap between members of one group, and isolation of
        scattered punctate ones (BI-RADS "scattered": far apart), mm.
    supersample : int
        Calcification outlines are drawn on a grid this many times finer than the pixel grid and
        area-averaged: the pixel aperture.
    """

    mu_fat_per_mm: float = 0.0456
    mu_gland_per_mm: float = 0.0802
    mu_muscle_per_mm: float = 0.085
    # Calcium hydroxyapatite Ca10(PO4)6(OH)2 at 3.16 g/cm^3 (the mineral of type II, i.e. most
    # breast, calcifications; Fandos-Morera et al. 1988, Radiology 169:325), at the same 20 keV
    # as the tissue values: mu/rho = 6.56 cm^2/g (Elam, Ravel & Sieber 2002 tables, as in NIST
    # XCOM) -> 2.07 /mm. (17.5 keV: 3.0 /mm; 22 keV: 1.6 /mm; calcium oxalate, type I: 1.0 /mm.)
    mu_calc_per_mm: float = 2.07
    # Real calcifications are mineral aggregates, not solid crystal: their contrast is this fraction
    # of a solid body's of the same outline (scripts/calibrate_phantoms.py; docs/real-images.md).
    calc_density: float = 1.0
    # Projected calcium path is capped: macrocalcifications saturate rather than overflow 12 bits.
    calc_max_thickness_mm: float = 1.2
    # Stored value = offset + gain * A: a 60-mm fully glandular breast (A = 4.81) plus a capped
    # calcification (A = 2.48) stays below 4095 (12 bits); air stays near the offset.
    value_offset: float = 80.0
    value_gain: float = 540.0
    max_value: float = 4095.0
    # Compressed breast thickness, typical range 40-65 mm (Hauge et al. 2012, Eur Radiol).
    thickness_range_mm: tuple[float, float] = (42.0, 60.0)
    # Skin thickness ~1.45 mm (Huang et al. 2008, Med Phys 35:1199).
    skin_thickness_mm: float = 1.45
    # Quantum noise. The automatic exposure control gives ~100 uGy air kerma at the detector
    # behind the breast (Marshall 2009, Phys Med Biol 54:2845: AEC target detector air kerma
    # 100 uGy, DQE(0) 0.5-0.65 for a-Se and CsI FFDM detectors, mean energies 18-25 keV). At
    # 20 keV, 1 uGy of air kerma is 1 / (E (mu_en/rho)_air) = 1 / (3.204e-15 J x 0.0539 m^2/kg)
    # = 5790 photons/mm^2 ((mu_en/rho)_air = 0.539 cm^2/g, Hubbell & Seltzer, NIST).
    detector_air_kerma_uGy: float = 100.0
    photons_per_mm2_per_uGy: float = 5790.0
    detector_dqe: float = 0.55
    # Scatter behind 4-6 cm of breast with an anti-scatter grid: scatter-to-primary ~0.2 (Boone
    # et al. 2000, Med Phys 27:1818: ~0.4-0.6 without grid; a grid passes ~1/3 of it). Scatter
    # divides every contrast by 1 + SPR at the same total quanta: modelled as fewer effective
    # quanta, (1 + SPR)^-2, which gives the same signal-to-noise ratio for every structure.
    scatter_to_primary: float = 0.2
    # Presampling blur beyond the pixel aperture (the aperture itself is the supersampled area
    # average), core.psf.FFDM_PSF_SIGMA_MM: its comment gives the a-Se and CsI sources.
    detector_blur_sigma_mm: float = FFDM_PSF_SIGMA_MM
    # Anatomical noise power spectrum 1/f^beta with beta ~ 3 (Burgess et al. 2001, Med Phys 28:419).
    texture_beta: float = 3.0
    texture_grid_mm: float = 0.4
    texture_cutoff_mm: float = 60.0
    # Glandular volume fraction: median ~0.15, decreasing with age (Yaffe et al. 2009,
    # Breast Cancer Res 11:R60); linear in age, clipped.
    gland_fraction_at_50: float = 0.22
    gland_fraction_per_year: float = -0.004
    gland_fraction_range: tuple[float, float] = (0.06, 0.45)
    # Width (in texture sigma) of the fat/gland transition: soft enough for mottled, not
    # blob-like, parenchyma (visual check against mini-MIAS fatty/glandular cases).
    gland_softness: float = 0.6
    # Fibrous strands are sheets seen edge-on: an effective extra glandular path length.
    strand_count_range: tuple[int, int] = (18, 32)
    strand_width_range_mm: tuple[float, float] = (0.2, 0.5)
    strand_path_mm: float = 4.0
    vessel_count_range: tuple[int, int] = (3, 6)
    # Pectoral muscle path reaches full thickness this far inside its edge.
    pectoral_ramp_mm: float = 30.0
    # Vessel diameter; its calcified walls (vascular tram-tracks) are then 1-2.7 mm apart.
    vessel_width_range_mm: tuple[float, float] = (1.3, 3.0)
    # Burned-in label (rows, cols) and its values.
    label_size_mm: tuple[float, float] = (9.0, 24.0)
    label_margin_mm: float = 4.0
    label_value: float = 3900.0
    label_text_value: float = 600.0
    # Calcifications stay this far inside the skin line and off the chest wall / pectoral.
    calc_margin_mm: float = 6.0
    # Clearance between unrelated calcifications, gap between members of one group, and the
    # isolation of scattered punctate ones (BI-RADS "scattered": far apart).
    clearance_mm: float = 3.0
    member_gap_mm: float = 0.25
    punctate_clearance_mm: float = 10.0
    supersample: int = 4

    def __post_init__(self) -> None:
        if not 0.0 <= self.calc_density <= 1.0:
            raise ValueError(f"calc_density must lie in [0, 1] (a fraction of solid hydroxyapatite), "
                             f"got {self.calc_density}")


@dataclass(frozen=True)
class Phantom:
    """A synthetic mammogram and its ground truth.

    Attributes
    ----------
    image : MammoImage
        float32 pixels in [0, 4095] (12-bit-like, linear in attenuation, larger = more
        attenuation), For Processing, ``spacing_source="phantom"``.
    truth : dict
        JSON-serialisable ground truth (schema 1); positions in px of the stored grid.
    breast_mask : (M, N) ndarray of bool
        True inside the breast (pectoral muscle included). Read-only.
    calc_labels : (M, N) ndarray of int32
        0 background, k where calcification ``id`` k is drawn. Read-only.
    """

    image: MammoImage
    truth: dict
    breast_mask: np.ndarray = field(repr=False)
    calc_labels: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        for name in ("breast_mask", "calc_labels"):
            array = np.asarray(getattr(self, name)).view()
            array.setflags(write=False)
            object.__setattr__(self, name, array)

    def to_stored(self, bits_stored: int = 12, photometric: str = "MONOCHROME2") -> np.ndarray:
        """Pixels as stored DICOM values.

        Parameters
        ----------
        bits_stored : int
            8..16; the 12-bit-like range [0, 4095] is rescaled to [0, 2**bits_stored - 1].
        photometric : {"MONOCHROME2", "MONOCHROME1"}
            MONOCHROME1 stores ``max - value`` (high attenuation dark in the raw values).

        Returns
        -------
        (M, N) ndarray of uint16
        """
        if not 8 <= int(bits_stored) <= 16:
            raise ValueError(f"bits_stored must be in 8..16, got {bits_stored}")
        top = float(2 ** int(bits_stored) - 1)
        scaled = np.clip(self.image.pixels, 0.0, 4095.0) * np.float32(top / 4095.0)
        stored = np.rint(scaled).astype(np.uint16)
        if photometric == "MONOCHROME1":
            return (np.uint16(top) - stored).astype(np.uint16)
        if photometric != "MONOCHROME2":
            raise ValueError(f"photometric must be MONOCHROME1 or MONOCHROME2, got {photometric!r}")
        return stored


# --------------------------------------------------------------------------------------------
# Breast geometry (canonical frame: mm, row down, col away from the chest wall)


@dataclass(frozen=True)
class _Breast:
    center_row_mm: float
    semi_up_mm: float       # row semi-axis above the centre row
    semi_down_mm: float     # row semi-axis below it
    depth_mm: float         # col semi-axis: chest wall to nipple
    thickness_mm: float
    pectoral: tuple[float, float] | None  # (height on chest wall, width on top edge) in mm
    field_rows_mm: float

    def inside(self, rc_mm: np.ndarray, margin_mm: float) -> np.ndarray:
        """Bool per (row, col) point: inside the breast by ``margin_mm``, off the chest wall
        and the pectoral muscle by the same margin."""
        r, c = rc_mm[..., 0], rc_mm[..., 1]
        semi = np.where(r < self.center_row_mm, self.semi_up_mm, self.semi_down_mm) - margin_mm
        rho2 = ((r - self.center_row_mm) / semi) ** 2 + (c / (self.depth_mm - margin_mm)) ** 2
        ok = (rho2 <= 1.0) & (c >= margin_mm) & (r >= margin_mm) & (r <= self.field_rows_mm - margin_mm)
        if self.pectoral is not None:
            ok &= self.pectoral_signed_mm(r, c) <= -margin_mm
        return ok

    def pectoral_signed_mm(self, r: np.ndarray, c: np.ndarray) -> np.ndarray:
        """Signed distance (mm) to the pectoral line, positive inside the muscle."""
        height, width = self.pectoral  # type: ignore[misc]
        return (1.0 - r / height - c / width) / math.hypot(1.0 / height, 1.0 / width)

    @property
    def nipple_mm(self) -> tuple[float, float]:
        return (self.center_row_mm, self.depth_mm)


def _make_breast(rng: np.random.Generator, size_mm: tuple[float, float], oblique: bool,
                 cfg: PhantomConfig) -> _Breast:
    height, width = size_mm
    thickness = float(rng.uniform(*cfg.thickness_range_mm))
    depth = float(rng.uniform(0.62, 0.74) * width)
    if not oblique:
        center = float(rng.uniform(0.46, 0.54) * height)
        semi = float(rng.uniform(0.36, 0.42) * height)
        return _Breast(center, semi, semi, depth, thickness, None, height)
    # MLO: the upper half-ellipse runs out of the top edge (axilla), pectoral triangle there.
    center = float(rng.uniform(0.44, 0.50) * height)
    semi_up = float(center * rng.uniform(1.25, 1.4))
    semi_down = float(rng.uniform(0.90, 0.94) * height - center)
    top_width = depth * math.sqrt(1.0 - (center / semi_up) ** 2)
    pectoral = (float(rng.uniform(0.38, 0.55) * height), float(rng.uniform(0.35, 0.5) * top_width))
    return _Breast(center, semi_up, semi_down, depth, thickness, pectoral, height)


# --------------------------------------------------------------------------------------------
# Shapes: lists of (polygon (K, 2) in mm (row, col), filled?) drawn in order


def _direction(angle_deg: float) -> np.ndarray:
    """Unit (row, col) vector of a display angle (deg counter-clockwise from +col)."""
    theta = math.radians(angle_deg)
    return np.array([-math.sin(theta), math.cos(theta)])


def _disk(center: np.ndarray, diameter_mm: float, n: int = 96) -> np.ndarray:
    phi = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    return center + 0.5 * diameter_mm * np.stack([np.sin(phi), np.cos(phi)], axis=1)


def _rod(center: np.ndarray, length_mm: float, width_mm: float, angle_deg: float) -> np.ndarray:
    """Rod with tapered ends: half-width w/2 * sqrt(1 - |2s/L|^4)."""
    s = np.linspace(-0.5 * length_mm, 0.5 * length_mm, 61)
    half = 0.5 * width_mm * np.sqrt(np.clip(1.0 - np.abs(2.0 * s / length_mm) ** 4, 0.0, None))
    u = _direction(angle_deg)
    normal = np.array([u[1], -u[0]])
    left = center + s[:, None] * u + half[:, None] * normal
    right = center + s[:, None] * u - half[:, None] * normal
    return np.concatenate([left, right[::-1]])


def _stroke(path: np.ndarray, width_mm: float) -> np.ndarray:
    """Polygon of a thick curve through (K, 2) ``path`` points (mm)."""
    tangent = np.gradient(path, axis=0)
    tangent /= np.maximum(np.linalg.norm(tangent, axis=1, keepdims=True), 1e-9)
    normal = np.stack([tangent[:, 1], -tangent[:, 0]], axis=1)
    return np.concatenate([path + 0.5 * width_mm * normal, (path - 0.5 * width_mm * normal)[::-1]])


def _star(rng: np.random.Generator, n_vertices: int, irregularity: float, n: int = 72) -> np.ndarray:
    """Unit-scale irregular outline around the origin: smooth harmonics (n > n_vertices) or an
    angular polygon (n == n_vertices)."""
    if n == n_vertices:
        phi = np.sort(rng.uniform(0.0, 2.0 * np.pi, n_vertices))
        radius = rng.uniform(1.0 - irregularity, 1.0, n_vertices)
    else:
        phi = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
        radius = np.ones(n)
        for k in range(2, 2 + n_vertices):
            radius += rng.uniform(0.0, irregularity) / k * np.cos(k * phi + rng.uniform(0, 2 * np.pi))
    return np.stack([radius * np.sin(phi), radius * np.cos(phi)], axis=1)


def _feret(points: np.ndarray) -> tuple[float, float, float]:
    """(greatest dimension, extent perpendicular to it, its angle in deg) of a point set."""
    points = cv2.convexHull(points.astype(np.float32)).reshape(-1, 2).astype(np.float64)
    diff = points[:, None, :] - points[None, :, :]
    dist2 = np.einsum("ijk,ijk->ij", diff, diff)
    i, j = np.unravel_index(int(np.argmax(dist2)), dist2.shape)
    length = math.sqrt(float(dist2[i, j]))
    u = diff[i, j] / max(length, 1e-12)
    normal = np.array([u[1], -u[0]])
    proj = points @ normal
    angle = math.degrees(math.atan2(-u[0], u[1])) % 180.0
    return length, float(proj.max() - proj.min()), angle


def _scale_to(points: np.ndarray, size_mm: float) -> np.ndarray:
    """Scale a centred outline so that its greatest dimension is ``size_mm``."""
    return points * (size_mm / _feret(points)[0])


@dataclass
class _Calc:
    kind: str
    polys: list[tuple[np.ndarray, bool]]
    group_id: int = -1
    calibre_mm: float | None = None  # stroke width of linear kinds (rods, ducts, vessel walls)

    @property
    def filled(self) -> list[np.ndarray]:
        return [p for p, is_filled in self.polys if is_filled]

    @property
    def outline(self) -> np.ndarray:
        return np.concatenate(self.filled)


# --------------------------------------------------------------------------------------------
# Placement without overlap


class _Placer:
    """Keeps placed calcifications and reserved zones; answers 'does this fit?' in mm."""

    def __init__(self, breast: _Breast, cfg: PhantomConfig) -> None:
        self.breast, self.cfg = breast, cfg
        self.centers = np.zeros((0, 2))
        self.radii = np.zeros(0)
        self.clearances = np.zeros(0)
        self.groups = np.zeros(0, dtype=int)
        self.polys: list[list[np.ndarray] | None] = []

    def fits(self, polys: list[np.ndarray], group: int, clearance: float) -> bool:
        """True when the filled polygons ``polys`` (mm) lie inside the breast by the margin,
        clear of other objects, and at least ``member_gap_mm`` from members of ``group``."""
        outline = np.concatenate(polys)
        if not self.breast.inside(outline, self.cfg.calc_margin_mm).all():
            return False
        center = outline.mean(axis=0)
        radius = float(np.linalg.norm(outline - center, axis=1).max())
        dist = np.linalg.norm(self.centers - center, axis=1)
        same = (self.groups == group) & (group >= 0)
        need = radius + self.radii + np.maximum(self.clearances, clearance)
        if np.any(~same & (dist < need)):
            return False
        gap = self.cfg.member_gap_mm
        for k in np.flatnonzero(same & (dist < radius + self.radii + gap)):
            others = self.polys[k]
            if others is None:
                continue
            other = np.concatenate(others)
            d2 = ((outline[:, None, :] - other[None, :, :]) ** 2).sum(axis=2)
            if d2.min() < gap ** 2 or _overlaps(polys, others):
                return False
        return True

    def add(self, polys: list[np.ndarray] | None, group: int, clearance: float,
            center: np.ndarray | None = None, radius: float | None = None) -> None:
        """Record placed polygons, or (``polys=None``) a reserved disk for ``group``."""
        if polys is not None:
            outline = np.concatenate(polys)
            center = outline.mean(axis=0)
            radius = float(np.linalg.norm(outline - center, axis=1).max())
        self.centers = np.vstack([self.centers, center])
        self.radii = np.append(self.radii, radius)
        self.clearances = np.append(self.clearances, clearance)
        self.groups = np.append(self.groups, group)
        self.polys.append(polys)


def _overlaps(polys_a: list[np.ndarray], polys_b: list[np.ndarray]) -> bool:
    """True when a vertex of one polygon set lies inside the other (containment)."""
    for inner, outer in ((polys_a, polys_b), (polys_b, polys_a)):
        for poly in outer:
            contour = poly[:, ::-1].astype(np.float32).reshape(-1, 1, 2)
            for pts in inner:
                x, y = float(pts[0, 1]), float(pts[0, 0])
                if cv2.pointPolygonTest(contour, (x, y), False) >= 0:
                    return True
    return False


def _random_point(rng: np.random.Generator, breast: _Breast, depth_range: tuple[float, float],
                  margin_mm: float) -> np.ndarray:
    """Uniform point inside the breast (by ``margin_mm``) at depth fraction ``depth_range``
    of the chest-wall-to-nipple distance; rejection sampling with a bounded number of draws."""
    top = breast.center_row_mm - breast.semi_up_mm
    bottom = breast.center_row_mm + breast.semi_down_mm
    for _ in range(200):
        p = np.array([rng.uniform(top, bottom),
                      rng.uniform(*depth_range) * breast.depth_mm])
        if breast.inside(p, margin_mm):
            return p
    return np.array([breast.center_row_mm, 0.5 * breast.depth_mm])


def _toward_nipple_deg(breast: _Breast, point: np.ndarray) -> float:
    d = np.asarray(breast.nipple_mm) - point
    return math.degrees(math.atan2(-d[0], d[1])) % 180.0


# --------------------------------------------------------------------------------------------
# Calcification generators (each returns _Calc objects already placed)


def _place_single(rng, placer, kind, make_outline, depth_range, clearance, tries=60):
    """Draw candidate shapes until one fits; None when the breast has no room left."""
    for _ in range(tries):
        center = _random_point(rng, placer.breast, depth_range, placer.cfg.calc_margin_mm)
        polys = make_outline(center)
        calc = _Calc(kind, polys)
        if placer.fits(calc.filled, -1, clearance):
            placer.add(calc.filled, -1, clearance)
            return calc
    return None


def _gen_macro(rng, placer, kinds) -> list[_Calc]:
    cfg = placer.cfg
    out: list[_Calc] = []

    def coarse(c):
        return [(c + _scale_to(_star(rng, 4, 0.9), rng.uniform(3.5, 6.0)), True)]

    def popcorn(c):
        n = int(rng.integers(3, 6))
        phi = rng.uniform(0, 2 * np.pi) + np.arange(n) * 2 * np.pi / n
        lobes = [_disk(np.zeros(2), 1.0)]
        lobes += [_disk(0.45 * np.array([np.sin(p), np.cos(p)]), rng.uniform(0.6, 0.9)) for p in phi]
        scale = rng.uniform(3.0, 6.0) / _feret(np.concatenate(lobes))[0]
        return [(c + lobe * scale, True) for lobe in lobes]

    def round_(c):
        return [(_disk(c, rng.uniform(1.0, 2.0)), True)]

    def rim(c):
        outer = rng.uniform(2.0, 6.0)
        shell = rng.uniform(0.3, min(0.8, 0.3 * outer))
        return [(_disk(c, outer), True), (_disk(c, outer - 2 * shell), False)]

    def dystrophic(c):
        n = int(rng.integers(5, 9))
        return [(c + _scale_to(_star(rng, n, 0.6, n=n), rng.uniform(1.2, 3.0)), True)]

    makers = {"coarse": (coarse, 1, 1), "popcorn": (popcorn, 1, 1), "round": (round_, 2, 3),
              "rim": (rim, 1, 2), "dystrophic": (dystrophic, 1, 2)}
    for kind, (maker, lo, hi) in makers.items():
        if kind not in kinds:
            continue
        for _ in range(int(rng.integers(lo, hi + 1))):
            calc = _place_single(rng, placer, kind, maker, (0.2, 0.9), cfg.clearance_mm)
            if calc is not None:
                out.append(calc)
    return out


def _gen_secretory(rng, placer) -> list[_Calc]:
    out = []
    for _ in range(int(rng.integers(3, 7))):
        length = rng.uniform(3.0, 10.0)
        width = rng.uniform(0.5, min(1.5, length / 3.0))
        jitter = rng.uniform(-8.0, 8.0)

        def rod(c, length=length, width=width, jitter=jitter):
            return [(_rod(c, length, width, _toward_nipple_deg(placer.breast, c) + jitter), True)]

        calc = _place_single(rng, placer, "secretory", rod, (0.3, 0.85), placer.cfg.clearance_mm)
        if calc is not None:
            calc.calibre_mm = width
            out.append(calc)
    return out


def _gen_punctate(rng, placer) -> list[_Calc]:
    out = []
    for _ in range(int(rng.integers(4, 9))):
        d = rng.uniform(0.2, 0.45)
        calc = _place_single(rng, placer, "punctate", lambda c, d=d: [(_disk(c, d, 48), True)],
                             (0.1, 0.95), placer.cfg.punctate_clearance_mm)
        if calc is not None:
            out.append(calc)
    return out


def _reserve_group(rng, placer, group: int, radius_mm: float, depth_range) -> np.ndarray | None:
    """Find a free disk for a cluster; reserve it against other objects; return its centre."""
    cfg = placer.cfg
    for _ in range(80):
        center = _random_point(rng, placer.breast, depth_range, cfg.calc_margin_mm + radius_mm)
        ring = _disk(center, 2.0 * radius_mm, 24)
        if placer.fits([ring], group, cfg.clearance_mm):
            placer.add(None, group, cfg.clearance_mm, center=center, radius=radius_mm)
            return center
    return None


def _gen_pleomorphic(rng, placer, group: int) -> list[_Calc]:
    radius = rng.uniform(3.5, 5.0)  # all members within a 1-cm circle (BI-RADS "grouped")
    center = _reserve_group(rng, placer, group, radius, (0.3, 0.8))
    if center is None:
        return []
    out = []
    for _ in range(int(rng.integers(8, 21))):
        for _ in range(40):
            size = rng.uniform(0.1, 0.5)
            reach = radius - 0.5 * size
            rho, phi = reach * math.sqrt(rng.uniform()), rng.uniform(0, 2 * np.pi)
            c = center + rho * np.array([math.sin(phi), math.cos(phi)])
            style = int(rng.integers(0, 3))
            if style == 0:
                outline = _disk(c, size, 24)
            elif style == 1:
                outline = _rod(c, size, size / rng.uniform(1.5, 3.0), rng.uniform(0, 180))
            else:
                n = int(rng.integers(3, 6))
                outline = c + _scale_to(_star(rng, n, 0.5, n=n), size)
            if placer.fits([outline], group, 0.0):
                placer.add([outline], group, 0.0)
                out.append(_Calc("pleomorphic", [(outline, True)], group))
                break
    return out


def _polyline(start: np.ndarray, angle_deg: float, length_mm: float, rng, wiggle_mm: float,
              step_mm: float = 0.1) -> np.ndarray:
    """Gently curved (K, 2) path from ``start`` along ``angle_deg``."""
    s = np.arange(0.0, length_mm + step_mm, step_mm)
    u = _direction(angle_deg)
    normal = np.array([u[1], -u[0]])
    bend = wiggle_mm * np.sin(np.pi * s / max(length_mm, 1e-6) * rng.uniform(0.5, 1.5)
                              + rng.uniform(0, 2 * np.pi))
    return start + s[:, None] * u + (bend - bend[0])[:, None] * normal


def _fragments(rng, path: np.ndarray, step_mm: float, length_range, gap_range, width_range):
    """Split a path into strokes of random length separated by random gaps; returns
    (polygon, width_mm) pairs."""
    out, i = [], int(rng.integers(0, max(1, int(gap_range[1] / step_mm))))
    while i < len(path) - 3:
        n = max(3, int(rng.uniform(*length_range) / step_mm))
        piece = path[i:i + n]
        if len(piece) >= 3:
            width = float(rng.uniform(*width_range))
            out.append((_stroke(piece, width), width))
        i += n + max(1, int(rng.uniform(*gap_range) / step_mm))
    return out


def _gen_flb(rng, placer, group: int) -> list[_Calc]:
    """Fine linear branching: fragments (< 0.5 mm calibre) along a Y-branching duct tree,
    10-18 mm long, pointing to the nipple (BI-RADS fine linear / branching, linear)."""
    length = rng.uniform(10.0, 18.0)
    center = _reserve_group(rng, placer, group, 0.5 * length + 1.0, (0.3, 0.75))
    if center is None:
        return []
    angle = _toward_nipple_deg(placer.breast, center) + rng.uniform(-10, 10)
    start = center - 0.5 * length * _direction(angle)
    main = _polyline(start, angle, length, rng, rng.uniform(0.3, 1.0))
    out, paths = [], [main]
    for _ in range(int(rng.integers(1, 4))):
        i = int(rng.uniform(0.25, 0.75) * (len(main) - 1))
        side = rng.choice([-1.0, 1.0]) * rng.uniform(25, 45)
        branch = _polyline(main[i], angle + side, rng.uniform(3.0, 6.0), rng, 0.2)
        paths.append(branch[15:])  # branch fragments start 1.5 mm from the fork
        width = rng.uniform(0.15, 0.4)
        fork = [_stroke(main[max(0, i - 10):i + 10], width), _stroke(branch[:10], width)]  # a "Y"
        if placer.fits(fork, group, 0.0):
            placer.add(fork, group, 0.0)
            out.append(_Calc("fine_linear_branching", [(p, True) for p in fork], group, width))
    for path in paths:
        for outline, width in _fragments(rng, path, 0.1, (0.6, 2.5), (0.5, 1.5), (0.1, 0.4)):
            if placer.fits([outline], group, 0.0):
                placer.add([outline], group, 0.0)
                out.append(_Calc("fine_linear_branching", [(outline, True)], group, width))
    return out


def _gen_vascular(rng, placer, group: int, vessels) -> list[_Calc]:
    """Tram-track pairs of discontinuous wall fragments along one vessel (15-30 mm; 10 mm
    when the breast is too small)."""
    cfg = placer.cfg
    wanted_mm = float(rng.uniform(15.0, 30.0))
    for path, width in vessels:
        ok = placer.breast.inside(path, cfg.calc_margin_mm + width).astype(int)
        for length_mm in (wanted_mm, 10.0):  # small breast: fall back to a 10-mm stretch
            stretch_n = int(length_mm / 0.25)
            starts = np.flatnonzero(np.convolve(ok, np.ones(stretch_n, int), mode="valid") == stretch_n)
            if starts.size:
                break
        else:
            continue
        for i0 in rng.choice(starts, size=min(10, len(starts)), replace=False):
            stretch = path[i0:i0 + stretch_n]
            zones = stretch[::8]
            if all(placer.fits([_disk(z, width + 1.0, 12)], group, cfg.clearance_mm) for z in zones):
                break
        else:
            continue
        for z in zones:
            placer.add(None, group, cfg.clearance_mm, center=z, radius=0.5 * width + 0.5)
        tangent = np.gradient(stretch, axis=0)
        tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
        normal = np.stack([tangent[:, 1], -tangent[:, 0]], axis=1)
        out = []
        for sign in (-1.0, 1.0):
            wall = stretch + sign * (0.5 * width - 0.15) * normal
            for outline, calibre in _fragments(rng, wall, 0.25, (1.5, 4.0), (0.6, 2.5), (0.2, 0.4)):
                if placer.fits([outline], group, 0.0):
                    placer.add([outline], group, 0.0)
                    out.append(_Calc("vascular", [(outline, True)], group, calibre))
        return out
    return []


# --------------------------------------------------------------------------------------------
# Rasterisation


def _draw_calc(att: np.ndarray, labels: np.ndarray, calc_id: int, calc: _Calc, spacing_mm: float,
               cfg: PhantomConfig) -> tuple[float, float]:
    """Add one calcification's calcium path to ``att`` (in place, a local patch) and write its
    label; return its (row, col) centroid in px (canonical grid)."""
    ss = cfg.supersample
    pts_px = calc.outline / spacing_mm
    r0, c0 = np.floor(pts_px.min(axis=0)).astype(int) - 2
    r1, c1 = np.ceil(pts_px.max(axis=0)).astype(int) + 3
    h, w = r1 - r0, c1 - c0
    canvas = np.zeros((h * ss, w * ss), np.uint8)
    for poly, filled in calc.polys:
        sub = ((poly / spacing_mm - [r0, c0]) + 0.5) * ss - 0.5
        fixed = np.rint(sub[:, ::-1] * 16).astype(np.int32)  # (x, y), 4 fractional bits
        cv2.fillPoly(canvas, [fixed], 255 if filled else 0, lineType=cv2.LINE_8, shift=4)
    dist_mm = cv2.distanceTransform(canvas, cv2.DIST_L2, 5) * (spacing_mm / ss)
    inradius = float(dist_mm.max())
    path_mm = 2.0 * np.sqrt(np.clip(dist_mm * (2.0 * inradius - dist_mm), 0.0, None))
    path_mm = np.minimum(path_mm, cfg.calc_max_thickness_mm)
    cover = (canvas > 0).reshape(h, ss, w, ss).mean(axis=(1, 3))
    mean_path = path_mm.reshape(h, ss, w, ss).mean(axis=(1, 3))
    att[r0:r1, c0:c1] += (cfg.mu_calc_per_mm * cfg.calc_density * mean_path).astype(np.float32)
    drawn = cover >= 0.5
    if not drawn.any():  # smaller than half a pixel: label its best-covered pixel
        drawn = cover == cover.max()
    labels[r0:r1, c0:c1][drawn] = calc_id
    rows, cols = np.nonzero(canvas)
    return (r0 + (rows.mean() + 0.5) / ss - 0.5, c0 + (cols.mean() + 0.5) / ss - 0.5)


def _texture(rng: np.random.Generator, size_mm: tuple[float, float], cfg: PhantomConfig) -> np.ndarray:
    """Zero-mean, unit-variance 1/f^beta noise on a coarse mm grid (spacing independent)."""
    shape = (int(math.ceil(size_mm[0] / cfg.texture_grid_mm)), int(math.ceil(size_mm[1] / cfg.texture_grid_mm)))
    white = rng.standard_normal(shape)
    fr = np.fft.fftfreq(shape[0], d=cfg.texture_grid_mm)[:, None]
    fc = np.fft.rfftfreq(shape[1], d=cfg.texture_grid_mm)[None, :]
    f2 = fr ** 2 + fc ** 2 + (1.0 / cfg.texture_cutoff_mm) ** 2
    field_ = np.fft.irfft2(np.fft.rfft2(white) * f2 ** (-cfg.texture_beta / 4.0), s=shape)
    return (field_ - field_.mean()) / field_.std()


def _gland_fraction_coarse(tex: np.ndarray, breast: _Breast, size_mm, target: float,
                           cfg: PhantomConfig) -> np.ndarray:
    """Glandular volume fraction (0..1) on the texture grid: texture thresholded so that its
    breast mean is ``target``, concentrated behind the nipple and away from the skin."""
    rows = (np.arange(tex.shape[0]) + 0.5) * size_mm[0] / tex.shape[0]
    cols = (np.arange(tex.shape[1]) + 0.5) * size_mm[1] / tex.shape[1]
    rr, cc = np.meshgrid(rows, cols, indexing="ij")
    semi = np.where(rr < breast.center_row_mm, breast.semi_up_mm, breast.semi_down_mm)
    rho = np.sqrt(((rr - breast.center_row_mm) / semi) ** 2 + (cc / breast.depth_mm) ** 2)
    envelope = np.clip((1.0 - rho) / 0.2, 0.0, 1.0) * np.exp(-(((cc / breast.depth_mm) - 0.45) / 0.45) ** 2)
    inside = rho < 1.0
    lo, hi = -4.0, 4.0
    for _ in range(30):  # bisection on the threshold: mean fraction decreases with it
        mid = 0.5 * (lo + hi)
        frac = envelope / (1.0 + np.exp(-(tex - mid) / cfg.gland_softness))
        lo, hi = (mid, hi) if frac[inside].mean() > target else (lo, mid)
    return envelope / (1.0 + np.exp(-(tex - 0.5 * (lo + hi)) / cfg.gland_softness))


def _curve_points(rng, breast: _Breast, start_depth: tuple[float, float], end_depth, wiggle,
                  step_mm: float) -> np.ndarray:
    """A smooth path from a random point near the chest wall side toward the nipple region."""
    start = _random_point(rng, breast, start_depth, 2.0)
    nipple = np.asarray(breast.nipple_mm)
    end = np.array([nipple[0] + rng.uniform(0.15, 0.45) * (start[0] - nipple[0]),
                    breast.depth_mm * (1.0 - rng.uniform(*end_depth))])
    length = float(np.linalg.norm(end - start))
    s = np.arange(0.0, length, step_mm)
    u = (end - start) / max(length, 1e-9)
    normal = np.array([u[1], -u[0]])
    bend = rng.uniform(*wiggle) * np.sin(np.pi * s / max(length, 1e-9) * rng.uniform(0.8, 2.0))
    return start + s[:, None] * u + bend[:, None] * normal


def _draw_vessels(shape, vessels, spacing_mm: float) -> np.ndarray:
    """Path length (mm) through cylindrical vessels, each drawn in its own patch."""
    out = np.zeros(shape, np.float32)
    for path, width in vessels:
        px = path / spacing_mm
        r0, c0 = np.maximum(np.floor(px.min(axis=0)).astype(int) - int(width / spacing_mm) - 2, 0)
        r1 = min(shape[0], int(np.ceil(px[:, 0].max())) + int(width / spacing_mm) + 3)
        c1 = min(shape[1], int(np.ceil(px[:, 1].max())) + int(width / spacing_mm) + 3)
        if r1 <= r0 or c1 <= c0:
            continue
        canvas = np.zeros((r1 - r0, c1 - c0), np.uint8)
        fixed = np.rint((px - [r0, c0])[:, ::-1] * 16).astype(np.int32)
        cv2.polylines(canvas, [fixed], False, 255, max(1, int(round(width / spacing_mm))),
                      lineType=cv2.LINE_8, shift=4)
        dist = cv2.distanceTransform(canvas, cv2.DIST_L2, 5) * spacing_mm
        radius = 0.5 * width
        path_len = 2.0 * np.sqrt(np.clip(dist * (2.0 * radius - dist), 0.0, None))
        np.maximum(out[r0:r1, c0:c1], path_len, out=out[r0:r1, c0:c1])
    return out


def _draw_strands(shape, strands, spacing_mm: float) -> np.ndarray:
    """0..1 map of thin fibrous strands (anti-aliased, softened by a 0.1-mm blur)."""
    canvas = np.zeros(shape, np.uint8)
    for path, width in strands:
        fixed = np.rint((path / spacing_mm)[:, ::-1] * 16).astype(np.int32)
        cv2.polylines(canvas, [fixed], False, 255, max(1, int(round(width / spacing_mm))),
                      lineType=cv2.LINE_AA, shift=4)
    soft = cv2.GaussianBlur(canvas.astype(np.float32) / 255.0, (0, 0), 0.1 / spacing_mm)
    return soft


def _burn_label(pixels: np.ndarray, mask: np.ndarray, text: str, spacing_mm: float, far_right: bool,
                cfg: PhantomConfig) -> list[int]:
    """Burn a bright label with dark text into the top corner on the nipple side (or the
    bottom one if the breast is there); return its half-open box [r0, c0, r1, c1]."""
    h = int(round(cfg.label_size_mm[0] / spacing_mm))
    w = int(round(cfg.label_size_mm[1] / spacing_mm))
    m = int(round(cfg.label_margin_mm / spacing_mm))
    rows, cols = pixels.shape
    c0 = cols - m - w if far_right else m
    for r0 in (m, rows - m - h):
        box = [r0, c0, r0 + h, c0 + w]
        if r0 >= 0 and c0 >= 0 and not mask[max(0, r0 - m):r0 + h + m, max(0, c0 - m):c0 + w + m].any():
            break
    else:
        raise ValueError("size_mm leaves no room outside the breast for the burned-in label")
    ink = text_bitmap(text, h, w)
    pixels[box[0]:box[2], box[1]:box[3]] = np.where(ink, cfg.label_text_value, cfg.label_value)
    return box


# --------------------------------------------------------------------------------------------
# Public entry point


def _parse_kinds(calcifications: str | Sequence[str]) -> tuple[str, ...]:
    if isinstance(calcifications, str):
        if calcifications == "all":
            return CALC_KINDS
        if calcifications == "none":
            return ()
        calcifications = [calcifications]
    kinds: list[str] = []
    for item in calcifications:
        if item in KIND_TO_LABEL:
            kinds.append(item)
        elif item in KIND_TO_LABEL.values():
            kinds.extend(k for k, label in KIND_TO_LABEL.items() if label == item)
        else:
            raise ValueError(f"calcifications: unknown kind {item!r}; expected 'all', 'none' "
                             f"or kinds/labels from {sorted(set(KIND_TO_LABEL) | set(KIND_TO_LABEL.values()))}")
    return tuple(k for k in CALC_KINDS if k in kinds)


# --------------------------------------------------------------------------------------------
# Steps of phantom()


def _checked_arguments(laterality: str, view: str, spacing_mm: float, size_mm: tuple[float, float],
                       chest_wall_side: str | None) -> tuple[Laterality, View, float, tuple[float, float],
                                                             ChestWallSide]:
    """Laterality, view, spacing (mm), field size (rows, cols) mm and chest-wall side, checked."""
    lat = Laterality.from_tag(laterality, tag="laterality")
    vw = View.from_tag(view, tag="view")
    if lat is Laterality.UNKNOWN or vw is View.UNKNOWN:
        raise ValueError(f"laterality and view must be known, got {laterality!r}, {view!r}")
    spacing = float(spacing_mm)
    if not 0.01 <= spacing <= 1.0:
        raise ValueError(f"spacing_mm must be in [0.01, 1.0] mm, got {spacing_mm}")
    size = (float(size_mm[0]), float(size_mm[1]))
    if min(size) < 40.0:
        raise ValueError(f"size_mm must be at least 40 mm each way, got {size_mm}")
    if chest_wall_side is None:
        side = ChestWallSide.LEFT if lat is Laterality.LEFT else ChestWallSide.RIGHT
    else:
        side = ChestWallSide(chest_wall_side)
    return lat, vw, spacing, size, side


@dataclass(frozen=True)
class _Paths:
    """The breast on the canonical pixel grid: (M, N) mask and X-ray path lengths in mm."""

    mask: np.ndarray              # bool, inside the breast (pectoral muscle included)
    muscle_mm: np.ndarray | None  # float32 path through the pectoral muscle, None on CC
    inner_mm: np.ndarray          # path below the skin
    skin_mm: np.ndarray           # path through the skin


def _breast_paths(breast: _Breast, shape: tuple[int, int], spacing: float, cfg: PhantomConfig) -> _Paths:
    """Breast mask and path lengths: a compressed periphery (half-cylinder of radius T/2) inside the
    skin line, and a pectoral wedge whose path grows from its edge inward."""
    rows_mm = (np.arange(shape[0], dtype=np.float32) * spacing)[:, None]
    cols_mm = (np.arange(shape[1], dtype=np.float32) * spacing)[None, :]
    semi = np.where(rows_mm < breast.center_row_mm, breast.semi_up_mm, breast.semi_down_mm).astype(np.float32)
    rho2 = ((rows_mm - breast.center_row_mm) / semi) ** 2 + (cols_mm / breast.depth_mm) ** 2
    mask = rho2 <= 1.0
    muscle_mm = None
    if breast.pectoral is not None:
        signed = breast.pectoral_signed_mm(rows_mm, cols_mm)
        mask |= signed > 0
        # muscle path grows from its edge inward (a wedge seen obliquely), 1-mm soft edge
        muscle_mm = (np.clip(signed + 0.5, 0.0, 1.0) * breast.thickness_mm
                     * np.clip(0.4 + signed / cfg.pectoral_ramp_mm, 0.0, 1.0)).astype(np.float32)
    radius = 0.5 * breast.thickness_mm  # compressed periphery: half-cylinder of radius T/2
    pad = int(math.ceil(radius / spacing)) + 2
    padded = cv2.copyMakeBorder(mask.astype(np.uint8), pad, 0, pad, 0, cv2.BORDER_REPLICATE)
    edge_mm = cv2.distanceTransform(padded, cv2.DIST_L2, 5)[pad:, pad:] * np.float32(spacing)
    depth = np.minimum(edge_mm, radius)
    total = 2.0 * np.sqrt(np.clip(radius ** 2 - (radius - depth) ** 2, 0.0, None))
    inner_r = radius - cfg.skin_thickness_mm
    inner = 2.0 * np.sqrt(np.clip(inner_r ** 2 - (radius - depth) ** 2, 0.0, None))
    return _Paths(mask=mask, muscle_mm=muscle_mm, inner_mm=inner, skin_mm=total - inner)


def _gland_fraction(rng: np.random.Generator, breast: _Breast, size_mm: tuple[float, float],
                    shape: tuple[int, int], age_years: float, cfg: PhantomConfig) -> np.ndarray:
    """Glandular volume fraction (0..1) on the pixel grid, (M, N) float32; its mean falls with age."""
    tex = _texture(rng, size_mm, cfg)
    target = float(np.clip(cfg.gland_fraction_at_50 + cfg.gland_fraction_per_year * (age_years - 50.0),
                           *cfg.gland_fraction_range))
    return cv2.resize(_gland_fraction_coarse(tex, breast, size_mm, target, cfg).astype(np.float32),
                      (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


def _vessels_and_strands(rng: np.random.Generator, breast: _Breast,
                         cfg: PhantomConfig) -> tuple[list[tuple[np.ndarray, float]], list[tuple[np.ndarray, float]]]:
    """Vessel and fibrous-strand paths ((K, 2) mm) with their widths (mm)."""
    vessels = [(_curve_points(rng, breast, (0.02, 0.3), (0.05, 0.3), (2.0, 10.0), 0.25),
                float(rng.uniform(*cfg.vessel_width_range_mm)))
               for _ in range(int(rng.integers(*cfg.vessel_count_range, endpoint=True)))]
    strands = [(_curve_points(rng, breast, (0.1, 0.8), (0.0, 0.15), (0.5, 4.0), 0.25),
                float(rng.uniform(*cfg.strand_width_range_mm)))
               for _ in range(int(rng.integers(*cfg.strand_count_range, endpoint=True)))]
    strands = [(path[int(len(path) * rng.uniform(0.0, 0.4)):], w) for path, w in strands]
    return vessels, strands


def _tissue_attenuation(paths: _Paths, gland: np.ndarray, vessels, strands, breast: _Breast, spacing: float,
                        cfg: PhantomConfig) -> np.ndarray:
    """Line integral of attenuation (fat, glands, skin, vessels, strands, muscle): (M, N) float32, 0 outside."""
    shape = paths.mask.shape
    inner = paths.inner_mm
    d_mu = cfg.mu_gland_per_mm - cfg.mu_fat_per_mm
    att = (cfg.mu_fat_per_mm * inner + d_mu * gland * inner + cfg.mu_gland_per_mm * paths.skin_mm
           + d_mu * _draw_vessels(shape, vessels, spacing)
           + d_mu * cfg.strand_path_mm * _draw_strands(shape, strands, spacing)
           * np.clip(inner / breast.thickness_mm, 0.0, 1.0))
    if paths.muscle_mm is not None:  # muscle replaces fat along its path
        att += (cfg.mu_muscle_per_mm - cfg.mu_fat_per_mm) * np.minimum(paths.muscle_mm, inner)
    return np.where(paths.mask, att, 0.0).astype(np.float32)


def _place_calcifications(rngs: Sequence[np.random.Generator], placer: _Placer, kinds: tuple[str, ...],
                          vessels) -> tuple[list[_Calc], int]:
    """Every requested kind placed in mm, groups first, each kind drawing from its own stream of
    ``rngs``; returns the calcifications and the number of groups."""
    calcs: list[_Calc] = []
    next_group = 0
    if "pleomorphic" in kinds:
        members = _gen_pleomorphic(rngs[0], placer, next_group)
        next_group += bool(members)
        calcs += members
    if "fine_linear_branching" in kinds:
        members = _gen_flb(rngs[1], placer, next_group)
        next_group += bool(members)
        calcs += members
    if "vascular" in kinds:
        members = _gen_vascular(rngs[2], placer, next_group, vessels)
        next_group += bool(members)
        calcs += members
    calcs += _gen_macro(rngs[3], placer, kinds)
    if "secretory" in kinds:
        calcs += _gen_secretory(rngs[4], placer)
    if "punctate" in kinds:
        calcs += _gen_punctate(rngs[5], placer)
    return calcs, next_group


def _expose(att: np.ndarray, reference: float, rng: np.random.Generator, spacing: float,
            cfg: PhantomConfig) -> np.ndarray:
    """Quantum noise (Gaussian approximation of Poisson counts; ``att`` is changed in place), detector
    blur and the stored values: (M, N) float32 in [0, ``cfg.max_value``]. ``reference`` is the path
    behind which the exposure control sets the detector dose."""
    quanta_per_px = (cfg.detector_air_kerma_uGy * cfg.photons_per_mm2_per_uGy * cfg.detector_dqe
                     / (1.0 + cfg.scatter_to_primary) ** 2 * spacing ** 2)
    photons = quanta_per_px * np.exp(reference - att)
    att += rng.standard_normal(att.shape, dtype=np.float32) / np.sqrt(photons).astype(np.float32)
    att = cv2.GaussianBlur(att, (0, 0), cfg.detector_blur_sigma_mm / spacing)
    return np.clip(cfg.value_offset + cfg.value_gain * att, 0.0, cfg.max_value).astype(np.float32)


@dataclass(frozen=True)
class _Frame:
    """Canonical frame (mm, or px before the flip) -> stored grid px."""

    spacing_mm: float
    n_cols: int
    flipped: bool

    def col_px(self, col_px: float) -> float:
        return float(self.n_cols - 1 - col_px if self.flipped else col_px)

    def to_px(self, rc_mm) -> list[float]:
        """(row, col) mm in the canonical frame -> [row, col] px in the stored grid."""
        r, c = rc_mm[0] / self.spacing_mm, rc_mm[1] / self.spacing_mm
        return [float(r), self.col_px(c)]

    def angle_deg(self, angle_deg: float) -> float:
        """A display angle (deg counter-clockwise from +col) in the stored grid."""
        return float((180.0 - angle_deg) % 180.0 if self.flipped else angle_deg)


def _pectoral_truth(breast: _Breast, frame: _Frame) -> list[list[float]] | None:
    """The pectoral line's ends [[row, col], [row, col]] px (top edge, chest wall), None on CC."""
    if breast.pectoral is None:
        return None
    return [frame.to_px((0.0, breast.pectoral[1])), frame.to_px((breast.pectoral[0], 0.0))]


def _calc_truth(calcs: list[_Calc], centroids: list[tuple[float, float]], frame: _Frame) -> list[dict]:
    """One truth row per calcification (see the module docstring's truth conventions)."""
    calc_rows = []
    for k, (calc, (r, c)) in enumerate(zip(calcs, centroids)):
        length, width, angle = _feret(calc.outline)
        width = width if calc.calibre_mm is None else calc.calibre_mm
        isotropic = calc.kind in _ISOTROPIC_KINDS
        calc_rows.append({
            "id": k + 1, "kind": calc.kind, "label": KIND_TO_LABEL[calc.kind], "group_id": calc.group_id,
            "row_px": float(r), "col_px": frame.col_px(c),
            "size_mm": round(length, 4), "length_mm": round(length, 4), "width_mm": round(width, 4),
            "angle_deg": None if isotropic else round(frame.angle_deg(angle), 3),
        })
    return calc_rows


def _group_truth(calcs: list[_Calc], calc_rows: list[dict], n_groups: int) -> list[dict]:
    """One truth row per group: label, distribution, centre (row, col) px, extent mm, member count."""
    groups = []
    for gid in range(n_groups):
        members = [c for c in calcs if c.group_id == gid]
        rows_ = [row for row in calc_rows if row["group_id"] == gid]
        kind = members[0].kind
        groups.append({
            "group_id": gid, "label": KIND_TO_LABEL[kind],
            "distribution": "grouped" if kind == "pleomorphic" else "linear",
            "center_rc": [float(np.mean([r["row_px"] for r in rows_])), float(np.mean([r["col_px"] for r in rows_]))],
            "extent_mm": round(_feret(np.concatenate([m.outline for m in members]))[0], 4),
            "n_calcs": len(members),
        })
    return groups


def phantom(*, spacing_mm: float = 0.1, size_mm: tuple[float, float] = (240.0, 190.0),
            laterality: str = "L", view: str = "CC", seed: int = 0,
            calcifications: str | Sequence[str] = "all", age_years: float = 65,
            chest_wall_side: str | None = None, config: PhantomConfig | None = None) -> Phantom:
    """Synthesise a mammogram with known anatomy and calcifications.

    Parameters
    ----------
    spacing_mm : float
        Isotropic pixel spacing in mm (breast plane).
    size_mm : (float, float)
        Field (rows, cols) in mm; the image is ``round(size_mm / spacing_mm)`` pixels.
    laterality : {"L", "R"}
    view : {"CC", "MLO"} (any oblique/lateral view gets a pectoral muscle)
    seed : int
        Everything is drawn from ``np.random.default_rng`` streams spawned from this seed;
        anatomy and calcification geometry do not depend on ``spacing_mm``.
    calcifications : "all", "none" or sequence of str
        Kinds from :data:`CALC_KINDS` or labels (``"macro"``, ``"suspicious_cluster"``, ...).
    age_years : float
        Sets the glandular fraction (denser when younger).
    chest_wall_side : {"left", "right"} or None
        None: left breast -> left column edge, right breast -> right edge (usual MG storage).
    config : PhantomConfig or None

    Returns
    -------
    Phantom
        ``image.pixels`` is (M, N) float32 in [0, 4095]; see :class:`Phantom`.

    Examples
    --------
    >>> ph = phantom(spacing_mm=0.2, seed=1, calcifications=["secretory"])
    >>> ph.image.spacing_mm, {c["label"] for c in ph.truth["calcifications"]}
    ((0.2, 0.2), {'secretory'})
    >>> int(ph.calc_labels.max()) == len(ph.truth["calcifications"])
    True
    """
    cfg = config or PhantomConfig()
    lat, vw, spacing, size, side = _checked_arguments(laterality, view, spacing_mm, size_mm, chest_wall_side)
    kinds = _parse_kinds(calcifications)

    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(9)]
    rng_anat, rng_tex, rng_noise, rng_calc = streams[0], streams[1], streams[2], streams[3:]
    breast = _make_breast(rng_anat, size, vw.is_oblique_or_lateral, cfg)
    shape = (int(round(size[0] / spacing)), int(round(size[1] / spacing)))
    paths = _breast_paths(breast, shape, spacing, cfg)
    gland = _gland_fraction(rng_tex, breast, size, shape, age_years, cfg)
    vessels, strands = _vessels_and_strands(rng_anat, breast, cfg)
    att = _tissue_attenuation(paths, gland, vessels, strands, breast, spacing, cfg)
    # The exposure control sets the detector dose behind the breast's median path, taken before
    # the calcifications so that phantoms with and without them share it.
    reference = float(np.median(att[paths.mask]))

    calcs, n_groups = _place_calcifications(rng_calc, _Placer(breast, cfg), kinds, vessels)
    labels = np.zeros(shape, np.int32)
    centroids = [_draw_calc(att, labels, k + 1, calc, spacing, cfg) for k, calc in enumerate(calcs)]
    pixels = _expose(att, reference, rng_noise, spacing, cfg)

    mask = paths.mask
    flip = side is ChestWallSide.RIGHT
    if flip:
        pixels, mask, labels = (np.ascontiguousarray(a[:, ::-1]) for a in (pixels, mask, labels))
    label_box = _burn_label(pixels, mask, f"{lat.value} {vw.value}", spacing, not flip, cfg)
    frame = _Frame(spacing, shape[1], flip)
    calc_rows = _calc_truth(calcs, centroids, frame)
    truth = {
        "schema": 1, "seed": int(seed), "spacing_mm": [spacing, spacing], "shape": list(shape),
        "size_mm": list(size), "laterality": lat.value, "view": vw.value, "age_years": float(age_years),
        "chest_wall_side": side.value, "nipple_rc": frame.to_px(breast.nipple_mm),
        "pectoral_line": _pectoral_truth(breast, frame),
        "label_box": [int(v) for v in label_box], "compressed_thickness_mm": round(breast.thickness_mm, 3),
        "calcifications": calc_rows, "groups": _group_truth(calcs, calc_rows, n_groups),
    }
    image = MammoImage(pixels=pixels, spacing_mm=(spacing, spacing), spacing_source="phantom",
                       laterality=lat, view=vw, presentation_intent=PresentationIntent.FOR_PROCESSING,
                       photometric="MONOCHROME2", bits_stored=12)
    return Phantom(image=image, truth=truth, breast_mask=mask, calc_labels=labels)
