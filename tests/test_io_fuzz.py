"""The io fuzz corpus: mutated DICOMs (truncation at many offsets, seeded header and pixel byte
flips) and special files, generated here and never committed.

Target: ``load_image`` on every file returns or raises a ``MammoInputError`` subclass whose
message names the file, within a per-file time limit (``PER_FILE_SECONDS``); nothing else
escapes, nothing hangs, and the process never dies. The files are loaded one after the other in
a child process that reports each outcome as a JSON line; a file that takes longer than the
limit is recorded as a hang, the child is killed and restarted after it.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mammo_cv.io import write_mammo_dicom

SAMPLES = Path(__file__).resolve().parents[1] / "sample_dicoms"

# The per-file time limit: the largest sample loads in well under a second on one core.
PER_FILE_SECONDS = 30.0

_CHILD = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
from mammo_cv.core.errors import MammoInputError
from mammo_cv.io import load_image
for index, path in enumerate(json.loads(sys.stdin.readline())):
    try:
        load_image(path, decode_threads=1)
        report = {"outcome": "ok"}
    except MammoInputError as exc:
        report = {"outcome": "input error", "type": type(exc).__name__, "names_file": str(exc).startswith(path + ": ")}
    except BaseException as exc:
        report = {"outcome": "escaped", "type": type(exc).__name__, "message": str(exc)[:300]}
    print(json.dumps({"index": index, **report}), flush=True)
"""


def load_all(paths: list[str]) -> list[dict]:
    """The outcome of ``load_image`` on each path, in order (see the module docstring)."""
    outcomes: list[dict] = []
    while len(outcomes) < len(paths):
        rest = paths[len(outcomes):]
        child = subprocess.Popen([sys.executable, "-c", _CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True)
        child.stdin.write(json.dumps(rest) + "\n")
        child.stdin.flush()
        done = 0
        while done < len(rest):
            ready, _, _ = select.select([child.stdout], [], [], PER_FILE_SECONDS)
            line = child.stdout.readline() if ready else ""
            if not line:  # hang (timeout) or death (end of output)
                hung = not ready
                child.kill()
                outcomes.append({"outcome": "hang" if hung else "child died", "code": child.wait()})
                break
            outcomes.append(json.loads(line))
            done += 1
        else:
            child.wait(timeout=PER_FILE_SECONDS)
        child.stdin.close()
        child.stdout.close()
    return outcomes


def _mutants(source: Path, folder: Path, rng: np.random.Generator, *, n_cuts: int, n_flips: int) -> list[Path]:
    """Truncations of ``source`` at ``n_cuts`` offsets and ``n_flips`` header and ``n_flips``
    pixel-data byte-flip variants (1 to 8 bytes each), written to ``folder``."""
    data = source.read_bytes()
    pixel_start = data.rfind(b"\xe0\x7f\x10\x00")  # the Pixel Data (7FE0,0010) element
    pixel_start = pixel_start if pixel_start > 0 else len(data) // 2
    header_cuts = [1, 64, 128, 131, 132, 136, 150, 200, 300, 500]
    cuts = sorted(set(header_cuts[:n_cuts // 2]) | {int(x) for x in np.linspace(pixel_start - 8, len(data) - 1,
                                                                                 n_cuts - n_cuts // 2)})
    out = []
    for cut in cuts:
        out.append(folder / f"{source.stem}_cut{cut}.dcm")
        out[-1].write_bytes(data[:cut])
    for region, (low, high) in (("head", (0, pixel_start + 16)), ("pixels", (pixel_start + 16, len(data)))):
        for k in range(n_flips):
            mutated = bytearray(data)
            for offset in rng.integers(low, high, int(rng.integers(1, 9))):
                mutated[offset] ^= int(rng.integers(1, 256))
            out.append(folder / f"{source.stem}_{region}{k}.dcm")
            out[-1].write_bytes(bytes(mutated))
    return out


def _small_sources(folder: Path) -> list[Path]:
    """Small phantom-like DICOMs in native, RLE and JPEG 2000 storage, MONOCHROME1 and 2."""
    rng = np.random.default_rng(7)
    stored = (rng.normal(1800, 60, (160, 128)).clip(0, 4095)).astype(np.uint16)
    stored[40:120, 10:90] += 600
    folder.mkdir(parents=True, exist_ok=True)
    sources = []
    for syntax, photometric in (("explicit", "MONOCHROME2"), ("rle", "MONOCHROME1"),
                                ("j2k_lossless", "MONOCHROME2")):
        path = folder / f"small_{syntax}.dcm"
        write_mammo_dicom(path, stored, spacing_mm=0.1, laterality="R", view="MLO", photometric=photometric,
                          transfer_syntax=syntax, uid_seed=syntax)
        sources.append(path)
    return sources


def _specials(folder: Path) -> list[Path]:
    """Random bytes and a PNG under DICOM names, an empty file, a FIFO and a link to /dev/zero."""
    import cv2

    (folder / "random.dcm").write_bytes(np.random.default_rng(3).integers(0, 256, 5000, np.uint8).tobytes())
    (folder / "png.dcm").write_bytes(cv2.imencode(".png", np.full((16, 16), 9, np.uint8))[1].tobytes())
    (folder / "empty.dcm").write_bytes(b"")
    paths = [folder / "random.dcm", folder / "png.dcm", folder / "empty.dcm"]
    if hasattr(os, "mkfifo") and os.path.exists("/dev/zero"):
        os.mkfifo(folder / "fifo.dcm")
        (folder / "zero.dcm").symlink_to("/dev/zero")
        paths += [folder / "fifo.dcm", folder / "zero.dcm"]
    return paths


def _check(paths: list[Path], outcomes: list[dict]) -> dict[str, int]:
    bad = {str(path): outcome for path, outcome in zip(paths, outcomes)
           if outcome["outcome"] not in ("ok", "input error") or not outcome.get("names_file", True)}
    assert not bad, f"{len(bad)} of {len(paths)} files broke the contract: {dict(list(bad.items())[:5])}"
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.get("type", "ok")] = counts.get(outcome.get("type", "ok"), 0) + 1
    return counts


def test_fuzz_corpus_of_small_files(tmp_path):
    """About 150 files: every one loads or is a MammoInputError naming it, none hangs."""
    rng = np.random.default_rng(0)
    paths = _specials(tmp_path)
    for source in _small_sources(tmp_path / "sources"):
        paths += _mutants(source, tmp_path, rng, n_cuts=16, n_flips=16)
    counts = _check(paths, load_all([str(path) for path in paths]))
    assert len(paths) > 140
    assert counts.get("ok", 0) > 0 and counts.get("NotDicomError", 0) > 0  # the corpus holds both kinds


@pytest.mark.slow
def test_fuzz_corpus_of_the_sample_dicoms(tmp_path):
    """About 250 mutants of the five committed sample DICOMs (native, RLE, JPEG 2000)."""
    sources = sorted(SAMPLES.glob("*.dcm"))
    if not sources:
        pytest.skip("no sample_dicoms/ in this checkout")
    rng = np.random.default_rng(1)
    paths = []
    for source in sources:
        paths += _mutants(source, tmp_path, rng, n_cuts=20, n_flips=15)
    counts = _check(paths, load_all([str(path) for path in paths]))
    assert counts.get("CorruptPixelDataError", 0) > 0
