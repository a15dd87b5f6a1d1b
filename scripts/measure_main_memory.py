"""Measure the resident memory of the main process of ``mammo-cv analyze`` over a long run.

Usage::

    python scripts/measure_main_memory.py [--files 1000] [--workers 2] [--work-dir DIR]

Writes ``--files`` small phantom DICOMs (0.3 mm, 100 x 80 mm: 333 x 267 px; two views per
study), runs ``python -m mammo_cv.run.cli analyze`` on them with overlays, and samples the main
process's ``VmRSS`` (``/proc/PID/status``, Linux) every 0.1 s together with the number of parts
committed so far. Prints the samples' least-squares slope in MB per 1000 files over the middle
of the run (10 % to 95 % of the parts: start-up and the final tables left out), and the RSS at
both ends. A main process that keeps the overlay PNG bytes of finished studies grows by their
size (about 0.1 MB per file here); one that keeps nothing stays flat.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from mammo_cv.io import write_mammo_dicom
from mammo_cv.synthetic.phantoms import phantom

SPACING_MM = 0.3


def write_inputs(folder: Path, n_files: int) -> None:
    """``n_files`` phantom DICOMs, two views (L, R) per study, from two anatomies."""
    stored = {side: phantom(spacing_mm=SPACING_MM, size_mm=(100.0, 80.0), laterality=side, view="CC",
                            seed=1).to_stored() for side in ("L", "R")}
    for k in range(n_files):
        side, study = "LR"[k % 2], f"m{k // 2:05d}"
        (folder / study).mkdir(parents=True, exist_ok=True)
        write_mammo_dicom(folder / study / f"{side}CC.dcm", stored[side], spacing_mm=SPACING_MM, laterality=side,
                          view="CC", uid_seed=f"{study}-{side}", study_uid_seed=study)


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def sample_run(inputs: Path, out: Path, workers: int) -> list[tuple[int, float]]:
    """Run the command; return (parts committed, main RSS in MB) every 0.1 s until it ends."""
    command = [sys.executable, "-m", "mammo_cv.run.cli", "analyze", str(inputs), "--out", str(out),
               "--workers", str(workers), "--quiet"]
    process = subprocess.Popen(command)
    samples = []
    while process.poll() is None:
        rss = _rss_mb(process.pid)
        if rss is not None and (out / ".parts").is_dir():
            samples.append((sum(1 for _ in (out / ".parts").glob("*.json")), rss))
        time.sleep(0.1)
    if process.returncode != 0:
        raise SystemExit(f"the run failed with exit code {process.returncode}")
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--work-dir", type=Path, help="keep the inputs and outputs here (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mammo_cv-memory-") as scratch:
        root = args.work_dir or Path(scratch)
        inputs = root / "in"
        if not inputs.is_dir():
            write_inputs(inputs, args.files)
        elif sum(1 for _ in inputs.rglob("*.dcm")) != args.files:
            raise SystemExit(f"{inputs} holds another number of files than --files")
        samples = sample_run(inputs, root / "out", args.workers)
    parts = np.array([s[0] for s in samples], float)
    rss = np.array([s[1] for s in samples])
    middle = (parts >= 0.10 * args.files) & (parts <= 0.95 * args.files)
    slope = np.polyfit(parts[middle], rss[middle], 1)[0] * 1000 if middle.sum() >= 2 else float("nan")
    print(f"files {args.files}, workers {args.workers}, samples {len(samples)} ({int(middle.sum())} in the middle)")
    print(f"main RSS: {rss[middle][0]:.1f} MB at {int(parts[middle][0])} parts, "
          f"{rss[middle][-1]:.1f} MB at {int(parts[middle][-1])} parts, peak {rss.max():.1f} MB")
    print(f"slope: {slope:+.2f} MB per 1000 files")


if __name__ == "__main__":
    main()
