"""Settings of every stage: one ``Config``, its schema, and the couplings between stages."""

from __future__ import annotations

from mammo_cv.config.couplings import COUPLINGS, Coupling, check_couplings
from mammo_cv.config.schema import SECTIONS, SETTINGS, Setting, SettingsError
from mammo_cv.config.settings import Config, resolve_config

__all__ = ["Config", "resolve_config", "SettingsError", "Setting", "SETTINGS", "SECTIONS", "Coupling", "COUPLINGS",
           "check_couplings"]
