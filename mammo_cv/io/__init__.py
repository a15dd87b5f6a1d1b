"""Input and output of mammograms: the only package that imports pydicom.

``load_image`` recognises a file by its content (never its extension) and returns a
``MammoImage``; ``write_mammo_dicom`` writes synthetic Digital Mammography X-Ray files.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from mammo_cv.core.errors import MammoInputError, MissingSpacingError, NotDicomError
from mammo_cv.core.types import Laterality, MammoImage, View
from mammo_cv.io.dicom_meta import parse_spacing_argument
from mammo_cv.io.dicom_read import read_dicom
from mammo_cv.io.dicom_write import write_mammo_dicom
from mammo_cv.io.limits import DEFAULT_MAX_PIXELS, HEADER_BYTES, open_regular, read_head
from mammo_cv.io.raster import read_raster
from mammo_cv.io.sniff import format_from_head

__all__ = ["DEFAULT_MAX_PIXELS", "DICOM_SUFFIXES", "load_image", "write_mammo_dicom"]

# File-name endings that claim DICOM content (a file so named must hold DICOM).
DICOM_SUFFIXES = (".dcm", ".dicom", ".dic")


def load_image(path: str | os.PathLike[str], *,
               pixel_spacing_mm: float | Sequence[float] | None = None,
               laterality: Laterality | str | None = None,
               view: View | str | None = None,
               max_pixels: int = DEFAULT_MAX_PIXELS,
               frame: int | None = None,
               decode_threads: int | None = None,
               assume_mammogram: bool = False) -> MammoImage:
    """Load a mammogram from a DICOM or raster (PGM/PNG/TIFF) file.

    The format comes from the content: a ``DICM`` marker at byte 128 means DICOM (checked
    first, so DICOM files with a TIFF-like preamble stay DICOM); PNG, PGM and TIFF magic
    bytes mean raster; anything else is parsed as a DICOM data set without preamble, and
    must then hold SOPClassUID, Rows, PixelData or Modality. A file named ``.dcm``,
    ``.dicom`` or ``.dic`` must hold DICOM: a PNG so named is refused (``NotDicomError``).
    Only regular files are opened (``mammo_cv.io.limits``).

    Parameters
    ----------
    path : str or os.PathLike
    pixel_spacing_mm : float or (float, float), optional
        (row, col) spacing in mm in the breast plane. Overrides every header tag
        (``spacing_source == "argument"``). Required for raster files.
    laterality, view : str or enum, optional
        Override the header values (``"L"``, ``"MLO"``, ...). Raster files default to
        unknown (``"U"``).
    max_pixels : int
        Largest Rows x Columns (of the one frame decoded) accepted; checked from the header
        before decoding, so absurd sizes fail fast without allocation.
    frame : int, optional
        0-based frame to load from a multi-frame DICOM (required when NumberOfFrames > 1);
        0 is also accepted for single-frame files.
    decode_threads : int, optional
        Threads for JPEG 2000 decoding when imagecodecs is installed (it is about 1.9x
        faster with 2 threads than with 1 on a 4096 x 3328 lossless frame); default: every
        CPU available to the process. Pass 1 when several worker processes share the CPUs.
    assume_mammogram : bool
        Take a DICOM Secondary Capture of another modality, or Modality RG, OT or absent (film
        exports such as the NEMA WG04 DDSM film), as a mammogram; recorded in
        ``MammoImage.assumed_mammogram``. Never makes a CT, MR or other non-radiography SOP
        class acceptable.

    Returns
    -------
    MammoImage
        ``pixels`` (M, N) float32 in the stored grid, no flips, after the modality LUT
        (no VOI), oriented so that larger = more attenuation (MONOCHROME1 and Presentation
        LUT Shape INVERSE are inverted around the stored range, see ``dicom_read``).
        ``display_window`` (low, high) is in the same units, or None. See
        ``dicom_meta.read_spacing_mm`` for the spacing precedence.

    Raises
    ------
    FileNotFoundError, PermissionError, IsADirectoryError
        Passed through unchanged.
    NotDicomError
        Also for a device, FIFO or socket (refused without being opened, see
        ``mammo_cv.io.limits``).
    NoPixelDataError, UnsupportedTransferSyntaxError, NotMammogramError,
    MissingSpacingError, ImageTooLargeError, CorruptPixelDataError, MammoInputError
        Bad input; the message names the file and the tag or problem.
    ValueError
        A bad argument (spacing, laterality or view).

    Examples
    --------
    >>> import pathlib, tempfile, cv2, numpy as np
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.pgm"
    >>> cv2.imwrite(str(path), np.full((64, 48), 100, np.uint8))
    True
    >>> image = load_image(path, pixel_spacing_mm=0.2)
    >>> image.shape, image.spacing_mm, image.spacing_source
    ((64, 48), (0.2, 0.2), 'argument')
    """
    path = os.fspath(path)
    spacing, laterality_enum, view_enum = _overrides(pixel_spacing_mm, laterality, view)
    head = read_head(path, HEADER_BYTES)
    kind = format_from_head(head)
    if kind not in ("dicom", None) and path.lower().endswith(DICOM_SUFFIXES):
        raise NotDicomError(path, f"named as DICOM but holds a {kind.upper()} image; give it its own "
                            f"extension (.{kind}) and a pixel spacing to analyse it as a raster image")
    if kind in ("dicom", None):
        return read_dicom(path, force=kind is None, pixel_spacing_mm=spacing,
                          laterality=laterality_enum, view=view_enum, max_pixels=max_pixels,
                          frame=frame, decode_threads=decode_threads, assume_mammogram=assume_mammogram)
    return _load_raster(path, kind, spacing_mm=spacing, laterality=laterality_enum, view=view_enum,
                        max_pixels=max_pixels, frame=frame)


def _overrides(pixel_spacing_mm: float | Sequence[float] | None, laterality: Laterality | str | None,
               view: View | str | None) -> tuple[tuple[float, float] | None, Laterality | None, View | None]:
    """The caller's spacing (row, col) mm, laterality and view, checked; None where not given."""
    spacing = None if pixel_spacing_mm is None else parse_spacing_argument(pixel_spacing_mm)
    laterality_enum = None if laterality is None else Laterality.from_tag(
        str(getattr(laterality, "value", laterality)), tag="laterality argument")
    view_enum = None if view is None else View.from_tag(
        str(getattr(view, "value", view)), tag="view argument")
    return spacing, laterality_enum, view_enum


def _load_raster(path: str, kind: str, *, spacing_mm: tuple[float, float] | None, laterality: Laterality | None,
                 view: View | None, max_pixels: int, frame: int | None) -> MammoImage:
    """A PGM/PNG/TIFF file (``kind``) as a ``MammoImage``; the spacing must be given, labels default to unknown."""
    if frame not in (None, 0):
        raise MammoInputError(path, f"frame={frame}: {kind.upper()} files hold one frame (0)")
    if spacing_mm is None:
        raise MissingSpacingError(
            path, f"{kind.upper()} files carry no pixel spacing; pass pixel_spacing_mm= "
            "(CLI: --pixel-spacing), e.g. 0.2 for mini-MIAS")
    with open_regular(path) as handle:
        data = handle.read()
    return read_raster(path, data, kind, spacing_mm=spacing_mm, laterality=laterality or Laterality.UNKNOWN,
                       view=view or View.UNKNOWN, max_pixels=max_pixels)
