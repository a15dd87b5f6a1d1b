"""Output tables: fixed schemas, the per-breast summary, deterministic writers, DataFrame views, JSON records,
file-name-safe ids."""

from __future__ import annotations

from mammo_cv.tables.breasts import breast_table
from mammo_cv.tables.frames import image_frame, to_dataframe
from mammo_cv.tables.ids import safe_id
from mammo_cv.tables.records import anatomy_record, image_record, label_counts, result_record, table_records
from mammo_cv.tables.schemas import (
    BREAST_COLUMNS,
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
    write_csv,
    write_json_atomic,
    write_parquet,
)

__all__ = [
    "IMAGE_COLUMNS", "CALCIFICATION_CSV_COLUMNS", "CLUSTER_CSV_COLUMNS", "BREAST_COLUMNS", "LABEL_COUNT_COLUMNS",
    "PART_SCHEMA", "breast_table",
    "empty_table", "concat_tables", "write_csv", "write_parquet", "to_dataframe", "write_json_atomic",
    "part_to_json", "part_from_json", "image_frame", "label_counts", "table_records", "image_record",
    "anatomy_record", "result_record", "safe_id",
]
