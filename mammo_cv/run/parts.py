"""Per-image parts in the output folder: commit one image's outcome, read it back on resume."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mammo_cv.core.files import write_bytes_atomic
from mammo_cv.core.version import __version__
from mammo_cv.io.sniff import sniff_format
from mammo_cv.run.discovery import WorkItem
from mammo_cv.run.outcomes import ImageOutcome
from mammo_cv.tables.schemas import CALCIFICATION_CSV_COLUMNS, CLUSTER_CSV_COLUMNS, IMAGE_COLUMNS
from mammo_cv.tables.writers import part_from_json, part_to_json, write_json_atomic

__all__ = ["PARTS_DIR", "OVERLAYS_DIR", "DICOM_DIR", "ResumeMismatchError", "commit_outcome", "completed_part",
           "dicom_path", "input_fingerprint"]


PARTS_DIR = ".parts"


OVERLAYS_DIR = "overlays"


DICOM_DIR = "dicom"


class ResumeMismatchError(ValueError):
    """``--resume`` found parts written with other settings (config, rules or spacing)."""


def _part_path(out_dir: Path, image_id: str) -> Path:
    return out_dir / PARTS_DIR / f"{image_id}.json"


def input_fingerprint(path: Path) -> dict[str, int] | None:
    """What a part records of its input file: ``size`` (bytes) and ``mtime_ns``; None if it cannot be read."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def dicom_path(out_dir: Path, image_id: str, kind: str) -> Path:
    """Where an image's DICOM object of ``kind`` (``"seg"``, ``"sr"``) goes: ``DIR/dicom/<image_id>_<kind>.dcm``."""
    return out_dir / DICOM_DIR / f"{image_id}_{kind}.dcm"


def commit_outcome(out_dir: Path, outcome: ImageOutcome, *, settings: dict[str, object],
                   source: Mapping[str, int] | None) -> None:
    """Write one image's overlay and DICOM objects (if any) and then its part, each atomically:
    a part that exists is complete, and its overlay and objects are already in place. The part
    records the package version and ``source``, the input's :func:`input_fingerprint` taken
    before it was analysed."""
    image_id = str(outcome.image_row["image_id"])
    if outcome.overlay_png is not None:
        write_bytes_atomic(out_dir / OVERLAYS_DIR / f"{image_id}.png", outcome.overlay_png)
    for kind, data in outcome.dicom:
        write_bytes_atomic(dicom_path(out_dir, image_id, kind), data)
    payload = part_to_json(outcome.image_row, outcome.calcifications, outcome.clusters, settings=settings)
    payload.update(mammo_cv_version=__version__, input=None if source is None else dict(source))
    write_json_atomic(_part_path(out_dir, image_id), payload)


def _kind_ok(values: list, dtype: np.dtype) -> bool:
    """Every JSON value of a column has the type its dtype asks for (bool is not a number)."""
    if dtype.kind == "O":
        return all(isinstance(v, str) for v in values)
    kinds = (int,) if dtype.kind in "iub" else (int, float)
    return all(isinstance(v, kinds) and not isinstance(v, bool) for v in values)


def _schema_ok(payload: Mapping[str, object]) -> bool:
    """The part's row and tables hold values of their columns' types, and each table's columns one length."""
    row = payload["image"]
    if not isinstance(row, dict) or not all(_kind_ok([row.get(name)], dtype) for name, dtype in IMAGE_COLUMNS.items()):
        return False
    if row["status"] not in ("ok", "error"):
        return False
    for name, columns in (("calcifications", CALCIFICATION_CSV_COLUMNS), ("clusters", CLUSTER_CSV_COLUMNS)):
        table = payload[name]
        if not isinstance(table, dict) or not all(isinstance(table.get(c), list) for c in columns):
            return False
        if len({len(table[c]) for c in columns}) > 1 or not all(_kind_ok(table[c], d) for c, d in columns.items()):
            return False
    return True


def completed_part(out_dir: Path, item: WorkItem, *, settings: dict[str, object],
                   overlay: bool = False, dicom_kinds: tuple[str, ...] = (),
                   current: bool = True) -> ImageOutcome | None:
    """The committed outcome of ``item``, or None when it must be redone: it has no part, or
    one that does not hold its schema's values, or was made by another mammo_cv version or from
    the input file at another size or modification time, or (with ``overlay``) an analysed
    image has no overlay PNG (an earlier run had ``--no-overlays``), or an analysed DICOM file
    lacks one of its ``dicom_kinds`` objects (it had no ``--dicom``). ``current=False`` skips
    the input check (reading back this run's parts, whose inputs may have changed meanwhile).

    Raises
    ------
    ResumeMismatchError
        If the part was written with other settings (config digest, pixel spacing).
    """
    path = _part_path(out_dir, item.image_id)
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        if not _schema_ok(payload):
            return None
        row, calcs, clusters = part_from_json(payload)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # absent or not a complete part of this schema: the image is redone
    if payload.get("settings") != settings:
        raise ResumeMismatchError(
            f"{path}: made with settings {payload.get('settings')}, but this run has {settings}; "
            "resume with the same --rules and --pixel-spacing, or write to a new --out folder")
    if row["source_path"] != str(item.path) or payload.get("mammo_cv_version") != __version__:
        return None  # another file now has this id, or another version made it: redo it
    if current and payload.get("input") != input_fingerprint(item.path):
        return None  # the input changed in place since it was analysed
    if overlay and row["status"] == "ok" and not (out_dir / OVERLAYS_DIR / f"{item.image_id}.png").is_file():
        return None
    if dicom_kinds and row["status"] == "ok" and sniff_format(item.path) == "dicom" and not all(
            dicom_path(out_dir, item.image_id, kind).is_file() for kind in dicom_kinds):
        return None
    return ImageOutcome(row, calcs, clusters)
