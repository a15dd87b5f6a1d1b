"""JPEG 2000 decoding: the multi-threaded imagecodecs path returns exactly what pydicom's
own plugins return, falls back to them for data it cannot return as-is, and is what
``load_image`` uses when imagecodecs is installed."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pydicom.uid import JPEG2000Lossless
from test_io_dicom import raw_dataset

from mammo_cv.io import decode, load_image

pytest.importorskip("imagecodecs")


def j2k_dataset(frames: np.ndarray, *, bits_stored: int, signed: bool = False) -> pydicom.Dataset:
    """A JPEG 2000 lossless MG data set holding ``frames`` ((F, M, N) or (M, N))."""
    ds = raw_dataset(np.zeros(frames.shape[-2:], np.uint16))
    ds.BitsStored, ds.HighBit, ds.PixelRepresentation = bits_stored, bits_stored - 1, int(signed)
    if frames.ndim == 3:
        ds.NumberOfFrames = frames.shape[0]
    ds.compress(JPEG2000Lossless, frames, encoding_plugin="pylibjpeg")
    return ds


@pytest.fixture
def spy(monkeypatch):
    """Counts the calls of imagecodecs' decoder and records their ``numthreads``."""
    real = decode._imagecodecs_jpeg2k()
    assert real is not None, "imagecodecs is installed but has no JPEG 2000 codec"
    calls = []

    def counting(data, numthreads):
        calls.append(numthreads)
        return real(data, numthreads=numthreads)

    monkeypatch.setattr(decode, "_imagecodecs_jpeg2k", lambda: counting)
    return calls


@pytest.mark.parametrize("threads", [1, 2])
def test_multiframe_unsigned_frames_decode_exactly_with_imagecodecs(spy, threads):
    truth = np.random.default_rng(1).integers(0, 4096, (3, 64, 48)).astype(np.uint16)
    ds = j2k_dataset(truth, bits_stored=12)
    for k in range(3):
        np.testing.assert_array_equal(decode.decode_frame(ds, k, threads=threads), truth[k])
    assert spy == [threads] * 3


def test_signed_data_goes_to_pydicom(spy):
    truth = np.random.default_rng(2).integers(-2000, 2000, (64, 48)).astype(np.int16)
    ds = j2k_dataset(truth, bits_stored=12, signed=True)
    out = decode.decode_frame(ds, None)
    np.testing.assert_array_equal(out, truth)
    assert out.dtype == np.int16
    assert spy == []  # signed data never reach imagecodecs


def test_values_above_bits_stored_are_left_to_pydicom(spy):
    """A 16-bit codestream labelled 12 bits stored: imagecodecs decodes it, the result is
    refused, and pydicom's answer (the same values) is returned."""
    truth = np.random.default_rng(3).integers(0, 65536, (64, 48)).astype(np.uint16)
    ds = j2k_dataset(truth, bits_stored=16)
    ds.BitsStored, ds.HighBit = 12, 11
    out = decode.decode_frame(ds, None)
    assert spy == [decode.available_threads()]
    from pydicom.pixels import pixel_array
    np.testing.assert_array_equal(out, pixel_array(ds))


def test_load_image_uses_threads_argument_and_matches_pydicom_path(spy, tmp_path, monkeypatch):
    truth = np.random.default_rng(4).integers(0, 16384, (96, 80)).astype(np.uint16)
    path = tmp_path / "x.dcm"
    j2k_dataset(truth, bits_stored=14).save_as(path, enforce_file_format=True)
    fast = load_image(path, decode_threads=2)
    assert spy == [2]
    monkeypatch.setattr(decode, "_imagecodecs_jpeg2k", lambda: None)
    slow = load_image(path)
    np.testing.assert_array_equal(fast.pixels, truth.astype(np.float32))
    np.testing.assert_array_equal(fast.pixels, slow.pixels)
