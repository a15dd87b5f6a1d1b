"""Optional libraries: a missing one fails with the extra to install, simulated by hiding it in sys.modules."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from test_overlay import disks, make_result

from mammo_cv.core.optional import MissingExtraError, progress_bar_class, require
from mammo_cv.review.notebook import plot_result
from mammo_cv.run.discovery import WorkItem
from mammo_cv.run.executors import run_studies


def _hide(monkeypatch, *modules):
    """Make ``import module`` raise ImportError, as when it is not installed."""
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)


def test_require_returns_the_module_when_installed():
    assert require("json", "none", purpose="a test").dumps([1]) == "[1]"


def test_require_names_the_purpose_the_library_and_the_extra(monkeypatch):
    _hide(monkeypatch, "matplotlib", "matplotlib.pyplot")
    with pytest.raises(MissingExtraError) as caught:
        require("matplotlib.pyplot", "plot", purpose="Result.plot()")
    assert str(caught.value) == 'Result.plot() needs matplotlib, which is not installed: pip install "mammo_cv[plot]"'
    assert isinstance(caught.value, ImportError)  # callers that catch ImportError still do


def test_plot_without_matplotlib_names_the_plot_extra(monkeypatch):
    result = make_result(np.full((64, 48), 100.0), label_image=disks((64, 48), [(30, 20)], 3),
                         calc_labels=("punctate",))
    _hide(monkeypatch, "matplotlib", "matplotlib.pyplot")
    with pytest.raises(MissingExtraError, match=r'pip install "mammo_cv\[plot\]"'):
        plot_result(result)


def test_dask_without_distributed_names_the_dask_extra(monkeypatch):
    _hide(monkeypatch, "distributed")
    study = [WorkItem(Path("a.dcm"), "a", "s")]
    with pytest.raises(MissingExtraError, match=r'--dask .* needs distributed.*pip install "mammo_cv\[dask\]"'):
        next(run_studies([study], lambda items: [], dask_address="tcp://127.0.0.1:1"))


def test_progress_bar_is_text_without_ipywidgets(monkeypatch):
    from tqdm.std import tqdm as text_bar

    _hide(monkeypatch, "ipywidgets")
    assert progress_bar_class() is text_bar
