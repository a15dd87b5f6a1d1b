"""A settings file written out in full: every key with its value, unit, range and description."""

from __future__ import annotations

import json
from typing import Any

from mammo_cv.config.couplings import coupling_notes
from mammo_cv.config.schema import SETTINGS, Setting
from mammo_cv.config.settings import Config

__all__ = ["settings_toml"]

_HEADER = """\
# mammo_cv settings: every key of every stage and every rule.
# Every key is optional: a settings file may hold any subset, and what it leaves out keeps
# its default (these values). Use it with `mammo-cv analyze --config FILE ...` or
# `mammo_cv.analyze(image, config="FILE")`. Each key is described by the comment above it:
# what it does, then its unit and allowed range (closed; for an array, of each element).
# The sources of the rule thresholds are cited in mammo_cv/classify/rules.toml.
"""


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return repr(value)


def _allowed(entry: Setting) -> str:
    if entry.type is bool:
        return "true or false"
    if entry.type is str:
        return "one of " + ", ".join(json.dumps(choice) for choice in entry.choices)
    span = f"{entry.low:g} to {entry.high:g}"
    if entry.type is tuple:
        return f"{'[min, max]' if entry.increasing else 'array'}, {entry.unit}, each {span}"
    return f"{'integer ' if entry.type is int else ''}{entry.unit}, {span}"


def _holder(config: Config, section: str) -> Any:
    """The dataclass that holds the keys of ``section`` in ``config``."""
    stage, _, rule = section.partition(".")
    return getattr(config.rules, rule) if rule else getattr(config, stage)


def settings_toml(config: Config | None = None) -> str:
    """The settings file of ``config``: every section and key, each with a comment.

    Parameters
    ----------
    config : Config, optional
        Whose values to write; default ``Config()`` (the defaults).

    Returns
    -------
    str
        TOML text that :func:`mammo_cv.config.loading.load_settings` reads back into a
        ``Config`` equal to ``config``.

    Examples
    --------
    >>> text = settings_toml()
    >>> "[rules.macro]" in text, "\\nskin_margin_mm = 5.0\\n" in text
    (True, True)
    """
    config = config or Config()
    lines, section = [_HEADER.rstrip("\n")], None
    for entry in SETTINGS:
        if entry.section != section:
            section = entry.section
            lines += ["", f"[{section}]"]
        notes = "".join(f"; {note}" for note in coupling_notes(section, entry.key))
        value = getattr(_holder(config, section), entry.key)
        lines += [f"# {entry.description} ({_allowed(entry)}){notes}", f"{entry.key} = {_toml(value)}"]
    return "\n".join(lines) + "\n"
