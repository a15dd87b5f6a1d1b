"""What mammo-cv says on stderr: the failure summary, Ctrl-C, resume counts, stale outputs, --help, inspect errors."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pydicom
import pytest

import mammo_cv.run.batch as batch_module
from mammo_cv.run.cli import main
from mammo_cv.run.messages import failure_summary

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_dicoms"
STUDY_1 = ["s01_LCC_proc_m2_explicit.dcm", "s01_RCC_proc_m1_rle.dcm"]  # one study of two images
STUDY_2 = ["s02_LMLO_pres_m2_j2k.dcm"]
SPACING_HINT = "(scanned films such as CBIS-DDSM carry none): pass --pixel-spacing MM"


def _png(path: Path) -> Path:
    cv2.imwrite(str(path), np.full((64, 48), 100, np.uint8))
    return path


def _no_spacing_dicom(path: Path) -> Path:
    ds = pydicom.dcmread(SAMPLES / STUDY_1[0])
    del ds.ImagerPixelSpacing
    ds.save_as(path)
    return path


def test_failure_summary_counts_each_type_with_a_hint_and_the_first_file():
    images = {"status": np.array(["error", "ok", "error", "error"], dtype=object),
              "error": np.array(["MissingSpacingError: b.png: no spacing", "", "NotDicomError: a.txt: text",
                                 "MissingSpacingError: c.png: no spacing"], dtype=object),
              "source_path": np.array(["b.png", "ok.dcm", "a.txt", "c.png"], dtype=object)}
    assert failure_summary(images) == [
        f"2 x MissingSpacingError {SPACING_HINT}; e.g. b.png",
        "1 x NotDicomError (neither DICOM nor PGM/PNG/TIFF): leave such files out of INPUT; e.g. a.txt"]
    assert failure_summary({name: column[1:2] for name, column in images.items()}) == []


def test_a_run_that_fails_everywhere_says_why_and_what_to_do(tmp_path, capsys):
    inputs = [_png(tmp_path / "a.png"), _png(tmp_path / "b.png")]
    code = main(["analyze", *map(str, inputs), "--out", str(tmp_path / "out"), "--workers", "1", "--quiet"])
    assert code == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"mammo-cv: 0 of 2 files analysed, results in {tmp_path / 'out'}",
                   "mammo-cv: failures by type (every file's error is in images.csv):",
                   f"  2 x MissingSpacingError {SPACING_HINT}; e.g. {inputs[0]}"]


def _interrupt_at_second_study(monkeypatch):
    real, calls = batch_module.analyze_study, []

    def analyze_study(items, **kwargs):
        calls.append(items)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(items, **kwargs)

    monkeypatch.setattr(batch_module, "analyze_study", analyze_study)


def test_ctrl_c_says_how_far_it_got_and_resume_reports_kept_and_redone(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in STUDY_1 + STUDY_2:
        shutil.copy(SAMPLES / name, folder / name)
    out = tmp_path / "out"
    args = ["analyze", str(folder), "--out", str(out), "--workers", "1", "--quiet"]
    with monkeypatch.context() as patch:
        _interrupt_at_second_study(patch)
        assert main(args) == 130
    assert capsys.readouterr().err == "mammo-cv: interrupted: 2 of 3 images done; rerun with --resume\n"
    (out / ".parts" / "gone.json").write_text("{}")  # outputs of an image that is not in the run
    (out / "overlays" / "gone.png").write_bytes(b"")
    assert main([*args, "--resume"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0] == ("mammo-cv: resume: 2 of 3 images kept from the earlier run, 1 to do "
                      "(a study is redone whole if any of its images is not done)")
    assert err[1] == f"mammo-cv: 3 of 3 files analysed (2 kept from the earlier run, 1 redone), results in {out}"
    assert not (out / ".parts" / "gone.json").exists() and not (out / "overlays" / "gone.png").exists()
    assert len(list((out / "overlays").glob("*.png"))) == 3


@pytest.mark.slow
def test_a_real_ctrl_c_with_workers_exits_130_without_a_traceback(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for path in SAMPLES.glob("*.dcm"):
        shutil.copy(path, folder / path.name)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, "-m", "mammo_cv.run.cli", "analyze", str(folder), "--out", str(out),
                                "--workers", "2", "--quiet"], stderr=subprocess.PIPE, text=True, env=env,
                               start_new_session=True)
    deadline = time.monotonic() + 120
    while not list((out / ".parts").glob("*.json")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    n_done = int(err.split("interrupted: ")[1].split(" of ")[0])
    assert err == f"mammo-cv: interrupted: {n_done} of 5 images done; rerun with --resume\n"
    assert 1 <= n_done < 5


@pytest.mark.parametrize("command", [[], ["analyze"]])
def test_help_shows_examples_and_exit_codes(command, capsys):
    with pytest.raises(SystemExit):
        main([*command, "--help"])
    text = capsys.readouterr().out
    assert "examples:\n  mammo-cv analyze sample_dicoms --out results" in text
    assert "exit codes:\n  0    every file succeeded" in text and "130  interrupted (Ctrl-C)" in text


def _truncated(path: Path) -> Path:
    data = (SAMPLES / STUDY_1[0]).read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


@pytest.mark.parametrize("make, expected", [
    (lambda tmp: tmp / "missing.dcm", "{path}: no such file"),
    (lambda tmp: tmp, "{path}: is a folder; inspect reads one file (analyze takes folders)"),
    (lambda tmp: (tmp / "notes.txt").write_text("text") and tmp / "notes.txt",
     "NotDicomError: {path}: neither a DICOM data set"),
    (lambda tmp: _png(tmp / "scan.png"),
     "MissingSpacingError: {path}: PNG files carry no pixel spacing"),
    (lambda tmp: _no_spacing_dicom(tmp / "film.dcm"), "MissingSpacingError: {path}: no pixel spacing"),
    (lambda tmp: _truncated(tmp / "cut.dcm"), "CorruptPixelDataError: {path}: "),
], ids=["missing", "folder", "text", "png-no-spacing", "dicom-no-spacing", "truncated"])
def test_inspect_names_the_file_the_error_and_what_to_do(make, expected, tmp_path, capsys):
    path = make(tmp_path)
    assert main(["inspect", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mammo-cv: " + expected.format(path=path))
    if "MissingSpacingError" in expected:
        assert err.endswith(f"\n  hint {SPACING_HINT}\n")
    assert "Traceback" not in err and err.count("\n") <= 2
