"""The chest-wall side: the column edge where the breast is tallest.

The breast tapers towards the nipple, so the end of its column range where it is taller is
the chest wall. The laterality tag breaks near-ties only.
"""

from __future__ import annotations

import numpy as np

from mammo_cv.core.types import ChestWallSide, Laterality

__all__ = ["chest_wall_side"]


def chest_wall_side(mask: np.ndarray, laterality: Laterality, *, tie_ratio: float,
                    edge_band_fraction: float) -> tuple[ChestWallSide, str]:
    """Chest-wall side: the end of the breast's column range where the breast is taller.

    Parameters
    ----------
    mask : (m, n) ndarray of bool
        Breast mask, stored orientation; not empty.
    laterality : Laterality
        Decides when the mean heights differ by less than ``tie_ratio`` of the larger; a left
        breast is conventionally stored with its chest wall on the left.
    tie_ratio : float
    edge_band_fraction : float
        Width of the band at each end of the breast (fraction of its width) over which the
        breast height is averaged.

    Returns
    -------
    side : ChestWallSide
    note : str

    Examples
    --------
    >>> import numpy as np
    >>> from mammo_cv.core.types import Laterality
    >>> mask = np.tri(10, 8, k=-3, dtype=bool)[::-1]  # tall on the left, tapering to the right
    >>> chest_wall_side(mask, Laterality.UNKNOWN, tie_ratio=0.05, edge_band_fraction=0.15)[0]
    <ChestWallSide.LEFT: 'left'>
    """
    heights = mask.sum(axis=0).astype(np.float64)
    cols = np.flatnonzero(heights)
    c0, c1 = int(cols[0]), int(cols[-1])
    band = max(1, int(round(edge_band_fraction * (c1 - c0 + 1))))
    left = float(heights[c0:c0 + band].mean())
    right = float(heights[c1 - band + 1:c1 + 1].mean())
    if abs(left - right) >= tie_ratio * max(left, right):
        side = ChestWallSide.LEFT if left > right else ChestWallSide.RIGHT
        return side, f"chest wall: {side.value} (edge heights {left:.0f} vs {right:.0f} px)"
    # Conventional storage puts the chest wall of a left breast on the image's left.
    by_tag = {Laterality.LEFT: ChestWallSide.LEFT, Laterality.RIGHT: ChestWallSide.RIGHT}
    side = by_tag.get(laterality, ChestWallSide.LEFT if left >= right else ChestWallSide.RIGHT)
    return side, f"chest wall: {side.value} (near tie, decided by laterality {laterality.value})"
