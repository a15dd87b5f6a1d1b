"""The fixed schemas of the output tables: ordered column name -> numpy dtype.

An image with no findings gives a table with every column and zero rows, never a missing
file. The column meanings are documented in ``docs/outputs.md``.
"""

from __future__ import annotations

import numpy as np

from mammo_cv.describe.calcifications import CALC_COLUMNS
from mammo_cv.describe.cluster_table import CLUSTER_COLUMNS

__all__ = ["IMAGE_COLUMNS", "CALCIFICATION_CSV_COLUMNS", "CLUSTER_CSV_COLUMNS", "LABEL_COUNT_COLUMNS",
           "PART_SCHEMA"]


_STR = np.dtype(object)


IMAGE_COLUMNS: dict[str, np.dtype] = {
    "image_id": _STR,
    "source_path": _STR,
    "status": _STR,
    "error": _STR,
    "laterality": _STR,
    "view": _STR,
    "presentation_intent": _STR,
    "photometric": _STR,
    "spacing_row_mm": np.dtype(np.float64),
    "spacing_col_mm": np.dtype(np.float64),
    "spacing_source": _STR,
    "rows": np.dtype(np.int64),
    "cols": np.dtype(np.int64),
    "chest_wall_side": _STR,
    "nipple_row_px": np.dtype(np.float64),
    "nipple_col_px": np.dtype(np.float64),
    "n_calcifications": np.dtype(np.int64),
    "n_clusters": np.dtype(np.int64),
    "n_secretory": np.dtype(np.int64),
    "n_vascular": np.dtype(np.int64),
    "n_macro": np.dtype(np.int64),
    "n_suspicious_cluster": np.dtype(np.int64),
    "seconds": np.dtype(np.float64),
}


#: ``images.csv`` count column -> the calcification ``label`` it counts.
LABEL_COUNT_COLUMNS: dict[str, str] = {
    "n_secretory": "secretory",
    "n_vascular": "vascular",
    "n_macro": "macro",
    "n_suspicious_cluster": "suspicious_cluster",
}


CALCIFICATION_CSV_COLUMNS: dict[str, np.dtype] = {
    "image_id": _STR,
    **CALC_COLUMNS,
    "confidence": np.dtype(np.float64),
    "cluster_id": np.dtype(np.int64),
    "vascular_chain_id": np.dtype(np.int64),
    "vascular_score": np.dtype(np.float64),
    "label": _STR,
    "reason": _STR,
}


CLUSTER_CSV_COLUMNS: dict[str, np.dtype] = {
    "image_id": _STR,
    **CLUSTER_COLUMNS,
    "label": _STR,
    "score": np.dtype(np.float64),  # the classifier's 0-1 suspicion
    "reason": _STR,
}


#: Version of the per-image part format; a part with another version is not "complete".
PART_SCHEMA = 1
