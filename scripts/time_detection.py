"""Anatomy + detection time on the benchmark's 4096 x 3328 phantom, alone in a fresh process.

``scripts/benchmark.py`` times every stage inside one long process that keeps earlier results
alive; this script isolates the issue-3 figure (anatomy + detection <= 0.5 s on one core): the
benchmark's phantom DICOM (``benchmark.write_phantom_dicoms``) is loaded, and ``find_anatomy`` +
``detect_calcifications`` run 7 times; the medians are printed.

Usage: ``python scripts/time_detection.py``
"""

import os
import statistics
import tempfile
import time
from pathlib import Path

import cv2  # noqa: E402
from benchmark import write_phantom_dicoms  # first: it sets one-thread BLAS/OpenMP before numpy loads

from mammo_cv.anatomy.landmarks import find_anatomy  # noqa: E402
from mammo_cv.detection.detect import detect_calcifications  # noqa: E402
from mammo_cv.io import load_image  # noqa: E402

ROWS, COLS, SPACING_MM, REPEAT = 4096, 3328, 0.07, 7


def main() -> None:
    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory() as folder:
        path = write_phantom_dicoms(Path(folder), "phantom", ROWS, COLS, SPACING_MM)["explicit"]
        image = load_image(path)
    anatomy_s, detection_s = [], []
    for _ in range(REPEAT):
        start = time.perf_counter()
        anatomy = find_anatomy(image)
        middle = time.perf_counter()
        detect_calcifications(image, anatomy)
        anatomy_s.append(middle - start)
        detection_s.append(time.perf_counter() - middle)
    print(f"anatomy {statistics.median(anatomy_s):.3f} s, detection {statistics.median(detection_s):.3f} s, "
          f"together {statistics.median(a + d for a, d in zip(anatomy_s, detection_s)):.3f} s "
          f"(medians of {REPEAT}, one core, {os.getloadavg()[0]:.2f} load)")


if __name__ == "__main__":
    main()
