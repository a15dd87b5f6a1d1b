"""Pool worker processes: the parent's import path, a memory cap, and no worker outliving the run."""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Iterator

from mammo_cv.run.limits import enable_hard_stop

__all__ = ["DEFAULT_MEMORY_LIMIT_GB", "pool_context", "setup_worker"]

# A full-field mammogram (a 4096 x 3328 phantom at 0.07 mm, with its overlay) peaks at 1.0 GB
# of address space (VmPeak; 0.42 GB resident) in one process with the pipeline imported; 4 GB
# leaves four times that and refuses decompression bombs long before the machine swaps.
DEFAULT_MEMORY_LIMIT_GB = 4.0

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


@contextlib.contextmanager
def _parent_import_path() -> Iterator[None]:
    """While the fork server starts, it imports from this process's ``sys.path`` and never the
    current directory: Python 3.11 starts it with ``-c``, which puts the current directory first,
    and ignores the parent's path (CPython gh-117378), so a ``mammo_cv`` folder there would be
    imported instead of the installed package."""
    saved = {name: os.environ.get(name) for name in ("PYTHONPATH", "PYTHONSAFEPATH")}
    os.environ["PYTHONPATH"] = os.pathsep.join(os.path.abspath(entry) if entry else os.getcwd()
                                               for entry in sys.path)
    os.environ["PYTHONSAFEPATH"] = "1"  # no current directory in front of the path
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def pool_context():
    """The multiprocessing context of the worker pools.

    Workers start from a fork server that has imported the pipeline once (about 1 s saved per
    worker against ``spawn``, which re-imports everything), started here with this process's
    import path; ``spawn`` where there is no fork server. Never plain ``fork``: it would copy
    this process's threads' locks (tqdm, OpenCV).
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    from multiprocessing import forkserver

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["mammo_cv.run.batch"])
    with _parent_import_path():
        forkserver.ensure_running()
    return context


def _die_with_parent() -> None:
    """Linux: the kernel kills this process when its parent (the fork server) dies."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _watch(pid: int) -> None:
    """Exit this process as soon as process ``pid`` (the run's main process) has ended."""
    try:
        handle = os.pidfd_open(pid)
    except (AttributeError, OSError):  # no pidfd (not Linux >= 5.3): poll
        while _alive(pid):
            time.sleep(0.5)
    else:
        select.select([handle], [], [])  # readable once the process has ended
    os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def setup_worker(main_pid: int, memory_limit_gb: float | None) -> None:
    """Prepare a pool worker: it ends with the run's main process ``main_pid`` (even after a
    SIGKILL of it) and with its fork server, and its address space is capped at
    ``memory_limit_gb`` (``RLIMIT_AS``; None = no cap), so an allocation past it raises
    ``MemoryError`` in that worker instead of starving the machine. Native code that overruns
    the per-file time limit ends the worker (:func:`mammo_cv.run.limits.enable_hard_stop`)."""
    _die_with_parent()
    enable_hard_stop()
    threading.Thread(target=_watch, args=(main_pid,), name="mammo_cv-parent-watch", daemon=True).start()
    if memory_limit_gb is not None:
        import resource

        cap = int(memory_limit_gb * 2**30)
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))
