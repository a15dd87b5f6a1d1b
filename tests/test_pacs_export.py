"""``--dicom``: one object of each kind per DICOM input, with the final labels, kept by resume;
patient data only in those files."""

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("highdicom", reason="highdicom is not installed")
import pydicom  # noqa: E402
from batch_corpus import PHI, csv_rows, referenced_uids, stored_phantom, write_good_studies  # noqa: E402

from mammo_cv.pacs.export import OBJECT_KINDS  # noqa: E402
from mammo_cv.run import analyze_batch  # noqa: E402
from mammo_cv.run.cli import main  # noqa: E402


def _analyze(inputs: Path, out: Path, *extra: str) -> int:
    return main(["analyze", str(inputs), "--out", str(out), "--workers", "1", "--quiet", "--no-overlays", *extra])


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dicom_out")
    write_good_studies(folder / "in", 1, extra=PHI)
    assert _analyze(folder / "in", folder / "out", "--dicom") == 0
    return folder


def _labels(out: Path, image_id: str) -> set[str]:
    with open(out / "calcifications.csv", newline="") as handle:
        return {row["label"] for row in csv.DictReader(handle) if row["image_id"] == image_id}


def test_one_object_per_kind_and_image_referencing_its_source(run):
    out = run / "out"
    images = csv_rows(out / "images.csv")
    assert sorted(p.name for p in (out / "dicom").iterdir()) == sorted(
        f"{row['image_id']}_{kind}.dcm" for row in images for kind in OBJECT_KINDS)
    for row in images:
        source = pydicom.dcmread(row["source_path"], stop_before_pixels=True)
        for kind in OBJECT_KINDS:
            obj = pydicom.dcmread(out / "dicom" / f"{row['image_id']}_{kind}.dcm")
            assert obj.Modality == kind.upper()
            assert (obj.StudyInstanceUID, obj.PatientID) == (source.StudyInstanceUID, source.PatientID)
            assert obj.SeriesInstanceUID != source.SeriesInstanceUID
            assert referenced_uids(obj) == {source.SOPInstanceUID}


def test_segments_carry_the_final_labels(run):
    out = run / "out"
    for row in csv_rows(out / "images.csv"):
        seg = pydicom.dcmread(out / "dicom" / f"{row['image_id']}_seg.dcm")
        assert {item.SegmentLabel for item in seg.SegmentSequence} == (_labels(out, row["image_id"]) or {"none"})


def test_patient_data_only_in_the_dicom_objects(run):
    out = run / "out"
    for path in (p for p in out.rglob("*") if p.is_file()):
        found = PHI["PatientID"].encode() in path.read_bytes()
        assert found == (path.parent.name == "dicom"), path


def test_resume_redoes_an_image_whose_object_is_missing(run, tmp_path, capsys):
    out = tmp_path / "out"
    shutil.copytree(run / "out", out)
    capsys.readouterr()
    assert _analyze(run / "in", out, "--dicom", "--resume") == 0
    assert "(2 kept from the earlier run, 0 redone)" in capsys.readouterr().err
    missing = next((out / "dicom").glob("*_seg.dcm"))
    uid = pydicom.dcmread(missing).SOPInstanceUID
    missing.unlink()
    assert _analyze(run / "in", out, "--dicom", "--resume") == 0
    assert "(0 kept from the earlier run, 2 redone)" in capsys.readouterr().err  # its study is redone whole
    assert pydicom.dcmread(missing).SOPInstanceUID == uid  # derived UIDs: a rerun replaces, never duplicates
    assert _analyze(run / "in", out) == 0  # a fresh run without --dicom leaves no object of an earlier run
    assert not list((out / "dicom").glob("*.dcm"))


def test_analyze_batch_gives_datasets_for_dicom_inputs_only(tmp_path):
    write_good_studies(tmp_path, 1)
    cv2.imwrite(str(tmp_path / "film.png"), np.rint(stored_phantom("L", "CC", 1) * (255 / 4095)).astype(np.uint8))
    batch = analyze_batch(tmp_path, workers=1, progress=False, pixel_spacing_mm=0.3, dicom=True)
    dicom_ids = set(batch.images.loc[batch.images.source_path.str.endswith(".dcm"), "image_id"])
    assert len(dicom_ids) == 2 and set(batch.dicom) == dicom_ids
    kinds = [kind.upper() for kind in OBJECT_KINDS]
    assert all([obj.Modality for obj in objects] == kinds for objects in batch.dicom.values())
    assert analyze_batch(tmp_path, workers=1, progress=False, pixel_spacing_mm=0.3).dicom == {}


def test_dciodvfy_finds_no_error_in_a_batch_object(run):
    if shutil.which("dciodvfy") is None:
        pytest.skip("dciodvfy (Debian dicom3tools) is not installed")
    for path in sorted((run / "out" / "dicom").glob("*.dcm")):
        done = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True)
        assert [line for line in (done.stdout + done.stderr).splitlines() if line.startswith("Error")] == [], path


@pytest.mark.slow
def test_the_dicom_benchmark_measures_every_step(tmp_path):
    script = Path(__file__).resolve().parent.parent / "scripts" / "benchmark_dicom.py"
    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, str(script), "--rows", "500", "--cols", "400", "--spacing", "0.2",
                           "--repeat", "1",
                           "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["shape"] == [500, 400] and report["kinds"] == list(OBJECT_KINDS)
    assert all(seconds > 0 for seconds in report["seconds"].values())
    assert report["total_seconds"] == pytest.approx(sum(report["seconds"].values()))
    assert report["bytes_written"] > 500 * 400 / 8  # at least one packed binary frame
