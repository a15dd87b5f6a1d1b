"""mammo_cv: find and explain breast calcifications on mammograms with classical computer vision.

The public API is listed in ``__all__``. Submodules load lazily so that ``import mammo_cv``
stays fast and never imports matplotlib, pandas or pyarrow.
"""

from __future__ import annotations

import importlib
from typing import Any

from mammo_cv.core.version import __version__

# public name -> module that defines it
_LAZY = {
    "load_image": "mammo_cv.io",
    "analyze": "mammo_cv.pipeline",
    "analyze_batch": "mammo_cv.run",
    "BatchResult": "mammo_cv.run",
    "Result": "mammo_cv.pipeline",
    "Config": "mammo_cv.config",
    "load_settings": "mammo_cv.config",
    "SettingsError": "mammo_cv.config",
    "load_rules": "mammo_cv.classify",
    "Rules": "mammo_cv.classify",
    "RulesError": "mammo_cv.classify",
    "MammoImage": "mammo_cv.core.types",
    "Anatomy": "mammo_cv.core.types",
    "Laterality": "mammo_cv.core.types",
    "View": "mammo_cv.core.types",
    "PresentationIntent": "mammo_cv.core.types",
    "ChestWallSide": "mammo_cv.core.types",
    "MammoInputError": "mammo_cv.core.errors",
    "find_anatomy": "mammo_cv.anatomy",
    "detect_calcifications": "mammo_cv.detection",
    "measure_calcifications": "mammo_cv.describe",
    "phantom": "mammo_cv.synthetic",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'mammo_cv' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
