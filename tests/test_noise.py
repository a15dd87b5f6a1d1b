"""Noise curve and variance-stabilising transform, checked against known noise models."""

import numpy as np
import pytest

from mammo_cv.detection.noise import equalize_noise, noise_curve

SHAPE = (600, 600)


def _ramp_with_noise(sigma_of_grey, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal grey ramp 200..2000 plus white noise of sigma ``sigma_of_grey(grey)``."""
    level = np.repeat(np.linspace(200, 2000, SHAPE[1], dtype=np.float32)[None, :], SHAPE[0], axis=0)
    noise = np.random.default_rng(seed).normal(size=SHAPE).astype(np.float32)
    return level + noise * sigma_of_grey(level).astype(np.float32), level


@pytest.mark.parametrize("model", [lambda g: np.sqrt(g), lambda g: 2 + 0.01 * g, lambda g: 5 + 0 * g])
def test_noise_curve_recovers_the_noise_model(model):
    """Poisson-like, linear and constant noise: each bin's sigma within 8 % of the truth (the
    sampled statistic is x minus the mean of its 8 neighbours: sd = sigma sqrt(1 + 1/8))."""
    noisy, _ = _ramp_with_noise(model)
    grey, sigma = noise_curve(noisy, np.ones(SHAPE, bool), 0.1, sample_mm=0.3, bins=16)
    assert grey.size == 16 and np.all(np.diff(grey) > 0)
    np.testing.assert_allclose(sigma, model(grey) * np.sqrt(1 + 1 / 8), rtol=0.08)


def test_noise_curve_ignores_bright_spots_and_the_area_outside_the_mask():
    """Calcification-like spots on 5 % of the samples do not raise the robust sigma; pixels
    outside the mask (pure noise 10x stronger) are not sampled."""
    noisy, _ = _ramp_with_noise(lambda g: 5 + 0 * g)
    rng = np.random.default_rng(1)
    rows, cols = rng.integers(0, SHAPE[0], 900), rng.integers(0, SHAPE[1], 900)
    noisy[rows, cols] += 200
    mask = np.ones(SHAPE, bool)
    mask[:, :100] = False
    noisy[:, :100] += np.random.default_rng(2).normal(0, 50, (SHAPE[0], 100)).astype(np.float32)
    _, sigma = noise_curve(noisy, mask, 0.1, sample_mm=0.3, bins=16)
    np.testing.assert_allclose(sigma, 5 * np.sqrt(1 + 1 / 8), rtol=0.12)


def test_equalized_noise_is_the_same_at_every_grey_and_order_is_kept():
    """After the transform the noise of the darkest and the brightest sixth agree within 10 %
    (2.3x apart before), and the map is monotone: a brighter pixel stays brighter."""
    noisy, level = _ramp_with_noise(lambda g: np.sqrt(g))
    flat = equalize_noise(noisy, np.ones(SHAPE, bool), 0.1, sample_mm=0.3, bins=16)
    def noise(a: np.ndarray) -> tuple[float, float]:
        return float(np.std(np.diff(a[:, :100], axis=0))), float(np.std(np.diff(a[:, -100:], axis=0)))
    dark, bright = noise(noisy)
    assert bright / dark > 2.0
    dark, bright = noise(flat)
    assert abs(bright / dark - 1) < 0.1
    order = np.argsort(noisy, axis=None)
    assert np.all(np.diff(flat.ravel()[order]) >= 0)


def test_too_small_a_mask_leaves_the_pixels_unchanged():
    noisy, _ = _ramp_with_noise(lambda g: np.sqrt(g))
    mask = np.zeros(SHAPE, bool)
    mask[:10, :10] = True
    assert equalize_noise(noisy, mask, 0.1, sample_mm=0.5, bins=16) is noisy
    assert noise_curve(noisy, mask, 0.1, sample_mm=0.5, bins=16)[0].size == 0
