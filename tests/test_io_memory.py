"""Loader memory: no float64 or duplicate full-size arrays. A 16-bit frame is held at most as
its stored integers (2 bytes/px) plus its float32 pixels (4 bytes/px) at any time; the encoded
bytes are dropped after decoding, and only the float32 pixels are kept. Counted with
tracemalloc, which sees every NumPy array (not the decoders' internal C buffers)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from mammo_cv.io import load_image, write_mammo_dicom

SHAPE = (1024, 832)
SLACK_BYTES = 256 * 1024  # the data set, its tags and Python objects: far below one image


# RLE is left out: pydicom's RLE path itself holds the encoded, the decoded bytes and the array
# (~8 bytes/px on incompressible noise) before the loader's code runs.
@pytest.mark.parametrize("transfer_syntax", ["explicit", "j2k_lossless"])
@pytest.mark.parametrize("photometric", ["MONOCHROME2", "MONOCHROME1"])
def test_load_holds_at_most_six_bytes_per_pixel(tmp_path, transfer_syntax, photometric):
    stored = np.random.default_rng(5).integers(0, 4096, SHAPE).astype(np.uint16)
    path = tmp_path / "x.dcm"
    write_mammo_dicom(path, stored, spacing_mm=0.1, laterality="L", view="CC", photometric=photometric,
                      transfer_syntax=transfer_syntax)
    load_image(path)  # imports and decoder set-up happen once, outside the measurement
    tracemalloc.start()
    try:
        image = load_image(path)
        retained, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    n_px = stored.size
    assert image.pixels.dtype == np.float32 and image.pixels.shape == SHAPE
    expected = stored if photometric == "MONOCHROME2" else 4095 - stored
    np.testing.assert_array_equal(image.pixels, expected.astype(np.float32))
    assert peak <= 6 * n_px + SLACK_BYTES  # a float64 copy would add 8 bytes/px
    assert retained <= 4 * n_px + SLACK_BYTES
