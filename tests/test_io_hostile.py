"""Hostile headers, special files and frame headers: each a MammoInputError naming the file and tag."""

from __future__ import annotations

import os

import numpy as np
import pytest
from pydicom.datadict import tag_for_keyword
from test_io_dicom import phantom, raw_dataset, save, write

from mammo_cv.core.errors import (
    CorruptPixelDataError,
    ImageTooLargeError,
    MissingSpacingError,
    NotDicomError,
)
from mammo_cv.io import load_image


def _with(tmp_path, name, **tags):
    ds = raw_dataset(phantom().astype(np.uint16))
    for keyword, value in tags.items():
        if isinstance(value, str):
            ds.add_new(tag_for_keyword(keyword), "LO", value)  # text where a number belongs
        else:
            setattr(ds, keyword, value)
    return save(ds, tmp_path / f"{name}.dcm")


@pytest.mark.parametrize("tags, error, match", [
    ({"NumberOfFrames": "abc"}, CorruptPixelDataError, r"NumberOfFrames \(0028,0008\) is 'abc'"),
    ({"RescaleSlope": "abc"}, CorruptPixelDataError, r"RescaleSlope \(0028,1053\) is 'abc'"),
    ({"RescaleSlope": 0}, CorruptPixelDataError, r"RescaleSlope \(0028,1053\) is 0"),
    ({"RescaleIntercept": "abc"}, CorruptPixelDataError, r"RescaleIntercept \(0028,1052\)"),
    ({"BitsStored": "abc"}, CorruptPixelDataError, r"BitsStored \(0028,0101\)"),
    ({"ImagerPixelSpacing": [1e5, 1e5]}, MissingSpacingError, r"from ImagerPixelSpacing is outside"),
    ({"EstimatedRadiographicMagnificationFactor": 1e-300}, MissingSpacingError, r"ImagerPixelSpacing/ERMF"),
])
def test_bad_header_values_name_file_and_tag(tmp_path, tags, error, match):
    path = _with(tmp_path, "bad", **tags)
    with pytest.raises(error, match=match) as info:
        load_image(path)
    assert info.value.path == str(path)


def test_display_only_values_warn_and_load(tmp_path):
    path = _with(tmp_path, "display", WindowCenter="abc", WindowWidth="100", ViewPosition="XYZ")
    with pytest.warns(UserWarning, match="display.dcm"):
        image = load_image(path)
    assert image.display_window is None and image.view.value == "U"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_fifo_and_device_are_refused_without_opening(tmp_path):
    fifo = tmp_path / "pipe.dcm"
    os.mkfifo(fifo)
    link = tmp_path / "zero.dcm"
    link.symlink_to("/dev/zero")
    for path, what in ((fifo, "FIFO"), (link, "character device")):
        with pytest.raises(NotDicomError, match=what):
            load_image(path)  # would block (FIFO) or never end (/dev/zero) if opened


def test_rle_segment_offset_zero_is_corrupt(tmp_path):
    import pydicom
    from pydicom.encaps import encapsulate, generate_frames

    path = write(tmp_path / "rle.dcm", transfer_syntax="rle")
    ds = pydicom.dcmread(path)
    frame = bytearray(next(generate_frames(ds.PixelData, number_of_frames=1)))
    frame[8:12] = (0).to_bytes(4, "little")  # second segment offset -> 0
    ds.PixelData = encapsulate([bytes(frame)])
    ds.save_as(path, enforce_file_format=True)
    with pytest.raises(CorruptPixelDataError, match=r"rle.dcm: RLE header lists 2 segment"):
        load_image(path)


def test_j2k_siz_that_lies_about_the_size_is_corrupt(tmp_path):
    import pydicom
    from pydicom.encaps import encapsulate, generate_frames

    path = write(tmp_path / "j2k.dcm", transfer_syntax="j2k_lossless")
    ds = pydicom.dcmread(path)
    frame = bytearray(next(generate_frames(ds.PixelData, number_of_frames=1)))
    start = frame.find(b"\xff\x4f\xff\x51")
    frame[start + 8:start + 16] = (20000).to_bytes(4, "big") * 2  # Xsiz, Ysiz claim 20000 x 20000
    ds.PixelData = encapsulate([bytes(frame)])
    ds.save_as(path, enforce_file_format=True)
    with pytest.raises(CorruptPixelDataError, match=r"SIZ marker says 20000 x 20000"):
        load_image(path)


def test_j2k_codestream_transposed_against_the_header_is_corrupt(tmp_path):
    """A codestream whose SIZ swaps width and height (a transposed image) would decode to
    scrambled pixels of the right count: it is refused."""
    import pydicom
    from pydicom.encaps import encapsulate, generate_frames

    path = write(tmp_path / "j2k.dcm", transfer_syntax="j2k_lossless")
    ds = pydicom.dcmread(path)
    assert ds.Rows != ds.Columns
    frame = bytearray(next(generate_frames(ds.PixelData, number_of_frames=1)))
    start = frame.find(b"\xff\x4f\xff\x51")
    frame[start + 8:start + 16] = frame[start + 12:start + 16] + frame[start + 8:start + 12]  # Ysiz, Xsiz
    ds.PixelData = encapsulate([bytes(frame)])
    ds.save_as(path, enforce_file_format=True)
    with pytest.raises(CorruptPixelDataError, match=rf"SIZ marker says {ds.Rows} x {ds.Columns} px"):
        load_image(path)


def deflated_file(path, stream):
    """A Digital Mammography file whose Deflated data set is the raw Deflate ``stream``."""
    from pydicom.dataset import FileMetaDataset
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_file_meta_info
    from pydicom.uid import DeflatedExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.2"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    buffer = DicomBytesIO()
    buffer.is_little_endian, buffer.is_implicit_VR = True, False
    write_file_meta_info(buffer, meta, enforce_standard=True)
    path.write_bytes(bytes(128) + b"DICM" + buffer.getvalue() + stream)
    return path


def zeros_deflated(n_blocks):
    """A raw Deflate stream of ``n_blocks`` x 64 MiB of zeros. After a full flush every 64 MiB
    block compresses to the same bytes, so one is compressed and repeated."""
    import zlib

    packer, block = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS), bytes(64 << 20)
    packer.compress(block)
    packer.flush(zlib.Z_FULL_FLUSH)
    repeated = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    return repeated * n_blocks + packer.flush()


def test_deflate_bomb_is_refused_before_inflating(tmp_path):
    path = deflated_file(tmp_path / "bomb.dcm", zeros_deflated(2))
    with pytest.raises(ImageTooLargeError, match="bomb.dcm: Deflated data set inflates beyond") as info:
        load_image(path, max_pixels=1000)
    assert info.value.path == str(path)


def _lut_item(descriptor, n_entries):
    from pydicom.dataset import Dataset

    item = Dataset()
    if descriptor is not None:
        item.add_new(0x00283002, "US", descriptor)  # LUTDescriptor
    item.add_new(0x00283006, "US", list(range(n_entries)))  # LUTData
    item.ModalityLUTType = "OD"
    return item


@pytest.mark.parametrize("descriptor, n_entries, match", [
    (None, 4096, r"ModalityLUTSequence \(0028,3000\) item lacks LUTDescriptor \(0028,3002\)"),
    ([4096, 0, 16], 100, r"LUTDescriptor \(0028,3002\) says 4096 entries, LUTData \(0028,3006\) holds 100"),
])
def test_bad_modality_lut_names_file_and_tag(tmp_path, descriptor, n_entries, match):
    from pydicom.sequence import Sequence

    ds = raw_dataset(phantom().astype(np.uint16))
    ds.ModalityLUTSequence = Sequence([_lut_item(descriptor, n_entries)])
    path = save(ds, tmp_path / "lut.dcm")
    with pytest.raises(CorruptPixelDataError, match=match) as info:
        load_image(path)
    assert info.value.path == str(path)


def test_voi_lut_without_descriptor_only_warns(tmp_path):
    """A VOI LUT only affects display: a broken one is a warning naming the file, and no window."""
    from pydicom.sequence import Sequence

    ds = raw_dataset(phantom().astype(np.uint16))
    ds.VOILUTSequence = Sequence([_lut_item(None, 4096)])
    path = save(ds, tmp_path / "voi.dcm")
    with pytest.warns(UserWarning, match=r"voi.dcm: unusable VOI window .*VOILUTSequence \(0028,3010\)"):
        image = load_image(path)
    assert image.display_window is None


def test_near_constant_16_bit_image_is_no_breast_found(tmp_path):
    """Values 60000 and 60001: too narrow a span for 256 float32 histogram bins ("Too many
    bins"), which used to escape as a plain ValueError naming no file."""
    import mammo_cv
    from mammo_cv.core.errors import NoBreastFoundError
    from mammo_cv.io import write_mammo_dicom

    stored = (60000 + np.random.default_rng(0).integers(0, 2, (400, 300))).astype(np.uint16)
    path = tmp_path / "flat.dcm"
    write_mammo_dicom(path, stored, spacing_mm=0.1, laterality="L", view="CC", uid_seed="flat", bits_stored=16)
    with pytest.raises(NoBreastFoundError) as info:
        mammo_cv.analyze(load_image(path))
    assert info.value.path == str(path)
