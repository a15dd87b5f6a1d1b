"""What ``mammo-cv`` tells the user on stderr: failures by type with a hint, interrupts, resume counts."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = ["HINTS", "error_type", "failure_summary", "interrupted_message", "resume_message"]

# One hint per error type: what the user can do about it.
HINTS = {
    "MissingSpacingError": "(scanned films such as CBIS-DDSM carry none): pass --pixel-spacing MM",
    "NotDicomError": "(neither DICOM nor PGM/PNG/TIFF): leave such files out of INPUT",
    "NoPixelDataError": "(a DICOM without an image, e.g. a report): leave such files out of INPUT",
    "UnsupportedTransferSyntaxError": "(compressed without an installed decoder): install the package "
                                      "the error names (docs/installation.md)",
    "NotMammogramError": "(not one grey 2-D image): convert it to one grey channel, or export one frame",
    "ImageTooLargeError": "(larger than the configured max_pixels): check the file's Rows and Columns",
    "CorruptPixelDataError": "(pixel data truncated or undecodable): export the file again",
    "NoBreastFoundError": "(blank or not a mammogram): check the image",
    "PermissionError": "(not readable): check the file permissions",
    "FileNotFoundError": "(gone during the run): check the path",
    "RuntimeError": "(a worker died, e.g. out of memory): rerun with --resume and fewer --workers",
}
_DEFAULT_HINT = "see the error column of images.csv"


def error_type(error: str) -> str:
    """The exception name at the start of an ``images.csv`` ``error`` ("Name: message")."""
    return error.split(":", 1)[0].strip()


def failure_summary(images: Mapping[str, np.ndarray]) -> list[str]:
    """One line per error type among the failed rows of an ``images`` table, most frequent first.

    Each line is ``"<count> x <type> <hint>; e.g. <source_path>"``, the example being the first
    failed file of that type in path order. Empty when nothing failed.
    """
    by_type: dict[str, list[str]] = {}
    for status, error, path in zip(images["status"], images["error"], images["source_path"]):
        if status != "ok":
            by_type.setdefault(error_type(str(error)), []).append(str(path))
    return [f"{len(paths)} x {name} {HINTS.get(name, _DEFAULT_HINT)}; e.g. {paths[0]}"
            for name, paths in sorted(by_type.items(), key=lambda item: (-len(item[1]), item[0]))]


def interrupted_message(n_done: int, n_total: int) -> str:
    """The line printed on Ctrl-C: how far the run got and how to finish it."""
    return f"interrupted: {n_done} of {n_total} images done; rerun with --resume"


def resume_message(n_kept: int, n_total: int) -> str:
    """The line printed by ``--resume`` before the work starts."""
    return (f"resume: {n_kept} of {n_total} images kept from the earlier run, "
            f"{n_total - n_kept} to do (a study is redone whole if any of its images is not done)")
