"""Tests for mammo_cv.detection.selection on hand-placed candidates."""

from __future__ import annotations

import numpy as np

from mammo_cv.detection.detect import DetectionConfig
from mammo_cv.detection.selection import _reported


def test_context_threshold_counts_neighbours_within_the_radius():
    """_reported: faint candidates need context_min_neighbours confident ones within
    context_radius_mm; confident ones are always reported; invalid ones never."""
    config = DetectionConfig()  # 6 / 4.5 sigma, 5 mm, 3 neighbours
    strong_mm = np.array([[0.0, 0.0], [0.0, 2.0], [2.0, 0.0]])
    faint_mm = np.array([[0.0, 4.9], [0.0, 5.2], [3.0, 3.0], [1.0, 1.0]])
    peak_mm = np.vstack([strong_mm, faint_mm])
    confidence = np.array([8.0, 7.0, 6.0, 5.0, 5.0, 4.4, 5.5])
    valid = np.ones(7, bool)
    NEITHER = np.zeros(7, bool), np.zeros(7, bool)  # no candidate is punctate-size or below the floor
    # distances to the confident three: (0, 4.9) 4.9 / 2.9 / 5.3 mm -> 2 within 5 mm;
    # (0, 5.2) 5.2 / 3.2 / 5.6 mm -> 1; (3, 3) is under context_min_confidence; (1, 1) -> 3
    assert _reported(valid, confidence, peak_mm, *NEITHER, config).tolist() == [True] * 3 + [False] * 3 + [True]
    assert _reported(valid, confidence, peak_mm, *NEITHER, DetectionConfig(context_min_neighbours=2)).tolist() == \
        [True] * 3 + [True, False, False, True]
    assert _reported(valid, confidence, peak_mm, *NEITHER, DetectionConfig(context_radius_mm=8.0)).tolist() == \
        [True] * 3 + [True, True, False, True]
    invalid = valid.copy()
    invalid[[0, 6]] = False  # the 8-sigma one is off the breast: two confident neighbours remain
    assert _reported(invalid, confidence, peak_mm, *NEITHER, config).tolist() == [False, True, True] + [False] * 4
    no_context = DetectionConfig(context_min_confidence=6.0)
    assert _reported(valid, confidence, peak_mm, *NEITHER, no_context).tolist() == [True] * 3 + [False] * 4


def test_tiny_spots_need_a_group_and_lone_small_ones_need_isolated_confidence():
    """_reported: a candidate below min_area_mm2 stays only with context_min_neighbours others
    within context_radius_mm; a lone punctate-size one only from isolated_min_confidence."""
    config = DetectionConfig()  # 6 sigma, lone dots 10 sigma, 5 mm, 3 neighbours
    group_mm = np.array([[0.0, 0.0], [0.0, 2.0], [2.0, 0.0], [2.0, 2.0]])
    lone_mm = np.array([[30.0, 0.0], [0.0, 30.0], [30.0, 30.0]])
    peak_mm = np.vstack([group_mm, lone_mm])
    confidence = np.array([7.0, 7.0, 7.0, 7.0, 8.0, 12.0, 8.0])
    valid = np.ones(7, bool)
    small = np.array([True, True, True, True, True, True, False])
    tiny = np.array([True, False, False, False, False, False, False])
    # the tiny group member has 3 neighbours; the lone 8-sigma dot is dropped, the 12-sigma one
    # and the lone 8-sigma candidate that is not punctate-size stay
    assert _reported(valid, confidence, peak_mm, small, tiny, config).tolist() == \
        [True] * 4 + [False, True, True]
    lone_tiny = tiny.copy()
    lone_tiny[5] = True  # a tiny spot is dropped without a group whatever its confidence
    assert _reported(valid, confidence, peak_mm, small, lone_tiny, config).tolist() == \
        [True] * 4 + [False, False, True]
    assert _reported(valid, confidence, peak_mm, small, tiny, DetectionConfig(context_min_neighbours=4)).tolist() == \
        [False] + [True] * 3 + [False, True, True]
