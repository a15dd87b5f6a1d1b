"""Measure the rule classifier on phantoms and, optionally, on mini-MIAS.

Usage::

    python scripts/evaluate_classification.py --out report.json [--seeds 1000 1020]
        [--spacings 0.07 0.1 ...] [--size-mm 120 96] [--rules FILE] [--mias DATA_DIR]

Resolution awareness (issue 14, item 4): the same seeds at the four spacings of the issue,
the first one the reference::

    python scripts/evaluate_classification.py --out r.json --spacings 0.05 0.07 0.1 0.2

Phantom set: for every seed in ``[seeds[0], seeds[1])`` one phantom per spacing, the view
alternating CC/MLO with the seed and the side L/R every two seeds (so both views and both
sides), all calcification kinds. A second set with the same seeds has no pleomorphic or
fine-linear-branching kinds, for false suspicious clusters.

Definitions
-----------
Truth calcification -> prediction
    A truth calcification takes the label of the detection that overlaps it most (label-image
    overlap, as ``evaluate.match_calcifications`` counts a calcification found); a truth
    calcification overlapped by no detection is *missed*.
Per-type F1 for secretory, vascular and macro (calcification level)
    TP: truth of the type predicted as the type. FN: truth of the type predicted otherwise
    (``f1_detected``) or also missed (``f1_end_to_end``). FP: truth of another kind predicted
    as the type, plus false detections (overlapping no truth) labelled as the type.
suspicious_cluster F1 (cluster level)
    A truth group (pleomorphic or fine-linear-branching) is found when a cluster labelled
    ``suspicious_cluster`` has a member overlapping one of its calcifications. FN: truth group
    not found. FP: a suspicious cluster none of whose members overlaps a suspicious truth
    calcification. Recall = found / truth groups (end to end: includes detector misses).
Macro-F1
    Mean of the four F1 (``f1_detected`` for the three calcification types).
Label agreement across spacings (``agreement``, per spacing)
    Over truth calcifications detected both at the first spacing given (the reference) and at
    this one, for the same seed: fraction with the same predicted label (``vs_reference``); over
    the truth calcifications detected at this spacing: fraction whose predicted label is the
    truth's (``vs_truth``; by kind in ``vs_truth_by_kind``); over truth suspicious groups: same
    found / not found as at the reference (``group_vs_reference``).
mini-MIAS (``--mias``)
    Annotated CALC circles with coordinates (``evaluate.read_mias_annotations``); a group is
    labelled suspicious when a cluster whose centre hits it (``evaluate.match_clusters``) is
    labelled ``suspicious_cluster``; its score is the highest score of the clusters hitting it
    (0 when none). ROC AUC of that score, malignant vs benign (Mann-Whitney). Suspicious
    clusters, and reported clusters of any label, hitting no circle are counted per image;
    lesions hit by any reported cluster are the grouping's sensitivity.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from mammo_cv.classify.rules import load_rules
from mammo_cv.config.settings import Config
from mammo_cv.evaluation.metrics import best_overlap, f1_score, match_clusters, read_mias_annotations
from mammo_cv.io import load_image
from mammo_cv.pipeline.analysis import analyze
from mammo_cv.synthetic.phantoms import CALC_KINDS, CALIBRATED_CALC_DENSITY, PhantomConfig, phantom

CALC_TYPES = ("secretory", "vascular", "macro")
SUSPICIOUS_KINDS = ("pleomorphic", "fine_linear_branching")


def _pose(seed: int) -> tuple[str, str]:
    return ("CC", "MLO")[seed % 2], ("L", "R")[(seed // 2) % 2]


def phantom_outcome(seed: int, spacing_mm: float, size_mm: tuple[float, float], config: Config,
                    kinds: tuple[str, ...], phantom_config: PhantomConfig | None = None) -> dict:
    """Analyse one phantom and compare its labels with the truth."""
    view, side = _pose(seed)
    ph = phantom(spacing_mm=spacing_mm, size_mm=size_mm, seed=seed, view=view, laterality=side,
                 calcifications=kinds, config=phantom_config)
    result = analyze(ph.image, config=config)
    det = result.detections.label_image
    calc_label = dict(zip(result.calc_table["calc_id"].tolist(), result.calc_table["label"].tolist()))
    truth_to_det = best_overlap(ph.calc_labels, det)
    det_to_truth = best_overlap(det, ph.calc_labels)
    calcs = ph.truth["calcifications"]
    kind_of = {c["id"]: c["kind"] for c in calcs}
    group_of = {c["id"]: c["group_id"] for c in calcs}
    truth_rows = [{"id": c["id"], "kind": c["kind"], "truth": c["label"], "group_id": c["group_id"],
                   "pred": calc_label[truth_to_det[c["id"]]] if c["id"] in truth_to_det else None}
                  for c in calcs]
    false_labels = [calc_label[d] for d in calc_label if d not in det_to_truth]
    # clusters: which truth suspicious groups each suspicious cluster touches
    cid = result.calc_table["cluster_id"]
    ids = result.calc_table["calc_id"]
    groups = {g["group_id"] for g in ph.truth["groups"] if g["label"] == "suspicious_cluster"}
    found, false_clusters, false_kinds = set(), 0, []
    clusters_of_group: dict[int, set] = {g: set() for g in groups}
    for j, label in enumerate(result.cluster_table["label"]):
        members = ids[cid == result.cluster_table["cluster_id"][j]]
        truth_ids = [det_to_truth[int(m)] for m in members if int(m) in det_to_truth]
        touched = {group_of[t] for t in truth_ids if kind_of[t] in SUSPICIOUS_KINDS}
        for g in touched:
            clusters_of_group[g].add(j)
        if label != "suspicious_cluster":
            continue
        found |= touched
        false_clusters += not touched
        if not touched:
            false_kinds.append(sorted({kind_of[t] for t in truth_ids}) or ["false detections"])
    group_kind = {g: next(c["kind"] for c in calcs if c["group_id"] == g) for g in groups}
    in_cluster = {g: {m for m in ids[cid >= 0].tolist() if m in det_to_truth
                      and group_of[det_to_truth[m]] == g and kind_of[det_to_truth[m]] in SUSPICIOUS_KINDS}
                  for g in groups}
    group_rows = [{"group_id": g, "kind": group_kind[g], "n_truth": sum(c["group_id"] == g for c in calcs),
                   "n_detected": sum(c["group_id"] == g and c["id"] in truth_to_det for c in calcs),
                   "n_clustered_detections": len(in_cluster[g]), "n_clusters": len(clusters_of_group[g]),
                   "found": g in found} for g in sorted(groups)]
    return {"seed": seed, "spacing_mm": spacing_mm, "view": view, "laterality": side,
            "truth": truth_rows, "false_detection_labels": false_labels,
            "suspicious_groups": sorted(groups), "found_groups": sorted(found),
            "false_suspicious_clusters": false_clusters, "false_suspicious_truth_kinds": false_kinds,
            "groups": group_rows, "n_clusters": int(len(result.cluster_table["label"]))}


def phantom_metrics(outcomes: list[dict]) -> dict:
    """Per-type F1, macro-F1 and suspicious-cluster recall over the ``all kinds`` set."""
    out: dict = {"per_type": {}}
    rows = [r for o in outcomes for r in o["truth"]]
    false_labels = [lab for o in outcomes for lab in o["false_detection_labels"]]
    for label in CALC_TYPES:
        tp = sum(r["truth"] == label and r["pred"] == label for r in rows)
        fn_det = sum(r["truth"] == label and r["pred"] not in (label, None) for r in rows)
        missed = sum(r["truth"] == label and r["pred"] is None for r in rows)
        fp = sum(r["truth"] != label and r["pred"] == label for r in rows) + false_labels.count(label)
        out["per_type"][label] = {"n_truth": tp + fn_det + missed, "tp": tp, "fp": fp, "fn_detected": fn_det,
                                  "missed": missed, "f1_detected": f1_score(tp, fp, fn_det),
                                  "f1_end_to_end": f1_score(tp, fp, fn_det + missed)}
    n_groups = sum(len(o["suspicious_groups"]) for o in outcomes)
    found = sum(len(o["found_groups"]) for o in outcomes)
    fp = sum(o["false_suspicious_clusters"] for o in outcomes)
    out["per_type"]["suspicious_cluster"] = {"n_truth": n_groups, "tp": found, "fp": fp, "fn": n_groups - found,
                                             "recall": found / n_groups if n_groups else None,
                                             "f1_detected": f1_score(found, fp, n_groups - found)}
    f1s = [out["per_type"][t]["f1_detected"] for t in (*CALC_TYPES, "suspicious_cluster")]
    out["macro_f1"] = float(np.mean([f for f in f1s if f is not None]))
    out["macro_f1_end_to_end"] = float(np.mean(
        [out["per_type"][t]["f1_end_to_end"] for t in CALC_TYPES] + [f1s[-1]]))
    out["suspicious_cluster_recall"] = out["per_type"]["suspicious_cluster"]["recall"]
    out["group_integrity"] = group_integrity(outcomes)
    out["n_images"] = len(outcomes)
    # confusion over detected truth calcifications (truth label -> predicted label)
    confusion: dict[str, dict[str, int]] = {}
    for r in rows:
        confusion.setdefault(r["truth"], {}).setdefault(str(r["pred"]), 0)
        confusion[r["truth"]][str(r["pred"])] += 1
    out["confusion"] = confusion
    return out


def group_integrity(outcomes: list[dict]) -> dict:
    """Per suspicious kind: truth groups in one reported cluster (whole), in several (split),
    in none."""
    out = {}
    for kind in SUSPICIOUS_KINDS:
        rows = [g for o in outcomes for g in o["groups"] if g["kind"] == kind]
        out[kind] = {"n_groups": len(rows), "whole": sum(g["n_clusters"] == 1 for g in rows),
                     "split": sum(g["n_clusters"] > 1 for g in rows),
                     "unclustered": sum(g["n_clusters"] == 0 for g in rows)}
    return out


def agreement(outcomes: list[dict], spacings: tuple[float, ...]) -> dict:
    """Per spacing: label agreement with the reference spacing (``spacings[0]``) and with the truth."""
    by = {(o["seed"], o["spacing_mm"]): o for o in outcomes}
    seeds = sorted({o["seed"] for o in outcomes})
    out = {}
    for spacing in spacings:
        same = total = g_same = g_total = right = detected = 0
        by_kind: dict[str, list[int]] = {}
        for seed in seeds:
            ref, here = by.get((seed, spacings[0])), by.get((seed, spacing))
            if ref is None or here is None:
                continue
            pred_ref = {r["id"]: r["pred"] for r in ref["truth"]}
            for r in here["truth"]:
                if r["pred"] is None:
                    continue
                detected += 1
                right += r["pred"] == r["truth"]
                by_kind.setdefault(r["kind"], [0, 0])[0] += r["pred"] == r["truth"]
                by_kind[r["kind"]][1] += 1
                if pred_ref.get(r["id"]) is not None:
                    total += 1
                    same += r["pred"] == pred_ref[r["id"]]
            for g in ref["suspicious_groups"]:
                g_total += 1
                g_same += (g in ref["found_groups"]) == (g in here["found_groups"])
        out[str(spacing)] = {"vs_reference": same / total if total else None, "n_vs_reference": total,
                             "vs_truth": right / detected if detected else None, "n_detected": detected,
                             "vs_truth_by_kind": {k: round(v[0] / v[1], 3) for k, v in sorted(by_kind.items())},
                             "group_vs_reference": g_same / g_total if g_total else None, "n_groups": g_total}
    return out


def roc_auc(positive: list[float], negative: list[float]) -> float | None:
    """Mann-Whitney ROC AUC (ties count one half)."""
    if not positive or not negative:
        return None
    p, n = np.asarray(positive)[:, None], np.asarray(negative)[None, :]
    return float(np.mean((p > n) + 0.5 * (p == n)))


def mias_metrics(data_dir: Path, config: Config) -> dict:
    """Suspicious labelling of the annotated mini-MIAS calcification groups."""
    classes, circles, diffuse = read_mias_annotations(data_dir / "annotations.csv")
    severity: dict[tuple[str, int], str] = {}
    with open(data_dir / "annotations.csv", newline="") as handle:
        counter: dict[str, int] = {}
        for row in csv.DictReader(handle):
            if row["class"].strip() == "CALC" and row["row_from_top"].strip():
                ref = row["refnum"].strip()
                severity[(ref, counter.get(ref, 0))] = row["severity"].strip()
                counter[ref] = counter.get(ref, 0) + 1
    groups, false_suspicious, n_images, false_clusters, lesions_hit = [], 0, 0, 0, 0
    for ref in sorted(classes):
        if ref in diffuse:
            continue
        image = load_image(data_dir / f"{ref}.pgm", pixel_spacing_mm=0.2, view="MLO")  # as evaluate_mias.py
        result = analyze(image, config=config)
        n_images += 1
        table = result.cluster_table
        centres = np.column_stack([table["row_px"], table["col_px"]])
        hit = match_clusters(centres, circles[ref], spacing_mm=0.2)
        suspicious = table["label"] == "suspicious_cluster"
        false_suspicious += int(np.count_nonzero(suspicious & (hit < 0)))
        false_clusters += int(np.count_nonzero(hit < 0))
        lesions_hit += int(np.unique(hit[hit >= 0]).size)
        for g, circle in enumerate(circles[ref]):
            mine = hit == g
            groups.append({"refnum": ref, "severity": severity[(ref, g)],
                           "suspicious": bool(np.any(suspicious & mine)),
                           "score": float(table["score"][mine].max()) if mine.any() else 0.0,
                           "reasons": [str(s) for s in table["reason"][mine]]})
    malignant = [g for g in groups if g["severity"] == "M"]
    benign = [g for g in groups if g["severity"] == "B"]
    return {
        "n_images": n_images, "n_malignant_groups": len(malignant), "n_benign_groups": len(benign),
        "malignant_suspicious_rate": np.mean([g["suspicious"] for g in malignant]).item() if malignant else None,
        "benign_suspicious_rate": np.mean([g["suspicious"] for g in benign]).item() if benign else None,
        "roc_auc_score_malignant_vs_benign": roc_auc([g["score"] for g in malignant], [g["score"] for g in benign]),
        "false_suspicious_clusters_per_image": false_suspicious / max(n_images, 1),
        "lesions_hit_by_reported_clusters": lesions_hit, "n_lesions": len(groups),
        "false_clusters_per_image": false_clusters / max(n_images, 1),
        "excluded_no_coordinates": sorted(diffuse), "groups": groups,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="JSON report")
    parser.add_argument("--seeds", type=int, nargs=2, default=(1000, 1020), metavar=("FIRST", "STOP"))
    parser.add_argument("--spacings", type=float, nargs="+", default=(0.07, 0.1),
                        help="pixel spacings in mm; the first is the reference of the label agreement")
    parser.add_argument("--size-mm", type=float, nargs=2, default=(120.0, 96.0))
    parser.add_argument("--rules", type=Path, help="rules file (default: the shipped rules.toml)")
    parser.add_argument("--mias", type=Path, help="mini-MIAS dev folder (annotations.csv, mdbNNN.pgm)")
    parser.add_argument("--calc-density", type=float, default=PhantomConfig().calc_density,
                        help=f"phantom calcium fraction (calibrated on real images: {CALIBRATED_CALC_DENSITY})")
    args = parser.parse_args(argv)
    config = Config(rules=load_rules(args.rules))
    phantom_config = replace(PhantomConfig(), calc_density=args.calc_density)
    start = time.time()
    size = (args.size_mm[0], args.size_mm[1])
    benign_kinds = tuple(k for k in CALC_KINDS if k not in SUSPICIOUS_KINDS)
    seeds = range(args.seeds[0], args.seeds[1])
    full = [phantom_outcome(s, sp, size, config, CALC_KINDS, phantom_config) for s in seeds for sp in args.spacings]
    clean = [phantom_outcome(s, sp, size, config, benign_kinds, phantom_config) for s in seeds for sp in args.spacings]
    report = {
        "command": "python scripts/evaluate_classification.py " + " ".join(argv or []),
        "rules_digest": config.rules.digest, "seeds": list(args.seeds), "spacings_mm": list(args.spacings),
        "size_mm": list(size), "calc_density": args.calc_density,
        "phantoms": phantom_metrics(full),
        "phantoms_by_spacing": {str(sp): phantom_metrics([o for o in full if o["spacing_mm"] == sp])
                                for sp in args.spacings},
        "false_suspicious_clusters_per_image_without_suspicious": (
            sum(o["false_suspicious_clusters"] for o in clean) / len(clean)),
        "n_images_without_suspicious": len(clean),
        "false_suspicious_truth_kinds": [k for o in clean for k in o["false_suspicious_truth_kinds"]],
        "agreement": agreement(full, tuple(args.spacings)),
    }
    if args.mias:
        report["mias"] = mias_metrics(args.mias, config)
    report["seconds"] = round(time.time() - start, 1)
    args.out.write_text(json.dumps(report, indent=1))
    summary = {"macro_f1": report["phantoms"]["macro_f1"],
               "f1": {t: v["f1_detected"] for t, v in report["phantoms"]["per_type"].items()},
               "suspicious_recall": report["phantoms"]["suspicious_cluster_recall"],
               "group_integrity": report["phantoms"]["group_integrity"],
               "false_suspicious_per_clean_image": report["false_suspicious_clusters_per_image_without_suspicious"],
               "agreement": {sp: {k: v for k, v in a.items() if k != "vs_truth_by_kind"}
                             for sp, a in report["agreement"].items()}}
    if args.mias:
        summary["mias"] = {k: v for k, v in report["mias"].items() if k not in ("groups", "excluded_no_coordinates")}
    print(json.dumps(summary, indent=1))
    return report


if __name__ == "__main__":
    main()
