"""Tests for mammo_cv.detection.scales: which pyramid level each top-hat runs on."""

from __future__ import annotations

import pytest

from mammo_cv.detection.detect import DetectionConfig
from mammo_cv.detection.scales import _scales_by_level


@pytest.mark.parametrize("spacing_mm, expected", [
    # kernel / (11 px x spacing): 0.1 mm -> 0.45, 1.09, 2.7, 9.1 -> levels 0, 1, 2, 4 (ceil log2)
    (0.1, {0: [(0.5, 1.0)], 1: [(1.2, 0.5)], 2: [(3.0, 0.25)], 4: [(10.0, 0.25)]}),
    # 0.2 mm -> 0.23, 0.55, 1.4, 4.5 -> levels 0, 0, 1, 3
    (0.2, {0: [(0.5, 1.0), (1.2, 0.5)], 1: [(3.0, 0.25)], 3: [(10.0, 0.25)]}),
])
def test_each_kernel_runs_where_it_is_about_kernel_px_target_wide(spacing_mm, expected):
    assert _scales_by_level(spacing_mm, DetectionConfig()) == expected
