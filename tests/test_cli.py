"""The mammo-cv command on the committed samples plus broken files."""

import csv
import json
import shutil
from pathlib import Path

import pytest

from mammo_cv import __version__
from mammo_cv.cli import main
from mammo_cv.report import CALCIFICATION_CSV_COLUMNS, CLUSTER_CSV_COLUMNS, IMAGE_COLUMNS

SAMPLES = Path(__file__).resolve().parents[1] / "sample_dicoms"
GOOD = ["s01_LCC_proc_m2_explicit.dcm", "s01_RCC_proc_m1_rle.dcm"]


def _read(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture()
def mixed_folder(tmp_path):
    """Two good DICOMs in a nested folder, a truncated DICOM, and a text file (not an image)."""
    folder = tmp_path / "in"
    (folder / "nested").mkdir(parents=True)
    for name in GOOD:
        shutil.copy(SAMPLES / name, folder / "nested" / name)
    data = (SAMPLES / GOOD[0]).read_bytes()
    (folder / "truncated.dcm").write_bytes(data[: len(data) // 2])
    (folder / "notes.txt").write_text("not an image\n")
    return folder


def test_analyze_keeps_going_and_reports_each_file(mixed_folder, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["analyze", str(mixed_folder), "--out", str(out), "--workers", "1", "--quiet"])
    assert code == 1  # some files failed, the rest are done
    images = _read(out / "images.csv")
    assert list(images[0]) == list(IMAGE_COLUMNS)
    by_name = {Path(row["source_path"]).name: row for row in images}
    assert sorted(by_name) == sorted(GOOD + ["truncated.dcm"])  # notes.txt is skipped, not an error
    assert by_name["truncated.dcm"]["status"] == "error"
    assert "CorruptPixelDataError" in by_name["truncated.dcm"]["error"]
    assert "truncated" in by_name["truncated.dcm"]["error"]
    for name in GOOD:
        row = by_name[name]
        sidecar = json.loads((SAMPLES / name).with_suffix(".json").read_text())
        assert row["status"] == "ok" and row["error"] == ""
        assert float(row["spacing_row_mm"]) == pytest.approx(sidecar["spacing_mm"][0])
        assert row["laterality"] == sidecar["laterality"] and row["view"] == sidecar["view"]
        assert row["chest_wall_side"] == sidecar["chest_wall_side"]
    calcs = _read(out / "calcifications.csv")
    assert list(calcs[0]) == list(CALCIFICATION_CSV_COLUMNS)
    ok_ids = {row["image_id"] for row in images if row["status"] == "ok"}
    assert {row["image_id"] for row in calcs} == ok_ids
    for row in images:
        if row["status"] == "ok":
            n = sum(c["image_id"] == row["image_id"] for c in calcs)
            assert n == int(row["n_calcifications"]) > 0
    with open(out / "clusters.csv") as handle:
        assert handle.readline().strip().split(",") == list(CLUSTER_CSV_COLUMNS)
    run = json.loads((out / "run.json").read_text())
    assert run["n_files"] == 3 and run["n_failed"] == 1
    assert any(path.endswith("notes.txt") for path in run["skipped"])


@pytest.mark.slow
def test_tables_do_not_depend_on_worker_count(mixed_folder, tmp_path):
    outputs = []
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}"
        main(["analyze", str(mixed_folder), "--out", str(out), "--workers", workers, "--quiet"])
        outputs.append(out)
    for name in ("calcifications.csv", "clusters.csv"):
        assert (outputs[0] / name).read_bytes() == (outputs[1] / name).read_bytes()
    strip = [[{k: v for k, v in row.items() if k != "seconds"} for row in _read(out / "images.csv")]
             for out in outputs]
    assert strip[0] == strip[1]


def test_nothing_to_process_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["analyze", str(tmp_path / "empty"), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "no DICOM files found" in capsys.readouterr().err
    assert main(["analyze", str(tmp_path / "missing"), "--out", str(tmp_path / "o"), "--quiet"]) == 2


def test_inspect_prints_what_the_loader_read(capsys):
    assert main(["inspect", str(SAMPLES / GOOD[1])]) == 0
    facts = json.loads(capsys.readouterr().out)
    sidecar = json.loads((SAMPLES / GOOD[1]).with_suffix(".json").read_text())
    assert facts["photometric"] == "MONOCHROME1"
    assert facts["spacing_mm"] == pytest.approx(sidecar["spacing_mm"])
    assert facts["spacing_source"] == "ImagerPixelSpacing/ERMF"
    assert facts["laterality"] == "R" and facts["view"] == "CC"


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert __version__ in capsys.readouterr().out
