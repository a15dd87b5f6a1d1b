"""Tests for mammo_cv.anatomy.breast: Otsu levels, edge strips and the breast mask of a hand-made image."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from mammo_cv.anatomy.breast import breast_mask, drop_edge_strips, otsu_threshold
from mammo_cv.core.errors import NoBreastFoundError

SPACING_MM = 1.0
SETTINGS = {"threshold_fraction": 0.2, "skin_threshold_fraction": 0.1, "skin_reach_mm": 5.0,
            "min_contrast_to_noise": 5.0, "opening_mm": 4.0, "edge_strip_mm": 5.0, "min_breast_area_mm2": 400.0}


def test_otsu_splits_two_levels():
    values = np.r_[np.full(300, 100.0), np.full(100, 1000.0)]
    assert 100.0 < otsu_threshold(values) < 1000.0


def test_edge_strips_go_and_tissue_that_crosses_an_edge_stays():
    mask = np.zeros((20, 20), bool)
    mask[2:18, 0] = True       # a scanner line along the left edge
    mask[0, 2:18] = True       # and one along the top
    mask[5:20, 8:12] = True    # tissue that runs out of the bottom edge
    out = drop_edge_strips(mask, 3)
    expected = np.zeros((20, 20), bool)
    expected[5:20, 8:12] = True
    np.testing.assert_array_equal(out, expected)


def hand_made(seed: int = 0):
    """A 60-mm disk of tissue (1000) on background (100), a bright 8 x 8 mm label, noise sigma 10."""
    rr, cc = np.mgrid[:160, :120]
    disk = (rr - 80) ** 2 + (cc - 40) ** 2 <= 30 ** 2
    label = (rr >= 10) & (rr < 18) & (cc >= 100) & (cc < 108)
    work = np.where(disk | label, 1000.0, 100.0).astype(np.float32)
    work += np.random.default_rng(seed).normal(0.0, 10.0, work.shape).astype(np.float32)
    return work, disk, label


def test_the_mask_is_the_disk_without_the_label():
    work, _, label = hand_made()
    smooth = cv2.GaussianBlur(work, (0, 0), 1.0)
    mask, (background, tissue), notes = breast_mask(work, smooth, SPACING_MM, **SETTINGS)
    assert background == pytest.approx(100.0, abs=3) and tissue == pytest.approx(1000.0, abs=3)
    assert not (mask & label).any()
    rr, cc = np.mgrid[:160, :120]
    radius = np.hypot(rr - 80, cc - 40)
    # the skin level (10 % of the way up) lies about 1 px outside the 30-px disk, smoothed 1 px
    assert mask[radius <= 29].all() and not mask[radius >= 33].any()
    assert "1 other region(s) dropped" in notes[0]


def test_noise_alone_is_no_breast():
    work = np.random.default_rng(1).normal(100.0, 10.0, (100, 100)).astype(np.float32)
    with pytest.raises(NoBreastFoundError, match="no breast-like foreground"):
        breast_mask(work, cv2.GaussianBlur(work, (0, 0), 1.0), SPACING_MM, path="noise.png", **SETTINGS)


def test_a_region_below_the_smallest_breast_is_refused():
    work, _, _ = hand_made()
    small = {**SETTINGS, "min_breast_area_mm2": 4000.0}  # the disk is ~2830 mm^2
    with pytest.raises(NoBreastFoundError, match="below 4000 mm"):
        breast_mask(work, cv2.GaussianBlur(work, (0, 0), 1.0), SPACING_MM, **small)
