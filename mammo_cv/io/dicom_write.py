"""Write synthetic Digital Mammography X-Ray Image files (phantoms, test fixtures).

The files follow the DX / Mammography IOD closely enough for viewers and for
``load_image``: Modality MG, Imager Pixel Spacing at the detector with the Estimated
Radiographic Magnification Factor, laterality, view (View Position and View Code
Sequence), presentation intent and its SOP class. They hold no real patient data, and
the same arguments always give the same bytes (UIDs derived from seeds, fixed dates).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from pydicom.datadict import tag_for_keyword
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    RLELossless,
    generate_uid,
)

from mammo_cv.core.types import Laterality, PresentationIntent, View
from mammo_cv.io.dicom_meta import (
    MG_FOR_PRESENTATION_SOP_CLASS,
    MG_FOR_PROCESSING_SOP_CLASS,
    VIEW_CODES,
    parse_spacing_argument,
)

__all__ = ["TRANSFER_SYNTAXES", "write_mammo_dicom"]

TRANSFER_SYNTAXES = {
    "explicit": ExplicitVRLittleEndian,
    "rle": RLELossless,
    "j2k_lossless": JPEG2000Lossless,
}

_FIXED_DATE = "20000101"
_FIXED_TIME = "120000"
_BREAST = ("76752008", "SCT", "Breast")  # Anatomic Region Sequence, CID 4031
_CODE_MEANINGS = {
    View.CC: "cranio-caudal", View.MLO: "medio-lateral oblique", View.ML: "medio-lateral",
    View.LM: "latero-medial", View.LMO: "latero-medial oblique", View.FB: "caudo-cranial",
    View.SIO: "superolateral to inferomedial oblique", View.XCCL: "cranio-caudal exaggerated laterally",
    View.XCCM: "cranio-caudal exaggerated medially",
}


def _code_item(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def _view_code(view: View) -> Dataset | None:
    """SCT code item of CID 4014 for a view, or None for views without a code."""
    sct = next((code for code, v in VIEW_CODES.items() if v is view and code.isdigit()), None)
    return None if sct is None or view is View.UNKNOWN else _code_item(sct, "SCT", _CODE_MEANINGS[view])


def write_mammo_dicom(path: str | os.PathLike[str], stored: np.ndarray, *,
                      spacing_mm: float | Sequence[float], ermf: float = 1.0,
                      laterality: Laterality | str, view: View | str,
                      photometric: str = "MONOCHROME2",
                      presentation_intent: PresentationIntent | str = "FOR PROCESSING",
                      bits_stored: int = 12,
                      voi_window: tuple[float, float] | None = None,
                      transfer_syntax: str = "explicit",
                      uid_seed: str = "mammo_cv-phantom",
                      study_uid_seed: str | None = None,
                      use_pixel_spacing: bool = False,
                      extra: Mapping[str, Any] | None = None) -> None:
    """Write a 2-D image of stored values as a Digital Mammography X-Ray Image file.

    Parameters
    ----------
    path : str or os.PathLike
        Output file (overwritten).
    stored : (M, N) ndarray of uint16
        STORED pixel values, each < 2**bits_stored. For MONOCHROME1 the caller has already
        inverted them (larger = less attenuation).
    spacing_mm : float or (float, float)
        (row, col) pixel spacing in mm in the breast plane. Written as Imager Pixel Spacing
        (0018,1164) = spacing_mm * ermf (detector plane).
    ermf : float
        Estimated Radiographic Magnification Factor (0018,1114), >= 1.
    laterality : {"L", "R"} or Laterality
        Image Laterality (0020,0062).
    view : str or View
        View Position (0018,5101) and the matching CID 4014 SCT code in View Code Sequence
        (0054,0220) (empty sequence for views without a code, e.g. SPOT).
    photometric : {"MONOCHROME2", "MONOCHROME1"}
        Presentation LUT Shape (2050,0020) follows the DX rule: IDENTITY for MONOCHROME2,
        INVERSE for MONOCHROME1.
    presentation_intent : {"FOR PROCESSING", "FOR PRESENTATION"}
        Presentation Intent Type (0008,0068); selects SOP class 1.2.840.10008.5.1.4.1.1.1.2.1
        (For Processing) or 1.2.840.10008.5.1.4.1.1.1.2 (For Presentation).
    bits_stored : int
        Bits Stored (0028,0101), 1..16; Bits Allocated is 16 and High Bit bits_stored - 1.
    voi_window : (center, width), optional
        Window Center (0028,1050) / Window Width (0028,1051) in stored units.
    transfer_syntax : {"explicit", "rle", "j2k_lossless"}
        Explicit VR Little Endian, RLE Lossless, or JPEG 2000 Lossless (pylibjpeg-openjpeg;
        at least 32 x 32 px).
    uid_seed : str
        Seeds the SOP Instance and Series UIDs (and the study UID unless study_uid_seed is
        given), the Patient Name ``PHANTOM^<uid_seed>`` and Patient ID.
    study_uid_seed : str, optional
        Seeds Study Instance UID, so that several views can share one study.
    use_pixel_spacing : bool
        Also write Pixel Spacing (0028,0030) = spacing_mm with Pixel Spacing Calibration
        Type GEOMETRY (a magnification-corrected, calibrated spacing).
    extra : mapping of keyword -> value, optional
        Elements set last, overriding the defaults (e.g. ``{"PatientOrientation": ["A", "R"]}``,
        ``{"DistanceSourceToDetector": 660}``); a value of None deletes the element.

    Raises
    ------
    ValueError
        Bad array, value range, spacing, photometric, intent or transfer syntax.
    """
    stored = np.asarray(stored)
    if stored.ndim != 2 or stored.dtype != np.uint16:
        raise ValueError(f"stored must be a 2-D uint16 array, got {stored.dtype} {stored.shape}")
    if not 1 <= bits_stored <= 16:
        raise ValueError(f"bits_stored must be in 1..16, got {bits_stored}")
    if stored.size and int(stored.max()) >= 1 << bits_stored:
        raise ValueError(f"stored holds {int(stored.max())}, above the {bits_stored}-bit range")
    if photometric not in ("MONOCHROME1", "MONOCHROME2"):
        raise ValueError(f"photometric must be MONOCHROME1 or MONOCHROME2, got {photometric!r}")
    if transfer_syntax not in TRANSFER_SYNTAXES:
        raise ValueError(f"transfer_syntax must be one of {sorted(TRANSFER_SYNTAXES)}, got {transfer_syntax!r}")
    if transfer_syntax == "j2k_lossless" and min(stored.shape) < 32:
        # OpenJPEG's default 6 resolution levels need at least 2**5 px per side.
        raise ValueError(f"j2k_lossless needs at least 32 x 32 px, got {stored.shape}")
    if not ermf >= 1.0:
        raise ValueError(f"ermf must be >= 1, got {ermf}")
    intent = PresentationIntent(str(getattr(presentation_intent, "value", presentation_intent)).upper())
    if intent is PresentationIntent.UNKNOWN:
        raise ValueError("presentation_intent must be FOR PROCESSING or FOR PRESENTATION")
    side = Laterality.from_tag(str(getattr(laterality, "value", laterality)), tag="laterality")
    view_enum = View.from_tag(str(getattr(view, "value", view)), tag="view")
    row_mm, col_mm = parse_spacing_argument(spacing_mm)

    def uid(*parts: str) -> str:
        return generate_uid(entropy_srcs=["mammo_cv", *parts])

    sop_class = (MG_FOR_PROCESSING_SOP_CLASS if intent is PresentationIntent.FOR_PROCESSING
                 else MG_FOR_PRESENTATION_SOP_CLASS)
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["DERIVED", "PRIMARY"]
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = uid(uid_seed, "instance")
    for prefix in ("Study", "Series", "Content", "Acquisition"):
        setattr(ds, f"{prefix}Date", _FIXED_DATE)
        setattr(ds, f"{prefix}Time", _FIXED_TIME)
    ds.AccessionNumber = ""
    ds.Modality = "MG"
    ds.PresentationIntentType = intent.value
    ds.Manufacturer = "mammo_cv synthetic phantom"
    ds.ReferringPhysicianName = ""
    ds.PatientName = f"PHANTOM^{uid_seed}"
    ds.PatientID = f"phantom-{uid_seed}"
    ds.PatientBirthDate = ""
    ds.PatientSex = "F"
    ds.BodyPartExamined = "BREAST"
    ds.ImagerPixelSpacing = [f"{row_mm * ermf:.10g}", f"{col_mm * ermf:.10g}"]
    ds.EstimatedRadiographicMagnificationFactor = f"{ermf:.10g}"
    ds.PositionerType = "MAMMOGRAPHIC"
    ds.ViewPosition = "" if view_enum is View.UNKNOWN else view_enum.value
    ds.StudyInstanceUID = uid(study_uid_seed or uid_seed, "study")
    ds.SeriesInstanceUID = uid(uid_seed, "series")
    ds.StudyID = ""
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.PatientOrientation = ""
    ds.ImageLaterality = "" if side is Laterality.UNKNOWN else side.value
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.Rows, ds.Columns = stored.shape
    ds.BitsAllocated = 16
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 0
    ds.PixelIntensityRelationship = "LIN"
    # -1: larger stored value = less X-ray intensity (denser) for MONOCHROME2.
    ds.PixelIntensityRelationshipSign = -1 if photometric == "MONOCHROME2" else 1
    ds.RescaleIntercept = "0"
    ds.RescaleSlope = "1"
    ds.RescaleType = "US"
    ds.BurnedInAnnotation = "NO"
    ds.LossyImageCompression = "00"
    if use_pixel_spacing:
        ds.PixelSpacing = [f"{row_mm:.10g}", f"{col_mm:.10g}"]
        ds.PixelSpacingCalibrationType = "GEOMETRY"
        ds.PixelSpacingCalibrationDescription = "synthetic phantom: spacing in the breast plane"
    if voi_window is not None:
        ds.WindowCenter = f"{float(voi_window[0]):.10g}"
        ds.WindowWidth = f"{float(voi_window[1]):.10g}"
    ds.PresentationLUTShape = "IDENTITY" if photometric == "MONOCHROME2" else "INVERSE"
    ds.AnatomicRegionSequence = [_code_item(*_BREAST)]
    code = _view_code(view_enum)
    ds.ViewCodeSequence = [] if code is None else [code]
    if code is not None:
        ds.ViewCodeSequence[0].ViewModifierCodeSequence = []
    ds.PixelData = np.ascontiguousarray(stored, dtype="<u2").tobytes()
    for keyword, value in (extra or {}).items():
        if tag_for_keyword(keyword) is None:
            raise ValueError(f"extra: {keyword!r} is not a DICOM keyword")
        if value is None:
            if keyword in ds:
                delattr(ds, keyword)
        else:
            setattr(ds, keyword, value)

    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    if transfer_syntax != "explicit":
        ds.compress(TRANSFER_SYNTAXES[transfer_syntax], generate_instance_uid=False)
    ds.save_as(os.fspath(path), enforce_file_format=True)
