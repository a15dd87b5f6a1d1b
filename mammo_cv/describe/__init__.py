"""Description: per-calcification features, grouping into clusters, cluster description, vascular chains."""

from __future__ import annotations

from mammo_cv.describe.calcifications import CALC_COLUMNS, FeatureConfig, empty_calc_table, measure_calcifications
from mammo_cv.describe.cluster_table import CLUSTER_COLUMNS, cluster_table
from mammo_cv.describe.grouping import (
    ClusterConfig,
    Clusters,
    bi_rads_links,
    collinear_links,
    densest_count,
    find_clusters,
    group_calcifications,
    summarize_clusters,
)
from mammo_cv.describe.groups import DISTRIBUTIONS, GROUP_COLUMNS, GroupConfig, describe_groups, empty_group_table
from mammo_cv.describe.vascular import CHAIN_COLUMNS, VascularConfig, empty_chain_table, find_vascular

__all__ = [
    "CALC_COLUMNS", "FeatureConfig", "empty_calc_table", "measure_calcifications", "ClusterConfig", "Clusters",
    "group_calcifications", "collinear_links", "bi_rads_links", "summarize_clusters", "densest_count", "find_clusters",
    "GROUP_COLUMNS", "DISTRIBUTIONS", "GroupConfig", "describe_groups", "empty_group_table", "CLUSTER_COLUMNS",
    "cluster_table", "CHAIN_COLUMNS", "VascularConfig", "empty_chain_table", "find_vascular",
]
