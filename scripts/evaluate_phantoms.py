"""Calcification-level recall of the detector on synthetic phantoms, by size band.

Usage::

    python scripts/evaluate_phantoms.py --out report.json [--spacings 0.07 0.1] [--seeds 100 120]
        [--min-confidence 6] [--size-mm 240 190] [--calc-density 0.459]

For each spacing, phantoms with calcifications (seeds ``a..b-1``) and calcification-free
phantoms (seeds ``1000+a..1000+b-1``) cycle through L-CC, R-CC, L-MLO, R-MLO. Reported: recall
per size band (matching rules of :mod:`mammo_cv.evaluation.metrics`), recall for >= 0.3 mm and
0.15-0.3 mm (also split by kind and by area: ``size_mm`` is the greatest dimension, and a thin
rod or star of the band can have the pixel area of a disk under 0.15 mm), the fraction of found
calcifications split into several detections, and false
detections per image with and without calcifications, at ``--min-confidence``. Per size band
also the whole-object fraction: truth calcifications of which ONE detection holds >= 50 % of
the truth area (``WHOLE_AREA_FRACTION``), and the split fraction (overlapped by > 1 detection).
Seeds 0-9 were used to develop the detector; report figures on other seeds (e.g. 100-119).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from mammo_cv.anatomy.landmarks import find_anatomy
from mammo_cv.detection.detect import DetectionConfig, detect_calcifications
from mammo_cv.evaluation.metrics import SIZE_BANDS_MM, label_overlaps, match_calcifications, recall_by_size
from mammo_cv.synthetic.phantoms import CALIBRATED_CALC_DENSITY, PhantomConfig, phantom, seed_pose

FREE_SEED_OFFSET = 1000  # calcification-free phantoms use other seeds than the ones with calcs
WHOLE_AREA_FRACTION = 0.5  # one detection must hold at least half the truth area (the whole-object criterion)


def overlap_summary(calc_labels: np.ndarray, det_labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each true label 1..m: the largest fraction of its area held by one detection, (m,)
    float, and the number of detections overlapping it, (m,) int."""
    m = int(calc_labels.max()) if calc_labels.size else 0
    area = np.bincount(calc_labels.ravel(), minlength=m + 1)[1:]
    pairs, counts = label_overlaps(calc_labels, det_labels)
    best = np.zeros(m + 1, np.int64)
    np.maximum.at(best, pairs[:, 0], counts)
    pieces = np.bincount(pairs[:, 0], minlength=m + 1)[1:]
    return best[1:] / np.maximum(area, 1), pieces


def whole_by_size(sizes_mm: np.ndarray, share: np.ndarray, pieces: np.ndarray) -> list[dict]:
    """Per size band (:data:`mammo_cv.evaluation.metrics.SIZE_BANDS_MM`): n, whole-object fraction (one
    detection holds >= ``WHOLE_AREA_FRACTION`` of the area) and split fraction (> 1 detection)."""
    out = []
    for low, high in SIZE_BANDS_MM:
        inband = (sizes_mm >= low) & (sizes_mm < high)
        count = int(inband.sum())
        out.append({"low_mm": low, "high_mm": high, "n": count,
                    "whole": float((share[inband] >= WHOLE_AREA_FRACTION).mean()) if count else None,
                    "split": float((pieces[inband] > 1).mean()) if count else None})
    return out


def run_one(spacing_mm: float, seed: int, calcifications: str, config: DetectionConfig,
            size_mm: tuple[float, float] = (240.0, 190.0), phantom_config: PhantomConfig | None = None) -> dict:
    """Detect on one phantom (pose chosen by the seed); return sizes, found flags, splits and false detections."""
    laterality, view = seed_pose(seed)
    ph = phantom(spacing_mm=spacing_mm, seed=seed, calcifications=calcifications,
                 laterality=laterality, view=view, size_mm=size_mm, config=phantom_config)
    anatomy = find_anatomy(ph.image)
    dets = detect_calcifications(ph.image, anatomy, config=config)
    found, n_false = match_calcifications(ph.calc_labels, dets.label_image, dets.peak_rc,
                                          spacing_mm=spacing_mm)
    by_id = {c["id"]: c for c in ph.truth["calcifications"]}
    ids = range(1, found.size + 1)
    sizes = np.array([by_id[k]["size_mm"] if k in by_id else np.nan for k in ids])
    kinds = np.array([by_id[k]["kind"] if k in by_id else "" for k in ids])
    area_mm2 = np.bincount(ph.calc_labels.ravel(), minlength=found.size + 1)[1:] * spacing_mm ** 2
    share, pieces = overlap_summary(ph.calc_labels, dets.label_image)
    return {"sizes_mm": sizes, "kinds": kinds, "equivalent_diameter_mm": np.sqrt(4 * area_mm2 / np.pi),
            "found": found, "pieces": pieces, "n_false": n_false, "share": share, "n_detections": len(dets)}


def summarise(spacing_mm: float, seeds: range, config: DetectionConfig,
              size_mm: tuple[float, float] = (240.0, 190.0), phantom_config: PhantomConfig | None = None) -> dict:
    """Pooled figures over ``seeds`` (with calcifications) and their calcification-free twins."""
    runs = [run_one(spacing_mm, seed, "all", config, size_mm, phantom_config) for seed in seeds]
    free = [run_one(spacing_mm, FREE_SEED_OFFSET + seed, "none", config, size_mm, phantom_config) for seed in seeds]
    sizes = np.concatenate([r["sizes_mm"] for r in runs])
    found = np.concatenate([r["found"] for r in runs])
    pieces = np.concatenate([r["pieces"] for r in runs])
    share = np.concatenate([r["share"] for r in runs])
    kinds = np.concatenate([r["kinds"] for r in runs])
    equivalent = np.concatenate([r["equivalent_diameter_mm"] for r in runs])
    big, small = sizes >= 0.3, (sizes >= 0.15) & (sizes < 0.3)
    thin = small & (equivalent < 0.15)  # greatest dimension in the band, area of a disk under it

    def recall(where: np.ndarray) -> dict:
        return {"n": int(where.sum()), "recall": float(found[where].mean()) if where.any() else None}
    return {
        "spacing_mm": spacing_mm,
        "seeds": [seeds.start, seeds.stop],
        "calcifications": int(sizes.size),
        "recall_by_size": recall_by_size(sizes, found),
        "recall_ge_0p3_mm": recall(big)["recall"],
        "recall_0p15_to_0p3_mm": recall(small)["recall"],
        # size_mm is the greatest dimension: a thin rod or star of the band has the area (and
        # so the total contrast) of a disk under 0.15 mm
        "recall_0p15_to_0p3_mm_by_area": {"equivalent_diameter_lt_0p15_mm": recall(thin),
                                          "equivalent_diameter_ge_0p15_mm": recall(small & ~thin)},
        "recall_0p15_to_0p3_mm_by_kind": {str(kind): recall(small & (kinds == kind))
                                          for kind in np.unique(kinds[small])},
        "split_fraction": float((pieces[pieces > 0] > 1).mean()) if (pieces > 0).any() else None,
        "whole_by_size": whole_by_size(sizes, share, pieces),
        "whole_ge_1_mm": float((share[sizes >= 1.0] >= WHOLE_AREA_FRACTION).mean()) if (sizes >= 1.0).any() else None,
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
    parser.add_argument("--calc-density", type=float, default=PhantomConfig().calc_density,
                        help=f"phantom calcium fraction (calibrated on real images: {CALIBRATED_CALC_DENSITY})")
    args = parser.parse_args(argv)
    seeds = range(*args.seeds)
    phantom_config = replace(PhantomConfig(), calc_density=args.calc_density)
    report = {"detection_config": asdict(DetectionConfig()), "calc_density": args.calc_density, "results": []}
    for threshold in args.min_confidence:
        config = replace(DetectionConfig(), min_confidence=threshold)
        for spacing in args.spacings:
            figures = summarise(spacing, seeds, config, tuple(args.size_mm), phantom_config)
            result = {"min_confidence": threshold, **figures}
            report["results"].append(result)
            print(f"min_confidence {threshold}, {spacing} mm: recall >=0.3 mm {result['recall_ge_0p3_mm']:.3f}, "
                  f"0.15-0.3 mm {result['recall_0p15_to_0p3_mm']:.3f}, split {result['split_fraction']:.3f}, "
                  f"false/calc-free image {result['false_detections_per_calc_free_image']:.2f}", flush=True)
            by_area = result["recall_0p15_to_0p3_mm_by_area"]
            print("  0.15-0.3 mm by area-equivalent diameter: " + ", ".join(
                f"{name.removeprefix('equivalent_diameter_')} n={v['n']} {v['recall'] or 0:.3f}"
                for name, v in by_area.items()), flush=True)
            print("  whole-object / split by size: " + ", ".join(
                f"{b['low_mm']}-{b['high_mm']} mm n={b['n']} {b['whole']:.2f}/{b['split']:.2f}"
                for b in result["whole_by_size"] if b["n"]), flush=True)
    args.out.write_text(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
