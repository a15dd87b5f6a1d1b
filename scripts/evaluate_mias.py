"""Cluster-level FROC of the detector on the mini-MIAS dev set.

Usage::

    python scripts/evaluate_mias.py DATA_DIR --out report.json [--froc-png froc.png]

DATA_DIR holds ``mdbNNN.pgm`` (0.2 mm pixels) and ``annotations.csv``. The matching rules are
those of :mod:`mammo_cv.evaluation.metrics`. The report gives the FROC, the sensitivity at 0.25, 0.5, 1
and 2 false-positive clusters per image, the default operating point, a 2-fold split (odd
refnums vs even refnums) of the default operating point, and per-image results.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from mammo_cv.anatomy.landmarks import find_anatomy
from mammo_cv.describe import ClusterConfig, find_clusters
from mammo_cv.describe.calcifications import measure_calcifications
from mammo_cv.detection.detect import DetectionConfig, detect_calcifications
from mammo_cv.evaluation.metrics import FrocImage, froc_curve, match_clusters, read_mias_annotations, sensitivity_at
from mammo_cv.io import load_image

MIAS_SPACING_MM = 0.2  # mini-MIAS README: 200 micrometre pixel edge
FP_RATES = (0.25, 0.5, 1.0, 2.0)


def analyse(path: Path, circles: list, counts_fp: bool, det_cfg: DetectionConfig,
            clu_cfg: ClusterConfig) -> tuple[FrocImage, dict]:
    """Detect, cluster and match one image."""
    image = load_image(path, pixel_spacing_mm=MIAS_SPACING_MM, view="MLO")
    start = time.perf_counter()
    anatomy = find_anatomy(image)
    dets = detect_calcifications(image, anatomy, config=det_cfg)
    seconds = time.perf_counter() - start
    calcs = measure_calcifications(image, dets.label_image, nipple_rc=anatomy.nipple_rc, peak_snr=dets.peak_snr)
    # the pipeline's inputs (mammo_cv.describe.grouping.cluster_table): measured centroids and shapes
    _, clusters = find_clusters(calcs["row_mm"], calcs["col_mm"], dets.confidence, length_mm=calcs["length_mm"],
                                axis_angle_deg=calcs["axis_angle_deg"], elongation=calcs["elongation"],
                                config=clu_cfg)
    centre_px = clusters.centre_mm / np.asarray(image.spacing_mm)
    lesion = match_clusters(centre_px, circles, spacing_mm=MIAS_SPACING_MM)
    outcome = FrocImage(path.stem, clusters.score, lesion, len(circles), counts_fp)
    reported = clusters.score >= clu_cfg.min_score
    record = {
        "refnum": path.stem,
        "n_detections": len(dets),
        "n_clusters": len(clusters),
        "n_reported": int(reported.sum()),
        "lesions": len(circles),
        "lesions_hit": int(np.unique(lesion[reported & (lesion >= 0)]).size),
        "false_positive_clusters": int((reported & (lesion < 0)).sum()) if counts_fp else None,
        "clusters": [{"row_px": float(r), "col_px": float(c), "score": float(s), "members": int(m),
                      "lesion": int(k)}
                     for (r, c), s, m, k in zip(centre_px, clusters.score, clusters.n_members, lesion)],
        "anatomy_plus_detection_s": seconds,
    }
    return outcome, record


def operating_point(outcomes: list[FrocImage], min_score: float) -> dict:
    """Sensitivity and FP clusters/image keeping clusters with score >= ``min_score``."""
    curve = froc_curve(outcomes)
    ok = curve["threshold"] >= min_score
    index = int(np.flatnonzero(ok)[-1])
    n_lesions = sum(o.n_lesions for o in outcomes)
    return {"min_score": min_score, "sensitivity": float(curve["sensitivity"][index]),
            "lesions_hit": int(round(curve["sensitivity"][index] * n_lesions)), "lesions": n_lesions,
            "fp_per_image": float(curve["fp_per_image"][index]),
            "fp_images": sum(o.counts_fp for o in outcomes)}


def summary(outcomes: list[FrocImage], min_score: float) -> dict:
    curve = froc_curve(outcomes)
    return {
        "sensitivity_at_fp_per_image": {str(f): sensitivity_at(curve, f) for f in FP_RATES},
        "default_operating_point": operating_point(outcomes, min_score),
    }


def save_froc_png(curve: dict, path: Path, point: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    ax.step(curve["fp_per_image"], curve["sensitivity"], where="post")
    ax.plot([point["fp_per_image"]], [point["sensitivity"]], "o", label="default operating point")
    ax.set_xlabel("false-positive clusters per image")
    ax.set_ylabel("cluster sensitivity")
    ax.set_ylim(0, 1.02)
    ax.set_title("mini-MIAS dev, cluster-level FROC")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--froc-png", type=Path)
    args = parser.parse_args(argv)

    det_cfg, clu_cfg = DetectionConfig(), ClusterConfig()
    classes, circles, diffuse = read_mias_annotations(args.data_dir / "annotations.csv")
    outcomes, records = [], []
    for refnum in sorted(classes):
        outcome, record = analyse(args.data_dir / f"{refnum}.pgm", circles[refnum],
                                  refnum not in diffuse, det_cfg, clu_cfg)
        record["class"] = classes[refnum]
        outcomes.append(outcome)
        records.append(record)

    curve = froc_curve(outcomes)
    odd = [o for o in outcomes if int(o.refnum[3:]) % 2]
    even = [o for o in outcomes if not int(o.refnum[3:]) % 2]
    report = {
        "data_dir": str(args.data_dir),
        "images": len(outcomes),
        "matching": "cluster centre within max(radius, 2 mm) of an annotated CALC circle; "
                    "extra hits on a found lesion ignored; diffuse (no coordinates) images "
                    "excluded from sensitivity and FP counts",
        "detection_config": asdict(det_cfg),
        "cluster_config": asdict(clu_cfg),
        **summary(outcomes, clu_cfg.min_score),
        "split_odd_refnums": summary(odd, clu_cfg.min_score),
        "split_even_refnums": summary(even, clu_cfg.min_score),
        "diffuse": [{"refnum": r["refnum"], "reported_clusters": r["n_reported"]}
                    for r in records if r["refnum"] in diffuse],
        "median_seconds_anatomy_plus_detection": float(np.median([r["anatomy_plus_detection_s"] for r in records])),
        "froc": {k: [float(x) for x in v[1:]] for k, v in curve.items()},
        "per_image": records,
    }
    args.out.write_text(json.dumps(report, indent=1))
    if args.froc_png:
        save_froc_png(curve, args.froc_png, report["default_operating_point"])
    point = report["default_operating_point"]
    print(f"default operating point: sensitivity {point['sensitivity']:.3f} "
          f"({point['lesions_hit']}/{point['lesions']}) at {point['fp_per_image']:.3f} FP clusters/image")
    print("sensitivity at FP/image:", report["sensitivity_at_fp_per_image"])
    return report


if __name__ == "__main__":
    main()
