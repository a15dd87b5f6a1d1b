"""Check the README's Python example in a fresh virtual environment that has only ``pip install .``.

Usage::

    python scripts/check_fresh_install.py [--venv /tmp/mammo_cv-fresh-venv] [--no-install]

Steps: create the venv (no system site packages), ``pip install`` this checkout into it (timed),
then run the first ```` ```python ```` block of README.md statement by statement with the venv's
Python, as a script with a main guard, in a scratch folder where ``sample_dicoms`` links to the
checkout's. An expression's value is rendered as Jupyter would (``_repr_html_``, else ``repr``).
A statement passes when it runs, or when it raises ``MissingExtraError`` naming an extra that the
same README line names too (``result.plot()`` without the ``plot`` extra). Prints one line per
statement and a JSON summary; exits 0 when every statement passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Runs in the fresh venv: executes the statements given as JSON on stdin, one JSON line out per statement.
_DRIVER = r'''
import json, sys, traceback

def _show(value):
    html = getattr(value, "_repr_html_", None)
    return (html() if callable(html) else repr(value))[:80]

if __name__ == "__main__":
    namespace = {"__name__": "__readme__"}
    for statement in json.load(sys.stdin):
        report = {"line": statement["line"], "source": statement["source"]}
        try:
            if statement["expression"]:
                report["shown"] = _show(eval(statement["source"], namespace))
            else:
                exec(statement["source"], namespace)
            report["ok"] = True
        except Exception as exc:
            report.update(ok=False, error=f"{type(exc).__name__}: {exc}", type=type(exc).__name__)
        print(json.dumps(report), flush=True)
'''


def readme_statements(readme: Path) -> list[dict[str, object]]:
    """The statements of the first ```python block of ``readme``, each with its README line."""
    text = readme.read_text(encoding="utf-8")
    match = re.search(r"^```python\n(.*?)^```", text, flags=re.S | re.M)
    if match is None:
        raise SystemExit(f"{readme}: no ```python block")
    first_line = text[: match.start(1)].count("\n") + 1
    code = match.group(1)
    lines = code.splitlines()
    statements = []
    for node in ast.parse(code).body:
        source = "\n".join(lines[node.lineno - 1: node.end_lineno])
        statements.append({"line": first_line + node.lineno - 1, "source": ast.get_source_segment(code, node),
                           "readme_text": source, "expression": isinstance(node, ast.Expr)})
    return statements


def install(venv_dir: Path) -> float:
    """Create ``venv_dir`` and ``pip install`` the checkout; return the seconds taken."""
    start = time.perf_counter()
    venv.create(venv_dir, with_pip=True, clear=True)
    subprocess.run([str(venv_dir / "bin" / "python"), "-m", "pip", "install", "-q", str(REPO)], check=True)
    return time.perf_counter() - start


def passed(report: dict[str, object], readme_text: str) -> bool:
    """Ran, or failed for a missing extra that the README line itself names."""
    if report["ok"]:
        return True
    extra = re.search(r'mammo_cv\[([\w-]+)\]', str(report.get("error", "")))
    return report.get("type") == "MissingExtraError" and extra is not None and extra.group(0) in readme_text


def run_example(venv_dir: Path, statements: list[dict[str, object]]) -> list[dict[str, object]]:
    """Run the statements in the venv's Python in a scratch folder; one report per statement."""
    with tempfile.TemporaryDirectory(prefix="mammo_cv-readme-") as scratch:
        (Path(scratch) / "sample_dicoms").symlink_to(REPO / "sample_dicoms")
        driver = Path(scratch) / "readme_example.py"
        driver.write_text(_DRIVER, encoding="utf-8")
        done = subprocess.run([str(venv_dir / "bin" / "python"), str(driver)], cwd=scratch, text=True,
                              input=json.dumps(statements), capture_output=True, check=False)
    reports = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if len(reports) != len(statements):
        raise SystemExit(f"the example stopped after {len(reports)} statements:\n{done.stderr}")
    return reports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=Path(tempfile.gettempdir()) / "mammo_cv-fresh-venv")
    parser.add_argument("--no-install", action="store_true", help="reuse the venv as it is")
    args = parser.parse_args(argv)
    seconds = None if args.no_install else install(args.venv)
    statements = readme_statements(REPO / "README.md")
    reports = run_example(args.venv, statements)
    n_passed = 0
    for statement, report in zip(statements, reports):
        ok = passed(report, str(statement["readme_text"]))
        n_passed += ok
        verdict = "ok" if report["ok"] else ("extra named" if ok else "FAILED")
        print(f"README.md:{report['line']}: {verdict}: {report['source']}"
              + ("" if report["ok"] else f"\n    {report['error']}"))
    print(json.dumps({"install_seconds": seconds, "statements": len(statements), "passed": n_passed}))
    return 0 if n_passed == len(statements) else 1


if __name__ == "__main__":
    sys.exit(main())
