"""Optional libraries: import one, or fail with the ``pip install "mammo_cv[extra]"`` that brings it."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

__all__ = ["MissingExtraError", "require", "progress_bar_class"]


class MissingExtraError(ImportError):
    """An optional library is not installed; the message names the extra that installs it."""


def require(module: str, extra: str, *, purpose: str) -> ModuleType:
    """Import ``module``, an optional dependency that the extra ``extra`` installs.

    Parameters
    ----------
    module : str
        Dotted module name, e.g. ``"matplotlib.pyplot"``.
    extra : str
        The mammo_cv extra that installs it, e.g. ``"plot"``.
    purpose : str
        What needs it, for the message, e.g. ``"Result.plot()"``.

    Returns
    -------
    module

    Raises
    ------
    MissingExtraError
        If ``module`` cannot be imported: ``"Result.plot() needs matplotlib, which is not
        installed: pip install "mammo_cv[plot]""``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        raise MissingExtraError(
            f'{purpose} needs {top}, which is not installed: pip install "mammo_cv[{extra}]"') from exc


def progress_bar_class() -> type:
    """The tqdm class for progress bars: tqdm.auto's (a widget in Jupyter) when ipywidgets
    is installed (the ``notebook`` extra), tqdm's text bar otherwise, so that a notebook without
    ipywidgets gets a text bar instead of tqdm's ``IProgress not found`` warning."""
    if importlib.util.find_spec("ipywidgets") is None:
        from tqdm.std import tqdm
    else:
        from tqdm.auto import tqdm
    return tqdm
