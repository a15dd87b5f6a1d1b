"""Checks that bound what reading a file can cost, made before any large read or decode.

* :func:`check_regular_file` and :func:`open_regular`: only regular files are opened
  (symlinks resolved), so a device (``/dev/zero``), FIFO or socket never blocks or streams
  forever; :func:`read_head` reads at most a given number of bytes of one.
* :func:`check_deflate_bomb`: a Deflated Explicit VR Little Endian data set is inflated
  incrementally and refused past a byte cap, before pydicom inflates it whole.
* :func:`check_j2k_codestream` and :func:`check_rle_frame`: the JPEG 2000 SIZ marker and
  the RLE header of a frame must agree with Rows, Columns and the bit depth of the header,
  so that a decoder never allocates for a size the header did not promise.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import struct
import zlib
from typing import BinaryIO

from pydicom.filereader import _read_file_meta_info, read_preamble
from pydicom.uid import DeflatedExplicitVRLittleEndian

from mammo_cv.core.errors import CorruptPixelDataError, ImageTooLargeError, NotDicomError

__all__ = ["DEFAULT_MAX_PIXELS", "HEADER_BYTES", "HEADER_PARSE_BYTES", "check_deflate_bomb",
           "check_regular_file", "check_j2k_codestream", "check_rle_frame", "deflate_cap", "inflated_size_within",
           "open_regular", "read_head", "special_file_kind"]

# 80 Mpx: well above the largest full-field mammography detectors (about 4096 x 5200,
# 21 Mpx, and 7 Mpx x 3 for some tomosynthesis projections), far below what exhausts RAM
# (80 Mpx as float32 is 320 MB).
DEFAULT_MAX_PIXELS = 80_000_000

# Bytes read from the head of a file to recognise its format.
HEADER_BYTES = 132

# Bytes of a file that header pre-reads (format sniffing, study keys) parse at most: the
# elements they need (group 0008 to 0020) come in the first kilobytes of a data set.
HEADER_PARSE_BYTES = 4 << 20

# Bytes a data set may hold besides its pixels (header elements, overlays, private tags).
_HEADER_ALLOWANCE = 64 << 20

_KINDS = {stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFSOCK: "a socket", stat.S_IFDIR: "a folder"}


def special_file_kind(path: str | os.PathLike[str]) -> str | None:
    """What a non-regular file is (``"a FIFO (named pipe)"``...), None for a regular file.

    Symlinks are followed. Raises ``FileNotFoundError`` for a missing file or a dangling link.
    """
    mode = os.stat(path).st_mode
    return None if stat.S_ISREG(mode) else _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def check_regular_file(path: str | os.PathLike[str]) -> None:
    """Raise ``NotDicomError`` unless ``path`` (symlinks resolved) is a regular file.

    Raises
    ------
    FileNotFoundError
        Missing file or dangling symlink.
    IsADirectoryError
        A folder.
    NotDicomError
        A device, FIFO or socket: never opened, so it cannot block.
    """
    kind = special_file_kind(path)
    if kind == _KINDS[stat.S_IFDIR]:
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), os.fspath(path))
    if kind is not None:
        raise NotDicomError(os.fspath(path), f"{kind}, not a regular file: refused without opening it")


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """Open a regular file for binary reading, never blocking on anything else.

    The path is checked with ``stat`` first (:func:`check_regular_file`), then opened with
    ``O_NONBLOCK`` and checked again with ``fstat``, so a file swapped for a FIFO in between
    is refused too.

    Raises
    ------
    FileNotFoundError, PermissionError
        As ``open`` raises them.
    NotDicomError
        Not a regular file.
    """
    check_regular_file(path)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotDicomError(os.fspath(path), "not a regular file once opened: refused")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        raw = io.FileIO(fd, "rb")
        raw.name = os.fspath(path)  # type: ignore[misc]  # pydicom's messages name the file
        return io.BufferedReader(raw)
    except BaseException:
        os.close(fd)
        raise


def read_head(path: str | os.PathLike[str], n_bytes: int) -> bytes:
    """The first ``n_bytes`` (or fewer) bytes of a regular file (see :func:`open_regular`)."""
    with open_regular(path) as handle:
        return handle.read(n_bytes)


def deflate_cap(max_pixels: int) -> int:
    """Largest inflated size of a Deflated data set, in bytes: ``max_pixels`` 16-bit pixels
    plus 64 MiB for the other elements."""
    return 2 * max_pixels + _HEADER_ALLOWANCE


def inflated_size_within(handle: BinaryIO, *, limit: int, path: str) -> None:
    """Inflate the raw Deflate stream from ``handle``'s position in 1 MiB steps, keeping
    nothing, and raise once it passes ``limit`` bytes.

    Parameters
    ----------
    handle : binary file
        Positioned where the deflated data set starts (after the file meta information).
    limit : int
        Largest inflated size accepted, in bytes.

    Raises
    ------
    ImageTooLargeError
        The data set inflates beyond ``limit`` (a Deflate bomb).
    """
    inflater, total, step = zlib.decompressobj(-zlib.MAX_WBITS), 0, 1 << 20
    while not inflater.eof:
        pending = inflater.unconsumed_tail or handle.read(step)
        if not pending:
            return  # a truncated stream: the parser reports it
        try:
            total += len(inflater.decompress(pending, step))
        except zlib.error:
            return  # a damaged stream: the parser reports it
        if total > limit:
            raise ImageTooLargeError(
                path, f"Deflated data set inflates beyond {limit} bytes (the cap derived from max_pixels)")


def check_deflate_bomb(path: str, *, max_pixels: int) -> None:
    """Refuse a Deflated Explicit VR Little Endian file that inflates beyond
    :func:`deflate_cap` (``max_pixels``), before anything inflates it whole.

    Raises
    ------
    ImageTooLargeError
        A Deflate bomb. Files of any other transfer syntax, or without readable file meta
        information, pass (the parser reports them).
    """
    with open_regular(path) as handle:
        try:
            read_preamble(handle, True)
            syntax = _read_file_meta_info(handle).get("TransferSyntaxUID")  # values convert lazily
        except Exception:  # noqa: BLE001 - no readable meta: the parser reports the problem
            return
        if syntax == DeflatedExplicitVRLittleEndian:
            inflated_size_within(handle, limit=deflate_cap(max_pixels), path=path)


def _siz(codestream: bytes) -> tuple[int, int, int, list[int]] | None:
    """(width, height, components, bit depths) from a SIZ marker near the start, None if absent."""
    start = codestream.find(b"\xff\x4f\xff\x51", 0, 4096)
    if start < 0 or len(codestream) < start + 42:
        return None
    xsiz, ysiz, x0, y0 = struct.unpack(">4I", codestream[start + 8:start + 24])
    n_components = struct.unpack(">H", codestream[start + 40:start + 42])[0]
    depths = [(codestream[start + 42 + 3 * i] & 0x7F) + 1
              for i in range(n_components) if start + 42 + 3 * i < len(codestream)]
    return xsiz - x0, ysiz - y0, n_components, depths


def check_j2k_codestream(codestream: bytes, *, rows: int, cols: int, bits_allocated: int, path: str) -> None:
    """Refuse a JPEG 2000 frame whose SIZ marker disagrees with the header.

    Raises
    ------
    CorruptPixelDataError
        No SIZ marker, or its size (columns x rows), component count or bit depth differs
        from Columns (0028,0011), Rows (0028,0010), one sample, BitsAllocated (0028,0100).
    """
    siz = _siz(codestream)
    if siz is None:
        raise CorruptPixelDataError(path, "JPEG 2000 frame has no SIZ marker at its start")
    width, height, n_components, depths = siz
    if (width, height) != (cols, rows) or n_components != 1 or any(d > bits_allocated for d in depths):
        raise CorruptPixelDataError(
            path, f"JPEG 2000 SIZ marker says {width} x {height} px, {n_components} component(s), "
            f"{max(depths, default=0)} bits; the header says Columns x Rows (0028,0011)/(0028,0010) "
            f"{cols} x {rows}, 1 sample, BitsAllocated (0028,0100) {bits_allocated}")


def check_rle_frame(frame: bytes, *, bits_allocated: int, path: str) -> None:
    """Refuse an RLE Lossless frame whose 64-byte header is inconsistent (PS3.5 G.5).

    Raises
    ------
    CorruptPixelDataError
        The segment count is not BitsAllocated / 8, the first offset is not 64, or the
        offsets do not increase inside the frame.
    """
    if len(frame) < 64:
        raise CorruptPixelDataError(path, f"RLE frame of {len(frame)} bytes is shorter than its 64-byte header")
    header = struct.unpack("<16I", frame[:64])
    n_segments, offsets = header[0], list(header[1:1 + min(header[0], 15)])
    expected = bits_allocated // 8
    ends = offsets[1:] + [len(frame)]
    if (n_segments != expected or offsets[0] != 64
            or any(not start < end <= len(frame) for start, end in zip(offsets, ends))):
        raise CorruptPixelDataError(
            path, f"RLE header lists {n_segments} segment(s) at offsets {offsets} in a {len(frame)}-byte "
            f"frame; expected {expected} increasing segment(s) starting at byte 64")
