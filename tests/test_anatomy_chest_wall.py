"""Tests for mammo_cv.anatomy.chest_wall: the taller end of the breast is the chest wall."""

from __future__ import annotations

import numpy as np
import pytest

from mammo_cv.anatomy.chest_wall import chest_wall_side
from mammo_cv.core.types import ChestWallSide, Laterality

TAPER = np.tri(30, 20, k=-12, dtype=bool)[::-1]  # 19 rows tall at column 0, 1 row at column 18
SETTINGS = {"tie_ratio": 0.05, "edge_band_fraction": 0.15}


@pytest.mark.parametrize("laterality", [Laterality.LEFT, Laterality.RIGHT, Laterality.UNKNOWN])
def test_the_taller_end_wins_over_the_tag(laterality):
    assert chest_wall_side(TAPER, laterality, **SETTINGS)[0] is ChestWallSide.LEFT
    side, note = chest_wall_side(TAPER[:, ::-1], laterality, **SETTINGS)
    assert side is ChestWallSide.RIGHT and note.startswith("chest wall: right (edge heights")


@pytest.mark.parametrize("laterality, side", [(Laterality.LEFT, ChestWallSide.LEFT),
                                              (Laterality.RIGHT, ChestWallSide.RIGHT),
                                              (Laterality.UNKNOWN, ChestWallSide.LEFT)])
def test_a_near_tie_is_decided_by_the_laterality(laterality, side):
    block = np.zeros((30, 20), bool)
    block[5:25, 3:17] = True
    block[5, 16] = False  # 20 vs 19.5 rows on average: within the 5 % tie ratio
    found, note = chest_wall_side(block, laterality, **SETTINGS)
    assert found is side and "near tie" in note
