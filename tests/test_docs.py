"""The documentation: column descriptions for every output column, the docs hook, the CLI page."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import pytest
from script_modules import load_script

from mammo_cv.run.cli import _parser
from mammo_cv.tables.schemas import (
    BREAST_COLUMNS,
    CALCIFICATION_CSV_COLUMNS,
    CLUSTER_CSV_COLUMNS,
    COLUMN_DOCS,
    IMAGE_COLUMNS,
    TABLES,
)

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _load_hooks():
    return load_script(DOCS / "hooks.py", "mammo_cv_docs_hooks")


hooks = _load_hooks()


def test_tables_are_the_four_output_schemas():
    assert TABLES == {"images": IMAGE_COLUMNS, "calcifications": CALCIFICATION_CSV_COLUMNS,
                      "clusters": CLUSTER_CSV_COLUMNS, "breasts": BREAST_COLUMNS}


@pytest.mark.parametrize("table", sorted(TABLES))
def test_every_column_has_a_description_and_no_description_is_orphaned(table):
    assert list(COLUMN_DOCS[table]) == list(TABLES[table])  # same columns, same order
    for name, doc in COLUMN_DOCS[table].items():
        assert doc.meaning.strip(), f"{table}.{name}: empty meaning"
        assert "|" not in doc.meaning + doc.unit, f"{table}.{name}: '|' breaks the Markdown table"
        assert "\n" not in doc.meaning, f"{table}.{name}: a table cell holds one line"


def test_physical_columns_carry_their_unit():
    for table, docs in COLUMN_DOCS.items():
        for name, doc in docs.items():
            for suffix, unit in (("_mm", "mm"), ("_px", "px"), ("_deg", "deg"), ("_mm2", "mm²")):
                if name.endswith(suffix):
                    assert doc.unit == unit, f"{table}.{name}: unit {doc.unit!r}, expected {unit!r}"


def test_hook_renders_a_column_table_in_schema_order():
    page = "intro\n\n<!-- columns: images -->\n\nafter\n"
    rendered = hooks.render(page)
    rows = [line for line in rendered.splitlines() if line.startswith("| `")]
    assert [re.match(r"\| `([^`]+)`", row).group(1) for row in rows] == list(IMAGE_COLUMNS)
    assert "| `rows` | int64 | px | Stored image height. |" in rows
    assert "| `status` | str |" in rendered
    assert rendered.startswith("intro\n") and rendered.endswith("after\n")
    assert "<!--" not in rendered


def test_hook_renders_every_setting_of_the_schema_once():
    from mammo_cv.config.schema import SETTINGS

    rendered = hooks.render("a\n<!-- settings -->\nb")
    rows = [line for line in rendered.splitlines() if line.startswith("| `")]
    assert len(rows) == len(SETTINGS)
    assert "### `[detection]`" in rendered and "### `[rules.secretory]`" in rendered
    assert "| `skin_margin_mm` | mm | 0 to 30 | `5` |" in rendered
    assert "<!--" not in rendered


@pytest.mark.parametrize("placeholder", ["<!-- columns: nothing -->", "<!-- colums: images -->",
                                         "<!-- settings: detection -->"])
def test_hook_refuses_an_unknown_placeholder(placeholder):
    with pytest.raises(ValueError, match="unknown placeholder"):
        hooks.render(f"x\n{placeholder}\n", "page.md")


@pytest.mark.parametrize("page", sorted(p.name for p in DOCS.glob("*.md")))
def test_every_docs_page_renders(page):
    hooks.render((DOCS / page).read_text(encoding="utf-8"), page)


def test_outputs_page_shows_every_table():
    text = (DOCS / "outputs.md").read_text(encoding="utf-8")
    for table in TABLES:
        assert f"<!-- columns: {table} -->" in text


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {option for action in parser._actions for option in action.option_strings
            if option not in ("-h", "--help")}


def test_cli_page_documents_every_option():
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    parser = _parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    options = _options(parser) | {o for command in commands.values() for o in _options(command)}
    assert {"--out", "--resume", "--dask", "--pixel-spacing", "--version"} <= options
    for option in sorted(options):
        assert re.search(rf"`[^`\n]*{re.escape(option)}\b[^`\n]*`", text), f"{option} is not documented in docs/cli.md"
    for name in commands:
        assert f"## `{name}`" in text


def test_readme_keeps_the_quick_start_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "python -m pip install . && mammo-cv analyze sample_dicoms --out results" in text
    assert 'python -m pip install ".[test]" && python -m pytest --slow' in text


@pytest.mark.slow
def test_mkdocs_build_is_strict_clean(tmp_path):
    for module in ("mkdocs", "material", "mkdocstrings_handlers.python"):
        pytest.importorskip(module, reason='pip install ".[docs]"')
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "<code>lucent_center</code>" in (tmp_path / "site" / "outputs" / "index.html").read_text(encoding="utf-8")
