"""Evaluation: matching rules, FROC and recall, shared by the scripts and notebooks."""

from __future__ import annotations

from mammo_cv.evaluation.metrics import (
    SIZE_BANDS_MM,
    CalcCircle,
    FrocImage,
    best_overlap,
    f1_score,
    froc_curve,
    label_overlaps,
    match_calcifications,
    match_clusters,
    read_mias_annotations,
    recall_by_size,
    sensitivity_at,
    split_fraction,
)

__all__ = [
    "CalcCircle", "FrocImage", "read_mias_annotations", "match_clusters", "froc_curve", "sensitivity_at",
    "match_calcifications", "recall_by_size", "split_fraction", "label_overlaps", "best_overlap", "SIZE_BANDS_MM",
    "f1_score",
]
