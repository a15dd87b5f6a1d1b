"""Raster files (PGM, PNG, TIFF) -> ``MammoImage``, with the spacing given by the caller.

Formats are recognised by their magic bytes, never by the file name. The image size is
read from the header and checked against ``max_pixels`` before OpenCV decodes anything.
"""

from __future__ import annotations

import re
import struct

import cv2
import numpy as np

from mammo_cv.core.errors import CorruptPixelDataError, ImageTooLargeError, NotMammogramError
from mammo_cv.core.types import Laterality, MammoImage, PresentationIntent, View

__all__ = ["raster_format", "raster_shape", "read_raster"]

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_TIFF_MAGICS = (b"II*\x00", b"MM\x00*")
# PGM header: magic, then width, height, maxval separated by whitespace and # comments.
_PGM_HEADER = re.compile(rb"P[25](?:\s+|#[^\n]*\n)+(\d+)(?:\s+|#[^\n]*\n)+(\d+)")


def raster_format(head: bytes) -> str | None:
    """Name of the raster format of a file from its first bytes: ``"png"``, ``"pgm"``,
    ``"tiff"``, or None when it is none of them."""
    if head.startswith(_PNG_MAGIC):
        return "png"
    if head[:4] in _TIFF_MAGICS:
        return "tiff"
    if head[:2] in (b"P5", b"P2") and head[2:3].isspace():
        return "pgm"
    return None


def _tiff_shape(data: bytes) -> tuple[int, int] | None:
    """(rows, cols) from the first IFD of a classic TIFF (tags 257 ImageLength, 256 ImageWidth)."""
    order = "<" if data[:2] == b"II" else ">"
    (offset,) = struct.unpack_from(order + "I", data, 4)
    (count,) = struct.unpack_from(order + "H", data, offset)
    size: dict[int, int] = {}
    for entry in range(count):
        tag, kind, _, value = struct.unpack_from(order + "HHI4s", data, offset + 2 + 12 * entry)
        if tag in (256, 257):
            size[tag] = struct.unpack_from(order + ("H" if kind == 3 else "I"), value)[0]
    return (size[257], size[256]) if len(size) == 2 else None


def raster_shape(data: bytes, kind: str) -> tuple[int, int] | None:
    """(rows, cols) read from the header of a PNG, PGM or TIFF file, or None if unreadable."""
    try:
        if kind == "png":
            width, height = struct.unpack_from(">II", data, 16)
            return height, width
        if kind == "pgm":
            match = _PGM_HEADER.match(data[:4096])
            return (int(match.group(2)), int(match.group(1))) if match else None
        return _tiff_shape(data)
    except struct.error:
        return None


def read_raster(path: str, data: bytes, kind: str, *, spacing_mm: tuple[float, float],
                laterality: Laterality, view: View, max_pixels: int) -> MammoImage:
    """Decode an 8- or 16-bit single-channel raster file.

    Parameters
    ----------
    path : str
        For error messages and ``source_path``.
    data : bytes
        The whole file.
    kind : {"png", "pgm", "tiff"}
        From ``raster_format``.
    spacing_mm : (float, float)
        (row, col) spacing in mm given by the caller; ``spacing_source`` is ``"argument"``.
    laterality, view : enums
    max_pixels : int
        Largest rows x cols accepted, checked on the header before decoding.

    Returns
    -------
    MammoImage
        ``pixels`` (rows, cols) float32 equal to the stored grey values (0..255 or
        0..65535), ``photometric`` ``"MONOCHROME2"`` (larger = brighter = denser, as in
        film scans), ``presentation_intent`` UNKNOWN, no display window.

    Raises
    ------
    CorruptPixelDataError
        Header unreadable or the decoder fails.
    ImageTooLargeError
        rows x cols above ``max_pixels``.
    NotMammogramError
        Colour, alpha, or a sample type other than uint8/uint16.
    """
    shape = raster_shape(data, kind)
    if shape is None or min(shape) <= 0:
        raise CorruptPixelDataError(path, f"unreadable {kind.upper()} header (image size)")
    if shape[0] * shape[1] > max_pixels:
        raise ImageTooLargeError(
            path, f"{kind.upper()} header gives {shape[0]} x {shape[1]} px, more than max_pixels={max_pixels}")
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise CorruptPixelDataError(path, f"OpenCV cannot decode this {kind.upper()} file")
    if image.ndim != 2:
        raise NotMammogramError(
            path, f"{kind.upper()} image has {image.shape[2]} channels; convert it to one grey channel")
    if image.dtype not in (np.uint8, np.uint16):
        raise NotMammogramError(path, f"{kind.upper()} samples are {image.dtype}; expected 8- or 16-bit grey")
    return MammoImage(
        pixels=image.astype(np.float32),
        spacing_mm=spacing_mm,
        spacing_source="argument",
        laterality=laterality,
        view=view,
        presentation_intent=PresentationIntent.UNKNOWN,
        photometric="MONOCHROME2",
        bits_stored=8 * image.dtype.itemsize,
        source_path=path,
    )
