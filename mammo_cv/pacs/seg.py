"""DICOM Segmentation of the calcification label image: one segment per label, on the source image."""

import os
import warnings
from pathlib import Path

import highdicom as hd
import numpy as np
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes

from mammo_cv import __version__
from mammo_cv.pacs.part10 import write_part10
from mammo_cv.pacs.source import check_source, patient_orientation
from mammo_cv.pacs.uids import derived_uid


def _segment(number: int, label: str) -> hd.seg.SegmentDescription:
    """Describe segment ``number`` holding the calcifications labelled ``label``."""
    return hd.seg.SegmentDescription(
        segment_number=number,
        segment_label=label,
        segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
        segmented_property_type=hd.sr.CodedConcept("18115005", "SCT", "Calcification"),
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
        algorithm_identification=hd.AlgorithmIdentificationSequence(
            name="mammo_cv", version=__version__, family=codes.DCM.ArtificialIntelligence),
    )


def build_segmentation(source: Dataset, label_image: np.ndarray, calc_labels: dict[int, str],
                       *, config_digest: str) -> hd.seg.Segmentation:
    """Build a binary Segmentation with one segment per calcification label.

    Parameters
    ----------
    source : pydicom.Dataset
        The analysed image (its Patient and Study modules are copied).
    label_image : (M, N) ndarray of int
        Calcification ids in the stored pixel grid of ``source``, 0 for background.
    calc_labels : dict of int to str
        Calcification id -> label (e.g. ``"punctate"``).
    config_digest : str
        Configuration digest, part of the derived UIDs.

    Returns
    -------
    highdicom.seg.Segmentation
        Segments numbered 1.. in sorted label order; empty findings give one empty "none" segment.
    """
    check_source(source, None)
    names = sorted(set(calc_labels.values())) or ["none"]
    segment_of_id = np.zeros(max([int(label_image.max()), *calc_labels]) + 1, dtype=np.uint8)
    for calc_id, label in calc_labels.items():
        segment_of_id[calc_id] = names.index(label) + 1
    masks = np.zeros((1, *label_image.shape), np.uint8)  # label map: each pixel holds its segment number
    rows = np.flatnonzero(label_image.any(axis=1))  # mostly background: look up only the rows with calcifications
    masks[0, rows] = segment_of_id[label_image[rows]]
    with warnings.catch_warnings():
        # highdicom warns on a one-component Patient's Name; it is the source's, copied as it is
        warnings.filterwarnings("ignore", message=".*unlikely to represent the intended person name",
                                category=UserWarning)
        seg = _segmentation(_explicit_default_repertoire(source), masks, names, config_digest)
    seg.PatientOrientation = patient_orientation(source) or ""
    return seg


def _explicit_default_repertoire(source: Dataset) -> Dataset:
    """``source``, or a copy of it whose multi-valued Specific Character Set names its default
    repertoire "ISO 2022 IR 6" where the source leaves the first value empty (e.g. Japanese
    "\\ISO 2022 IR 87"): the same character set (PS3.3 C.12.1.1.2), in the form highdicom accepts."""
    charset = source.get("SpecificCharacterSet")
    if charset is None or isinstance(charset, str) or charset[0]:
        return source
    named = Dataset()
    named.update(source)  # the same elements in a new dict: replacing one leaves the source as it is
    if hasattr(source, "file_meta"):
        named.file_meta = source.file_meta
    named[0x00080005] = DataElement(0x00080005, "CS", ["ISO 2022 IR 6", *charset[1:]])
    return named


def _segmentation(source: Dataset, masks: np.ndarray, names: list[str], config_digest: str) -> hd.seg.Segmentation:
    """The highdicom Segmentation of the label map ``masks`` (1, M, N), segment k+1 holding ``names[k]``."""
    uid = source.SOPInstanceUID
    return hd.seg.Segmentation(
        source_images=[source], pixel_array=masks,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[_segment(i + 1, name) for i, name in enumerate(names)],
        series_instance_uid=derived_uid(uid, config_digest, "seg-series"), series_number=9901,
        sop_instance_uid=derived_uid(uid, config_digest, "seg-instance"), instance_number=1,
        manufacturer="mammo_cv", manufacturer_model_name="mammo_cv", software_versions=__version__,
        device_serial_number=config_digest[:16], series_description="mammo_cv calcifications",
        omit_empty_frames=False,
    )


def write_segmentation(path: str | os.PathLike[str], seg: Dataset) -> Path:
    """Write ``seg`` atomically to ``path`` (Part 10 file) and return the path."""
    return write_part10(path, seg)
