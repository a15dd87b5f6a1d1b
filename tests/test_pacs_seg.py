"""The calcification Segmentation: highdicom reads it back equal to the label image; dciodvfy finds no error."""

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest

import mammo_cv as m

hd = pytest.importorskip("highdicom", reason="highdicom is not installed")
from mammo_cv.pacs import build_segmentation, write_segmentation  # noqa: E402

SAMPLE = Path(__file__).parent.parent / "sample_dicoms" / "s01_LCC_proc_m2_explicit.dcm"


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    result = m.analyze(m.load_image(SAMPLE))
    calcs = result.calcifications
    labels = dict(zip(calcs.calc_id.astype(int), calcs.label))
    seg = build_segmentation(pydicom.dcmread(SAMPLE), result.label_image, labels,
                             config_digest=result.config.digest())
    path = write_segmentation(tmp_path_factory.mktemp("seg") / "seg.dcm", seg)
    return path, result.label_image, labels


def test_masks_equal_label_image(written):
    path, label_image, labels = written
    back = hd.seg.segread(path)
    for number in back.segment_numbers:
        name = back.get_segment_description(number).SegmentLabel
        mask = back.get_pixels_by_source_instance(
            source_sop_instance_uids=[pydicom.dcmread(SAMPLE).SOPInstanceUID],
            segment_numbers=[number])[0, :, :, 0]
        ids = [i for i, lab in labels.items() if lab == name]
        np.testing.assert_array_equal(mask.astype(bool), np.isin(label_image, ids))


def test_rerun_gives_same_uids(written):
    path, label_image, labels = written
    again = build_segmentation(pydicom.dcmread(SAMPLE), label_image, labels,
                               config_digest=m.analyze(m.load_image(SAMPLE)).config.digest())
    first = pydicom.dcmread(path)
    assert (again.SOPInstanceUID, again.SeriesInstanceUID) == (first.SOPInstanceUID, first.SeriesInstanceUID)
    assert first.StudyInstanceUID == pydicom.dcmread(SAMPLE).StudyInstanceUID


def test_dciodvfy_no_errors(written):
    if shutil.which("dciodvfy") is None:
        pytest.skip("dciodvfy (Debian dicom3tools) is not installed")
    out = subprocess.run(["dciodvfy", str(written[0])], capture_output=True, text=True)
    errors = [line for line in (out.stdout + out.stderr).splitlines() if line.startswith("Error")]
    assert errors == []


def test_a_source_with_code_extensions_and_an_empty_default_repertoire(written, tmp_path):
    """Japanese archives write Specific Character Set "\\ISO 2022 IR 87" (the first value, the
    default repertoire, empty). The Segmentation is built, names the same set in full, keeps the
    patient's name, and leaves the source as it was."""
    _, label_image, labels = written
    source = pydicom.dcmread(SAMPLE)
    source.SpecificCharacterSet = ["", "ISO 2022 IR 87"]
    source.PatientName = "Yamada^Tarou=\u5c71\u7530^\u592a\u90ce"
    seg = build_segmentation(source, label_image, labels, config_digest="test")
    back = pydicom.dcmread(write_segmentation(tmp_path / "seg.dcm", seg))
    assert list(back.SpecificCharacterSet) == ["ISO 2022 IR 6", "ISO 2022 IR 87"]
    assert str(back.PatientName) == str(source.PatientName)
    assert list(source.SpecificCharacterSet) == ["", "ISO 2022 IR 87"]
