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
import select
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from fuzz_corpus import mutants, small_sources, specials

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
    paths = specials(tmp_path)
    for source in small_sources(tmp_path / "sources"):
        paths += mutants(source, tmp_path, rng, n_cuts=16, n_flips=16)
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
        paths += mutants(source, tmp_path, rng, n_cuts=20, n_flips=15)
    counts = _check(paths, load_all([str(path) for path in paths]))
    assert counts.get("CorruptPixelDataError", 0) > 0
