"""Coded concepts of the Mammography CAD SR (PS3.16 DCM, SCT and UCUM codes), and our labels mapped to them.

Every code here is in pydicom's PS3.16 dictionaries (``pydicom.sr.codedict.codes``) under the context
group named in its comment; ``tests/test_pacs_sr.py`` checks each one against them. ``docs/pacs.md``
lists them in its conformance table.
"""

from __future__ import annotations

import re

from pydicom.sr.coding import Code

from mammo_cv.core.types import Laterality, View


def _dcm(value: str, meaning: str) -> Code:
    return Code(value, "DCM", meaning)


def _sct(value: str, meaning: str) -> Code:
    return Code(value, "SCT", meaning)


# Concept names of the content items (DCM, no context group: they are the templates' EV names).
MAMMOGRAPHY_CAD_REPORT = _dcm("111036", "Mammography CAD Report")
IMAGE_LIBRARY = _dcm("111028", "Image Library")
CAD_PROCESSING_AND_FINDINGS_SUMMARY = _dcm("111017", "CAD Processing and Findings Summary")
INDIVIDUAL_IMPRESSION = _dcm("111034", "Individual Impression/Recommendation")
IMPRESSION_DESCRIPTION = _dcm("111033", "Impression Description")
RENDERING_INTENT = _dcm("111056", "Rendering Intent")
SINGLE_IMAGE_FINDING = _dcm("111059", "Single Image Finding")
CERTAINTY_OF_FINDING = _dcm("111012", "Certainty of Finding")
CALCIFICATION_TYPE = _dcm("111009", "Calcification Type")
CALCIFICATION_DISTRIBUTION = _dcm("111008", "Calcification Distribution")
NUMBER_OF_CALCIFICATIONS = _dcm("111038", "Number of calcifications")
CENTER = _dcm("111010", "Center")  # CID 219
OUTLINE = _dcm("111041", "Outline")  # CID 219
SUMMARY_OF_DETECTIONS = _dcm("111064", "Summary of Detections")
SUMMARY_OF_ANALYSES = _dcm("111065", "Summary of Analyses")
SUCCESSFUL_DETECTIONS = _dcm("111063", "Successful Detections")
DETECTION_PERFORMED = _dcm("111022", "Detection Performed")
ALGORITHM_NAME = _dcm("111001", "Algorithm Name")
ALGORITHM_VERSION = _dcm("111003", "Algorithm Version")
ALGORITHM_PARAMETERS = _dcm("111002", "Algorithm Parameters")
IMAGE_LATERALITY = _dcm("111027", "Image Laterality")
IMAGE_VIEW = _dcm("111031", "Image View")
PATIENT_ORIENTATION_ROW = _dcm("111044", "Patient Orientation Row")
PATIENT_ORIENTATION_COLUMN = _dcm("111043", "Patient Orientation Column")
STUDY_DATE = _dcm("111060", "Study Date")
STUDY_TIME = _dcm("111061", "Study Time")
CONTENT_DATE = _dcm("111018", "Content Date")
CONTENT_TIME = _dcm("111019", "Content Time")
HORIZONTAL_PIXEL_SPACING = _dcm("111026", "Horizontal Pixel Spacing")
VERTICAL_PIXEL_SPACING = _dcm("111066", "Vertical Pixel Spacing")

# CID 6047 CAD Processing and Finding Summary.
ALL_SUCCEEDED_WITH_FINDINGS = _dcm("111242", "All algorithms succeeded; with findings")
ALL_SUCCEEDED_WITHOUT_FINDINGS = _dcm("111241", "All algorithms succeeded; without findings")
# CID 6042 Result Status.
SUCCEEDED = _dcm("111222", "Succeeded")
NOT_ATTEMPTED = _dcm("111225", "Not Attempted")
# CID 6034 CAD Output Intended Use.
PRESENTATION_REQUIRED = _dcm("111150", "Presentation Required: Rendering device is expected to present")
NOT_FOR_PRESENTATION = _dcm("111152", "Not for Presentation: Rendering device expected not to present")
# CID 6014 Mammography Single Image Finding.
INDIVIDUAL_CALCIFICATION = _sct("129770007", "Individual Calcification")
CALCIFICATION_CLUSTER = _sct("129769006", "Calcification Cluster")
# UCUM units.
PERCENT = Code("%", "UCUM", "Percent")
MICROMETER = Code("um", "UCUM", "micrometer")
NO_UNITS = Code("1", "UCUM", "no units")

# CID 6010 Mammography Calcification Type.
LARGE_ROD_LIKE = _sct("129752009", "Large rod-like calcification")
VASCULAR = _sct("129759000", "Vascular calcification")
COARSE = _sct("129749001", "Coarse (popcorn-like) calcification")
ROUND = _sct("129756007", "Round shaped calcification")
RIM = _sct("129751002", "Eggshell calcification")
DYSTROPHIC = _sct("129750001", "Dystrophic calcification")
PUNCTATE = _sct("129755006", "Punctate calcification")
FINE_PLEOMORPHIC = _dcm("111344", "Fine pleomorphic calcification")
FINE_LINEAR_BRANCHING = _sct("129762002", "Fine linear, branching (casting) calcification")
MACROCALCIFICATIONS = _dcm("111345", "Macrocalcifications")

#: CID 6012 Calcification Distribution Modifier, keyed by our ``distribution`` value.
DISTRIBUTION_CODES: dict[str, Code] = {
    "grouped": _sct("129766004", "Grouped calcification distribution"),
    "linear": _sct("129765000", "Linear calcification distribution"),
    "segmental": _sct("129768003", "Segmental calcification distribution"),
    "regional": _sct("129767008", "Regional calcification distribution"),
    "diffuse": _sct("129764001", "Diffuse calcification distribution"),
}

#: CID 6022 Side, keyed by laterality.
LATERALITY_CODES: dict[Laterality, Code] = {
    Laterality.LEFT: _sct("80248007", "Left breast"),
    Laterality.RIGHT: _sct("73056007", "Right breast"),
}

#: CID 4014 View for Mammography, keyed by view.
VIEW_CODES: dict[View, Code] = {
    View.CC: _sct("399162004", "cranio-caudal"),
    View.MLO: _sct("399368009", "medio-lateral oblique"),
    View.ML: _sct("399260004", "medial-lateral"),
    View.LM: _sct("399352003", "latero-medial"),
    View.XCCL: _sct("399192008", "cranio-caudal exaggerated laterally"),
    View.XCCM: _sct("399101009", "cranio-caudal exaggerated medially"),
}

#: Our labels with one CID 6010 code; ``macro`` and ``suspicious_cluster`` are split further, ``other`` has none.
LABEL_CODES: dict[str, Code] = {
    "secretory": LARGE_ROD_LIKE,
    "vascular": VASCULAR,
    "punctate": PUNCTATE,
}

# The macro kinds the classifier names in its reason, "... -> macro (<kind>)".
_MACRO_KINDS: tuple[tuple[str, Code], ...] = (
    ("rim", RIM), ("round", ROUND), ("dystrophic", DYSTROPHIC), ("coarse", COARSE),
)
_MACRO_REASON = re.compile(r"-> macro \((.*)\)\s*$")


def calcification_type(label: str, reason: str, *, fine_linear: bool) -> Code | None:
    """The CID 6010 code of one calcification, or None for ``other``.

    Parameters
    ----------
    label : str
        Its label (``mammo_cv.core.labels.LABELS``).
    reason : str
        Its reason; for ``macro`` the kind in ``-> macro (<kind>)`` picks rim, round, dystrophic or
        coarse, else "Macrocalcifications".
    fine_linear : bool
        For ``suspicious_cluster``: fine-linear (fine linear, branching) rather than fine pleomorphic.

    Examples
    --------
    >>> calcification_type("macro", "1.5 mm x 1.4 mm ... -> macro (large round)", fine_linear=False).meaning
    'Round shaped calcification'
    >>> calcification_type("other", "", fine_linear=False) is None
    True
    """
    if label == "macro":
        match = _MACRO_REASON.search(reason)
        kind = match.group(1) if match else ""
        return next((code for word, code in _MACRO_KINDS if word in kind), MACROCALCIFICATIONS)
    if label == "suspicious_cluster":
        return FINE_LINEAR_BRANCHING if fine_linear else FINE_PLEOMORPHIC
    return LABEL_CODES.get(label)


def rendering_intent(label: str) -> Code:
    """CID 6034 value: suspicious findings are presented by default, every other finding is not."""
    return PRESENTATION_REQUIRED if label == "suspicious_cluster" else NOT_FOR_PRESENTATION
