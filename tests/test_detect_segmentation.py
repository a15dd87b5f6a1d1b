"""Tests for mammo_cv.detection.segmentation on hand-drawn grey levels."""

from __future__ import annotations

import numpy as np

from mammo_cv.detection.detect import DetectionConfig
from mammo_cv.detection.segmentation import _whole_objects


def test_whole_object_needs_a_filled_plateau():
    """The whole-object pass keeps a flat-topped blob and rejects one whose bright cores are
    joined only through a dim bridge (grey 55 % of the way up: inside the half maximum, below
    the plateau level ``whole_core_fraction``), so the bridge cannot merge the cores."""
    config = DetectionConfig()
    shape, spacing = (60, 60), (0.2, 0.2)
    grey = np.zeros(shape, np.float32)
    grey[10:20, 10:20] = 1.0                      # 2 x 2 mm plateau
    grey[40:50, 10:50] = 0.55                     # 2 x 8 mm dim bridge ...
    grey[43:46, 12:48:6] = 1.0                    # ... holding six 0.6 mm bright cores
    flat = np.arange(grey.size)
    zeros = np.zeros(grey.size, np.float32)
    whole = _whole_objects(flat, grey.ravel(), zeros, np.ones(grey.size, np.float32), shape, spacing, config)
    kept = np.zeros(grey.size, bool)
    kept[whole] = True
    kept = kept.reshape(shape)
    assert kept[10:20, 10:20].all()
    assert not kept[40:50].any()
    loose = DetectionConfig(whole_min_core_share=0.0)  # the round-3 pass: the bridge joins the cores
    whole = _whole_objects(flat, grey.ravel(), zeros, np.ones(grey.size, np.float32), shape, spacing, loose)
    assert np.isin(np.ravel_multi_index((44, 12), shape), whole)
