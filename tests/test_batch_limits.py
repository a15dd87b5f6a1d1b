"""Batch limits and the output folder: a panic, a hog or a slow file costs one row; the lock;
stale tables; parts checked against their schema and their input; studies split into images."""

import json
import os
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest
from batch_corpus import csv_rows, image_rows, write_good, write_good_studies
from fault_work import misbehaving_study

import mammo_cv.run.batch as batch_module
from mammo_cv.run import discover_inputs, plan_studies, run_studies
from mammo_cv.run.cli import main
from mammo_cv.run.outfolder import OutFolderBusyError, locked_out_folder

TABLES = ("calcifications.csv", "clusters.csv", "breasts.csv")


def _analyze(*args: str) -> int:
    return main(["analyze", *args, "--quiet", "--no-overlays"])


@pytest.fixture(scope="module")
def studies_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("limits") / "in"
    write_good_studies(folder, 3)
    return folder


@pytest.fixture(scope="module")
def reference(studies_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("limits-ref") / "out"
    assert _analyze(str(studies_folder), "--out", str(out), "--workers", "1") == 0
    return out


def _one_study_with(tmp_path: Path, name: str) -> list:
    """A study of a good left CC and a file ``name`` (a good right CC, misbehaving by its name)."""
    write_good(tmp_path / "in" / "LCC.dcm", uid_seed="x-L", study="x", laterality="L")
    write_good(tmp_path / "in" / name, uid_seed="x-R", study="x", laterality="R")
    studies = plan_studies(discover_inputs([tmp_path / "in"], take_raster=False)[0])
    assert len(studies) == 1 and len(studies[0]) == 2
    return studies


def _statuses(studies, work, **executor) -> dict[str, tuple[bool, str, str]]:
    return {Path(o.image_row["source_path"]).name: (completed, o.image_row["status"], o.image_row["error"])
            for completed, outcomes in run_studies(studies, work, **executor) for o in outcomes}


@pytest.mark.parametrize("workers", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_a_panic_in_one_image_costs_its_row_not_the_study(tmp_path, workers):
    studies = _one_study_with(tmp_path, "panic.dcm")
    result = _statuses(studies, partial(misbehaving_study, time_limit_s=None), workers=workers)
    assert result["LCC.dcm"] == (True, "ok", "")
    completed, status, error = result["panic.dcm"]
    assert completed and status == "error"
    assert error == "PanicException: index out of bounds: the len is 2304000 but the index is 2304000"


@pytest.mark.slow
def test_a_panic_on_dask_costs_its_row_not_the_study(tmp_path):
    distributed = pytest.importorskip("distributed", reason='pip install "mammo_cv[dask]"')
    import warnings

    studies = _one_study_with(tmp_path, "panic.dcm")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the cluster's start-up and shutdown chatter
        with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster:
            result = _statuses(studies, partial(misbehaving_study, time_limit_s=None),
                               dask_address=cluster.scheduler_address)
    assert result["LCC.dcm"] == (True, "ok", "")
    assert result["panic.dcm"][:2] == (True, "error") and result["panic.dcm"][2].startswith("PanicException")


def test_a_file_past_the_time_limit_is_an_error_row_and_the_study_goes_on(tmp_path):
    studies = _one_study_with(tmp_path, "slow.dcm")
    result = _statuses(studies, partial(misbehaving_study, time_limit_s=0.3), workers=1)
    assert result["LCC.dcm"] == (True, "ok", "")
    assert result["slow.dcm"][:2] == (True, "error")
    assert result["slow.dcm"][2] == (f"FileTimeLimitError: {tmp_path / 'in' / 'slow.dcm'}: analysis took longer "
                                     "than the per-file time limit of 0.3 s (--time-limit)")


@pytest.mark.slow
def test_native_code_past_the_time_limit_ends_its_worker_and_the_run_goes_on(tmp_path):
    """A file spinning in native code (the SIGALRM handler never runs) ends its pool worker past
    the limit plus the grace; its study is rerun alone, ends its worker again and gets error rows,
    and the other study is analysed."""
    studies = _one_study_with(tmp_path / "a", "spin.dcm")
    write_good_studies(tmp_path / "b", 1)
    studies += plan_studies(discover_inputs([tmp_path / "b"], take_raster=False)[0])
    rows = [o.image_row for _, outcomes in run_studies(studies, partial(misbehaving_study, time_limit_s=0.5),
                                                       workers=2) for o in outcomes]
    status = {Path(row["source_path"]).relative_to(tmp_path).as_posix(): row["status"] for row in rows}
    assert status == {"a/in/LCC.dcm": "error", "a/in/spin.dcm": "error",
                      "b/s000/LCC.dcm": "ok", "b/s000/RCC.dcm": "ok"}
    spin = next(row for row in rows if row["source_path"].endswith("spin.dcm"))
    assert "worker failed" in spin["error"]


@pytest.mark.slow
def test_a_worker_past_its_memory_limit_gives_a_memory_error_row(tmp_path):
    studies = _one_study_with(tmp_path, "hog.dcm")
    result = _statuses(studies, partial(misbehaving_study, time_limit_s=None), workers=2, memory_limit_gb=2.0)
    assert result["LCC.dcm"] == (True, "ok", "")
    assert result["hog.dcm"][:2] == (True, "error") and result["hog.dcm"][2].startswith("MemoryError")


# --- the output folder --------------------------------------------------------------------------

def test_a_second_run_on_a_locked_folder_is_refused_with_exit_code_2(studies_folder, tmp_path):
    out = tmp_path / "out"
    launcher = tmp_path / "launch" / "mammo_cv_cli.py"
    launcher.parent.mkdir()
    launcher.write_text("import sys\nfrom mammo_cv.run.cli import main\nsys.exit(main())\n")
    with locked_out_folder(out):  # this process holds the folder, as a running run does
        other = subprocess.run([sys.executable, str(launcher), "analyze", str(studies_folder), "--out", str(out),
                                "--workers", "1", "--quiet"], capture_output=True, text=True)
        with pytest.raises(OutFolderBusyError, match="another mammo-cv run"):
            with locked_out_folder(out):
                pass
    assert other.returncode == 2
    assert f"mammo-cv: {out}: another mammo-cv run is writing to this output folder" in other.stderr
    assert not (out / ".parts").exists()  # refused before touching anything
    with locked_out_folder(out):  # released: the next run gets it
        pass


def test_a_run_stopped_early_leaves_no_table_that_looks_current(studies_folder, reference, tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert _analyze(str(studies_folder), "--out", str(out), "--workers", "1") == 0
    assert (out / "images.csv").is_file() and (out / "run.json").is_file()

    def interrupted(items, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(batch_module, "analyze_study", interrupted)
    assert _analyze(str(studies_folder), "--out", str(out), "--workers", "1") == 130
    left = sorted(path.name for path in out.iterdir())
    assert left == [".lock", ".parts"] and not list((out / ".parts").glob("*.json"))


def _part(out: Path, source_name: str) -> Path:
    image_id = next(r["image_id"] for r in csv_rows(out / "images.csv") if r["source_path"].endswith(source_name))
    return out / ".parts" / f"{image_id}.json"


@pytest.mark.parametrize("change", ["rows_abc", "truncated", "unequal_columns", "other_version", "input_touched",
                                    "input_rewritten"])
def test_resume_redoes_a_part_that_is_broken_or_no_longer_current(studies_folder, reference, tmp_path, change):
    folder = tmp_path / "in"
    write_good_studies(folder, 3)
    out = tmp_path / "out"
    assert _analyze(str(folder), "--out", str(out), "--workers", "1") == 0
    part = _part(out, "s001/LCC.dcm")
    payload = json.loads(part.read_text())
    if change == "rows_abc":
        payload["image"]["rows"] = "abc"
    elif change == "unequal_columns":
        payload["calcifications"]["area_mm2"].append(1.0)
    elif change == "other_version":
        payload["mammo_cv_version"] = "0.0.1"
    text = json.dumps(payload)
    part.write_text(text[: len(text) // 2] if change == "truncated" else text)
    source = folder / "s001" / "LCC.dcm"
    if change == "input_touched":
        os.utime(source, ns=(source.stat().st_atime_ns, source.stat().st_mtime_ns + 10**9))
    elif change == "input_rewritten":  # same content, new bytes on disk: size and mtime change
        source.write_bytes(source.read_bytes() + b"\0\0")
    others = {p: p.stat().st_mtime_ns for p in (out / ".parts").glob("*.json") if "s001" not in str(p)}
    assert _analyze(str(folder), "--out", str(out), "--workers", "1", "--resume") == 0
    redone = json.loads(part.read_text())
    assert isinstance(redone["image"]["rows"], int) and redone["input"]["size"] == source.stat().st_size
    assert redone["input"]["mtime_ns"] == source.stat().st_mtime_ns
    assert sum(p.stat().st_mtime_ns == m for p, m in others.items()) >= 2  # one other study at least untouched
    for name in TABLES:
        assert (out / name).read_bytes() == (reference / name).read_bytes()


# --- studies of any size --------------------------------------------------------------------

def test_a_study_split_into_image_tasks_gives_the_same_tables(studies_folder, reference, tmp_path):
    out = tmp_path / "out"
    assert main(["analyze", str(studies_folder), "--out", str(out), "--workers", "1", "--quiet",
                 "--split-over", "1"]) == 0
    for name in TABLES:
        assert (out / name).read_bytes() == (reference / name).read_bytes()
    assert image_rows(out) == image_rows(reference)
    overlays = sorted(p.stem for p in (out / "overlays").glob("*.png"))
    assert overlays == sorted(r["image_id"] for r in csv_rows(out / "images.csv"))


def test_split_tasks_are_single_images_and_the_context_waits_for_the_whole_study(studies_folder, monkeypatch):
    """Each image of a study over the limit is one task; every image is analysed before any is labelled."""
    events = []
    analyze, label = batch_module.analyze, batch_module.label_image_tables

    def tracked_analyze(path, **kwargs):
        events.append(("analyse", path.name))
        return analyze(path, **kwargs)

    def tracked_label(*args, **kwargs):
        events.append(("label", None))
        return label(*args, **kwargs)

    monkeypatch.setattr(batch_module, "analyze", tracked_analyze)
    monkeypatch.setattr(batch_module, "label_image_tables", tracked_label)
    studies = plan_studies(discover_inputs([studies_folder], take_raster=False)[0])
    sizes = []
    real_run = batch_module.run_studies

    def counting_run(tasks, work, **kwargs):
        sizes.append([len(task) for task in tasks])
        return real_run(tasks, work, **kwargs)

    monkeypatch.setattr(batch_module, "run_studies", counting_run)
    outcomes = batch_module.run_batch(studies, out_dir=None, settings={}, progress=False, split_over=1)
    assert [o.image_row["status"] for o in outcomes] == ["ok"] * 6
    assert sizes == [[1] * 6, [1] * 6]  # six analysis tasks, then six finishing tasks
    assert [kind for kind, _ in events] == ["analyse"] * 6 + ["label"] * 6
