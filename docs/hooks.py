"""MkDocs hook: pages that are generated from the code, so that they cannot drift from it.

A placeholder is an HTML comment alone on its line:

- ``<!-- columns: NAME -->`` becomes the table of the columns of ``NAME.csv``, from
  ``mammo_cv.tables.schemas.TABLES`` (name, dtype) and ``COLUMN_DOCS`` (unit, meaning);
- ``<!-- settings -->`` becomes one table per section of every setting, from
  ``mammo_cv.config.schema.SETTINGS`` (key, type, unit, range, default, description).

Any other placeholder fails the build, naming the page and the placeholder.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np

# Document the checkout that holds this file, not whichever mammo_cv is installed.
_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from mammo_cv.config.schema import SETTINGS, Setting  # noqa: E402
from mammo_cv.tables.schemas import COLUMN_DOCS, TABLES  # noqa: E402

PLACEHOLDER = re.compile(r"^<!-- ([a-z_]+)(?:: ([a-z_]+))? -->$", re.MULTILINE)


def dtype_name(dtype: np.dtype) -> str:
    """The dtype as a reader of the CSV or Parquet file sees it: object columns hold text."""
    return "str" if dtype.kind == "O" else dtype.name


def column_table(table: str) -> str:
    """Markdown table of the columns of ``<table>.csv``, in file order.

    Raises
    ------
    KeyError
        If ``table`` is not an output table, or a column has no description.
    """
    schema, docs = TABLES[table], COLUMN_DOCS[table]
    lines = ["| column | dtype | unit | meaning |", "|---|---|---|---|"]
    for name, dtype in schema.items():
        doc = docs[name]
        lines.append(f"| `{name}` | {dtype_name(dtype)} | {doc.unit} | {doc.meaning} |")
    return "\n".join(lines)


def _cell(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(_cell(item) for item in value) + "]"
    return f'"{value}"' if isinstance(value, str) else f"{value:g}"


def _range(entry: Setting) -> str:
    if entry.type is bool:
        return "true / false"
    if entry.type is str:
        return ", ".join(f'"{choice}"' for choice in entry.choices)
    return f"{entry.low:g} to {entry.high:g}"


def settings_tables() -> str:
    """Markdown: one table per settings-file section, every key in file order."""
    out: list[str] = []
    for section in dict.fromkeys(entry.section for entry in SETTINGS):
        out += [f"### `[{section}]`", "", "| key | unit | range | default | meaning |", "|---|---|---|---|---|"]
        out += [f"| `{e.key}` | {e.unit} | {_range(e)} | `{_cell(e.default)}` | {e.description} |"
                for e in SETTINGS if e.section == section]
        out.append("")
    return "\n".join(out)


def render(markdown: str, page: str = "<page>") -> str:
    """Replace every placeholder of one page by what it stands for.

    Raises
    ------
    ValueError
        If the page holds an unknown placeholder or names an unknown table.
    """
    def replace(match: re.Match[str]) -> str:
        kind, argument = match.group(1), match.group(2)
        if kind == "settings" and argument is None:
            return settings_tables()
        if kind == "columns" and argument in TABLES:
            return column_table(argument)
        raise ValueError(f"{page}: unknown placeholder {match.group(0)!r} "
                         f"(known: columns: {', '.join(TABLES)}; settings)")

    return PLACEHOLDER.sub(replace, markdown)


def on_page_markdown(markdown: str, page, config, files, **kwargs) -> str:
    """MkDocs event: render the placeholders of ``page`` before it becomes HTML."""
    return render(markdown, page.file.src_path)
