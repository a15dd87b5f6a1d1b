"""Run the pipeline over many files: discovery, study planning, workers, parts, resume, tables.

A batch runs in four steps:

1. **Discover** (:func:`discover_inputs`): files and folders (recursive) -> the files to
   analyse, recognised by content.
2. **Plan** (:func:`plan_studies`): a header pre-read (no pixels) gives each file its
   ``image_id`` (SOP Instance UID, else its path; file-name safe, unique, stable) and its study
   (Study Instance UID, else Patient ID + Study Date; raster files are their own study).
3. **Run** one work unit per study (:func:`analyze_study`): analyse each image and keep only
   its tables and overlay base (no pixels), let the classifier see the other images of the
   study, reclassify the tables, draw the overlays. Units run
   in this process, in a local process pool, or on a Dask cluster; each image's outcome is
   committed as soon as its study is done (overlay PNG, then the part JSON, both atomic).
4. **Consolidate** the parts in sorted path order into the tables, so the tables depend
   neither on the number of workers nor on the order in which units finish, nor on a resume.

A bad file never stops a batch: it gets ``status = "error"`` and a one-line reason.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import partial
from itertools import groupby
from pathlib import Path

import numpy as np

from mammo_cv.config import Config
from mammo_cv.io.sniff import sniff_format
from mammo_cv.report import (CALCIFICATION_CSV_COLUMNS, CLUSTER_CSV_COLUMNS, IMAGE_COLUMNS, LABEL_COUNT_COLUMNS,
                             concat_tables, empty_table, part_from_json, part_to_json, to_dataframe,
                             write_json_atomic)
from mammo_cv.io.study_keys import read_header_keys

__all__ = ["InputFile", "WorkItem", "ImageOutcome", "BatchResult", "ResumeMismatchError", "safe_id", "error_outcome",
           "discover_inputs", "plan_studies", "analyze_study", "run_studies", "commit_outcome",
           "completed_part", "consolidate", "resolve_config", "analyze_batch"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_ID_CHARS = 96
PARTS_DIR = ".parts"
OVERLAYS_DIR = "overlays"


class ResumeMismatchError(ValueError):
    """``--resume`` found parts written with other settings (config, rules or spacing)."""


@dataclass(frozen=True)
class InputFile:
    """One file found by :func:`discover_inputs`.

    Attributes
    ----------
    path : Path
    relative_name : str
        Path relative to the INPUT folder it was found in (the file name for a file given
        directly); the ``image_id`` of raster and header-less files is made from it.
    kind : str or None
        ``"dicom"``, ``"png"``, ``"pgm"``, ``"tiff"`` from the content, None if unknown.
    """

    path: Path
    relative_name: str
    kind: str | None


@dataclass(frozen=True)
class WorkItem:
    """One planned image: its file, its final ``image_id`` and its (opaque) study key."""

    path: Path
    image_id: str
    study_key: str


@dataclass(frozen=True)
class ImageOutcome:
    """What one image gave: its ``images.csv`` row, its table rows, its overlay PNG bytes."""

    image_row: dict[str, object]
    calcifications: dict[str, np.ndarray]
    clusters: dict[str, np.ndarray]
    overlay_png: bytes | None = None


def safe_id(text: str) -> str:
    """A file-name-safe, stable id: characters other than ``A-Za-z0-9._-`` become ``_``, no
    leading or trailing dot (so never ``.`` or ``..``); long names are cut and suffixed with a
    hash of the full text so they stay distinct."""
    slug = _UNSAFE.sub("_", text).strip("._") or "image"
    if len(slug) > _MAX_ID_CHARS:
        digest = hashlib.sha1(text.encode()).hexdigest()[:10]
        slug = f"{slug[:_MAX_ID_CHARS - 11]}_{digest}"
    return slug


def discover_inputs(inputs: Sequence[str | os.PathLike[str]], *,
                    take_raster: bool) -> tuple[list[InputFile], list[str]]:
    """Expand files and folders (recursively) into the files to analyse, sorted by path.

    Files named directly are always taken (a bad one is reported as an error). Inside folders a
    file is taken when its content is DICOM, or PGM/PNG/TIFF when ``take_raster``, or when it
    cannot be read (so that it is reported); other files (sidecars, notes) are listed as
    skipped. A file reached twice is taken once.

    Returns
    -------
    files : list of InputFile
        Sorted by path.
    skipped : list of str
        Paths inside folders that were not taken, sorted.

    Raises
    ------
    FileNotFoundError
        If an INPUT does not exist.
    """
    found: dict[str, InputFile] = {}
    skipped: list[str] = []
    for item in inputs:
        root = Path(item)
        if root.is_dir():
            for path in sorted(p for p in root.rglob("*") if p.is_file() or p.is_symlink()):
                kind = sniff_format(path)
                # an unreadable file may well be a mammogram: it gets an error row, not silence
                if kind == "dicom" or (kind is not None and take_raster) or not os.access(path, os.R_OK):
                    found.setdefault(os.path.abspath(path), InputFile(path, path.relative_to(root).as_posix(), kind))
                else:
                    skipped.append(str(path))
        elif root.exists() or root.is_symlink():
            found.setdefault(os.path.abspath(root), InputFile(root, root.name, sniff_format(root)))
        else:
            raise FileNotFoundError(f"{root}: no such file or folder")
    return sorted(found.values(), key=lambda f: str(f.path)), sorted(skipped)


def plan_studies(files: Sequence[InputFile]) -> list[list[WorkItem]]:
    """Give each file its ``image_id`` and group the files into studies (header pre-read only).

    ``image_id`` is the SOP Instance UID, else the relative path, through :func:`safe_id`;
    repeats get ``_2``, ``_3``... in path order, compared case-insensitively so ids stay
    distinct on case-insensitive file systems.

    Returns
    -------
    list of list of WorkItem
        Studies in the order of their first file; files in path order within each.
    """
    taken: set[str] = set()
    items: list[WorkItem] = []
    for file in files:
        keys = read_header_keys(file.path, is_dicom=file.kind in ("dicom", None))
        base = safe_id(keys.sop_instance_uid or file.relative_name)
        image_id, n = base, 1
        while image_id.lower() in taken:
            n += 1
            image_id = f"{base}_{n}"
        taken.add(image_id.lower())
        items.append(WorkItem(file.path, image_id, keys.study_key))
    order = {key: index for index, key in reversed(list(enumerate(item.study_key for item in items)))}
    by_study = sorted(items, key=lambda item: order[item.study_key])  # stable: path order within
    return [list(group) for _, group in groupby(by_study, key=lambda item: item.study_key)]


def _blank_row(item: WorkItem) -> dict[str, object]:
    row: dict[str, object] = {}
    for name, dtype in IMAGE_COLUMNS.items():
        row[name] = "" if dtype.kind == "O" else (np.nan if dtype.kind == "f" else -1)
    row.update(image_id=item.image_id, source_path=str(item.path))
    return row


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def error_outcome(item: WorkItem, exc: BaseException, seconds: float) -> ImageOutcome:
    """The outcome of an image that failed: ``status="error"``, a one-line ``error``, no rows."""
    row = _blank_row(item)
    row.update(status="error", error=_one_line(exc), seconds=seconds)
    return ImageOutcome(row, empty_table(CALCIFICATION_CSV_COLUMNS), empty_table(CLUSTER_CSV_COLUMNS))


def _with_image_id(table: dict[str, np.ndarray], image_id: str, columns: dict[str, np.dtype]) -> dict[str, np.ndarray]:
    n_rows = len(next(iter(table.values())))
    rows = {"image_id": np.full(n_rows, image_id, dtype=object)}
    rows.update({name: table[name] for name in columns if name != "image_id"})
    return rows


def _image_row(item: WorkItem, result) -> dict[str, object]:
    """The ``images.csv`` facts of an analysed image that do not depend on its labels."""
    image, anatomy = result.image, result.anatomy
    row = _blank_row(item)
    row.update(
        status="ok", laterality=image.laterality.value, view=image.view.value,
        presentation_intent=image.presentation_intent.value, photometric=image.photometric,
        spacing_row_mm=image.spacing_mm[0], spacing_col_mm=image.spacing_mm[1],
        spacing_source=image.spacing_source, rows=image.shape[0], cols=image.shape[1],
        chest_wall_side=anatomy.chest_wall_side.value,
        nipple_row_px=anatomy.nipple_rc[0], nipple_col_px=anatomy.nipple_rc[1],
    )
    return row


def _ok_outcome(item: WorkItem, row: dict[str, object], calc_table: dict[str, np.ndarray],
                cluster_table: dict[str, np.ndarray], seconds: float, overlay_png: bytes | None) -> ImageOutcome:
    labels = np.asarray(calc_table["label"], dtype=object)
    row = {**row, "n_calcifications": len(labels), "n_clusters": len(cluster_table["cluster_id"]),
           **{column: int(np.count_nonzero(labels == label)) for column, label in LABEL_COUNT_COLUMNS.items()},
           "seconds": seconds}
    return ImageOutcome(row, _with_image_id(calc_table, item.image_id, CALCIFICATION_CSV_COLUMNS),
                        _with_image_id(cluster_table, item.image_id, CLUSTER_CSV_COLUMNS), overlay_png)


@dataclass(frozen=True)
class _Analysed:
    """What a study keeps of one analysed image until the study context is known: no pixels."""

    row: dict[str, object]
    calc_table: dict[str, np.ndarray]
    cluster_table: dict[str, np.ndarray]
    overlay: object  # OverlayBase (a few MB) or None without overlays
    seconds: float


def analyze_study(items: Sequence[WorkItem], *, pixel_spacing_mm: float | None = None,
                  config: Config | None = None, overlays: bool = False) -> list[ImageOutcome]:
    """The work unit of a batch: analyse the images of one study, never raising for a bad file.

    Each image is analysed alone and only its tables and, with ``overlays``, its overlay base
    (:func:`mammo_cv.overlay.prepare_overlay`) are kept, so one image's pixels are in memory
    at a time. Then the classifier gets the study context (the other breast of the same study),
    every image's tables are reclassified and its overlay PNG drawn (to bytes, so that only the
    caller writes to the output folder).

    Returns
    -------
    list of ImageOutcome
        In the order of ``items``; ``seconds`` is each image's own wall time.
    """
    from mammo_cv.classify import contexts_from_rod_counts, count_rod_like, label_tables
    from mammo_cv.pipeline import analyze

    if overlays:
        from mammo_cv.overlay import draw_overlay, encode_png, prepare_overlay
    config = config or Config()
    kept: dict[int, _Analysed] = {}
    outcomes: dict[int, ImageOutcome] = {}
    analysed: list[int] = []  # index, laterality, rod count and study key of every analysed image
    sides: list[str] = []
    rods: list[int] = []
    keys: list[str] = []
    for index, item in enumerate(items):
        start = time.perf_counter()
        try:
            result = analyze(item.path, pixel_spacing_mm=pixel_spacing_mm, config=config)
        except Exception as exc:  # a batch records every failure and goes on
            outcomes[index] = error_outcome(item, exc, time.perf_counter() - start)
            continue
        analysed.append(index)
        sides.append(result.image.laterality.value)
        rods.append(count_rod_like(result.calc_table, config.rules))
        keys.append(item.study_key)
        try:
            base = prepare_overlay(result) if overlays else None
            kept[index] = _Analysed(_image_row(item, result), result.calc_table, result.cluster_table, base,
                                    time.perf_counter() - start)
        except Exception as exc:  # its tables still count for the other breast
            outcomes[index] = error_outcome(item, exc, time.perf_counter() - start)
        del result  # only the tables and the overlay base outlive the loop
    contexts = dict(zip(analysed, contexts_from_rod_counts(sides, rods, keys)))
    for index in sorted(kept):
        image = kept.pop(index)
        start = time.perf_counter()
        try:
            calc_table, cluster_table = label_tables(image.calc_table, image.cluster_table, rules=config.rules,
                                                     study=contexts[index])
            png = encode_png(draw_overlay(image.overlay, calc_table, cluster_table),
                             config=image.overlay.config) if overlays else None
            outcomes[index] = _ok_outcome(items[index], image.row, calc_table, cluster_table,
                                          image.seconds + time.perf_counter() - start, png)
        except Exception as exc:
            outcomes[index] = error_outcome(items[index], exc, image.seconds + time.perf_counter() - start)
    return [outcomes[index] for index in range(len(items))]


def _init_worker() -> None:
    import cv2

    cv2.setNumThreads(1)  # one core per worker; the pool provides the parallelism


def _pool_context():
    """Start workers from a fork server that has imported the pipeline once (about 1 s saved
    per worker against ``spawn``, which re-imports everything); ``spawn`` where there is none.
    Never plain ``fork``: it would copy this process's threads' locks (tqdm, OpenCV)."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["mammo_cv.pipeline", "mammo_cv.classify", "mammo_cv.overlay"])
        return context
    return multiprocessing.get_context("spawn")


def _crashed(study: Sequence[WorkItem], exc: BaseException) -> list[ImageOutcome]:
    return [error_outcome(item, RuntimeError(f"{item.path}: worker failed ({_one_line(exc)})"), 0.0)
            for item in study]


def run_studies(studies: Sequence[Sequence[WorkItem]], work: Callable[[Sequence[WorkItem]], list[ImageOutcome]], *,
                workers: int = 1, dask_address: str | None = None) -> Iterator[tuple[bool, list[ImageOutcome]]]:
    """Run ``work`` on every study and yield ``(completed, outcomes)`` as studies finish.

    ``completed`` is False when the worker itself died (its images get an error that a
    resume retries); a local pool reruns the other studies that the death interrupted.
    ``work`` must be picklable (a module-level function or a ``functools.partial`` of one)
    for ``workers > 1`` and Dask.

    Parameters
    ----------
    workers : int
        1: in this process; more: a process pool of that size. Ignored with Dask.
    dask_address : str, optional
        Scheduler address of an existing ``dask.distributed`` cluster (e.g.
        ``tcp://10.0.0.5:8786``); its workers must be able to read the input paths.
    """
    if dask_address is not None:
        yield from _run_on_dask(studies, work, dask_address)
    elif workers <= 1:
        _init_worker()
        for study in studies:
            yield True, work(study)
    else:
        yield from _run_on_pool(studies, work, workers)


def _marked(work, marker: Path, study: Sequence[WorkItem]) -> list[ImageOutcome]:
    """``work(study)`` with ``marker`` present while it runs (it survives a crash)."""
    marker.touch()
    try:
        return work(study)
    finally:
        marker.unlink()


def _run_on_pool(studies, work, workers: int) -> Iterator[tuple[bool, list[ImageOutcome]]]:
    """A process pool that survives a worker dying (a decoder crash, the OOM killer).

    When a worker dies the pool fails every unfinished study. Those that were running (their
    marker file is left) are rerun one by one, each in a pool of its own, so that a crash is
    blamed on its own study only; those that had not started go to a fresh pool.
    """
    queue = list(range(len(studies)))
    with tempfile.TemporaryDirectory(prefix="mammo_cv-running-") as folder:
        while queue:
            running, waiting = [], []
            with ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context(),
                                     initializer=_init_worker) as pool:
                futures = {pool.submit(_marked, work, Path(folder) / str(i), studies[i]): i for i in queue}
                for future in as_completed(futures):
                    i = futures[future]
                    try:
                        yield True, future.result()
                    except BrokenProcessPool:
                        (running if (Path(folder) / str(i)).exists() else waiting).append(i)
                    except Exception as exc:  # outside analyze_study's per-image guard
                        yield False, _crashed(studies[i], exc)
            for i in sorted(running):
                (Path(folder) / str(i)).unlink()
                with ProcessPoolExecutor(max_workers=1, mp_context=_pool_context(),
                                         initializer=_init_worker) as alone:
                    try:
                        yield True, alone.submit(work, studies[i]).result()
                    except Exception as exc:  # it crashes alone: its own fault
                        yield False, _crashed(studies[i], exc)
            if waiting and not running:  # the pool broke with nothing running: do not loop
                for i in sorted(waiting):
                    yield False, _crashed(studies[i], RuntimeError("the worker pool could not start"))
                waiting = []
            queue = sorted(waiting)


def _run_on_dask(studies, work, address: str) -> Iterator[tuple[bool, list[ImageOutcome]]]:
    try:
        from distributed import Client, as_completed as dask_completed
    except ImportError as exc:
        raise ImportError('--dask needs dask.distributed: pip install "mammo_cv[dask]"') from exc
    with Client(address) as client:  # the default client while it is open (as_completed needs one)
        futures = {}
        for study in studies:
            futures[client.submit(work, study, pure=False)] = study  # a fresh key: never another run's result
        for future in dask_completed(list(futures)):
            try:
                yield True, future.result()
            except Exception as exc:  # a worker lost or a failure outside the per-image guard
                yield False, _crashed(futures[future], exc)
            future.release()


def _part_path(out_dir: Path, image_id: str) -> Path:
    return out_dir / PARTS_DIR / f"{image_id}.json"


def commit_outcome(out_dir: Path, outcome: ImageOutcome, *, settings: dict[str, object]) -> None:
    """Write one image's overlay (if any) and then its part, each atomically: a part that
    exists is complete, and its overlay is already in place."""
    image_id = str(outcome.image_row["image_id"])
    if outcome.overlay_png is not None:
        overlay = out_dir / OVERLAYS_DIR / f"{image_id}.png"
        temporary = overlay.with_name(f".{image_id}.png.tmp")
        temporary.write_bytes(outcome.overlay_png)
        os.replace(temporary, overlay)
    write_json_atomic(_part_path(out_dir, image_id),
                      part_to_json(outcome.image_row, outcome.calcifications, outcome.clusters, settings=settings))


def completed_part(out_dir: Path, item: WorkItem, *, settings: dict[str, object],
                   overlay: bool = False) -> ImageOutcome | None:
    """The committed outcome of ``item``, or None when it has no complete part (or, with
    ``overlay``, an analysed image has no overlay PNG: an earlier run had ``--no-overlays``).

    Raises
    ------
    ResumeMismatchError
        If the part was written with other settings (config digest, pixel spacing).
    """
    import json

    path = _part_path(out_dir, item.image_id)
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        row, calcs, clusters = part_from_json(payload)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # absent or not a complete part of this schema: the image is redone
    if payload.get("settings") != settings:
        raise ResumeMismatchError(
            f"{path}: made with settings {payload.get('settings')}, but this run has {settings}; "
            "resume with the same --rules and --pixel-spacing, or write to a new --out folder")
    if row["source_path"] != str(item.path):
        return None  # another file now has this id: redo it
    if overlay and row["status"] == "ok" and not (out_dir / OVERLAYS_DIR / f"{item.image_id}.png").is_file():
        return None
    return ImageOutcome(row, calcs, clusters)


def consolidate(outcomes: Sequence[ImageOutcome]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray],
                                                          dict[str, np.ndarray]]:
    """Stack outcomes (already in path order) into the images, calcifications and clusters tables."""
    images = {name: np.asarray([o.image_row[name] for o in outcomes], dtype=dtype) if outcomes
              else np.zeros(0, dtype) for name, dtype in IMAGE_COLUMNS.items()}
    return (images, concat_tables((o.calcifications for o in outcomes), CALCIFICATION_CSV_COLUMNS),
            concat_tables((o.clusters for o in outcomes), CLUSTER_CSV_COLUMNS))


def run_batch(studies: Sequence[Sequence[WorkItem]], *, out_dir: Path | None, settings: dict[str, object],
              pixel_spacing_mm: float | None = None, config: Config | None = None, overlays: bool = False,
              resume: bool = False, workers: int = 1, dask_address: str | None = None,
              progress: bool = True) -> list[ImageOutcome]:
    """Run the planned studies and return every image's outcome in path order.

    With ``out_dir``, each outcome is committed (overlay, then part) as its study finishes
    and the returned outcomes are read back from the parts, so a resumed run and an
    uninterrupted one give the same values. ``resume`` skips studies whose every image has a
    complete part made with the same ``settings``; without it, old parts are removed first.
    """
    from tqdm.auto import tqdm

    items = sorted((item for study in studies for item in study), key=lambda item: str(item.path))
    done: dict[str, ImageOutcome] = {}
    if out_dir is not None:
        (out_dir / PARTS_DIR).mkdir(parents=True, exist_ok=True)
        if overlays:
            (out_dir / OVERLAYS_DIR).mkdir(exist_ok=True)
        if resume:
            for item in items:
                outcome = completed_part(out_dir, item, settings=settings, overlay=overlays)
                if outcome is not None:
                    done[item.image_id] = outcome
        else:  # a fresh run: nothing of an earlier run in DIR may be taken for this one's
            for stale in [*(out_dir / PARTS_DIR).glob("*.json"), *(out_dir / OVERLAYS_DIR).glob("*.png")]:
                stale.unlink()
    todo = [study for study in studies if not all(item.image_id in done for item in study)]
    work = partial(analyze_study, pixel_spacing_mm=pixel_spacing_mm, config=config, overlays=overlays)
    bar = tqdm(total=len(items), initial=len(items) - sum(map(len, todo)), unit="file", file=sys.stderr,
               disable=not progress, smoothing=0.1, dynamic_ncols=True)
    try:
        for completed, outcomes in run_studies(todo, work, workers=workers, dask_address=dask_address):
            for outcome in outcomes:
                if out_dir is not None and completed:
                    commit_outcome(out_dir, outcome, settings=settings)
                    outcome = ImageOutcome(outcome.image_row, outcome.calcifications, outcome.clusters)
                done[str(outcome.image_row["image_id"])] = outcome
            bar.update(len(outcomes))
    finally:
        bar.close()
    if out_dir is not None:  # the same bytes whether an image was done now or before a resume
        done.update({item.image_id: completed_part(out_dir, item, settings=settings) or done[item.image_id]
                     for item in items})
    return [done[item.image_id] for item in items]


@dataclass(frozen=True)
class BatchResult:
    """Tables of a batch as pandas DataFrames with the CSV columns and their fixed dtypes.

    Attributes
    ----------
    images : pandas.DataFrame
        One row per input (``report.IMAGE_COLUMNS``).
    calcifications : pandas.DataFrame
        ``report.CALCIFICATION_CSV_COLUMNS``.
    clusters : pandas.DataFrame
        ``report.CLUSTER_CSV_COLUMNS``.
    errors : pandas.DataFrame
        The failed inputs: ``image_id``, ``source_path``, ``error``.
    """

    images: object
    calcifications: object
    clusters: object
    errors: object


def resolve_config(config: Config | str | os.PathLike[str] | None) -> Config:
    """``Config`` as given, the default one for None, or one with the rules file at a path.

    Raises
    ------
    RulesError
        If the rules file does not validate (the message names the key).
    """
    if config is None:
        return Config()
    if isinstance(config, Config):
        return config
    from mammo_cv.rules import load_rules

    return Config(rules=load_rules(config))


def analyze_batch(paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str], *, workers: int | None = None,
                  config: Config | str | os.PathLike[str] | None = None, progress: bool = True,
                  pixel_spacing_mm: float | None = None) -> BatchResult:
    """Analyse files and folders (searched recursively) in memory, study by study.

    Parameters
    ----------
    paths : path or sequence of paths
        Files and folders, as for ``mammo-cv analyze``.
    workers : int, optional
        Worker processes; default: the CPU count.
    config : Config or path, optional
        Settings; a path is a rules file (``Config(rules=load_rules(path))``).
    progress : bool
        Show a progress bar on stderr.
    pixel_spacing_mm : float, optional
        Spacing for raster files (and override of the DICOM tags).

    Returns
    -------
    BatchResult

    Examples
    --------
    >>> import pathlib, tempfile, cv2, numpy as np
    >>> from mammo_cv.phantoms import phantom
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> pixels = phantom(spacing_mm=0.2, seed=1).image.pixels  # 12-bit-like values
    >>> cv2.imwrite(str(folder / "p1.png"), np.rint(pixels * (255 / 4095)).astype(np.uint8))
    True
    >>> batch = analyze_batch(folder, workers=1, progress=False, pixel_spacing_mm=0.2)
    >>> batch.images[["image_id", "status"]].values.tolist()
    [['p1.png', 'ok']]
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    config = resolve_config(config)
    files, _ = discover_inputs(paths, take_raster=pixel_spacing_mm is not None)
    outcomes = run_batch(plan_studies(files), out_dir=None, settings={}, pixel_spacing_mm=pixel_spacing_mm,
                         config=config, workers=workers or os.cpu_count() or 1, progress=progress)
    images, calcs, clusters = consolidate(outcomes)
    images_df = to_dataframe(images, IMAGE_COLUMNS)
    errors = images_df.loc[images_df["status"] == "error", ["image_id", "source_path", "error"]]
    return BatchResult(images_df, to_dataframe(calcs, CALCIFICATION_CSV_COLUMNS),
                       to_dataframe(clusters, CLUSTER_CSV_COLUMNS), errors.reset_index(drop=True))
