"""Calcification-level recall of the detector on synthetic phantoms, by size band.

Usage::

    python scripts/evaluate_phantoms.py --out report.json [--spacings 0.07 0.1] [--seeds 100 120]
        [--min-confidence 7] [--size-mm 240 190]

For each spacing, phantoms with calcifications (seeds ``a..b-1``) and calcification-free
phantoms (seeds ``1000+a..1000+b-1``) cycle through L-CC, R-CC, L-MLO, R-MLO. Reported: recall
per size band (matching rules of :mod:`mammo_cv.evaluate`), recall for >= 0.3 mm and
0.15-0.3 mm, the fraction of found calcifications split into several detections, and false
detections per image with and without calcifications, at ``--min-confidence``.
Seeds 0-9 were used to develop the detector; report figures on other seeds (e.g. 100-119).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from mammo_cv.anatomy import find_anatomy
from mammo_cv.detect import DetectionConfig, detect_calcifications
from mammo_cv.evaluate import match_calcifications, recall_by_size, split_fraction
from mammo_cv.phantoms import phantom

FREE_SEED_OFFSET = 1000  # calcification-free phantoms use other seeds than the ones with calcs
POSES = (("L", "CC"), ("R", "CC"), ("L", "MLO"), ("R", "MLO"))


def run_one(spacing_mm: float, seed: int, calcifications: str, config: DetectionConfig,
            size_mm: tuple[float, float] = (240.0, 190.0)) -> dict:
    """Detect on one phantom (pose chosen by the seed); return sizes, found flags, splits and false detections."""
    laterality, view = POSES[seed % len(POSES)]
    ph = phantom(spacing_mm=spacing_mm, seed=seed, calcifications=calcifications,
                           laterality=laterality, view=view, size_mm=size_mm)
    anatomy = find_anatomy(ph.image)
    dets = detect_calcifications(ph.image, anatomy, config=config)
    found, n_false = match_calcifications(ph.calc_labels, dets.label_image, dets.peak_rc,
                                          spacing_mm=spacing_mm)
    by_label = {c["id"]: c["size_mm"] for c in ph.truth["calcifications"]}
    sizes = np.array([by_label.get(k, np.nan) for k in range(1, found.size + 1)])
    both = (ph.calc_labels > 0) & (dets.label_image > 0)
    pairs = np.unique(np.stack([ph.calc_labels[both], dets.label_image[both]], axis=1), axis=0)
    pieces = np.bincount(pairs[:, 0], minlength=found.size + 1)[1:]
    return {"sizes_mm": sizes, "found": found, "pieces": pieces, "n_false": n_false,
            "n_detections": len(dets), "split_fraction": split_fraction(ph.calc_labels, dets.label_image)}


def summarise(spacing_mm: float, seeds: range, config: DetectionConfig,
              size_mm: tuple[float, float] = (240.0, 190.0)) -> dict:
    """Pooled figures over ``seeds`` (with calcifications) and their calcification-free twins."""
    runs = [run_one(spacing_mm, seed, "all", config, size_mm) for seed in seeds]
    free = [run_one(spacing_mm, FREE_SEED_OFFSET + seed, "none", config, size_mm) for seed in seeds]
    sizes = np.concatenate([r["sizes_mm"] for r in runs])
    found = np.concatenate([r["found"] for r in runs])
    pieces = np.concatenate([r["pieces"] for r in runs])
    big, small = sizes >= 0.3, (sizes >= 0.15) & (sizes < 0.3)
    return {
        "spacing_mm": spacing_mm,
        "seeds": [seeds.start, seeds.stop],
        "calcifications": int(sizes.size),
        "recall_by_size": recall_by_size(sizes, found),
        "recall_ge_0p3_mm": float(found[big].mean()) if big.any() else None,
        "recall_0p15_to_0p3_mm": float(found[small].mean()) if small.any() else None,
        "split_fraction": float((pieces[pieces > 0] > 1).mean()) if (pieces > 0).any() else None,
        "false_detections_per_image": float(np.mean([r["n_false"] for r in runs])),
        "false_detections_per_calc_free_image": float(np.mean([r["n_false"] for r in free])),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--spacings", type=float, nargs="+", default=[0.07, 0.1])
    parser.add_argument("--seeds", type=int, nargs=2, default=[100, 120], metavar=("FIRST", "STOP"))
    parser.add_argument("--min-confidence", type=float, nargs="+", default=[DetectionConfig().min_confidence])
    parser.add_argument("--size-mm", type=float, nargs=2, default=[240.0, 190.0])
    args = parser.parse_args(argv)
    seeds = range(*args.seeds)
    report = {"detection_config": asdict(DetectionConfig()), "results": []}
    for threshold in args.min_confidence:
        config = replace(DetectionConfig(), min_confidence=threshold)
        for spacing in args.spacings:
            result = {"min_confidence": threshold, **summarise(spacing, seeds, config, tuple(args.size_mm))}
            report["results"].append(result)
            print(f"min_confidence {threshold}, {spacing} mm: recall >=0.3 mm {result['recall_ge_0p3_mm']:.3f}, "
                  f"0.15-0.3 mm {result['recall_0p15_to_0p3_mm']:.3f}, split {result['split_fraction']:.3f}, "
                  f"false/calc-free image {result['false_detections_per_calc_free_image']:.2f}", flush=True)
    args.out.write_text(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
