"""Output tables with a fixed schema, written as deterministic CSV.

Every table is a dict of equal-length 1-D arrays whose keys and dtypes are given by a schema
(an ordered ``dict`` of column name -> numpy dtype). An image with no findings gives a table
with every column and zero rows, never a missing file.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from mammo_cv.clusters import CLUSTER_COLUMNS
from mammo_cv.features import CALC_COLUMNS

__all__ = ["IMAGE_COLUMNS", "CALCIFICATION_CSV_COLUMNS", "CLUSTER_CSV_COLUMNS", "empty_table", "concat_tables", "write_csv"]

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
    "seconds": np.dtype(np.float64),
}

CALCIFICATION_CSV_COLUMNS: dict[str, np.dtype] = {
    "image_id": _STR,
    **CALC_COLUMNS,
    "confidence": np.dtype(np.float64),
    "cluster_id": np.dtype(np.int64),
    "vascular_chain_id": np.dtype(np.int64),
    "vascular_score": np.dtype(np.float64),
}

CLUSTER_CSV_COLUMNS: dict[str, np.dtype] = {"image_id": _STR, **CLUSTER_COLUMNS}

# Significant digits for floats: 0.01 um at 100 mm, far below any measurement's precision,
# and short enough that the same value always prints the same text.
_FLOAT_DIGITS = 7


def empty_table(columns: Mapping[str, np.dtype]) -> dict[str, np.ndarray]:
    """Zero-row table with every column of ``columns`` at its dtype."""
    return {name: np.zeros(0, dtype) for name, dtype in columns.items()}


def concat_tables(tables: Iterable[Mapping[str, np.ndarray]],
                  columns: Mapping[str, np.dtype]) -> dict[str, np.ndarray]:
    """Stack tables row-wise, checking that each has exactly the schema's columns."""
    parts: dict[str, list[np.ndarray]] = {name: [] for name in columns}
    for table in tables:
        if list(table) != list(columns):
            raise ValueError(f"table columns {list(table)} differ from the schema {list(columns)}")
        for name, dtype in columns.items():
            parts[name].append(np.asarray(table[name]).astype(dtype, copy=False))
    return {name: (np.concatenate(parts[name]) if parts[name] else np.zeros(0, dtype))
            for name, dtype in columns.items()}


def _format(value: object, dtype: np.dtype) -> str:
    if dtype.kind == "f":
        number = float(value)  # type: ignore[arg-type]
        return "" if np.isnan(number) else format(number, f".{_FLOAT_DIGITS}g")
    if dtype.kind in "iub":
        return str(int(value))  # type: ignore[call-overload]
    return "" if value is None else str(value)


def write_csv(path: str | os.PathLike[str], table: Mapping[str, np.ndarray],
              columns: Mapping[str, np.dtype]) -> None:
    """Write ``table`` as CSV with the schema's column order, atomically.

    Floats are written with 7 significant digits and NaN as an empty field, so the same
    values always give the same bytes. The file appears complete or not at all (written to a
    temporary name, then renamed).
    """
    if list(table) != list(columns):
        raise ValueError(f"table columns {list(table)} differ from the schema {list(columns)}")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(list(columns))
    n_rows = len(next(iter(table.values()))) if table else 0
    cells = [[_format(value, dtype) for value in table[name]] for name, dtype in columns.items()]
    writer.writerows(zip(*cells) if n_rows else [])
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(buffer.getvalue(), encoding="utf-8")
    os.replace(temporary, path)
