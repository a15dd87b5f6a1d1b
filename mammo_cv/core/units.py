"""The one place where millimetres become pixels and back.

Rules and configuration speak mm only; stages call these helpers where a physical size
must become a kernel size or a pixel count becomes a measurement.
"""

from __future__ import annotations

import math

__all__ = ["mm_to_px", "odd_kernel_px", "area_mm2_to_px", "disk_area_px", "mean_spacing_mm"]


def mean_spacing_mm(spacing_mm: tuple[float, float]) -> float:
    """Geometric mean of (row, col) spacing in mm: the isotropic pixel size to use for
    lengths that have no preferred direction."""
    return math.sqrt(float(spacing_mm[0]) * float(spacing_mm[1]))


def mm_to_px(length_mm: float, spacing_mm: tuple[float, float]) -> float:
    """Length in mm -> length in px (float), using the mean spacing."""
    return float(length_mm) / mean_spacing_mm(spacing_mm)


def odd_kernel_px(diameter_mm: float, spacing_mm: tuple[float, float], *, minimum: int = 3) -> int:
    """Diameter in mm -> odd kernel size in px, at least ``minimum``."""
    size = max(int(minimum), int(round(mm_to_px(diameter_mm, spacing_mm))))
    return size if size % 2 == 1 else size + 1


def area_mm2_to_px(area_mm2: float, spacing_mm: tuple[float, float]) -> float:
    """Area in mm^2 -> number of pixels (float)."""
    return float(area_mm2) / (float(spacing_mm[0]) * float(spacing_mm[1]))


def disk_area_px(diameter_mm: float, spacing_mm: tuple[float, float]) -> float:
    """Area of a disk of ``diameter_mm`` -> number of pixels (float)."""
    return area_mm2_to_px(math.pi / 4 * diameter_mm ** 2, spacing_mm)
