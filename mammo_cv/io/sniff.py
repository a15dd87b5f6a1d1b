"""Recognise mammogram files by their content, for folder walks."""

from __future__ import annotations

import os
import warnings

import pydicom

from mammo_cv.io.raster import raster_format

__all__ = ["sniff_format"]

# Elements of which at least one must parse for preamble-less bytes to count as DICOM.
_IMAGE_KEYWORDS = ("SOPClassUID", "Rows", "PixelData", "Modality")


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
        else (text, JSON, unreadable files).
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(132)
    except OSError:
        return None
    if head[128:132] == b"DICM":
        return "dicom"
    kind = raster_format(head)
    if kind is not None:
        return kind
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path, force=True, stop_before_pixels=True,
                                 specific_tags=list(_IMAGE_KEYWORDS))
    except Exception:  # anything unparseable is simply "not DICOM" here
        return None
    return "dicom" if any(keyword in ds for keyword in _IMAGE_KEYWORDS) else None
