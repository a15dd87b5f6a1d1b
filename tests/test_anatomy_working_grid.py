"""Tests for mammo_cv.anatomy.working_grid: working grid -> stored grid, mask upsampling."""

from __future__ import annotations

import numpy as np
import pytest

from mammo_cv.anatomy.working_grid import WorkingGrid, upsample_mask


@pytest.mark.parametrize("flipped", [False, True])
def test_pixel_centres_map_to_the_centres_of_the_pixels_they_cover(flipped):
    grid = WorkingGrid(0.8, (10, 20), (40, 80), flipped)
    full = grid.to_full([[0.0, 0.0], [9.0, 19.0], [4.5, 9.5]])
    # working px (0, 0) covers stored rows 0-3 and cols 0-3: centre (1.5, 1.5)
    expected = [[1.5, 1.5], [37.5, 77.5], [19.5, 39.5]]
    if flipped:
        expected = [[r, 79.0 - c] for r, c in expected]
    np.testing.assert_allclose(full, expected)


def test_canonical_puts_the_chest_wall_on_the_left():
    array = np.arange(6).reshape(2, 3)
    assert WorkingGrid(1.0, (2, 3), (2, 3), False).canonical(array) is array
    flipped = WorkingGrid(1.0, (2, 3), (2, 3), True).canonical(array)
    np.testing.assert_array_equal(flipped, [[2, 1, 0], [5, 4, 3]])
    assert flipped.flags.c_contiguous


def test_upsampled_mask_keeps_the_shape_and_area():
    mask = np.zeros((20, 20), bool)
    mask[5:15, 4:12] = True                      # 10 x 8 working px
    full = upsample_mask(mask, (80, 80), sigma_px=1.0)
    assert full.shape == (80, 80) and full.dtype == bool
    assert full.sum() == pytest.approx(16 * mask.sum(), rel=0.05)  # corners are rounded a little
    rows, cols = np.nonzero(full)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (20, 59, 16, 47)
