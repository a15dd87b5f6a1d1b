"""Length and width of detected secretory rods on synthetic phantoms, against the truth.

Usage::

    python scripts/evaluate_features.py --out report.json [--spacings 0.07 0.1] [--seeds 0 1 2 3]
    python scripts/evaluate_features.py --out report.json --speed

Each phantom (``mammo_cv.synthetic.phantoms.phantom``, all calcification kinds, both laterality/view
alternating with the seed) goes through :func:`mammo_cv.pipeline.analysis.analyze`. A true
calcification of kind "secretory" is matched to the detection that overlaps most of its
pixels (``phantom.calc_labels`` vs the detector's label image); it is "split" when more than
one detection overlaps it. The report gives, per spacing, the median absolute relative error
of ``length_mm`` and ``width_mm`` over the matched rods (target: length <= 15 %), also
over the rods found in one piece, and per-rod values.

``--speed`` instead times features + clusters (+ vascular context) for 2,000 objects (disks
and rods 0.2-1.7 mm, 0.07 mm spacing, 4096 x 3328 image; median of 5 runs; target:
features + clusters <= 0.2 s).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from mammo_cv.core.types import MammoImage
from mammo_cv.describe import cluster_table
from mammo_cv.describe.calcifications import measure_calcifications
from mammo_cv.describe.vascular import find_vascular
from mammo_cv.pipeline.analysis import analyze
from mammo_cv.synthetic.phantoms import phantom

SIZE_MM = (120.0, 96.0)  # a small breast keeps a run short; rod geometry does not depend on it


def match_rods(ph, result) -> list[dict]:
    """One record per true secretory rod: truth, the best-overlapping detection, split flag."""
    calc_labels = ph.calc_labels
    det_labels = result.detections.label_image
    both = (calc_labels > 0) & (det_labels > 0)
    pairs, overlap = np.unique(np.stack([calc_labels[both], det_labels[both]]), axis=1, return_counts=True)
    table = result.calc_table
    out = []
    for calc in ph.truth["calcifications"]:
        if calc["kind"] != "secretory":
            continue
        mine = pairs[0] == calc["id"]
        record = {"id": int(calc["id"]), "true_length_mm": float(calc["length_mm"]),
                  "true_width_mm": float(calc["width_mm"]), "detected": bool(mine.any()),
                  "pieces": int(mine.sum())}
        if mine.any():
            det = int(pairs[1][mine][np.argmax(overlap[mine])]) - 1
            record["length_mm"] = float(table["length_mm"][det])
            record["width_mm"] = float(table["width_mm"][det])
            record["length_rel_error"] = record["length_mm"] / record["true_length_mm"] - 1.0
            record["width_rel_error"] = record["width_mm"] / record["true_width_mm"] - 1.0
        out.append(record)
    return out


def summarise(rods: list[dict]) -> dict:
    """Median absolute relative errors over matched rods, all and unsplit."""
    found = [r for r in rods if r["detected"]]
    whole = [r for r in found if r["pieces"] == 1]

    def median_abs(records: list[dict], key: str) -> float | None:
        return float(np.median(np.abs([r[key] for r in records]))) if records else None

    return {"rods": len(rods), "detected": len(found), "split": len(found) - len(whole),
            "median_abs_rel_error_length": median_abs(found, "length_rel_error"),
            "median_abs_rel_error_width": median_abs(found, "width_rel_error"),
            "median_rel_error_length": float(np.median([r["length_rel_error"] for r in found])) if found else None,
            "median_rel_error_width": float(np.median([r["width_rel_error"] for r in found])) if found else None,
            "unsplit_median_abs_rel_error_length": median_abs(whole, "length_rel_error"),
            "unsplit_median_abs_rel_error_width": median_abs(whole, "width_rel_error")}


def evaluate(spacing_mm: float, seeds: list[int]) -> tuple[dict, list[dict]]:
    rods = []
    for seed in seeds:
        ph = phantom(spacing_mm=spacing_mm, size_mm=SIZE_MM, seed=seed, laterality="LR"[seed % 2],
                     view=("CC", "MLO")[(seed // 2) % 2])
        for record in match_rods(ph, analyze(ph.image)):
            rods.append({"seed": seed, **record})
    return summarise(rods), rods


def speed(n_objects: int = 2000, repeats: int = 5) -> dict:
    """Median seconds of features, clusters and vascular context for ``n_objects`` objects."""
    rng = np.random.default_rng(0)
    labels = np.zeros((4096, 3328), np.int32)
    rows, cols = np.meshgrid(np.arange(30, 4060, 80), np.arange(30, 3300, 80), indexing="ij")
    for k, (r, c) in enumerate(zip(rows.ravel()[:n_objects], cols.ravel()[:n_objects]), start=1):
        length, width = int(rng.integers(3, 25)), int(rng.integers(3, 6))
        if rng.random() < 0.5:
            labels[r:r + width, c:c + length] = k
        else:
            labels[r:r + length, c:c + width] = k
    pixels = (rng.normal(1000.0, 5.0, labels.shape) + 100.0 * (labels > 0)).astype(np.float32)
    image = MammoImage(pixels, (0.07, 0.07), "argument")
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        table = measure_calcifications(image, labels, nipple_rc=(2000.0, 3300.0))
        t1 = time.perf_counter()
        table["confidence"] = np.full(n_objects, 10.0)
        cluster_table(table, nipple_rc_mm=(140.0, 231.0), breast_area_mm2=40000.0)
        t2 = time.perf_counter()
        find_vascular(table)
        times.append((t1 - t0, t2 - t1, time.perf_counter() - t2))
    features_s, clusters_s, vascular_s = np.median(times, axis=0)
    return {"objects": n_objects, "features_s": float(features_s), "clusters_s": float(clusters_s),
            "vascular_s": float(vascular_s), "features_plus_clusters_s": float(features_s + clusters_s)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--spacings", type=float, nargs="+", default=[0.07, 0.1])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4, 5])
    parser.add_argument("--speed", action="store_true", help="time 2,000 objects instead")
    args = parser.parse_args(argv)
    if args.speed:
        report = speed()
        args.out.write_text(json.dumps(report, indent=1))
        print(f"{report['objects']} objects, median s: features {report['features_s']:.3f}, clusters "
              f"{report['clusters_s']:.3f}, vascular {report['vascular_s']:.3f}")
        return report
    report = {"size_mm": SIZE_MM, "seeds": args.seeds, "target": "median |length error| <= 0.15", "spacings": {}}
    for spacing in args.spacings:
        summary, rods = evaluate(spacing, args.seeds)
        report["spacings"][str(spacing)] = {**summary, "per_rod": rods}
        print(f"{spacing} mm: {summary['detected']}/{summary['rods']} secretory rods detected "
              f"({summary['split']} split); median |rel error| length {summary['median_abs_rel_error_length']:.3f}, "
              f"width {summary['median_abs_rel_error_width']:.3f}; unsplit rods: length "
              f"{summary['unsplit_median_abs_rel_error_length']:.3f}, width "
              f"{summary['unsplit_median_abs_rel_error_width']:.3f}")
    args.out.write_text(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
