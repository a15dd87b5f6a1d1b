"""analyze_batch wherever Python runs: a script without a main guard, ``python -``, and a worker
pool that cannot start."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import mammo_cv
from mammo_cv.run import executors

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_dicoms"
SCRIPT = f"""
import mammo_cv
print("BODY", flush=True)
batch = mammo_cv.analyze_batch([{str(SAMPLES)!r}], workers=2, progress=False)
print("ROWS", len(batch.images), int((batch.images.status == "ok").sum()), len(batch.calcifications), flush=True)
"""


def _run(args: list[str], tmp_path: Path, stdin: str | None = None) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, *args], input=stdin, capture_output=True, text=True, cwd=tmp_path,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout.split()


def _check(words: list[str]) -> None:
    assert words.count("BODY") == 1, words  # the script body ran once: not again in each worker
    rows = words[words.index("ROWS") + 1:]
    n_files = len(list(SAMPLES.glob("*.dcm")))
    assert int(rows[0]) == int(rows[1]) == n_files and int(rows[2]) > 0, words


@pytest.mark.slow
def test_a_script_without_main_guard_gets_full_tables(tmp_path):
    (tmp_path / "script.py").write_text(SCRIPT)
    _check(_run(["script.py"], tmp_path))


@pytest.mark.slow
def test_a_script_on_stdin_gets_full_tables(tmp_path):
    _check(_run(["-"], tmp_path, stdin=SCRIPT))


def test_a_pool_that_cannot_start_runs_in_process_with_a_warning(monkeypatch):
    """Workers that exit in their initializer break the pool before any study runs: the batch
    warns and analyses every file in this process instead of returning error rows."""
    monkeypatch.setattr(executors, "_init_pool_worker", sys.exit)
    files = sorted(SAMPLES.glob("*.dcm"))[:2]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        batch = mammo_cv.analyze_batch(files, workers=2, progress=False)
    assert any("could not start" in str(w.message) for w in caught), [str(w.message) for w in caught]
    assert (batch.images.status == "ok").all() and len(batch.images) == len(files)
