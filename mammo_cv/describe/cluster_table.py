"""The reported clusters of one image: grouping (:mod:`.grouping`) plus description (:mod:`.groups`)."""

from __future__ import annotations

import numpy as np

from mammo_cv.core.relabel import relabel_kept
from mammo_cv.describe.grouping import ClusterConfig, densest_count, find_clusters
from mammo_cv.describe.groups import GROUP_COLUMNS, GroupConfig, describe_groups

__all__ = ["CLUSTER_COLUMNS", "cluster_table"]


# The reported clusters: id, BI-RADS flag and detection score from this module, the
# description from cluster_features. ``detection_score`` (sigma units) ranks clusters for the
# FROC; the classifier's 0..1 ``score`` is added by classify.
CLUSTER_COLUMNS: dict[str, np.dtype] = {
    "cluster_id": np.dtype(np.int64),
    **{name: dtype for name, dtype in GROUP_COLUMNS.items() if name != "group_id"},
    "n_calcs_1cm": np.dtype(np.int64),
    "bi_rads_group": np.dtype(bool),
    "detection_score": np.dtype(np.float64),
}


def cluster_table(calcifications: dict[str, np.ndarray], *, nipple_rc_mm: tuple[float, float],
                  breast_area_mm2: float | None = None, config: ClusterConfig | None = None,
                  group_config: GroupConfig | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The reported clusters of one image (score >= ``config.min_score``), described.

    Parameters
    ----------
    calcifications : dict of str to (n,) ndarray
        ``features.CALC_COLUMNS`` plus ``confidence``.
    nipple_rc_mm : (float, float)
        Nipple (row, col) in mm, for ``nipple_alignment_deg`` and the distribution.
    breast_area_mm2 : float, optional
        Breast area, needed to call a cluster "diffuse".
    config : ClusterConfig, optional
    group_config : GroupConfig, optional
        Distribution thresholds of :func:`mammo_cv.describe.groups.describe_groups`.

    Returns
    -------
    cluster_id : (n,) ndarray of int64
        Reported cluster of each calcification, 0..k-1 in the order found, -1 = none.
    table : dict of str to (k,) ndarray
        ``CLUSTER_COLUMNS``: the description of each cluster
        (:func:`mammo_cv.describe.groups.describe_groups`), ``n_calcs_1cm``
        (:func:`densest_count` of the members, span ``config.bi_rads_span_mm``),
        ``bi_rads_group`` (``n_calcs_1cm >= config.bi_rads_min_calcs``) and
        ``detection_score`` (the FROC score, sigma units).
    """
    config = config or ClusterConfig()
    found_id, clusters = find_clusters(calcifications["row_mm"], calcifications["col_mm"],
                                       calcifications["confidence"], length_mm=calcifications["length_mm"],
                                       axis_angle_deg=calcifications["axis_angle_deg"],
                                       elongation=calcifications["elongation"], config=config)
    kept = np.flatnonzero(clusters.score >= config.min_score)
    cluster_id = relabel_kept(found_id, kept, len(clusters))
    description = describe_groups(calcifications, cluster_id, nipple_rc_mm=nipple_rc_mm,
                                  breast_area_mm2=breast_area_mm2, config=group_config)
    n_1cm = densest_count(calcifications["row_mm"], calcifications["col_mm"], cluster_id,
                          span_mm=config.bi_rads_span_mm)
    table = {"cluster_id": description["group_id"], **description, "n_calcs_1cm": n_1cm,
             "bi_rads_group": n_1cm >= config.bi_rads_min_calcs, "detection_score": clusters.score[kept]}
    return cluster_id, {name: np.asarray(table[name]).astype(dtype) for name, dtype in CLUSTER_COLUMNS.items()}
