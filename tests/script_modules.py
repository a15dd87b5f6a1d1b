"""Import a repository script (``scripts/*.py``, ``docs/hooks.py``) as a module in the tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]


def load_script(path: Path, name: str | None = None) -> ModuleType:
    """The Python file ``path`` executed as the module ``name`` (default: its stem), registered in
    ``sys.modules`` (dataclasses and pickle look their module up there)."""
    name = name or path.stem
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
