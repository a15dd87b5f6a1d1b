"""Checks that bound what reading a file can cost, made before any large read or decode.

* :func:`check_regular_file`: only regular files are opened (symlinks resolved), so a
  device (``/dev/zero``), FIFO or socket never blocks or streams forever.
* :func:`inflated_size_within`: a Deflated Explicit VR Little Endian data set is inflated
  incrementally and refused past a byte cap, before pydicom inflates it whole.
* :func:`check_j2k_codestream` and :func:`check_rle_frame`: the JPEG 2000 SIZ marker and
  the RLE header of a frame must agree with Rows, Columns and the bit depth of the header,
  so that a decoder never allocates for a size the header did not promise.
"""

from __future__ import annotations

import os
import stat
import struct
import zlib

from mammo_cv.core.errors import CorruptPixelDataError, ImageTooLargeError, NotDicomError

__all__ = ["HEADER_BYTES", "check_regular_file", "check_j2k_codestream", "check_rle_frame",
           "inflated_size_within"]

# Bytes read from the head of a file to recognise its format.
HEADER_BYTES = 132

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
    NotDicomError
        A device, FIFO, socket or folder: never opened, so it cannot block.
    """
    kind = special_file_kind(path)
    if kind is not None:
        raise NotDicomError(os.fspath(path), f"{kind}, not a regular file: refused without opening it")


def inflated_size_within(data: bytes, *, offset: int, limit: int, path: str) -> None:
    """Inflate the raw Deflate stream ``data[offset:]`` in 1 MiB steps and raise past ``limit`` bytes.

    Parameters
    ----------
    data : bytes
        The whole file.
    offset : int
        Byte where the deflated data set starts (after the file meta information).
    limit : int
        Largest inflated size accepted, in bytes.

    Raises
    ------
    ImageTooLargeError
        The data set inflates beyond ``limit`` (a Deflate bomb).
    """
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    pending, total = memoryview(data)[offset:], 0
    while not inflater.eof:
        try:
            chunk = inflater.decompress(pending, 1 << 20)
        except zlib.error:
            return  # a damaged stream: the parser reports it
        total += len(chunk)
        if total > limit:
            raise ImageTooLargeError(
                path, f"Deflated data set inflates beyond {limit} bytes (the cap derived from max_pixels)")
        pending = inflater.unconsumed_tail
        if not chunk and not pending:
            return


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
