"""Find the files to analyse and plan them into studies, from headers only (no pixels)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

from mammo_cv.io import DICOM_SUFFIXES
from mammo_cv.io.limits import special_file_kind
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


def _skip_reason(path: Path, *, take_raster: bool) -> tuple[str | None, str | None]:
    """(kind, None) when a file found in a folder is taken, (kind, reason) when it is skipped.

    Only regular files are opened (``mammo_cv.io.limits``): a device, FIFO or socket is
    skipped unopened. A file that cannot be stat'ed or read is taken, to be reported.
    """
    try:
        special = special_file_kind(path)
    except OSError:
        return None, None  # dangling symlink, permission denied: analysis reports it
    if special is not None:
        return None, f"{special}, not a regular file: never opened"
    if not os.access(path, os.R_OK):
        return None, None
    kind = sniff_format(path)
    if kind == "dicom" or (kind is not None and take_raster) or path.name.lower().endswith(DICOM_SUFFIXES):
        return kind, None
    if kind is not None:
        return kind, f"a {kind.upper()} image: raster files are taken only with a pixel spacing"
    return kind, "content is neither DICOM nor PNG, PGM or TIFF"


def discover_inputs(inputs: Sequence[str | os.PathLike[str]], *,
                    take_raster: bool) -> tuple[list[InputFile], list[dict[str, str]]]:
    """Expand files and folders (recursively) into the files to analyse, sorted by path.

    Files named directly are always taken (a bad one, a FIFO or device included, is reported
    as an error). Inside folders a file is taken when its content is DICOM, or PGM/PNG/TIFF
    when ``take_raster``, or its name ends in ``.dcm``, ``.dicom`` or ``.dic`` (whatever it
    holds), or it cannot be read (so that it is reported); other files (sidecars, notes) and
    anything that is not a regular file (devices, FIFOs, sockets, symlinks to them) are
    listed as skipped with the reason. Nothing but regular files is opened, so nothing
    blocks. A file reached twice is taken once.

    Returns
    -------
    files : list of InputFile
        Sorted by path.
    skipped : list of dict
        ``{"path": str, "reason": str}`` for each file inside a folder that was not taken,
        sorted by path.

    Raises
    ------
    FileNotFoundError
        If an INPUT does not exist.
    """
    found: dict[str, InputFile] = {}
    skipped: list[dict[str, str]] = []
    for item in inputs:
        root = Path(item)
        if root.is_dir():
            for path in sorted(p for p in root.rglob("*") if not p.is_dir()):
                kind, reason = _skip_reason(path, take_raster=take_raster)
                if reason is None:
                    found.setdefault(os.path.abspath(path), InputFile(path, path.relative_to(root).as_posix(), kind))
                else:
                    skipped.append({"path": str(path), "reason": reason})
        elif root.exists() or root.is_symlink():
            kind = sniff_format(root)  # None for a special file: analysis refuses it unopened
            found.setdefault(os.path.abspath(root), InputFile(root, root.name, kind))
        else:
            raise FileNotFoundError(f"{root}: no such file or folder")
    return sorted(found.values(), key=lambda f: str(f.path)), sorted(skipped, key=lambda entry: entry["path"])


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
