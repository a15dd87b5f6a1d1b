"""File-name-safe, stable image ids."""

from __future__ import annotations

import hashlib
import os
import re

__all__ = ["safe_id"]


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


_MAX_ID_CHARS = 96


def safe_id(text: str) -> str:
    """A file-name-safe, stable id: characters other than ``A-Za-z0-9._-`` become ``_``, no
    leading or trailing dot (so never ``.`` or ``..``); long names are cut and suffixed with a
    hash of the full text so they stay distinct."""
    slug = _UNSAFE.sub("_", text).strip("._") or "image"
    if len(slug) > _MAX_ID_CHARS:
        digest = hashlib.sha1(os.fsencode(text)).hexdigest()[:10]
        slug = f"{slug[:_MAX_ID_CHARS - 11]}_{digest}"
    return slug
