"""What the DICOM objects take from the analysed image, checked before it is copied."""

from __future__ import annotations

from pydicom.dataset import Dataset

_ORIENTATION_LETTERS = set("LRAPHF")


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
