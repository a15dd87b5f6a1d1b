"""Find the files to analyse and plan them into studies, from headers only (no pixels)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

from mammo_cv.io.sniff import sniff_format
from mammo_cv.io.study_keys import read_header_keys
from mammo_cv.tables.ids import safe_id

__all__ = ["InputFile", "WorkItem", "discover_inputs", "plan_studies"]


@dataclass(frozen=True)
class InputFile:
    """One file found by :func:`discover_inputs`.

    Attributes
    ----------
    path : Path
    relative_name : str
        Path relative to the INPUT folder it was found in (the file name for a file given
        directly); the ``image_id`` of raster and header-less files is made from it.
    kind : str or None
        ``"dicom"``, ``"png"``, ``"pgm"``, ``"tiff"`` from the content, None if unknown.
    """

    path: Path
    relative_name: str
    kind: str | None


@dataclass(frozen=True)
class WorkItem:
    """One planned image: its file, its final ``image_id`` and its (opaque) study key."""

    path: Path
    image_id: str
    study_key: str


def discover_inputs(inputs: Sequence[str | os.PathLike[str]], *,
                    take_raster: bool) -> tuple[list[InputFile], list[str]]:
    """Expand files and folders (recursively) into the files to analyse, sorted by path.

    Files named directly are always taken (a bad one is reported as an error). Inside folders a
    file is taken when its content is DICOM, or PGM/PNG/TIFF when ``take_raster``, or when it
    cannot be read (so that it is reported); other files (sidecars, notes) are listed as
    skipped. A file reached twice is taken once.

    Returns
    -------
    files : list of InputFile
        Sorted by path.
    skipped : list of str
        Paths inside folders that were not taken, sorted.

    Raises
    ------
    FileNotFoundError
        If an INPUT does not exist.
    """
    found: dict[str, InputFile] = {}
    skipped: list[str] = []
    for item in inputs:
        root = Path(item)
        if root.is_dir():
            for path in sorted(p for p in root.rglob("*") if p.is_file() or p.is_symlink()):
                kind = sniff_format(path)
                # an unreadable file may well be a mammogram: it gets an error row, not silence
                if kind == "dicom" or (kind is not None and take_raster) or not os.access(path, os.R_OK):
                    found.setdefault(os.path.abspath(path), InputFile(path, path.relative_to(root).as_posix(), kind))
                else:
                    skipped.append(str(path))
        elif root.exists() or root.is_symlink():
            found.setdefault(os.path.abspath(root), InputFile(root, root.name, sniff_format(root)))
        else:
            raise FileNotFoundError(f"{root}: no such file or folder")
    return sorted(found.values(), key=lambda f: str(f.path)), sorted(skipped)


def plan_studies(files: Sequence[InputFile]) -> list[list[WorkItem]]:
    """Give each file its ``image_id`` and group the files into studies (header pre-read only).

    ``image_id`` is the SOP Instance UID, else the relative path, through :func:`safe_id`;
    repeats get ``_2``, ``_3``... in path order, compared case-insensitively so ids stay
    distinct on case-insensitive file systems.

    Returns
    -------
    list of list of WorkItem
        Studies in the order of their first file; files in path order within each.
    """
    taken: set[str] = set()
    items: list[WorkItem] = []
    for file in files:
        keys = read_header_keys(file.path, is_dicom=file.kind in ("dicom", None))
        base = safe_id(keys.sop_instance_uid or file.relative_name)
        image_id, n = base, 1
        while image_id.lower() in taken:
            n += 1
            image_id = f"{base}_{n}"
        taken.add(image_id.lower())
        items.append(WorkItem(file.path, image_id, keys.study_key))
    order = {key: index for index, key in reversed(list(enumerate(item.study_key for item in items)))}
    by_study = sorted(items, key=lambda item: order[item.study_key])  # stable: path order within
    return [list(group) for _, group in groupby(by_study, key=lambda item: item.study_key)]
