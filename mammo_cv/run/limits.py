"""The per-file time limit of a batch: a file that takes too long becomes an error row."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator

from mammo_cv.core.errors import MammoInputError

__all__ = ["DEFAULT_TIME_LIMIT_S", "HARD_STOP_EXIT_CODE", "FileTimeLimitError", "enable_hard_stop", "file_time_limit"]

# A full-field mammogram takes 2-10 s on one core (docs/performance.md); 300 s is far past any
# sane file and short enough that a pathological one (a hostile header, a decoder spinning on
# bad data) cannot hold a worker for long.
DEFAULT_TIME_LIMIT_S = 300.0

# After the limit the alarm repeats at this interval, so that code catching the first one
# broadly (``except Exception``) is interrupted again.
_REPEAT_S = 1.0

# A pool worker still inside the same file this long after its limit (native code that never
# returns to Python) is stopped: the grace is a tenth of the limit, at least 2 s.
_HARD_GRACE_FRACTION, _HARD_GRACE_MIN_S = 0.1, 2.0

#: Exit status of a pool worker stopped by the hard stop (EX_SOFTWARE).
HARD_STOP_EXIT_CODE = 70

_hard_stop = threading.Event()  # set in pool workers only: the main process is never stopped


def enable_hard_stop() -> None:
    """Let :func:`file_time_limit` end this process when native code overruns the limit; for
    pool workers, whose death the pool survives (:mod:`mammo_cv.run.executors`)."""
    _hard_stop.set()


def _stop_process(path: str, seconds: float) -> None:
    print(f"mammo-cv: {path}: still running {seconds:g} s after the per-file time limit (native code); "
          "this worker is stopped", file=sys.stderr, flush=True)
    os._exit(HARD_STOP_EXIT_CODE)


class FileTimeLimitError(MammoInputError):
    """The analysis of one file went past the per-file time limit (``--time-limit``)."""


@contextlib.contextmanager
def file_time_limit(path: str, seconds: float | None) -> Iterator[None]:
    """Raise :class:`FileTimeLimitError` naming ``path`` in the body once it has run ``seconds``.

    A ``SIGALRM`` timer (Unix, main thread): it interrupts Python code, and native code (a
    decoder, OpenCV) as soon as it returns to Python. In a pool worker (:func:`enable_hard_stop`)
    native code that never returns is ended too: past the limit plus a grace (a tenth of it, at
    least 2 s) the worker process exits with :data:`HARD_STOP_EXIT_CODE`. Elsewhere (a Dask
    worker thread, Windows) or with ``seconds`` None, there is no limit.
    """
    if seconds is None or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise FileTimeLimitError(path, f"analysis took longer than the per-file time limit of {seconds:g} s "
                                       "(--time-limit)")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds, _REPEAT_S)
    grace = max(_HARD_GRACE_MIN_S, _HARD_GRACE_FRACTION * seconds)
    stop = threading.Timer(seconds + grace, _stop_process, args=(path, grace)) if _hard_stop.is_set() else None
    if stop is not None:
        stop.daemon = True
        stop.start()
    try:
        yield
    finally:
        if stop is not None:
            stop.cancel()
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
