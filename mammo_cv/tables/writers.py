"""Output tables with a fixed schema: deterministic CSV, Parquet copies, per-image parts.

Every table is a dict of equal-length 1-D arrays whose keys and dtypes are given by a schema
(an ordered ``dict`` of column name -> numpy dtype). An image with no findings gives a table
with every column and zero rows, never a missing file.

A batch writes each image's rows to a *part* (one JSON file, written atomically) as soon as
the image is done, then consolidates the parts into the tables. JSON keeps every float64
exactly (shortest round-trip repr), so tables made from parts are the tables made directly.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Mapping

import numpy as np

from mammo_cv.core.files import write_bytes_atomic, write_text_atomic
from mammo_cv.tables.frames import to_dataframe
from mammo_cv.tables.schemas import CALCIFICATION_CSV_COLUMNS, CLUSTER_CSV_COLUMNS, IMAGE_COLUMNS, PART_SCHEMA

__all__ = ["empty_table", "concat_tables", "write_csv", "write_parquet", "write_json_atomic", "part_to_json",
           "part_from_json"]


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
    write_text_atomic(path, buffer.getvalue())


def write_json_atomic(path: str | os.PathLike[str], payload: Mapping[str, object]) -> None:
    """Write ``payload`` as indented UTF-8 JSON; the file appears complete or not at all."""
    text = json.dumps(payload, indent=2, sort_keys=False, allow_nan=True) + "\n"
    write_text_atomic(path, text)


def _column_values(values: np.ndarray, dtype: np.dtype) -> list:
    array = np.asarray(values).astype(dtype, copy=False)
    if dtype.kind == "f":
        return [float(v) for v in array]
    if dtype.kind in "iub":
        return [int(v) for v in array]
    return ["" if v is None else str(v) for v in array]


def part_to_json(image_row: Mapping[str, object], calcifications: Mapping[str, np.ndarray],
                 clusters: Mapping[str, np.ndarray], *, settings: Mapping[str, object]) -> dict[str, object]:
    """One image's rows as a JSON-ready dict (the per-image part of a batch).

    ``settings`` (config digest, pixel spacing argument) is recorded so that a resumed run
    can refuse parts made with other settings. Floats keep every bit (Python's shortest
    round-trip repr; NaN as ``NaN``).
    """
    row = {name: _column_values(np.asarray([image_row[name]], dtype=dtype), dtype)[0]
           for name, dtype in IMAGE_COLUMNS.items()}
    return {
        "schema": PART_SCHEMA,
        "settings": dict(settings),
        "image": row,
        "calcifications": {name: _column_values(calcifications[name], dtype)
                           for name, dtype in CALCIFICATION_CSV_COLUMNS.items()},
        "clusters": {name: _column_values(clusters[name], dtype) for name, dtype in CLUSTER_CSV_COLUMNS.items()},
    }


def part_from_json(payload: Mapping[str, object]) -> tuple[dict[str, object], dict[str, np.ndarray],
                                                          dict[str, np.ndarray]]:
    """Inverse of :func:`part_to_json`: (image row, calcification table, cluster table).

    Raises
    ------
    ValueError
        If the payload is not a complete part of this schema version.
    """
    if payload.get("schema") != PART_SCHEMA:
        raise ValueError(f"part schema {payload.get('schema')!r}, expected {PART_SCHEMA}")
    row = dict(payload["image"])  # type: ignore[call-overload]
    if list(row) != list(IMAGE_COLUMNS):
        raise ValueError("part image row does not have the images.csv columns")

    def table(data: Mapping[str, list], columns: Mapping[str, np.dtype]) -> dict[str, np.ndarray]:
        if list(data) != list(columns):
            raise ValueError(f"part table columns {list(data)} differ from the schema {list(columns)}")
        return {name: np.asarray(data[name], dtype=dtype) if data[name] else np.zeros(0, dtype)
                for name, dtype in columns.items()}

    return (row, table(payload["calcifications"], CALCIFICATION_CSV_COLUMNS),  # type: ignore[arg-type]
            table(payload["clusters"], CLUSTER_CSV_COLUMNS))  # type: ignore[arg-type]


def write_parquet(path: str | os.PathLike[str], table: Mapping[str, np.ndarray],
                  columns: Mapping[str, np.dtype]) -> None:
    """Write a Parquet copy of ``table`` (pyarrow engine) atomically, with the schema's columns and dtypes."""
    write_bytes_atomic(path, to_dataframe(table, columns).to_parquet(None, index=False, engine="pyarrow"))
