"""Exceptions for bad input. Every message names the file and, where relevant, the tag."""

from __future__ import annotations

__all__ = [
    "MammoInputError",
    "NotDicomError",
    "NoPixelDataError",
    "UnsupportedTransferSyntaxError",
    "NotMammogramError",
    "MissingSpacingError",
    "ImageTooLargeError",
    "CorruptPixelDataError",
    "NoBreastFoundError",
    "PROPAGATED",
]

# Exceptions that are never an input's fault: a guard that catches ``BaseException`` (to
# catch a native decoder's panic) re-raises these unchanged.
PROPAGATED = (KeyboardInterrupt, SystemExit, GeneratorExit)


class MammoInputError(ValueError):
    """Base class: an input file or image that mammo_cv cannot analyse.

    Parameters
    ----------
    path : str or None
        The offending file, or None for in-memory input.
    problem : str
        What is wrong, naming the DICOM tag where one is involved.
    """

    def __init__(self, path: str | None, problem: str) -> None:
        self.path = None if path is None else str(path)
        self.problem = problem
        where = self.path if self.path is not None else "<in-memory image>"
        super().__init__(f"{where}: {problem}")

    def __reduce__(self):  # keep picklable across worker processes
        return (type(self), (self.path, self.problem))


class NotDicomError(MammoInputError):
    """The file is neither a parseable DICOM dataset nor a supported raster image."""


class NoPixelDataError(MammoInputError):
    """The dataset has no Pixel Data (7FE0,0010)."""


class UnsupportedTransferSyntaxError(MammoInputError):
    """No installed decoder handles the transfer syntax; the message names the package."""


class NotMammogramError(MammoInputError):
    """Not a single-frame, single-channel 2-D image (RGB, multi-frame, non-image SOP class...)."""


class MissingSpacingError(MammoInputError):
    """No pixel spacing in the file and none given; the message says what to pass."""


class ImageTooLargeError(MammoInputError):
    """Rows x Columns beyond the configured limit, refused before any large allocation."""


class CorruptPixelDataError(MammoInputError):
    """Pixel data shorter or longer than Rows x Columns x BitsAllocated say, or undecodable."""


class NoBreastFoundError(MammoInputError):
    """The image holds no breast (blank, constant, too small or not a mammogram)."""
