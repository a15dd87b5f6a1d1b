"""--laterality and --view: raster files carry neither, so the command line gives them."""

from __future__ import annotations

import csv
import json
import pathlib

import cv2
import numpy as np
import pytest

from mammo_cv.run.cli import main
from mammo_cv.synthetic.phantoms import phantom


@pytest.fixture(scope="module")
def phantom_png(tmp_path_factory):
    path = tmp_path_factory.mktemp("png") / "scan.png"
    pixels = phantom(spacing_mm=0.2, seed=1).image.pixels  # 12-bit-like values
    cv2.imwrite(str(path), np.rint(pixels * (255 / 4095)).astype(np.uint8))
    return path


def test_inspect_takes_laterality_and_view_in_any_case(phantom_png, capsys):
    assert main(["inspect", str(phantom_png), "--pixel-spacing", "0.2", "--laterality", "r", "--view", "mlo"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert (facts["laterality"], facts["view"]) == ("R", "MLO")
    assert main(["inspect", str(phantom_png), "--pixel-spacing", "0.2"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert (facts["laterality"], facts["view"]) == ("U", "U")  # unknown without them


def test_analyze_records_the_given_laterality_and_view(phantom_png, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["analyze", str(phantom_png), "--pixel-spacing", "0.2", "--laterality", "L", "--view", "CC",
                 "--out", str(out), "--workers", "1", "--quiet", "--no-overlays"]) == 0
    with open(out / "images.csv", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert (row["laterality"], row["view"]) == ("L", "CC")
    assert json.loads((out / "run.json").read_text())["arguments"]["view"] == "CC"


@pytest.mark.parametrize("option, value", [("--view", "AP"), ("--laterality", "B")])
def test_a_value_that_is_not_a_side_or_a_view_is_a_usage_error(option, value, phantom_png, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["inspect", str(phantom_png), "--pixel-spacing", "0.2", option, value])
    assert caught.value.code == 2
    assert f"invalid choice: '{value}'" in capsys.readouterr().err


def test_assume_mammogram_admits_a_film_export_and_images_csv_records_it(tmp_path):
    """A Secondary Capture film export with Modality OT is an error row without the option and an
    analysed image with it, recorded as assumed_mammogram 1."""
    import pandas as pd
    import pydicom

    source = sorted((pathlib.Path(__file__).resolve().parents[1] / "sample_dicoms").glob("*.dcm"))[0]
    ds = pydicom.dcmread(source)
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.Modality = "OT"
    folder = tmp_path / "in"
    folder.mkdir()
    ds.save_as(folder / "film.dcm")
    assert main(["analyze", str(folder), "--out", str(tmp_path / "plain"), "--quiet", "--no-overlays"]) == 2
    plain = pd.read_csv(tmp_path / "plain" / "images.csv")
    assert plain["status"].tolist() == ["error"] and "--assume-mammogram" in plain["error"][0]
    assert main(["analyze", str(folder), "--out", str(tmp_path / "assumed"), "--quiet", "--no-overlays",
                 "--assume-mammogram"]) == 0
    assumed = pd.read_csv(tmp_path / "assumed" / "images.csv")
    assert assumed["status"].tolist() == ["ok"] and assumed["assumed_mammogram"].tolist() == [1]
