"""Every MammoInputError class, raised by a crafted file, with the file and tag named."""

from __future__ import annotations

import tracemalloc

import cv2
import numpy as np
import pytest
from pydicom.pixels import get_decoder
from pydicom.uid import JPEGLSLossless
from test_io_dicom import raw_dataset, save, write  # tests/ is on sys.path (rootdir-less tests)

from mammo_cv.core.errors import (
    CorruptPixelDataError,
    ImageTooLargeError,
    MammoInputError,
    MissingSpacingError,
    NoPixelDataError,
    NotDicomError,
    NotMammogramError,
    UnsupportedTransferSyntaxError,
)
from mammo_cv.io import load_image


def test_error_classes_share_the_base_and_pickle():
    import pickle

    error = CorruptPixelDataError("/a/b.dcm", "Pixel Data (7FE0,0010) truncated")
    again = pickle.loads(pickle.dumps(error))
    assert isinstance(again, MammoInputError) and isinstance(again, ValueError)
    assert str(again) == "/a/b.dcm: Pixel Data (7FE0,0010) truncated"


# --- not DICOM ---------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_bytes_are_not_dicom(tmp_path, seed):
    path = tmp_path / "random.dcm"
    path.write_bytes(np.random.default_rng(seed).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    with pytest.raises(NotDicomError, match="random.dcm"):
        load_image(path)


def test_dicm_marker_with_garbage_is_not_dicom(tmp_path):
    path = tmp_path / "bad.dcm"
    path.write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00\x10\x00UI\xff\xff" + b"x" * 20)
    with pytest.raises(NotDicomError, match="bad.dcm"):
        load_image(path)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_image(tmp_path / "absent.dcm", pixel_spacing_mm=0.1)


# --- no pixel data -------------------------------------------------------------------------

def test_no_pixel_data(tmp_path):
    ds = raw_dataset(np.zeros((4, 4), np.uint16), SOPClassUID="1.2.840.10008.5.1.4.1.1.88.11")
    del ds.PixelData
    with pytest.raises(NoPixelDataError, match=r"x\.dcm.*\(7FE0,0010\).*Basic Text SR"):
        load_image(save(ds, tmp_path / "x.dcm"))


# --- unsupported transfer syntax ------------------------------------------------------------

def _encapsulated(tmp_path, syntax: str):
    ds = raw_dataset(np.zeros((4, 4), np.uint16))
    ds.file_meta.TransferSyntaxUID = syntax
    ds["PixelData"].VR = "OB"
    ds.PixelData = (b"\xfe\xff\x00\xe0\x00\x00\x00\x00"  # empty basic offset table
                    b"\xfe\xff\x00\xe0\x04\x00\x00\x00abcd"  # one 4-byte fragment
                    b"\xfe\xff\xdd\xe0\x00\x00\x00\x00")  # sequence delimiter
    ds["PixelData"].is_undefined_length = True
    return save(ds, tmp_path / "x.dcm", implicit_vr=False, little_endian=True)


@pytest.mark.skipif(get_decoder(JPEGLSLossless).is_available, reason="a JPEG-LS decoder is installed")
def test_jpeg_ls_without_decoder_names_syntax_and_package(tmp_path):
    with pytest.raises(UnsupportedTransferSyntaxError, match=r"JPEG-LS Lossless.*mammo_cv\[jpegls-gdcm\]"):
        load_image(_encapsulated(tmp_path, JPEGLSLossless))


def test_made_up_transfer_syntax_is_unsupported(tmp_path):
    with pytest.raises(UnsupportedTransferSyntaxError, match=r"x\.dcm.*1\.2\.3\.4\.5\.6\.7"):
        load_image(_encapsulated(tmp_path, "1.2.3.4.5.6.7"))


# --- not a mammogram ---------------------------------------------------------------------------

def test_rgb_is_not_a_mammogram(tmp_path):
    ds = raw_dataset(np.zeros((4, 12), np.uint16), SamplesPerPixel=3, PhotometricInterpretation="RGB",
                     Columns=4, BitsAllocated=8, BitsStored=8, HighBit=7, PlanarConfiguration=0)
    ds.PixelData = bytes(48)
    with pytest.raises(NotMammogramError, match=r"SamplesPerPixel \(0028,0002\) is 3"):
        load_image(save(ds, tmp_path / "x.dcm"))


def test_multi_frame_needs_frame_argument(tmp_path):
    path = save(raw_dataset(np.zeros((3, 4, 4), np.uint16), NumberOfFrames=3), tmp_path / "x.dcm")
    with pytest.raises(NotMammogramError, match=r"NumberOfFrames \(0028,0008\) = 3.*pass frame=k"):
        load_image(path)
    with pytest.raises(MammoInputError, match="frame=3 out of range"):
        load_image(path, frame=3)


@pytest.mark.parametrize("tags, match", [
    ({"Modality": "CT"}, r"Modality \(0008,0060\) is 'CT'"),
    ({"Modality": "US"}, r"Modality \(0008,0060\) is 'US'"),
    ({"Modality": "DX", "BodyPartExamined": "CHEST"}, r"Body Part Examined \(0018,0015\) is 'CHEST'"),
])
def test_non_mammography_modalities(tmp_path, tags, match):
    with pytest.raises(NotMammogramError, match=match):
        load_image(save(raw_dataset(np.zeros((4, 4), np.uint16), **tags), tmp_path / "x.dcm"))


SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"


@pytest.mark.parametrize("tags", [{"Modality": "DX", "BodyPartExamined": "BREAST"}, {"Modality": "CR"},
                                  {"Modality": "MG", "SOPClassUID": SECONDARY_CAPTURE}])
def test_mammography_capable_modalities_load(tmp_path, tags):
    image = load_image(save(raw_dataset(np.full((4, 4), 9, np.uint16), **tags), tmp_path / "x.dcm"))
    assert image.pixels[0, 0] == 9.0 and not image.assumed_mammogram


@pytest.mark.parametrize("tags", [{"Modality": "OT"}, {"Modality": "RG"}, {"Modality": None},
                                  {"Modality": "OT", "SOPClassUID": SECONDARY_CAPTURE}])
def test_film_exports_load_only_when_assumed_mammograms(tmp_path, tags):
    """RG/OT/absent Modality (film exports such as the NEMA WG04 DDSM film): refused with a hint,
    loaded with assume_mammogram, and the image records that it was assumed."""
    path = save(raw_dataset(np.full((4, 4), 9, np.uint16), **tags), tmp_path / "x.dcm")
    with pytest.raises(NotMammogramError, match=r"x\.dcm.*Modality \(0008,0060\).*--assume-mammogram"):
        load_image(path)
    image = load_image(path, assume_mammogram=True)
    assert image.pixels[0, 0] == 9.0 and image.assumed_mammogram


@pytest.mark.parametrize("sop_class", ["1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.4"])  # CT, MR
def test_a_ct_or_mr_object_relabelled_mg_is_refused_even_when_assumed(tmp_path, sop_class):
    path = save(raw_dataset(np.zeros((4, 4), np.uint16), Modality="MG", SOPClassUID=sop_class), tmp_path / "x.dcm")
    for assume in (False, True):
        with pytest.raises(NotMammogramError, match=r"x\.dcm.*SOP Class UID \(0008,0016\)"):
            load_image(path, assume_mammogram=assume)


# --- missing spacing ---------------------------------------------------------------------------

def test_dicom_without_spacing(tmp_path):
    path = write(tmp_path / "x.dcm", extra={"ImagerPixelSpacing": None,
                                            "EstimatedRadiographicMagnificationFactor": None})
    with pytest.raises(MissingSpacingError, match=r"x\.dcm.*pixel_spacing_mm=.*--pixel-spacing"):
        load_image(path)
    assert load_image(path, pixel_spacing_mm=0.1).spacing_mm == (0.1, 0.1)


@pytest.mark.parametrize("extra, match", [
    ({"ImagerPixelSpacing": ["0", "0"]}, r"ImagerPixelSpacing \(0018,1164\)"),
    ({"EstimatedRadiographicMagnificationFactor": "-1"}, r"EstimatedRadiographicMagnificationFactor \(0018,1114\)"),
])
def test_unusable_spacing_values_name_the_tag(tmp_path, extra, match):
    with pytest.raises(MissingSpacingError, match=match):
        load_image(write(tmp_path / "x.dcm", extra=extra))


def test_png_named_dcm_is_not_dicom_and_loads_under_its_own_name(tmp_path):
    path = tmp_path / "looks_like.dcm"
    ok, encoded = cv2.imencode(".png", np.full((5, 7), 40, np.uint8))
    path.write_bytes(encoded.tobytes())
    with pytest.raises(NotDicomError, match=r"looks_like\.dcm: named as DICOM but holds a PNG image"):
        load_image(path, pixel_spacing_mm=0.1)
    image = load_image(path.rename(tmp_path / "looks_like.png"), pixel_spacing_mm=0.1)
    assert image.shape == (5, 7) and image.pixels[2, 3] == 40.0


# --- too large, fails before allocating ----------------------------------------------------------

def test_absurd_size_fails_fast_without_allocating(tmp_path):
    ds = raw_dataset(np.zeros((4, 4), np.uint16), Rows=60000, Columns=60000)
    path = save(ds, tmp_path / "x.dcm")
    tracemalloc.start()
    try:
        with pytest.raises(ImageTooLargeError, match=r"60000 x 60000"):
            load_image(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000  # a decode would need 7.2 GB


def test_max_pixels_is_configurable(tmp_path):
    path = write(tmp_path / "x.dcm")  # 64 x 48 = 3072 px
    with pytest.raises(ImageTooLargeError, match="max_pixels=3071"):
        load_image(path, max_pixels=3071)
    assert load_image(path, max_pixels=3072).shape == (64, 48)


def test_png_header_size_is_checked_before_decoding(tmp_path):
    ok, encoded = cv2.imencode(".png", np.zeros((4, 4), np.uint8))
    data = bytearray(encoded.tobytes())
    data[16:24] = (60000).to_bytes(4, "big") + (60000).to_bytes(4, "big")  # IHDR width, height
    path = tmp_path / "huge.png"
    path.write_bytes(bytes(data))
    with pytest.raises(ImageTooLargeError, match="60000 x 60000"):
        load_image(path, pixel_spacing_mm=0.1)


# --- corrupt pixel data ----------------------------------------------------------------------------

def test_truncated_native_pixel_data_is_never_padded(tmp_path):
    ds = raw_dataset(np.zeros((10, 10), np.uint16))
    ds.PixelData = ds.PixelData[:-20]
    with pytest.raises(CorruptPixelDataError, match=r"\(7FE0,0010\) truncated: 180 bytes.*200"):
        load_image(save(ds, tmp_path / "x.dcm"))


def test_truncated_file_is_corrupt(tmp_path):
    path = write(tmp_path / "x.dcm")
    path.write_bytes(path.read_bytes()[:-1000])
    with pytest.raises(CorruptPixelDataError, match="truncated"):
        load_image(path)


def test_overlong_native_pixel_data(tmp_path):
    ds = raw_dataset(np.zeros((10, 10), np.uint16))
    ds.PixelData = ds.PixelData + bytes(40)
    with pytest.raises(CorruptPixelDataError, match="240 bytes"):
        load_image(save(ds, tmp_path / "x.dcm"))


@pytest.mark.parametrize("transfer_syntax", ["rle", "j2k_lossless"])
def test_truncated_compressed_data_is_corrupt(tmp_path, transfer_syntax):
    path = write(tmp_path / "x.dcm", transfer_syntax=transfer_syntax)
    path.write_bytes(path.read_bytes()[:-300])
    with pytest.raises(CorruptPixelDataError, match="x.dcm"):
        load_image(path)


@pytest.mark.parametrize("transfer_syntax", ["rle", "j2k_lossless"])
def test_damaged_compressed_frame_is_corrupt(tmp_path, transfer_syntax):
    """A complete file whose one fragment holds too few bytes: refused by the frame header check
    (RLE segment offsets, J2K SIZ marker) or the wrapped decoder error."""
    import pydicom
    from pydicom.encaps import encapsulate

    path = write(tmp_path / "x.dcm", transfer_syntax=transfer_syntax)
    ds = pydicom.dcmread(path)
    ds.PixelData = encapsulate([b"\x00" * 64])
    ds.save_as(path, enforce_file_format=True)
    with pytest.raises(CorruptPixelDataError, match=r"x.dcm: (RLE header|JPEG 2000 frame has no SIZ)"):
        load_image(path)


def test_zero_rows_is_corrupt(tmp_path):
    ds = raw_dataset(np.zeros((4, 4), np.uint16), Rows=0)
    with pytest.raises(CorruptPixelDataError, match=r"Rows \(0028,0010\) is 0"):
        load_image(save(ds, tmp_path / "x.dcm"))


def test_bad_argument_values_are_value_errors(tmp_path):
    path = write(tmp_path / "x.dcm")
    with pytest.raises(ValueError, match="pixel_spacing_mm"):
        load_image(path, pixel_spacing_mm=-0.1)
    with pytest.raises(ValueError, match="laterality argument"):
        load_image(path, laterality="both")
