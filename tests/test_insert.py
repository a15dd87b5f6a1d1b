"""Lesion insertion (mammo_cv.synthetic.insert, .contrast, .backgrounds) and the artefact tests
of scripts/evaluate_insertions.py, on hand-made backgrounds whose answer is known, and on the
real films when they are present."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from script_modules import load_script

from mammo_cv.core.psf import blur_sigma_from_correlation, measure_noise, point_source_sharpness, psf_sigma_mm
from mammo_cv.core.types import Anatomy, ChestWallSide, MammoImage
from mammo_cv.synthetic.backgrounds import (
    Background,
    background_part,
    cbis_backgrounds,
    load_background,
    mias_backgrounds,
    split_backgrounds,
)
from mammo_cv.synthetic.contrast import GreyScale, film_grey_scale, linear_grey_scale, log_gain_from_noise
from mammo_cv.synthetic.insert import InsertionConfig, insert_calcifications
from mammo_cv.synthetic.phantoms import PhantomConfig, phantom

SPACING_MM = 0.1
LEVEL, NOISE_SIGMA = 2000.0, 5.0
SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "evaluate_insertions.py"


def _flat(side: ChestWallSide, seed: int = 0) -> tuple[MammoImage, Anatomy]:
    """A 60 x 50 mm flat background (grey 2000, white noise sigma 5) and a half-elliptic breast
    on the given chest-wall side."""
    rows, cols = 600, 500
    rng = np.random.default_rng(seed)
    pixels = np.rint(LEVEL + NOISE_SIGMA * rng.standard_normal((rows, cols))).astype(np.float32)
    r, c = np.mgrid[:rows, :cols]
    depth = c if side is ChestWallSide.LEFT else cols - 1 - c
    mask = ((r - 300) / 290.0) ** 2 + (depth / 480.0) ** 2 <= 1.0
    nipple_col = 479.0 if side is ChestWallSide.LEFT else 20.0
    anatomy = Anatomy(breast_mask=mask, chest_wall_side=side, pectoral_mask=np.zeros_like(mask),
                      pectoral_line=None, nipple_rc=(300.0, nipple_col))
    image = MammoImage(pixels=pixels, spacing_mm=(SPACING_MM, SPACING_MM), spacing_source="argument", bits_stored=12)
    return image, anatomy


def _insert(grey: GreyScale, side=ChestWallSide.LEFT, kinds=("round",), seed=3):
    image, anatomy = _flat(side)
    return image, anatomy, insert_calcifications(image, kinds=list(kinds), seed=seed, grey=grey, anatomy=anatomy)


def _model_peak_change(grey: GreyScale, thickness_mm: float) -> float:
    """Peak grey change of a flat-topped object of calcium thickness ``thickness_mm`` (module model)."""
    cfg = PhantomConfig()
    transmission = 1.0 - (1.0 - math.exp(-cfg.mu_calc_per_mm * thickness_mm)) / (1.0 + cfg.scatter_to_primary)
    return float(grey.apply(np.array([LEVEL]), np.array([math.log(transmission)]))[0] - LEVEL)


@pytest.mark.parametrize("kind", ["film", "linear"])
def test_round_calcification_contrast_matches_the_model(kind):
    image = _flat(ChestWallSide.LEFT)[0]
    grey = film_grey_scale(image, grey_per_od=400.0) if kind == "film" else linear_grey_scale(image)
    _, _, out = _insert(grey)
    change = out.image.pixels.astype(np.float64) - image.pixels
    rounds = out.truth["calcifications"]
    assert rounds and {c["kind"] for c in rounds} == {"round"}
    for calc in rounds:
        measured = change[out.labels == calc["id"]].max()
        expected = _model_peak_change(grey, calc["peak_thickness_mm"])
        # the pixel averages 4 x 4 sub-pixels of the dome-shaped (or capped flat) profile, blurred by
        # 0.03 mm: within 4 % of the peak thickness's contrast for 1-2 mm disks at 0.1 mm; +1 grey rounding
        assert measured == pytest.approx(expected, rel=0.04, abs=1.0)
        # SNR is the peak change over the local per-pixel sigma, measured near the true sigma
        assert calc["noise_sigma"] == pytest.approx(NOISE_SIGMA, rel=0.15)
        assert calc["snr"] * calc["noise_sigma"] == pytest.approx(measured, rel=0.02, abs=1.0)


def test_solved_thickness_scale_reaches_the_target_snr():
    image = _flat(ChestWallSide.LEFT)[0]
    _, _, out = _insert(film_grey_scale(image, grey_per_od=400.0), kinds=("round", "punctate", "secretory"))
    solved = [c for c in out.truth["calcifications"] if c["thickness_scale"] < 1.0]
    assert solved
    for calc in solved:  # bisection to 2^-14 of a 1e-4..1 log range, and integer rounding
        assert calc["snr"] == pytest.approx(calc["target_snr"], rel=0.01)
    low, high = InsertionConfig().snr_range
    assert all(low <= c["target_snr"] <= high for c in out.truth["calcifications"])


@pytest.mark.parametrize("side", [ChestWallSide.LEFT, ChestWallSide.RIGHT])
def test_label_image_matches_truth_positions(side):
    image, anatomy, out = _insert(film_grey_scale(_flat(side)[0], grey_per_od=400.0), side=side,
                                  kinds=("round", "punctate", "secretory", "pleomorphic"))
    calcs = out.truth["calcifications"]
    assert int(out.labels.max()) == len(calcs)
    change = out.image.pixels != image.pixels
    for calc in calcs:
        rr, cc = np.nonzero(out.labels == calc["id"])
        assert rr.size, calc
        if calc["kind"] in ("round", "punctate", "secretory"):  # convex: centroid of pixels ~ outline centroid
            assert rr.mean() == pytest.approx(calc["row_px"], abs=0.5)
            assert cc.mean() == pytest.approx(calc["col_px"], abs=0.5)
        assert change[rr, cc].all()  # every labelled pixel was changed
        assert anatomy.breast_mask[rr, cc].all()
    # every object lies skin_margin_mm inside the breast
    depth = cv2.distanceTransform(np.pad(anatomy.breast_mask.view(np.uint8), 1), cv2.DIST_L2, 5)[1:-1, 1:-1]
    assert depth[out.labels > 0].min() * SPACING_MM >= InsertionConfig().skin_margin_mm - 2 * SPACING_MM


def test_input_image_is_not_mutated_and_output_keeps_dtype_and_range():
    image, anatomy = _flat(ChestWallSide.LEFT)
    before = image.pixels.copy()
    grey = film_grey_scale(image, grey_per_od=4000.0)  # strong: some objects clip at the top of 12 bits
    out = insert_calcifications(image, kinds="all", seed=5, grey=grey, anatomy=anatomy)
    np.testing.assert_array_equal(image.pixels, before)
    assert out.image is not image and out.image.pixels.dtype == np.float32
    assert out.image.pixels.min() >= 0 and out.image.pixels.max() <= 4095
    assert np.array_equal(out.image.pixels, np.rint(out.image.pixels))
    assert out.image.spacing_mm == image.spacing_mm and not out.labels.flags.writeable


def test_same_seed_same_insertion_other_seed_other():
    image, anatomy = _flat(ChestWallSide.LEFT)
    grey = film_grey_scale(image, grey_per_od=400.0)
    a = insert_calcifications(image, seed=2, grey=grey, anatomy=anatomy, kinds=("coarse", "punctate"))
    b = insert_calcifications(image, seed=2, grey=grey, anatomy=anatomy, kinds=("coarse", "punctate"))
    c = insert_calcifications(image, seed=3, grey=grey, anatomy=anatomy, kinds=("coarse", "punctate"))
    np.testing.assert_array_equal(a.image.pixels, b.image.pixels)
    assert a.truth == b.truth and not np.array_equal(a.labels, c.labels)


# --------------------------------------------------------------------------------------------
# contrast: grey scales, noise, blur


def test_noise_blur_of_blurred_white_noise_is_recovered():
    rng = np.random.default_rng(1)
    mask = np.zeros((600, 600), bool)
    mask[20:-20, 20:-20] = True
    for blur in (0.0, 0.8, 1.5):
        white = rng.standard_normal((600, 600)).astype(np.float32)
        noise = cv2.GaussianBlur(white, (0, 0), blur) if blur else white
        model = measure_noise(100 + 10 * noise, mask)
        assert model.blur_sigma_px == pytest.approx(blur, abs=0.1)
        # per-pixel sigma from the residual, whatever the blur (the residual alone would under-read it)
        assert model.sigma_at(slice(100, 300), slice(100, 300), mask[100:300, 100:300]) == pytest.approx(
            10 * noise.std(), rel=0.05)


def test_blur_inversion_is_monotone_and_clipped():
    assert blur_sigma_from_correlation(-1.0) == 0.0
    assert blur_sigma_from_correlation(0.99) == 3.0
    assert blur_sigma_from_correlation(0.3) < blur_sigma_from_correlation(0.6)


def test_log_gain_from_quantum_noise_of_a_phantom():
    # phantom grey = 80 + 540 A with quantum noise in A: 540 grey per neper of exposure; 15 %:
    # texture passing the 8-neighbour high-pass in dense tissue reads it about 5 % low at 0.1 mm
    ph = phantom(spacing_mm=0.1, seed=4, calcifications="none")
    inner = cv2.erode(ph.breast_mask.view(np.uint8), np.ones((31, 31), np.uint8)) > 0
    assert log_gain_from_noise(ph.image.pixels, inner) == pytest.approx(PhantomConfig().value_gain, rel=0.15)


def test_log_gain_refuses_noise_that_does_not_rise_with_grey():
    rng = np.random.default_rng(0)
    flat_noise = (np.linspace(100, 1000, 300)[None, :] + rng.standard_normal((300, 300))).astype(np.float32)
    with pytest.raises(ValueError, match="not a quantum-limited"):
        log_gain_from_noise(flat_noise, np.ones(flat_noise.shape, bool))


def test_grey_scales():
    image = _flat(ChestWallSide.LEFT)[0]
    film = film_grey_scale(image, grey_per_od=100.0, gamma=3.0)
    assert film.gain_per_neper == pytest.approx(100.0 * 3.0 / math.log(10.0))
    assert film.apply(np.array([50.0]), np.array([math.log(0.5)]))[0] == pytest.approx(50 + film.gain_per_neper
                                                                                           * math.log(2.0))
    linear = linear_grey_scale(image)  # zero exposure at 4095: halving the exposure halves 4095 - grey
    assert linear.apply(np.array([2095.0]), np.array([math.log(0.5)]))[0] == pytest.approx(3095.0)
    with pytest.raises(ValueError, match="kind"):
        GreyScale("gamma", 1.0, 0.0, 0.0, 1.0, "")


def test_psf_from_noise_blur():
    assert psf_sigma_mm(0.1, "film", 0.05)[1] == "default for film"
    sigma, source = psf_sigma_mm(1.0, "film", 0.05)
    assert source == "measured + screen" and sigma > 0.05
    assert psf_sigma_mm(1.0, "linear", 0.05) == (0.05, "measured")


# --------------------------------------------------------------------------------------------
# backgrounds: the fixed split


def _bg(name: str, source: str, woman: str) -> Background:
    return Background(name, source, "/nowhere", 0.2, 1.0, woman)


def test_split_is_by_woman_and_fixed():
    mias = [_bg(f"mias/mdb{n:03d}", "mias", f"mias-woman-{(n + 1) // 2}") for n in range(1, 9)]
    parts = [background_part(b) for b in mias]
    assert parts == ["dev", "dev", "heldout", "heldout", "dev", "dev", "heldout", "heldout"]
    cbis = [_bg("cbis/sfm-benign-0/1-130", "cbis", "sfm-benign-0"), _bg("cbis/sfm-malign-0/1-280", "cbis",
                                                                         "sfm-malign-0")]
    assert [background_part(b) for b in cbis] == ["dev", "heldout"]
    everything = mias + cbis
    assert split_backgrounds(everything, "all") == everything
    dev, held = split_backgrounds(everything, "dev"), split_backgrounds(everything, "heldout")
    assert not set(dev) & set(held) and len(dev) + len(held) == len(everything)
    with pytest.raises(ValueError, match="part"):
        split_backgrounds(everything, "test")


def test_mias_split_on_the_real_folder(mias_dir):
    normals = mias_backgrounds(mias_dir)
    assert len(normals) >= 20 and normals == mias_backgrounds(mias_dir)
    dev, held = split_backgrounds(normals, "dev"), split_backgrounds(normals, "heldout")
    assert dev and held and not {b.woman for b in dev} & {b.woman for b in held}


def test_insertion_into_a_mias_normal(mias_dir):
    background = split_backgrounds(mias_backgrounds(mias_dir), "dev")[0]
    image = load_background(background)
    out = insert_calcifications(image, seed=0, grey=film_grey_scale(image, grey_per_od=background.grey_per_od))
    assert out.image.pixels.max() <= 255 and out.image.pixels.dtype == np.float32
    assert {c["label"] for c in out.truth["calcifications"]} == {"secretory", "vascular", "macro",
                                                                  "suspicious_cluster", "punctate"}
    from mammo_cv.anatomy import find_anatomy
    assert find_anatomy(image).breast_mask[out.labels > 0].all()


def test_insertion_into_a_cbis_film(real_dicom_cases):
    films = split_backgrounds(cbis_backgrounds(), "dev")
    assert len(films) == 4 and len(split_backgrounds(cbis_backgrounds(), "heldout")) == 4
    image = load_background(films[0])
    out = insert_calcifications(image, seed=0, kinds=["pleomorphic", "round"],
                                grey=film_grey_scale(image, grey_per_od=films[0].grey_per_od))
    assert out.truth["psf_source"] == "measured + screen"
    assert out.truth["groups"] and out.truth["groups"][0]["n_calcs"] >= 5
    changed = out.image.pixels != image.pixels
    assert changed.any() and (out.labels > 0).sum() <= changed.sum()


# --------------------------------------------------------------------------------------------
# scripts/evaluate_insertions.py: the artefact tests


@pytest.fixture(scope="module")
def evaluate():
    return load_script(SCRIPT)


def test_point_source_sharpness():
    assert point_source_sharpness(0.0) == 1.0
    # a blur of 1 px: 0.383 of the point per axis in the centre pixel, 0.242 in each neighbour, so
    # centre 0.1466, 8-neighbour mean (4 x 0.0926 + 4 x 0.0585) / 8 = 0.0755: (0.1466 - 0.0755) / 0.1466
    assert point_source_sharpness(1.0) == pytest.approx(0.485, abs=0.002)
    assert point_source_sharpness(0.5) > point_source_sharpness(1.0)


def test_column_line_is_scored_and_a_spot_is_not(evaluate):
    rng = np.random.default_rng(0)
    residual = rng.standard_normal((600, 200)).astype(np.float32)
    residual[:, 100] += 3.0  # a bright 1-px column line through the image
    residual[300, 100] += 6.0  # a spot on it
    residual[300, 50] += 9.0  # a spot alone
    mask = np.ones(residual.shape, bool)
    z, share = evaluate._line_score(residual, mask, 300, 100, 0.05, along_rows=False)
    assert z >= evaluate.LINE_Z and share >= evaluate.LINE_SHARE
    z_alone, _ = evaluate._line_score(residual, mask, 300, 50, 0.05, along_rows=False)
    z_row, _ = evaluate._line_score(residual, mask, 300, 100, 0.05, along_rows=True)
    assert z_alone < evaluate.LINE_Z and z_row < evaluate.LINE_Z
