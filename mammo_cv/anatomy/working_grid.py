"""The coarse, isotropic working grid of the anatomy stage and the way back to the stored grid.

The anatomy is found on a reduced copy of the image, flipped so that the chest wall is on the
left (column 0): the *canonical* working grid. :class:`WorkingGrid` maps its points back to the
stored grid, and :func:`upsample_mask` brings a working mask back to full size.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["WorkingGrid", "upsample_mask"]


@dataclass(frozen=True)
class WorkingGrid:
    """Working grid: isotropic ``spacing_mm``, ``shape`` (rows, cols), chest wall flipped left.

    Attributes
    ----------
    spacing_mm : float
        Pixel size of the working grid, mm.
    shape : (int, int)
        Working (rows, cols).
    full_shape : (int, int)
        Stored (rows, cols) of the image.
    flipped : bool
        True when the chest wall is on the right of the stored image (columns reversed).
    """

    spacing_mm: float
    shape: tuple[int, int]
    full_shape: tuple[int, int]
    flipped: bool

    def canonical(self, array: np.ndarray) -> np.ndarray:
        """A (m, n) working-grid array with the chest wall on the left (a contiguous copy when flipped)."""
        return np.ascontiguousarray(array[:, ::-1]) if self.flipped else array

    def to_full(self, rc_canonical: np.ndarray) -> np.ndarray:
        """(K, 2) canonical working (row, col) -> (K, 2) float64 (row, col) in the full grid.

        Examples
        --------
        >>> grid = WorkingGrid(0.8, (10, 20), (40, 80), flipped=True)
        >>> grid.to_full([[0.0, 0.0], [9.0, 19.0]]).tolist()
        [[1.5, 77.5], [37.5, 1.5]]
        """
        rc = np.asarray(rc_canonical, dtype=np.float64).reshape(-1, 2).copy()
        if self.flipped:
            rc[:, 1] = self.shape[1] - 1 - rc[:, 1]
        scale = np.array(self.full_shape, dtype=np.float64) / np.array(self.shape)
        return (rc + 0.5) * scale - 0.5


def upsample_mask(mask: np.ndarray, full_shape: tuple[int, int], sigma_px: float) -> np.ndarray:
    """Working bool mask -> (M, N) bool mask with a smoothed outline.

    The smoothed mask is upsampled as uint8 (0-255), not float32: the full-size temporary is
    a quarter of the size and the resize is ~2.5x faster; the 0.5 level moves by < 1/255.

    Parameters
    ----------
    mask : (m, n) ndarray of bool
        Working-grid mask, stored orientation.
    full_shape : (int, int)
        (M, N) of the stored grid.
    sigma_px : float
        Gaussian sigma of the outline smoothing, working px.

    Returns
    -------
    (M, N) ndarray of bool
    """
    soft = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), sigma_px)
    soft_u8 = np.rint(soft * 255.0).astype(np.uint8)
    return cv2.resize(soft_u8, full_shape[::-1], interpolation=cv2.INTER_LINEAR) > 127
