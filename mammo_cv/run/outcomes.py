"""What one image of a batch gives (its ``images.csv`` row and table rows), and how outcomes stack."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mammo_cv.review.privacy import blanking_reason
from mammo_cv.run.discovery import WorkItem
from mammo_cv.tables.schemas import CALCIFICATION_CSV_COLUMNS, CLUSTER_CSV_COLUMNS, IMAGE_COLUMNS, LABEL_COUNT_COLUMNS
from mammo_cv.tables.writers import concat_tables, empty_table

__all__ = ["ImageOutcome", "error_outcome", "image_row", "ok_outcome", "one_line", "consolidate"]


@dataclass(frozen=True)
class ImageOutcome:
    """What one image gave: its ``images.csv`` row, its table rows, its overlay PNG bytes and,
    with ``--dicom``, its DICOM objects as ``(kind, Part 10 bytes)`` pairs."""

    image_row: dict[str, object]
    calcifications: dict[str, np.ndarray]
    clusters: dict[str, np.ndarray]
    overlay_png: bytes | None = None
    dicom: tuple[tuple[str, bytes], ...] = ()


def _blank_row(item: WorkItem) -> dict[str, object]:
    row: dict[str, object] = {}
    for name, dtype in IMAGE_COLUMNS.items():
        row[name] = "" if dtype.kind == "O" else (np.nan if dtype.kind == "f" else -1)
    row.update(image_id=item.image_id, source_path=str(item.path), study_key=item.study_key)
    return row


def one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def error_outcome(item: WorkItem, exc: BaseException, seconds: float) -> ImageOutcome:
    """The outcome of an image that failed: ``status="error"``, a one-line ``error``, no rows."""
    row = _blank_row(item)
    row.update(status="error", error=one_line(exc), seconds=seconds)
    return ImageOutcome(row, empty_table(CALCIFICATION_CSV_COLUMNS), empty_table(CLUSTER_CSV_COLUMNS))


def _with_image_id(table: dict[str, np.ndarray], image_id: str, columns: dict[str, np.dtype]) -> dict[str, np.ndarray]:
    n_rows = len(next(iter(table.values())))
    rows = {"image_id": np.full(n_rows, image_id, dtype=object)}
    rows.update({name: table[name] for name in columns if name != "image_id"})
    return rows


def image_row(item: WorkItem, result) -> dict[str, object]:
    """The ``images.csv`` facts of an analysed image that do not depend on its labels."""
    image, anatomy = result.image, result.anatomy
    row = _blank_row(item)
    row.update(
        status="ok", laterality=image.laterality.value, view=image.view.value,
        presentation_intent=image.presentation_intent.value, photometric=image.photometric,
        review_blanking=blanking_reason(image, anatomy.breast_mask), assumed_mammogram=int(image.assumed_mammogram),
        spacing_row_mm=image.spacing_mm[0], spacing_col_mm=image.spacing_mm[1],
        spacing_source=image.spacing_source, rows=image.shape[0], cols=image.shape[1],
        chest_wall_side=anatomy.chest_wall_side.value,
        nipple_row_px=anatomy.nipple_rc[0], nipple_col_px=anatomy.nipple_rc[1],
        breast_area_mm2=float(np.count_nonzero(anatomy.breast_mask)) * image.pixel_area_mm2,
    )
    return row


def ok_outcome(item: WorkItem, row: dict[str, object], calc_table: dict[str, np.ndarray],
                cluster_table: dict[str, np.ndarray], seconds: float, overlay_png: bytes | None,
                dicom: tuple[tuple[str, bytes], ...] = ()) -> ImageOutcome:
    labels = np.asarray(calc_table["label"], dtype=object)
    row = {**row, "n_calcifications": len(labels), "n_clusters": len(cluster_table["cluster_id"]),
           **{column: int(np.count_nonzero(labels == label)) for column, label in LABEL_COUNT_COLUMNS.items()},
           "seconds": seconds}
    return ImageOutcome(row, _with_image_id(calc_table, item.image_id, CALCIFICATION_CSV_COLUMNS),
                        _with_image_id(cluster_table, item.image_id, CLUSTER_CSV_COLUMNS), overlay_png, dicom)


def consolidate(outcomes: Sequence[ImageOutcome]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray],
                                                          dict[str, np.ndarray]]:
    """Stack outcomes (already in path order) into the images, calcifications and clusters tables."""
    images = {name: np.asarray([o.image_row[name] for o in outcomes], dtype=dtype) if outcomes
              else np.zeros(0, dtype) for name, dtype in IMAGE_COLUMNS.items()}
    return (images, concat_tables((o.calcifications for o in outcomes), CALCIFICATION_CSV_COLUMNS),
            concat_tables((o.clusters for o in outcomes), CLUSTER_CSV_COLUMNS))
