"""Raster loading (PGM, PNG, TIFF): values, labels, spacing and header parsing."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from mammo_cv.core.errors import MammoInputError, MissingSpacingError, NotMammogramError
from mammo_cv.core.types import Laterality, PresentationIntent, View
from mammo_cv.io import load_image
from mammo_cv.io.raster import raster_format, raster_shape


def ramp(dtype, shape=(37, 53)) -> np.ndarray:
    """Distinct values covering the dtype's range, so any rescaling would show."""
    top = np.iinfo(dtype).max
    values = np.linspace(0, top, shape[0] * shape[1]).round().astype(dtype)
    return values.reshape(shape)


@pytest.mark.parametrize("ext, dtype", [(".pgm", np.uint8), (".pgm", np.uint16), (".png", np.uint8),
                                        (".png", np.uint16), (".tiff", np.uint8), (".tiff", np.uint16)])
def test_raster_values_are_stored_values(tmp_path, ext, dtype):
    truth = ramp(dtype)
    ok, encoded = cv2.imencode(ext, truth)
    path = tmp_path / f"image{ext}"
    path.write_bytes(encoded.tobytes())
    image = load_image(path, pixel_spacing_mm=(0.2, 0.1))
    np.testing.assert_array_equal(image.pixels, truth.astype(np.float32))
    assert image.spacing_mm == (0.2, 0.1) and image.spacing_source == "argument"
    assert image.bits_stored == 8 * np.dtype(dtype).itemsize
    assert (image.laterality, image.view) == (Laterality.UNKNOWN, View.UNKNOWN)
    assert image.photometric == "MONOCHROME2"
    assert image.presentation_intent is PresentationIntent.UNKNOWN
    assert image.display_window is None and image.source_path == str(path)


def test_raster_header_shapes(tmp_path):
    for ext in (".pgm", ".png", ".tiff"):
        ok, encoded = cv2.imencode(ext, np.zeros((37, 53), np.uint16))
        data = encoded.tobytes()
        kind = raster_format(data[:132])
        assert kind == {".pgm": "pgm", ".png": "png", ".tiff": "tiff"}[ext]
        assert raster_shape(data, kind) == (37, 53)


def test_pgm_with_header_comment(tmp_path):
    path = tmp_path / "scan"  # no extension: recognised by content
    body = np.arange(12, dtype=np.uint8).reshape(3, 4)
    path.write_bytes(b"P5\n# scanner comment\n4 3\n255\n" + body.tobytes())
    image = load_image(path, pixel_spacing_mm=0.2, laterality="R", view="MLO")
    np.testing.assert_array_equal(image.pixels, body.astype(np.float32))
    assert (image.laterality, image.view) == (Laterality.RIGHT, View.MLO)


def test_raster_needs_spacing(tmp_path):
    ok, encoded = cv2.imencode(".tiff", np.zeros((4, 4), np.uint8))
    path = tmp_path / "x.tif"
    path.write_bytes(encoded.tobytes())
    with pytest.raises(MissingSpacingError, match=r"x\.tif.*TIFF.*pixel_spacing_mm="):
        load_image(path)


def test_colour_raster_is_refused(tmp_path):
    ok, encoded = cv2.imencode(".png", np.zeros((4, 4, 3), np.uint8))
    path = tmp_path / "rgb.png"
    path.write_bytes(encoded.tobytes())
    with pytest.raises(NotMammogramError, match="3 channels"):
        load_image(path, pixel_spacing_mm=0.1)


def test_raster_frame_other_than_zero_is_refused(tmp_path):
    ok, encoded = cv2.imencode(".png", np.zeros((4, 4), np.uint8))
    path = tmp_path / "x.png"
    path.write_bytes(encoded.tobytes())
    with pytest.raises(MammoInputError, match="frame=1"):
        load_image(path, pixel_spacing_mm=0.1, frame=1)


@pytest.mark.mias
def test_mini_mias_pgms_load_with_their_raw_values(mias_dir):
    paths = sorted(mias_dir.glob("mdb*.pgm"))
    assert len(paths) == 69
    for path in paths:
        data = path.read_bytes()
        truth = np.frombuffer(data[-1024 * 1024:], np.uint8).reshape(1024, 1024)  # raw samples end the file
        image = load_image(path, pixel_spacing_mm=0.2)
        assert image.shape == (1024, 1024) and image.spacing_mm == (0.2, 0.2)
        np.testing.assert_array_equal(image.pixels, truth.astype(np.float32), err_msg=path.name)
        assert image.photometric == "MONOCHROME2" and image.bits_stored == 8
