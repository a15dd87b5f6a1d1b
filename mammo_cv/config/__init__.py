"""One ``Config`` that bundles the settings of every stage."""

from __future__ import annotations

from mammo_cv.config.settings import Config, resolve_config

__all__ = ["Config", "resolve_config"]
