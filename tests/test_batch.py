"""Batch planning, parts, resume, PHI and the in-memory ``analyze_batch``."""

import json
import os
import signal
import subprocess
import sys
import time
import warnings
import weakref
from pathlib import Path

import numpy as np
import pytest
from batch_corpus import PHI, csv_rows, write_good, write_good_studies

from mammo_cv.run import (
    ResumeMismatchError,
    WorkItem,
    analyze_batch,
    analyze_study,
    discover_inputs,
    error_outcome,
    plan_studies,
    run_batch,
    run_studies,
)
from mammo_cv.run.cli import main
from mammo_cv.tables import (
    BREAST_COLUMNS,
    CALCIFICATION_CSV_COLUMNS,
    CLUSTER_CSV_COLUMNS,
    IMAGE_COLUMNS,
    LABEL_COUNT_COLUMNS,
    safe_id,
)


def _analyze(*args: str) -> int:
    return main(["analyze", *args, "--quiet", "--no-overlays"])


@pytest.fixture(scope="module")
def three_studies(tmp_path_factory):
    folder = tmp_path_factory.mktemp("studies") / "in"
    write_good_studies(folder, 3)
    return folder


@pytest.fixture(scope="module")
def reference_run(three_studies, tmp_path_factory):
    out = tmp_path_factory.mktemp("reference") / "out"
    assert _analyze(str(three_studies), "--out", str(out), "--workers", "1") == 0
    return out


# --- ids and studies -------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("1.2.840.113619.2.55", "1.2.840.113619.2.55"),
    ("../../etc/passwd", "etc_passwd"),
    ("..", "image"),
    ("a/b\\c d", "a_b_c_d"),
    ("/abs/path.dcm", "abs_path.dcm"),
])
def test_safe_id(text, expected):
    assert safe_id(text) == expected


def test_long_ids_are_cut_and_stay_distinct():
    a, b = safe_id("x" * 300 + "a"), safe_id("x" * 300 + "b")
    assert a != b and len(a) == len(b) == 96


def test_studies_group_by_study_uid_then_patient_and_date(tmp_path):
    write_good(tmp_path / "a" / "1.dcm", uid_seed="a1", study="A", laterality="L")
    write_good(tmp_path / "b" / "1.dcm", uid_seed="b1", study="B", laterality="L")
    write_good(tmp_path / "a" / "2.dcm", uid_seed="a2", study="A", laterality="R")
    # no Study Instance UID: Patient ID + Study Date decide
    for name, patient, date in (("p1.dcm", "P1", "20200101"), ("p2.dcm", "P1", "20200101"),
                                ("p3.dcm", "P1", "20210101")):
        write_good(tmp_path / "c" / name, uid_seed=name, study=name, laterality="L",
                   extra={"StudyInstanceUID": None, "PatientID": patient, "StudyDate": date})
    files, _ = discover_inputs([tmp_path], take_raster=False)
    studies = plan_studies(files)
    names = [[item.path.relative_to(tmp_path).as_posix() for item in study] for study in studies]
    assert names == [["a/1.dcm", "a/2.dcm"], ["b/1.dcm"], ["c/p1.dcm", "c/p2.dcm"], ["c/p3.dcm"]]
    # the key is opaque: the patient id never appears in it
    assert all("P1" not in item.study_key for study in studies for item in study)


def test_image_ids_are_the_instance_uid_unique_and_case_insensitive(tmp_path):
    write_good(tmp_path / "x.dcm", uid_seed="u", study="S", extra={"SOPInstanceUID": "1.2.3"})
    write_good(tmp_path / "y.dcm", uid_seed="v", study="S", extra={"SOPInstanceUID": "1.2.3"})
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "Scan.pgm").write_bytes(b"P5 4 4 255\n" + bytes(16))
    (tmp_path / "r" / "scan.pgm").write_bytes(b"P5 4 4 255\n" + bytes(16))
    files, _ = discover_inputs([tmp_path], take_raster=True)
    ids = {item.path.name: item.image_id for study in plan_studies(files) for item in study}
    assert ids == {"x.dcm": "1.2.3", "y.dcm": "1.2.3_2", "Scan.pgm": "r_Scan.pgm", "scan.pgm": "r_scan.pgm_2"}


def test_a_hostile_uid_cannot_write_outside_the_output_folder(tmp_path):
    hostile = "../../../escaped"
    out = tmp_path / "deep" / "er" / "out"
    with warnings.catch_warnings():  # pydicom warns that this is not a valid UI value, as it should
        warnings.simplefilter("ignore", UserWarning)
        write_good(tmp_path / "in" / "x.dcm", uid_seed="h", study="H", extra={"SOPInstanceUID": hostile})
        before = set(tmp_path.rglob("*"))
        assert main(["analyze", str(tmp_path / "in"), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    created = set(tmp_path.rglob("*")) - before
    assert created and all(path.is_relative_to(out) or path in out.parents for path in created)
    assert csv_rows(out / "images.csv")[0]["image_id"] == "escaped"
    assert (out / "overlays" / "escaped.png").is_file() and (out / ".parts" / "escaped.json").is_file()


# --- outputs -------------------------------------------------------------------------------------

def test_no_protected_health_information_in_any_output(tmp_path):
    write_good_studies(tmp_path / "in", 1, extra=PHI)
    out = tmp_path / "out"
    assert main(["analyze", str(tmp_path / "in"), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    outputs = [path for path in out.rglob("*") if path.is_file()]
    assert {"images.csv", "calcifications.csv", "clusters.csv", "run.json", "index.html"} <= {p.name for p in outputs}
    assert any(path.suffix == ".png" for path in outputs)
    for path in outputs:
        data = path.read_bytes()
        for value in PHI.values():
            assert value.encode() not in data, f"{value} found in {path.name}"
            assert value.replace("^", " ").encode() not in data
    pd = pytest.importorskip("pandas")
    for path in out.glob("*.parquet"):  # compressed pages: check the decoded cells too
        cells = [str(cell) for cell in pd.read_parquet(path).to_numpy().ravel()]
        assert not any(value in cell for value in PHI.values() for cell in cells), path.name


def test_label_counts_match_the_calcification_rows(reference_run):
    images, calcs = csv_rows(reference_run / "images.csv"), csv_rows(reference_run / "calcifications.csv")
    clusters = csv_rows(reference_run / "clusters.csv")
    assert list(images[0]) == list(IMAGE_COLUMNS)
    assert list(clusters[0]) == list(CLUSTER_CSV_COLUMNS)
    for image in images:
        mine = [c for c in calcs if c["image_id"] == image["image_id"]]
        assert int(image["n_calcifications"]) == len(mine)
        assert int(image["n_clusters"]) == sum(c["image_id"] == image["image_id"] for c in clusters)
        for column, label in LABEL_COUNT_COLUMNS.items():
            assert int(image[column]) == sum(c["label"] == label for c in mine)
    labels = {c["label"] for c in calcs}
    assert labels <= {"secretory", "vascular", "macro", "suspicious_cluster", "punctate", "other"}
    assert len(labels) >= 3  # phantoms hold every kind: the classifier's labels reach the table
    assert all(0.0 <= float(c["score"]) <= 1.0 and c["label"] and c["reason"] for c in clusters)


def test_run_json_records_provenance(reference_run):
    run = json.loads((reference_run / "run.json").read_text())
    from mammo_cv import __version__
    from mammo_cv.config.settings import Config

    assert run["mammo_cv_version"] == __version__
    assert run["config_digest"] == Config().digest()
    assert len(run["rules_digest"]) == 16
    assert run["arguments"]["workers"] == 1 and run["arguments"]["resume"] is False
    assert run["started_utc"].endswith("+00:00") and run["started_utc"] <= run["finished_utc"]
    assert run["n_files"] == 6 and run["n_failed"] == 0


def test_parquet_copies_equal_the_csv(reference_run):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    for name, columns in (("images", IMAGE_COLUMNS), ("calcifications", CALCIFICATION_CSV_COLUMNS),
                          ("clusters", CLUSTER_CSV_COLUMNS)):
        frame = pd.read_parquet(reference_run / f"{name}.parquet")
        rows = csv_rows(reference_run / f"{name}.csv")
        assert list(frame.columns) == list(columns) and len(frame) == len(rows)
        for column, dtype in columns.items():
            if dtype.kind == "O":
                assert pd.api.types.is_string_dtype(frame[column].dtype), column
            else:
                assert frame[column].dtype == dtype, column
        if rows and name == "calcifications":
            np.testing.assert_allclose(frame["area_mm2"], [float(r["area_mm2"]) for r in rows], rtol=1e-6)


# --- resume ---------------------------------------------------------------------------------------

def _tables(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes()
            for name in ("calcifications.csv", "clusters.csv", "images.csv", "breasts.csv")}


def test_resume_redoes_only_missing_parts_and_gives_the_same_tables(three_studies, reference_run, tmp_path):
    out = tmp_path / "out"
    assert _analyze(str(three_studies), "--out", str(out), "--workers", "1") == 0
    parts = sorted((out / ".parts").glob("*.json"))
    assert len(parts) == 6
    parts[0].unlink()
    kept = {path: path.stat().st_mtime_ns for path in parts[1:]}
    assert _analyze(str(three_studies), "--out", str(out), "--workers", "1", "--resume") == 0
    assert parts[0].is_file()
    untouched = sum(path.stat().st_mtime_ns == mtime for path, mtime in kept.items())
    assert untouched == 4  # the study of the lost part (2 images) is redone, the other 2 studies are not
    assert _tables(out) == _tables(reference_run) | {"images.csv": _tables(out)["images.csv"]}
    strip = [[{k: v for k, v in r.items() if k != "seconds"} for r in csv_rows(o / "images.csv")]
             for o in (out, reference_run)]
    assert strip[0] == strip[1]


def test_resume_with_other_settings_is_refused(three_studies, tmp_path, capsys):
    out = tmp_path / "out"
    assert _analyze(str(three_studies), "--out", str(out), "--workers", "1") == 0
    capsys.readouterr()
    assert _analyze(str(three_studies), "--out", str(out), "--workers", "1", "--resume",
                    "--pixel-spacing", "0.25") == 2
    message = capsys.readouterr().err
    assert "made with settings" in message and "--pixel-spacing" in message
    files, _ = discover_inputs([three_studies], take_raster=False)
    with pytest.raises(ResumeMismatchError, match="config_digest"):
        run_batch(plan_studies(files), out_dir=out, settings={"config_digest": "other", "pixel_spacing_mm": None},
                  resume=True, progress=False)


@pytest.mark.slow
def test_sigkill_then_resume_gives_the_tables_of_an_uninterrupted_run(tmp_path):
    """Kill the whole command (SIGKILL, no clean-up) once some parts exist, then resume."""
    folder = tmp_path / "in"
    write_good_studies(folder, 12)  # 24 images
    out, full = tmp_path / "killed", tmp_path / "full"
    command = [sys.executable, "-m", "mammo_cv.run.cli", "analyze", str(folder), "--out", str(out),
               "--workers", "1", "--quiet", "--no-overlays"]
    process = subprocess.Popen(command, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len(list((out / ".parts").glob("*.json"))) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    n_parts = len(list((out / ".parts").glob("*.json")))
    assert 4 <= n_parts < 24, "the run was killed mid-way"
    assert not (out / "images.csv").exists()
    # fresh processes, as the killed run: every run uses the code on disk
    assert subprocess.run([*command, "--resume"]).returncode == 0
    assert subprocess.run([*command[:6], str(full), *command[7:]]).returncode == 0
    killed, uninterrupted = _tables(out), _tables(full)
    assert killed["calcifications.csv"] == uninterrupted["calcifications.csv"]
    assert killed["clusters.csv"] == uninterrupted["clusters.csv"]
    assert killed["breasts.csv"] == uninterrupted["breasts.csv"]
    strip = [[{k: v for k, v in r.items() if k != "seconds"} for r in csv_rows(o / "images.csv")] for o in (out, full)]
    assert strip[0] == strip[1] and len(strip[0]) == 24


# --- workers and the Python API ------------------------------------------------------------------

@pytest.mark.slow
def test_tables_do_not_depend_on_the_worker_count(three_studies, reference_run, tmp_path):
    out = tmp_path / "out"
    assert _analyze(str(three_studies), "--out", str(out), "--workers", "2") == 0
    for name in ("calcifications.csv", "clusters.csv", "breasts.csv"):
        assert (out / name).read_bytes() == (reference_run / name).read_bytes()
    strip = [[{k: v for k, v in r.items() if k != "seconds"} for r in csv_rows(o / "images.csv")]
             for o in (out, reference_run)]
    assert strip[0] == strip[1]


def test_analyze_batch_gives_the_csv_tables_as_dataframes(three_studies, reference_run, tmp_path):
    pytest.importorskip("pandas")
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(b"\0" * 128 + b"DICM" + b"\0" * 10)
    batch = analyze_batch([three_studies, bad], workers=1, progress=False)
    assert list(batch.images.columns) == list(IMAGE_COLUMNS)
    assert [str(t) for t in batch.calcifications.dtypes] == [
        "string" if t.kind == "O" else str(t) for t in CALCIFICATION_CSV_COLUMNS.values()]
    assert list(batch.errors["source_path"]) == [str(bad)] and batch.errors["error"][0].startswith("NotDicomError")
    csv_calcs = csv_rows(reference_run / "calcifications.csv")
    assert len(batch.calcifications) == len(csv_calcs)
    np.testing.assert_allclose(batch.calcifications["length_mm"], [float(r["length_mm"]) for r in csv_calcs],
                               rtol=1e-6)
    assert list(batch.calcifications["label"]) == [r["label"] for r in csv_calcs]
    ok = batch.images[batch.images["status"] == "ok"]
    assert list(ok["image_id"]) == [r["image_id"] for r in csv_rows(reference_run / "images.csv")]
    assert list(batch.breasts.columns) == list(BREAST_COLUMNS)
    assert batch.breasts["image_ids"].tolist() == [r["image_ids"] for r in csv_rows(reference_run / "breasts.csv")]


def test_breasts_csv_has_one_row_per_study_and_side_and_its_counts_add_up_to_images_csv(reference_run):
    images, breasts = csv_rows(reference_run / "images.csv"), csv_rows(reference_run / "breasts.csv")
    assert list(breasts[0]) == list(BREAST_COLUMNS)
    assert len(breasts) == 6 and len({(b["study_key"], b["laterality"]) for b in breasts}) == 6
    by_id = {image["image_id"]: image for image in images}
    for column in ("n_calcifications", "n_clusters", *LABEL_COUNT_COLUMNS):
        assert sum(int(b[column]) for b in breasts) == sum(int(i[column]) for i in images), column
        for breast in breasts:  # and breast by breast, over the images it names
            members = [by_id[image_id] for image_id in breast["image_ids"].split(";")]
            assert int(breast[column]) == sum(int(m[column]) for m in members)
            assert all(m["study_key"] == breast["study_key"] and m["laterality"] == breast["laterality"]
                       for m in members)
    clusters = csv_rows(reference_run / "clusters.csv")
    for breast in breasts:
        scores = [float(c["score"]) for c in clusters if c["image_id"] in breast["image_ids"].split(";")]
        assert (float(breast["max_cluster_score"]) == pytest.approx(max(scores), abs=1e-6) if scores
                else breast["max_cluster_score"] == "")
        other = [b for b in breasts if b["study_key"] == breast["study_key"] and b is not breast]
        assert int(breast["contralateral_rod_count"]) == int(other[0]["n_rod_like"])
        assert (breast["bilateral_rod_support"] == "1") == (int(other[0]["n_rod_like"]) >= 1)


def test_the_other_breast_of_the_same_study_reaches_the_classifier(reference_run, tmp_path):
    """The same two images, once as one study and once as two: only the first cites the other
    breast (the classifier's bilateral evidence for secretory)."""
    write_good(tmp_path / "in" / "L.dcm", uid_seed="s000-L", study="alone-L", laterality="L", seed=1)
    write_good(tmp_path / "in" / "R.dcm", uid_seed="s000-R", study="alone-R", laterality="R", seed=1)
    out = tmp_path / "out"
    assert _analyze(str(tmp_path / "in"), "--out", str(out), "--workers", "1") == 0
    apart = csv_rows(out / "calcifications.csv")
    ids = {row["image_id"] for row in apart}
    together = [row for row in csv_rows(reference_run / "calcifications.csv") if row["image_id"] in ids]
    assert [r["calc_id"] for r in together] == [r["calc_id"] for r in apart]  # same images, same detections
    assert any("other breast" in row["reason"] for row in together)
    assert not any("other breast" in row["reason"] for row in apart)


def _dies_on_crash_dcm(study):
    """A work unit whose process dies (as in a decoder segfault) on the study holding crash.dcm."""
    if any(item.path.name == "crash.dcm" for item in study):
        os._exit(3)
    time.sleep(0.05)
    return [error_outcome(item, ValueError("done"), 0.0) for item in study]


def test_a_dying_worker_fails_only_its_own_study(tmp_path):
    names = ["a.dcm", "b.dcm", "crash.dcm", "d.dcm", "e.dcm", "f.dcm"]
    studies = [[WorkItem(tmp_path / name, name, name)] for name in names]
    results = {}
    for completed, outcomes in run_studies(studies, _dies_on_crash_dcm, workers=2):
        assert len(outcomes) == 1
        results[outcomes[0].image_row["image_id"]] = (completed, outcomes[0].image_row["error"])
    assert sorted(results) == sorted(names)
    assert results["crash.dcm"][0] is False and "worker failed (BrokenProcessPool" in results["crash.dcm"][1]
    assert all(results[name] == (True, "ValueError: done") for name in names if name != "crash.dcm")


def test_resume_with_overlays_renders_the_ones_an_earlier_run_skipped(three_studies, tmp_path):
    out = tmp_path / "out"
    assert _analyze(str(three_studies), "--out", str(out), "--workers", "1") == 0  # --no-overlays
    assert main(["analyze", str(three_studies), "--out", str(out), "--workers", "1", "--quiet", "--resume"]) == 0
    ids = sorted(row["image_id"] for row in csv_rows(out / "images.csv"))
    assert sorted(path.stem for path in (out / "overlays").glob("*.png")) == ids


def test_a_study_keeps_no_result_alive_and_draws_the_single_image_overlay(tmp_path, monkeypatch):
    """analyze_study drops each image's Result (pixels, label image, masks) before analysing the
    next one and before the study context, and still writes the PNG and labels that the
    single-image path (analyze, study_contexts, reclassify, encode_overlay) gives."""
    import mammo_cv.pipeline.analysis
    import mammo_cv.run.batch
    from mammo_cv.pipeline.study import study_contexts
    from mammo_cv.review.overlay import encode_overlay

    write_good_studies(tmp_path / "in", 1)  # one study: left CC and right CC
    study = plan_studies(discover_inputs([tmp_path / "in"], take_raster=False)[0])[0]
    analyze, pair = mammo_cv.run.batch.analyze, mammo_cv.run.batch.pair_study
    made: list[weakref.ref] = []
    alive_at: list[int] = []

    def tracked_analyze(*args, **kwargs):
        alive_at.append(sum(ref() is not None for ref in made))
        result = analyze(*args, **kwargs)
        made.append(weakref.ref(result))
        return result

    def tracked_pair(*args, **kwargs):
        alive_at.append(sum(ref() is not None for ref in made))
        return pair(*args, **kwargs)

    monkeypatch.setattr(mammo_cv.run.batch, "analyze", tracked_analyze)
    monkeypatch.setattr(mammo_cv.run.batch, "pair_study", tracked_pair)
    outcomes = analyze_study(study, overlays=True)
    monkeypatch.undo()
    assert len(made) == 2 and alive_at == [0, 0, 0]  # before image 2 and before the context: none alive
    results = [analyze(item.path) for item in study]
    contexts = study_contexts(results, [item.study_key for item in study])
    assert all(context is not None for context in contexts)
    for outcome, result, context in zip(outcomes, results, contexts):
        expected = mammo_cv.pipeline.analysis.reclassify(result, context)
        assert outcome.image_row["status"] == "ok"
        assert outcome.overlay_png == encode_overlay(expected)
        assert list(outcome.calcifications["reason"]) == list(expected.calc_table["reason"])
        assert list(outcome.clusters["label"]) == list(expected.cluster_table["label"])
