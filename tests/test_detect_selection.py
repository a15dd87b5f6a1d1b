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
    # distances to the confident three: (0, 4.9) 4.9 / 2.9 / 5.3 mm -> 2 within 5 mm;
    # (0, 5.2) 5.2 / 3.2 / 5.6 mm -> 1; (3, 3) is under context_min_confidence; (1, 1) -> 3
    assert _reported(valid, confidence, peak_mm, config).tolist() == [True] * 3 + [False] * 3 + [True]
    assert _reported(valid, confidence, peak_mm, DetectionConfig(context_min_neighbours=2)).tolist() == \
        [True] * 3 + [True, False, False, True]
    assert _reported(valid, confidence, peak_mm, DetectionConfig(context_radius_mm=8.0)).tolist() == \
        [True] * 3 + [True, True, False, True]
    invalid = valid.copy()
    invalid[[0, 6]] = False  # the 8-sigma one is off the breast: two confident neighbours remain
    assert _reported(invalid, confidence, peak_mm, config).tolist() == [False, True, True] + [False] * 4
    no_context = DetectionConfig(context_min_confidence=6.0)
    assert _reported(valid, confidence, peak_mm, no_context).tolist() == [True] * 3 + [False] * 4
