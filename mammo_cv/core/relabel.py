"""Renumbering of component ids: the kept ones become 0..k-1 in a given order, the others -1."""

from __future__ import annotations

import numpy as np

__all__ = ["appearance_order", "relabel_kept"]


def appearance_order(ids: np.ndarray) -> np.ndarray:
    """The distinct values of ``ids`` in order of first appearance.

    Parameters
    ----------
    ids : (n,) ndarray of int

    Returns
    -------
    (k,) ndarray of the dtype of ``ids``

    Examples
    --------
    >>> appearance_order(np.array([3, 1, 3, 0, 1])).tolist()
    [3, 1, 0]
    """
    _, first = np.unique(ids, return_index=True)
    return ids[np.sort(first)]


def relabel_kept(ids: np.ndarray, kept: np.ndarray, n_ids: int) -> np.ndarray:
    """New id of every entry of ``ids``: the position of its id in ``kept``, -1 if not kept.

    Parameters
    ----------
    ids : (n,) ndarray of int
        Ids in 0..n_ids-1, or -1 (in no component; stays -1).
    kept : (k,) ndarray of int
        Distinct ids to keep, in their new order.
    n_ids : int
        Number of old ids.

    Returns
    -------
    (n,) ndarray of int64
        Ids in 0..k-1, -1 = not kept.

    Examples
    --------
    >>> relabel_kept(np.array([2, -1, 0, 2, 1]), np.array([2, 0]), 3).tolist()
    [0, -1, 1, 0, -1]
    """
    lut = np.full(n_ids + 1, -1, np.int64)  # the last slot maps -1 to -1
    lut[kept] = np.arange(kept.size)
    return lut[ids]
