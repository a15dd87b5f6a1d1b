"""Work functions for the fault tests: they run in pool workers, so they live in an importable module.

Each wraps :func:`mammo_cv.run.batch.analyze_study` with the batch's ``analyze`` replaced, in the
process that runs it, by one that misbehaves on files with a given name.
"""

from __future__ import annotations

import hashlib
import time

import numpy as np

import mammo_cv.run.batch as batch


def _panic_class() -> type[BaseException]:
    class PanicException(BaseException):  # as pyo3's: a BaseException that cannot be pickled (local class)
        pass

    return PanicException


def _misbehaving(path, **kwargs):
    name = path.name
    if name.startswith("panic"):
        raise _panic_class()("index out of bounds: the len is 2304000 but the index is 2304000")
    if name.startswith("hog"):
        hog = np.ones(3 * 2**30, np.uint8)  # 3 GiB: past a 2 GiB address-space cap
        return hog.sum()
    if name.startswith("slow"):
        while True:
            time.sleep(0.01)
    if name.startswith("spin"):  # native code that never returns to Python (minutes of hashing in C)
        return hashlib.pbkdf2_hmac("sha256", b"key", b"salt", 2**31 - 1)
    return _real(path, **kwargs)


_real = batch.analyze


def misbehaving_study(items, **kwargs):
    """``analyze_study`` where ``panic*`` files raise a PanicException-like BaseException,
    ``hog*`` files allocate 3 GiB, ``slow*`` files never finish and ``spin*`` files spin in
    native code that never returns to Python."""
    batch.analyze = _misbehaving
    try:
        return batch.analyze_study(items, **kwargs)
    finally:
        batch.analyze = _real
