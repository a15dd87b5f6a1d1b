"""Part 10 files of the DICOM objects: their bytes, and atomic writes of them."""

from __future__ import annotations

import os
from io import BytesIO
from pathlib import Path

from pydicom.dataset import Dataset

from mammo_cv.core.files import write_bytes_atomic

__all__ = ["part10_bytes", "write_part10"]


def part10_bytes(dataset: Dataset) -> bytes:
    """``dataset`` (with its file meta) as the bytes of a Part 10 file (preamble, file meta, data set)."""
    buffer = BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def write_part10(path: str | os.PathLike[str], dataset: Dataset) -> Path:
    """Write ``dataset`` atomically to ``path`` as a Part 10 file and return the path."""
    return write_bytes_atomic(path, part10_bytes(dataset))
