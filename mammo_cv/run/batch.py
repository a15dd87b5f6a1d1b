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

import os
import pickle
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import numpy as np

from mammo_cv.classify.rules import Rules
from mammo_cv.config import Config, resolve_config
from mammo_cv.core.errors import PROPAGATED
from mammo_cv.core.optional import progress_bar_class, require
from mammo_cv.pipeline import analyze
from mammo_cv.pipeline.study import StudyImage, label_image_tables, pair_study, study_image
from mammo_cv.review.overlay import draw_overlay, encode_png, prepare_overlay
from mammo_cv.run.discovery import WorkItem, discover_inputs, plan_studies
from mammo_cv.run.executors import run_studies
from mammo_cv.run.limits import DEFAULT_TIME_LIMIT_S, file_time_limit
from mammo_cv.run.outcomes import ImageOutcome, consolidate, error_outcome, image_row, ok_outcome, one_line
from mammo_cv.run.parts import DICOM_DIR, OVERLAYS_DIR, PARTS_DIR, commit_outcome, completed_part, input_fingerprint
from mammo_cv.run.worker_setup import DEFAULT_MEMORY_LIMIT_GB
from mammo_cv.tables.breasts import breast_table
from mammo_cv.tables.schemas import BREAST_COLUMNS, CALCIFICATION_CSV_COLUMNS, CLUSTER_CSV_COLUMNS, IMAGE_COLUMNS
from mammo_cv.tables.writers import to_dataframe

__all__ = ["BatchResult", "DEFAULT_SPLIT_OVER", "analyze_study", "run_batch", "batch_tables", "analyze_batch"]

# Studies of more images than this are analysed image by image: a screening study has 4-8
# images, while a whole archive may share one Study UID (or ANONYMOUS and no date after
# de-identification) and would otherwise be one serial task that a crash takes out at once.
DEFAULT_SPLIT_OVER = 8


@dataclass(frozen=True)
class _Analysed:
    """What a study keeps of one analysed image until the study context is known: no pixels."""

    row: dict[str, object]
    calc_table: dict[str, np.ndarray]
    cluster_table: dict[str, np.ndarray]
    overlay: object  # OverlayBase (a few MB) or None without overlays
    seconds: float
    result: object = None  # with dicom: the Result without its pixels, for the DICOM objects


def _pacs_export():
    """:mod:`mammo_cv.pacs.export`, which needs the ``dicom`` extra (highdicom)."""
    require("highdicom", "dicom", purpose="--dicom (dicom=True)")
    from mammo_cv.pacs import export

    return export


def _without_pixels(result):
    """``result`` with its image pixels replaced by a zero-stride placeholder of the same shape:
    what the DICOM objects need (headers, tables, label image) stays, 4 bytes per pixel go."""
    placeholder = np.broadcast_to(np.float32(0), result.image.shape)
    return replace(result, image=replace(result.image, pixels=placeholder))


def _dicom_bytes(item: WorkItem, result, calc_table: dict[str, np.ndarray], cluster_table: dict[str, np.ndarray],
                 *, config: Config) -> tuple[tuple[str, bytes], ...]:
    """The DICOM objects of an analysed image with its final tables; none for a raster file."""
    export = _pacs_export()
    try:
        source = export.read_source_header(item.path)
        if source is None:
            return ()
        final = replace(result, calc_table=calc_table, cluster_table=cluster_table)
        return export.encoded_objects(source, final, config=config)
    except Exception as exc:  # name the step: the analysis itself went through
        raise RuntimeError(f"{item.path}: DICOM objects not built ({one_line(exc)})") from exc


def _guarded(exc: BaseException) -> BaseException:
    """``exc`` if a batch turns it into an error row; Ctrl-C and exits go on up
    (:data:`mammo_cv.core.errors.PROPAGATED`)."""
    if isinstance(exc, PROPAGATED):
        raise exc
    return exc


def _analyse_one(item: WorkItem, options: dict[str, object], *, config: Config, overlays: bool,
                 time_limit_s: float | None,
                 dicom: bool = False) -> tuple[StudyImage | None, _Analysed | None, ImageOutcome | None]:
    """Analyse one image, never raising for a bad file (any exception, ``BaseException`` such
    as a native decoder's panic included, is its error row). With ``dicom`` its Result is kept
    without pixels for its DICOM objects.

    Returns
    -------
    study : StudyImage or None
        Its facts for the study context, None if it could not be analysed.
    analysed : _Analysed or None
        Its tables and overlay base, None on error.
    error : ImageOutcome or None
        Its error row, or None.
    """
    start = time.perf_counter()
    try:
        with file_time_limit(str(item.path), time_limit_s):
            result = analyze(item.path, config=config, **options)
    except BaseException as exc:  # a batch records every failure and goes on
        return None, None, error_outcome(item, _guarded(exc), time.perf_counter() - start)
    study = study_image(result, item.study_key)
    try:
        with file_time_limit(str(item.path), time_limit_s):
            base = prepare_overlay(result) if overlays else None
        return study, _Analysed(image_row(item, result), result.calc_table, result.cluster_table, base,
                                time.perf_counter() - start, _without_pixels(result) if dicom else None), None
    except BaseException as exc:  # its tables still count for the other breast
        return study, None, error_outcome(item, _guarded(exc), time.perf_counter() - start)


def _finish_one(item: WorkItem, image: _Analysed, context, *, config: Config, overlays: bool,
                dicom: bool = False) -> ImageOutcome:
    """Label one analysed image's tables in its study ``context``, draw its overlay PNG and,
    with ``dicom``, build its DICOM objects."""
    start = time.perf_counter()
    try:
        calc_table, cluster_table = label_image_tables(image.calc_table, image.cluster_table,
                                                       rules=config.rules, study=context)
        png = encode_png(draw_overlay(image.overlay, calc_table, cluster_table),
                         config=image.overlay.config) if overlays else None
        objects = _dicom_bytes(item, image.result, calc_table, cluster_table, config=config) if dicom else ()
        return ok_outcome(item, image.row, calc_table, cluster_table, image.seconds + time.perf_counter() - start,
                          png, objects)
    except BaseException as exc:
        return error_outcome(item, _guarded(exc), image.seconds + time.perf_counter() - start)


def analyze_study(items: Sequence[WorkItem], *, pixel_spacing_mm: float | None = None,
                  config: Config | None = None, overlays: bool = False, laterality: str | None = None,
                  view: str | None = None, assume_mammogram: bool = False,
                  time_limit_s: float | None = None, dicom: bool = False) -> list[ImageOutcome]:
    """The work unit of a batch: analyse the images of one study, never raising for a bad file.

    Each image is analysed alone and only its tables and, with ``overlays``, its overlay base
    (:func:`mammo_cv.review.overlay.prepare_overlay`) are kept, so one image's pixels are in memory
    at a time. Then the classifier gets the study context (the other breast of the same study),
    every image's tables are reclassified and its overlay PNG drawn (to bytes, so that only the
    caller writes to the output folder). ``laterality`` and ``view`` override every file's, and
    ``assume_mammogram`` takes Secondary Capture and RG/OT objects as mammograms
    (:func:`mammo_cv.load_image`). An image whose analysis runs past ``time_limit_s`` seconds
    gets a :class:`~mammo_cv.run.limits.FileTimeLimitError` row. With ``dicom``, each DICOM
    image also gets its DICOM objects (:func:`mammo_cv.pacs.export.dicom_objects`, as bytes); its
    Result is kept without pixels until then (the label image and masks, about 6 bytes per pixel).

    Returns
    -------
    list of ImageOutcome
        In the order of ``items``; ``seconds`` is each image's own wall time.
    """
    config = config or Config()
    options = {"pixel_spacing_mm": pixel_spacing_mm, "laterality": laterality, "view": view,
               "assume_mammogram": assume_mammogram}
    kept: dict[int, _Analysed] = {}
    outcomes: dict[int, ImageOutcome] = {}
    analysed: dict[int, StudyImage] = {}  # every analysed image, for the study context
    for index, item in enumerate(items):
        study, image, error = _analyse_one(item, options, config=config, overlays=overlays,
                                           time_limit_s=time_limit_s, dicom=dicom)
        if study is not None:
            analysed[index] = study
        if image is not None:
            kept[index] = image
        if error is not None:
            outcomes[index] = error
        del image  # only the tables and the overlay base outlive the loop
    contexts = dict(zip(analysed, pair_study(list(analysed.values()))))
    for index in sorted(kept):
        outcomes[index] = _finish_one(items[index], kept.pop(index), contexts[index], config=config,
                                      overlays=overlays, dicom=dicom)
    return [outcomes[index] for index in range(len(items))]


class _ImageTask(list):
    """One image of a study too large for one task (a list of one WorkItem): analysed alone,
    finished once every image of its study is (:func:`_analyse_pending`, :func:`_finish_pending`)."""


@dataclass(frozen=True)
class _Pending:
    """What the main process gets of an analysed image of a split study: no tables, no pixels."""

    image_id: str
    study: StudyImage | None
    error: ImageOutcome | None


def _work_unit(task: Sequence[WorkItem], *, scratch: str | None, time_limit_s: float | None,
               **kwargs) -> list:
    """One task: a whole study (:func:`analyze_study`) or one image of a split study."""
    if isinstance(task, _ImageTask):
        return [_analyse_pending(task[0], Path(scratch), time_limit_s=time_limit_s, **kwargs)]
    return analyze_study(task, time_limit_s=time_limit_s, **kwargs)


def _analyse_pending(item: WorkItem, scratch: Path, *, config: Config | None, overlays: bool,
                     time_limit_s: float | None, dicom: bool = False, **options) -> _Pending:
    """Analyse one image of a split study and leave its tables and overlay base in ``scratch``."""
    study, image, error = _analyse_one(item, options, config=config or Config(), overlays=overlays,
                                       time_limit_s=time_limit_s, dicom=dicom)
    if image is not None:
        (scratch / f"{item.image_id}.pickle").write_bytes(pickle.dumps(image, protocol=pickle.HIGHEST_PROTOCOL))
    return _Pending(item.image_id, study, error)


def _finish_pending(task: Sequence[WorkItem], *, scratch: str, contexts: dict[str, object], config: Config | None,
                    overlays: bool, dicom: bool = False) -> list[ImageOutcome]:
    """Finish one image of a split study from its scratch file, given its study context."""
    item = task[0]
    path = Path(scratch) / f"{item.image_id}.pickle"
    image = pickle.loads(path.read_bytes())
    path.unlink()
    return [_finish_one(item, image, contexts[item.image_id], config=config or Config(), overlays=overlays,
                        dicom=dicom)]


def _tasks(studies: Sequence[Sequence[WorkItem]], split_over: int | None) -> list[Sequence[WorkItem]]:
    """One task per study, or per image for studies of more than ``split_over`` images."""
    tasks: list[Sequence[WorkItem]] = []
    for study in studies:
        if split_over is not None and len(study) > split_over:
            tasks.extend(_ImageTask([item]) for item in study)
        else:
            tasks.append(study)
    return tasks


def _contexts(studies: Sequence[Sequence[WorkItem]], pending: dict[str, _Pending]) -> dict[str, object]:
    """The study context of every analysed image of the split studies, by image_id."""
    contexts: dict[str, object] = {}
    for study in studies:
        facts = [(item.image_id, pending[item.image_id].study) for item in study
                 if item.image_id in pending and pending[item.image_id].study is not None]
        contexts.update(zip([image_id for image_id, _ in facts], pair_study([f for _, f in facts])))
    return contexts


def _analysed_ids(pending: dict[str, _Pending]) -> list[str]:
    return [image_id for image_id, p in pending.items() if p.error is None]


def _run_tasks(studies: Sequence[Sequence[WorkItem]], options: dict[str, object], *, split_over: int | None,
               **executor) -> Iterator[tuple[bool, list[ImageOutcome], int]]:
    """Run the studies, splitting the large ones; yield ``(completed, outcomes, n_images_done)``.

    The images of a split study are analysed as separate tasks that leave their tables and
    overlay base in a scratch folder; once every task is done, each analysed image of a split
    study is finished (labelled in its study context, overlay drawn) as a task of its own.
    """
    if executor.get("dask_address") is not None:
        split_over = None  # Dask workers may share no scratch folder with each other
    tasks = _tasks(studies, split_over)
    split = [study for study in studies if split_over is not None and len(study) > split_over]
    by_id = {item.image_id: item for study in split for item in study}
    pending: dict[str, _Pending] = {}
    with tempfile.TemporaryDirectory(prefix="mammo_cv-split-") as scratch:
        work = partial(_work_unit, scratch=scratch, **options)
        for completed, results in run_studies(tasks, work, **executor):
            outcomes = []
            for result in results:
                if isinstance(result, _Pending):
                    pending[result.image_id] = result
                    if result.error is not None:
                        outcomes.append(result.error)
                else:
                    outcomes.append(result)
            yield completed, outcomes, len(results)
        if not pending:
            return
        finish = partial(_finish_pending, scratch=scratch, contexts=_contexts(split, pending),
                         config=options["config"], overlays=options["overlays"], dicom=options["dicom"])
        for completed, outcomes in run_studies([[by_id[i]] for i in _analysed_ids(pending)], finish, **executor):
            yield completed, outcomes, 0


def run_batch(studies: Sequence[Sequence[WorkItem]], *, out_dir: Path | None, settings: dict[str, object],
              pixel_spacing_mm: float | None = None, config: Config | None = None, overlays: bool = False,
              resume: bool = False, workers: int = 1, dask_address: str | None = None,
              progress: bool = True, on_plan: Callable[[int, int], None] | None = None,
              laterality: str | None = None, view: str | None = None,
              assume_mammogram: bool = False, time_limit_s: float | None = DEFAULT_TIME_LIMIT_S,
              memory_limit_gb: float | None = DEFAULT_MEMORY_LIMIT_GB,
              split_over: int | None = DEFAULT_SPLIT_OVER, dicom: bool = False) -> list[ImageOutcome]:
    """Run the planned studies and return every image's outcome in path order.

    With ``out_dir``, each outcome is committed (overlay, then part) as its study finishes
    and the returned outcomes are read back from the parts, so a resumed run and an
    uninterrupted one give the same values. ``resume`` keeps studies whose every image has a
    complete, current part made with the same ``settings`` (:func:`completed_part`); without
    it, old parts are removed first. ``on_plan(n_kept, n_total)``, if given, is called with the
    image counts before the work starts. Studies of more than ``split_over`` images (None: no
    limit) are analysed image by image (:func:`_run_tasks`); each file gets ``time_limit_s``
    seconds, each pool worker ``memory_limit_gb`` GiB of address space (None: no limit).
    ``dicom`` adds each DICOM image's objects (``DIR/dicom/<image_id>_<kind>.dcm``, committed
    before its part; a resume redoes an image whose objects are missing); without ``out_dir``
    the outcomes keep their bytes.
    """
    items = sorted((item for study in studies for item in study), key=lambda item: str(item.path))
    kinds = _pacs_export().OBJECT_KINDS if dicom else ()  # a missing extra fails before any work
    done = _prepare_out_dir(out_dir, items, settings=settings, overlays=overlays, resume=resume, dicom_kinds=kinds)
    todo = [study for study in studies if not all(item.image_id in done for item in study)]
    if on_plan is not None:
        on_plan(len(items) - sum(map(len, todo)), len(items))
    sources = {item.image_id: input_fingerprint(item.path) for study in todo for item in study} if out_dir else {}
    options = {"pixel_spacing_mm": pixel_spacing_mm, "config": config, "overlays": overlays,
               "laterality": laterality, "view": view, "assume_mammogram": assume_mammogram,
               "time_limit_s": time_limit_s, "dicom": dicom}
    bar = progress_bar_class()(total=len(items), initial=len(items) - sum(map(len, todo)), unit="file",
                               file=sys.stderr, disable=not progress, smoothing=0.1, dynamic_ncols=True)
    try:
        for completed, outcomes, n_images in _run_tasks(todo, options, split_over=split_over, workers=workers,
                                                         dask_address=dask_address, memory_limit_gb=memory_limit_gb):
            for outcome in outcomes:
                image_id = str(outcome.image_row["image_id"])
                if out_dir is not None and completed:  # read back from its part at the end
                    commit_outcome(out_dir, outcome, settings=settings, source=sources[image_id])
                else:
                    done[image_id] = outcome
            bar.update(n_images)
    finally:
        bar.close()
    if out_dir is not None:  # the same bytes whether an image was done now or before a resume
        done.update({item.image_id: completed_part(out_dir, item, settings=settings, current=False)
                     or done[item.image_id] for item in items})
    return [done[item.image_id] for item in items]


def _prepare_out_dir(out_dir: Path | None, items: Sequence[WorkItem], *, settings: dict[str, object],
                     overlays: bool, resume: bool, dicom_kinds: tuple[str, ...] = ()) -> dict[str, ImageOutcome]:
    """Make the parts (and overlays, DICOM objects) folders; return the parts kept on ``resume``,
    or remove every old part, overlay and DICOM object."""
    done: dict[str, ImageOutcome] = {}
    if out_dir is None:
        return done
    (out_dir / PARTS_DIR).mkdir(parents=True, exist_ok=True)
    if overlays:
        (out_dir / OVERLAYS_DIR).mkdir(exist_ok=True)
    if dicom_kinds:
        (out_dir / DICOM_DIR).mkdir(exist_ok=True)
    if resume:
        for item in items:
            outcome = completed_part(out_dir, item, settings=settings, overlay=overlays, dicom_kinds=dicom_kinds)
            if outcome is not None:
                done[item.image_id] = outcome
    else:  # a fresh run: nothing of an earlier run in DIR may be taken for this one's
        for stale in [*(out_dir / PARTS_DIR).glob("*.json"), *(out_dir / OVERLAYS_DIR).glob("*.png"),
                      *(out_dir / DICOM_DIR).glob("*.dcm")]:
            stale.unlink()
    return done


def batch_tables(outcomes: Sequence[ImageOutcome], *, rules: Rules) -> dict[str, tuple[dict[str, np.ndarray], dict]]:
    """The output tables of a batch, ``<name>.csv`` -> (table, schema): images, calcifications,
    clusters (outcomes stacked in path order) and breasts (:func:`mammo_cv.tables.breast_table`
    with the run's ``rules``)."""
    images, calcs, clusters = consolidate(outcomes)
    return {"images": (images, IMAGE_COLUMNS), "calcifications": (calcs, CALCIFICATION_CSV_COLUMNS),
            "clusters": (clusters, CLUSTER_CSV_COLUMNS),
            "breasts": (breast_table(images, calcs, clusters, rules=rules), BREAST_COLUMNS)}


@dataclass(frozen=True)
class BatchResult:
    """Tables of a batch as pandas DataFrames with the CSV columns and their fixed dtypes.

    Attributes
    ----------
    images : pandas.DataFrame
        One row per input (``mammo_cv.tables.IMAGE_COLUMNS``).
    calcifications : pandas.DataFrame
        ``mammo_cv.tables.CALCIFICATION_CSV_COLUMNS``.
    clusters : pandas.DataFrame
        ``mammo_cv.tables.CLUSTER_CSV_COLUMNS``.
    breasts : pandas.DataFrame
        One row per study and laterality (``mammo_cv.tables.BREAST_COLUMNS``).
    errors : pandas.DataFrame
        The failed inputs: ``image_id``, ``source_path``, ``error``.
    dicom : dict of str to list of pydicom.Dataset
        With ``dicom=True``: ``image_id`` -> its DICOM objects (they carry the source's patient
        data); raster files have none. Empty otherwise.
    """

    images: object
    calcifications: object
    clusters: object
    breasts: object
    errors: object
    dicom: dict = field(default_factory=dict)


def analyze_batch(paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str], *, workers: int | None = None,
                  config: Config | str | os.PathLike[str] | None = None, progress: bool = True,
                  pixel_spacing_mm: float | None = None, laterality: str | None = None, view: str | None = None,
                  assume_mammogram: bool = False, dicom: bool = False) -> BatchResult:
    """Analyse files and folders (searched recursively) in memory, study by study.

    Parameters
    ----------
    paths : path or sequence of paths
        Files and folders, as for ``mammo-cv analyze``.
    workers : int, optional
        Worker processes; default: the CPU count.
    config : Config or path, optional
        Settings; a path is a settings file (:func:`mammo_cv.config.load_settings`).
    progress : bool
        Show a progress bar on stderr.
    pixel_spacing_mm : float, optional
        Spacing for raster files (and override of the DICOM tags).
    laterality, view : str, optional
        Side and view of every file, overriding the header (raster files carry none).
    assume_mammogram : bool
        Take Secondary Capture and RG/OT objects as mammograms (:func:`mammo_cv.load_image`).
    dicom : bool
        Also build each DICOM image's DICOM objects (:attr:`BatchResult.dicom`; needs the
        ``dicom`` extra).

    Returns
    -------
    BatchResult

    Examples
    --------
    >>> import pathlib, tempfile, cv2, numpy as np
    >>> from mammo_cv.synthetic.phantoms import phantom
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
                         config=config, workers=workers or os.cpu_count() or 1, progress=progress,
                         laterality=laterality, view=view, assume_mammogram=assume_mammogram, dicom=dicom)
    frames = {name: to_dataframe(table, columns)
              for name, (table, columns) in batch_tables(outcomes, rules=config.rules).items()}
    images_df = frames["images"]
    errors = images_df.loc[images_df["status"] == "error", ["image_id", "source_path", "error"]]
    objects = {str(o.image_row["image_id"]): [_pacs_export().decode_object(data) for _, data in o.dicom]
               for o in outcomes if o.dicom}
    return BatchResult(**frames, errors=errors.reset_index(drop=True), dicom=objects)
