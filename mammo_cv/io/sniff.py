"""Recognise mammogram files by their content, for folder walks."""

from __future__ import annotations

import io
import os
import warnings

import pydicom

from mammo_cv.io.dicom_read import IMAGE_KEYWORDS
from mammo_cv.io.limits import HEADER_BYTES, HEADER_PARSE_BYTES, read_head
from mammo_cv.io.raster import raster_format

__all__ = ["format_from_head", "sniff_format"]


def format_from_head(head: bytes) -> str | None:
    """What the first 132 bytes of a file say it is.

    Returns
    -------
    str or None
        ``"dicom"`` for a DICM marker at byte 128 (checked first, so DICOM files with a
        TIFF-like preamble stay DICOM), ``"png"``, ``"pgm"`` or ``"tiff"`` for their magic
        bytes, None when the head alone cannot tell (possibly DICOM without preamble).
    """
    if head[128:132] == b"DICM":
        return "dicom"
    return raster_format(head)


def sniff_format(path: str | os.PathLike[str]) -> str | None:
    """Say what a file holds, from its first bytes (never its name).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    str or None
        ``"dicom"`` (DICM marker at byte 128, or a data set without preamble that parses and
        holds image-like elements), ``"png"``, ``"pgm"`` or ``"tiff"``, or None for anything
        else (text, JSON, unreadable files, anything but a regular file). At most
        ``HEADER_PARSE_BYTES`` of the file are read.
    """
    try:
        head = read_head(path, HEADER_PARSE_BYTES)
    except (OSError, ValueError):  # unreadable, or not a regular file (NotDicomError)
        return None
    kind = format_from_head(head[:HEADER_BYTES])
    if kind is not None:
        return kind
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(io.BytesIO(head), force=True, stop_before_pixels=True,
                                 specific_tags=list(IMAGE_KEYWORDS))
    except Exception:  # anything unparseable is simply "not DICOM" here
        return None
    return "dicom" if any(keyword in ds for keyword in IMAGE_KEYWORDS) else None
