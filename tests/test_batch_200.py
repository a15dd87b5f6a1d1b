"""The issue's scale target: 200 DICOMs, 10 of them broken, in one command."""

import csv
import shutil

import pytest
from batch_corpus import BAD_DICOM_EXPECTED, write_bad_dicoms, write_good_studies

from mammo_cv.run.cli import main


@pytest.mark.slow
def test_200_files_with_10_broken_in_one_command(tmp_path):
    archive = tmp_path / "archive"
    good = write_good_studies(archive / "studies", 95)  # 190 images, two per study
    bad = write_bad_dicoms(archive / "broken", good[0])  # 9 defects
    data = good[1].read_bytes()
    (archive / "broken" / "truncated_header.dcm").write_bytes(data[:400])  # cut inside the header
    assert len(good) + len(bad) + 1 == 200
    out = tmp_path / "out"
    code = main(["analyze", str(archive), "--out", str(out), "--workers", "2", "--quiet"])
    assert code == 1
    with open(out / "images.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 200
    ok = [row for row in rows if row["status"] == "ok"]
    errors = [row for row in rows if row["status"] == "error"]
    assert len(ok) == 190 and len(errors) == 10
    assert {row["source_path"] for row in ok} == {str(path) for path in good}
    expected = {str(path): kind for path, (kind, _) in zip(bad.values(), BAD_DICOM_EXPECTED.values())}
    expected[str(archive / "broken" / "truncated_header.dcm")] = "NotDicomError"  # no data set left
    assert {row["source_path"]: row["error"].split(":")[0] for row in errors} == expected
    assert len(list((out / "overlays").glob("*.png"))) == 190
    assert len({row["image_id"] for row in rows}) == 200
    gallery = (out / "index.html").read_text(encoding="utf-8")
    assert all(row["image_id"] in gallery for row in rows)
    shutil.rmtree(archive)
