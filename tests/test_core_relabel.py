"""Renumbering of kept component ids."""

import numpy as np

from mammo_cv.core.relabel import appearance_order, relabel_kept


def test_kept_ids_take_their_position_and_the_others_minus_one():
    ids = np.array([2, -1, 0, 2, 1, 3])
    assert relabel_kept(ids, np.array([2, 0]), 4).tolist() == [0, -1, 1, 0, -1, -1]
    assert relabel_kept(ids, np.array([0, 1, 2, 3]), 4).tolist() == ids.tolist()
    assert relabel_kept(ids, np.zeros(0, np.int64), 4).tolist() == [-1] * 6
    assert relabel_kept(np.zeros(0, np.int64), np.array([0]), 1).shape == (0,)


def test_appearance_order_with_relabel_numbers_components_as_first_met():
    component = np.array([5, 5, 2, 7, 2, 0], np.int32)
    order = appearance_order(component)
    assert order.tolist() == [5, 2, 7, 0] and order.dtype == np.int32
    assert relabel_kept(component, order, 8).tolist() == [0, 0, 1, 2, 1, 3]
    assert appearance_order(np.zeros(0, np.int64)).shape == (0,)
