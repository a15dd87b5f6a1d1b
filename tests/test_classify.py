"""Rule classifier (mammo_cv.classify.classifier) on hand-made tables with known answers, study context,
reclassify and a phantom-level check on held-out seeds."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from mammo_cv.classify.classifier import LABELS, StudyContext, classify, count_rod_like
from mammo_cv.classify.rules import DEFAULT_RULES_PATH, load_rules
from mammo_cv.config.settings import Config
from mammo_cv.core.types import Laterality
from mammo_cv.pipeline.analysis import analyze, reclassify
from mammo_cv.pipeline.study import study_contexts
from mammo_cv.synthetic.phantoms import CALC_KINDS, phantom

RULES = load_rules()
_DEFAULTS = {"length_mm": 0.3, "width_mm": 0.2, "area_mm2": 0.05, "elongation": 1.2, "lucent_center": 0.0,
             "irregularity": 0.0, "orientation_to_nipple_deg": np.nan, "cluster_id": -1, "vascular_score": 0.0}


def calcs(*rows: dict) -> dict[str, np.ndarray]:
    """A calcification table from partial rows (other columns take small-round defaults; the calibre
    is the width, as for an object much wider than the blur, unless given)."""
    table = {name: np.array([row.get(name, default) for row in rows], np.float64)
             for name, default in _DEFAULTS.items()}
    table["calibre_mm"] = np.array([row.get("calibre_mm", row.get("width_mm", _DEFAULTS["width_mm"]))
                                    for row in rows], np.float64)
    return table


def clusters(*rows: dict) -> dict[str, np.ndarray]:
    defaults = {"pleomorphism": 0.0, "branching": 0.0, "extent_mm": 8.0}
    table = {name: np.array([row.get(name, d) for row in rows], np.float64) for name, d in defaults.items()}
    table["cluster_id"] = np.arange(len(rows), dtype=np.int64)
    table["distribution"] = np.array([row.get("distribution", "grouped") for row in rows], object)
    return table


NO_CLUSTERS = clusters()
ROD = {"length_mm": 6.2, "width_mm": 0.8, "area_mm2": 4.5, "elongation": 7.8, "irregularity": 0.1,
       "orientation_to_nipple_deg": 12.0}


VASCULAR_ROD = {**ROD, "vascular_score": 0.8}
MACRO_ROD = {**ROD, "orientation_to_nipple_deg": 60.0}


@pytest.mark.parametrize("members, member_labels, label", [
    ((ROD, VASCULAR_ROD), ["secretory", "vascular"], "secretory"),
    ((VASCULAR_ROD, ROD), ["vascular", "secretory"], "secretory"),
    ((MACRO_ROD, VASCULAR_ROD), ["macro", "vascular"], "vascular"),
])
def test_a_tied_cluster_takes_the_label_that_comes_first_in_labels(members, member_labels, label):
    # two benign members with different labels, spread over 30 mm: neither suspicious nor fragmented
    out = classify(calcs(*({**row, "cluster_id": 0} for row in members)), clusters({"extent_mm": 30.0}), rules=RULES)
    assert list(out.calc_label) == member_labels
    assert list(out.cluster_label) == [label]
    assert out.cluster_reason[0].endswith(f"-> mostly {label}")


@pytest.mark.parametrize("row, label, words", [
    (ROD, "secretory", "rod 6.2 mm x 0.80 mm, elongation 7.8, 12 deg to nipple -> secretory (large rod-like)"),
    ({**ROD, "orientation_to_nipple_deg": 60.0}, "macro", "-> macro (coarse or popcorn-like)"),
    ({**ROD, "vascular_score": 0.8}, "vascular", "vascular_score 0.80 >= 0.5 -> vascular"),
    ({"length_mm": 3.0, "width_mm": 0.3, "area_mm2": 2.0, "elongation": 1.1, "lucent_center": 0.9},
     "macro", "lucent centre 0.90, irregularity 0.00 -> macro (rim (eggshell))"),
    ({"length_mm": 3.5, "width_mm": 0.3, "area_mm2": 1.0, "elongation": 9.0, "irregularity": 0.6},
     "macro", "-> macro (curved shell fragment (rim))"),
    ({"length_mm": 1.5, "width_mm": 1.4, "area_mm2": 1.7, "elongation": 1.07}, "macro", "-> macro (large round)"),
    ({"length_mm": 1.6, "width_mm": 0.5, "area_mm2": 0.9, "elongation": 3.2, "irregularity": 0.15},
     "macro", "-> macro (dystrophic)"),
    ({"length_mm": 0.3, "width_mm": 0.25, "elongation": 1.2}, "punctate", "0.3 mm x 0.25 mm, elongation 1.2"),
    ({"length_mm": 0.8, "width_mm": 0.15, "area_mm2": 0.1, "elongation": 5.0}, "other", "matches no rule -> other"),
])
def test_single_calcification_rules(row, label, words):
    out = classify(calcs(row), NO_CLUSTERS, rules=RULES)
    assert out.calc_label.tolist() == [label]
    assert words in out.calc_reason[0]


def test_thresholds_come_from_the_rules_file(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(DEFAULT_RULES_PATH.read_text().replace("min_length_mm = 3.0", "min_length_mm = 7.0", 1))
    assert classify(calcs(ROD), NO_CLUSTERS, rules=load_rules(path)).calc_label[0] != "secretory"


def test_suspicious_cluster_score_and_member_labels():
    members = [{"cluster_id": 0, "length_mm": 0.3 + 0.04 * i, "width_mm": 0.2} for i in range(6)]
    out = classify(calcs(*members, ROD), clusters({"pleomorphism": 0.5, "extent_mm": 6.0}), rules=RULES)
    # fine fraction 1 x (0.5 count 6/5->1 + 0.3 morphology 0.5/0.4->1 + 0.2 x grouped 0) = 0.8
    np.testing.assert_allclose(out.cluster_score, [0.8])
    assert out.cluster_label.tolist() == ["suspicious_cluster"]
    assert out.calc_label.tolist() == ["suspicious_cluster"] * 6 + ["secretory"]
    assert "score 0.80 >= 0.5 -> suspicious_cluster" in out.cluster_reason[0]
    assert "member of cluster 0 (score 0.80)" in out.calc_reason[0]


def test_linear_distribution_raises_the_score():
    members = [{"cluster_id": 0, "width_mm": 0.2} for _ in range(3)]
    grouped = classify(calcs(*members), clusters({"pleomorphism": 0.1}), rules=RULES)
    linear = classify(calcs(*members), clusters({"pleomorphism": 0.1, "distribution": "linear"}), rules=RULES)
    # 0.5 x 3/5 + 0.3 x 0.1/0.4 = 0.375, plus 0.2 for a linear distribution
    np.testing.assert_allclose([grouped.cluster_score[0], linear.cluster_score[0]], [0.375, 0.575])
    assert grouped.cluster_label[0] == "punctate" and linear.cluster_label[0] == "suspicious_cluster"


@pytest.mark.parametrize("members, suspicious", [
    # specks narrower than the blur (calibre 0): their shape is not measured, BI-RADS' count of 5 is needed
    ([{"width_mm": 0.2, "calibre_mm": 0.0}] * 4, False),
    ([{"width_mm": 0.2, "calibre_mm": 0.0}] * 5, True),
    # three fine members suffice when two are resolved: pleomorphism compares measured shapes
    ([{"width_mm": 0.2, "calibre_mm": 0.15}] * 2 + [{"width_mm": 0.2, "calibre_mm": 0.0}], True),
    ([{"width_mm": 0.2, "calibre_mm": 0.15}] + [{"width_mm": 0.2, "calibre_mm": 0.0}] * 3, False),
    # as do three unresolved fine members of which two are fine-linear (casts of a duct)
    ([{"length_mm": 1.2, "width_mm": 0.3, "calibre_mm": 0.0, "elongation": 4.0}] * 2
     + [{"width_mm": 0.2, "calibre_mm": 0.0}], True),
])
def test_unresolved_members_need_the_bi_rads_count(members, suspicious):
    rows = [{**m, "cluster_id": 0} for m in members]
    out = classify(calcs(*rows), clusters({"pleomorphism": 0.4, "distribution": "linear"}), rules=RULES)
    assert out.cluster_score[0] >= RULES.suspicious_cluster.min_score
    assert (out.cluster_label[0] == "suspicious_cluster") == suspicious, out.cluster_reason[0]


def test_vascular_members_make_no_suspicious_cluster():
    members = [{"cluster_id": 0, "length_mm": 2.0, "width_mm": 0.2, "elongation": 9.0, "vascular_score": 0.9}
               for _ in range(6)]
    out = classify(calcs(*members), clusters({"pleomorphism": 0.6, "distribution": "linear"}), rules=RULES)
    assert out.cluster_score[0] == 0.0
    assert out.cluster_label[0] == "vascular" and set(out.calc_label) == {"vascular"}


def test_fragmented_macro_cluster():
    # four pieces of 2 mm2 inside a 5-mm cluster: 8 / (pi/4 x 25) = 41 % of its disk >= 10 %
    pieces = [{"cluster_id": 0, "length_mm": 0.45, "width_mm": 0.4, "area_mm2": 2.0} for _ in range(4)]
    out = classify(calcs(*pieces), clusters({"pleomorphism": 0.8, "extent_mm": 5.0}), rules=RULES)
    assert out.cluster_label[0] == "macro" and out.cluster_score[0] == 0.0
    assert set(out.calc_label) == {"macro"}
    assert "4 pieces cover 41% of the disk" in out.cluster_reason[0]


def test_bilateral_rods_support_secretory():
    oblique = {**ROD, "orientation_to_nipple_deg": 40.0}
    alone = classify(calcs(oblique), NO_CLUSTERS, rules=RULES)
    paired = classify(calcs(oblique), NO_CLUSTERS, rules=RULES, study=StudyContext("s1", 2))
    none_there = classify(calcs(oblique), NO_CLUSTERS, rules=RULES, study=StudyContext("s1", 0))
    assert alone.calc_label[0] == "macro" and none_there.calc_label[0] == "macro"
    assert paired.calc_label[0] == "secretory"
    assert "2 rod-like in the other breast support secretory (bilateral)" in paired.calc_reason[0]


def test_count_rod_like_and_study_contexts():
    rods = calcs(ROD, {**ROD, "orientation_to_nipple_deg": 80.0}, {**ROD, "vascular_score": 0.9}, {})
    assert count_rod_like(rods, RULES) == 2
    config = Config()

    def fake(side: str, table):
        return SimpleNamespace(image=SimpleNamespace(laterality=Laterality(side)), calc_table=table, config=config)

    results = [fake("L", rods), fake("R", calcs({})), fake("R", rods), fake("L", rods), fake("U", rods)]
    contexts = study_contexts(results, ["a", "a", "a", "b", "a"])
    assert contexts[0] == StudyContext("a", 2)       # the two right images of study a: 0 + 2 rods
    assert contexts[1] == StudyContext("a", 2) and contexts[2] == StudyContext("a", 2)
    assert contexts[3] is None and contexts[4] is None  # no other breast / unknown side
    with pytest.raises(ValueError, match="2 results and 1 study keys"):
        study_contexts(results[:2], ["a"])


def test_missing_column_is_named():
    table = calcs(ROD)
    del table["vascular_score"]
    with pytest.raises(ValueError, match="vascular_score"):
        classify(table, NO_CLUSTERS, rules=RULES)


def test_a_cluster_id_missing_from_the_cluster_table_is_refused():
    with pytest.raises(ValueError, match="cluster_id values missing from the cluster table"):
        classify(calcs({"cluster_id": 3}), clusters({}), rules=RULES)


def test_branching_is_read_under_either_name_and_required():
    members = calcs(*[{"width_mm": 0.2, "cluster_id": 0}] * 6)
    new = classify(members, clusters({"branching": 0.5}), rules=RULES)
    old_name = clusters({})
    old_name["branching_pattern"] = old_name.pop("branching") + 0.5
    np.testing.assert_array_equal(classify(members, old_name, rules=RULES).cluster_score, new.cluster_score)
    assert new.cluster_score[0] > classify(members, clusters({}), rules=RULES).cluster_score[0]
    del old_name["branching_pattern"]
    with pytest.raises(ValueError, match="branching column"):
        classify(members, old_name, rules=RULES)


def test_analyze_and_reclassify_on_a_phantom(tmp_path):
    ph = phantom(spacing_mm=0.1, size_mm=(120.0, 96.0), seed=2101, calcifications=["secretory", "punctate"])
    result = analyze(ph.image)
    n = len(result.calc_table["calc_id"])
    assert result.calc_table["label"].shape == (n,) and result.calc_table["reason"].shape == (n,)
    assert set(result.calc_table["label"]) <= set(LABELS)
    assert {"label", "score", "reason"} <= set(result.cluster_table)
    again = reclassify(result, StudyContext("s", 3))
    assert again.detections is result.detections and again.image is result.image
    secretory = again.calc_table["label"] == "secretory"
    assert secretory.any()
    assert all("other breast" in r for r in again.calc_table["reason"][secretory])
    # a rules file as config
    path = tmp_path / "rules.toml"
    path.write_text(DEFAULT_RULES_PATH.read_text().replace("max_length_mm = 12.0", "max_length_mm = 2.9", 1)
                    .replace("min_length_mm = 3.0", "min_length_mm = 2.0", 1))
    strict = analyze(ph.image, config=Config(rules=load_rules(path)))
    assert strict.config.rules.source == str(path)
    assert not np.any(strict.calc_table["label"] == "secretory")


@pytest.mark.slow
def test_held_out_phantoms():
    """Seeds 3000-3003 (never used for tuning), both spacings: the benign types of detected truth
    calcifications are mostly right, and phantoms without suspicious kinds get no suspicious label."""
    benign = tuple(k for k in CALC_KINDS if k not in ("pleomorphic", "fine_linear_branching"))
    right = total = 0
    false_suspicious = 0
    for seed in range(3000, 3004):
        for spacing in (0.07, 0.1):
            ph = phantom(spacing_mm=spacing, size_mm=(120.0, 96.0), seed=seed, calcifications=benign,
                         view=("CC", "MLO")[seed % 2])
            result = analyze(ph.image)
            label_of = dict(zip(result.calc_table["calc_id"].tolist(), result.calc_table["label"].tolist()))
            det, truth = result.detections.label_image, ph.calc_labels
            for calc in ph.truth["calcifications"]:
                if calc["label"] not in ("secretory", "vascular", "macro"):
                    continue
                overlap = det[truth == calc["id"]]
                overlap = overlap[overlap > 0]
                if overlap.size:
                    total += 1
                    right += label_of[int(np.bincount(overlap).argmax())] == calc["label"]
            false_suspicious += int(np.sum(result.cluster_table["label"] == "suspicious_cluster"))
    # measured 0.9+ on seeds 1000-1019 (scripts/evaluate_classification.py); 0.85 leaves room
    assert total > 100
    assert right / total >= 0.85
    assert false_suspicious <= 2  # target <= 0.2 per image on 8 images
