"""Atomic file writes: a file appears complete or not at all.

The bytes go to a temporary file in the destination's folder (same file system, so the rename
is atomic), which ``os.replace`` then renames over the destination. A reader never sees a
partial file, and a failed write leaves no temporary file behind. The temporary name is
``.<name>.<pid>.tmp``, so two processes writing the same file do not share one, and it is
created with the usual permissions (``tempfile`` would make it private).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["write_bytes_atomic", "write_text_atomic"]


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file, then ``os.replace``).

    Parameters
    ----------
    path : str or path-like
        Destination; its folder must exist. An existing file is replaced.
    data : bytes

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> write_bytes_atomic(folder / "a.bin", b"\\x00\\x01").read_bytes()
    b'\\x00\\x01'
    >>> [p.name for p in folder.iterdir()]
    ['a.bin']
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def write_text_atomic(path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically, encoded as ``encoding``; ``"\\n"`` stays ``"\\n"``
    on every platform, so the same text always gives the same bytes. Surrogate escapes (the
    undecodable bytes of a file name, as ``os.fsdecode`` gives them) are written back as
    those bytes, so a path in a table reads back, with ``errors="surrogateescape"``, as the
    same path.

    Parameters
    ----------
    path : str or path-like
        Destination; its folder must exist. An existing file is replaced.
    text : str
    encoding : str

    Returns
    -------
    Path
        ``path``.
    """
    return write_bytes_atomic(path, text.encode(encoding, errors="surrogateescape"))
