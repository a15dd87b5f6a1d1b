"""Pixel Data -> stored integer array of one frame, with the fastest installed decoder.

JPEG 2000 dominates the load time of compressed mammograms (about 1.5 s for a 4096 x 3328
lossless frame with one thread). When imagecodecs is installed, its OpenJPEG build decodes
with several threads (``numthreads``); otherwise, and for anything it cannot return exactly
as pydicom would (signed data, sample values above Bits Stored, an unexpected shape or
dtype), pydicom's own plugins (pylibjpeg-openjpeg) decode the frame. Every other transfer
syntax goes through pydicom.
"""

from __future__ import annotations

import os

import numpy as np
from pydicom.dataset import Dataset
from pydicom.encaps import get_frame
from pydicom.pixels import pixel_array
from pydicom.uid import UID

from mammo_cv.io.limits import check_j2k_codestream, check_rle_frame

__all__ = ["JPEG2000_SYNTAXES", "RLE_SYNTAX", "available_threads", "decode_frame"]

RLE_SYNTAX = "1.2.840.10008.1.2.5"

# JPEG 2000 Image Compression (Lossless Only), JPEG 2000 Image Compression, and the
# High-Throughput JPEG 2000 syntaxes (lossless, RPCL lossless, lossy), PS3.5 Table A-1.
JPEG2000_SYNTAXES = frozenset({
    "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91",
    "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202", "1.2.840.10008.1.2.4.203",
})


def available_threads() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _imagecodecs_jpeg2k():
    """imagecodecs' JPEG 2000 decoder, or None when it is not installed or not built in."""
    try:
        import imagecodecs
    except ImportError:
        return None
    if not getattr(getattr(imagecodecs, "JPEG2K", None), "available", False):
        return None
    return imagecodecs.jpeg2k_decode


def _check_frame(ds: Dataset, index: int | None, path: str) -> None:
    """Check a JPEG 2000 or RLE frame's own header against Rows, Columns and BitsAllocated."""
    syntax = str(ds.file_meta.TransferSyntaxUID)
    if syntax not in JPEG2000_SYNTAXES and syntax != RLE_SYNTAX:
        return
    n_frames = int(ds.get("NumberOfFrames") or 1)
    frame = get_frame(ds.PixelData, index or 0, number_of_frames=n_frames)
    bits_allocated = int(ds.BitsAllocated)
    if syntax == RLE_SYNTAX:
        check_rle_frame(frame, bits_allocated=bits_allocated, path=path)
    else:
        check_j2k_codestream(frame, rows=int(ds.Rows), cols=int(ds.Columns), bits_allocated=bits_allocated,
                             path=path)


def decode_frame(ds: Dataset, index: int | None, *, threads: int | None = None,
                 path: str = "<in-memory data set>") -> np.ndarray:
    """Decode one frame of ``ds`` as stored integers.

    Parameters
    ----------
    ds : Dataset
        A validated image data set (one grey sample, 8 or 16 bits allocated).
    index : int or None
        0-based frame of a multi-frame data set; None for a single-frame one.
    threads : int, optional
        Threads for the JPEG 2000 decoder; default: every CPU available to the process.
    path : str
        The file, for error messages.

    Returns
    -------
    (Rows, Columns) ndarray of uint8, uint16, int8 or int16
        As ``pydicom.pixels.pixel_array`` returns it (unused high bits cleared).

    Raises
    ------
    CorruptPixelDataError
        A JPEG 2000 SIZ marker or an RLE header that disagrees with the data set, checked
        before the decoder allocates anything.
    BaseException
        Whatever the decoder raises on bad data; the caller wraps it.
    """
    _check_frame(ds, index, path)
    syntax = UID(ds.file_meta.TransferSyntaxUID)
    decode_j2k = _imagecodecs_jpeg2k() if str(syntax) in JPEG2000_SYNTAXES else None
    if decode_j2k is not None and int(ds.get("PixelRepresentation", 0)) == 0:
        n_frames = int(ds.get("NumberOfFrames") or 1)
        codestream = get_frame(ds.PixelData, index or 0, number_of_frames=n_frames)
        stored = decode_j2k(codestream, numthreads=threads or available_threads())
        bits_allocated = int(ds.BitsAllocated)
        bits_stored = int(ds.get("BitsStored", bits_allocated))
        if (stored.shape == (int(ds.Rows), int(ds.Columns))
                and stored.dtype == np.dtype(f"uint{bits_allocated}")
                and int(stored.max()) < (1 << bits_stored)):
            return stored
        del stored  # precision or layout pydicom corrects for: let it decode
    return pixel_array(ds, index=index)
