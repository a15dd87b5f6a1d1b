"""Per-image parts in the output folder: commit one image's outcome, read it back on resume."""

from __future__ import annotations

import json
from pathlib import Path

from mammo_cv.core.files import write_bytes_atomic
from mammo_cv.io.sniff import sniff_format
from mammo_cv.run.discovery import WorkItem
from mammo_cv.run.outcomes import ImageOutcome
from mammo_cv.tables.writers import part_from_json, part_to_json, write_json_atomic

__all__ = ["PARTS_DIR", "OVERLAYS_DIR", "DICOM_DIR", "ResumeMismatchError", "commit_outcome", "completed_part",
           "dicom_path"]


PARTS_DIR = ".parts"


OVERLAYS_DIR = "overlays"


DICOM_DIR = "dicom"


class ResumeMismatchError(ValueError):
    """``--resume`` found parts written with other settings (config, rules or spacing)."""


def _part_path(out_dir: Path, image_id: str) -> Path:
    return out_dir / PARTS_DIR / f"{image_id}.json"


def dicom_path(out_dir: Path, image_id: str, kind: str) -> Path:
    """Where an image's DICOM object of ``kind`` (``"seg"``) goes: ``DIR/dicom/<image_id>_<kind>.dcm``."""
    return out_dir / DICOM_DIR / f"{image_id}_{kind}.dcm"


def commit_outcome(out_dir: Path, outcome: ImageOutcome, *, settings: dict[str, object]) -> None:
    """Write one image's overlay and DICOM objects (if any) and then its part, each atomically:
    a part that exists is complete, and its overlay and objects are already in place."""
    image_id = str(outcome.image_row["image_id"])
    if outcome.overlay_png is not None:
        write_bytes_atomic(out_dir / OVERLAYS_DIR / f"{image_id}.png", outcome.overlay_png)
    for kind, data in outcome.dicom:
        write_bytes_atomic(dicom_path(out_dir, image_id, kind), data)
    write_json_atomic(_part_path(out_dir, image_id),
                      part_to_json(outcome.image_row, outcome.calcifications, outcome.clusters, settings=settings))


def completed_part(out_dir: Path, item: WorkItem, *, settings: dict[str, object],
                   overlay: bool = False, dicom_kinds: tuple[str, ...] = ()) -> ImageOutcome | None:
    """The committed outcome of ``item``, or None when it has no complete part (or, with
    ``overlay``, an analysed image has no overlay PNG: an earlier run had ``--no-overlays``;
    or an analysed DICOM file lacks one of its ``dicom_kinds`` objects: it had no ``--dicom``).

    Raises
    ------
    ResumeMismatchError
        If the part was written with other settings (config digest, pixel spacing).
    """
    path = _part_path(out_dir, item.image_id)
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        row, calcs, clusters = part_from_json(payload)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # absent or not a complete part of this schema: the image is redone
    if payload.get("settings") != settings:
        raise ResumeMismatchError(
            f"{path}: made with settings {payload.get('settings')}, but this run has {settings}; "
            "resume with the same --rules and --pixel-spacing, or write to a new --out folder")
    if row["source_path"] != str(item.path):
        return None  # another file now has this id: redo it
    if overlay and row["status"] == "ok" and not (out_dir / OVERLAYS_DIR / f"{item.image_id}.png").is_file():
        return None
    if dicom_kinds and row["status"] == "ok" and sniff_format(item.path) == "dicom" and not all(
            dicom_path(out_dir, item.image_id, kind).is_file() for kind in dicom_kinds):
        return None
    return ImageOutcome(row, calcs, clusters)
