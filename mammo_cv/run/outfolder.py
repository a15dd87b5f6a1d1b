"""The output folder of a run: one run at a time, and no table of an earlier run left looking current."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["LOCK_NAME", "RESULT_NAMES", "OutFolderBusyError", "locked_out_folder", "remove_results"]

LOCK_NAME = ".lock"

# What the end of a run writes from its parts; a run removes them first (see remove_results).
RESULT_NAMES = tuple(f"{table}.{suffix}" for table in ("images", "calcifications", "clusters", "breasts")
                     for suffix in ("csv", "parquet")) + ("index.html", "run.json")


class OutFolderBusyError(OSError):
    """Another run holds the output folder's lock."""


@contextlib.contextmanager
def locked_out_folder(out_dir: Path) -> Iterator[Path]:
    """Create ``out_dir`` and hold an exclusive lock on ``out_dir/.lock`` (``fcntl.flock``) while
    the body runs. The kernel drops the lock when the process ends, even by SIGKILL, so a
    killed run never blocks the next one.

    Raises
    ------
    OutFolderBusyError
        If another process holds the lock (another run writing to the same folder).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    handle = os.open(out_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            import fcntl
        except ImportError:  # not Unix: no lock
            yield out_dir
            return
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutFolderBusyError(f"{out_dir}: another mammo-cv run is writing to this output folder "
                                     f"(it holds {out_dir / LOCK_NAME}); wait for it to finish or use "
                                     "another --out") from None
        yield out_dir
    finally:
        os.close(handle)


def remove_results(out_dir: Path) -> None:
    """Remove the tables, gallery and ``run.json`` of an earlier run in ``out_dir``, so that a run
    killed before its end leaves only its parts (kept for ``--resume``), never tables that look current."""
    for name in RESULT_NAMES:
        with contextlib.suppress(FileNotFoundError):
            (out_dir / name).unlink()
