"""Calibration of the phantom's calcium contrast (mammo_cv.synthetic.calibration,
PhantomConfig.calc_density, scripts/calibrate_phantoms.py)."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from script_modules import load_script

from mammo_cv.synthetic.backgrounds import mias_part
from mammo_cv.synthetic.calibration import GroupPeaks, calcium_fraction, group_peaks, psf_matching_sigma_px
from mammo_cv.synthetic.phantoms import CALIBRATED_CALC_DENSITY, PhantomConfig, phantom

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "calibrate_phantoms.py"


def _spots(heights: list[float], radius_px: float = 1.5) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """A flat 200 x 200 image with small disks of the given heights, 15 px apart around (100, 100)."""
    pixels = np.full((200, 200), 500.0, np.float32)
    centres = []
    for k, height in enumerate(heights):
        centre = (100 + 15 * (k % 3 - 1), 100 + 15 * (k // 3 - 1))
        disk = np.zeros_like(pixels)
        cv2.circle(disk, centre[::-1], int(radius_px), 1.0, -1)
        pixels += height * disk
        centres.append(centre)
    return pixels, centres


def test_group_peaks_are_the_brightest_spots_in_the_circle():
    pixels, _ = _spots([40.0, 10.0, 30.0, 20.0, 5.0, 25.0])
    pixels[100, 170] += 90.0  # outside the circle: not counted
    peaks = group_peaks(pixels, (100.0, 100.0), 25.0, spacing_mm=0.1, top=4)
    np.testing.assert_allclose(peaks, [40.0, 30.0, 25.0, 20.0], atol=1e-4)


def test_group_peaks_ignore_a_smooth_background():
    pixels, _ = _spots([30.0, 30.0, 30.0])
    rows, cols = np.mgrid[:200, :200]
    pixels += (2.0 * rows + 1.5 * cols).astype(np.float32)  # a tissue gradient of 2 grey/px
    peaks = group_peaks(pixels, (100.0, 100.0), 25.0, spacing_mm=0.1, top=3)
    np.testing.assert_allclose(peaks, 30.0, atol=6.0)


def test_psf_matching_adds_the_missing_blur_in_quadrature():
    spacing = 0.2
    sigma_px = psf_matching_sigma_px(0.14, 0.03, spacing)
    own = math.hypot(0.03, spacing / math.sqrt(12.0))
    assert math.hypot(own, sigma_px * spacing) == pytest.approx(0.14)
    assert psf_matching_sigma_px(0.01, 0.03, spacing) == 0.0


def test_calcium_fraction_is_the_ratio_of_medians():
    real = [GroupPeaks("r#0", "dev", np.array([0.3, 0.2, 0.1]), 0.02)]
    synthetic = [GroupPeaks("p#0", "phantom", np.array([0.8, 0.4]), 0.02),
                 GroupPeaks("p#1", "phantom", np.array([0.6]), 0.02)]
    assert calcium_fraction(real, synthetic) == pytest.approx(0.2 / 0.6)
    with pytest.raises(ValueError, match="both sides"):
        calcium_fraction([], synthetic)


def test_mias_films_split_by_woman():
    assert [mias_part(ref) for ref in ("mdb001", "mdb002", "mdb003", "mdb004", "mdb249", "mdb250")] == [
        "dev", "dev", "heldout", "heldout", "dev", "dev"]


def test_calc_density_scales_the_calcium_attenuation():
    noiseless = replace(PhantomConfig(), detector_air_kerma_uGy=1e11)
    kw = dict(spacing_mm=0.2, size_mm=(120.0, 96.0), seed=3, calcifications=["coarse", "pleomorphic"])
    images = [phantom(**kw, config=replace(noiseless, calc_density=d)).image.pixels.astype(np.float64)
              for d in (0.0, 0.5, 1.0)]
    full = images[2] - images[0]
    assert full.max() > 100.0
    np.testing.assert_allclose(images[1] - images[0], 0.5 * full, atol=0.05 * full.max() / 100 + 1e-3)


@pytest.mark.parametrize("density", [-0.1, 1.5])
def test_calc_density_outside_0_to_1_is_refused(density):
    with pytest.raises(ValueError, match="calc_density"):
        PhantomConfig(calc_density=density)


def test_the_solved_density_matches_the_development_women(mias_dir, tmp_path):
    out = tmp_path / "calibration.json"
    load_script(SCRIPT).main([str(mias_dir), "--out", str(out), "--seeds", "0", "8", "--solve"])
    report = json.loads(out.read_text())
    assert 0.0 < report["phantom_calc_density"] < 1.0
    assert report["dev"]["fraction"] == pytest.approx(1.0, abs=0.1)
    assert report["dev"]["groups"] + report["heldout"]["groups"] == report["all"]["groups"] >= 10


def test_the_shipped_calibrated_density_matches_the_development_women(mias_dir, tmp_path):
    out = tmp_path / "calibration.json"
    load_script(SCRIPT).main([str(mias_dir), "--out", str(out), "--seeds", "0", "8",
                              "--calc-density", str(CALIBRATED_CALC_DENSITY)])
    report = json.loads(out.read_text())
    assert report["phantom_calc_density"] == CALIBRATED_CALC_DENSITY
    assert report["dev"]["fraction"] == pytest.approx(1.0, abs=0.15)
    assert report["heldout"]["fraction"] < 1.0  # the held-out women's calcifications are fainter (section 8)
