"""The ``mammo-cv`` command: ``analyze`` folders of mammograms, ``inspect`` one file."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from mammo_cv import __version__

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
    analyze.add_argument("--quiet", action="store_true", help="no progress bar")

    inspect = commands.add_parser("inspect", help="print what the loader reads from one file")
    inspect.add_argument("file", type=Path, metavar="FILE")
    inspect.add_argument("--pixel-spacing", type=_positive_float, metavar="MM")
    return parser


def _inspect(args: argparse.Namespace) -> int:
    from mammo_cv.errors import MammoInputError
    from mammo_cv.io import load_image

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


def _analyze(args: argparse.Namespace) -> int:
    from mammo_cv.batch import discover_inputs, run_batch
    from mammo_cv.config import Config
    from mammo_cv.report import (CALCIFICATION_CSV_COLUMNS, CLUSTER_CSV_COLUMNS, IMAGE_COLUMNS, concat_tables,
                                 write_csv)

    try:
        files, skipped = discover_inputs(args.inputs, take_raster=args.pixel_spacing is not None)
    except FileNotFoundError as exc:
        print(f"mammo-cv: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not files:
        print("mammo-cv: no DICOM files found (raster files need --pixel-spacing)", file=sys.stderr)
        return EXIT_USAGE
    args.out.mkdir(parents=True, exist_ok=True)
    config = Config()
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    outcomes = run_batch(files, workers=args.workers, pixel_spacing_mm=args.pixel_spacing,
                         config=config, progress=not args.quiet)
    images = {name: [o.image_row[name] for o in outcomes] for name in IMAGE_COLUMNS}
    write_csv(args.out / "images.csv", images, IMAGE_COLUMNS)
    write_csv(args.out / "calcifications.csv",
              concat_tables((o.calcifications for o in outcomes), CALCIFICATION_CSV_COLUMNS),
              CALCIFICATION_CSV_COLUMNS)
    write_csv(args.out / "clusters.csv", concat_tables((o.clusters for o in outcomes), CLUSTER_CSV_COLUMNS),
              CLUSTER_CSV_COLUMNS)
    n_failed = sum(o.image_row["status"] != "ok" for o in outcomes)
    run = {"mammo_cv_version": __version__, "config_digest": config.digest(), "config": config.to_dict(),
           "arguments": {"inputs": [str(i) for i in args.inputs], "pixel_spacing": args.pixel_spacing,
                         "workers": args.workers},
           "started": started, "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
           "n_files": len(outcomes), "n_failed": n_failed, "skipped": skipped}
    (args.out / "run.json").write_text(json.dumps(run, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"mammo-cv: {len(outcomes) - n_failed} of {len(outcomes)} files analysed, results in {args.out}",
          file=sys.stderr)
    if n_failed == len(outcomes):
        return EXIT_USAGE
    return EXIT_SOME_FAILED if n_failed else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``mammo-cv``; returns the exit code (0 ok, 1 some files failed,
    2 usage error or nothing processed)."""
    args = _parser().parse_args(argv)
    return _inspect(args) if args.command == "inspect" else _analyze(args)


if __name__ == "__main__":
    sys.exit(main())
