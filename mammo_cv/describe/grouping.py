"""Group calcifications into clusters, score them, and flag the BI-RADS groups.

Positions are in mm so that the BI-RADS distances apply at every pixel spacing. There is one
grouping, used by the pipeline and the FROC scripts alike:

1. **Candidate clusters** (:func:`find_clusters`): detections with ``confidence >=
   min_member_confidence`` closer than ``link_mm`` to each other (single linkage) form a
   cluster of at least ``min_members``; it is scored by its most confident members. Two
   elongated fragments also link when they lie end to end on one line (:func:`collinear_links`):
   their end-to-end gap (centroid distance minus the half lengths) is at most
   ``collinear_gap_mm``, their axes differ by at most ``collinear_max_angle_deg`` and the line
   joining them is within that angle of both axes. Fine-linear calcifications are casts of
   one duct broken into fragments up to 2.5 mm long; centre to centre they are up to ~4 mm
   apart although their ends are 0.5-1.5 mm apart, so the centroid link alone splits the
   duct. Round specks, the false detections of film grain, never take this link.
   A third link is BI-RADS' own definition of a group (:func:`bi_rads_links`): a member whose
   circle of diameter ``bi_rads_span_mm`` (1 cm) holds at least ``bi_rads_min_calcs`` (5)
   members links to all of them, whatever their spacing. Faint groups on film show 5-6 of
   their members 2-7 mm apart, beyond ``link_mm``, so the 3-mm chain alone splits a group the
   lexicon calls "grouped".
2. **BI-RADS group** (:func:`densest_count`, column ``bi_rads_group``): BI-RADS 5th ed.
   "grouped: ... usually when 5 calcifications are grouped within 1 cm of each other". A
   cluster is a BI-RADS group when a circle of diameter ``bi_rads_span_mm`` (1 cm) centred on
   one of its members holds at least ``bi_rads_min_calcs`` (5) members: those are then
   pairwise within 1 cm, as the lexicon asks. The upper limit of "grouped" (2 cm) is
   ``GroupConfig.max_extent_mm``: a larger cluster is linear, segmental, regional or diffuse.

Why candidates of 3 rather than 5 (mini-MIAS dev, 69 images, 13 localised groups, this
detector, ``python scripts/evaluate_mias.py DATA --out r.json`` with ``min_members`` 3 or 5):
min 3 finds 11/13 at 0.90 FP clusters/image, min 5 only 9/13 at 0.16; a 1-cm DBSCAN rule
(>= 5 within 10 mm) 7/13 at 1.38. On 0.2 mm scanned film the smallest members of a group are
invisible, so the BI-RADS count is a link and a reported flag, not the grouping rule; the
classifier requires it only of clusters whose members' shape is not resolved (``rules.toml``,
``min_fine_calcs_label``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from mammo_cv.core.relabel import appearance_order, relabel_kept

__all__ = ["ClusterConfig", "Clusters", "group_calcifications", "collinear_links", "bi_rads_links",
           "summarize_clusters", "densest_count", "find_clusters"]


@dataclass(frozen=True)
class ClusterConfig:
    """Grouping rule and the cluster operating point.

    How each default was chosen, on which data and with which figures, is recorded in
    ``docs/validation.md``.

    Attributes
    ----------
    min_member_confidence : float
        Only detections with at least this confidence can be members, sigma: the detector's reporting
        operating point (``DetectionConfig.min_confidence``). Fainter detections (the context threshold)
        are reported but never make a group: on scanned film, grain gives many 5-6 sigma specks.
    link_mm : float
        Two members closer than this belong to the same cluster (single linkage), mm. BI-RADS 5th ed.
        "grouped" is at least 5 within 1 cm, up to 2 cm: 3 mm chains a 1-2 cm group of a few visible
        members without joining separate tissue specks.
    min_members : int
        Fewest members for a cluster. BI-RADS asks for 5, but on 0.2-mm scanned film the smallest members
        are invisible, and 5 costs lesions on the development set; the BI-RADS count is reported as the
        ``bi_rads_group`` flag instead.
    top_members : int
        The cluster score is the mean confidence of its ``top_members`` most confident members, so that a
        group is scored by the detections that make it a group.
    min_score : float
        Operating point, sigma: clusters with a lower score are not reported. On the development FROC it
        keeps every hit cluster and drops about 0.3 false clusters per image.
    bi_rads_span_mm : float
        Diameter of the circle, centred on a member, that must hold ``bi_rads_min_calcs`` members for
        ``bi_rads_group`` and for the BI-RADS link (:func:`bi_rads_links`), mm. BI-RADS 5th ed. "5
        calcifications ... within 1 cm of each other": 10 mm.
    bi_rads_min_calcs : int
        BI-RADS 5th ed. lower limit of a group: 5 calcifications.
    collinear_gap_mm : float
        Largest end-to-end gap of two collinear elongated fragments that link, mm (0 disables the link).
        Equal to ``link_mm``: a fragment gets from its ends the reach a round speck has from its centre,
        so that a fine-linear duct broken into fragments stays one cluster.
    collinear_max_angle_deg : float
        Largest angle between each fragment's axis and the line joining their centroids, deg. Fine-linear
        branches leave a duct at 25-45 deg (BI-RADS "fine linear branching"): 20 deg on each side admits a
        branch fragment next to its fork but not a fragment lying beside the line.
    collinear_min_elongation : float
        Both fragments must be linear: elongation at least 3, as ``fine_linear_min_elongation`` in
        ``rules.toml``; round specks, the false detections of film grain, never take this link.
    """

    min_member_confidence: float = 6.0
    link_mm: float = 3.0
    min_members: int = 3
    top_members: int = 3
    min_score: float = 8.0
    bi_rads_span_mm: float = 10.0
    bi_rads_min_calcs: int = 5
    collinear_gap_mm: float = 3.0
    collinear_max_angle_deg: float = 20.0
    collinear_min_elongation: float = 3.0

    def __post_init__(self) -> None:
        if self.collinear_gap_mm < 0 or not 0 < self.collinear_max_angle_deg < 90:
            raise ValueError(f"need collinear_gap_mm >= 0 and 0 < collinear_max_angle_deg < 90, got "
                             f"{self.collinear_gap_mm}, {self.collinear_max_angle_deg}")
        if self.collinear_min_elongation < 1:
            raise ValueError(f"collinear_min_elongation must be >= 1, got {self.collinear_min_elongation}")
        if self.link_mm <= 0 or self.bi_rads_span_mm <= 0:
            raise ValueError(f"link_mm and bi_rads_span_mm must be > 0, got {self.link_mm}, "
                             f"{self.bi_rads_span_mm}")
        if self.min_members < 1 or self.top_members < 1 or self.bi_rads_min_calcs < 1:
            raise ValueError("min_members, top_members and bi_rads_min_calcs must be >= 1")


@dataclass(frozen=True)
class Clusters:
    """Clusters of one image.

    Attributes
    ----------
    centre_mm : (k, 2) ndarray of float64
        (row, col) mean member position in mm, in the stored grid (row_px * row spacing).
    score : (k,) ndarray of float64
        Mean confidence of the ``top_members`` most confident members.
    n_members : (k,) ndarray of int64
    """

    centre_mm: np.ndarray
    score: np.ndarray
    n_members: np.ndarray

    def __len__(self) -> int:
        return int(self.score.shape[0])


def group_calcifications(rows_mm: np.ndarray, cols_mm: np.ndarray, *, link_mm: float,
                         min_members: int, extra_links: np.ndarray | None = None) -> np.ndarray:
    """Single-linkage grouping of points closer than ``link_mm``.

    Parameters
    ----------
    rows_mm, cols_mm : (n,) array_like of float
        Calcification positions in mm.
    link_mm : float
        Linking distance in mm (the pipeline's is ``ClusterConfig.link_mm``).
    min_members : int
        Groups with fewer members get id -1 (``ClusterConfig.min_members``).
    extra_links : (m, 2) array_like of int, optional
        Further index pairs to link whatever their distance (e.g. :func:`collinear_links`).

    Returns
    -------
    (n,) ndarray of int64
        Cluster id per point, 0..k-1 numbered by first appearance, -1 = not in a cluster.

    Examples
    --------
    >>> group_calcifications([0, 1, 2, 50], [0, 0, 0, 0], link_mm=1.5, min_members=3).tolist()
    [0, 0, 0, -1]
    """
    points = np.column_stack([np.asarray(rows_mm, np.float64), np.asarray(cols_mm, np.float64)])
    n = points.shape[0]
    if n == 0:
        return np.zeros(0, np.int64)
    pairs = cKDTree(points).query_pairs(r=link_mm, output_type="ndarray")
    if extra_links is not None:
        pairs = np.concatenate([pairs, np.asarray(extra_links, np.int64).reshape(-1, 2)])
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    counts = np.bincount(component)
    big = counts[component] >= min_members
    return relabel_kept(component, appearance_order(component[big]), counts.size)


def collinear_links(rows_mm: np.ndarray, cols_mm: np.ndarray, length_mm: np.ndarray,
                    axis_angle_deg: np.ndarray, elongation: np.ndarray, *, max_gap_mm: float,
                    max_angle_deg: float, min_elongation: float) -> np.ndarray:
    """Pairs of linear fragments lying end to end along one duct.

    A pair links when both are linear (``elongation >= min_elongation`` with a finite axis),
    the line joining their centroids is within ``max_angle_deg`` of both axes (so the axes
    differ by at most twice that: a fragment of a branch links to the parent fragment at its
    fork), and their end-to-end gap (centroid distance minus half of each length) is at most
    ``max_gap_mm``.

    Parameters
    ----------
    rows_mm, cols_mm, length_mm : (n,) array_like of float
        Centroids and greatest extents in mm.
    axis_angle_deg : (n,) array_like of float
        Direction of each long axis in degrees (any convention modulo 180; NaN = no axis).
    elongation : (n,) array_like of float
        Length / width.
    max_gap_mm : float
        Largest end-to-end gap, mm.
    max_angle_deg : float
        Largest angle between each axis and the joining line.
    min_elongation : float
        Elongation from which a fragment is linear.

    Returns
    -------
    (m, 2) ndarray of int64
        Index pairs (i < j) into the input rows.

    Examples
    --------
    Two 2-mm fragments along one row with a 1.5-mm gap link; turned across the line they do not:

    >>> collinear_links([0, 0], [0, 3.5], [2, 2], [0, 0], [8, 8], max_gap_mm=3.0, max_angle_deg=20.0,
    ...                 min_elongation=3.0).tolist()
    [[0, 1]]
    >>> collinear_links([0, 0], [0, 3.5], [2, 2], [90, 90], [8, 8], max_gap_mm=3.0, max_angle_deg=20.0,
    ...                 min_elongation=3.0).shape
    (0, 2)
    """
    angle = np.radians(np.asarray(axis_angle_deg, np.float64))
    length = np.asarray(length_mm, np.float64)
    if length.size < 2:
        return np.zeros((0, 2), np.int64)
    linear = (np.asarray(elongation, np.float64) >= min_elongation) & np.isfinite(angle)
    rc = np.column_stack([np.asarray(rows_mm, np.float64), np.asarray(cols_mm, np.float64)])
    axis = np.column_stack([np.sin(angle), np.cos(angle)])                   # (row, col) unit vectors
    reach = max_gap_mm + float(length[linear].max(initial=0.0))
    pairs = cKDTree(rc).query_pairs(r=reach, output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    ok = linear[i] & linear[j] & _end_to_end(rc, axis, length, pairs, max_gap_mm=max_gap_mm,
                                             max_angle_deg=max_angle_deg)
    return pairs[ok].astype(np.int64).reshape(-1, 2)


def _end_to_end(rc: np.ndarray, axis: np.ndarray, length: np.ndarray, pairs: np.ndarray, *, max_gap_mm: float,
                max_angle_deg: float) -> np.ndarray:
    """Bool (m,): do the fragments of each pair (i, j) lie end to end? The line joining their
    centroids ``rc`` (n, 2) mm is within ``max_angle_deg`` of both unit ``axis`` (n, 2) (False
    for a NaN axis) and the gap between their ends (``length`` (n,) mm) is <= ``max_gap_mm``."""
    i, j = pairs[:, 0], pairs[:, 1]
    offset = rc[j] - rc[i]
    distance = np.hypot(offset[:, 0], offset[:, 1])
    cos_max = np.cos(np.radians(max_angle_deg))
    safe = np.maximum(distance, 1e-12)
    with np.errstate(invalid="ignore"):                                      # NaN axes of round objects
        along_i = np.abs(np.einsum("ij,ij->i", offset, axis[i])) / safe >= cos_max
        along_j = np.abs(np.einsum("ij,ij->i", offset, axis[j])) / safe >= cos_max
    return along_i & along_j & (distance - 0.5 * (length[i] + length[j]) <= max_gap_mm)


def bi_rads_links(rows_mm: np.ndarray, cols_mm: np.ndarray, *, span_mm: float, min_calcs: int) -> np.ndarray:
    """Pairs that lie in one BI-RADS group: a circle of diameter ``span_mm`` centred on a member
    holds at least ``min_calcs`` members (itself included); that member links to each of them.

    BI-RADS 5th ed. "grouped: ... usually when 5 calcifications are grouped within 1 cm of each
    other": the members in one such circle are pairwise within ``span_mm``.

    Parameters
    ----------
    rows_mm, cols_mm : (n,) array_like of float
        Positions in mm.
    span_mm : float
        Circle diameter, mm (``ClusterConfig.bi_rads_span_mm``).
    min_calcs : int
        Members the circle must hold (``ClusterConfig.bi_rads_min_calcs``).

    Returns
    -------
    (m, 2) ndarray of int64
        Index pairs (i < j).

    Examples
    --------
    Five dots 2 mm apart on a line: the middle one's 1-cm circle holds all five, and it links to
    the other four; 4 mm apart, no circle holds five.

    >>> bi_rads_links([0, 2, 4, 6, 8], [0, 0, 0, 0, 0], span_mm=10.0, min_calcs=5).tolist()
    [[0, 2], [1, 2], [2, 3], [2, 4]]
    >>> bi_rads_links([0, 4, 8, 12, 16], [0, 0, 0, 0, 0], span_mm=10.0, min_calcs=5).shape
    (0, 2)
    """
    points = np.column_stack([np.asarray(rows_mm, np.float64), np.asarray(cols_mm, np.float64)])
    if points.shape[0] < min_calcs:
        return np.zeros((0, 2), np.int64)
    pairs = cKDTree(points).query_pairs(r=0.5 * span_mm, output_type="ndarray")
    count = 1 + np.bincount(pairs.ravel(), minlength=points.shape[0])
    core = count >= min_calcs
    return np.unique(pairs[core[pairs[:, 0]] | core[pairs[:, 1]]].astype(np.int64).reshape(-1, 2), axis=0)


def summarize_clusters(rows_mm: np.ndarray, cols_mm: np.ndarray, confidence: np.ndarray,
                       cluster_id: np.ndarray, *, top_members: int) -> Clusters:
    """Centre, score and size of each cluster.

    Parameters
    ----------
    rows_mm, cols_mm, confidence : (n,) array_like of float
    cluster_id : (n,) array_like of int
        From :func:`group_calcifications` (-1 = none).
    top_members : int
        Score = mean confidence of this many most confident members (fewer if the cluster is
        smaller); ``ClusterConfig.top_members``.

    Returns
    -------
    Clusters
        k clusters, index = cluster id.
    """
    ids = np.asarray(cluster_id, np.int64)
    k = int(ids.max()) + 1 if ids.size else 0
    if k <= 0:
        return Clusters(np.zeros((0, 2)), np.zeros(0), np.zeros(0, np.int64))
    inside = ids >= 0
    ids = ids[inside]
    rows = np.asarray(rows_mm, np.float64)[inside]
    cols = np.asarray(cols_mm, np.float64)[inside]
    conf = np.asarray(confidence, np.float64)[inside]
    n_members = np.bincount(ids, minlength=k)
    centre = np.column_stack([np.bincount(ids, rows, k), np.bincount(ids, cols, k)]) / n_members[:, None]
    # rank of each member within its cluster by descending confidence
    order = np.lexsort((-conf, ids))
    starts = np.concatenate([[0], np.cumsum(n_members)[:-1]])
    rank = np.empty(ids.size, np.int64)
    rank[order] = np.arange(ids.size) - np.repeat(starts, n_members)
    top = rank < top_members
    score = np.bincount(ids[top], conf[top], k) / np.minimum(n_members, top_members)
    return Clusters(centre_mm=centre, score=score, n_members=n_members.astype(np.int64))


def densest_count(rows_mm: np.ndarray, cols_mm: np.ndarray, cluster_id: np.ndarray, *,
                  span_mm: float) -> np.ndarray:
    """Most members of each cluster inside a circle of diameter ``span_mm`` centred on a member.

    Parameters
    ----------
    rows_mm, cols_mm : (n,) array_like of float
        Positions in mm.
    cluster_id : (n,) array_like of int
        Cluster ids 0..k-1, -1 = in no cluster (ignored).
    span_mm : float
        Circle diameter in mm; members in one circle are pairwise closer than ``span_mm``
        (``ClusterConfig.bi_rads_span_mm``).

    Returns
    -------
    (k,) ndarray of int64
        For cluster g: max over its members m of the number of members of g (m included)
        within ``span_mm / 2`` of m.

    Examples
    --------
    >>> densest_count([0, 2, 4, 6, 8, 30], [0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], span_mm=10.0).tolist()
    [5]
    """
    ids = np.asarray(cluster_id, np.int64)
    k = int(ids.max()) + 1 if ids.size else 0
    if k <= 0:
        return np.zeros(0, np.int64)
    inside = np.flatnonzero(ids >= 0)
    points = np.column_stack([np.asarray(rows_mm, np.float64)[inside], np.asarray(cols_mm, np.float64)[inside]])
    pairs = cKDTree(points).query_pairs(r=0.5 * span_mm, output_type="ndarray")
    own = ids[inside]
    same = pairs[own[pairs[:, 0]] == own[pairs[:, 1]]]
    count = 1 + np.bincount(same.ravel(), minlength=inside.size)
    best = np.zeros(k, np.int64)
    np.maximum.at(best, own, count)
    return best


def find_clusters(rows_mm: np.ndarray, cols_mm: np.ndarray, confidence: np.ndarray, *,
                  length_mm: np.ndarray | None = None, axis_angle_deg: np.ndarray | None = None,
                  elongation: np.ndarray | None = None,
                  config: ClusterConfig | None = None) -> tuple[np.ndarray, Clusters]:
    """Group the confident detections and score every group (no ``min_score`` cut).

    Parameters
    ----------
    rows_mm, cols_mm, confidence : (n,) array_like of float
        Detection positions in mm and their confidences.
    length_mm, axis_angle_deg, elongation : (n,) array_like of float, optional
        Shape of each detection (``features`` columns); when all three are given, collinear
        fragments also link end to end (:func:`collinear_links`).
    config : ClusterConfig, optional

    Returns
    -------
    cluster_id : (n,) ndarray of int64
        Cluster per detection, -1 = none (also for detections below
        ``min_member_confidence``).
    clusters : Clusters
        All clusters; report those with ``score >= config.min_score``.
    """
    config = config or ClusterConfig()
    conf = np.asarray(confidence, np.float64)
    member = np.flatnonzero(conf >= config.min_member_confidence)
    rows = np.asarray(rows_mm, np.float64)[member]
    cols = np.asarray(cols_mm, np.float64)[member]
    extra = None
    shape = (length_mm, axis_angle_deg, elongation)
    if all(value is not None for value in shape) and config.collinear_gap_mm > 0:
        length, angle, elong = (np.asarray(value, np.float64)[member] for value in shape)
        extra = collinear_links(rows, cols, length, angle, elong, max_gap_mm=config.collinear_gap_mm,
                                max_angle_deg=config.collinear_max_angle_deg,
                                min_elongation=config.collinear_min_elongation)
    dense = bi_rads_links(rows, cols, span_mm=config.bi_rads_span_mm, min_calcs=config.bi_rads_min_calcs)
    extra = dense if extra is None else np.concatenate([extra, dense])
    ids = group_calcifications(rows, cols, link_mm=config.link_mm, min_members=config.min_members,
                               extra_links=extra)
    cluster_id = np.full(conf.shape[0], -1, np.int64)
    cluster_id[member] = ids
    clusters = summarize_clusters(rows, cols, conf[member], ids, top_members=config.top_members)
    return cluster_id, clusters


