"""Header pre-reads for batch planning: which study a file belongs to, and its instance UID.

A batch groups its inputs into studies before any pixel is decoded, so that one work unit
holds both breasts of a study (the classifier uses the other breast as context). Only the
few header elements needed are parsed (``stop_before_pixels``), so planning a folder of
thousands of DICOMs costs milliseconds per file.

The study key is the Study Instance UID, else Patient ID + Study Date. Patient ID is
protected health information, so the key is a one-way hash: it groups files and is written
as ``study_key`` in ``images.csv`` and ``breasts.csv``, never the UID, ID or date it
hashes. Raster files and files whose header cannot be read are their own study.
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from dataclasses import dataclass

import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import DeflatedExplicitVRLittleEndian

from mammo_cv.io.limits import (
    DEFAULT_MAX_PIXELS,
    HEADER_PARSE_BYTES,
    check_deflate_bomb,
    open_regular,
    read_head,
)

__all__ = ["HeaderKeys", "read_header_keys"]

_KEYWORDS = ["SOPInstanceUID", "StudyInstanceUID", "PatientID", "StudyDate"]

_DEFLATED_SYNTAX_BYTES = str(DeflatedExplicitVRLittleEndian).encode()
# Bytes of the preamble and file meta information searched for the transfer syntax.
_META_BYTES = 4096


@dataclass(frozen=True)
class HeaderKeys:
    """What planning needs from one file's header.

    Attributes
    ----------
    sop_instance_uid : str or None
        SOP Instance UID (0008,0018), the basis of ``image_id``; None for raster or
        unreadable files.
    study_key : str
        Opaque grouping key: files with the same key are analysed together. A one-way hash
        (it may be derived from the Patient ID), so it may be written to outputs.
    """

    sop_instance_uid: str | None
    study_key: str


def _hashed(*parts: str) -> str:
    """A 24-hex-digit SHA-256 of the parts; any str, file names with undecodable bytes
    (surrogate escapes) included, hashes as its file-system bytes."""
    return hashlib.sha256(b"\x00".join(os.fsencode(part) for part in parts)).hexdigest()[:24]


def _header(path: str | os.PathLike[str]) -> Dataset:
    """The planning elements of a file's header, parsing at most ``HEADER_PARSE_BYTES``.

    A Deflated data set cannot be parsed from its head: it is read whole, and only once
    :func:`check_deflate_bomb` has passed it.
    """
    head = read_head(path, HEADER_PARSE_BYTES)
    deflated = _DEFLATED_SYNTAX_BYTES in head[:_META_BYTES]
    if deflated:
        check_deflate_bomb(os.fspath(path), max_pixels=DEFAULT_MAX_PIXELS)
    with warnings.catch_warnings(), (open_regular(path) if deflated else io.BytesIO(head)) as source:
        warnings.simplefilter("ignore")  # the full read reports problems; planning only groups
        return pydicom.dcmread(source, force=True, stop_before_pixels=True, specific_tags=_KEYWORDS)


def read_header_keys(path: str | os.PathLike[str], *, is_dicom: bool) -> HeaderKeys:
    """Read the instance UID and the study key of one file, without its pixel data.

    Parameters
    ----------
    path : str or os.PathLike
    is_dicom : bool
        False for raster files: they carry no header and are their own study.

    Returns
    -------
    HeaderKeys
        A file whose header cannot be parsed (it will fail later, with its own error) or
        that has neither a Study Instance UID nor a Patient ID is its own study.
    """
    own_study = HeaderKeys(None, "file:" + _hashed(os.path.abspath(os.fspath(path))))
    if not is_dicom:
        return own_study
    try:
        ds = _header(path)
        values = {keyword: str(ds.get(keyword) or "").strip() for keyword in _KEYWORDS}
    except Exception:  # unreadable here is unreadable later: analysis reports the reason
        return own_study
    sop = values["SOPInstanceUID"] or None
    if values["StudyInstanceUID"]:
        return HeaderKeys(sop, "study:" + _hashed(values["StudyInstanceUID"]))
    if values["PatientID"]:
        return HeaderKeys(sop, "patient-date:" + _hashed(values["PatientID"], values["StudyDate"]))
    return HeaderKeys(sop, own_study.study_key)
