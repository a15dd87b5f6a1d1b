"""DICOM objects a PACS can show: the Mammography CAD SR and the calcification Segmentation, with rerun-stable UIDs."""

from mammo_cv.pacs.seg import build_segmentation, write_segmentation
from mammo_cv.pacs.source import DicomSourceError
from mammo_cv.pacs.sr import build_cad_sr, write_cad_sr
from mammo_cv.pacs.uids import derived_uid

__all__ = ["DicomSourceError", "build_cad_sr", "build_segmentation", "derived_uid", "write_cad_sr",
           "write_segmentation"]
