"""Tests for mammo_cv.clusters: grouping and scoring on hand-made point sets."""

from __future__ import annotations

import numpy as np
import pytest

from mammo_cv.clusters import ClusterConfig, find_clusters, group_calcifications, summarize_clusters


def test_grouping_by_link_distance_and_size():
    # group A: 4 points 2 mm apart; group B: 2 points; a lone point far away
    rows = [0.0, 2.0, 4.0, 6.0, 50.0, 51.0, 100.0]
    cols = [0.0, 0.0, 0.0, 0.0, 50.0, 50.0, 0.0]
    ids = group_calcifications(rows, cols, link_mm=3.0, min_members=2)
    assert ids.tolist() == [0, 0, 0, 0, 1, 1, -1]
    ids = group_calcifications(rows, cols, link_mm=3.0, min_members=3)
    assert ids.tolist() == [0, 0, 0, 0, -1, -1, -1]
    # a link shorter than the 2 mm gaps breaks group A apart
    assert (group_calcifications(rows, cols, link_mm=1.5, min_members=2)[:4] == -1).all()


def test_empty_input():
    assert group_calcifications([], [], link_mm=3.0, min_members=1).shape == (0,)
    clusters = summarize_clusters([], [], [], np.zeros(0, np.int64))
    assert len(clusters) == 0 and clusters.centre_mm.shape == (0, 2)


def test_summary_centre_score_members():
    rows = np.array([0.0, 2.0, 4.0, 10.0, 30.0])
    cols = np.array([0.0, 0.0, 3.0, 10.0, 30.0])
    conf = np.array([5.0, 9.0, 7.0, 20.0, 40.0])
    ids = np.array([0, 0, 0, -1, 1])
    clusters = summarize_clusters(rows, cols, conf, ids, top_members=2)
    np.testing.assert_allclose(clusters.centre_mm, [[2.0, 1.0], [30.0, 30.0]])
    np.testing.assert_allclose(clusters.score, [(9.0 + 7.0) / 2, 40.0])  # top 2; the 1-member cluster: itself
    assert clusters.n_members.tolist() == [3, 1]


def test_find_clusters_ignores_weak_members():
    rows = np.array([0.0, 1.0, 2.0, 3.0])
    cols = np.zeros(4)
    conf = np.array([10.0, 10.0, 2.0, 10.0])  # the weak one would bridge 1 -> 3 mm
    config = ClusterConfig(min_member_confidence=5.0, link_mm=1.5, min_members=2, top_members=2)
    ids, clusters = find_clusters(rows, cols, conf, config=config)
    assert ids.tolist() == [0, 0, -1, -1]
    assert len(clusters) == 1 and clusters.score[0] == pytest.approx(10.0)


def test_config_validation():
    with pytest.raises(ValueError, match="link_mm"):
        ClusterConfig(link_mm=0.0)
