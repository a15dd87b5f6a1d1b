"""Settings of every stage: one ``Config``, its schema, and settings files."""

from __future__ import annotations

from mammo_cv.config.couplings import COUPLINGS, Coupling, check_couplings
from mammo_cv.config.loading import load_settings, resolve_config
from mammo_cv.config.schema import SECTIONS, SETTINGS, Setting, SettingsError
from mammo_cv.config.settings import Config
from mammo_cv.config.template import settings_toml

__all__ = ["Config", "resolve_config", "load_settings", "settings_toml", "SettingsError", "Setting", "SETTINGS",
           "SECTIONS", "Coupling", "COUPLINGS", "check_couplings"]
