"""Anatomy: breast mask (burned-in labels left out), chest-wall side, pectoral muscle, nipple.

:func:`find_anatomy` (``landmarks``) composes the steps, one module each: ``breast``,
``chest_wall``, ``pectoral`` and ``nipple``. They work on the coarse working grid with the chest
wall on the left (``working_grid``), so they are used through ``find_anatomy``.
"""

from __future__ import annotations

from mammo_cv.anatomy.landmarks import AnatomyConfig, find_anatomy

__all__ = ["AnatomyConfig", "find_anatomy"]
