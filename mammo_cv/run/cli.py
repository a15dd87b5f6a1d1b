"""The ``mammo-cv`` command: ``analyze`` folders of mammograms, ``inspect`` one file, print the ``config``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from mammo_cv.config import resolve_config, settings_toml
from mammo_cv.core.errors import MammoInputError
from mammo_cv.core.version import __version__
from mammo_cv.io import load_image
from mammo_cv.review.gallery import write_gallery
from mammo_cv.run.batch import batch_tables, run_batch
from mammo_cv.run.discovery import discover_inputs, plan_studies
from mammo_cv.run.parts import ResumeMismatchError
from mammo_cv.tables.writers import write_csv, write_json_atomic, write_parquet

__all__ = ["main"]

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2


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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mammo-cv", description="Find and explain breast calcifications on mammograms.")
    parser.add_argument("--version", action="version", version=f"mammo_cv {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    analyze = commands.add_parser("analyze", help="analyse files and folders of mammograms")
    analyze.add_argument("inputs", nargs="+", metavar="INPUT",
                         help="DICOM/raster files, or folders searched recursively (DICOM by content)")
    analyze.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")
    analyze.add_argument("--pixel-spacing", type=_positive_float, metavar="MM",
                         help="pixel spacing in mm; overrides the header, and makes folders yield "
                              "PGM/PNG/TIFF files too (they carry no spacing)")
    analyze.add_argument("--workers", type=_positive_int, default=os.cpu_count() or 1, metavar="N",
                         help="worker processes (default: the CPU count)")
    analyze.add_argument("--config", type=Path, metavar="FILE",
                         help="settings file (TOML): any subset of the keys that `mammo-cv config --defaults` "
                              "prints; the rest keep their defaults")
    analyze.add_argument("--rules", type=Path, metavar="FILE",
                         help="classification rules file (TOML, any subset of the keys of "
                              "mammo_cv/classify/rules.toml); replaces the [rules.*] sections of --config")
    analyze.add_argument("--no-overlays", action="store_true", help="do not render overlays/<image_id>.png")
    analyze.add_argument("--resume", action="store_true",
                         help="keep the images already done in DIR (their parts) and do the rest")
    analyze.add_argument("--dask", metavar="ADDRESS",
                         help="run on an existing Dask distributed scheduler, e.g. tcp://host:8786 "
                              "(its workers must read the input paths); --workers is then ignored")
    analyze.add_argument("--quiet", action="store_true", help="no progress bar")

    inspect = commands.add_parser("inspect", help="print what the loader reads from one file")
    inspect.add_argument("file", type=Path, metavar="FILE")
    inspect.add_argument("--pixel-spacing", type=_positive_float, metavar="MM")

    config = commands.add_parser("config", help="print settings files")
    config.add_argument("--defaults", action="store_true", required=True,
                        help="print the full settings file: every key with its default, unit, range and description")
    return parser


def _inspect(args: argparse.Namespace) -> int:
    try:
        image = load_image(args.file, pixel_spacing_mm=args.pixel_spacing)
    except (MammoInputError, OSError) as exc:
        print(f"mammo-cv: {exc}", file=sys.stderr)
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


def _analyze(args: argparse.Namespace) -> int:
    started = _utc_now()
    try:
        config = resolve_config(args.config, rules=args.rules)  # a bad settings or rules file fails before any image
        files, skipped = discover_inputs(args.inputs, take_raster=args.pixel_spacing is not None)
    except (OSError, ValueError) as exc:  # a missing INPUT, settings or rules file that does not validate
        print(f"mammo-cv: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not files:
        print("mammo-cv: no DICOM files found (raster files need --pixel-spacing)", file=sys.stderr)
        return EXIT_USAGE
    args.out.mkdir(parents=True, exist_ok=True)
    settings = {"config_digest": config.digest(), "pixel_spacing_mm": args.pixel_spacing}
    try:
        outcomes = run_batch(plan_studies(files), out_dir=args.out, settings=settings,
                             pixel_spacing_mm=args.pixel_spacing, config=config, overlays=not args.no_overlays,
                             resume=args.resume, workers=args.workers, dask_address=args.dask,
                             progress=not args.quiet)
    except (ResumeMismatchError, ImportError, OSError) as exc:  # resume clash, no dask, unreachable scheduler
        print(f"mammo-cv: {exc}", file=sys.stderr)
        return EXIT_USAGE
    tables = batch_tables(outcomes, rules=config.rules)
    for name, (table, columns) in tables.items():
        write_csv(args.out / f"{name}.csv", table, columns)
        write_parquet(args.out / f"{name}.parquet", table, columns)
    images = tables["images"][0]
    write_gallery(args.out, images, tables["clusters"][0], calcifications=tables["calcifications"][0])
    n_failed = sum(status != "ok" for status in images["status"])
    write_json_atomic(args.out / "run.json", {
        "mammo_cv_version": __version__,
        "config_digest": config.digest(),
        "rules_digest": config.rules.digest,
        "settings_file": None if args.config is None else str(args.config.resolve()),
        "rules_file": None if args.rules is None else str(args.rules.resolve()),
        "config": config.to_dict(),
        "arguments": {"inputs": [str(i) for i in args.inputs], "out": str(args.out),
                      "pixel_spacing": args.pixel_spacing, "workers": args.workers,
                      "config": None if args.config is None else str(args.config),
                      "rules": None if args.rules is None else str(args.rules),
                      "no_overlays": args.no_overlays, "resume": args.resume, "dask": args.dask},
        "started_utc": started, "finished_utc": _utc_now(),
        "n_files": len(outcomes), "n_failed": n_failed, "skipped": skipped,
    })
    print(f"mammo-cv: {len(outcomes) - n_failed} of {len(outcomes)} files analysed, results in {args.out}",
          file=sys.stderr)
    if n_failed == len(outcomes):
        return EXIT_USAGE
    return EXIT_SOME_FAILED if n_failed else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``mammo-cv``; returns the exit code (0 ok, 1 some files failed,
    2 usage error or nothing processed)."""
    args = _parser().parse_args(argv)
    if args.command == "config":
        print(settings_toml(), end="")
        return EXIT_OK
    return _inspect(args) if args.command == "inspect" else _analyze(args)


if __name__ == "__main__":
    sys.exit(main())
