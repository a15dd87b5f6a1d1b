"""Mammography CAD SR (PS3.16 TID 4000) of one analysed image: its calcifications and clusters, on the source image.

Each calcification and each reported cluster is one Individual Impression/Recommendation (TID 4003)
holding one Single Image Finding (TID 4006): Individual Calcification (TID 4009) or Calcification
Cluster (TID 4010), with its centre (and for a cluster its outline) as SCOORD, its Certainty of
Finding and our reason as Impression Description. Suspicious findings carry the Rendering Intent
"Presentation Required", every other finding "Not for Presentation", so that a viewer shows the
suspicious ones by default. ``docs/pacs.md`` has the conformance table.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import highdicom as hd
import numpy as np
from pydicom.charset import convert_encodings, default_encoding
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sr.codedict import codes as pydicom_codes
from pydicom.uid import ExplicitVRLittleEndian, MammographyCADSRStorage

from mammo_cv import __version__
from mammo_cv.config import Config
from mammo_cv.pacs import codes as c
from mammo_cv.pacs.part10 import write_part10
from mammo_cv.pacs.source import check_source
from mammo_cv.pacs.sr_content import (
    CONTAINS,
    Finding,
    ItemFactory,
    code_dataset,
    container,
    detection_summaries,
    individual_impression,
    library_entry,
)
from mammo_cv.pacs.uids import derived_uid

if TYPE_CHECKING:  # pragma: no cover - typing only
    from mammo_cv.pipeline import Result

#: Series Number of the SR series (the SEG series is 9901).
SR_SERIES_NUMBER = 9902
# Patient and General Study attributes copied from the source; type 2 ones are written empty if absent.
_PATIENT_STUDY_TYPE2 = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
                        "ReferringPhysicianName", "StudyID", "AccessionNumber")
_PATIENT_STUDY_OPTIONAL = ("IssuerOfPatientID", "OtherPatientIDsSequence", "PatientAge", "PatientWeight",
                           "PatientSize", "StudyDescription", "PatientComments")


def certainty_pct(confidence_sigma: np.ndarray, min_confidence_sigma: float) -> np.ndarray:
    """Certainty of Finding (%) from a detector confidence: 50 % at the reporting threshold, 100 % at twice it.

    It is the detector confidence rescaled, not a calibrated probability.

    Examples
    --------
    >>> certainty_pct(np.array([3.0, 6.0, 30.0]), 6.0).tolist()
    [25.0, 50.0, 100.0]
    """
    return np.clip(100.0 * np.asarray(confidence_sigma, np.float64) / (2.0 * min_confidence_sigma), 0.0, 100.0)


def _fine_linear(calc: dict[str, np.ndarray], config: Config) -> np.ndarray:
    """Members the classifier counts as fine-linear: fine calibre and elongated (``rules.suspicious_cluster``)."""
    sus = config.rules.suspicious_cluster
    return (calc["calibre_mm"] < sus.max_fine_width_mm) & (calc["elongation"] >= sus.fine_linear_min_elongation)


def _calc_findings(calc: dict[str, np.ndarray], config: Config) -> list[Finding]:
    """One Individual Calcification per row of the calcification table."""
    fine_linear = _fine_linear(calc, config)
    certainty = certainty_pct(calc["confidence"], config.detection.min_confidence)
    findings = []
    for i in range(len(calc["calc_id"])):
        label, reason = str(calc["label"][i]), str(calc["reason"][i])
        code = c.calcification_type(label, reason, fine_linear=bool(fine_linear[i]))
        findings.append(Finding(kind=c.INDIVIDUAL_CALCIFICATION, label=label, reason=reason,
                                types=(code,) if code is not None else (), certainty_pct=float(certainty[i]),
                                center_xy=np.array([calc["col_px"][i] + 0.5, calc["row_px"][i] + 0.5])))
    return findings


def _outline_xy(calc: dict[str, np.ndarray], members: np.ndarray) -> np.ndarray:
    """Closed convex hull (x, y) of the members' bounding boxes, in image coordinates."""
    r0, r1 = calc["bbox_row_min_px"][members], calc["bbox_row_max_px"][members]
    c0, c1 = calc["bbox_col_min_px"][members], calc["bbox_col_max_px"][members]
    xs = np.concatenate([c0, c1, c1, c0])
    ys = np.concatenate([r0, r0, r1, r1])
    hull = cv2.convexHull(np.stack([xs, ys], axis=1).astype(np.float32)).reshape(-1, 2)
    return np.vstack([hull, hull[:1]])


def _cluster_findings(calc: dict[str, np.ndarray], cluster: dict[str, np.ndarray],
                      calc_findings: list[Finding], config: Config) -> list[Finding]:
    """One Calcification Cluster per reported cluster, its types those of its members."""
    certainty = certainty_pct(cluster["detection_score"], config.detection.min_confidence)
    findings = []
    for j, cluster_id in enumerate(np.asarray(cluster["cluster_id"]).astype(int)):
        members = np.asarray(calc["cluster_id"]).astype(int) == cluster_id
        types = dict.fromkeys(code for i in np.flatnonzero(members) for code in calc_findings[i].types)
        distribution = c.DISTRIBUTION_CODES.get(str(cluster["distribution"][j]))
        findings.append(Finding(
            kind=c.CALCIFICATION_CLUSTER, label=str(cluster["label"][j]), reason=str(cluster["reason"][j]),
            types=tuple(types), certainty_pct=float(certainty[j]),
            center_xy=np.array([cluster["col_px"][j] + 0.5, cluster["row_px"][j] + 0.5]),
            outline_xy=_outline_xy(calc, members) if members.any() else None,
            distribution=distribution, n_calcs=int(cluster["n_calcs"][j])))
    return findings


def findings_of(result: Result, *, config: Config) -> list[Finding]:
    """Every calcification, then every reported cluster, of ``result`` as :class:`Finding`."""
    calcs = _calc_findings(result.calc_table, config)
    return calcs + _cluster_findings(result.calc_table, result.cluster_table, calcs, config)


def _copy_patient_study(source: Dataset, sr: Dataset) -> None:
    """Patient and General Study modules of the source (a PACS files the SR with the study)."""
    for keyword in _PATIENT_STUDY_TYPE2:
        setattr(sr, keyword, source.get(keyword, ""))
    for keyword in _PATIENT_STUDY_OPTIONAL:
        if keyword in source:
            setattr(sr, keyword, source.data_element(keyword).value)
    sr.StudyInstanceUID = source.StudyInstanceUID


def _document_modules(source: Dataset, sr: Dataset, *, config_digest: str, now: datetime.datetime) -> None:
    """SR Document Series, General Equipment, SR Document General and SOP Common modules."""
    uid = source.SOPInstanceUID
    if "SpecificCharacterSet" in source:
        sr.SpecificCharacterSet = source.SpecificCharacterSet
    sr.SOPClassUID = MammographyCADSRStorage
    sr.SOPInstanceUID = derived_uid(uid, config_digest, "sr-instance")
    sr.Modality = "SR"
    sr.SeriesInstanceUID = derived_uid(uid, config_digest, "sr-series")
    sr.SeriesNumber = SR_SERIES_NUMBER
    sr.SeriesDescription = "mammo_cv CAD SR"
    sr.ReferencedPerformedProcedureStepSequence = []
    sr.Manufacturer = "mammo_cv"
    sr.ManufacturerModelName = "mammo_cv"
    sr.SoftwareVersions = __version__
    sr.DeviceSerialNumber = config_digest[:16]
    sr.InstanceNumber = 1
    sr.CompletionFlag = "COMPLETE"
    sr.VerificationFlag = "UNVERIFIED"
    sr.ContentDate = now.strftime("%Y%m%d")
    sr.ContentTime = now.strftime("%H%M%S")
    sr.InstanceCreationDate, sr.InstanceCreationTime = sr.ContentDate, sr.ContentTime
    sr.PerformedProcedureCodeSequence = []
    instance = Dataset()
    instance.ReferencedSOPClassUID, instance.ReferencedSOPInstanceUID = source.SOPClassUID, uid
    series = Dataset()
    series.SeriesInstanceUID, series.ReferencedSOPSequence = source.SeriesInstanceUID, [instance]
    study = Dataset()
    study.StudyInstanceUID, study.ReferencedSeriesSequence = source.StudyInstanceUID, [series]
    sr.CurrentRequestedProcedureEvidenceSequence = [study]


def _set_root_content(sr: Dataset, source: Dataset, result: Result, *, config: Config, config_digest: str) -> None:
    """Set the children of the root container ``sr``, in TID 4000 order, encoded in its character set."""
    language = hd.sr.LanguageOfContentItemAndDescendants(language=hd.sr.CodedConcept("en-US", "RFC5646",
                                                                                       "English (United States)"))
    observer = hd.sr.ObserverContext(
        observer_type=pydicom_codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=derived_uid("mammo_cv", config_digest, "device"), name="mammo_cv", manufacturer_name="mammo_cv",
            model_name=f"mammo_cv {__version__}"))
    library_at = 2 + len(observer)  # ordinal of the Image Library among the root's children
    items = ItemFactory(version=__version__, config_digest=config_digest, image_path=(1, library_at, 1),
                        encodings=_character_set(sr))
    library = container(items, CONTAINS, c.IMAGE_LIBRARY, [library_entry(
        items, source, c.LATERALITY_CODES.get(result.image.laterality), c.VIEW_CODES.get(result.image.view))])
    findings = findings_of(result, config=config)
    summary = items.coded(CONTAINS, c.CAD_PROCESSING_AND_FINDINGS_SUMMARY,
                          c.ALL_SUCCEEDED_WITH_FINDINGS if findings else c.ALL_SUCCEEDED_WITHOUT_FINDINGS)
    items.set_children(summary, [individual_impression(items, finding) for finding in findings])
    items.set_children(sr, [*language, *observer, library, summary, *detection_summaries(items)])


def _character_set(sr: Dataset) -> str | list[str]:
    """Python codecs of the Specific Character Set of ``sr`` (the default repertoire if it has none)."""
    charset = sr.get("SpecificCharacterSet")
    return convert_encodings(charset) if charset else default_encoding


def build_cad_sr(source: Dataset, result: Result, *, config: Config) -> Dataset:
    """Build the Mammography CAD SR of one analysed image.

    Parameters
    ----------
    source : pydicom.Dataset
        The analysed image (Patient and Study modules are copied; the findings point at it).
    result : Result
        What :func:`mammo_cv.analyze` returned for ``source``.
    config : Config
        The configuration of the run: its digest fixes the UIDs, its detection threshold and rules
        give the certainty and the fine-linear split.

    Returns
    -------
    pydicom.Dataset
        SOP Class 1.2.840.10008.5.1.4.1.1.88.50, a new Series; SOP Instance and Series UIDs derived
        from the source SOP Instance UID and the config digest, so a rerun gives the same UIDs. Its
        file meta (Explicit VR Little Endian) is set, so it saves as a Part 10 file as it is.

    Raises
    ------
    DicomSourceError
        When ``source`` lacks a UID the objects need, or is not the image ``result`` analysed.
    """
    check_source(source, result.image.sop_instance_uid)
    digest = config.digest()
    sr = Dataset()
    _copy_patient_study(source, sr)
    _document_modules(source, sr, config_digest=digest, now=datetime.datetime.now())
    sr.ValueType = "CONTAINER"
    sr.ConceptNameCodeSequence = [code_dataset(c.MAMMOGRAPHY_CAD_REPORT)]
    sr.ContinuityOfContent = "SEPARATE"
    template = Dataset()
    template.MappingResource, template.TemplateIdentifier = "DCMR", "4000"
    sr.ContentTemplateSequence = [template]
    _set_root_content(sr, source, result, config=config, config_digest=digest)
    # the root's elements all have explicit VRs that are not ambiguous: pydicom need not correct them
    sr.set_original_encoding(False, True, _character_set(sr))
    sr.file_meta = FileMetaDataset()
    sr.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    sr.file_meta.MediaStorageSOPClassUID = sr.SOPClassUID
    sr.file_meta.MediaStorageSOPInstanceUID = sr.SOPInstanceUID
    return sr


def write_cad_sr(path: str | os.PathLike[str], sr: Dataset) -> Path:
    """Write ``sr`` (from :func:`build_cad_sr`) atomically to ``path`` as a Part 10 file and return the path."""
    return write_part10(path, sr)
