"""The code checks CI runs: ruff (pyflakes, pycodestyle, import order) and the layers contract."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_ruff_finds_nothing():
    if shutil.which("ruff") is None:
        pytest.skip("ruff is not installed (pip install '.[test]')")
    done = _run(["ruff", "check", "--output-format", "concise", "."])
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def test_layers_import_only_downward():
    pytest.importorskip("importlinter", reason="import-linter is not installed (pip install '.[test]')")
    done = _run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command as c; "
                 "sys.argv = ['lint-imports']; c()"])
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout
