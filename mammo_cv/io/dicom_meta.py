"""Read what a DICOM header says about geometry and labels: spacing, laterality, view,
presentation intent and modality.

Nothing here touches pixel data. Every function takes a parsed ``pydicom.Dataset`` and
the file path (for error messages) and returns plain values or enums, raising a
``MammoInputError`` subclass that names the file and the tag when a value is unusable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydicom.dataset import Dataset

from mammo_cv.core.errors import MammoInputError, MissingSpacingError, NotMammogramError
from mammo_cv.core.types import Laterality, PresentationIntent, View

__all__ = [
    "ACCEPTED_MODALITIES",
    "MG_FOR_PRESENTATION_SOP_CLASS",
    "MG_FOR_PROCESSING_SOP_CLASS",
    "VIEW_CODES",
    "check_modality",
    "parse_spacing_argument",
    "read_spacing_mm",
    "read_laterality",
    "read_view",
    "read_presentation_intent",
]

MG_FOR_PRESENTATION_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.1.2"
MG_FOR_PROCESSING_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.1.2.1"

# Modalities that may hold a 2-D mammogram. DX/CR/OT (and Secondary Capture objects,
# which carry the original modality, e.g. MG for CBIS-DDSM) are accepted unless Body
# Part Examined names another body part.
ACCEPTED_MODALITIES = frozenset({"MG", "DX", "CR", "OT"})

# CID 4014 "View for Mammography" (PS3.16): SNOMED-RT (SRT/SNM3) and SNOMED CT (SCT) codes
# -> view. SCT values checked against pydicom.sr.codedict ``codes.cid4014``. CID 4014 has
# no code for SPOT (a view modifier, CID 4015). ISO (R-40AAA / 441555000) and the breast
# specimen code (G-8310 / 127457009) have no member in ``View`` and map to UNKNOWN.
VIEW_CODES: dict[str, View] = {
    "R-10242": View.CC, "399162004": View.CC,
    "R-10226": View.MLO, "399368009": View.MLO,
    "R-10224": View.ML, "399260004": View.ML,
    "R-10228": View.LM, "399352003": View.LM,
    "R-10230": View.LMO, "399099002": View.LMO,
    "R-10244": View.FB, "399196006": View.FB,
    "R-102D0": View.SIO, "399188001": View.SIO,
    "R-1024A": View.XCCL, "399192008": View.XCCL,
    "R-1024B": View.XCCM, "399101009": View.XCCM,
    "R-40AAA": View.UNKNOWN, "441555000": View.UNKNOWN,
    "G-8310": View.UNKNOWN, "127457009": View.UNKNOWN,
}


def _text(ds: Dataset, keyword: str) -> str:
    """Stripped upper-case text of a single-valued element, '' when absent or empty."""
    value = ds.get(keyword)
    if value is None:
        return ""
    if not isinstance(value, str) and isinstance(value, Sequence):
        value = "\\".join(str(v) for v in value)
    return str(value).strip().upper()


def check_modality(ds: Dataset, path: str) -> None:
    """Refuse clearly non-mammographic objects.

    Accepts Modality MG, DX, CR, OT or absent; DX/CR/OT/absent only when Body Part
    Examined (0018,0015) is absent, empty or ``BREAST``.

    Raises
    ------
    NotMammogramError
        For CT, MR, US, ... or a DX/CR/OT image of another body part.
    """
    modality = _text(ds, "Modality")
    if modality and modality not in ACCEPTED_MODALITIES:
        raise NotMammogramError(
            path, f"Modality (0008,0060) is {modality!r}; expected MG (or DX/CR/OT of the breast)")
    body_part = _text(ds, "BodyPartExamined")
    if modality != "MG" and body_part not in ("", "BREAST"):
        raise NotMammogramError(
            path, f"Body Part Examined (0018,0015) is {body_part!r} for Modality {modality or 'absent'!r}")


def _as_pair(value: object, what: str) -> tuple[float, float]:
    """A float or a (row, col) pair -> two positive finite floats; ValueError otherwise."""
    if isinstance(value, (int, float)):
        pair = (float(value), float(value))
    else:
        items = [float(v) for v in value]  # type: ignore[union-attr]
        if len(items) == 1:
            items = items * 2
        if len(items) != 2:
            raise ValueError(f"{what}: expected 1 or 2 values, got {value!r}")
        pair = (items[0], items[1])
    if not all(math.isfinite(v) and v > 0.0 for v in pair):
        raise ValueError(f"{what}: spacing must be positive and finite, got {value!r}")
    return pair


def parse_spacing_argument(value: float | Sequence[float]) -> tuple[float, float]:
    """Parse the ``pixel_spacing_mm=`` argument (float or (row, col)) in mm.

    Raises
    ------
    ValueError
        Not one or two positive finite numbers.
    """
    return _as_pair(value, "pixel_spacing_mm")


def _is_empty(value: object) -> bool:
    if value is None or isinstance(value, (str, bytes)):
        return not (value or "").strip()
    return isinstance(value, Sequence) and len(value) == 0


def _tag_pair(ds: Dataset, keyword: str, tag: str, path: str) -> tuple[float, float] | None:
    value = ds.get(keyword)
    if _is_empty(value):
        return None
    try:
        return _as_pair(value, f"{keyword} {tag}")
    except (TypeError, ValueError) as exc:
        raise MissingSpacingError(
            path, f"{keyword} {tag} holds an unusable value {value!r} ({exc}); "
            "pass pixel_spacing_mm= (CLI: --pixel-spacing) to override") from None


def _tag_float(ds: Dataset, keyword: str, tag: str, path: str) -> float | None:
    value = ds.get(keyword)
    if _is_empty(value):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = math.nan
    if not (math.isfinite(number) and number > 0.0):
        raise MissingSpacingError(
            path, f"{keyword} {tag} must be positive, got {value!r}; "
            "pass pixel_spacing_mm= (CLI: --pixel-spacing) to override")
    return number


def _scaled(pair: tuple[float, float], factor: float) -> tuple[float, float]:
    """pair * factor, rounded to 12 significant digits: a DS holds at most 16 characters,
    and the rounding removes float noise such as 0.105 / 1.05 = 0.09999999999999999."""
    return float(f"{pair[0] * factor:.12g}"), float(f"{pair[1] * factor:.12g}")


def read_spacing_mm(ds: Dataset, path: str) -> tuple[tuple[float, float], str]:
    """(row, col) spacing in mm in the breast plane, and the name of its source.

    Precedence, following PS3.3 section 10.7.1 (Basic Pixel Spacing Calibration):

    1. Pixel Spacing (0028,0030) when it is calibrated: Pixel Spacing Calibration Type
       (0028,0A02) present (source ``"PixelSpacing(GEOMETRY)"`` / ``"PixelSpacing(FIDUCIAL)"``),
       or its value differs from Imager Pixel Spacing, or Imager Pixel Spacing is absent
       (source ``"PixelSpacing"``). The standard says a Pixel Spacing equal to Imager Pixel
       Spacing without a calibration type is an uncorrected copy of the detector spacing.
    2. Imager Pixel Spacing (0018,1164) / Estimated Radiographic Magnification Factor
       (0018,1114): ``"ImagerPixelSpacing/ERMF"``.
    3. Imager Pixel Spacing * Distance Source to Patient (0018,1111) / Distance Source to
       Detector (0018,1110): ``"ImagerPixelSpacing*SOD/SID"``.
    4. Imager Pixel Spacing alone (detector plane, magnification not corrected):
       ``"ImagerPixelSpacing"``.
    5. Nominal Scanned Pixel Spacing (0018,2010) of digitised film: ``"NominalScannedPixelSpacing"``.

    The explicit ``pixel_spacing_mm=`` argument of ``load_image`` overrides all of these.

    Raises
    ------
    MissingSpacingError
        When no source is present, or a present one holds zero, negative or malformed values.
    """
    pixel = _tag_pair(ds, "PixelSpacing", "(0028,0030)", path)
    imager = _tag_pair(ds, "ImagerPixelSpacing", "(0018,1164)", path)
    calibration = _text(ds, "PixelSpacingCalibrationType")
    if pixel is not None and (calibration or imager is None or pixel != imager):
        return pixel, f"PixelSpacing({calibration})" if calibration else "PixelSpacing"
    if imager is not None:
        ermf = _tag_float(ds, "EstimatedRadiographicMagnificationFactor", "(0018,1114)", path)
        if ermf is not None:
            return _scaled(imager, 1.0 / ermf), "ImagerPixelSpacing/ERMF"
        sod = _tag_float(ds, "DistanceSourceToPatient", "(0018,1111)", path)
        sid = _tag_float(ds, "DistanceSourceToDetector", "(0018,1110)", path)
        if sod is not None and sid is not None:
            return _scaled(imager, sod / sid), "ImagerPixelSpacing*SOD/SID"
        return imager, "ImagerPixelSpacing"
    scanned = _tag_pair(ds, "NominalScannedPixelSpacing", "(0018,2010)", path)
    if scanned is not None:
        return scanned, "NominalScannedPixelSpacing"
    raise MissingSpacingError(
        path, "no pixel spacing: none of PixelSpacing (0028,0030), ImagerPixelSpacing "
        "(0018,1164) or NominalScannedPixelSpacing (0018,2010) is present; pass "
        "pixel_spacing_mm= (CLI: --pixel-spacing) with the spacing in mm")


def _first_item(ds: Dataset, keyword: str) -> Dataset | None:
    sequence = ds.get(keyword)
    return sequence[0] if sequence else None


def _frame_laterality(ds: Dataset, frame: int | None) -> str:
    """FrameLaterality (0020,9072) from the shared, then the per-frame functional groups."""
    groups = [_first_item(ds, "SharedFunctionalGroupsSequence")]
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    if per_frame:
        index = 0 if frame is None else frame
        groups.append(per_frame[index] if index < len(per_frame) else None)
    for group in groups:
        anatomy = None if group is None else _first_item(group, "FrameAnatomySequence")
        if anatomy is not None and _text(anatomy, "FrameLaterality"):
            return _text(anatomy, "FrameLaterality")
    return ""


def read_laterality(ds: Dataset, path: str, *, frame: int | None = None) -> Laterality:
    """Laterality from Image Laterality (0020,0062), then Laterality (0020,0060), then
    Frame Laterality (0020,9072) in the shared or per-frame functional groups.

    Returns ``Laterality.UNKNOWN`` when none is filled in.

    Raises
    ------
    MammoInputError
        The first filled-in tag holds a value other than L or R (e.g. ``"B"``).
    """
    candidates = (
        ("ImageLaterality", "(0020,0062)", _text(ds, "ImageLaterality")),
        ("Laterality", "(0020,0060)", _text(ds, "Laterality")),
        ("FrameLaterality", "(0020,9072)", _frame_laterality(ds, frame)),
    )
    for keyword, tag, value in candidates:
        if value:
            try:
                return Laterality.from_tag(value, tag=f"{keyword} {tag}")
            except ValueError as exc:
                raise MammoInputError(path, f"{exc}; pass laterality= to override") from None
    return Laterality.UNKNOWN


def _view_position(value: str) -> View:
    """ViewPosition text -> View; also accepts a laterality prefix such as ``"LCC"``."""
    try:
        return View.from_tag(value)
    except ValueError:
        if value[:1] in ("L", "R") and len(value) > 2:
            return View.from_tag(value[1:])
        raise


def read_view(ds: Dataset, path: str) -> View:
    """View from View Position (0018,5101), then View Code Sequence (0054,0220) (CID 4014
    codes, SRT or SCT), then Patient Orientation (0020,0020) when it holds a view name
    instead of directions (CBIS-DDSM files store ``"CC"``/``"MLO"`` there).

    Returns ``View.UNKNOWN`` when none gives a view.

    Raises
    ------
    MammoInputError
        View Position or the view code holds a value that is not a mammographic view.
    """
    position = _text(ds, "ViewPosition")
    if position:
        try:
            return _view_position(position)
        except ValueError:
            raise MammoInputError(
                path, f"ViewPosition (0018,5101): unknown view {position!r}; pass view= to override"
            ) from None
    code = _first_item(ds, "ViewCodeSequence")
    if code is not None and _text(code, "CodeValue"):
        value = _text(code, "CodeValue")
        if value not in VIEW_CODES:
            raise MammoInputError(
                path, f"ViewCodeSequence (0054,0220): code {value!r} is not in CID 4014; "
                "pass view= to override")
        return VIEW_CODES[value]
    orientation = ds.get("PatientOrientation")
    if orientation is not None and not isinstance(orientation, str):
        orientation = orientation[0] if len(orientation) == 1 else ""
    try:
        return View.from_tag(str(orientation or ""), tag="PatientOrientation (0020,0020)")
    except ValueError:  # directions such as "A\R": not a view, which is legal
        return View.UNKNOWN


def read_presentation_intent(ds: Dataset, path: str) -> PresentationIntent:
    """Presentation Intent Type (0008,0068); when absent, implied by the MG SOP classes;
    otherwise ``UNKNOWN``.

    Raises
    ------
    MammoInputError
        The tag holds a value other than FOR PROCESSING / FOR PRESENTATION.
    """
    value = _text(ds, "PresentationIntentType")
    if value:
        try:
            return PresentationIntent(value)
        except ValueError:
            raise MammoInputError(
                path, f"PresentationIntentType (0008,0068): unknown value {value!r}") from None
    sop_class = str(ds.get("SOPClassUID", ""))
    implied = {MG_FOR_PRESENTATION_SOP_CLASS: PresentationIntent.FOR_PRESENTATION,
               MG_FOR_PROCESSING_SOP_CLASS: PresentationIntent.FOR_PROCESSING}
    return implied.get(sop_class, PresentationIntent.UNKNOWN)
