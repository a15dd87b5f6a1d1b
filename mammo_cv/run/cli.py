"""The ``mammo-cv`` command: ``analyze`` folders of mammograms, ``inspect`` one file, print the ``config``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from mammo_cv.config import resolve_config, settings_toml
from mammo_cv.core.errors import MammoInputError
from mammo_cv.core.types import View
from mammo_cv.core.version import __version__
from mammo_cv.io import load_image
from mammo_cv.review.gallery import write_gallery
from mammo_cv.run.archive import add_archive_options, archive_usage_error, retrieve_inputs, send_results
from mammo_cv.run.batch import DEFAULT_SPLIT_OVER, batch_tables, run_batch
from mammo_cv.run.discovery import discover_inputs, plan_studies
from mammo_cv.run.limits import DEFAULT_TIME_LIMIT_S
from mammo_cv.run.messages import HINTS, error_type, failure_summary, interrupted_message, resume_message
from mammo_cv.run.outcomes import one_line
from mammo_cv.run.outfolder import OutFolderBusyError, locked_out_folder, remove_results
from mammo_cv.run.parts import DICOM_DIR, OVERLAYS_DIR, PARTS_DIR, ResumeMismatchError, completed_part
from mammo_cv.run.worker_setup import DEFAULT_MEMORY_LIMIT_GB
from mammo_cv.tables.writers import write_csv, write_json_atomic, write_parquet

__all__ = ["main"]

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

_EXIT_CODES = """exit codes:
  0    every file succeeded
  1    some files failed (status = error in images.csv) and the rest are done
  2    usage error, a file inspect cannot read, nothing could be processed, or another
       run holds the --out folder
  130  interrupted (Ctrl-C); finish the run with --resume"""

_EXAMPLES = """examples:
  mammo-cv analyze sample_dicoms --out results
  mammo-cv analyze /data/mini-mias --pixel-spacing 0.2 --workers 2 --out mias-results
  mammo-cv analyze /data/mini-mias --pixel-spacing 0.2 --out mias-results --resume
  mammo-cv analyze scan.png --pixel-spacing 0.1 --laterality L --view MLO --out one
  mammo-cv inspect sample_dicoms/s01_LCC_proc_m2_explicit.dcm
  mammo-cv config --defaults > settings.toml"""


def _positive_float(text: str) -> float:
    value = float(text)
    if not 0 < value < 5:
        raise argparse.ArgumentTypeError(f"pixel spacing must be in (0, 5) mm, got {text}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def _positive_or_none(text: str) -> float | None:
    """A positive number, or ``0``/``none`` for no limit."""
    if text.lower() in ("0", "none"):
        return None
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0 (or 0 / none for no limit), got {text}")
    return value


def _limit_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--time-limit", type=_positive_or_none, default=DEFAULT_TIME_LIMIT_S, metavar="S",
                        help="seconds one file may take; past it the file gets an error row "
                             f"(FileTimeLimitError) and the run goes on (default {DEFAULT_TIME_LIMIT_S:g}; 0: none)")
    parser.add_argument("--memory-limit", type=_positive_or_none, default=DEFAULT_MEMORY_LIMIT_GB, metavar="GB",
                        help="address space of each worker process in GiB (RLIMIT_AS); a file needing more gets "
                             f"an error row (MemoryError) (default {DEFAULT_MEMORY_LIMIT_GB:g}; 0: none; "
                             "not applied with --workers 1 or --dask)")
    parser.add_argument("--split-over", type=_positive_int, default=DEFAULT_SPLIT_OVER, metavar="N",
                        help="studies of more than N images are analysed image by image, and only their "
                             f"study context waits for all of them (default {DEFAULT_SPLIT_OVER})")


def _label_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--laterality", type=str.upper, choices=["L", "R"],
                        help="breast side of every file, overriding the header (raster files carry none)")
    parser.add_argument("--view", type=str.upper, choices=[view.value for view in View if view is not View.UNKNOWN],
                        help="view of every file, overriding the header (raster files carry none)")
    parser.add_argument("--assume-mammogram", action="store_true",
                        help="take Secondary Capture and Modality RG/OT objects (film exports) as mammograms; "
                             "recorded in images.csv (assumed_mammogram)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mammo-cv", description="Find and explain breast calcifications on mammograms.",
        epilog=f"{_EXAMPLES}\n\n{_EXIT_CODES}", formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"mammo_cv {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    analyze = commands.add_parser("analyze", help="analyse files and folders of mammograms",
                                  epilog=f"{_EXAMPLES}\n\n{_EXIT_CODES}",
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    analyze.add_argument("inputs", nargs="*", metavar="INPUT",
                         help="DICOM/raster files, or folders searched recursively (DICOM by content); "
                              "optional with --dicomweb")
    analyze.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")
    analyze.add_argument("--pixel-spacing", type=_positive_float, metavar="MM",
                         help="pixel spacing in mm; overrides the header, and makes folders yield "
                              "PGM/PNG/TIFF files too (they carry no spacing)")
    _label_options(analyze)
    _limit_options(analyze)
    analyze.add_argument("--workers", type=_positive_int, default=os.cpu_count() or 1, metavar="N",
                         help="worker processes (default: the CPU count)")
    analyze.add_argument("--config", type=Path, metavar="FILE",
                         help="settings file (TOML): any subset of the keys that `mammo-cv config --defaults` "
                              "prints; the rest keep their defaults")
    analyze.add_argument("--rules", type=Path, metavar="FILE",
                         help="classification rules file (TOML, any subset of the keys of "
                              "mammo_cv/classify/rules.toml); replaces the [rules.*] sections of --config")
    analyze.add_argument("--no-overlays", action="store_true", help="do not render overlays/<image_id>.png")
    analyze.add_argument("--dicom", action="store_true",
                         help="also write dicom/<image_id>_seg.dcm for every DICOM input: a DICOM Segmentation "
                              "that carries the source's patient and study data (needs mammo_cv[dicom])")
    add_archive_options(analyze)
    analyze.add_argument("--resume", action="store_true",
                         help="keep the images already done in DIR (their parts) and do the rest")
    analyze.add_argument("--dask", metavar="ADDRESS",
                         help="run on an existing Dask distributed scheduler, e.g. tcp://host:8786 "
                              "(its workers must read the input paths); --workers is then ignored")
    analyze.add_argument("--quiet", action="store_true", help="no progress bar")

    inspect = commands.add_parser(
        "inspect", help="print what the loader reads from one file",
        epilog="example:\n  mammo-cv inspect scan.png --pixel-spacing 0.1\n\n"
               "exit codes:\n  0    the file was read\n  2    it cannot be read (the message says why and what to do)",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    inspect.add_argument("file", type=Path, metavar="FILE")
    inspect.add_argument("--pixel-spacing", type=_positive_float, metavar="MM")
    _label_options(inspect)

    config = commands.add_parser("config", help="print settings files")
    config.add_argument("--defaults", action="store_true", required=True,
                        help="print the full settings file: every key with its default, unit, range and description")
    return parser


def _load_error(path: Path, exc: BaseException) -> str:
    """The message for a file that cannot be loaded: the error as ``images.csv`` gives it, and its hint."""
    if isinstance(exc, FileNotFoundError):
        return f"{path}: no such file"
    if isinstance(exc, IsADirectoryError):
        return f"{path}: is a folder; inspect reads one file (analyze takes folders)"
    text = one_line(exc) if isinstance(exc, MammoInputError) else f"{type(exc).__name__}: {path}: {exc.strerror}"
    hint = HINTS.get(error_type(text))
    return text if hint is None else f"{text}\n  hint {hint}"


def _inspect(args: argparse.Namespace) -> int:
    try:
        image = load_image(args.file, pixel_spacing_mm=args.pixel_spacing, laterality=args.laterality,
                           view=args.view, assume_mammogram=args.assume_mammogram)
    except (MammoInputError, OSError) as exc:
        print(f"mammo-cv: {_load_error(args.file, exc)}", file=sys.stderr)
        return EXIT_USAGE
    facts = {
        "source_path": image.source_path, "rows": image.shape[0], "cols": image.shape[1],
        "spacing_mm": list(image.spacing_mm), "spacing_source": image.spacing_source,
        "laterality": image.laterality.value, "view": image.view.value,
        "presentation_intent": image.presentation_intent.value, "photometric": image.photometric,
        "bits_stored": image.bits_stored, "display_window": image.display_window,
        "pixel_min": float(image.pixels.min()), "pixel_max": float(image.pixels.max()),
    }
    print(json.dumps(facts, indent=2))
    return EXIT_OK


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _images_done(out_dir: Path, studies, settings: dict[str, object]) -> int:
    """How many images ``--resume`` will keep: those of the studies whose every image has a committed part."""
    return sum(len(study) for study in studies
               if all(completed_part(out_dir, item, settings=settings) is not None for item in study))


def _remove_stale(out_dir: Path, image_ids: set[str]) -> None:
    """Remove the parts, overlays and DICOM objects of images that are not in this run (left by an earlier one)."""
    for folder, suffix in ((PARTS_DIR, ".json"), (OVERLAYS_DIR, ".png")):
        for path in (out_dir / folder).glob(f"*{suffix}"):
            if path.name[: -len(suffix)] not in image_ids:
                path.unlink()
    for path in (out_dir / DICOM_DIR).glob("*.dcm"):  # <image_id>_<kind>.dcm
        if path.name.rsplit("_", 1)[0] not in image_ids:
            path.unlink()


def _write_tables(out_dir: Path, outcomes, rules) -> dict[str, np.ndarray]:
    """The CSV and Parquet tables (:func:`mammo_cv.run.batch.batch_tables`) and the gallery of a
    run; returns the images table."""
    tables = batch_tables(outcomes, rules=rules)
    for name, (table, columns) in tables.items():
        write_csv(out_dir / f"{name}.csv", table, columns)
        write_parquet(out_dir / f"{name}.parquet", table, columns)
    write_gallery(out_dir, tables["images"][0], tables["clusters"][0], calcifications=tables["calcifications"][0])
    return tables["images"][0]


def _run_json(args: argparse.Namespace, config, *, started: str, n_files: int, n_failed: int,
              skipped: list[str], sends: dict[str, object] | None = None) -> dict[str, object]:
    return {
        "mammo_cv_version": __version__,
        "config_digest": config.digest(),
        "rules_digest": config.rules.digest,
        "settings_file": None if args.config is None else str(args.config.resolve()),
        "rules_file": None if args.rules is None else str(args.rules.resolve()),
        "config": config.to_dict(),
        "arguments": {"inputs": [str(i) for i in args.inputs], "out": str(args.out),
                      "pixel_spacing": args.pixel_spacing, "laterality": args.laterality, "view": args.view,
                      "assume_mammogram": args.assume_mammogram,
                      "workers": args.workers,
                      "config": None if args.config is None else str(args.config),
                      "rules": None if args.rules is None else str(args.rules),
                      "no_overlays": args.no_overlays, "dicom": args.dicom, "resume": args.resume,
                      "dask": args.dask, "dicomweb": args.dicomweb, "n_studies": len(args.study or []),
                      "send": args.send, "time_limit": args.time_limit, "memory_limit": args.memory_limit,
                      "split_over": args.split_over},
        "started_utc": started, "finished_utc": _utc_now(),
        "n_files": n_files, "n_failed": n_failed, "skipped": skipped, "sends": sends,
    }


def _say(line: str) -> None:
    print(f"mammo-cv: {line}", file=sys.stderr)


def _analyze(args: argparse.Namespace) -> int:
    started = _utc_now()
    if (usage := archive_usage_error(args)) is not None:
        _say(usage)
        return EXIT_USAGE
    try:
        config = resolve_config(args.config, rules=args.rules)  # a bad settings or rules file fails before any image
    except (OSError, ValueError) as exc:
        _say(str(exc))
        return EXIT_USAGE
    try:
        with locked_out_folder(args.out):  # the archive's cache is in DIR too
            return _analyze_locked(args, config, started)
    except OutFolderBusyError as exc:
        _say(str(exc))
        return EXIT_USAGE


def _inputs(args: argparse.Namespace) -> tuple[list, list]:
    """The files to analyse (retrieved from ``--dicomweb`` as well) and the skipped entries."""
    retrieved = retrieve_inputs(args)
    return discover_inputs([*args.inputs, *retrieved], take_raster=args.pixel_spacing is not None)


def _analyze_locked(args: argparse.Namespace, config, started: str) -> int:
    """The run itself, holding the lock of ``--out``: old results are removed first, written again at the end."""
    try:
        files, skipped = _inputs(args)
    except (OSError, ValueError, RuntimeError, ImportError) as exc:  # a missing INPUT, an archive that fails,
        _say(str(exc))  # no mammo_cv[dicom]
        return EXIT_USAGE
    if not files:
        _say("no DICOM files found (raster files need --pixel-spacing)")
        return EXIT_USAGE
    remove_results(args.out)
    settings = {"config_digest": config.digest(), "pixel_spacing_mm": args.pixel_spacing}
    settings.update({name: getattr(args, name) for name in ("laterality", "view", "assume_mammogram")
                     if getattr(args, name)})
    studies = plan_studies(files)
    items = [item for study in studies for item in study]
    kept: list[int] = []

    def on_plan(n_kept: int, n_total: int) -> None:
        kept.append(n_kept)
        if args.resume:
            _say(resume_message(n_kept, n_total))

    try:
        outcomes = run_batch(studies, out_dir=args.out, settings=settings,
                             pixel_spacing_mm=args.pixel_spacing, config=config, overlays=not args.no_overlays,
                             resume=args.resume, workers=args.workers, dask_address=args.dask,
                             progress=not args.quiet, on_plan=on_plan, laterality=args.laterality,
                             view=args.view, assume_mammogram=args.assume_mammogram, dicom=args.dicom,
                             time_limit_s=args.time_limit, memory_limit_gb=args.memory_limit,
                             split_over=args.split_over)
    except (ResumeMismatchError, ImportError, OSError) as exc:  # resume clash, no dask, unreachable scheduler
        _say(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _say(interrupted_message(_images_done(args.out, studies, settings), len(items)))
        return EXIT_INTERRUPTED
    _remove_stale(args.out, {item.image_id for item in items})
    images = _write_tables(args.out, outcomes, config.rules)
    n_failed = sum(status != "ok" for status in images["status"])
    sends = send_results(args, items, outcomes)
    write_json_atomic(args.out / "run.json", _run_json(args, config, started=started, n_files=len(outcomes),
                                                      n_failed=n_failed, skipped=skipped, sends=sends))
    resumed = f" ({kept[0]} kept from the earlier run, {len(items) - kept[0]} redone)" if args.resume else ""
    _say(f"{len(outcomes) - n_failed} of {len(outcomes)} files analysed{resumed}, results in {args.out}")
    if n_failed:
        _say("failures by type (every file's error is in images.csv):")
        for line in failure_summary(images):
            print(f"  {line}", file=sys.stderr)
    if sends is not None:
        _say(f"{sends['n_images'] - sends['n_failed']} of {sends['n_images']} images' objects stored in {args.send}")
    if n_failed == len(outcomes):
        return EXIT_USAGE
    return EXIT_SOME_FAILED if n_failed or (sends and sends["n_failed"]) else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``mammo-cv``; returns the exit code (0 ok, 1 some files failed,
    2 usage error or nothing processed, 130 interrupted)."""
    args = _parser().parse_args(argv)
    if args.command == "config":
        print(settings_toml(), end="")
        return EXIT_OK
    try:
        return _inspect(args) if args.command == "inspect" else _analyze(args)
    except KeyboardInterrupt:  # before or after the batch itself (which reports its own)
        _say("interrupted")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
