"""What the DICOM objects take from the analysed image, checked before it is copied."""

from __future__ import annotations

from pydicom.dataset import Dataset

from mammo_cv.core.errors import MammoInputError

_ORIENTATION_LETTERS = set("LRAPHF")
_IDENTITY = (("SOPClassUID", "(0008,0016)"), ("SOPInstanceUID", "(0008,0018)"),
             ("StudyInstanceUID", "(0020,000D)"), ("SeriesInstanceUID", "(0020,000E)"))


class DicomSourceError(MammoInputError):
    """The source cannot carry DICOM results: a UID is missing, or it is not the analysed image."""


def check_source(source: Dataset, sop_instance_uid: str | None) -> None:
    """Raise :class:`DicomSourceError` unless ``source`` has its four UIDs and is the analysed image.

    Parameters
    ----------
    source : pydicom.Dataset
        The image the objects will reference.
    sop_instance_uid : str or None
        SOP Instance UID of the image that was analysed (``result.image.sop_instance_uid``).
    """
    path = getattr(source, "filename", None)
    path = path if isinstance(path, str) else None
    missing = [f"{keyword} {tag}" for keyword, tag in _IDENTITY if not source.get(keyword)]
    if missing:
        raise DicomSourceError(path, f"has no {', '.join(missing)}: the SR and SEG reference their source by it")
    if sop_instance_uid is not None and sop_instance_uid != source.SOPInstanceUID:
        raise DicomSourceError(path, f"SOP Instance UID (0008,0018) {source.SOPInstanceUID} is not that of the "
                                     f"analysed image ({sop_instance_uid})")


def patient_orientation(source: Dataset) -> list[str]:
    """The source's Patient Orientation when it is two valid values (PS3.3 C.7.6.1.1.1), else [].

    Film exports put the view there (``"CC"``, ``"MLO"``), which a new object must not repeat.

    Examples
    --------
    >>> ds = Dataset()
    >>> ds.PatientOrientation = ["A", "FR"]
    >>> patient_orientation(ds)
    ['A', 'FR']
    >>> ds.PatientOrientation = "CC"
    >>> patient_orientation(ds)
    []
    """
    values = [str(value) for value in (source.get("PatientOrientation") or [])]
    if len(values) == 2 and all(value and set(value) <= _ORIENTATION_LETTERS for value in values):
        return values
    return []
