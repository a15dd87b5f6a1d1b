"""Run one work unit per study: in this process, in a local process pool, or on Dask."""

from __future__ import annotations

import contextlib
import importlib.machinery
import os
import signal
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import cv2

from mammo_cv.core.optional import require
from mammo_cv.run.discovery import WorkItem
from mammo_cv.run.outcomes import ImageOutcome, error_outcome, one_line
from mammo_cv.run.worker_setup import DEFAULT_MEMORY_LIMIT_GB, pool_context, setup_worker

__all__ = ["run_studies"]


def _init_worker() -> None:
    cv2.setNumThreads(1)  # one core per worker; the pool provides the parallelism


def _exit_quietly(signum, frame) -> None:
    os._exit(128 + signum)


def _init_pool_worker(main_pid: int, memory_limit_gb: float | None) -> None:
    """A pool worker: one OpenCV thread, tied to the run's main process and capped in memory
    (:func:`mammo_cv.run.worker_setup.setup_worker`), and Ctrl-C ends it at once without a
    traceback (the parent process reports the interrupt; what was committed is kept for ``--resume``)."""
    signal.signal(signal.SIGINT, _exit_quietly)
    setup_worker(main_pid, memory_limit_gb)
    _init_worker()


def _crashed(study: Sequence[WorkItem], exc: BaseException) -> list[ImageOutcome]:
    return [error_outcome(item, RuntimeError(f"{item.path}: worker failed ({one_line(exc)})"), 0.0)
            for item in study]


def run_studies(studies: Sequence[Sequence[WorkItem]], work: Callable[[Sequence[WorkItem]], list[ImageOutcome]], *,
                workers: int = 1, dask_address: str | None = None,
                memory_limit_gb: float | None = DEFAULT_MEMORY_LIMIT_GB) -> Iterator[tuple[bool, list[ImageOutcome]]]:
    """Run ``work`` on every study and yield ``(completed, outcomes)`` as studies finish.

    ``completed`` is False when the worker itself died (its images get an error that a
    resume retries); a local pool reruns the other studies that the death interrupted.
    ``work`` must be picklable (a module-level function or a ``functools.partial`` of one)
    for ``workers > 1`` and Dask.

    Parameters
    ----------
    workers : int
        1: in this process; more: a process pool of that size. Ignored with Dask.
    dask_address : str, optional
        Scheduler address of an existing ``dask.distributed`` cluster (e.g.
        ``tcp://10.0.0.5:8786``); its workers must be able to read the input paths.
    memory_limit_gb : float or None
        Address-space cap of each pool worker in GiB (``RLIMIT_AS``; None: none). Not applied
        in this process (``workers=1``) nor on Dask workers.
    """
    if dask_address is not None:
        yield from _run_on_dask(studies, work, dask_address)
    elif workers <= 1:
        _init_worker()
        for study in studies:
            yield True, work(study)
    else:
        yield from _run_on_pool(studies, work, workers, memory_limit_gb)


def _marked(work, marker: Path, study: Sequence[WorkItem]) -> list[ImageOutcome]:
    """``work(study)`` with ``marker`` present while it runs (it survives a crash)."""
    marker.touch()
    try:
        return work(study)
    finally:
        marker.unlink()


@contextlib.contextmanager
def _main_not_rerun() -> Iterator[None]:
    """While the pool lives, workers do not re-run the caller's ``__main__``.

    ``spawn`` and ``forkserver`` workers re-import the main script by its path (its
    ``__spec__`` is None) so that functions defined there unpickle. A script without an
    ``if __name__ == "__main__":`` guard would then run again in every worker, and ``python -``
    would fail on ``'<stdin>'``. The pool's work is in ``mammo_cv`` modules, so the workers do
    not need the script: a spec named ``__main__`` tells multiprocessing to leave it alone.
    """
    main = sys.modules.get("__main__")
    if main is None or getattr(main, "__spec__", None) is not None:
        yield
        return
    main.__spec__ = importlib.machinery.ModuleSpec("__main__", None)
    try:
        yield
    finally:
        main.__spec__ = None


def _in_process(studies, work, indices: list[int], reason: BaseException) -> Iterator[tuple[bool, list[ImageOutcome]]]:
    """Run the studies ``indices`` in this process, with a warning naming why the pool failed."""
    warnings.warn(f"mammo_cv: the worker pool could not start ({one_line(reason)}); "
                  f"running {len(indices)} studies in this process", RuntimeWarning, stacklevel=3)
    _init_worker()
    for i in indices:
        yield True, work(studies[i])


def _run_on_pool(studies, work, workers: int,
                 memory_limit_gb: float | None) -> Iterator[tuple[bool, list[ImageOutcome]]]:
    """A process pool that survives a worker dying (a decoder crash, the OOM killer).

    When a worker dies the pool fails every unfinished study. Those that were running (their
    marker file is left) are rerun one by one, each in a pool of its own, so that a crash is
    blamed on its own study only; those that had not started go to a fresh pool. When the pool
    breaks with nothing running (it could not start), the rest run in this process.
    """
    queue = list(range(len(studies)))
    pool_options = {"mp_context": pool_context(), "initializer": _init_pool_worker,
                    "initargs": (os.getpid(), memory_limit_gb)}
    broken: BaseException | None = None
    with _main_not_rerun(), tempfile.TemporaryDirectory(prefix="mammo_cv-running-") as folder:
        while queue:
            running, waiting = [], []
            with ProcessPoolExecutor(max_workers=workers, **pool_options) as pool:
                futures = {pool.submit(_marked, work, Path(folder) / str(i), studies[i]): i for i in queue}
                for future in as_completed(futures):
                    i = futures.pop(future)  # a finished future is dropped with its result (PNG bytes)
                    try:
                        yield True, future.result()
                    except BrokenProcessPool as exc:
                        broken = exc
                        (running if (Path(folder) / str(i)).exists() else waiting).append(i)
                    except Exception as exc:  # outside analyze_study's per-image guard
                        yield False, _crashed(studies[i], exc)
            for i in sorted(running):
                (Path(folder) / str(i)).unlink()
                with ProcessPoolExecutor(max_workers=1, **pool_options) as alone:
                    try:
                        yield True, alone.submit(work, studies[i]).result()
                    except Exception as exc:  # it crashes alone: its own fault
                        yield False, _crashed(studies[i], exc)
            if waiting and not running:  # the pool broke with nothing running: it cannot start
                yield from _in_process(studies, work, sorted(waiting), broken)
                waiting = []
            queue = sorted(waiting)


def _run_on_dask(studies, work, address: str) -> Iterator[tuple[bool, list[ImageOutcome]]]:
    distributed = require("distributed", "dask", purpose="--dask (dask_address=)")
    with distributed.Client(address) as client:  # the default client while it is open (as_completed needs one)
        futures = {}
        for study in studies:
            futures[client.submit(work, study, pure=False)] = study  # a fresh key: never another run's result
        for future in distributed.as_completed(list(futures)):
            try:
                yield True, future.result()
            except Exception as exc:  # a worker lost or a failure outside the per-image guard
                yield False, _crashed(futures[future], exc)
            future.release()
