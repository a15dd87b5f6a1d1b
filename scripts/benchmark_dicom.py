"""Time what ``--dicom`` adds per image, on one core; write a JSON report and print a table.

Usage::

    python scripts/benchmark_dicom.py [--out benchmark_dicom.json] [--repeat 5] [--rows 4096 --cols 3328 --spacing 0.07]

The input is a phantom of ``--rows`` x ``--cols`` px at ``--spacing`` mm (seed 7, every calcification
type) written as an uncompressed DICOM and analysed once. Then, ``--repeat`` times, the steps
``--dicom`` adds to that image are timed: in the worker, reading the source header
(``read_source_header``), building the objects (``dicom_objects``) and encoding them as Part 10
bytes; in the main process, writing them atomically to ``dicom/``. The report gives the median
of each step (wall time), of their sum and of its CPU time (less sensitive to other load), the
number of calcifications and segments, and the bytes written.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import cv2  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from mammo_cv.core.files import write_bytes_atomic  # noqa: E402
from mammo_cv.io import write_mammo_dicom  # noqa: E402
from mammo_cv.pacs.export import OBJECT_KINDS, dicom_objects, read_source_header  # noqa: E402
from mammo_cv.pacs.part10 import part10_bytes  # noqa: E402
from mammo_cv.pipeline import analyze  # noqa: E402
from mammo_cv.synthetic.phantoms import phantom  # noqa: E402


def _timed(function, *args, **kwargs):
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - start


def _one_pass(path: Path, result, out_dir: Path) -> tuple[dict[str, float], int]:
    """Seconds of each step for one image (and the CPU seconds of all), and the bytes written."""
    cpu = time.process_time()
    source, t_header = _timed(read_source_header, path)
    objects, t_build = _timed(dicom_objects, source, result, config=result.config)
    encoded, t_encode = _timed(lambda: [part10_bytes(obj) for obj in objects])
    start = time.perf_counter()
    for kind, data in zip(OBJECT_KINDS, encoded, strict=True):
        write_bytes_atomic(out_dir / f"image_{kind}.dcm", data)
    t_write = time.perf_counter() - start
    seconds = {"read_header": t_header, "build": t_build, "encode": t_encode, "write": t_write}
    return seconds, sum(map(len, encoded)), time.process_time() - cpu


def measure(rows: int, cols: int, spacing_mm: float, repeat: int) -> dict[str, object]:
    """The report: median seconds per step over ``repeat`` passes on one analysed phantom."""
    with tempfile.TemporaryDirectory(prefix="mammo_cv-bench-dicom-") as folder:
        path = Path(folder) / "phantom.dcm"
        ph = phantom(spacing_mm=spacing_mm, size_mm=(rows * spacing_mm, cols * spacing_mm),
                     laterality="L", view="MLO", seed=7)
        write_mammo_dicom(path, ph.to_stored(bits_stored=14), spacing_mm=spacing_mm, laterality="L", view="MLO",
                          bits_stored=14, uid_seed="bench-dicom")
        result, t_analyze = _timed(analyze, path)
        _one_pass(path, result, Path(folder))  # the first pass loads highdicom's tables: not per image
        passes = [_one_pass(path, result, Path(folder)) for _ in range(repeat)]
    steps = {name: statistics.median(p[0][name] for p in passes) for name in passes[0][0]}
    labels = set(map(str, result.calc_table["label"]))
    return {
        "shape": [rows, cols], "spacing_mm": spacing_mm, "repeat": repeat, "kinds": list(OBJECT_KINDS),
        "n_calcifications": len(result.calc_table["calc_id"]), "n_segments": max(len(labels), 1),
        "bytes_written": passes[0][1], "analyze_seconds": t_analyze,
        "seconds": steps, "total_seconds": statistics.median(sum(p[0].values()) for p in passes),
        "total_cpu_seconds": statistics.median(p[2] for p in passes),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "load_avg": os.getloadavg()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("benchmark_dicom.json"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rows", type=int, default=4096)
    parser.add_argument("--cols", type=int, default=3328)
    parser.add_argument("--spacing", type=float, default=0.07, help="pixel spacing in mm")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    report = measure(args.rows, args.cols, args.spacing, args.repeat)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"--dicom on a {args.rows} x {args.cols} phantom ({report['n_calcifications']} calcifications, "
          f"{report['n_segments']} segments, {report['bytes_written'] / 1e6:.1f} MB), median of {args.repeat}:")
    for name, seconds in report["seconds"].items():
        print(f"  {name:12s} {seconds:7.3f} s")
    print(f"  {'total':12s} {report['total_seconds']:7.3f} s per image, {report['total_cpu_seconds']:.3f} s of CPU "
          f"(load average {report['machine']['load_avg'][0]:.1f} on {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
