"""Tests for mammo_cv.anatomy.nipple: the skin-line point farthest from the chest wall or the pectoral line."""

from __future__ import annotations

import numpy as np

from mammo_cv.anatomy.nipple import find_nipple
from mammo_cv.anatomy.pectoral import Pectoral

RR, CC = np.mgrid[:121, :90]
HALF_DISK = (RR - 60) ** 2 + CC ** 2 <= 60 ** 2  # chest wall at column 0, apex at (60, 60)


def test_farthest_from_the_chest_wall_is_the_apex():
    nipple = find_nipple(HALF_DISK, None, 0.5, tolerance_mm=0.25)  # only the apex is within 0.5 px
    np.testing.assert_allclose(nipple, [60.0, 60.0], atol=1.0)  # the run also takes the contour point before it


def test_farthest_from_a_tilted_pectoral_line_moves_along_the_skin():
    theta = 30.0  # normal (sin 30, cos 30): the farthest point is centre + 60 * normal
    pectoral = Pectoral(theta_deg=theta, rho_px=0.0, top_rc=(0.0, 0.0), chest_wall_rc=(0.0, 0.0), contrast=1.0)
    nipple = find_nipple(HALF_DISK, pectoral, 0.5, tolerance_mm=1.0)
    expected = np.array([60.0, 0.0]) + 60.0 * np.array([np.sin(np.deg2rad(theta)), np.cos(np.deg2rad(theta))])
    np.testing.assert_allclose(nipple, expected, atol=1.5)


def test_the_image_border_is_not_skin_line():
    cut = HALF_DISK.copy()
    cut[:, 50:] = False  # the breast leaves the image at column 49: its straight edge is not skin
    field = cut[:, :50]
    nipple = find_nipple(field, None, 0.5, tolerance_mm=1.0)
    assert nipple[1] < 49  # on the curved skin line, not on the border column
