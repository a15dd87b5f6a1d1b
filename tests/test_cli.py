"""The mammo-cv command on the committed samples plus broken files."""

import csv
import json
import shutil
from pathlib import Path

import pytest

from mammo_cv import __version__
from mammo_cv.run.cli import main
from mammo_cv.tables import CALCIFICATION_CSV_COLUMNS, CLUSTER_CSV_COLUMNS, IMAGE_COLUMNS

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
    code = main(["analyze", str(mixed_folder), "--out", str(out), "--workers", "1", "--quiet", "--no-overlays"])
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
    assert any(entry["path"].endswith("notes.txt") and "neither DICOM" in entry["reason"] for entry in run["skipped"])


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


def test_every_file_failing_is_exit_code_2(tmp_path, capsys):
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(b"\0" * 128 + b"DICM")
    assert main(["analyze", str(bad), "--out", str(tmp_path / "o"), "--quiet", "--no-overlays"]) == 2
    assert _read(tmp_path / "o" / "images.csv")[0]["status"] == "error"


def test_progress_bar_shows_rate_and_eta_on_stderr(mixed_folder, tmp_path, capsys):
    main(["analyze", str(mixed_folder / "nested"), "--out", str(tmp_path / "o"), "--workers", "1", "--no-overlays"])
    captured = capsys.readouterr()
    assert "2/2" in captured.err and "file/s" in captured.err and "<" in captured.err  # elapsed<remaining
    assert captured.out == ""
    main(["analyze", str(mixed_folder / "nested"), "--out", str(tmp_path / "q"), "--workers", "1", "--no-overlays",
          "--quiet"])
    assert "file/s" not in capsys.readouterr().err


def test_overlays_are_written_unless_disabled(mixed_folder, tmp_path):
    with_overlays, without = tmp_path / "with", tmp_path / "without"
    main(["analyze", str(mixed_folder / "nested"), "--out", str(with_overlays), "--workers", "1", "--quiet"])
    main(["analyze", str(mixed_folder / "nested"), "--out", str(without), "--workers", "1", "--quiet",
          "--no-overlays"])
    ids = sorted(row["image_id"] for row in _read(with_overlays / "images.csv"))
    pngs = sorted(path.stem for path in (with_overlays / "overlays").glob("*.png"))
    assert pngs == ids and all(path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
                               for path in (with_overlays / "overlays").glob("*.png"))
    assert not list(without.rglob("*.png"))
    # the overlays do not change the tables
    for name in ("calcifications.csv", "clusters.csv"):
        assert (with_overlays / name).read_bytes() == (without / name).read_bytes()


def test_rules_file_changes_the_digest_and_a_bad_one_is_a_usage_error(mixed_folder, tmp_path, capsys):
    from mammo_cv.classify.rules import DEFAULT_RULES_PATH, load_rules

    text = DEFAULT_RULES_PATH.read_text()
    assert "min_length_mm = 3.0" in text
    strict = tmp_path / "strict.toml"
    strict.write_text(text.replace("min_length_mm = 3.0", "min_length_mm = 4.5", 1))
    out = tmp_path / "o"
    assert main(["analyze", str(mixed_folder / "nested"), "--out", str(out), "--workers", "1", "--quiet",
                 "--no-overlays", "--rules", str(strict)]) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["rules_digest"] == load_rules(strict).digest != load_rules().digest
    assert run["config"]["rules"]["secretory"]["min_length_mm"] == 4.5
    assert run["arguments"]["rules"] == str(strict)
    broken = tmp_path / "broken.toml"
    broken.write_text(text.replace("min_length_mm = 3.0", "min_length_mm = 3.0\nmin_lenght_mm = 4.0", 1))
    capsys.readouterr()
    assert main(["analyze", str(mixed_folder / "nested"), "--out", str(tmp_path / "b"), "--quiet",
                 "--rules", str(broken)]) == 2
    assert "min_lenght_mm" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()  # refused before any work


def test_settings_file_and_rules_file_reach_run_json(mixed_folder, tmp_path, capsys):
    from mammo_cv.classify.rules import load_rules
    from mammo_cv.config import load_settings

    settings = tmp_path / "settings.toml"
    settings.write_text("[detection]\nskin_margin_mm = 6.0\n\n[rules.secretory]\nmin_length_mm = 4.0\n")
    rules = tmp_path / "rules.toml"
    rules.write_text("[macro]\nmin_length_mm = 1.5\n")
    out = tmp_path / "o"
    assert main(["analyze", str(mixed_folder / "nested"), "--out", str(out), "--workers", "1", "--quiet",
                 "--no-overlays", "--config", str(settings), "--rules", str(rules)]) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["settings_file"] == str(settings.resolve()) and run["arguments"]["config"] == str(settings)
    assert run["config"]["detection"]["skin_margin_mm"] == 6.0
    # --rules replaces the [rules.*] sections of --config: secretory keeps its default
    assert run["config"]["rules"]["macro"]["min_length_mm"] == 1.5
    assert run["config"]["rules"]["secretory"]["min_length_mm"] == 3.0
    assert run["rules_digest"] == load_rules(rules).digest
    expected = load_settings(settings)
    assert run["config_digest"] != expected.digest()  # the rules file changed the rule set
    only_settings = tmp_path / "s"
    assert main(["analyze", str(mixed_folder / "nested"), "--out", str(only_settings), "--workers", "1",
                 "--quiet", "--no-overlays", "--config", str(settings)]) == 0
    run = json.loads((only_settings / "run.json").read_text())
    assert run["config_digest"] == expected.digest() and run["rules_file"] is None
    assert run["config"]["rules"]["secretory"]["min_length_mm"] == 4.0


def test_a_bad_settings_file_is_a_usage_error_before_any_work(mixed_folder, tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[clusters]\nmin_member_confidence = 5.0\n")
    assert main(["analyze", str(mixed_folder / "nested"), "--out", str(tmp_path / "b"), "--quiet",
                 "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: [clusters] min_member_confidence: must equal [detection] min_confidence" in err
    assert not (tmp_path / "b").exists()


def test_config_defaults_prints_a_settings_file_of_the_defaults(tmp_path, capsys):
    from mammo_cv.config import Config, load_settings, settings_toml

    assert main(["config", "--defaults"]) == 0
    text = capsys.readouterr().out
    assert text == settings_toml()
    path = tmp_path / "defaults.toml"
    path.write_text(text)
    assert load_settings(path) == Config() and load_settings(path).digest() == Config().digest()


def test_config_command_needs_defaults(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["config"])
    assert exit_info.value.code == 2
    assert "--defaults" in capsys.readouterr().err
