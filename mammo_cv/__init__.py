"""mammo_cv: find and explain breast calcifications on mammograms with classical computer vision.

The public API is listed in ``__all__``. Submodules load lazily so that ``import mammo_cv``
stays fast and never imports matplotlib, pandas or pyarrow.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY = {
    "load_image": "mammo_cv.io",
    "analyze": "mammo_cv.pipeline",
    "analyze_batch": "mammo_cv.batch",
    "BatchResult": "mammo_cv.batch",
    "Result": "mammo_cv.result",
    "Config": "mammo_cv.config",
    "load_rules": "mammo_cv.rules",
    "Rules": "mammo_cv.rules",
    "RulesError": "mammo_cv.rules",
    "MammoImage": "mammo_cv.types",
    "Anatomy": "mammo_cv.types",
    "Laterality": "mammo_cv.types",
    "View": "mammo_cv.types",
    "PresentationIntent": "mammo_cv.types",
    "ChestWallSide": "mammo_cv.types",
    "MammoInputError": "mammo_cv.errors",
    "find_anatomy": "mammo_cv.anatomy",
    "detect_calcifications": "mammo_cv.detect",
    "measure_calcifications": "mammo_cv.features",
    "phantom": "mammo_cv.phantoms",
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
