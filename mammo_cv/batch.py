"""Run ``analyze`` over many files: discovery, workers, per-file status, tables.

A bad file never stops a batch: it gets ``status = "error"`` and a one-line reason, and the
other files go on. Results are collected in input order, so the tables do not depend on the
number of workers.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from mammo_cv.config import Config
from mammo_cv.io.sniff import sniff_format
from mammo_cv.report import CALCIFICATION_CSV_COLUMNS, CLUSTER_CSV_COLUMNS, IMAGE_COLUMNS, empty_table

__all__ = ["InputFile", "ImageOutcome", "discover_inputs", "analyze_file", "run_batch"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_ID_CHARS = 96


@dataclass(frozen=True)
class InputFile:
    """One file to analyse and the id-friendly name it was found under.

    Attributes
    ----------
    path : Path
    relative_name : str
        Path relative to the INPUT folder it was found in (the file name for a file given
        directly); the ``image_id`` of raster files and failed files is made from it.
    """

    path: Path
    relative_name: str


@dataclass(frozen=True)
class ImageOutcome:
    """What one file gave: its ``images.csv`` row, its calcification and cluster rows."""

    image_row: dict[str, object]
    calcifications: dict[str, np.ndarray]
    clusters: dict[str, np.ndarray]


def safe_id(text: str) -> str:
    """A file-name-safe, stable id: unsafe characters become ``_``; no leading dot; long
    names are cut and suffixed with a hash of the full text so they stay unique."""
    slug = _UNSAFE.sub("_", text).strip("._") or "image"
    if len(slug) > _MAX_ID_CHARS:
        digest = hashlib.sha1(text.encode()).hexdigest()[:10]
        slug = f"{slug[:_MAX_ID_CHARS - 11]}_{digest}"
    return slug


def discover_inputs(inputs: Sequence[str | os.PathLike[str]], *, take_raster: bool) -> tuple[list[InputFile], list[str]]:
    """Expand files and folders (recursively, sorted) into the files to analyse.

    Files named directly are always taken (a bad one is reported as an error). Inside folders a
    file is taken when its content is DICOM, or PGM/PNG/TIFF when ``take_raster``; other files
    (sidecars, notes) are listed as skipped.

    Returns
    -------
    files : list of InputFile
    skipped : list of str
        Paths inside folders that were not taken.

    Raises
    ------
    FileNotFoundError
        If an INPUT does not exist.
    """
    files: list[InputFile] = []
    skipped: list[str] = []
    for item in inputs:
        root = Path(item)
        if root.is_dir():
            for path in sorted(p for p in root.rglob("*") if p.is_file() or p.is_symlink()):
                kind = sniff_format(path)
                if kind == "dicom" or (kind is not None and take_raster):
                    files.append(InputFile(path, path.relative_to(root).as_posix()))
                else:
                    skipped.append(str(path))
        elif root.exists() or root.is_symlink():
            files.append(InputFile(root, root.name))
        else:
            raise FileNotFoundError(f"{root}: no such file or folder")
    return files, skipped


def _blank_row(item: InputFile) -> dict[str, object]:
    row: dict[str, object] = {}
    for name, dtype in IMAGE_COLUMNS.items():
        row[name] = "" if dtype.kind == "O" else (np.nan if dtype.kind == "f" else -1)
    row.update(image_id=safe_id(item.relative_name), source_path=str(item.path))
    return row


def analyze_file(item: InputFile, *, pixel_spacing_mm: float | None = None,
                 config: Config | None = None) -> ImageOutcome:
    """Analyse one file and never raise for a bad file.

    Returns
    -------
    ImageOutcome
        ``status`` ``"ok"`` with every column filled, or ``"error"`` with a one-line
        ``error`` (exception type and message) and no calcification rows.
    """
    from mammo_cv.pipeline import analyze  # heavy: loaded in the worker that needs it

    row = _blank_row(item)
    start = time.perf_counter()
    try:
        result = analyze(item.path, pixel_spacing_mm=pixel_spacing_mm, config=config)
    except Exception as exc:  # a batch records every failure and goes on
        message = " ".join(str(exc).split())
        row.update(status="error", error=f"{type(exc).__name__}: {message}",
                   seconds=time.perf_counter() - start)
        return ImageOutcome(row, empty_table(CALCIFICATION_CSV_COLUMNS), empty_table(CLUSTER_CSV_COLUMNS))
    image, anatomy = result.image, result.anatomy
    if image.sop_instance_uid:
        row["image_id"] = safe_id(image.sop_instance_uid)
    n_calcs = len(result.calc_table["calc_id"])
    n_clusters = len(result.cluster_table["cluster_id"])
    row.update(
        status="ok", laterality=image.laterality.value, view=image.view.value,
        presentation_intent=image.presentation_intent.value, photometric=image.photometric,
        spacing_row_mm=image.spacing_mm[0], spacing_col_mm=image.spacing_mm[1],
        spacing_source=image.spacing_source, rows=image.shape[0], cols=image.shape[1],
        chest_wall_side=anatomy.chest_wall_side.value,
        nipple_row_px=anatomy.nipple_rc[0], nipple_col_px=anatomy.nipple_rc[1],
        n_calcifications=n_calcs, n_clusters=n_clusters,
        seconds=time.perf_counter() - start,
    )
    return ImageOutcome(row, _with_image_id(result.calc_table, row["image_id"], CALCIFICATION_CSV_COLUMNS),
                        _with_image_id(result.cluster_table, row["image_id"], CLUSTER_CSV_COLUMNS))


def _with_image_id(table: dict[str, np.ndarray], image_id: object, columns: dict[str, np.dtype]) -> dict[str, np.ndarray]:
    n_rows = len(next(iter(table.values())))
    rows = {"image_id": np.full(n_rows, image_id, dtype=object)}
    rows.update({name: table[name] for name in columns if name != "image_id"})
    return rows


def _init_worker() -> None:
    import cv2

    cv2.setNumThreads(1)  # one core per worker; the pool provides the parallelism


def run_batch(files: Sequence[InputFile], *, workers: int = 1, pixel_spacing_mm: float | None = None,
              config: Config | None = None, progress: bool = True) -> list[ImageOutcome]:
    """Analyse ``files`` with ``workers`` processes; outcomes come back in input order.

    Image ids are made unique in input order (a repeated id gets ``_2``, ``_3``...).
    """
    from tqdm.auto import tqdm

    bar = tqdm(total=len(files), unit="file", disable=not progress, smoothing=0.1)
    outcomes: list[ImageOutcome] = []
    if workers <= 1:
        _init_worker()
        for item in files:
            outcomes.append(analyze_file(item, pixel_spacing_mm=pixel_spacing_mm, config=config))
            bar.update()
    else:
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                                 initializer=_init_worker) as pool:
            futures = {pool.submit(analyze_file, item, pixel_spacing_mm=pixel_spacing_mm, config=config): index
                       for index, item in enumerate(files)}
            by_index: dict[int, ImageOutcome] = {}
            for future in as_completed(futures):
                by_index[futures[future]] = future.result()
                bar.update()
            outcomes = [by_index[index] for index in range(len(files))]
    bar.close()
    _make_ids_unique(outcomes)
    return outcomes


def _make_ids_unique(outcomes: list[ImageOutcome]) -> None:
    seen: dict[str, int] = {}
    for outcome in outcomes:
        base = str(outcome.image_row["image_id"])
        seen[base] = seen.get(base, 0) + 1
        if seen[base] > 1:
            unique = f"{base}_{seen[base]}"
            outcome.image_row["image_id"] = unique
            outcome.calcifications["image_id"][:] = unique
            outcome.clusters["image_id"][:] = unique
