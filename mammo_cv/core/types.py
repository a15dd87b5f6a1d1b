"""Frozen data types shared by every stage: images, enums and anatomy.

Only validation lives here, no image processing. Values from outside (DICOM tags, user
arguments) become enums at the border through the ``from_tag`` helpers, which raise
``ValueError`` naming the bad value.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "Laterality",
    "View",
    "PresentationIntent",
    "ChestWallSide",
    "MammoImage",
    "Anatomy",
]


class Laterality(str, enum.Enum):
    """Which breast: ``"L"``, ``"R"`` or ``"U"`` (unknown)."""

    LEFT = "L"
    RIGHT = "R"
    UNKNOWN = "U"

    @classmethod
    def from_tag(cls, value: str | None, *, tag: str = "Laterality") -> Laterality:
        """Parse a DICOM or user value (``"L"``, ``"left"``, ``"R "``, ``""``, None).

        Raises
        ------
        ValueError
            If the value is not empty and not a known laterality; names ``tag``.
        """
        text = (value or "").strip().upper()
        aliases = {"": cls.UNKNOWN, "U": cls.UNKNOWN, "L": cls.LEFT, "LEFT": cls.LEFT,
                   "R": cls.RIGHT, "RIGHT": cls.RIGHT}
        # "B" (both) is legal DICOM but meaningless for one 2-D view.
        if text in aliases:
            return aliases[text]
        raise ValueError(f"{tag}: unknown laterality {value!r} (expected L, R or empty)")


class View(str, enum.Enum):
    """Mammographic view position (DICOM ViewPosition vocabulary, CID 4014 codes)."""

    CC = "CC"
    MLO = "MLO"
    ML = "ML"
    LM = "LM"
    XCCL = "XCCL"
    XCCM = "XCCM"
    LMO = "LMO"
    SIO = "SIO"
    FB = "FB"
    SPOT = "SPOT"
    UNKNOWN = "U"

    @property
    def is_oblique_or_lateral(self) -> bool:
        """True for views in which the pectoral muscle is usually visible."""
        return self in (View.MLO, View.ML, View.LM, View.LMO, View.SIO)

    @classmethod
    def from_tag(cls, value: str | None, *, tag: str = "ViewPosition") -> View:
        """Parse a view name such as ``"MLO"``, ``"cc"``, ``"XCCL"`` or ``""``.

        Raises
        ------
        ValueError
            If the value is not empty and not a known view; names ``tag``.
        """
        text = (value or "").strip().upper().replace(" ", "")
        if text in ("", "U", "UNKNOWN"):
            return cls.UNKNOWN
        aliases = {"CRANIOCAUDAL": "CC", "MEDIOLATERALOBLIQUE": "MLO",
                   "MEDIOLATERAL": "ML", "LATEROMEDIAL": "LM"}
        text = aliases.get(text, text)
        try:
            return cls(text)
        except ValueError:
            raise ValueError(f"{tag}: unknown view {value!r}") from None


class PresentationIntent(str, enum.Enum):
    """DICOM PresentationIntentType: raw-ish linear data or display-processed data."""

    FOR_PROCESSING = "FOR PROCESSING"
    FOR_PRESENTATION = "FOR PRESENTATION"
    UNKNOWN = "UNKNOWN"


class ChestWallSide(str, enum.Enum):
    """Which image column edge the chest wall lies on, in the stored pixel grid."""

    LEFT = "left"
    RIGHT = "right"


def _readonly(array: np.ndarray) -> np.ndarray:
    view = np.asarray(array).view()  # a view: the caller's array keeps its own flags
    view.setflags(write=False)
    return view


@dataclass(frozen=True)
class MammoImage:
    """One mammogram in its stored pixel grid.

    Attributes
    ----------
    pixels : (M, N) ndarray of float32
        Linear values after the modality LUT, in the stored grid with no flips, oriented so
        that LARGER means MORE attenuation (dense tissue and calcium bright). Read-only.
    spacing_mm : tuple of float
        (row, col) pixel spacing in mm in the breast plane (magnification corrected).
    spacing_source : str
        Where ``spacing_mm`` came from, e.g. ``"ImagerPixelSpacing/ERMF"`` or ``"argument"``.
    laterality : Laterality
    view : View
    presentation_intent : PresentationIntent
    photometric : str
        Photometric interpretation as stored (``"MONOCHROME1"``/``"MONOCHROME2"``); raster
        files report ``"MONOCHROME2"``.
    bits_stored : int
    source_path : str or None
    sop_instance_uid : str or None
    study_instance_uid : str or None
        Used to pair the two breasts of one study; never written to outputs raw.
    display_window : tuple of float or None
        (low, high) display range in the units of ``pixels`` (from the VOI window/LUT of a
        For Presentation image), or None when the file gives none.
    burned_in_annotation : bool
        The file's BurnedInAnnotation (0028,0301) is YES: text is burned into the pixels, so the
        review images blank everything outside the breast (``mammo_cv.review.privacy``).
    assumed_mammogram : bool
        Accepted only because the caller said it is a mammogram (``assume_mammogram``): a
        Secondary Capture, or Modality RG, OT or absent (``mammo_cv.io.dicom_meta.check_modality``).
    """

    pixels: np.ndarray
    spacing_mm: tuple[float, float]
    spacing_source: str
    laterality: Laterality = Laterality.UNKNOWN
    view: View = View.UNKNOWN
    presentation_intent: PresentationIntent = PresentationIntent.UNKNOWN
    photometric: str = "MONOCHROME2"
    bits_stored: int = 16
    source_path: str | None = None
    sop_instance_uid: str | None = None
    study_instance_uid: str | None = None
    display_window: tuple[float, float] | None = field(default=None)
    burned_in_annotation: bool = False
    assumed_mammogram: bool = False

    def __post_init__(self) -> None:
        pixels = np.asarray(self.pixels)
        if pixels.ndim != 2:
            raise ValueError(f"pixels must be 2-D, got shape {pixels.shape}")
        if pixels.dtype != np.float32:
            raise ValueError(f"pixels must be float32, got {pixels.dtype}")
        object.__setattr__(self, "pixels", _readonly(pixels))
        spacing = tuple(float(s) for s in self.spacing_mm)
        if len(spacing) != 2 or not all(np.isfinite(s) and 0.0 < s < 5.0 for s in spacing):
            raise ValueError(f"spacing_mm must be two values in (0, 5) mm, got {self.spacing_mm}")
        object.__setattr__(self, "spacing_mm", spacing)
        object.__setattr__(self, "laterality", Laterality(self.laterality))
        object.__setattr__(self, "view", View(self.view))
        object.__setattr__(self, "presentation_intent", PresentationIntent(self.presentation_intent))

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) of the stored grid."""
        return self.pixels.shape  # type: ignore[return-value]

    @property
    def pixel_area_mm2(self) -> float:
        """Area of one pixel in mm^2."""
        return self.spacing_mm[0] * self.spacing_mm[1]


@dataclass(frozen=True)
class Anatomy:
    """Breast anatomy in the stored pixel grid of one ``MammoImage``.

    Attributes
    ----------
    breast_mask : (M, N) ndarray of bool
        True inside the breast (pectoral muscle included), False on background, labels,
        markers and film/scanner borders. Read-only.
    chest_wall_side : ChestWallSide
        Column edge of the chest wall, found from the pixels.
    pectoral_mask : (M, N) ndarray of bool
        True on the pectoral muscle (all False on CC views or when none is found). Read-only.
    pectoral_line : tuple or None
        ((row0, col0), (row1, col1)) in px: end points of the fitted pectoral edge, or None.
    nipple_rc : tuple of float
        (row, col) of the nipple in px.
    method_notes : tuple of str
        Short notes on fallbacks taken (e.g. ``"pectoral: not found"``), for the report.
    """

    breast_mask: np.ndarray
    chest_wall_side: ChestWallSide
    pectoral_mask: np.ndarray
    pectoral_line: tuple[tuple[float, float], tuple[float, float]] | None
    nipple_rc: tuple[float, float]
    method_notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("breast_mask", "pectoral_mask"):
            mask = np.asarray(getattr(self, name))
            if mask.dtype != bool or mask.ndim != 2:
                raise ValueError(f"{name} must be a 2-D bool array, got {mask.dtype} {mask.shape}")
            object.__setattr__(self, name, _readonly(mask))
        object.__setattr__(self, "chest_wall_side", ChestWallSide(self.chest_wall_side))
        object.__setattr__(self, "nipple_rc", (float(self.nipple_rc[0]), float(self.nipple_rc[1])))
