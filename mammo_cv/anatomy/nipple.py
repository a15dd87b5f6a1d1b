"""The nipple: the centre of the skin-line segment farthest from the pectoral line, or from the
chest wall, in the canonical working grid (chest wall left)."""

from __future__ import annotations

import cv2
import numpy as np

from mammo_cv.anatomy.pectoral import Pectoral

__all__ = ["find_nipple"]


def find_nipple(mask: np.ndarray, pectoral: Pectoral | None, spacing_mm: float, *, tolerance_mm: float) -> np.ndarray:
    """Nipple (row, col) in the canonical working grid: centre of the skin-line run farthest
    from the pectoral line (or from the chest-wall column).

    Parameters
    ----------
    mask : (m, n) ndarray of bool
        Canonical breast mask (chest wall at column 0).
    pectoral : Pectoral or None
        The line to be farthest from; None: the chest-wall column.
    spacing_mm : float
        Working pixel size, mm.
    tolerance_mm : float
        Skin-line points within this distance of the farthest one form the nipple run.
        Points on the image border are not skin line (unless every point is).

    Returns
    -------
    (2,) ndarray of float64

    Examples
    --------
    >>> import numpy as np
    >>> rr, cc = np.mgrid[:41, :30]
    >>> half_disk = (rr - 20) ** 2 + cc ** 2 <= 20 ** 2   # chest wall on the left, apex at (20, 20)
    >>> bool(np.abs(find_nipple(half_disk, None, 1.0, tolerance_mm=0.5) - [20.0, 20.0]).max() <= 1.0)
    True
    """
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    contour = max(contours, key=len)[:, 0, ::-1].astype(np.float64)  # (K, 2) as (row, col)
    if pectoral is None:
        distance = contour[:, 1] - contour[:, 1].min()
    else:
        distance = contour @ pectoral.normal - pectoral.rho_px
    rows, cols = mask.shape
    on_border = ((contour[:, 0] <= 0) | (contour[:, 0] >= rows - 1)
                 | (contour[:, 1] <= 0) | (contour[:, 1] >= cols - 1))
    if on_border.all():
        on_border[:] = False
    distance = np.where(on_border, -np.inf, distance)
    apex = int(np.argmax(distance))
    near = distance >= distance[apex] - tolerance_mm / spacing_mm
    ahead = np.roll(near, -apex)
    behind = np.roll(near[::-1], apex + 1)
    if ahead.all():
        return contour[near].mean(axis=0)
    n_ahead = int(np.argmin(ahead))
    n_behind = int(np.argmin(behind))
    run = (apex + np.arange(-n_behind, n_ahead)) % len(contour)
    return contour[run].mean(axis=0)
