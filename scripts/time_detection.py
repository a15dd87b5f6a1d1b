"""Anatomy + detection time on the benchmark's 4096 x 3328 phantom, alone in a fresh process.

``scripts/benchmark.py`` times every stage inside one long process that keeps earlier results
alive; this script isolates the issue-3 figure (anatomy + detection <= 0.5 s on one core): the
same phantom (seed 7, L MLO, 0.07 mm) is written as DICOM, loaded, and ``find_anatomy`` +
``detect_calcifications`` run 7 times; the medians are printed.

Usage: ``python scripts/time_detection.py``
"""

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402

from mammo_cv.anatomy import find_anatomy  # noqa: E402
from mammo_cv.detect import detect_calcifications  # noqa: E402
from mammo_cv.io import load_image, write_mammo_dicom  # noqa: E402
from mammo_cv.phantoms import phantom  # noqa: E402

ROWS, COLS, SPACING_MM, REPEAT = 4096, 3328, 0.07, 7


def main() -> None:
    cv2.setNumThreads(1)
    ph = phantom(spacing_mm=SPACING_MM, size_mm=(ROWS * SPACING_MM, COLS * SPACING_MM),
                 laterality="L", view="MLO", seed=7)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "phantom.dcm"
        write_mammo_dicom(path, ph.to_stored(bits_stored=14), spacing_mm=SPACING_MM, ermf=1.0,
                          laterality="L", view="MLO", bits_stored=14, uid_seed="time-detection")
        del ph
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
