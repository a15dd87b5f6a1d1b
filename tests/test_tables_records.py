"""Tests for mammo_cv.tables.records: JSON records of hand-made tables, image, anatomy and result."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np

from mammo_cv.core.types import Anatomy, MammoImage
from mammo_cv.core.version import __version__
from mammo_cv.describe.vascular import CHAIN_COLUMNS
from mammo_cv.tables import CALCIFICATION_CSV_COLUMNS, CLUSTER_CSV_COLUMNS, empty_table
from mammo_cv.tables.records import anatomy_record, image_record, label_counts, result_record, table_records

SCHEMA = {"image_id": np.dtype(object), "calc_id": np.dtype(np.int64), "area_mm2": np.dtype(np.float64),
          "label": np.dtype(object)}


def test_label_counts_are_sorted_and_skip_absent_labels():
    counts = label_counts({"label": np.array(["punctate", "macro", "punctate", "other"], object)},
                          {"label": np.array(["suspicious_cluster"], object)})
    assert counts == {"calcifications": {"macro": 1, "other": 1, "punctate": 2},
                      "clusters": {"suspicious_cluster": 1}}
    assert list(counts["calcifications"]) == ["macro", "other", "punctate"]


def test_table_records_are_plain_values_in_schema_order():
    records = table_records({"label": np.array(["macro", "other"], object), "calc_id": np.array([3.0, 4.0]),
                             "area_mm2": np.array([np.float32(0.25), np.nan])}, SCHEMA, "img")
    assert records == [{"image_id": "img", "calc_id": 3, "area_mm2": 0.25, "label": "macro"},
                       {"image_id": "img", "calc_id": 4, "area_mm2": None, "label": "other"}]
    assert [list(r) for r in records] == [list(SCHEMA)] * 2
    assert type(records[0]["calc_id"]) is int and type(records[0]["area_mm2"]) is float


def test_image_record_has_the_metadata_and_no_pixels():
    image = MammoImage(np.zeros((6, 4), np.float32), (0.1, 0.2), "argument", laterality="R", view="MLO",
                       bits_stored=12, source_path="a/b.dcm", display_window=(np.float32(10.5), 200))
    record = image_record(image)
    assert record == {"source_path": "a/b.dcm", "shape_px": [6, 4], "spacing_mm": [0.1, 0.2],
                      "spacing_source": "argument", "laterality": "R", "view": "MLO",
                      "presentation_intent": image.presentation_intent.value, "photometric": "MONOCHROME2",
                      "bits_stored": 12, "sop_instance_uid": None, "study_instance_uid": None,
                      "display_window": [10.5, 200.0]}


def test_anatomy_record_gives_areas_in_mm2():
    breast = np.zeros((10, 10), bool)
    breast[:5, :4] = True          # 20 px
    pectoral = np.zeros((10, 10), bool)
    pectoral[:2, :3] = True        # 6 px
    anatomy = Anatomy(breast, "left", pectoral, ((0.0, 3.0), (2.0, 0.0)), (2.5, 3.5), ("pectoral: found",))
    record = anatomy_record(anatomy, pixel_area_mm2=0.5)
    assert record == {"chest_wall_side": "left", "nipple_rc_px": [2.5, 3.5],
                      "pectoral_line_rc_px": [[0.0, 3.0], [2.0, 0.0]], "breast_area_mm2": 10.0,
                      "pectoral_area_mm2": 3.0, "method_notes": ["pectoral: found"]}
    no_muscle = Anatomy(breast, "right", np.zeros((10, 10), bool), None, (1.0, 1.0))
    assert anatomy_record(no_muscle, 0.5)["pectoral_line_rc_px"] is None


def test_result_record_of_an_empty_result_is_strict_json():
    image = MammoImage(np.zeros((4, 4), np.float32), (0.1, 0.1), "argument")
    anatomy = Anatomy(np.ones((4, 4), bool), "left", np.zeros((4, 4), bool), None, (2.0, 3.0))
    config = SimpleNamespace(digest=lambda: "d1", rules=SimpleNamespace(digest="r1", source="rules.toml"))
    result = SimpleNamespace(image=image, anatomy=anatomy, image_id="img", config=config,
                             calc_table={name: np.zeros(0, dtype) for name, dtype in CALCIFICATION_CSV_COLUMNS.items()},
                             cluster_table=empty_table(CLUSTER_CSV_COLUMNS), vascular_chains=empty_table(CHAIN_COLUMNS))
    record = json.loads(json.dumps(result_record(result), allow_nan=False))
    assert list(record) == ["mammo_cv_version", "image_id", "image", "anatomy", "counts", "calcifications",
                            "clusters", "vascular_chains", "config"]
    assert record["mammo_cv_version"] == __version__
    assert record["anatomy"]["breast_area_mm2"] == 16 * 0.1 * 0.1
    assert record["counts"] == {"calcifications": {}, "clusters": {}}
    assert record["calcifications"] == record["clusters"] == record["vascular_chains"] == []
    assert record["config"] == {"digest": "d1", "rules_digest": "r1", "rules_source": "rules.toml"}
