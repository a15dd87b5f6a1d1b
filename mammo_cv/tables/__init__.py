"""Output tables: fixed schemas, deterministic writers, file-name-safe ids."""

from __future__ import annotations

from mammo_cv.tables.ids import safe_id
from mammo_cv.tables.schemas import (
    CALCIFICATION_CSV_COLUMNS,
    CLUSTER_CSV_COLUMNS,
    IMAGE_COLUMNS,
    LABEL_COUNT_COLUMNS,
    PART_SCHEMA,
)
from mammo_cv.tables.writers import (
    concat_tables,
    empty_table,
    part_from_json,
    part_to_json,
    to_dataframe,
    write_csv,
    write_json_atomic,
    write_parquet,
)

__all__ = [
    "IMAGE_COLUMNS", "CALCIFICATION_CSV_COLUMNS", "CLUSTER_CSV_COLUMNS", "LABEL_COUNT_COLUMNS", "PART_SCHEMA",
    "empty_table", "concat_tables", "write_csv", "write_parquet", "to_dataframe", "write_json_atomic",
    "part_to_json", "part_from_json", "safe_id",
]
