"""DICOM file -> ``MammoImage``: validation before decoding, decoding, modality LUT and
polarity.

Order of work, cheapest first, so that bad files fail before any large allocation:
parse the header, check the image description (pixel data present, one sample, grey,
modality, frames, size, transfer syntax, native data length), read the labels and the
spacing, and only then decode one frame and convert it once to float32.

Polarity: ``pixels`` always grow with attenuation. MONOCHROME1, or a Presentation LUT
Shape (2050,0020) of INVERSE, means the stored values shrink with attenuation; such data
are inverted around the modality-LUT image of the stored range (``lo + hi - value``), so
values stay linear and inside the same range. In the DX and MG IODs, INVERSE is the shape
required with MONOCHROME1: both say the same thing, so MONOCHROME1 + INVERSE is ONE
inversion, and MONOCHROME2 + INVERSE is treated like MONOCHROME1.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.pixels import apply_modality_lut, get_decoder
from pydicom.uid import UID, ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from mammo_cv.core.errors import (
    PROPAGATED,
    CorruptPixelDataError,
    ImageTooLargeError,
    MammoInputError,
    MissingSpacingError,
    NoPixelDataError,
    NotDicomError,
    NotMammogramError,
    UnsupportedTransferSyntaxError,
)
from mammo_cv.core.types import Laterality, MammoImage, View
from mammo_cv.io.decode import decode_frame
from mammo_cv.io.dicom_meta import (
    check_modality,
    read_laterality,
    read_presentation_intent,
    read_spacing_mm,
    read_view,
)
from mammo_cv.io.limits import check_deflate_bomb, open_regular

__all__ = ["read_dicom"]

_MONOCHROME = ("MONOCHROME1", "MONOCHROME2")

# Transfer syntax UID -> what to install when no decoder is available.
_JPEG_LOSSLESS_HINT = ('pip install "mammo_cv[jpegls-gdcm]" (python-gdcm, BSD) or '
                       '"mammo_cv[jpegls-gpl]" (pylibjpeg-libjpeg, GPLv3)')
_INSTALL_HINTS = {
    "1.2.840.10008.1.2.4.80": _JPEG_LOSSLESS_HINT + " or pyjpegls",   # JPEG-LS lossless
    "1.2.840.10008.1.2.4.81": _JPEG_LOSSLESS_HINT + " or pyjpegls",   # JPEG-LS near-lossless
    "1.2.840.10008.1.2.4.57": _JPEG_LOSSLESS_HINT,                    # JPEG lossless P14
    "1.2.840.10008.1.2.4.70": _JPEG_LOSSLESS_HINT,                    # JPEG lossless SV1
    "1.2.840.10008.1.2.4.50": _JPEG_LOSSLESS_HINT + " or pillow",     # JPEG baseline
    "1.2.840.10008.1.2.4.51": _JPEG_LOSSLESS_HINT,                    # JPEG extended
    "1.2.840.10008.1.2.4.90": "pip install pylibjpeg-openjpeg",        # JPEG 2000 lossless
    "1.2.840.10008.1.2.4.91": "pip install pylibjpeg-openjpeg",        # JPEG 2000
    "1.2.840.10008.1.2.5": "pip install pylibjpeg-rle",                # RLE lossless
}


# Elements of which at least one must parse for bytes without a DICM marker to count as DICOM
# (random bytes parsed with ``force`` hold none of them).
IMAGE_KEYWORDS = ("SOPClassUID", "Rows", "PixelData", "Modality")


def _read_dataset(path: str, *, force: bool, max_pixels: int) -> Dataset:
    """Parse the file; decoding of pixel data is left for later.

    Only regular files are opened, and a Deflated data set is first inflated incrementally
    against a cap of ``2 * max_pixels`` bytes plus 64 MiB (``limits.check_deflate_bomb``).

    Warnings pydicom raises while parsing are re-emitted, except a premature end of
    file, which means the file is truncated and becomes an error. The data set must hold
    SOPClassUID, Rows, PixelData or Modality: random bytes parsed with ``force`` do not.
    """
    check_deflate_bomb(path, max_pixels=max_pixels)
    try:
        with warnings.catch_warnings(record=True) as caught, open_regular(path) as handle:
            warnings.simplefilter("always")
            ds = pydicom.dcmread(handle, force=force)
    except (OSError, MammoInputError, *PROPAGATED):
        raise  # missing file, permission denied, not a regular file: not the format's problem
    except BaseException as exc:  # pydicom raises many types on malformed input
        raise NotDicomError(path, f"unreadable DICOM data set ({type(exc).__name__}: {exc})") from exc
    for warning in caught:
        if "End of file reached" in str(warning.message):
            raise CorruptPixelDataError(path, f"file is truncated: {warning.message}")
    if not any(keyword in ds for keyword in IMAGE_KEYWORDS):
        what = "a DICOM file with no image data set" if not force else (
            "neither a DICOM data set (no DICM marker) nor a supported raster image (PGM, PNG, TIFF)")
        raise NotDicomError(path, f"{what}: none of SOPClassUID, Rows, PixelData, Modality found")
    for warning in caught:
        warnings.warn(warning.message, stacklevel=3)
    if "TransferSyntaxUID" not in ds.file_meta:  # raw data set without file meta: as parsed
        implicit, little = ds.original_encoding
        ds.file_meta.TransferSyntaxUID = (
            ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian if little else ExplicitVRBigEndian)
    return ds


def _number(ds: Dataset, keyword: str, tag: str, path: str, *, default: float, integer: bool) -> float:
    """A numeric header value (the first of several), ``default`` when absent or empty.

    Raises
    ------
    CorruptPixelDataError
        The value is not a finite number (or not an integer when ``integer``).
    """
    try:
        value = ds.get(keyword)
    except Exception:  # noqa: BLE001 - pydicom converts lazily and raises on text like "abc"
        value = ds[keyword].repval if keyword in ds else None
    if value is None or (isinstance(value, (str, bytes)) and not value.strip()):
        return default
    try:
        number = float(value[0] if isinstance(value, MultiValue) else value)  # type: ignore[arg-type,index]
    except (TypeError, ValueError, IndexError):
        number = math.nan
    if not math.isfinite(number) or (integer and number != int(number)):
        kind = "an integer" if integer else "a finite number"
        raise CorruptPixelDataError(path, f"{keyword} {tag} is {value!r}; expected {kind}")
    return int(number) if integer else number


# Integer elements of the image pixel description: keyword -> (tag, default when absent).
_PIXEL_INTEGERS = {
    "SamplesPerPixel": ("(0028,0002)", 1), "NumberOfFrames": ("(0028,0008)", 1),
    "Rows": ("(0028,0010)", 0), "Columns": ("(0028,0011)", 0), "BitsAllocated": ("(0028,0100)", 0),
    "BitsStored": ("(0028,0101)", -1), "PixelRepresentation": ("(0028,0103)", 0),
}


def _clean_pixel_description(ds: Dataset, path: str) -> None:
    """Check the integer pixel-description elements and rescale values, and store them back
    as plain numbers, so that no later step (nor pydicom's decoders) meets text such as "abc".

    Raises
    ------
    CorruptPixelDataError
        A value that is not a number, or a Rescale Slope (0028,1053) of 0.
    """
    values = {keyword: _number(ds, keyword, tag, path, default=default, integer=True)
              for keyword, (tag, default) in _PIXEL_INTEGERS.items()}
    if values["BitsStored"] == -1:
        values["BitsStored"] = values["BitsAllocated"]
    slope = _number(ds, "RescaleSlope", "(0028,1053)", path, default=1.0, integer=False)
    intercept = _number(ds, "RescaleIntercept", "(0028,1052)", path, default=0.0, integer=False)
    if slope == 0.0:
        raise CorruptPixelDataError(path, "RescaleSlope (0028,1053) is 0: every pixel would map to one value")
    values.update(RescaleSlope=slope, RescaleIntercept=intercept)
    for keyword, value in values.items():
        if keyword in ds or keyword in ("BitsStored",):
            if keyword in ds:
                del ds[keyword]
            setattr(ds, keyword, value)


def _positive_int(ds: Dataset, keyword: str, tag: str, path: str) -> int:
    value = int(ds.get(keyword) or 0)
    if value <= 0:
        raise CorruptPixelDataError(path, f"{keyword} {tag} is {value!r}; expected a positive integer")
    return value


def _check_modality_lut(ds: Dataset, path: str) -> None:
    """A Modality LUT Sequence (0028,3000) item needs a descriptor and as many entries as it says."""
    luts = ds.get("ModalityLUTSequence")
    if not luts:
        return
    item = luts[0]
    descriptor, data = item.get("LUTDescriptor"), item.get("LUTData")
    if descriptor is None or data is None or len(descriptor) != 3:
        raise CorruptPixelDataError(
            path, "ModalityLUTSequence (0028,3000) item lacks LUTDescriptor (0028,3002) or LUTData (0028,3006)")
    entries = int(descriptor[0]) or 65536
    n_data = len(data) // 2 if isinstance(data, bytes) else len(data)
    if n_data < entries:
        raise CorruptPixelDataError(
            path, f"ModalityLUTSequence (0028,3000): LUTDescriptor (0028,3002) says {entries} entries, "
            f"LUTData (0028,3006) holds {n_data}")


def _check_decoder(ds: Dataset, path: str) -> None:
    """Raise UnsupportedTransferSyntaxError when no installed plugin decodes the syntax."""
    syntax = UID(ds.file_meta.TransferSyntaxUID)
    label = f"transfer syntax {syntax.name} ({syntax})" if syntax.name != str(syntax) else f"transfer syntax {syntax}"
    try:
        decoder = get_decoder(syntax)
    except NotImplementedError:
        raise UnsupportedTransferSyntaxError(
            path, f"{label}: no decoder exists for it; convert the file to a standard syntax "
            "(e.g. with dcmconv or gdcmconv)") from None
    if not decoder.is_available:
        hint = _INSTALL_HINTS.get(str(syntax), "install one of the pydicom plugins listed")
        missing = "; ".join(decoder.missing_dependencies)
        raise UnsupportedTransferSyntaxError(
            path, f"{label}: no installed decoder; {hint} (pydicom plugins: {missing})")


def _check_image(ds: Dataset, path: str, *, frame: int | None, max_pixels: int,
                 assume_mammogram: bool) -> tuple[int | None, bool]:
    """Validate the image description before decoding; return the frame index to decode
    (None for a single-frame file decoded whole) and whether the object was taken as a
    mammogram on the caller's word (:func:`check_modality`)."""
    if "PixelData" not in ds:
        sop_class = UID(str(ds.get("SOPClassUID", "")))
        raise NoPixelDataError(
            path, f"no Pixel Data (7FE0,0010) (SOP Class UID {sop_class.name or 'absent'})")
    _clean_pixel_description(ds, path)
    _check_modality_lut(ds, path)
    samples = int(ds.get("SamplesPerPixel") or 1)
    photometric = str(ds.get("PhotometricInterpretation", "")).strip().upper()
    if samples != 1 or photometric not in _MONOCHROME:
        raise NotMammogramError(
            path, f"SamplesPerPixel (0028,0002) is {samples} and PhotometricInterpretation "
            f"(0028,0004) is {photometric!r}; a mammogram is one grey channel (MONOCHROME1/2)")
    assumed = check_modality(ds, path, assume_mammogram=assume_mammogram)
    n_frames = int(ds.get("NumberOfFrames") or 1)
    if n_frames > 1 and frame is None:
        raise NotMammogramError(
            path, f"multi-frame image (NumberOfFrames (0028,0008) = {n_frames}); pass frame=k "
            f"with k in 0..{n_frames - 1} to load one frame")
    if frame is not None and not 0 <= frame < n_frames:
        raise MammoInputError(path, f"frame={frame} out of range: NumberOfFrames (0028,0008) = {n_frames}")
    rows = _positive_int(ds, "Rows", "(0028,0010)", path)
    cols = _positive_int(ds, "Columns", "(0028,0011)", path)
    if rows * cols > max_pixels:
        raise ImageTooLargeError(
            path, f"Rows x Columns = {rows} x {cols} = {rows * cols} px exceeds max_pixels={max_pixels}")
    bits_allocated = int(ds.get("BitsAllocated", 0))
    bits_stored = int(ds.get("BitsStored", bits_allocated))
    if bits_allocated not in (8, 16):
        raise NotMammogramError(path, f"BitsAllocated (0028,0100) is {bits_allocated}; expected 8 or 16")
    if not 1 <= bits_stored <= bits_allocated:
        raise CorruptPixelDataError(
            path, f"BitsStored (0028,0101) is {bits_stored} with BitsAllocated {bits_allocated}")
    _check_decoder(ds, path)
    if not UID(ds.file_meta.TransferSyntaxUID).is_encapsulated:
        expected = rows * cols * n_frames * bits_allocated // 8
        actual = len(ds.PixelData)
        if actual < expected:
            raise CorruptPixelDataError(
                path, f"Pixel Data (7FE0,0010) truncated: {actual} bytes, Rows x Columns x frames x "
                f"BitsAllocated/8 = {expected}")
        if actual > expected + 1:  # one pad byte makes an odd length even
            raise CorruptPixelDataError(
                path, f"Pixel Data (7FE0,0010) has {actual} bytes, more than the {expected} that "
                "Rows x Columns x frames x BitsAllocated/8 describe")
    return (frame if n_frames > 1 else None), assumed


def _stored_range(ds: Dataset) -> np.ndarray:
    """Every value the stored bits can hold, as (2**BitsStored,) ndarray of int32."""
    bits = int(ds.get("BitsStored", ds.BitsAllocated))
    if int(ds.get("PixelRepresentation", 0)) == 1:
        return np.arange(-(1 << (bits - 1)), 1 << (bits - 1), dtype=np.int32)
    return np.arange(0, 1 << bits, dtype=np.int32)


def _modality_lut(stored: np.ndarray, ds: Dataset) -> np.ndarray:
    """Modality LUT (sequence, or Rescale Slope/Intercept) -> new float32 array."""
    if "ModalityLUTSequence" in ds:
        return np.asarray(apply_modality_lut(stored, ds), dtype=np.float32)
    values = stored.astype(np.float32)
    slope = float(ds.get("RescaleSlope", 1.0) or 1.0)
    intercept = float(ds.get("RescaleIntercept", 0.0) or 0.0)
    if slope != 1.0:
        values *= np.float32(slope)
    if intercept != 0.0:
        values += np.float32(intercept)
    return values


def _first(value: object) -> float:
    return float(value[0] if isinstance(value, MultiValue) else value)  # type: ignore[arg-type,index]


def _display_window(ds: Dataset, path: str) -> tuple[float, float] | None:
    """The VOI range (see :func:`_voi_range`); a malformed one only affects display, so it
    gives a warning naming the file and the tag and None."""
    try:
        return _voi_range(ds)
    except Exception as exc:  # noqa: BLE001 - any malformed VOI value: display falls back to percentiles
        warnings.warn(f"{path}: unusable VOI window (WindowCenter/WindowWidth (0028,1050)/(0028,1051) "
                      f"or VOILUTSequence (0028,3010)), ignored: {type(exc).__name__}: {exc}", stacklevel=3)
        return None


def _voi_range(ds: Dataset) -> tuple[float, float] | None:
    """(low, high) VOI range in modality-LUT units, before any inversion; None if absent.

    Window Center/Width (first pair) follow PS3.3 C.11.2.1.2: LINEAR maps
    [c - 0.5 - (w - 1)/2, c - 0.5 + (w - 1)/2], LINEAR_EXACT and SIGMOID use c -/+ w/2.
    A VOI LUT Sequence gives its input range. A width below 1 is illegal and ignored.
    """
    if ds.get("WindowCenter") is not None and ds.get("WindowWidth") is not None:
        center, width = _first(ds.WindowCenter), _first(ds.WindowWidth)
        if width < 1.0 or not (math.isfinite(center) and math.isfinite(width)):
            return None
        if str(ds.get("VOILUTFunction", "LINEAR")).strip().upper() in ("LINEAR_EXACT", "SIGMOID"):
            return center - width / 2.0, center + width / 2.0
        return center - 0.5 - (width - 1.0) / 2.0, center - 0.5 + (width - 1.0) / 2.0
    voi_luts = ds.get("VOILUTSequence")
    if voi_luts:
        entries, first_mapped = int(voi_luts[0].LUTDescriptor[0]), int(voi_luts[0].LUTDescriptor[1])
        entries = entries or 65536  # 0 encodes 2**16 entries
        if int(ds.get("PixelRepresentation", 0)) == 1 and first_mapped >= 32768:
            first_mapped -= 65536
        return float(first_mapped), float(first_mapped + entries - 1)
    return None


def read_dicom(path: str, *, force: bool, pixel_spacing_mm: tuple[float, float] | None,
               laterality: Laterality | None, view: View | None, max_pixels: int,
               frame: int | None, decode_threads: int | None = None, assume_mammogram: bool = False) -> MammoImage:
    """Load one frame of a DICOM file as a ``MammoImage``; see ``mammo_cv.io.load_image``.

    Parameters
    ----------
    path : str
    force : bool
        Parse without the DICM marker (files with no preamble); the result must then look
        like an image data set or ``NotDicomError`` is raised.
    pixel_spacing_mm : (float, float) or None
        Overrides the header spacing when given (source ``"argument"``).
    laterality, view : enum or None
        Override the header labels when given.
    max_pixels : int
        Largest Rows x Columns accepted, checked before decoding.
    frame : int or None
        0-based frame of a multi-frame file.
    decode_threads : int, optional
        Threads for JPEG 2000 decoding (see ``mammo_cv.io.decode``); default: all CPUs
        available to the process.
    assume_mammogram : bool
        Take a Secondary Capture, or Modality RG/OT/absent, as a mammogram (``check_modality``).

    Returns
    -------
    MammoImage
        ``pixels`` is (Rows, Columns) float32 after the modality LUT, larger = denser.
    """
    ds = _read_dataset(path, force=force, max_pixels=max_pixels)
    try:
        return _image_from_dataset(ds, path, pixel_spacing_mm=pixel_spacing_mm, laterality=laterality,
                                   view=view, max_pixels=max_pixels, frame=frame, decode_threads=decode_threads,
                                   assume_mammogram=assume_mammogram)
    except (MammoInputError, OSError, MemoryError):
        raise
    except Exception as exc:  # any other malformed value: still an input error naming the file
        raise CorruptPixelDataError(path, f"unusable header value ({type(exc).__name__}: {exc})") from exc


# Largest plausible spacing in mm (MammoImage refuses 5 mm and more).
_MAX_SPACING_MM = 5.0


def _header_spacing(ds: Dataset, path: str) -> tuple[tuple[float, float], str]:
    """``read_spacing_mm``, refusing a header spacing no mammogram has (1e5 mm, ERMF 1e-300)."""
    spacing_mm, source = read_spacing_mm(ds, path)
    if not all(0.0 < value < _MAX_SPACING_MM for value in spacing_mm):
        raise MissingSpacingError(
            path, f"spacing {spacing_mm} mm from {source} is outside (0, {_MAX_SPACING_MM}) mm; "
            "pass pixel_spacing_mm= (CLI: --pixel-spacing) to override")
    return spacing_mm, source


def _display_view(ds: Dataset, path: str) -> View:
    """``read_view``; an unreadable view only affects display and pairing, so it is a warning and U."""
    try:
        return read_view(ds, path)
    except MammoInputError as exc:
        warnings.warn(f"{exc}; taken as unknown (U)", stacklevel=3)
        return View.UNKNOWN


def _image_from_dataset(ds: Dataset, path: str, *, pixel_spacing_mm: tuple[float, float] | None,
                        laterality: Laterality | None, view: View | None, max_pixels: int,
                        frame: int | None, decode_threads: int | None, assume_mammogram: bool) -> MammoImage:
    """The checks, the decode and the ``MammoImage`` of a parsed data set (see :func:`read_dicom`)."""
    index, assumed = _check_image(ds, path, frame=frame, max_pixels=max_pixels,
                                  assume_mammogram=assume_mammogram)
    if pixel_spacing_mm is None:
        spacing_mm, spacing_source = _header_spacing(ds, path)
    else:
        spacing_mm, spacing_source = pixel_spacing_mm, "argument"
    laterality = laterality if laterality is not None else read_laterality(ds, path, frame=frame)
    view = view if view is not None else _display_view(ds, path)
    intent = read_presentation_intent(ds, path)
    pixels = _decode_modality(ds, index, path, threads=decode_threads)
    pixels, window = _apply_polarity(pixels, _display_window(ds, path), ds)
    return MammoImage(
        pixels=pixels,
        spacing_mm=spacing_mm,
        spacing_source=spacing_source,
        laterality=laterality,
        view=view,
        presentation_intent=intent,
        photometric=str(ds.PhotometricInterpretation).strip().upper(),
        bits_stored=int(ds.get("BitsStored", ds.BitsAllocated)),
        source_path=path,
        sop_instance_uid=str(ds.SOPInstanceUID) if ds.get("SOPInstanceUID") else None,
        study_instance_uid=str(ds.StudyInstanceUID) if ds.get("StudyInstanceUID") else None,
        display_window=window,
        burned_in_annotation=str(ds.get("BurnedInAnnotation", "")).strip().upper() == "YES",
        assumed_mammogram=assumed,
    )


def _decode_modality(ds: Dataset, index: int | None, path: str, *, threads: int | None) -> np.ndarray:
    """Decode one frame and apply the modality LUT: (Rows, Columns) float32.

    The encoded Pixel Data is dropped from ``ds`` once decoded, and the integer frame once
    converted, so at most one full-size copy of each is held.
    """
    try:
        stored = decode_frame(ds, index, threads=threads, path=path)
    except (MammoInputError, *PROPAGATED):
        raise
    except BaseException as exc:  # native decoders raise anything, even pyo3's PanicException
        syntax = UID(ds.file_meta.TransferSyntaxUID)
        raise CorruptPixelDataError(
            path, f"cannot decode Pixel Data (7FE0,0010) ({syntax.name}): {type(exc).__name__}: {exc}"
        ) from exc
    del ds.PixelData  # the encoded bytes are not needed any more: at most 6 bytes/px held
    return _modality_lut(stored, ds)


def _apply_polarity(pixels: np.ndarray, window: tuple[float, float] | None,
                    ds: Dataset) -> tuple[np.ndarray, tuple[float, float] | None]:
    """Invert MONOCHROME1 or INVERSE data (and their window) around the modality-LUT range, in place.

    Returns
    -------
    pixels : (M, N) ndarray of float32
        ``pixels`` itself, now growing with attenuation.
    window : (float, float) or None
        The display window in the same units.
    """
    photometric = str(ds.PhotometricInterpretation).strip().upper()
    shape = str(ds.get("PresentationLUTShape", "")).strip().upper()
    if photometric == "MONOCHROME1" or shape == "INVERSE":
        mapped = _modality_lut(_stored_range(ds), ds)
        pivot = np.float32(mapped.min()) + np.float32(mapped.max())
        np.subtract(pivot, pixels, out=pixels)
        if window is not None:
            window = (float(pivot) - window[1], float(pivot) - window[0])
    return pixels, window
