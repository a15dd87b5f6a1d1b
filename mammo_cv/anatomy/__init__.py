"""Anatomy: breast mask, burned-in labels, pectoral muscle, chest-wall side, nipple."""

from __future__ import annotations

from mammo_cv.anatomy.landmarks import AnatomyConfig, find_anatomy

__all__ = ["AnatomyConfig", "find_anatomy"]
