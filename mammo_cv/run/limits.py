"""The per-file time limit of a batch: a file that takes too long becomes an error row."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

from mammo_cv.core.errors import MammoInputError

__all__ = ["DEFAULT_TIME_LIMIT_S", "FileTimeLimitError", "file_time_limit"]

# A full-field mammogram takes 2-10 s on one core (docs/performance.md); 300 s is far past any
# sane file and short enough that a pathological one (a hostile header, a decoder spinning on
# bad data) cannot hold a worker for long.
DEFAULT_TIME_LIMIT_S = 300.0

# After the limit the alarm repeats at this interval, so that code catching the first one
# broadly (``except Exception``) is interrupted again.
_REPEAT_S = 1.0


class FileTimeLimitError(MammoInputError):
    """The analysis of one file went past the per-file time limit (``--time-limit``)."""


@contextlib.contextmanager
def file_time_limit(path: str, seconds: float | None) -> Iterator[None]:
    """Raise :class:`FileTimeLimitError` naming ``path`` in the body once it has run ``seconds``.

    A ``SIGALRM`` timer (Unix, main thread): it interrupts Python code, and native code (a
    decoder, OpenCV) as soon as it returns to Python. Elsewhere (a Dask worker thread, Windows)
    or with ``seconds`` None, there is no limit.
    """
    if seconds is None or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise FileTimeLimitError(path, f"analysis took longer than the per-file time limit of {seconds:g} s "
                                       "(--time-limit)")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds, _REPEAT_S)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
