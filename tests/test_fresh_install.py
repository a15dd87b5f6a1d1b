"""A fresh venv with only ``pip install .`` runs every line of the README's Python example
(scripts/check_fresh_install.py; about 100 s for the install, 10 s for the example, on 2 cores)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from script_modules import load_script

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "check_fresh_install.py"
_NETWORK_ERRORS = ("Failed to establish a new connection", "Temporary failure in name resolution",
                   "Network is unreachable")


def _check_module():
    return load_script(SCRIPT)


def test_readme_example_is_split_into_its_statements():
    statements = _check_module().readme_statements(SCRIPT.parents[1] / "README.md")
    sources = [statement["source"] for statement in statements]
    assert sources[0] == "import mammo_cv"
    assert any(source.startswith("batch = mammo_cv.analyze_batch(") for source in sources)
    assert [statement["expression"] for statement in statements if statement["source"] == "result"] == [True]


def test_a_missing_extra_passes_only_where_the_readme_line_names_it():
    passed = _check_module().passed
    error = {"ok": False, "type": "MissingExtraError", "error": 'x needs y: pip install "mammo_cv[plot]"'}
    assert passed(error, 'result.plot()  # pip install "mammo_cv[plot]"')
    assert not passed(error, "result.plot()")
    assert not passed({**error, "type": "ModuleNotFoundError"}, 'result.plot()  # "mammo_cv[plot]"')


@pytest.mark.slow
def test_fresh_venv_runs_every_line_of_the_readme_example(tmp_path):
    done = subprocess.run([sys.executable, str(SCRIPT), "--venv", str(tmp_path / "venv")],
                          capture_output=True, text=True, check=False)
    if done.returncode and any(text in done.stderr for text in _NETWORK_ERRORS):
        pytest.skip(f"no package registry reachable: {done.stderr.splitlines()[-1]}")
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads(done.stdout.splitlines()[-1])
    assert summary["passed"] == summary["statements"] >= 9
