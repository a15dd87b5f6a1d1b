"""DICOM loading and writing: values of spacing, labels, polarity, pixels and windows on
tiny files built in tmp_path with the writer or with raw pydicom."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from mammo_cv.core.errors import MammoInputError
from mammo_cv.core.types import Laterality, PresentationIntent, View
from mammo_cv.io import load_image, write_mammo_dicom

SPOT = (slice(20, 26), slice(30, 36))  # a dense 6 x 6 px spot
BACKGROUND, DENSE = 200, 3000


def phantom(shape=(64, 48)) -> np.ndarray:
    """Linear attenuation-like values: larger = denser, 12-bit."""
    image = np.full(shape, BACKGROUND, dtype=np.uint16)
    image[SPOT] = DENSE
    image[0, 0] = 0
    image[-1, -1] = 4095
    return image


def write(path, image=None, **kwargs):
    kwargs.setdefault("spacing_mm", 0.07)
    kwargs.setdefault("laterality", "L")
    kwargs.setdefault("view", "CC")
    write_mammo_dicom(path, phantom() if image is None else image, **kwargs)
    return path


def raw_dataset(pixels: np.ndarray, **tags) -> Dataset:
    """A minimal MG data set around a uint16 array, for odd cases the writer refuses."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.1.2"
    ds.SOPInstanceUID = generate_uid(entropy_srcs=["raw-test"])
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.Modality = "MG"
    ds.ImagerPixelSpacing = [0.1, 0.1]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = pixels.shape[-2:]
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.PixelData = pixels.astype("<u2").tobytes()
    for keyword, value in tags.items():
        setattr(ds, keyword, value)
    return ds


def save(ds: Dataset, path, **kwargs):
    ds.save_as(path, enforce_file_format=kwargs.pop("enforce_file_format", True), **kwargs)
    return path


# --- polarity, pixel values, transfer syntaxes, intents -------------------------------

@pytest.mark.parametrize("transfer_syntax", ["explicit", "rle", "j2k_lossless"])
@pytest.mark.parametrize("photometric", ["MONOCHROME2", "MONOCHROME1"])
@pytest.mark.parametrize("intent", ["FOR PROCESSING", "FOR PRESENTATION"])
def test_roundtrip_values_and_polarity(tmp_path, transfer_syntax, photometric, intent):
    truth = phantom()
    stored = truth if photometric == "MONOCHROME2" else (4095 - truth).astype(np.uint16)
    path = write(tmp_path / "x.dcm", stored, photometric=photometric, transfer_syntax=transfer_syntax,
                 presentation_intent=intent)
    image = load_image(path)
    # MONOCHROME1 is inverted around the 12-bit stored range 0..4095: the truth comes back.
    np.testing.assert_array_equal(image.pixels, truth.astype(np.float32))
    assert image.pixels[SPOT].min() > image.pixels[10, 5]  # dense spot is LARGER
    assert image.pixels.dtype == np.float32
    assert image.photometric == photometric
    assert image.presentation_intent is PresentationIntent(intent)
    assert image.bits_stored == 12
    assert image.display_window is None
    sop_class = pydicom.dcmread(path, stop_before_pixels=True).SOPClassUID
    assert sop_class == ("1.2.840.10008.5.1.4.1.1.1.2.1" if intent == "FOR PROCESSING"
                         else "1.2.840.10008.5.1.4.1.1.1.2")


@pytest.mark.parametrize("photometric, shape", [("MONOCHROME2", "IDENTITY"), ("MONOCHROME1", "INVERSE")])
def test_writer_presentation_lut_shape_follows_dx_rule(tmp_path, photometric, shape):
    ds = pydicom.dcmread(write(tmp_path / "x.dcm", photometric=photometric))
    assert ds.PresentationLUTShape == shape
    assert ds.Modality == "MG" and ds.BitsStored == 12 and ds.HighBit == 11


def test_monochrome2_with_inverse_shape_is_inverted(tmp_path):
    stored = (4095 - phantom()).astype(np.uint16)
    path = write(tmp_path / "x.dcm", stored, extra={"PresentationLUTShape": "INVERSE"})
    np.testing.assert_array_equal(load_image(path).pixels, phantom().astype(np.float32))


@pytest.mark.parametrize("transfer_syntax", ["explicit", "rle", "j2k_lossless"])
def test_writer_is_byte_identical_on_rerun(tmp_path, transfer_syntax):
    first = write(tmp_path / "a.dcm", transfer_syntax=transfer_syntax, uid_seed="case7").read_bytes()
    second = write(tmp_path / "b.dcm", transfer_syntax=transfer_syntax, uid_seed="case7").read_bytes()
    assert first == second


def test_writer_seeds_uids_and_identity(tmp_path):
    a = load_image(write(tmp_path / "a.dcm", uid_seed="a", study_uid_seed="study1"))
    b = load_image(write(tmp_path / "b.dcm", uid_seed="b", study_uid_seed="study1"))
    c = load_image(write(tmp_path / "c.dcm", uid_seed="c"))
    assert a.sop_instance_uid != b.sop_instance_uid
    assert a.study_instance_uid == b.study_instance_uid != c.study_instance_uid
    ds = pydicom.dcmread(tmp_path / "a.dcm")
    assert str(ds.PatientName) == "PHANTOM^a" and ds.PatientID == "phantom-a"
    assert ds.StudyDate == "20000101"


def test_writer_refuses_values_above_bits_stored(tmp_path):
    with pytest.raises(ValueError, match="12-bit"):
        write(tmp_path / "x.dcm", np.full((8, 8), 4096, np.uint16))


# --- spacing ---------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, extra, load_kwargs, expected_mm, source", [
    # ImagerPixelSpacing 0.0805 / ERMF 1.15 = 0.07 in the breast plane
    ({"spacing_mm": 0.07, "ermf": 1.15}, {}, {}, (0.07, 0.07), "ImagerPixelSpacing/ERMF"),
    # row and column spacing stay in (row, col) order
    ({"spacing_mm": (0.1, 0.05), "ermf": 1.0}, {}, {}, (0.1, 0.05), "ImagerPixelSpacing/ERMF"),
    # no ERMF: 0.1 * SOD 600 / SID 660
    ({"spacing_mm": 0.1}, {"EstimatedRadiographicMagnificationFactor": None,
                           "DistanceSourceToPatient": 600, "DistanceSourceToDetector": 660},
     {}, (0.1 * 600 / 660, 0.1 * 600 / 660), "ImagerPixelSpacing*SOD/SID"),
    # imager spacing alone: detector plane
    ({"spacing_mm": 0.085}, {"EstimatedRadiographicMagnificationFactor": None}, {},
     (0.085, 0.085), "ImagerPixelSpacing"),
    # calibrated PixelSpacing (type GEOMETRY) wins over IPS/ERMF
    ({"spacing_mm": 0.065, "ermf": 1.2, "use_pixel_spacing": True}, {}, {},
     (0.065, 0.065), "PixelSpacing(GEOMETRY)"),
    # PixelSpacing differing from IPS, no type: calibrated per PS3.3 10.7.1.1
    ({"spacing_mm": 0.07}, {"EstimatedRadiographicMagnificationFactor": None, "PixelSpacing": [0.06, 0.06]},
     {}, (0.06, 0.06), "PixelSpacing"),
    # PixelSpacing equal to IPS, no type: an uncorrected copy; ERMF still applies
    ({"spacing_mm": 0.05, "ermf": 1.1}, {"PixelSpacing": ["0.055", "0.055"]}, {},
     (0.05, 0.05), "ImagerPixelSpacing/ERMF"),
    # only NominalScannedPixelSpacing (digitised film)
    ({"spacing_mm": 0.05}, {"ImagerPixelSpacing": None, "EstimatedRadiographicMagnificationFactor": None,
                            "NominalScannedPixelSpacing": [0.043, 0.043]},
     {}, (0.043, 0.043), "NominalScannedPixelSpacing"),
    # the argument overrides everything
    ({"spacing_mm": 0.07, "use_pixel_spacing": True}, {}, {"pixel_spacing_mm": (0.2, 0.1)},
     (0.2, 0.1), "argument"),
    ({"spacing_mm": 0.07}, {}, {"pixel_spacing_mm": 0.3}, (0.3, 0.3), "argument"),
])
def test_spacing_sources(tmp_path, kwargs, extra, load_kwargs, expected_mm, source):
    image = load_image(write(tmp_path / "x.dcm", extra=extra, **kwargs), **load_kwargs)
    assert image.spacing_mm == pytest.approx(expected_mm, rel=1e-9)
    assert image.spacing_source == source


# --- laterality and view ----------------------------------------------------------------

def _frame_anatomy(laterality: str) -> Dataset:
    anatomy = Dataset()
    anatomy.FrameLaterality = laterality
    group = Dataset()
    group.FrameAnatomySequence = [anatomy]
    return group


@pytest.mark.parametrize("extra, expected", [
    ({}, Laterality.LEFT),                                                  # ImageLaterality L
    ({"ImageLaterality": None, "Laterality": "R"}, Laterality.RIGHT),
    ({"ImageLaterality": "", "Laterality": "L"}, Laterality.LEFT),
    ({"ImageLaterality": None, "SharedFunctionalGroupsSequence": [_frame_anatomy("R")]}, Laterality.RIGHT),
    ({"ImageLaterality": None, "PerFrameFunctionalGroupsSequence": [_frame_anatomy("L")]}, Laterality.LEFT),
    ({"ImageLaterality": None}, Laterality.UNKNOWN),
])
def test_laterality_fallbacks(tmp_path, extra, expected):
    assert load_image(write(tmp_path / "x.dcm", laterality="L", extra=extra)).laterality is expected


def test_laterality_argument_overrides_and_bad_tag_names_it(tmp_path):
    path = write(tmp_path / "x.dcm", laterality="L", extra={"ImageLaterality": "B"})
    with pytest.raises(MammoInputError, match=r"ImageLaterality \(0020,0062\).*'B'"):
        load_image(path)
    assert load_image(path, laterality="right").laterality is Laterality.RIGHT


def _code(value: str, scheme: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, "view"
    return item


@pytest.mark.parametrize("extra, expected", [
    ({}, View.MLO),                                                          # ViewPosition
    ({"ViewPosition": "LMLO"}, View.MLO),                                    # laterality prefix
    ({"ViewPosition": "", "ViewCodeSequence": [_code("R-10242", "SRT")]}, View.CC),
    ({"ViewPosition": None, "ViewCodeSequence": [_code("R-10226", "SNM3")]}, View.MLO),
    ({"ViewPosition": None, "ViewCodeSequence": [_code("R-1024A", "SRT")]}, View.XCCL),
    ({"ViewPosition": None, "ViewCodeSequence": [_code("399260004", "SCT")]}, View.ML),
    ({"ViewPosition": None, "ViewCodeSequence": [_code("399352003", "SCT")]}, View.LM),
    ({"ViewPosition": None, "ViewCodeSequence": [_code("399192008", "SCT")]}, View.XCCL),
    ({"ViewPosition": None, "ViewCodeSequence": None, "PatientOrientation": "CC"}, View.CC),
    ({"ViewPosition": None, "ViewCodeSequence": None, "PatientOrientation": ["A", "R"]}, View.UNKNOWN),
    ({"ViewPosition": None, "ViewCodeSequence": None}, View.UNKNOWN),
])
def test_view_fallbacks(tmp_path, extra, expected):
    assert load_image(write(tmp_path / "x.dcm", view="MLO", extra=extra)).view is expected


def test_writer_view_code_is_cid4014_sct(tmp_path):
    ds = pydicom.dcmread(write(tmp_path / "x.dcm", view="MLO"))
    assert (ds.ViewCodeSequence[0].CodeValue, ds.ViewCodeSequence[0].CodingSchemeDesignator) == ("399368009", "SCT")
    assert ds.ViewPosition == "MLO" and ds.ImageLaterality == "L"


def test_unknown_view_position_names_tag_and_argument_overrides(tmp_path):
    path = write(tmp_path / "x.dcm", extra={"ViewPosition": "AP"})
    with pytest.raises(MammoInputError, match=r"ViewPosition \(0018,5101\).*'AP'"):
        load_image(path)
    assert load_image(path, view="mlo").view is View.MLO


# --- stored bits, modality LUT, windows ---------------------------------------------------

def test_high_bits_are_masked(tmp_path):
    truth = np.array([[0, 1, 4095], [2048, 7, 100]], dtype=np.uint16)
    garbage = truth | np.array([[0xF000, 0x5000, 0xA000], [0x1000, 0xF000, 0x3000]], dtype=np.uint16)
    path = save(raw_dataset(garbage, BitsStored=12, HighBit=11), tmp_path / "x.dcm")
    np.testing.assert_array_equal(load_image(path).pixels, truth.astype(np.float32))


def test_signed_12_bit_is_sign_extended(tmp_path):
    truth = np.array([[-2048, -1, 0], [1, 2047, -100]], dtype=np.int16)
    raw = (truth.astype(np.uint16) & 0x0FFF) | 0xB000  # garbage above bit 11
    path = save(raw_dataset(raw, BitsStored=12, HighBit=11, PixelRepresentation=1), tmp_path / "x.dcm")
    np.testing.assert_array_equal(load_image(path).pixels, truth.astype(np.float32))


def test_rescale_and_monochrome1_inverts_around_rescaled_range(tmp_path):
    stored = np.array([[0, 10], [100, 4095]], dtype=np.uint16)
    ds = raw_dataset(stored, BitsStored=12, HighBit=11, RescaleSlope="2", RescaleIntercept="-10")
    image2 = load_image(save(ds, tmp_path / "m2.dcm"))
    np.testing.assert_array_equal(image2.pixels, stored * 2.0 - 10.0)
    ds.PhotometricInterpretation = "MONOCHROME1"
    image1 = load_image(save(ds, tmp_path / "m1.dcm"))
    # range of the rescaled stored values: -10 .. 8180; inverted = -10 + 8180 - value
    np.testing.assert_array_equal(image1.pixels, 8170.0 - (stored * 2.0 - 10.0))


def test_modality_lut_sequence(tmp_path):
    lut = Dataset()
    lut.LUTDescriptor = [256, 0, 16]
    lut.ModalityLUTType = "US"
    lut.add_new(0x00283006, "US", [3 * i for i in range(256)])  # LUT Data
    stored = np.array([[0, 5], [255, 17]], dtype=np.uint16)
    ds = raw_dataset(stored, BitsStored=8, HighBit=7, ModalityLUTSequence=[lut])
    np.testing.assert_array_equal(load_image(save(ds, tmp_path / "x.dcm")).pixels, stored * 3.0)


@pytest.mark.parametrize("photometric, extra, expected", [
    # LINEAR: [c - 0.5 - (w - 1)/2, c - 0.5 + (w - 1)/2]
    ("MONOCHROME2", {}, (1499.5 - 499.5, 1499.5 + 499.5)),
    ("MONOCHROME2", {"VOILUTFunction": "LINEAR_EXACT"}, (1000.0, 2000.0)),
    # inverted around 0..4095: (4095 - 1999, 4095 - 1000)
    ("MONOCHROME1", {}, (2096.0, 3095.0)),
])
def test_display_window_from_center_width(tmp_path, photometric, extra, expected):
    path = write(tmp_path / "x.dcm", photometric=photometric, voi_window=(1500, 1000), extra=extra)
    assert load_image(path).display_window == pytest.approx(expected)


def test_display_window_from_voi_lut_sequence(tmp_path):
    lut = Dataset()
    lut.LUTDescriptor = [1024, 512, 16]
    lut.add_new(0x00283006, "US", list(range(1024)))  # LUT Data
    path = write(tmp_path / "x.dcm", extra={"VOILUTSequence": [lut]})
    assert load_image(path).display_window == (512.0, 1535.0)


# --- frames and files without preamble ----------------------------------------------------

def test_multi_frame_frame_selection(tmp_path):
    frames = np.stack([np.full((8, 6), 100 * (k + 1), np.uint16) for k in range(3)])
    ds = raw_dataset(frames, NumberOfFrames=3)
    path = save(ds, tmp_path / "x.dcm")
    for k in range(3):
        np.testing.assert_array_equal(load_image(path, frame=k).pixels, np.full((8, 6), 100.0 * (k + 1)))


def test_dicom_without_preamble_is_recognised_by_content(tmp_path):
    ds = raw_dataset(phantom(), ImageLaterality="R", ViewPosition="CC")
    path = tmp_path / "no_extension"
    ds.save_as(path, enforce_file_format=False)  # no preamble, no DICM marker
    assert path.read_bytes()[128:132] != b"DICM"
    image = load_image(path)
    np.testing.assert_array_equal(image.pixels, phantom().astype(np.float32))
    assert (image.laterality, image.view, image.spacing_source) == (Laterality.RIGHT, View.CC, "ImagerPixelSpacing")


def test_derived_spacing_has_no_float_noise(tmp_path):
    # ImagerPixelSpacing is written as "0.105"; 0.105 / 1.05 is 0.09999999999999999 in floats.
    image = load_image(write(tmp_path / "x.dcm", spacing_mm=0.1, ermf=1.05))
    assert image.spacing_mm == (0.1, 0.1)
