"""Tests for mammo_cv.core.psf helpers not covered by the insertion tests."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from mammo_cv.core.psf import _centroid


@pytest.mark.parametrize("shape", [(50, 70), (397, 223), (1, 40)])
def test_centroid_equals_the_image_moments_centroid(shape):
    mask = np.random.default_rng(1).random(shape) < 0.3
    moments = cv2.moments(mask.view(np.uint8), binaryImage=True)
    assert _centroid(mask) == (moments["m01"] / moments["m00"], moments["m10"] / moments["m00"])


def test_centroid_of_an_empty_mask_is_none():
    assert _centroid(np.zeros((8, 8), bool)) is None
