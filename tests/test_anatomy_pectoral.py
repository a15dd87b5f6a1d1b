"""Tests for mammo_cv.anatomy.pectoral: line refinement, half-plane clipping and the muscle of a hand-made MLO."""

from __future__ import annotations

import numpy as np
import pytest

from mammo_cv.anatomy.pectoral import Pectoral, clip_half_plane, find_pectoral, half_plane_mask, refine_line
from mammo_cv.anatomy.working_grid import WorkingGrid

SETTINGS = {"min_contrast": 0.08, "sigma_mm": 1.5, "skin_margin_mm": 6.0, "angle_range_deg": (2.0, 60.0),
            "angle_spread_deg": 8.0, "inlier_mm": 3.0, "band_mm": 6.0, "min_area_fraction": 0.01,
            "max_area_fraction": 0.5}


def test_refine_line_recovers_a_known_line():
    theta, rho = 30.0, 40.0
    t = np.deg2rad(theta)
    along = np.linspace(-30.0, 30.0, 61)
    points = rho * np.array([np.sin(t), np.cos(t)]) + along[:, None] * np.array([np.cos(t), -np.sin(t)])
    found = refine_line(points, np.full(61, theta), np.ones(61), 28.0, 41.0, inlier_px=3.0, spread_deg=8.0)
    assert found == pytest.approx((theta, rho), abs=1e-9)


def test_clip_half_plane_keeps_all_or_nothing():
    square = np.array([[0.0, 0.0], [0.0, 2.0], [2.0, 2.0], [2.0, 0.0]])
    np.testing.assert_array_equal(clip_half_plane(square, np.array([1.0, 0.0]), 5.0), square)
    assert clip_half_plane(square, np.array([1.0, 0.0]), -1.0).shape == (0, 2)


def test_half_plane_mask_is_the_muscle_side_in_the_stored_grid():
    pectoral = Pectoral(theta_deg=45.0, rho_px=40.0 * np.sin(np.deg2rad(45.0)), top_rc=(0.0, 40.0),
                        chest_wall_rc=(40.0, 0.0), contrast=1.0)  # the line row + col = 40
    mask = half_plane_mask(pectoral, WorkingGrid(1.0, (50, 60), (50, 60), flipped=False))
    rr, cc = np.mgrid[:50, :60]
    assert mask[rr + cc < 39].all() and not mask[rr + cc > 41].any()
    flipped = half_plane_mask(pectoral, WorkingGrid(1.0, (50, 60), (50, 60), flipped=True))
    away = np.abs(rr + cc - 40)[:, ::-1] > 1  # pixels on the line may round either way
    np.testing.assert_array_equal(flipped[away], mask[:, ::-1][away])


def hand_made_mlo(muscle_value: float):
    """Canonical working image at 1 mm: breast 160 x 120 px (1000), corner muscle row/80 + col/50 < 1."""
    rr, cc = np.mgrid[:200, :150]
    breast = ((rr - 80) / 120.0) ** 2 + (cc / 120.0) ** 2 <= 1.0
    muscle = breast & (rr / 80.0 + cc / 50.0 < 1.0)
    work = np.where(breast, 1000.0, 100.0)
    work[muscle] = muscle_value
    work += np.random.default_rng(0).normal(0.0, 5.0, work.shape)
    return work.astype(np.float32), breast


def test_a_bright_corner_muscle_is_found_along_its_edge():
    work, breast = hand_made_mlo(1600.0)
    pectoral, note = find_pectoral(work, breast, (100.0, 1000.0), 1.0, **SETTINGS)
    assert note.startswith("pectoral: found")
    # the edge row/80 + col/50 = 1 has its normal at atan(50/80) = 32 deg from the row axis
    assert pectoral.theta_deg == pytest.approx(np.rad2deg(np.arctan2(50.0, 80.0)), abs=2.0)
    assert pectoral.top_rc[1] == pytest.approx(50.0, abs=3.0)
    assert pectoral.chest_wall_rc[0] == pytest.approx(80.0, abs=3.0)
    assert pectoral.contrast == pytest.approx(0.6, abs=0.1)  # (1600 - 1000) / (1000 - 100)


def test_a_faint_corner_is_not_a_muscle():
    work, breast = hand_made_mlo(1030.0)  # contrast 0.03 < 0.08
    pectoral, note = find_pectoral(work, breast, (100.0, 1000.0), 1.0, **SETTINGS)
    assert pectoral is None and note.startswith("pectoral: not found")
