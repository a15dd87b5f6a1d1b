"""DICOM objects a PACS can show: the calcification Segmentation, with rerun-stable UIDs."""

from mammo_cv.pacs.seg import build_segmentation, write_segmentation
from mammo_cv.pacs.uids import derived_uid

__all__ = ["build_segmentation", "derived_uid", "write_segmentation"]
