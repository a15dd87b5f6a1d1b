"""Tests for mammo_cv.describe.grouping: grouping and scoring on hand-made point sets."""

from __future__ import annotations

import numpy as np
import pytest
from phantom_tables import truth_calc_table

from mammo_cv.describe import (
    CLUSTER_COLUMNS,
    ClusterConfig,
    bi_rads_links,
    cluster_table,
    collinear_links,
    densest_count,
    find_clusters,
    group_calcifications,
    summarize_clusters,
)


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
    clusters = summarize_clusters([], [], [], np.zeros(0, np.int64), top_members=3)
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
    with pytest.raises(ValueError, match="bi_rads_min_calcs"):
        ClusterConfig(bi_rads_min_calcs=0)


def test_two_groups_and_a_stray_point_numbered_by_first_appearance():
    rng = np.random.default_rng(2)
    a = rng.uniform(-1.0, 1.0, (7, 2)) + [100.0, 20.0]      # 7 points in a 2-mm square
    b = rng.uniform(-1.0, 1.0, (5, 2)) + [20.0, 20.0]
    points = np.vstack([[[60.0, 60.0]], a, b])
    ids = group_calcifications(points[:, 0], points[:, 1], link_mm=3.0, min_members=3)
    assert ids.tolist() == [-1] + [0] * 7 + [1] * 5


def test_densest_count_is_the_bi_rads_five_within_one_cm():
    # 5 points 2 mm apart span 8 mm: all within 1 cm of each other
    rows = np.arange(5) * 2.0
    assert densest_count(rows, np.zeros(5), np.zeros(5, np.int64), span_mm=10.0).tolist() == [5]
    # 2.6 mm apart they span 10.4 mm: at most 3 fit in a 1-cm circle centred on a member
    assert densest_count(rows * 1.3, np.zeros(5), np.zeros(5, np.int64), span_mm=10.0).tolist() == [3]
    # a configurable span; members of other clusters and unclustered points never count
    assert densest_count(rows * 1.3, np.zeros(5), np.zeros(5, np.int64), span_mm=11.0).tolist() == [5]
    ids = np.array([0, 0, 1, 1, -1])
    assert densest_count(rows, np.zeros(5), ids, span_mm=10.0).tolist() == [2, 2]
    assert densest_count([], [], np.zeros(0, np.int64), span_mm=10.0).shape == (0,)


def calc_rows(rows_mm, cols_mm, confidence):
    """Identical round members (0.3 mm) at the given positions, spacing 0.1 mm."""
    rows = np.asarray(rows_mm, np.float64)
    cols = np.asarray(cols_mm, np.float64)
    n = rows.size
    return {"row_px": rows / 0.1, "col_px": cols / 0.1, "row_mm": rows, "col_mm": cols,
            "area_mm2": np.full(n, 0.07), "length_mm": np.full(n, 0.3), "width_mm": np.full(n, 0.3),
            "elongation": np.ones(n), "irregularity": np.full(n, 0.05), "branching": np.zeros(n, np.int32),
            "axis_angle_deg": np.full(n, np.nan), "confidence": np.asarray(confidence, np.float64)}


def test_cluster_table_flags_bi_rads_groups_and_applies_the_operating_point():
    # A: 6 members 1.5 mm apart (7.5 mm span) -> BI-RADS group; B: 3 members -> candidate only;
    # C: 4 members scoring below min_score -> not reported; a lone detection
    a = np.arange(6) * 1.5
    rows = np.concatenate([a, [40.0, 42.0, 44.0], [80.0, 81.0, 82.0, 83.0], [120.0]])
    cols = np.concatenate([np.zeros(6), np.full(3, 30.0), np.zeros(4), [0.0]])
    conf = np.concatenate([np.full(6, 12.0), [20.0, 10.0, 9.0], np.full(4, 7.5), [30.0]])
    ids, table = cluster_table(calc_rows(rows, cols, conf), nipple_rc_mm=(0.0, 100.0))
    assert ids.tolist() == [0] * 6 + [1] * 3 + [-1] * 5
    assert list(table) == list(CLUSTER_COLUMNS)
    assert all(table[name].dtype == dtype for name, dtype in CLUSTER_COLUMNS.items())
    assert table["cluster_id"].tolist() == [0, 1]
    assert table["n_calcs"].tolist() == [6, 3]
    assert table["n_calcs_1cm"].tolist() == [6, 3]
    assert table["bi_rads_group"].tolist() == [True, False]
    np.testing.assert_allclose(table["detection_score"], [12.0, 13.0])
    np.testing.assert_allclose(table["row_px"], [a.mean() / 0.1, 420.0])
    # BI-RADS numbers are configurable
    _, table = cluster_table(calc_rows(rows, cols, conf), nipple_rc_mm=(0.0, 100.0),
                             config=ClusterConfig(bi_rads_min_calcs=3))
    assert table["bi_rads_group"].tolist() == [True, True]


def test_cluster_table_without_clusters_has_every_column():
    for rows in ([], [0.0, 50.0]):
        ids, table = cluster_table(calc_rows(rows, np.zeros(len(rows)), np.full(len(rows), 20.0)),
                                   nipple_rc_mm=(0.0, 0.0))
        assert ids.tolist() == [-1] * len(rows)
        assert list(table) == list(CLUSTER_COLUMNS)
        assert all(table[name].dtype == dtype and table[name].shape == (0,) for name, dtype in CLUSTER_COLUMNS.items())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_phantom_truth_clusters_never_mix_groups_and_find_the_pleomorphic_group(seed):
    from mammo_cv.synthetic.phantoms import phantom

    ph = phantom(spacing_mm=0.1, size_mm=(120, 96), seed=seed)
    table, kind, truth = truth_calc_table(ph)
    table["confidence"] = np.full(truth.size, 20.0)
    spacing = ph.truth["spacing_mm"]
    nipple = ph.truth["nipple_rc"]
    ids, clusters = cluster_table(table, nipple_rc_mm=(nipple[0] * spacing[0], nipple[1] * spacing[1]))
    for g in range(clusters["cluster_id"].size):
        members = np.unique(truth[ids == g])
        assert members.size == 1 and members[0] >= 0, (g, members)
    for group in ph.truth["groups"]:
        if group["distribution"] == "grouped":
            found = np.unique(ids[truth == group["group_id"]])
            found = found[found >= 0]
            assert found.size == 1 and clusters["bi_rads_group"][found[0]]


def duct(angle_deg, lengths_mm, gaps_mm, width_mm=0.25):
    """Fragments laid end to end along one straight line at ``angle_deg`` (from +col toward
    +row): centroids, lengths, axis angles and elongations."""
    lengths = np.asarray(lengths_mm, np.float64)
    starts = np.concatenate([[0.0], np.cumsum(lengths[:-1] + np.asarray(gaps_mm, np.float64))])
    s = starts + 0.5 * lengths
    u = np.array([np.sin(np.radians(angle_deg)), np.cos(np.radians(angle_deg))])
    return (50.0 + s * u[0], 50.0 + s * u[1], lengths, np.full(lengths.size, float(angle_deg)),
            lengths / width_mm)


@pytest.mark.parametrize("angle_deg", [0.0, 37.0, 90.0, 151.0])
def test_collinear_fragments_link_by_their_end_gap(angle_deg):
    # 2.4-mm fragments with 1.5-mm gaps: 3.9 mm centre to centre, beyond the 3-mm centroid link
    rows, cols, length, angle, elong = duct(angle_deg, [2.4, 2.4, 2.4, 2.4], [1.5, 1.5, 1.5])
    pairs = collinear_links(rows, cols, length, angle, elong, max_gap_mm=3.0, max_angle_deg=20.0,
                            min_elongation=3.0)
    assert sorted(map(tuple, pairs.tolist())) == [(0, 1), (1, 2), (2, 3)]  # 0-2: 5.4-mm gap
    conf = np.full(4, 20.0)
    assert group_calcifications(rows, cols, link_mm=3.0, min_members=3).tolist() == [-1] * 4
    ids, _ = find_clusters(rows, cols, conf, length_mm=length, axis_angle_deg=angle, elongation=elong)
    assert ids.tolist() == [0] * 4
    # without the shape columns, or with the link disabled, only centroids count
    assert find_clusters(rows, cols, conf)[0].tolist() == [-1] * 4
    ids, _ = find_clusters(rows, cols, conf, length_mm=length, axis_angle_deg=angle, elongation=elong,
                           config=ClusterConfig(collinear_gap_mm=0.0))
    assert ids.tolist() == [-1] * 4


def test_collinear_link_needs_aligned_elongated_fragments_and_a_short_gap():
    rows, cols, length, angle, elong = duct(0.0, [2.4, 2.4], [1.5])
    link = dict(max_gap_mm=3.0, max_angle_deg=20.0, min_elongation=3.0)
    assert collinear_links(rows, cols, length, angle, elong, **link).tolist() == [[0, 1]]
    # one fragment turned by 15 deg: link; by 25 deg, off the joining line: no link; across: no link
    for turn, linked in ((15.0, True), (25.0, False), (90.0, False), (165.0, True)):
        turned = angle + [0.0, turn]
        assert (collinear_links(rows, cols, length, turned, elong, **link).shape[0] == 1) is linked, turn
    # a branch fragment at a fork: axes 36 deg apart, the joining line 18 deg from each: link
    assert collinear_links(rows, cols, length, [-18.0, 18.0], elong, **link).shape[0] == 1
    # side by side (parallel tracks): the joining line is across the axes
    assert collinear_links([0.0, 2.0], [0.0, 0.0], length, angle, elong, **link).shape == (0, 2)
    # a gap of 3.2 mm, or one of the two not linear (elongation 2.5, or no axis): no link
    far = duct(0.0, [2.4, 2.4], [3.2])
    assert collinear_links(*far, **link).shape == (0, 2)
    assert collinear_links(rows, cols, length, angle, [9.6, 2.5], **link).shape == (0, 2)
    assert collinear_links(rows, cols, length, [0.0, np.nan], elong, **link).shape == (0, 2)
    assert collinear_links([], [], [], [], [], **link).shape == (0, 2)


def test_collinear_config_validation():
    with pytest.raises(ValueError, match="collinear_max_angle_deg"):
        ClusterConfig(collinear_max_angle_deg=90.0)
    with pytest.raises(ValueError, match="collinear_min_elongation"):
        ClusterConfig(collinear_min_elongation=0.5)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_phantom_fine_linear_ducts_stay_whole_on_the_truth_table(seed):
    # truth outlines of every fragment of a fine-linear-branching duct: one cluster per duct
    from mammo_cv.synthetic.phantoms import phantom

    ph = phantom(spacing_mm=0.1, size_mm=(120, 96), seed=seed, calcifications=("fine_linear_branching",))
    table, kind, truth = truth_calc_table(ph)
    table["confidence"] = np.full(truth.size, 20.0)
    ids, _ = find_clusters(table["row_mm"], table["col_mm"], table["confidence"], length_mm=table["length_mm"],
                           axis_angle_deg=table["axis_angle_deg"], elongation=table["elongation"])
    ducts = sorted(set(truth[kind == "fine_linear_branching"].tolist()))
    assert ducts
    for g in ducts:
        clustered = np.unique(ids[truth == g])
        assert clustered[clustered >= 0].size == 1, (g, clustered)            # never split
        linear = (truth == g) & (table["elongation"] >= 3.0)
        assert (ids[linear] == clustered.max()).all()                         # every linear fragment in it
    # the centroid link alone leaves linear fragments of these ducts out
    alone = group_calcifications(table["row_mm"], table["col_mm"], link_mm=ClusterConfig().link_mm,
                                 min_members=ClusterConfig().min_members)
    assert (alone[(kind == "fine_linear_branching") & (table["elongation"] >= 3.0)] < 0).any()


def test_five_within_one_centimetre_are_one_cluster_however_spaced():
    # BI-RADS "grouped": a centre member and four others 4.5 mm from it, every pair > 3 mm apart
    angles = np.radians([0.0, 90.0, 180.0, 270.0])
    rows = np.concatenate([[50.0], 50.0 + 4.5 * np.sin(angles)])
    cols = np.concatenate([[50.0], 50.0 + 4.5 * np.cos(angles)])
    conf = np.full(5, 10.0)
    ids, clusters = find_clusters(rows, cols, conf)
    assert ids.tolist() == [0, 0, 0, 0, 0] and len(clusters) == 1
    # the same five 6 mm from the centre: no 1-cm circle holds five, and no pair is within 3 mm
    far_rows = np.concatenate([[50.0], 50.0 + 6.0 * np.sin(angles)])
    far_cols = np.concatenate([[50.0], 50.0 + 6.0 * np.cos(angles)])
    assert (find_clusters(far_rows, far_cols, conf)[0] == -1).all()
    # four members, even tightly packed in their circle but > 3 mm apart, are no BI-RADS group
    assert (find_clusters(rows[:4], cols[:4], conf[:4])[0] == -1).all()


def test_bi_rads_links_need_the_count():
    rows, cols = [0.0, 2.0, 4.0, 6.0, 8.0], [0.0] * 5
    assert bi_rads_links(rows, cols, span_mm=10.0, min_calcs=5).tolist() == [[0, 2], [1, 2], [2, 3], [2, 4]]
    assert bi_rads_links(rows, cols, span_mm=10.0, min_calcs=6).shape == (0, 2)
    assert bi_rads_links(rows[:2], cols[:2], span_mm=10.0, min_calcs=5).shape == (0, 2)
