"""The DICOM objects written for one analysed image (``--dicom``), as datasets or as Part 10 bytes."""

from __future__ import annotations

import io
import os

import pydicom
from pydicom.dataset import Dataset

from mammo_cv.io.sniff import sniff_format
from mammo_cv.pacs.part10 import part10_bytes
from mammo_cv.pacs.seg import build_segmentation
from mammo_cv.pacs.sr import build_cad_sr

__all__ = ["OBJECT_KINDS", "decode_object", "dicom_objects", "encoded_objects", "read_source_header"]

# File-name suffix of each object that dicom_objects returns, in the same order.
OBJECT_KINDS = ("seg", "sr")


def dicom_objects(source: Dataset, result, *, config) -> list[Dataset]:
    """The objects a PACS files with the source image: the calcification Segmentation and the
    Mammography CAD SR.

    Parameters
    ----------
    source : pydicom.Dataset
        Header of the analysed image (pixel data not needed).
    result : mammo_cv.pipeline.Result
        Its findings, with the final labels (after the study context).
    config : Config
        The run's settings; their digest fixes the objects' UIDs.

    Returns
    -------
    list of pydicom.Dataset
        One object per entry of :data:`OBJECT_KINDS`, in that order.
    """
    calc_labels = dict(zip(map(int, result.calc_table["calc_id"]), map(str, result.calc_table["label"])))
    return [build_segmentation(source, result.label_image, calc_labels, config_digest=config.digest()),
            build_cad_sr(source, result, config=config)]


def encoded_objects(source: Dataset, result, *, config) -> tuple[tuple[str, bytes], ...]:
    """:func:`dicom_objects` as ``(kind, Part 10 file bytes)`` pairs, kinds from :data:`OBJECT_KINDS`."""
    return tuple(zip(OBJECT_KINDS, map(part10_bytes, dicom_objects(source, result, config=config)), strict=True))


def decode_object(data: bytes) -> Dataset:
    """A Part 10 file's bytes (from :func:`encoded_objects`) as a dataset."""
    return pydicom.dcmread(io.BytesIO(data))


def read_source_header(path: str | os.PathLike[str]) -> Dataset | None:
    """The header of a DICOM file (no pixel data), or None for a raster file (no DICOM objects)."""
    if sniff_format(path) != "dicom":
        return None
    return pydicom.dcmread(path, stop_before_pixels=True, force=True)
