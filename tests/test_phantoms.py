"""Tests for mammo_cv.synthetic.phantoms: determinism, ground-truth consistency, geometry in mm, polarity."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import cv2
import numpy as np
import pytest

from mammo_cv.core.types import PresentationIntent
from mammo_cv.synthetic.phantoms import CALC_KINDS, KIND_TO_LABEL, PhantomConfig, phantom

SIZE_MM = (120.0, 100.0)  # small field: fast, still room for every kind


@pytest.fixture(scope="module")
def phantoms():
    """Phantoms keyed by (spacing_mm, laterality, view), built once for the module."""
    cache = {}

    def get(spacing_mm, laterality="L", view="CC", **kw):
        key = (spacing_mm, laterality, view, tuple(sorted(kw.items())))
        if key not in cache:
            cache[key] = phantom(spacing_mm=spacing_mm, size_mm=SIZE_MM, laterality=laterality,
                                      view=view, seed=kw.pop("seed", 7), **kw)
        return cache[key]

    return get


CASES = [(0.07, "L", "CC"), (0.1, "R", "MLO"), (0.1, "L", "MLO"), (0.07, "R", "CC")]


def test_same_seed_same_phantom_and_different_seed_differs():
    a = phantom(spacing_mm=0.2, size_mm=SIZE_MM, seed=3)
    b = phantom(spacing_mm=0.2, size_mm=SIZE_MM, seed=3)
    c = phantom(spacing_mm=0.2, size_mm=SIZE_MM, seed=4)
    assert np.array_equal(a.image.pixels, b.image.pixels)
    assert np.array_equal(a.calc_labels, b.calc_labels)
    assert a.truth == b.truth
    assert np.mean(a.image.pixels != c.image.pixels) > 0.5
    assert a.truth["calcifications"] != c.truth["calcifications"]


def test_image_metadata_and_range(phantoms):
    ph = phantoms(0.1, "R", "MLO")
    img = ph.image
    assert img.pixels.dtype == np.float32
    assert img.spacing_mm == (0.1, 0.1) and img.spacing_source == "phantom"
    assert img.laterality.value == "R" and img.view.value == "MLO"
    assert img.presentation_intent is PresentationIntent.FOR_PROCESSING
    assert img.shape == (1200, 1000) == tuple(ph.truth["shape"])
    assert 0.0 <= float(img.pixels.min()) and float(img.pixels.max()) <= 4095.0
    # background (outside breast and label) is low, the breast clearly above it
    outside = ~ph.breast_mask
    r0, c0, r1, c1 = ph.truth["label_box"]
    outside[r0:r1, c0:c1] = False
    assert np.median(img.pixels[outside]) < 300 < np.median(img.pixels[ph.breast_mask]) - 500


@pytest.mark.parametrize("spacing_mm,laterality,view", CASES)
def test_labels_match_truth_and_lie_inside_breast(phantoms, spacing_mm, laterality, view):
    ph = phantoms(spacing_mm, laterality, view)
    calcs = ph.truth["calcifications"]
    ids = np.unique(ph.calc_labels)
    assert ids.tolist() == list(range(len(calcs) + 1))  # 0 + every id, each drawn somewhere
    assert [c["id"] for c in calcs] == list(range(1, len(calcs) + 1))
    assert not np.any(ph.calc_labels[~ph.breast_mask])
    # truth centroid agrees with the labelled pixels (within 1 px plus half the object's size)
    for c in calcs:
        rows, cols = np.nonzero(ph.calc_labels == c["id"])
        slack = 1.0 + 0.5 * c["size_mm"] / spacing_mm
        assert abs(rows.mean() - c["row_px"]) < slack and abs(cols.mean() - c["col_px"]) < slack
        assert KIND_TO_LABEL[c["kind"]] == c["label"]


def test_all_kinds_present_and_truth_is_json(phantoms):
    ph = phantoms(0.1)
    truth = json.loads(json.dumps(ph.truth))
    assert truth == ph.truth
    assert {c["kind"] for c in truth["calcifications"]} == set(CALC_KINDS)
    for key in ("schema", "seed", "spacing_mm", "shape", "laterality", "view", "chest_wall_side",
                "nipple_rc", "pectoral_line", "calcifications", "groups"):
        assert key in truth
    for g in truth["groups"]:
        members = [c for c in truth["calcifications"] if c["group_id"] == g["group_id"]]
        assert g["n_calcs"] == len(members) and {c["label"] for c in members} == {g["label"]}


@pytest.mark.parametrize("spacing_mm", [0.07, 0.1])
def test_round_calcification_area_matches_diameter(spacing_mm):
    ph = phantom(spacing_mm=spacing_mm, size_mm=SIZE_MM, seed=11, calcifications=["round"])
    rounds = [c for c in ph.truth["calcifications"] if c["kind"] == "round"]
    assert len(rounds) >= 2
    for c in rounds:
        d = c["size_mm"]
        assert 1.0 <= d <= 2.0 and c["angle_deg"] is None
        area_mm2 = np.count_nonzero(ph.calc_labels == c["id"]) * spacing_mm ** 2
        # Pixel-centre counting errs only at boundary pixels; the worst case is about half the
        # perimeter in px (relative 2 s / d) and the errors largely cancel: allow half of it.
        tol = max(0.05, spacing_mm / d)
        assert area_mm2 == pytest.approx(math.pi * d ** 2 / 4.0, rel=tol)


def test_geometry_is_independent_of_spacing(phantoms):
    a, b = phantoms(0.07), phantoms(0.1)
    ca, cb = a.truth["calcifications"], b.truth["calcifications"]
    assert [c["kind"] for c in ca] == [c["kind"] for c in cb]
    for x, y in zip(ca, cb):
        assert x["size_mm"] == pytest.approx(y["size_mm"], abs=1e-6)
        # same centroid in mm, up to the drawing's sub-pixel sampling (a quarter pixel)
        assert x["row_px"] * 0.07 == pytest.approx(y["row_px"] * 0.1, abs=0.05)
        assert x["col_px"] * 0.07 == pytest.approx(y["col_px"] * 0.1, abs=0.05)


@pytest.mark.parametrize("laterality,side", [("L", None), ("R", None), ("R", "left"), ("L", "right")])
def test_chest_wall_and_nipple_sides(laterality, side):
    ph = phantom(spacing_mm=0.2, size_mm=SIZE_MM, laterality=laterality, seed=5,
                      chest_wall_side=side, calcifications="none")
    expected = side or ("left" if laterality == "L" else "right")
    assert ph.truth["chest_wall_side"] == expected
    mask = ph.breast_mask
    wall, far = (0, -1) if expected == "left" else (-1, 0)
    assert mask[:, wall].sum() > 0.5 * mask.shape[0] and not mask[:, far].any()
    cols = np.flatnonzero(mask.any(axis=0))
    tip = cols.max() if expected == "left" else cols.min()
    r, c = ph.truth["nipple_rc"]
    assert abs(c - tip) <= 1.5 and mask[int(round(r)), int(round(c))]
    assert (c > mask.shape[1] / 2) == (expected == "left")


def test_a_right_chest_wall_mirrors_the_image_and_its_truth():
    left, right = (phantom(spacing_mm=0.3, size_mm=SIZE_MM, laterality="L", view="MLO", seed=2, chest_wall_side=side)
                   for side in ("left", "right"))
    n_cols = left.image.shape[1]
    np.testing.assert_array_equal(right.calc_labels, left.calc_labels[:, ::-1])
    np.testing.assert_array_equal(right.breast_mask, left.breast_mask[:, ::-1])
    assert left.truth["calcifications"]
    for a, b in zip(left.truth["calcifications"], right.truth["calcifications"]):
        assert (b["row_px"], b["col_px"]) == (a["row_px"], n_cols - 1 - a["col_px"])
        if a["angle_deg"] is None:
            assert b["angle_deg"] is None
        else:  # both rounded to 0.001 deg
            assert b["angle_deg"] == pytest.approx((180.0 - a["angle_deg"]) % 180.0, abs=1e-3)
    (r0, c0), (r1, c1) = left.truth["pectoral_line"]
    assert right.truth["pectoral_line"] == [[r0, n_cols - 1 - c0], [r1, n_cols - 1 - c1]]
    assert right.truth["nipple_rc"] == [left.truth["nipple_rc"][0], n_cols - 1 - left.truth["nipple_rc"][1]]


@pytest.mark.parametrize("laterality", ["L", "R"])
def test_mlo_has_pectoral_muscle_and_cc_has_none(phantoms, laterality):
    assert phantoms(0.1, laterality, "CC").truth["pectoral_line"] is None
    ph = phantoms(0.1, laterality, "MLO")
    (r0, c0), (r1, c1) = ph.truth["pectoral_line"]
    n_cols = ph.image.shape[1]
    wall_col = 0 if ph.truth["chest_wall_side"] == "left" else n_cols - 1
    assert r0 == 0.0 and c1 == wall_col and r1 > 100 and abs(c0 - wall_col) > 100
    # muscle (just inside the line) is brighter than the breast just outside it
    rows, cols = np.mgrid[0:ph.image.shape[0], 0:n_cols]
    side = (c1 - c0) * (rows - r0) - (r1 - r0) * (cols - c0)  # sign: which side of the line
    dist_px = np.abs(side) / math.hypot(c1 - c0, r1 - r0)
    wall_sign = np.sign((c1 - c0) * (0 - r0) - (r1 - r0) * (wall_col - c0))
    band = ph.breast_mask & (dist_px > 20) & (dist_px < 100) & (rows < 0.8 * r1)
    inside = band & (np.sign(side) == wall_sign)
    outside = band & (np.sign(side) != wall_sign)
    assert ph.image.pixels[inside].mean() > ph.image.pixels[outside].mean() + 100


def test_none_has_no_calcifications_and_same_anatomy(phantoms):
    full = phantoms(0.1)
    empty = phantoms(0.1, calcifications="none")
    assert not empty.calc_labels.any()
    assert empty.truth["calcifications"] == [] and empty.truth["groups"] == []
    assert np.array_equal(full.breast_mask, empty.breast_mask)
    # the pixels differ only near calcifications (patch + detector blur < 1 mm)
    near = cv2.dilate((full.calc_labels > 0).astype(np.uint8), np.ones((21, 21), np.uint8)) > 0
    diff = full.image.pixels != empty.image.pixels
    assert diff.any() and not diff[~near].any()


@pytest.mark.parametrize("spacing_mm", [0.07, 0.1])
def test_calcifications_brighter_than_surroundings(spacing_mm, phantoms):
    ph = phantoms(spacing_mm)
    bare = phantoms(spacing_mm, calcifications="none")  # same anatomy and noise, no calcium
    px = ph.image.pixels
    any_calc = ph.calc_labels > 0
    ring_px = int(round(1.0 / spacing_mm))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * ring_px + 1,) * 2)
    keep_out = cv2.dilate(any_calc.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    checked = 0
    for c in ph.truth["calcifications"]:
        own = ph.calc_labels == c["id"]
        # every calcification adds attenuation where it is drawn
        assert (px[own] - bare.image.pixels[own]).mean() > 0, c
        if c["width_mm"] < 0.5:
            continue
        # thick ones stand out from their 1-mm surround, after removing the local tissue
        # gradient with a plane fitted to the surround
        ring = (cv2.dilate(own.astype(np.uint8), kernel) > 0) & ~keep_out
        rows, cols = np.nonzero(ring)
        design = np.column_stack([rows, cols, np.ones_like(rows)]).astype(float)
        coef = np.linalg.lstsq(design, px[ring].astype(float), rcond=None)[0]
        orow, ocol = np.nonzero(own)
        background = np.column_stack([orow, ocol, np.ones_like(orow)]) @ coef
        assert (px[own] - background).mean() > 0, c
        checked += 1
    assert checked >= 10


def test_calcification_contrast_is_several_noise_sigma():
    kw = dict(spacing_mm=0.07, size_mm=SIZE_MM, seed=7)
    with_calcs = phantom(**kw)
    without = phantom(**kw, calcifications="none")
    noiseless = phantom(**kw, calcifications="none", config=replace(PhantomConfig(), detector_air_kerma_uGy=1e11))
    mask = with_calcs.breast_mask
    sigma = float((without.image.pixels - noiseless.image.pixels)[mask].std())
    signal = with_calcs.image.pixels - without.image.pixels
    peaks = {c["id"]: float(signal[with_calcs.calc_labels == c["id"]].max())
             for c in with_calcs.truth["calcifications"]}
    big = [peaks[c["id"]] / sigma for c in with_calcs.truth["calcifications"] if c["size_mm"] >= 0.3]
    tiny = [peaks[c["id"]] / sigma for c in with_calcs.truth["calcifications"] if c["size_mm"] < 0.3]
    assert 5.0 < sigma < 60.0  # visible quantum noise on a 12-bit scale
    assert np.median(big) >= 3.0  # brief: several x noise sigma for >= 0.3 mm
    assert np.median(tiny) < np.median(big)  # lower for tiny ones


def test_calcification_geometry_follows_the_brief(phantoms):
    ph = phantoms(0.1)
    calcs = ph.truth["calcifications"]
    by_kind = {k: [c for c in calcs if c["kind"] == k] for k in CALC_KINDS}
    nipple = np.array(ph.truth["nipple_rc"])
    for c in by_kind["secretory"]:
        assert 3.0 <= c["length_mm"] <= 10.0 + 1e-6 and 0.45 <= c["width_mm"] <= 1.55
        to_nipple = nipple - [c["row_px"], c["col_px"]]
        duct_deg = math.degrees(math.atan2(-to_nipple[0], to_nipple[1])) % 180.0
        off = abs((c["angle_deg"] - duct_deg + 90.0) % 180.0 - 90.0)
        assert off < 15.0  # oriented along the duct toward the nipple (+-8 deg jitter + curvature)
    for c in by_kind["pleomorphic"]:
        assert 0.1 - 1e-6 <= c["size_mm"] <= 0.5 + 1e-6
    for c in by_kind["fine_linear_branching"]:
        assert c["width_mm"] < 0.5 and c["length_mm"] > c["width_mm"]  # fine linear calibre
    for c in by_kind["vascular"]:
        assert c["length_mm"] > 3 * c["width_mm"]  # linear wall fragments
    for c in by_kind["punctate"]:
        assert c["size_mm"] < 0.5 and c["group_id"] == -1
    punct = np.array([[c["row_px"], c["col_px"]] for c in by_kind["punctate"]]) * 0.1
    dists = np.linalg.norm(punct[:, None] - punct[None], axis=2) + np.eye(len(punct)) * 1e9
    assert dists.min() > 10.0  # scattered: isolated, far apart
    macro = {k: [c["size_mm"] for c in by_kind[k]] for k in ("coarse", "popcorn", "rim", "dystrophic")}
    assert all(3.0 <= s <= 6.0 + 1e-6 for s in macro["coarse"] + macro["popcorn"])
    assert all(2.0 <= s <= 6.0 + 1e-6 for s in macro["rim"])
    assert all(s > 1.0 for s in macro["dystrophic"])
    groups = {g["label"] + "/" + g["distribution"]: g for g in ph.truth["groups"]}
    cluster = groups["suspicious_cluster/grouped"]
    assert 5 <= cluster["n_calcs"] and cluster["extent_mm"] <= 10.0
    assert 8.0 <= groups["suspicious_cluster/linear"]["extent_mm"] <= 25.0
    assert groups["vascular/linear"]["n_calcs"] >= 4


def test_rim_has_lucent_centre(phantoms):
    ph = phantoms(0.07)
    for c in [c for c in ph.truth["calcifications"] if c["kind"] == "rim"]:
        r, col = int(round(c["row_px"])), int(round(c["col_px"]))
        assert ph.calc_labels[r, col] == 0  # centre not part of the calcification
        rows, cols = np.nonzero(ph.calc_labels == c["id"])
        assert np.hypot(rows - c["row_px"], cols - c["col_px"]).min() > 0.5 / 0.07


def test_to_stored_polarity_and_bits(phantoms):
    ph = phantoms(0.1)
    m2 = ph.to_stored()
    m1 = ph.to_stored(photometric="MONOCHROME1")
    assert m2.dtype == np.uint16 and m1.dtype == np.uint16
    assert np.array_equal(m1.astype(np.int32), 4095 - m2.astype(np.int32))
    assert np.abs(m2 - ph.image.pixels).max() <= 0.5
    m16 = ph.to_stored(bits_stored=16)
    assert np.abs(m16 / 65535.0 - ph.image.pixels / 4095.0).max() <= 0.5 / 65535.0 + 1e-7
    with pytest.raises(ValueError, match="photometric"):
        ph.to_stored(photometric="RGB")


@pytest.mark.parametrize("kwargs,match", [
    ({"calcifications": ["bogus"]}, "bogus"),
    ({"laterality": "U"}, "laterality"),
    ({"spacing_mm": 0.0}, "spacing_mm"),
])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        phantom(size_mm=SIZE_MM, **kwargs)
