"""Matching rules and figures of merit shared by the evaluation scripts and notebooks.

mini-MIAS (cluster level)
    A detected cluster is a hit when its centre lies within ``max(radius, min_radius_mm)`` of
    an annotated CALC circle's centre (the circle encloses the whole group; 2 mm widens the
    tiny circles of mdb218/mdb223). A lesion hit by several clusters counts once, and its
    extra clusters are neither hits nor false positives. Every other cluster is a false
    positive, on every image, normals included. Rows without coordinates (mdb233, "diffuse")
    are excluded from the localisation sensitivity and from the false-positive count (any
    cluster there may be true); the script reports them separately.
Phantoms (calcification level)
    A true calcification is found when a detection overlaps it or a detection's peak lies
    within ``max(min_dist_mm, 1 px)`` of its centroid. A detection that overlaps no true
    calcification is a false detection.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

__all__ = [
    "CalcCircle",
    "f1_score",
    "FrocImage",
    "read_mias_annotations",
    "match_clusters",
    "froc_curve",
    "sensitivity_at",
    "match_calcifications",
    "recall_by_size",
    "split_fraction",
    "label_overlaps",
    "best_overlap",
    "SIZE_BANDS_MM",
]

#: Phantom size bands in mm: [low, high) in equivalent diameter.
SIZE_BANDS_MM: tuple[tuple[float, float], ...] = (
    (0.0, 0.2), (0.2, 0.5), (0.5, 1.0), (1.0, 2.0), (2.0, float("inf")))


@dataclass(frozen=True)
class CalcCircle:
    """One annotated CALC region: circle centre (row, col) and radius, in px."""

    refnum: str
    row_px: float
    col_px: float
    radius_px: float


@dataclass(frozen=True)
class FrocImage:
    """One image's scored clusters matched to its lesions: what :func:`froc_curve` counts.

    Attributes
    ----------
    refnum : str
    score : (k,) ndarray of float64
        Cluster scores.
    lesion : (k,) ndarray of int64
        Index of the lesion (into the image's circle list) the cluster hits, -1 for none.
    n_lesions : int
        Annotated circles with coordinates on this image.
    counts_fp : bool
        False for images whose annotation has no coordinates (diffuse).
    """

    refnum: str
    score: np.ndarray
    lesion: np.ndarray
    n_lesions: int
    counts_fp: bool = True


def read_mias_annotations(path: str | Path) -> tuple[dict[str, str], dict[str, list[CalcCircle]], set[str]]:
    """Parse the mini-MIAS ``annotations.csv`` (columns refnum, class, row_from_top, x, radius_px).

    Returns
    -------
    classes : dict
        refnum -> class of its first row (``"CALC"``, ``"NORM"``, ...).
    circles : dict
        refnum -> CALC circles with coordinates (row = row_from_top, col = x).
    diffuse : set of str
        refnums of CALC rows without coordinates.
    """
    classes: dict[str, str] = {}
    circles: dict[str, list[CalcCircle]] = {}
    diffuse: set[str] = set()
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            ref = row["refnum"].strip()
            classes.setdefault(ref, row["class"].strip())
            circles.setdefault(ref, [])
            if row["class"].strip() != "CALC":
                continue
            if not row["row_from_top"].strip():
                diffuse.add(ref)
                continue
            circles[ref].append(CalcCircle(ref, float(row["row_from_top"]), float(row["x"]),
                                           float(row["radius_px"])))
    return classes, circles, diffuse


def match_clusters(centre_rc_px: np.ndarray, circles: list[CalcCircle], *, spacing_mm: float,
                   min_radius_mm: float = 2.0) -> np.ndarray:
    """Lesion hit by each cluster centre.

    Parameters
    ----------
    centre_rc_px : (k, 2) array_like of float
        Cluster centres (row, col) in px.
    circles : list of CalcCircle
    spacing_mm : float
        Pixel size in mm.
    min_radius_mm : float
        A circle's radius is taken as at least this.

    Returns
    -------
    (k,) ndarray of int64
        Index into ``circles`` of the nearest circle containing the centre, -1 for none.
    """
    centres = np.asarray(centre_rc_px, np.float64).reshape(-1, 2)
    if not circles or centres.shape[0] == 0:
        return np.full(centres.shape[0], -1, np.int64)
    rc = np.array([[c.row_px, c.col_px] for c in circles])
    radius = np.maximum(np.array([c.radius_px for c in circles]), min_radius_mm / spacing_mm)
    dist = np.hypot(centres[:, None, 0] - rc[None, :, 0], centres[:, None, 1] - rc[None, :, 1])
    inside = dist <= radius[None, :]
    nearest = np.argmin(np.where(inside, dist, np.inf), axis=1)
    return np.where(inside.any(axis=1), nearest, -1).astype(np.int64)


def froc_curve(outcomes: list[FrocImage]) -> dict[str, np.ndarray]:
    """Sensitivity and false-positive clusters per image as the score threshold falls.

    Returns
    -------
    dict
        ``threshold`` (t,), ``sensitivity`` (t,) in [0, 1], ``fp_per_image`` (t,): at
        threshold ``threshold[i]`` the clusters with score >= it are kept. Starts at
        threshold +inf (nothing kept).
    """
    n_lesions = sum(o.n_lesions for o in outcomes)
    n_fp_images = sum(o.counts_fp for o in outcomes)
    scores = np.concatenate([o.score for o in outcomes] + [np.zeros(0)])
    thresholds = np.concatenate([[np.inf], np.unique(scores)[::-1]])
    sens = np.zeros(thresholds.size)
    fps = np.zeros(thresholds.size)
    for outcome in outcomes:  # a loop over images (bounded), vectorised over thresholds
        kept = outcome.score[None, :] >= thresholds[:, None]
        if outcome.counts_fp:
            fps += (kept & (outcome.lesion[None, :] < 0)).sum(axis=1)
        for lesion in range(outcome.n_lesions):
            sens += (kept & (outcome.lesion[None, :] == lesion)).any(axis=1)
    return {
        "threshold": thresholds,
        "sensitivity": sens / max(n_lesions, 1),
        "fp_per_image": fps / max(n_fp_images, 1),
    }


def sensitivity_at(curve: dict[str, np.ndarray], fp_per_image: float) -> float:
    """Highest sensitivity of the curve with at most ``fp_per_image`` false positives per image."""
    ok = curve["fp_per_image"] <= fp_per_image
    return float(curve["sensitivity"][ok].max()) if ok.any() else 0.0


def f1_score(tp: int, fp: int, fn: int) -> float | None:
    """F1 = 2 TP / (2 TP + FP + FN); None when there is nothing to score (all three are 0).

    Examples
    --------
    >>> f1_score(8, 1, 3), f1_score(0, 0, 0)
    (0.8, None)
    """
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None


def match_calcifications(calc_labels: np.ndarray, det_labels: np.ndarray, det_peak_rc: np.ndarray, *,
                         spacing_mm: float, min_dist_mm: float = 0.2) -> tuple[np.ndarray, int]:
    """Which true calcifications are found, and how many detections are false.

    Parameters
    ----------
    calc_labels : (M, N) ndarray of int
        True calcification labels 1..m (0 = none).
    det_labels : (M, N) ndarray of int32
        Detection labels 1..n.
    det_peak_rc : (n, 2) ndarray of int
        Detection peaks (row, col) in px.
    spacing_mm : float
    min_dist_mm : float
        Peak-to-centroid distance that also counts as found (at least 1 px).

    Returns
    -------
    found : (m,) ndarray of bool
        found[j-1] for true label j.
    n_false : int
        Detections overlapping no true calcification.
    """
    m = int(calc_labels.max()) if calc_labels.size else 0
    n = int(det_peak_rc.shape[0])
    both = (calc_labels > 0) & (det_labels > 0)
    found = np.zeros(m + 1, bool)
    found[calc_labels[both]] = True
    det_true = np.zeros(n + 1, bool)
    det_true[det_labels[both]] = True
    if m and n:
        centroids = np.asarray(ndimage.center_of_mass(calc_labels > 0, calc_labels, np.arange(1, m + 1)))
        radius_px = max(min_dist_mm / spacing_mm, 1.0)
        pairs = _pairs_within(centroids, np.asarray(det_peak_rc, np.float64), radius_px)
        found[pairs[:, 0] + 1] = True
    return found[1:], int(n - det_true[1:].sum())


def _pairs_within(a: np.ndarray, b: np.ndarray, radius: float) -> np.ndarray:
    """(p, 2) index pairs (i into a, j into b) with distance <= radius."""
    hits = cKDTree(a).query_ball_tree(cKDTree(b), r=radius)
    pairs = [(i, j) for i, js in enumerate(hits) for j in js]
    return np.array(pairs, np.int64).reshape(-1, 2)


def recall_by_size(size_mm: np.ndarray, found: np.ndarray,
                   bands: tuple[tuple[float, float], ...] = SIZE_BANDS_MM) -> list[dict[str, float]]:
    """Recall per size band.

    Returns
    -------
    list of dict
        One per band: ``low_mm``, ``high_mm``, ``n``, ``found``, ``recall`` (NaN-free: None
        when the band is empty).
    """
    size = np.asarray(size_mm, np.float64)
    hit = np.asarray(found, bool)
    out = []
    for low, high in bands:
        inband = (size >= low) & (size < high)
        count = int(inband.sum())
        out.append({"low_mm": low, "high_mm": high, "n": count, "found": int(hit[inband].sum()),
                    "recall": float(hit[inband].mean()) if count else None})
    return out


def label_overlaps(labels_a: np.ndarray, labels_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of labels that share pixels, with the number of pixels they share.

    Parameters
    ----------
    labels_a, labels_b : (M, N) ndarray of int
        Two label images of the same grid (0 = background), e.g. truth and detections.

    Returns
    -------
    pairs : (k, 2) ndarray of int
        ``(label in a, label in b)``, sorted by the first column, then the second.
    counts : (k,) ndarray of int64
        Overlap of each pair, px.

    Examples
    --------
    >>> a = np.array([[1, 1, 0], [0, 2, 2]])
    >>> b = np.array([[3, 0, 0], [0, 3, 4]])
    >>> pairs, counts = label_overlaps(a, b)
    >>> pairs.tolist(), counts.tolist()
    ([[1, 3], [2, 3], [2, 4]], [1, 1, 1])
    """
    both = (labels_a > 0) & (labels_b > 0)
    pairs, counts = np.unique(np.stack([labels_a[both], labels_b[both]], axis=1), axis=0, return_counts=True)
    return pairs, counts.astype(np.int64)


def best_overlap(labels_a: np.ndarray, labels_b: np.ndarray) -> dict[int, int]:
    """For each label of ``labels_a`` that overlaps ``labels_b``: the label of ``b`` it overlaps most.

    Ties go to the smaller label of ``b``.

    Parameters
    ----------
    labels_a, labels_b : (M, N) ndarray of int
        Two label images of the same grid (0 = background).

    Returns
    -------
    dict of int to int

    Examples
    --------
    >>> best_overlap(np.array([[1, 1, 1, 0]]), np.array([[5, 6, 6, 0]]))
    {1: 6}
    """
    pairs, counts = label_overlaps(labels_a, labels_b)
    order = np.lexsort((-counts, pairs[:, 0]))  # per a-label, largest overlap first
    pairs = pairs[order]
    first = np.concatenate([[True], pairs[1:, 0] != pairs[:-1, 0]]) if len(pairs) else np.zeros(0, bool)
    return {int(a): int(b) for a, b in pairs[first]}


def split_fraction(calc_labels: np.ndarray, det_labels: np.ndarray) -> float | None:
    """Fraction of the overlapped true calcifications that overlap more than one detection.

    Parameters
    ----------
    calc_labels : (M, N) ndarray of int
        True calcification labels 1..m (0 = none).
    det_labels : (M, N) ndarray of int32
        Detection labels 1..n.

    Returns
    -------
    float or None
        In [0, 1]; None when no true calcification is overlapped.
    """
    pairs, _ = label_overlaps(calc_labels, det_labels)
    pieces = np.bincount(pairs[:, 0])
    pieces = pieces[pieces > 0]
    return float((pieces > 1).mean()) if pieces.size else None
