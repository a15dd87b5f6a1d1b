"""Robust sigma on hand-made samples and on Gaussian noise."""

import numpy as np
import pytest

from mammo_cv.core.stats import MAD_TO_SIGMA, robust_sigma


def test_robust_sigma_is_the_scaled_median_absolute_deviation():
    # median 3, absolute deviations 2, 1, 0, 1, 97: MAD 1
    assert robust_sigma(np.array([1.0, 2.0, 3.0, 4.0, 100.0])) == MAD_TO_SIGMA


def test_an_outlier_does_not_move_it():
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    outlier = values.copy()
    outlier[-1] = 1e6
    assert robust_sigma(outlier) == robust_sigma(values) == MAD_TO_SIGMA


def test_recovers_the_sigma_of_gaussian_noise():
    """200 000 samples of sigma 3: the MAD estimate has a relative sd of ~1.1/sqrt(n) = 0.25 %,
    so 1 % is four standard deviations."""
    samples = np.random.default_rng(0).normal(10.0, 3.0, 200_000)
    assert robust_sigma(samples) == pytest.approx(3.0, rel=0.01)
