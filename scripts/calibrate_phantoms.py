"""Measure the phantom's calcium fraction against the real calcification groups of mini-MIAS.

Usage::

    python scripts/calibrate_phantoms.py MIAS_DIR --out calibration.json [--seeds 0 20] [--top 5]

For every annotated CALC circle of the mini-MIAS folder, and for every calcification group of
phantoms (seeds ``FIRST..STOP-1``, suspicious clusters only, at the films' 0.2 mm and blurred to
their measured PSF), the ``top`` brightest spots' peak calcium attenuation is measured with one
estimator (:mod:`mammo_cv.synthetic.calibration`). The calcium fraction is the ratio of the
medians, reported on the development women (odd) and on the held-out women (even), with the
per-pixel noise of both sides in the same units.

The brightest spots of a group include the noise's upward push, which does not scale with the
calcium, so the fraction is not simply the value to set: ``--solve`` finds by bisection the
``calc_density`` at which the phantom's spots match the development women's (fraction 1), and
reports the held-out fraction at that density.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
from scipy import ndimage as ndi

from mammo_cv.anatomy.landmarks import find_anatomy
from mammo_cv.core.psf import measure_noise, psf_sigma_mm
from mammo_cv.evaluation.metrics import read_mias_annotations
from mammo_cv.io import load_image
from mammo_cv.synthetic.backgrounds import MIAS_GREY_PER_OD, MIAS_SPACING_MM, mias_part
from mammo_cv.synthetic.calibration import GroupPeaks, calcium_fraction, group_peaks, psf_matching_sigma_px
from mammo_cv.synthetic.contrast import film_grey_scale
from mammo_cv.synthetic.phantoms import PhantomConfig, phantom, seed_pose

INNER_MM = 2.0  # noise is measured this far inside the breast edge


def _noise_sigma(pixels: np.ndarray, breast: np.ndarray) -> tuple[float, float]:
    """Per-pixel noise sigma (grey) and noise blur (px) over the breast interior."""
    inner = ndi.binary_erosion(breast, iterations=int(round(INNER_MM / MIAS_SPACING_MM)))
    noise = measure_noise(pixels, inner)
    return noise.sigma_at(slice(None), slice(None), inner), noise.blur_sigma_px


def real_groups(folder: Path, top: int) -> tuple[list[GroupPeaks], list[float]]:
    """The brightest spots of every annotated mini-MIAS group, and each film's PSF (mm)."""
    _, circles, _ = read_mias_annotations(folder / "annotations.csv")
    groups, psfs = [], []
    for ref, refs_circles in sorted(circles.items()):
        if not refs_circles:
            continue
        image = load_image(folder / f"{ref}.pgm", pixel_spacing_mm=MIAS_SPACING_MM)
        pixels = image.pixels.astype(np.float32)
        sigma, blur_px = _noise_sigma(pixels, find_anatomy(image).breast_mask)
        psfs.append(psf_sigma_mm(blur_px, "film", MIAS_SPACING_MM)[0])
        per_neper = (1.0 + PhantomConfig().scatter_to_primary) / film_grey_scale(
            image, grey_per_od=MIAS_GREY_PER_OD).gain_per_neper
        for k, circle in enumerate(refs_circles):
            peaks = group_peaks(pixels, (circle.row_px, circle.col_px), max(circle.radius_px, 5.0),
                                spacing_mm=MIAS_SPACING_MM, top=top)
            groups.append(GroupPeaks(f"mias/{ref}#{k}", mias_part(ref), peaks * per_neper, sigma * per_neper))
    return groups, psfs


def phantom_groups(seeds: range, psf_mm: float, top: int, config: PhantomConfig) -> list[GroupPeaks]:
    """The brightest spots of every suspicious group of the phantoms, blurred to ``psf_mm``."""
    blur_px = psf_matching_sigma_px(psf_mm, config.detector_blur_sigma_mm, MIAS_SPACING_MM)
    groups = []
    for seed in seeds:
        laterality, view = seed_pose(seed)
        ph = phantom(spacing_mm=MIAS_SPACING_MM, seed=seed, laterality=laterality, view=view,
                     calcifications=["suspicious_cluster"], config=config)
        pixels = cv2.GaussianBlur(ph.image.pixels.astype(np.float32), (0, 0), blur_px)
        sigma, _ = _noise_sigma(pixels, ph.breast_mask)
        for group in ph.truth["groups"]:
            peaks = group_peaks(pixels, tuple(group["center_rc"]), 0.5 * group["extent_mm"] / MIAS_SPACING_MM,
                                spacing_mm=MIAS_SPACING_MM, top=top)
            groups.append(GroupPeaks(f"phantom/seed-{seed}#{group['group_id']}", "phantom",
                                     peaks / config.value_gain, sigma / config.value_gain))
    return groups


def solve_density(real: list[GroupPeaks], psf_mm: float, seeds: range, top: int, config: PhantomConfig,
                  *, steps: int = 8) -> float:
    """``calc_density`` in (0, 1] at which the phantom's fraction against the development groups is 1."""
    dev = [g for g in real if g.part == "dev"]
    low, high = 0.0, 1.0
    for _ in range(steps):
        middle = 0.5 * (low + high)
        synthetic = phantom_groups(seeds, psf_mm, top, replace(config, calc_density=middle))
        if calcium_fraction(dev, synthetic) < 1.0:
            high = middle
        else:
            low = middle
    return round(0.5 * (low + high), 3)


def _summary(groups: list[GroupPeaks]) -> dict:
    values = np.concatenate([g.attenuation for g in groups])
    return {"groups": len(groups), "spots": int(values.size),
            "attenuation_quartiles": np.percentile(values, [25, 50, 75]).round(4).tolist(),
            "noise_median": round(float(np.median([g.noise for g in groups])), 5),
            "snr_quartiles": np.percentile(np.concatenate([g.attenuation / g.noise for g in groups]),
                                           [25, 50, 75]).round(2).tolist()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mias", type=Path, help="mini-MIAS folder (annotations.csv, mdbNNN.pgm)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seeds", type=int, nargs=2, default=[0, 20], metavar=("FIRST", "STOP"))
    parser.add_argument("--top", type=int, default=5, help="brightest spots per group")
    parser.add_argument("--calc-density", type=float, default=None,
                        help="phantom calc_density to measure (default: PhantomConfig's)")
    parser.add_argument("--solve", action="store_true",
                        help="find the calc_density that matches the development women")
    args = parser.parse_args(argv)
    config = PhantomConfig() if args.calc_density is None else replace(PhantomConfig(), calc_density=args.calc_density)
    real, psfs = real_groups(args.mias, args.top)
    psf_mm = float(np.median(psfs))
    seeds = range(*args.seeds)
    if args.solve:
        config = replace(config, calc_density=solve_density(real, psf_mm, seeds, args.top, config))
    synthetic = phantom_groups(seeds, psf_mm, args.top, config)
    report = {"psf_mm": round(psf_mm, 4), "phantom_calc_density": config.calc_density,
              "phantom": _summary(synthetic)}
    for part in ("dev", "heldout"):
        chosen = [g for g in real if g.part == part]
        report[part] = {**_summary(chosen), "fraction": round(calcium_fraction(chosen, synthetic), 3)}
    report["all"] = {**_summary(real), "fraction": round(calcium_fraction(real, synthetic), 3)}
    args.out.write_text(json.dumps(report, indent=1))
    for part in ("dev", "heldout", "all"):
        print(f"{part:8s} groups {report[part]['groups']:2d}  fraction {report[part]['fraction']:.3f}  "
              f"snr {report[part]['snr_quartiles']}  noise {report[part]['noise_median']}")
    print(f"phantom  groups {report['phantom']['groups']:2d}  calc_density {config.calc_density}  "
          f"snr {report['phantom']['snr_quartiles']}  noise {report['phantom']['noise_median']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
