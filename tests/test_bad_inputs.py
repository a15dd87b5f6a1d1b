"""A corpus of broken inputs in one batch: each gets its own status and message, and the good
files of the same run succeed. The corpus is generated here (tests/batch_corpus.py), never
committed."""

import json
import os
from pathlib import Path

import pytest
from batch_corpus import (
    BAD_DICOM_EXPECTED,
    csv_rows,
    write_bad_dicoms,
    write_good_studies,
    write_png_named_dcm,
    write_random_bytes,
)

from mammo_cv.run.cli import main


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    good = write_good_studies(root / "archive" / "good", 2)
    bad = write_bad_dicoms(root / "archive" / "bad", good[0])
    # found by a folder walk: not images, so skipped, not errors, unless named as DICOM
    write_random_bytes(root / "archive" / "notes" / "random.bin")
    write_png_named_dcm(root / "archive" / "notes" / "looks_like.dcm")
    write_random_bytes(root / "archive" / "notes" / "noise.dcm", seed=2)
    # named directly: always tried, so reported
    named = {"random.bin": write_random_bytes(root / "named" / "random.bin", seed=1),
             "png.dcm": write_png_named_dcm(root / "named" / "png.dcm")}
    out = root / "out"
    code = main(["analyze", str(root / "archive"), *map(str, named.values()), "--out", str(out),
                 "--workers", "1", "--quiet", "--no-overlays"])
    return {"root": root, "good": good, "bad": bad, "named": named, "out": out, "code": code,
            "images": {Path(row["source_path"]): row for row in csv_rows(out / "images.csv")}}


def test_exit_code_says_some_failed(corpus):
    assert corpus["code"] == 1


def test_good_files_in_the_same_run_succeed(corpus):
    calcs = csv_rows(corpus["out"] / "calcifications.csv")
    for path in corpus["good"]:
        row = corpus["images"][path]
        assert row["status"] == "ok" and row["error"] == ""
        assert float(row["spacing_row_mm"]) == pytest.approx(0.3)
        assert int(row["n_calcifications"]) == sum(c["image_id"] == row["image_id"] for c in calcs) > 0


@pytest.mark.parametrize("name", sorted(BAD_DICOM_EXPECTED))
def test_each_bad_dicom_gets_its_status_and_message(corpus, name):
    error_type, words = BAD_DICOM_EXPECTED[name]
    row = corpus["images"][corpus["bad"][name]]
    assert row["status"] == "error"
    assert row["error"].startswith(f"{error_type}: {corpus['bad'][name]}: ")  # the type, then the file
    for word in words:
        assert word in row["error"]
    assert "\n" not in row["error"]
    assert row["n_calcifications"] == "-1" and row["laterality"] == ""


def test_files_named_directly_are_tried_and_reported(corpus):
    random_row = corpus["images"][corpus["named"]["random.bin"]]
    assert random_row["status"] == "error"
    assert random_row["error"].startswith("NotDicomError: ") and "neither a DICOM data set" in random_row["error"]
    png_row = corpus["images"][corpus["named"]["png.dcm"]]
    assert png_row["status"] == "error"
    assert png_row["error"].startswith("NotDicomError: ")
    assert "named as DICOM but holds a PNG image" in png_row["error"]


def test_files_named_as_dicom_in_folders_are_error_rows(corpus):
    notes = corpus["root"] / "archive" / "notes"
    png_row, noise_row = corpus["images"][notes / "looks_like.dcm"], corpus["images"][notes / "noise.dcm"]
    assert png_row["error"].startswith(f"NotDicomError: {notes / 'looks_like.dcm'}: named as DICOM")
    assert noise_row["error"].startswith(f"NotDicomError: {notes / 'noise.dcm'}: neither a DICOM data set")


def test_non_images_in_folders_are_skipped_and_listed(corpus):
    run = json.loads((corpus["out"] / "run.json").read_text())
    skipped = {Path(entry["path"]).name: entry["reason"] for entry in run["skipped"]}
    assert list(skipped) == ["random.bin"] and "neither DICOM nor PNG" in skipped["random.bin"]
    assert run["n_files"] == len(corpus["images"]) == 4 + len(BAD_DICOM_EXPECTED) + 4
    assert run["n_failed"] == len(BAD_DICOM_EXPECTED) + 4


def test_failed_images_leave_no_rows(corpus):
    failed = {row["image_id"] for row in corpus["images"].values() if row["status"] == "error"}
    for table in ("calcifications.csv", "clusters.csv"):
        assert not failed & {row["image_id"] for row in csv_rows(corpus["out"] / table)}


def test_a_file_without_read_permission_is_an_error(tmp_path):
    good = write_good_studies(tmp_path / "in", 1)
    locked = good[1]
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("running as root (or with CAP_DAC_OVERRIDE): every file is readable, "
                        "so a permission error cannot be produced")
        code = main(["analyze", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--workers", "1",
                     "--quiet", "--no-overlays"])
    finally:
        locked.chmod(0o644)
    rows = {Path(row["source_path"]): row for row in csv_rows(tmp_path / "out" / "images.csv")}
    assert code == 1
    assert rows[good[0]]["status"] == "ok"
    assert rows[locked]["status"] == "error" and rows[locked]["error"].startswith("PermissionError: ")
