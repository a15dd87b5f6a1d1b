"""Vendor fallbacks for side and view: Fujifilm's (0018,1400), Series Description, Protocol Name."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset
from test_io_dicom import write

from mammo_cv.core.types import Laterality, View
from mammo_cv.io import load_image
from mammo_cv.io.dicom_meta import labels_from_text

NO_CODED = {"ImageLaterality": None, "ViewPosition": None, "ViewCodeSequence": None}


def _texts(**tags: str) -> Dataset:
    ds = Dataset()
    for keyword, value in tags.items():
        setattr(ds, keyword, value)
    return ds


@pytest.mark.parametrize("tags, expected", [
    ({"AcquisitionDeviceProcessingDescription": "R MLO"}, (Laterality.RIGHT, View.MLO)),   # Fujifilm
    ({"AcquisitionDeviceProcessingDescription": "MLO,L"}, (Laterality.LEFT, View.MLO)),
    ({"AcquisitionDeviceProcessingDescription": "L ML"}, (Laterality.LEFT, View.ML)),      # ML is not MLO
    ({"SeriesDescription": "L CC"}, (Laterality.LEFT, View.CC)),
    ({"SeriesDescription": "RMLO screening"}, (Laterality.RIGHT, View.MLO)),               # side and view in one word
    ({"ProtocolName": "Right XCCL"}, (Laterality.RIGHT, View.XCCL)),
    ({"SeriesDescription": "Mammo bilateral"}, (Laterality.UNKNOWN, View.UNKNOWN)),        # no whole word
    ({"SeriesDescription": "L CC R MLO"}, (Laterality.UNKNOWN, View.UNKNOWN)),             # contradiction
    ({"AcquisitionDeviceProcessingDescription": "CC", "SeriesDescription": "R MLO"},       # in the order read
     (Laterality.RIGHT, View.CC)),
])
def test_labels_from_free_texts(tags, expected):
    assert labels_from_text(_texts(**tags)) == expected


def test_fujifilm_processing_description_gives_side_and_view_when_coded_tags_are_empty(tmp_path):
    path = write(tmp_path / "fuji.dcm", laterality="L", view="CC",
                 extra={**NO_CODED, "AcquisitionDeviceProcessingDescription": "R MLO"})
    image = load_image(path)
    assert (image.laterality, image.view) == (Laterality.RIGHT, View.MLO)


def test_coded_tags_win_over_free_text(tmp_path):
    path = write(tmp_path / "x.dcm", laterality="L", view="CC", extra={"SeriesDescription": "R MLO"})
    image = load_image(path)
    assert (image.laterality, image.view) == (Laterality.LEFT, View.CC)


def test_series_description_is_read_without_coded_tags(tmp_path):
    path = write(tmp_path / "x.dcm", laterality="L", view="CC", extra={**NO_CODED, "SeriesDescription": "R CC"})
    image = load_image(path)
    assert (image.laterality, image.view) == (Laterality.RIGHT, View.CC)
