"""breasts.csv from hand-made tables: grouping, sums, top cluster, bilateral rods, failed images."""

from __future__ import annotations

import numpy as np
import pytest

from mammo_cv.config import Config
from mammo_cv.tables.breasts import breast_table
from mammo_cv.tables.schemas import BREAST_COLUMNS, IMAGE_COLUMNS, LABEL_COUNT_COLUMNS

RULES = Config().rules
ROD = {"length_mm": 5.0, "width_mm": 0.6, "elongation": 8.3, "irregularity": 0.05, "vascular_score": 0.0}
DOT = {"length_mm": 0.3, "width_mm": 0.3, "elongation": 1.0, "irregularity": 0.0, "vascular_score": 0.0}


def _images(rows):
    """rows: (image_id, study_key, laterality, view, status, n_calcifications, n_clusters)."""
    table = {name: [] for name in IMAGE_COLUMNS}
    for image_id, key, side, view, status, n_calcs, n_clusters in rows:
        for name, dtype in IMAGE_COLUMNS.items():
            table[name].append("" if dtype.kind == "O" else (np.nan if dtype.kind == "f" else -1))
        for name, value in (("image_id", image_id), ("study_key", key), ("laterality", side), ("view", view),
                            ("status", status), ("n_calcifications", n_calcs), ("n_clusters", n_clusters)):
            table[name][-1] = value
        for column in LABEL_COUNT_COLUMNS:
            table[column][-1] = n_calcs if status == "ok" and column == "n_secretory" else (0 if status == "ok" else -1)
    return {name: np.asarray(values, dtype=IMAGE_COLUMNS[name]) for name, values in table.items()}


def _calcs(rows):
    """rows: (image_id, ROD or DOT)."""
    return {"image_id": np.array([r[0] for r in rows], object),
            **{name: np.array([r[1][name] for r in rows], np.float64) for name in ROD}}


def _clusters(rows):
    """rows: (image_id, label, score)."""
    return {"image_id": np.array([r[0] for r in rows], object), "label": np.array([r[1] for r in rows], object),
            "score": np.array([r[2] for r in rows], np.float64)}


@pytest.fixture
def breasts():
    images = _images([("a-lcc", "s1", "L", "CC", "ok", 2, 1), ("a-lmlo", "s1", "L", "MLO", "ok", 1, 1),
                      ("a-rcc", "s1", "R", "CC", "ok", 1, 0), ("bad", "s1", "", "", "error", -1, -1),
                      ("b-x", "s2", "U", "U", "ok", 0, 0), ("c-rcc", "s3", "R", "CC", "ok", 1, 1)])
    calcs = _calcs([("a-lcc", ROD), ("a-lcc", DOT), ("a-lmlo", ROD), ("a-rcc", DOT), ("c-rcc", ROD)])
    clusters = _clusters([("a-lcc", "punctate", 0.2), ("a-lmlo", "suspicious_cluster", 0.9),
                          ("c-rcc", "secretory", 0.1)])
    return breast_table(images, calcs, clusters, rules=RULES)


def test_one_row_per_study_and_laterality_in_first_image_order(breasts):
    assert list(breasts) == list(BREAST_COLUMNS)
    assert list(zip(breasts["study_key"], breasts["laterality"])) == [("s1", "L"), ("s1", "R"), ("s2", "U"),
                                                                        ("s3", "R")]
    assert breasts["image_ids"].tolist() == ["a-lcc;a-lmlo", "a-rcc", "b-x", "c-rcc"]
    assert breasts["views"].tolist() == ["CC;MLO", "CC", "U", "CC"]
    assert breasts["n_images"].tolist() == [2, 1, 1, 1]


def test_counts_are_sums_over_the_ok_images_only(breasts):
    assert breasts["n_calcifications"].tolist() == [3, 1, 0, 1]
    assert breasts["n_clusters"].tolist() == [2, 0, 0, 1]
    assert breasts["n_secretory"].sum() == 5 and breasts["n_macro"].sum() == 0


def test_top_cluster_of_each_breast(breasts):
    assert breasts["max_cluster_score"][0] == 0.9 and np.isnan(breasts["max_cluster_score"][1])
    assert breasts["max_cluster_label"].tolist() == ["suspicious_cluster", "", "", "secretory"]
    assert breasts["max_cluster_image_id"].tolist() == ["a-lmlo", "", "", "c-rcc"]


def test_rods_and_bilateral_support_follow_the_study_context(breasts):
    assert breasts["n_rod_like"].tolist() == [2, 0, 0, 1]
    # s1 R sees the 2 rods of s1 L; s1 L sees none; s2 U has no other side; s3 R has no left breast
    assert breasts["contralateral_rod_count"].tolist() == [0, 2, -1, -1]
    assert breasts["bilateral_rod_support"].tolist() == [False, True, False, False]


def test_no_analysed_image_gives_an_empty_table_with_every_column():
    images = _images([("bad", "s1", "", "", "error", -1, -1)])
    table = breast_table(images, _calcs([]), _clusters([]), rules=RULES)
    assert list(table) == list(BREAST_COLUMNS)
    assert all(len(values) == 0 and values.dtype == BREAST_COLUMNS[name] for name, values in table.items())
