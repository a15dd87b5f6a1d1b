"""Settings files: one TOML file for every stage, validated against the schema when loaded.

A settings file has a section per stage (``[anatomy]``, ``[detection]``, ``[features]``,
``[clusters]``, ``[groups]``, ``[vascular]``) and per rule (``[rules.vascular]``,
``[rules.secretory]``, ...). Every key is optional; what the file leaves out keeps its default
(``mammo-cv config --defaults`` prints them all). Unknown sections and keys, wrongly typed and
out-of-range values (:data:`mammo_cv.config.schema.SETTINGS`) and broken couplings
(:data:`mammo_cv.config.couplings.COUPLINGS`) fail at once, naming the file, section and key.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import sys
from pathlib import Path
from typing import Any

from mammo_cv.classify.rules import RULE_SECTIONS, Rules, RulesError, load_rules, rules_from_mapping
from mammo_cv.config.couplings import check_couplings
from mammo_cv.config.schema import SECTIONS, SETTINGS, STAGE_SECTIONS, SettingsError, entries
from mammo_cv.config.settings import Config

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["load_settings", "resolve_config"]

_RULES_ONLY = " (a rules-only file goes to --rules FILE or Config(rules=load_rules(path)))"


def _unknown(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f"did you mean {close[0]!r}?" if close else f"expected one of {sorted(known)}"


def _unknown_section(section: str) -> str:
    """The closest section; a rule's name also points at the way to pass a rules-only file."""
    return f"unknown section; {_unknown(section, list(SECTIONS))}" + (_RULES_ONLY if section in RULE_SECTIONS else "")


def _unknown_key(section: str, key: str) -> str:
    """Where a key misplaced in ``section`` belongs, or the closest key of ``section``."""
    elsewhere = [entry.section for entry in SETTINGS if entry.key == key and entry.section != section]
    if elsewhere:
        misplaced_rule = elsewhere[0].startswith("rules.")
        return f"unknown key here; it belongs in [{elsewhere[0]}]" + (_RULES_ONLY if misplaced_rule else "")
    return f"unknown key; {_unknown(key, list(entries(section)))}"


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(path, "", "", f"cannot read the settings file ({exc.strerror or exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(path, "", "", f"not valid TOML ({exc})") from exc


def _sections(src: str, raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{section: table}`` with ``rules.<rule>`` flattened; unknown or non-table sections raise."""
    flat = {}
    for name, table in raw.items():
        tables = table.items() if name == "rules" and isinstance(table, dict) else [(None, table)]
        for rule, value in tables:
            section = name if rule is None else f"rules.{rule}"
            if section not in SECTIONS:
                raise SettingsError(src, section, "", _unknown_section(section))
            if not isinstance(value, dict):
                raise SettingsError(src, section, "", "must be a table ([section])")
            flat[section] = value
    return flat


def _stage_values(src: str, section: str, table: dict[str, Any]) -> dict[str, Any]:
    """The keys ``table`` sets in a stage section, parsed against the schema."""
    schema = entries(section)
    for key in table:
        if key not in schema:
            raise SettingsError(src, section, key, _unknown_key(section, key))
    return {key: schema[key].parse(value, src) for key, value in table.items()}


def _build(src: str, section: str, values: dict[str, Any]) -> Any:
    """The stage dataclass; its own checks across keys name them in the message."""
    try:
        return STAGE_SECTIONS[section](**values)
    except ValueError as exc:
        raise SettingsError(src, section, "", str(exc)) from None


def _rules(src: str, tables: dict[str, dict[str, Any]]) -> Rules:
    raw = {section.removeprefix("rules."): table for section, table in tables.items() if section.startswith("rules.")}
    try:
        return rules_from_mapping(raw, src)
    except RulesError as exc:
        section, _, key = exc.key.partition(".")
        raise SettingsError(src, f"rules.{section}", key, exc.problem) from None


def load_settings(path: str | os.PathLike[str]) -> Config:
    """Read and validate a settings file.

    Parameters
    ----------
    path : path
        A TOML settings file with any subset of the sections and keys.

    Returns
    -------
    Config
        The file's values, the defaults for the rest; ``rules.source`` is ``path``.

    Raises
    ------
    SettingsError
        Unreadable or invalid TOML, an unknown section or key, a wrongly typed or out-of-range
        value, keys that contradict each other or a broken coupling; the message names the
        file, the ``[section]`` and the key.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "settings.toml"
    >>> _ = path.write_text("[detection]\\nskin_margin_mm = 6\\n[rules.macro]\\nmin_length_mm = 1.5\\n")
    >>> config = load_settings(path)
    >>> config.detection.skin_margin_mm, config.rules.macro.min_length_mm, config.clusters.link_mm
    (6.0, 1.5, 3.0)
    """
    src = str(path)
    tables = _sections(src, _read(Path(path)))
    given = {name: _stage_values(src, name, tables.get(name, {})) for name in STAGE_SECTIONS}
    defaults = {name: dataclasses.asdict(cls()) for name, cls in STAGE_SECTIONS.items()}
    check_couplings({name: {**defaults[name], **given[name]} for name in STAGE_SECTIONS}, src)
    stages = {name: _build(src, name, values) for name, values in given.items()}
    return Config(**stages, rules=_rules(src, tables))


def resolve_config(config: Config | str | os.PathLike[str] | None, *,
                   rules: str | os.PathLike[str] | None = None) -> Config:
    """``Config`` as given, the default one for None, or the settings file at a path.

    Parameters
    ----------
    config : Config or path or None
        A path is a settings file (:func:`load_settings`); a rules-only file goes through
        ``rules`` or ``Config(rules=load_rules(path))``.
    rules : path, optional
        A rules file (:func:`mammo_cv.classify.rules.load_rules`) that replaces the whole rule
        set: the ``[rules.*]`` sections of a settings file are then not used, and the keys the
        rules file leaves out take their defaults.

    Returns
    -------
    Config

    Raises
    ------
    SettingsError
        If the settings file does not validate.
    RulesError
        If the rules file does not validate (the message names the key).

    Examples
    --------
    >>> resolve_config(None) == Config()
    True
    """
    if config is None:
        resolved = Config()
    elif isinstance(config, Config):
        resolved = config
    else:
        resolved = load_settings(config)
    return resolved if rules is None else dataclasses.replace(resolved, rules=load_rules(rules))
