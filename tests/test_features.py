"""Per-calcification features against analytic shapes of known geometry.

Shapes are drawn by 8 x 8 supersampling (coverage = fraction of sub-samples inside), labelled
where coverage >= 0.5 like a half-maximum detector, at 0.05, 0.1 and 0.2 mm. Centres sit off
the pixel grid so that no boundary runs exactly through pixel centres.

Tolerances come from partial volume: the 50 % mask puts each edge within about one pixel of the
true edge, so a length (two ends) is good to ~2 px and a width (two sides) to ~1 px; relative
terms cover the skeleton/caliper approximations documented in ``mammo_cv.describe.calcifications``.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from script_modules import REPO, load_script

from mammo_cv.core.types import MammoImage
from mammo_cv.describe.calcifications import (
    CALC_COLUMNS,
    FeatureConfig,
    _grouped_median,
    empty_calc_table,
    measure_calcifications,
)

SPACINGS = (0.05, 0.1, 0.2)
FIELD_MM = 8.0
CENTRE = (4.0 + 0.37 * 0.05, 4.0 - 0.21 * 0.05)   # off the pixel grid at every spacing
SUB = 8


# --------------------------------------------------------------------------- drawing helpers
def _coverage(inside, spacing, field_mm=(FIELD_MM, FIELD_MM)):
    """Fraction of each pixel inside the shape; pixel (i, j) is centred at (i, j) * spacing mm."""
    rows, cols = (int(round(f / spacing)) for f in field_mm)
    offsets = (np.arange(SUB) + 0.5) / SUB - 0.5
    r = ((np.arange(rows)[:, None] + offsets).ravel() * spacing)[:, None]
    c = ((np.arange(cols)[:, None] + offsets).ravel() * spacing)[None, :]
    return inside(r, c).reshape(rows, SUB, cols, SUB).mean(axis=(1, 3))


def _segment_distance(r, c, p0, p1):
    d = np.subtract(p1, p0)
    t = np.clip(((r - p0[0]) * d[0] + (c - p0[1]) * d[1]) / float(d @ d), 0.0, 1.0)
    return np.hypot(r - p0[0] - t * d[0], c - p0[1] - t * d[1])


def capsule(centre, length, width, angle_deg):
    """Rod with round caps; ``angle_deg`` from +col toward +row."""
    a, half = math.radians(angle_deg), (length - width) / 2
    p0 = (centre[0] - half * math.sin(a), centre[1] - half * math.cos(a))
    p1 = (centre[0] + half * math.sin(a), centre[1] + half * math.cos(a))
    return lambda r, c: _segment_distance(r, c, p0, p1) <= width / 2


def tapered(centre, length, width, angle_deg, taper_fraction=0.2):
    """Rod of width ``width`` narrowing linearly to a point over the outer ``taper_fraction``
    of its length at each end."""
    a = math.radians(angle_deg)

    def inside(r, c):
        along = (r - centre[0]) * math.sin(a) + (c - centre[1]) * math.cos(a)
        across = np.abs(-(r - centre[0]) * math.cos(a) + (c - centre[1]) * math.sin(a))
        to_tip = length / 2 - np.abs(along)
        local = width * np.clip(to_tip / (taper_fraction * length), 0.0, 1.0)
        return across <= local / 2
    return inside


def disk(centre, diameter):
    return lambda r, c: np.hypot(r - centre[0], c - centre[1]) <= diameter / 2


def ring(centre, outer, shell):
    def inside(r, c):
        radius = np.hypot(r - centre[0], c - centre[1])
        return (radius <= outer / 2) & (radius >= outer / 2 - shell)
    return inside


def union(*shapes):
    def inside(r, c):
        out = shapes[0](r, c)
        for shape in shapes[1:]:
            out = out | shape(r, c)
        return out
    return inside


def y_branch(centre, arm, width):
    """Three capsules of length ``arm + width/2`` from ``centre`` at 120 deg."""
    arms = []
    for angle in (90.0, 210.0, 330.0):
        a = math.radians(angle)
        tip = (centre[0] - arm * math.sin(a), centre[1] + arm * math.cos(a))
        arms.append(lambda r, c, tip=tip: _segment_distance(r, c, centre, tip) <= width / 2)
    return union(*arms)


def render(inside, spacing, *, amplitude=100.0, background=1000.0, noise=0.0, seed=0,
           field_mm=(FIELD_MM, FIELD_MM)):
    """(MammoImage, label image) of a shape: intensity = background + amplitude * coverage."""
    cover = _coverage(inside, spacing, field_mm)
    _, labels = cv2.connectedComponents((cover >= 0.5).astype(np.uint8), connectivity=8,
                                        ltype=cv2.CV_32S)
    pixels = background + amplitude * cover
    if noise:
        pixels = pixels + np.random.default_rng(seed).normal(0.0, noise, pixels.shape)
    return MammoImage(pixels.astype(np.float32), (spacing, spacing), "argument"), labels


def measure(inside, spacing, **kwargs):
    image, labels = render(inside, spacing, **kwargs)
    return measure_calcifications(image, labels, nipple_rc=(0.0, 0.0))


def length_tol(length, spacing):
    """One pixel at each end plus 3 % for the skeleton-path/caliper approximation."""
    return 2.0 * spacing + 0.03 * length


def width_tol(width, spacing):
    """One pixel across (half at each side), or 10 % (the brief's bar), whichever is larger."""
    return max(0.10 * width, spacing)


# --------------------------------------------------------------------------- schema
def test_empty_label_image_gives_empty_table_with_schema():
    image = MammoImage(np.ones((32, 32), np.float32), (0.1, 0.1), "argument")
    table = measure_calcifications(image, np.zeros((32, 32), np.int32), nipple_rc=(0.0, 0.0))
    assert list(table) == list(CALC_COLUMNS)
    for name, dtype in CALC_COLUMNS.items():
        assert table[name].dtype == dtype and table[name].shape == (0,)
    assert list(empty_calc_table()) == list(CALC_COLUMNS)


def test_columns_and_dtypes_of_a_non_empty_table():
    table = measure(disk(CENTRE, 1.0), 0.1)
    assert list(table) == list(CALC_COLUMNS)
    assert all(table[k].dtype == d and table[k].shape == (1,) for k, d in CALC_COLUMNS.items())
    assert table["calc_id"][0] == 1


def test_bad_inputs_raise():
    image = MammoImage(np.ones((20, 20), np.float32), (0.1, 0.1), "argument")
    labels = np.zeros((20, 20), np.int32)
    labels[2:4, 2:4] = 1
    labels[10:12, 10:12] = 3                         # label 2 missing
    with pytest.raises(ValueError, match="consecutive"):
        measure_calcifications(image, labels, nipple_rc=(0, 0))
    labels[labels == 3] = 2
    with pytest.raises(ValueError, match="peak_snr"):
        measure_calcifications(image, labels, nipple_rc=(0, 0), peak_snr=np.ones(3, np.float32))
    with pytest.raises(ValueError, match="shape"):
        measure_calcifications(image, labels[:10], nipple_rc=(0, 0))


# --------------------------------------------------------------------------- shapes
@pytest.mark.parametrize("spacing", SPACINGS)
@pytest.mark.parametrize("diameter", [1.0, 2.0])
def test_disk(spacing, diameter):
    t = measure(disk(CENTRE, diameter), spacing)
    assert abs(t["length_mm"][0] - diameter) <= length_tol(diameter, spacing)
    assert abs(t["width_mm"][0] - diameter) <= width_tol(diameter, spacing)
    assert abs(t["area_mm2"][0] - math.pi * diameter ** 2 / 4) <= math.pi * diameter * spacing / 2
    assert abs(t["row_px"][0] * spacing - CENTRE[0]) <= spacing / 2
    assert abs(t["col_mm"][0] - CENTRE[1]) <= spacing / 2
    # a round object: elongation ~1 (both ends of the tolerance band), no axis, no ends
    assert t["elongation"][0] < 1.3
    assert np.isnan(t["orientation_to_nipple_deg"][0]) and np.isnan(t["axis_angle_deg"][0])
    assert t["tapering"][0] == 0.0 and t["branching"][0] == 0
    assert t["lucent_center"][0] < 0.1               # solid: centre as bright as the rim
    assert t["irregularity"][0] < 0.1                # convex (digitisation only)


@pytest.mark.parametrize("spacing", SPACINGS)
def test_rod_without_taper(spacing):
    length, width = 6.0, 0.8
    t = measure(capsule(CENTRE, length, width, 20.0), spacing)
    assert abs(t["length_mm"][0] - length) <= length_tol(length, spacing)
    assert abs(t["width_mm"][0] - width) <= width_tol(width, spacing)
    low = (length - length_tol(length, spacing)) / (width + width_tol(width, spacing))
    high = (length + length_tol(length, spacing)) / (width - width_tol(width, spacing))
    assert low <= t["elongation"][0] <= high
    # uniform rod: true tapering 0; the cap digitisation can thin an end zone by ~1 px
    assert abs(t["tapering"][0]) <= spacing / width
    assert abs(t["axis_angle_deg"][0] - 20.0) <= 2.0
    assert t["branching"][0] == 0 and t["lucent_center"][0] < 0.1
    assert t["irregularity"][0] < 0.2                # convex; thin digital rods read ~0.1


def _expected_tapering(width, spacing, taper_fraction=0.2):
    """Tapering of a rod whose outer ``taper_fraction`` narrows linearly to 0, as measured at
    ``spacing``: the end zone (same fraction) holds widths W*x, x in [0, 1], but no local width
    below 2 px can be measured (the distance transform of an object pixel is >= 1 px)."""
    floor = min(2.0 * spacing, width)
    q = floor / width
    end_mean = floor * q + (1.0 - q) * (floor + width) / 2.0
    return 1.0 - end_mean / width


@pytest.mark.parametrize("spacing", SPACINGS)
def test_rod_with_tapered_ends(spacing):
    length, width = 6.0, 0.8
    t = measure(tapered(CENTRE, length, width, 20.0), spacing)
    # each tip loses the part narrower than ~1 px: (1 px / W) of the 20 % taper zone per end
    lost = 2.0 * (spacing / width) * 0.2 * length
    assert length - lost - length_tol(length, spacing) <= t["length_mm"][0]
    assert t["length_mm"][0] <= length + length_tol(length, spacing)
    mean_thickness = 0.8 * width                     # 60 % at W, 40 % at W/2 on average
    assert abs(t["width_mm"][0] - mean_thickness) <= width_tol(mean_thickness, spacing)
    expected = _expected_tapering(width, spacing)    # 0.49 / 0.47 / 0.38; exact = 0.5
    assert abs(t["tapering"][0] - expected) <= spacing / width + 0.05
    untapered = measure(capsule(CENTRE, length, width, 20.0), spacing)["tapering"][0]
    assert t["tapering"][0] > untapered + 0.1


@pytest.mark.parametrize("spacing", SPACINGS)
def test_ring_with_lucent_centre(spacing):
    outer, shell = 4.0, 0.6
    t = measure(ring(CENTRE, outer, shell), spacing)
    assert abs(t["length_mm"][0] - outer) <= length_tol(outer, spacing)
    assert abs(t["width_mm"][0] - shell) <= width_tol(shell, spacing)
    # the centre is at the background level: true lucency 1; the core (inner half radius)
    # lies 0.4 mm inside the shell, clear of its partial-volume pixels
    assert t["lucent_center"][0] >= 0.9
    assert t["branching"][0] == 0 and t["tapering"][0] == 0.0
    assert t["irregularity"][0] < 0.1                # the filled ring is a convex disk
    assert np.isnan(t["orientation_to_nipple_deg"][0])


def test_partly_filled_ring_is_partly_lucent():
    """A disk whose inner 1.4 mm radius is at half the rim contrast, found as one solid
    object: core mean = 0.5, rim mean = 0.5 + 0.5 * (shell share of the outer half radius)."""
    spacing, outer, shell = 0.05, 4.0, 0.6
    shell_share = ((outer / 2) ** 2 - (outer / 2 - shell) ** 2) / ((outer / 2) ** 2 - (outer / 4) ** 2)
    rim = 0.5 + 0.5 * shell_share
    expected = (rim - 0.5) / rim
    inner = disk(CENTRE, outer - 2 * shell)
    image, _ = render(ring(CENTRE, outer, shell), spacing)
    half, _ = render(inner, spacing, amplitude=50.0, background=0.0)
    labels = (_coverage(disk(CENTRE, outer), spacing) >= 0.5).astype(np.int32)
    combined = MammoImage(image.pixels + half.pixels, image.spacing_mm, "argument")
    t = measure_calcifications(combined, labels, nipple_rc=(0.0, 0.0))
    assert abs(t["lucent_center"][0] - expected) <= 0.05   # +-1 px rings of the 1 mm core


@pytest.mark.parametrize("spacing", SPACINGS)
def test_y_branch(spacing):
    arm, width = 2.5, 0.6
    t = measure(y_branch(CENTRE, arm, width), spacing)
    assert t["branching"][0] == 1
    tip_to_tip = 2 * (arm + width / 2)               # the longest path runs along two arms
    assert abs(t["length_mm"][0] - tip_to_tip) <= length_tol(tip_to_tip, spacing)
    assert abs(t["width_mm"][0] - width) <= width_tol(width, spacing)
    # hull = triangle of the tips (plus caps) >> area of three thin arms
    assert t["irregularity"][0] > 0.5
    assert np.isnan(t["orientation_to_nipple_deg"][0])  # three-fold symmetric: no axis


@pytest.mark.parametrize("spacing", SPACINGS)
def test_tram_track_pair_gives_two_rods(spacing):
    length, width, gap, angle = 5.0, 0.6, 2.0, 30.0
    a = math.radians(angle)
    normal = (math.cos(a) * gap / 2, -math.sin(a) * gap / 2)
    first = capsule((CENTRE[0] + normal[0], CENTRE[1] + normal[1]), length, width, angle)
    second = capsule((CENTRE[0] - normal[0], CENTRE[1] - normal[1]), length, width, angle)
    t = measure(union(first, second), spacing)
    assert t["calc_id"].tolist() == [1, 2]
    assert np.all(np.abs(t["length_mm"] - length) <= length_tol(length, spacing))
    assert np.all(np.abs(t["width_mm"] - width) <= width_tol(width, spacing))
    assert np.all(np.abs(t["axis_angle_deg"] - angle) <= 2.0)
    centres = np.stack([t["row_mm"], t["col_mm"]], axis=1)
    assert abs(np.linalg.norm(centres[0] - centres[1]) - gap) <= spacing


@pytest.mark.parametrize("relative_deg", [0.0, 30.0, 60.0, 90.0])
@pytest.mark.parametrize("spacing", SPACINGS)
def test_orientation_to_nipple(relative_deg, spacing):
    nipple_mm = (1.0, 7.0)
    to_nipple = math.degrees(math.atan2(nipple_mm[0] - CENTRE[0], nipple_mm[1] - CENTRE[1]))
    axis = (to_nipple + relative_deg) % 180.0
    image, labels = render(capsule(CENTRE, 3.0, 0.4, axis), spacing)
    t = measure_calcifications(image, labels,
                               nipple_rc=(nipple_mm[0] / spacing, nipple_mm[1] / spacing))
    assert abs(t["orientation_to_nipple_deg"][0] - relative_deg) <= 5.0
    assert 0.0 <= t["axis_angle_deg"][0] < 180.0
    assert abs((t["axis_angle_deg"][0] - axis + 90.0) % 180.0 - 90.0) <= 5.0


def test_same_shapes_agree_across_spacings():
    shapes = {
        "disk": disk(CENTRE, 2.0),
        "rod": capsule(CENTRE, 6.0, 0.8, 20.0),
        "ring": ring(CENTRE, 4.0, 0.6),
    }
    for name, shape in shapes.items():
        fine, coarse = measure(shape, 0.05), measure(shape, 0.2)
        for column, tol in (("length_mm", length_tol), ("width_mm", width_tol)):
            truth = fine[column][0]
            allowed = tol(truth, 0.05) + tol(truth, 0.2)
            assert abs(fine[column][0] - coarse[column][0]) <= allowed, (name, column)
        assert abs(fine["area_mm2"][0] - coarse["area_mm2"][0]) <= 0.06 * fine["area_mm2"][0] + 0.2
        assert fine["branching"][0] == coarse["branching"][0] == 0


def test_anisotropic_spacing():
    """Rows 0.1 mm, columns 0.05 mm: a 45 deg rod is 45 deg in mm, not in pixels."""
    length, width, spacing = 5.0, 0.8, (0.1, 0.05)
    rows, cols = int(FIELD_MM / spacing[0]), int(FIELD_MM / spacing[1])
    offsets = (np.arange(SUB) + 0.5) / SUB - 0.5
    r = ((np.arange(rows)[:, None] + offsets).ravel() * spacing[0])[:, None]
    c = ((np.arange(cols)[:, None] + offsets).ravel() * spacing[1])[None, :]
    cover = capsule(CENTRE, length, width, 45.0)(r, c).reshape(rows, SUB, cols, SUB).mean(axis=(1, 3))
    labels = (cover >= 0.5).astype(np.int32)
    image = MammoImage((1000 + 100 * cover).astype(np.float32), spacing, "argument")
    t = measure_calcifications(image, labels, nipple_rc=(0.0, 0.0))
    assert abs(t["length_mm"][0] - length) <= length_tol(length, spacing[0])
    assert abs(t["width_mm"][0] - width) <= width_tol(width, spacing[0])
    assert abs(t["axis_angle_deg"][0] - 45.0) <= 2.0
    assert abs(t["area_mm2"][0] - (width * (length - width) + math.pi * width ** 2 / 4)) <= 0.1


# --------------------------------------------------------------------------- contrast
def test_contrast_from_noise_when_no_peak_snr():
    """Disk of amplitude 20 sigma in white noise: contrast = (peak - background) / sigma,
    peak = 20 sigma + the largest of ~300 noise samples (~ +2.8 sigma)."""
    sigma, amplitude = 5.0, 100.0
    image, labels = render(disk(CENTRE, 1.0), 0.05, amplitude=amplitude, noise=sigma, seed=3)
    t = measure_calcifications(image, labels, nipple_rc=(0.0, 0.0))
    expected = amplitude / sigma + 2.8
    assert abs(t["contrast"][0] - expected) <= 0.2 * expected   # MAD noise estimate ~ +-10 %
    given = measure_calcifications(image, labels, nipple_rc=(0.0, 0.0),
                                   peak_snr=np.array([7.5], np.float32))
    assert given["contrast"][0] == 7.5


def test_features_of_noisy_shapes_stay_in_range():
    spacing, sigma = 0.1, 10.0
    image, labels = render(union(ring((2.5, 2.5), 3.0, 0.5), capsule((6.0, 5.0), 3.0, 0.5, 60.0)),
                           spacing, amplitude=200.0, noise=sigma, seed=5)
    t = measure_calcifications(image, labels, nipple_rc=(0.0, 80.0))
    assert len(t["calc_id"]) == 2
    assert t["lucent_center"][0] > 0.7 and t["lucent_center"][1] < 0.3
    assert np.all((t["lucent_center"] >= 0) & (t["lucent_center"] <= 1))
    assert np.all((t["irregularity"] >= 0) & (t["irregularity"] <= 1))
    assert np.all(t["tapering"] <= 1)


def test_grouped_median_matches_numpy():
    rng = np.random.default_rng(0)
    groups = rng.integers(0, 6, 500)
    values = rng.normal(1000.0, 30.0, 500)
    got = _grouped_median(values, groups, 7)
    for g in range(6):
        assert got[g] == pytest.approx(np.median(values[groups == g]), abs=1e-9)
    assert np.isnan(got[6])


def test_config_validation():
    with pytest.raises(ValueError):
        FeatureConfig(end_fraction=0.6)
    with pytest.raises(ValueError):
        FeatureConfig(ring_distance_mm=0.0)


def test_tiny_objects_single_pixel_and_one_pixel_line():
    """A single pixel is a 1 x 1 px blob; a 1 px x 15 px line is 15 px long and ~1 px wide
    (the distance transform alone would read 2 px: the area/length cap brings it within
    half a pixel)."""
    spacing = 0.1
    labels = np.zeros((30, 40), np.int32)
    labels[15, 5] = 1
    labels[10, 15:30] = 2
    image = MammoImage((1000.0 + 50.0 * (labels > 0)).astype(np.float32), (spacing, spacing), "argument")
    t = measure_calcifications(image, labels, nipple_rc=(0.0, 0.0))
    assert t["length_mm"][0] == pytest.approx(spacing, abs=0.1 * spacing)
    assert t["width_mm"][0] == pytest.approx(spacing, abs=0.1 * spacing)
    assert t["elongation"][0] < 1.3 and t["tapering"][0] == 0.0
    assert abs(t["length_mm"][1] - 15 * spacing) <= spacing
    assert abs(t["width_mm"][1] - spacing) <= 0.5 * spacing
    assert t["axis_angle_deg"][1] == pytest.approx(0.0, abs=1e-6)


def _evaluate_features_script():
    return load_script(REPO / "scripts" / "evaluate_features.py")


@pytest.mark.parametrize("spacing", [0.07, 0.1])
def test_secretory_rods_on_phantoms_measure_within_15_percent(spacing):
    # issue 4: median |relative length error| <= 15 % over the detected secretory rods.
    # Seeds 10-12 were not used while writing the features (the script defaults to 0-5).
    summary, rods = _evaluate_features_script().evaluate(spacing, [10, 11, 12])
    assert summary["detected"] >= 5
    assert summary["median_abs_rel_error_length"] <= 0.15
    # width is reported, not asserted here: the detector's mask holds only the core of a
    # cylindrical rod (see the truth-mask test below for the feature's own accuracy)
    assert summary["median_rel_error_width"] < 0.0


@pytest.mark.parametrize("spacing", [0.07, 0.1])
def test_secretory_rods_measured_on_their_true_masks(spacing):
    # The features alone, on the phantom's true pixel masks of the rods (blurred, noisy image):
    # length within 5 % (capsule caps: +0.3-0.5 px, a few % of a >= 3 mm rod), width within
    # 12 % median (the mean thickness along the skeleton includes the rounded caps, thinner
    # than the diameter).
    from mammo_cv.synthetic.phantoms import phantom

    length_err, width_err = [], []
    for seed in (10, 11, 12):
        ph = phantom(spacing_mm=spacing, size_mm=(120.0, 96.0), seed=seed)
        table = measure_calcifications(ph.image, ph.calc_labels, nipple_rc=tuple(ph.truth["nipple_rc"]))
        for calc in ph.truth["calcifications"]:
            if calc["kind"] == "secretory":
                length_err.append(table["length_mm"][calc["id"] - 1] / calc["length_mm"] - 1.0)
                width_err.append(table["width_mm"][calc["id"] - 1] / calc["width_mm"] - 1.0)
    assert len(length_err) >= 5
    assert abs(np.median(length_err)) <= 0.05
    assert abs(np.median(width_err)) <= 0.12


@pytest.mark.parametrize("spacing", [0.05, 0.1, 0.2])
@pytest.mark.parametrize("psf_sigma", [0.1, 0.13])
def test_calibre_removes_the_blur_that_widens_thin_lines(spacing, psf_sigma):
    # 4-mm lines blurred by a Gaussian PSF, masked at half their peak (as the detector's half-maximum cut)
    def line(width):
        def inside(r, c):
            return _segment_distance(r, c, (10.0, 8.0), (10.0, 12.0)) <= width / 2

        blurred = cv2.GaussianBlur(_coverage(inside, spacing, (20.0, 20.0)).astype(np.float32), (0, 0),
                                   psf_sigma / spacing)
        _, labels = cv2.connectedComponents((blurred >= 0.5 * blurred.max()).astype(np.uint8), connectivity=8,
                                            ltype=cv2.CV_32S)
        image = MammoImage(1000.0 + 100.0 * blurred, (spacing, spacing), "argument")
        table = measure_calcifications(image, labels, nipple_rc=(0.0, 0.0), psf_sigma_mm=psf_sigma)
        return float(table["width_mm"][0]), float(table["calibre_mm"][0])

    for width in (0.1, 0.2):                      # thinner than the blur: they read its width
        measured, calibre = line(width)
        assert calibre < 0.3 and calibre <= measured - 0.5 * spacing, (width, measured, calibre)
    for width in (0.5, 0.8):                      # resolved: the calibre stays near the truth
        measured, calibre = line(width)
        assert calibre <= measured and abs(calibre - width) <= max(0.15 * width, spacing), (width, calibre)
