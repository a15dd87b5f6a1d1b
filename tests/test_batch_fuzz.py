"""The fuzz corpus through a whole batch: every file gets exactly one ``images.csv`` row or
``run.json`` ``skipped`` entry, every error row is a mammo_cv input error naming its file, and the
run ends (with a time limit on the whole command) with exit code 0 or 1, with ``--workers 1``,
``--workers 2`` and ``--dask`` (a local cluster of processes).

The corpus (``fuzz_corpus``) holds truncated and byte-flipped native, RLE and JPEG 2000 phantoms,
random bytes and a PNG under DICOM names, an empty file, a FIFO and a link to ``/dev/zero``, and
a good file whose name is not valid UTF-8.
"""

from __future__ import annotations

import csv
import inspect
import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from batch_corpus import SPACING_MM, stored_phantom
from fuzz_corpus import mutants, specials

import mammo_cv.core.errors
import mammo_cv.pacs.source
import mammo_cv.run.limits
from mammo_cv.core.errors import MammoInputError
from mammo_cv.io import write_mammo_dicom

# The whole run's limit: the corpus takes well under a minute on two cores.
RUN_SECONDS = 600


def _input_error_names() -> set[str]:
    """Names of every MammoInputError subclass the batch can report."""
    names = set()
    for module in (mammo_cv.core.errors, mammo_cv.run.limits, mammo_cv.pacs.source):
        names |= {name for name, value in inspect.getmembers(module, inspect.isclass)
                  if issubclass(value, MammoInputError)}
    return names


def _sources(folder: Path) -> list[Path]:
    """Analysable phantoms (``batch_corpus``) in native, RLE and JPEG 2000 storage."""
    folder.mkdir(parents=True)
    paths = []
    for k, syntax in enumerate(("explicit", "rle", "j2k_lossless")):
        paths.append(folder / f"good_{syntax}.dcm")
        write_mammo_dicom(paths[-1], stored_phantom("L", "CC", 1 + k), spacing_mm=SPACING_MM, laterality="L",
                          view="CC", transfer_syntax=syntax, uid_seed=f"fuzz-{syntax}", study_uid_seed=f"fuzz-{k}")
    return paths


def _corpus(folder: Path) -> list[Path]:
    rng = np.random.default_rng(11)
    paths = specials(folder)
    sources = _sources(folder.parent / "sources")
    for source in sources:
        paths += mutants(source, folder, rng, n_cuts=8, n_flips=8)
    odd_name = folder / os.fsdecode(b"bad\xff.dcm")
    shutil.copyfile(sources[0], odd_name)
    return [*paths, odd_name]


def _run(folder: Path, out: Path, *executor: str) -> subprocess.CompletedProcess:
    command = "import sys; from mammo_cv.run.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", command, "analyze", str(folder), "--out", str(out), *executor,
                           "--quiet", "--no-overlays", "--time-limit", "60"],
                          capture_output=True, timeout=RUN_SECONDS, env={**os.environ, "PYTHONWARNINGS": "ignore"})


@pytest.fixture(params=["workers 1", "workers 2", "dask"])
def executor(request):
    """The command-line options of one executor; ``dask`` starts a local cluster of processes."""
    if request.param != "dask":
        yield ["--" + request.param.replace(" ", "=")]
        return
    distributed = pytest.importorskip("distributed", reason='pip install "mammo_cv[dask]"')
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the cluster's start-up and shutdown chatter
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster:
            yield ["--dask", cluster.scheduler_address]


@pytest.mark.slow
def test_every_corpus_file_gets_one_row_or_skipped_entry_and_errors_name_it(tmp_path, executor):
    folder = tmp_path / "corpus"
    folder.mkdir()
    paths = _corpus(folder)
    out = tmp_path / "out"
    done = _run(folder, out, *executor)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    with open(out / "images.csv", newline="", encoding="utf-8", errors="surrogateescape") as handle:
        rows = list(csv.DictReader(handle))
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    reported = [row["source_path"] for row in rows] + [entry["path"] for entry in run["skipped"]]
    assert sorted(reported) == sorted(map(str, paths))  # exactly one entry each, none lost
    skipped = {Path(entry["path"]).name for entry in run["skipped"]}
    assert skipped == {name for name in ("fifo.dcm", "zero.dcm") if (folder / name).exists() or
                       (folder / name).is_symlink()}
    known = _input_error_names()
    errors = [row for row in rows if row["status"] == "error"]
    assert errors and any(row["status"] == "ok" for row in rows)
    unexpected = [row["error"] for row in errors
                  if row["error"].split(":")[0] not in known or row["source_path"] not in row["error"]]
    assert not unexpected, unexpected[:5]
    odd = next(row for row in rows if row["source_path"].endswith(os.fsdecode(b"bad\xff.dcm")))
    assert odd["status"] == "ok"
