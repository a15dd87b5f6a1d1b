"""Rule classifier: calcification and cluster tables + a rule set -> labels, scores and reasons.

The classifier never sees pixels. It reads the calcification table (``mammo_cv.describe.CALC_COLUMNS``
plus ``cluster_id``, ``vascular_score``) and the cluster table (``mammo_cv.describe.CLUSTER_COLUMNS``),
and applies the rules of :mod:`mammo_cv.classify.rules` (``rules.toml``) in this precedence order; the
first rule that matches gives the label:

1. ``suspicious_cluster``: every member of a cluster whose suspicion ``score`` reaches
   ``suspicious_cluster.min_score`` and that has at least ``min_fine_calcs_label`` fine members (BI-RADS:
   5); ``shaped_min_fine_calcs_label`` suffice when ``min_shaped_members`` of them show their shape:
   resolved (``calibre_mm > 0``, wider than the blur) or fine-linear.
2. ``vascular``: ``vascular_score >= vascular.min_vascular_score``.
3. ``secretory``: a rod (length, width, elongation in range) pointing to the nipple.
4. ``macro``: rim, curved shell fragment, coarse/popcorn, large round or dystrophic: greatest
   dimension >= ``macro.min_length_mm`` and coarse (``calibre_mm`` or area large), or a rim.
5. ``punctate``: small and round.
6. ``other``.

Cluster score, in [0, 1] (BI-RADS 5th ed.: "at least 5 within 1 cm", fine pleomorphic or fine
linear, linear/segmental distribution raise suspicion). A *fine* member has no benign label
(rules 2-4) and a calibre (``calibre_mm``, the width without the system blur) below
``max_fine_width_mm``::

    score = fine_fraction * (count_weight * min(1, n_fine / min_fine_calcs)
                             + morphology_weight * morphology
                             + distribution_weight * [distribution is linear or segmental])
    morphology = min(1, max(pleomorphism / full_pleomorphism,
                            fine-linear fraction / full_linear_fraction,
                            branching / full_linear_fraction))

A cluster that is not suspicious takes the most common label of its members.

Study context: rod-like calcifications in the other breast of the same study (``StudyContext``)
relax the secretory orientation and width limits (BI-RADS: secretory calcifications are
"usually bilateral"); the reason says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mammo_cv.classify.rules import Rules, SuspiciousClusterRule
from mammo_cv.core.labels import LABELS

__all__ = ["LABELS", "StudyContext", "Classification", "classify", "label_tables", "count_rod_like",
           "contexts_from_rod_counts"]

_CALC_NEEDED = ("length_mm", "width_mm", "calibre_mm", "area_mm2", "elongation", "lucent_center", "irregularity",
                "orientation_to_nipple_deg", "cluster_id", "vascular_score")
_CLUSTER_NEEDED = ("cluster_id", "pleomorphism", "distribution", "extent_mm")
# Column of the fraction of members that branch: ``branching``, or ``branching_pattern`` (accepted
# too); the first present is read.
_BRANCHING_COLUMNS = ("branching", "branching_pattern")
_RAISING_DISTRIBUTIONS = ("linear", "segmental")


@dataclass(frozen=True)
class StudyContext:
    """What the other breast of the same study shows.

    Attributes
    ----------
    study_key : str
        StudyInstanceUID, or patient and date, shared by the images of one study.
    contralateral_rod_count : int
        Rod-like calcifications (:func:`count_rod_like`) in the other breast's images.
    """

    study_key: str
    contralateral_rod_count: int

    def __post_init__(self) -> None:
        if self.contralateral_rod_count < 0:
            raise ValueError(f"contralateral_rod_count must be >= 0, got {self.contralateral_rod_count}")


@dataclass(frozen=True)
class Classification:
    """Labels of one image.

    Attributes
    ----------
    calc_label, calc_reason : (n,) ndarray of object (str)
        Per calcification row: one of ``LABELS`` and a sentence with the measured values.
    cluster_label, cluster_reason : (k,) ndarray of object (str)
        Per cluster row.
    cluster_score : (k,) ndarray of float64
        Suspicion in [0, 1]; ranks clusters for a FROC.
    """

    calc_label: np.ndarray
    calc_reason: np.ndarray
    cluster_label: np.ndarray
    cluster_score: np.ndarray
    cluster_reason: np.ndarray


def _column(table: dict[str, np.ndarray], name: str, what: str) -> np.ndarray:
    if name not in table:
        raise ValueError(f"{what} table lacks column {name!r} (needed by the classifier)")
    return np.asarray(table[name])


def _rod_shape(calcs: dict[str, np.ndarray], rules: Rules, min_width_mm: float) -> np.ndarray:
    sec = rules.secretory
    length = np.asarray(calcs["length_mm"], np.float64)
    return ((length >= sec.min_length_mm) & (length <= sec.max_length_mm)
            & (np.asarray(calcs["width_mm"], np.float64) >= min_width_mm)
            & (np.asarray(calcs["elongation"], np.float64) >= sec.min_elongation)
            & (np.asarray(calcs["irregularity"], np.float64) <= sec.max_irregularity))


def count_rod_like(calc_table: dict[str, np.ndarray], rules: Rules) -> int:
    """Number of rod-like calcifications: secretory length, width, elongation and irregularity
    (strict limits, any orientation), not vascular.

    Parameters
    ----------
    calc_table : dict of str to (n,) ndarray
        Needs ``length_mm``, ``width_mm``, ``elongation``, ``irregularity`` and ``vascular_score``.
    rules : Rules

    Returns
    -------
    int
    """
    for name in ("length_mm", "width_mm", "elongation", "irregularity", "vascular_score"):
        _column(calc_table, name, "calcification")
    vascular = np.asarray(calc_table["vascular_score"], np.float64) >= rules.vascular.min_vascular_score
    return int(np.count_nonzero(_rod_shape(calc_table, rules, rules.secretory.min_width_mm) & ~vascular))


def _benign_labels(c: dict[str, np.ndarray], rules: Rules, bilateral: bool) -> tuple[np.ndarray, np.ndarray]:
    """Rules 2-6 for every row: (label, macro kind) arrays of object."""
    sec, mac, pun = rules.secretory, rules.macro, rules.punctate
    vascular = c["vascular_score"] >= rules.vascular.min_vascular_score
    max_angle = sec.bilateral_max_nipple_angle_deg if bilateral else sec.max_nipple_angle_deg
    min_width = sec.bilateral_min_width_mm if bilateral else sec.min_width_mm
    with np.errstate(invalid="ignore"):
        toward = c["orientation_to_nipple_deg"] <= max_angle       # NaN (no axis) -> False
    secretory = _rod_shape(c, rules, min_width) & toward
    big = c["length_mm"] >= mac.min_length_mm
    rim = big & (c["lucent_center"] >= mac.rim_min_lucent_center)
    arc = (c["length_mm"] >= mac.arc_min_length_mm) & (c["irregularity"] >= mac.arc_min_irregularity)
    coarse = big & ((c["calibre_mm"] >= mac.min_width_mm) | (c["area_mm2"] >= mac.min_area_mm2))
    macro = rim | arc | coarse
    punctate = (c["length_mm"] < pun.max_length_mm) & (c["elongation"] < pun.max_elongation)
    label = np.select([vascular, secretory, macro, punctate], ["vascular", "secretory", "macro", "punctate"],
                      "other").astype(object)
    kind = np.select([rim, arc, c["elongation"] < mac.round_max_elongation, c["length_mm"] >= mac.coarse_min_length_mm,
                      c["irregularity"] >= mac.dystrophic_min_irregularity],
                     ["rim (eggshell)", "curved shell fragment (rim)", "large round", "coarse or popcorn-like",
                      "dystrophic"], "coarse").astype(object)
    return label, kind


def _calc_reason(label: str, kind: str, row: dict[str, float], rules: Rules, bilateral_rods: int) -> str:
    size = f"{row['length_mm']:.1f} mm x {row['width_mm']:.2f} mm"
    if label == "vascular":
        return (f"fragment {size}, vascular_score {row['vascular_score']:.2f} >= "
                f"{rules.vascular.min_vascular_score:g} -> vascular (chain or tram track along a vessel)")
    if label == "secretory":
        text = (f"rod {size}, elongation {row['elongation']:.1f}, {row['orientation_to_nipple_deg']:.0f} deg "
                f"to nipple -> secretory (large rod-like)")
        if bilateral_rods:
            text += f"; {bilateral_rods} rod-like in the other breast support secretory (bilateral)"
        return text
    if label == "macro":
        return (f"{size}, calibre {row['calibre_mm']:.2f} mm, area {row['area_mm2']:.2f} mm2, "
                f"lucent centre {row['lucent_center']:.2f}, "
                f"irregularity {row['irregularity']:.2f} -> macro ({kind})")
    if label == "punctate":
        return f"{size}, elongation {row['elongation']:.1f}, not in a suspicious cluster -> punctate (small round)"
    return f"{size}, elongation {row['elongation']:.1f}, matches no rule -> other"


def classify(calc_table: dict[str, np.ndarray], cluster_table: dict[str, np.ndarray], *, rules: Rules,
             study: StudyContext | None = None) -> Classification:
    """Label every calcification and cluster of one image.

    Parameters
    ----------
    calc_table : dict of str to (n,) ndarray
        Needs ``length_mm``, ``width_mm``, ``calibre_mm``, ``area_mm2``, ``elongation``, ``lucent_center``,
        ``irregularity``, ``orientation_to_nipple_deg``, ``cluster_id`` (row index into the
        cluster table's ``cluster_id``, -1 = none) and ``vascular_score``.
    cluster_table : dict of str to (k,) ndarray
        Needs ``cluster_id``, ``pleomorphism``, ``branching`` (fraction of branching members;
        ``branching_pattern`` is accepted), ``distribution`` and ``extent_mm``.
    rules : Rules
    study : StudyContext, optional
        Rod-like calcifications in the other breast of the study (bilateral secretory support).

    Returns
    -------
    Classification

    Examples
    --------
    >>> import numpy as np
    >>> from mammo_cv.classify.rules import load_rules
    >>> rod = {"length_mm": np.array([6.2]), "width_mm": np.array([0.8]), "calibre_mm": np.array([0.76]),
    ...        "area_mm2": np.array([4.5]),
    ...        "elongation": np.array([7.8]), "lucent_center": np.array([0.0]),
    ...        "irregularity": np.array([0.1]), "orientation_to_nipple_deg": np.array([12.0]),
    ...        "cluster_id": np.array([-1]), "vascular_score": np.array([0.0])}
    >>> empty = {name: np.zeros(0) for name in ("pleomorphism", "branching", "extent_mm")}
    >>> empty.update(cluster_id=np.zeros(0, int), distribution=np.zeros(0, object))
    >>> out = classify(rod, empty, rules=load_rules())
    >>> out.calc_label[0], out.calc_reason[0]
    ('secretory', 'rod 6.2 mm x 0.80 mm, elongation 7.8, 12 deg to nipple -> secretory (large rod-like)')
    """
    c, k_ids = _checked_tables(calc_table, cluster_table)
    bilateral_rods = _bilateral_rods(study, rules)
    label, kind = _benign_labels(c, rules, bilateral_rods > 0)
    reason = _calc_reasons(label, kind, c, rules, bilateral_rods)
    member_row = _member_rows(c["cluster_id"], k_ids)
    clusters = _cluster_facts(c, label, member_row, cluster_table, rules)
    cluster_label = _cluster_labels(label, member_row, clusters)
    cluster_reason = _cluster_reasons(clusters, cluster_label, rules)
    _relabel_members(label, reason, c, member_row, k_ids, clusters)
    return Classification(calc_label=label, calc_reason=reason, cluster_label=cluster_label,
                          cluster_score=clusters.score.astype(np.float64), cluster_reason=cluster_reason)


def _checked_tables(calc_table: dict[str, np.ndarray],
                    cluster_table: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The calcification columns the rules read, as float64, and the cluster ids, (k,) int64."""
    c = {name: _column(calc_table, name, "calcification").astype(np.float64) for name in _CALC_NEEDED}
    k_ids = _column(cluster_table, "cluster_id", "cluster").astype(np.int64)
    for name in _CLUSTER_NEEDED:
        _column(cluster_table, name, "cluster")
    return c, k_ids


def _bilateral_rods(study: StudyContext | None, rules: Rules) -> int:
    """Rod-like calcifications in the other breast, when enough to support secretory; else 0."""
    if study is not None and study.contralateral_rod_count >= rules.secretory.min_contralateral_rods:
        return int(study.contralateral_rod_count)
    return 0


def _calc_reasons(label: np.ndarray, kind: np.ndarray, c: dict[str, np.ndarray], rules: Rules,
                  bilateral_rods: int) -> np.ndarray:
    """The reason of every row's rule 2-6 label, (n,) ndarray of object (str)."""
    n = label.shape[0]
    return np.array([_calc_reason(label[i], kind[i], {name: c[name][i] for name in c}, rules, bilateral_rods)
                     for i in range(n)], dtype=object).reshape(n)


def _member_rows(cluster_id: np.ndarray, k_ids: np.ndarray) -> np.ndarray:
    """Row of each calcification's cluster in the cluster table, -1 for none: (n,) ndarray of int64."""
    n = cluster_id.shape[0]
    row_of = {int(cid): j for j, cid in enumerate(k_ids)}
    member_row = np.array([row_of.get(int(cid), -1) for cid in cluster_id], np.int64).reshape(n)
    if np.any((cluster_id >= 0) & (member_row < 0)):
        raise ValueError("calcification table has cluster_id values missing from the cluster table")
    return member_row


@dataclass(frozen=True)
class _Clusters:
    """What the cluster rules measured, one (k,) array per field (counts as float64 or int64)."""

    n_members: np.ndarray
    n_fine: np.ndarray
    n_linear: np.ndarray
    pleomorphism: np.ndarray
    distribution: np.ndarray
    fill: np.ndarray
    macro_length_mm: np.ndarray
    extent_mm: np.ndarray
    score: np.ndarray
    fragmented: np.ndarray
    suspicious: np.ndarray


def _cluster_facts(c: dict[str, np.ndarray], label: np.ndarray, member_row: np.ndarray,
                   cluster_table: dict[str, np.ndarray], rules: Rules) -> _Clusters:
    """Rule 1 and the fragmented-macro check on every cluster: counts, score, verdicts."""
    sus, mac = rules.suspicious_cluster, rules.macro
    k = len(cluster_table["cluster_id"])
    inside = member_row >= 0
    rows = member_row[inside]
    benign = np.isin(label, ("vascular", "secretory", "macro"))[inside]
    fine = ~benign & (c["calibre_mm"][inside] < sus.max_fine_width_mm)
    fine_linear = fine & (c["elongation"][inside] >= sus.fine_linear_min_elongation)
    n_members = np.bincount(rows, minlength=k).astype(np.float64)
    n_fine = np.bincount(rows, fine, minlength=k)
    n_linear = np.bincount(rows, fine_linear, minlength=k)
    pleo = np.nan_to_num(np.asarray(cluster_table["pleomorphism"], np.float64))
    distribution = np.asarray(cluster_table["distribution"], object).reshape(k)
    score = _suspicion_score(n_members, n_fine, n_linear, pleo, _branching(cluster_table), distribution, sus)

    # one macro calcification split into pieces: the pieces fill the cluster, or one macro piece spans it
    extent = np.asarray(cluster_table["extent_mm"], np.float64)
    disk_mm2 = 0.25 * np.pi * extent ** 2
    fill = np.divide(np.bincount(rows, c["area_mm2"][inside], minlength=k), disk_mm2,
                     out=np.zeros(k), where=disk_mm2 > 0)
    macro_length = np.zeros(k)
    is_macro = label[inside] == "macro"
    np.maximum.at(macro_length, rows[is_macro], c["length_mm"][inside][is_macro])
    fragmented = (fill >= mac.fragment_min_fill) | (
        (macro_length > 0) & (macro_length >= mac.fragment_min_length_fraction * extent))
    score = np.where(fragmented, 0.0, score)
    # the shape of a member narrower than the blur is not measured: then only the BI-RADS count is evidence
    n_shaped = np.bincount(rows, fine & ((c["calibre_mm"][inside] > 0) | fine_linear), minlength=k)
    floor = np.where(n_shaped >= sus.min_shaped_members, sus.shaped_min_fine_calcs_label, sus.min_fine_calcs_label)
    suspicious = (score >= sus.min_score) & (n_fine >= floor)
    return _Clusters(n_members=n_members, n_fine=n_fine, n_linear=n_linear, pleomorphism=pleo,
                     distribution=distribution, fill=fill, macro_length_mm=macro_length, extent_mm=extent,
                     score=score, fragmented=fragmented, suspicious=suspicious)


def _branching(cluster_table: dict[str, np.ndarray]) -> np.ndarray:
    """Fraction of branching members per cluster, (k,) float64 (NaN -> 0)."""
    branching_name = next((name for name in _BRANCHING_COLUMNS if name in cluster_table), None)
    if branching_name is None:
        raise ValueError(f"cluster table lacks a branching column {_BRANCHING_COLUMNS}")
    return np.nan_to_num(np.asarray(cluster_table[branching_name], np.float64))


def _suspicion_score(n_members: np.ndarray, n_fine: np.ndarray, n_linear: np.ndarray, pleo: np.ndarray,
                     branching: np.ndarray, distribution: np.ndarray, sus: SuspiciousClusterRule) -> np.ndarray:
    """The cluster score of the module docstring, (k,) float64 in [0, 1]."""
    k = n_members.shape[0]
    fine_fraction = np.divide(n_fine, n_members, out=np.zeros(k), where=n_members > 0)
    linear_fraction = np.divide(n_linear, n_fine, out=np.zeros(k), where=n_fine > 0)
    morphology = np.minimum(1.0, np.maximum.reduce([pleo / sus.full_pleomorphism,
                                                    linear_fraction / sus.full_linear_fraction,
                                                    branching / sus.full_linear_fraction]))
    raising = np.isin(distribution.astype(str), _RAISING_DISTRIBUTIONS)
    count_term = np.minimum(1.0, n_fine / sus.min_fine_calcs)
    score = fine_fraction * (sus.count_weight * count_term + sus.morphology_weight * morphology
                             + sus.distribution_weight * raising)
    return np.clip(score, 0.0, 1.0)


def _cluster_labels(label: np.ndarray, member_row: np.ndarray, clusters: _Clusters) -> np.ndarray:
    """Suspicious, else fragmented macro, else the most common member label (ties: LABELS order): (k,) object."""
    k = clusters.score.shape[0]
    inside = member_row >= 0
    votes = np.zeros((k, len(LABELS)), np.int64)
    np.add.at(votes, (member_row[inside], np.array([LABELS.index(name) for name in label[inside]], np.int64)), 1)
    cluster_label = np.select([clusters.suspicious, clusters.fragmented], ["suspicious_cluster", "macro"],
                              np.array(LABELS, object)[np.argmax(votes, axis=1)])
    return np.asarray(cluster_label, dtype=object).reshape(k)


def _cluster_reasons(clusters: _Clusters, cluster_label: np.ndarray, rules: Rules) -> np.ndarray:
    """The reason of every cluster's label, (k,) ndarray of object (str)."""
    return np.array([_cluster_reason(clusters, j, cluster_label[j], rules) for j in range(len(cluster_label))],
                    dtype=object).reshape(len(cluster_label))


def _cluster_reason(cl: _Clusters, j: int, label: str, rules: Rules) -> str:
    """Reason of cluster row ``j``, with its measured values."""
    sus = rules.suspicious_cluster
    if cl.fragmented[j]:
        return (f"{int(cl.n_members[j])} pieces cover {cl.fill[j]:.0%} of the disk spanning the cluster, largest macro "
                f"piece {cl.macro_length_mm[j]:.1f} mm of {cl.extent_mm[j]:.1f} mm extent -> macro (one fragmented "
                "coarse calcification)")
    verdict = (f">= {sus.min_score:g} -> suspicious_cluster" if cl.suspicious[j] else
               f"(suspicious needs >= {sus.min_score:g} and >= {sus.min_fine_calcs_label} fine, or "
               f">= {sus.shaped_min_fine_calcs_label} with >= {sus.min_shaped_members} resolved or fine-linear) "
               f"-> mostly {label}")
    return (f"{int(cl.n_members[j])} calcs, {int(cl.n_fine[j])} fine (< {sus.max_fine_width_mm:g} mm), "
            f"{int(cl.n_linear[j])} fine-linear, pleomorphism {cl.pleomorphism[j]:.2f}, {cl.distribution[j]} "
            f"distribution -> score {cl.score[j]:.2f} " + verdict)


def _relabel_members(label: np.ndarray, reason: np.ndarray, c: dict[str, np.ndarray], member_row: np.ndarray,
                     k_ids: np.ndarray, clusters: _Clusters) -> None:
    """Give the members of fragmented clusters "macro" and of suspicious clusters "suspicious_cluster",
    with their reasons (in place)."""
    inside = member_row >= 0
    rows = member_row[inside]
    in_fragmented = inside.copy()
    in_fragmented[inside] = clusters.fragmented[rows]
    for i in np.flatnonzero(in_fragmented & (label != "macro")):
        reason[i] = (f"{c['length_mm'][i]:.2f} mm x {c['width_mm'][i]:.2f} mm, piece of cluster "
                     f"{int(k_ids[member_row[i]])} -> macro (fragment of one coarse calcification)")
    label[in_fragmented] = "macro"
    in_suspicious = inside.copy()
    in_suspicious[inside] = clusters.suspicious[rows]
    for i in np.flatnonzero(in_suspicious):
        j = member_row[i]
        reason[i] = (f"{c['length_mm'][i]:.2f} mm x {c['width_mm'][i]:.2f} mm, member of cluster "
                     f"{int(k_ids[j])} (score {clusters.score[j]:.2f}) -> suspicious_cluster")
    label[in_suspicious] = "suspicious_cluster"


def label_tables(calc_table: dict[str, np.ndarray], cluster_table: dict[str, np.ndarray], *, rules: Rules,
                 study: StudyContext | None = None) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The tables of one image with their labels (:func:`classify`) added or replaced.

    Returns
    -------
    calc_table : dict of str to (n,) ndarray
        ``calc_table`` plus ``label`` and ``reason`` (object arrays of str).
    cluster_table : dict of str to (k,) ndarray
        ``cluster_table`` plus ``label``, ``reason`` (object, str) and ``score`` (float64, 0..1).
    """
    labels = classify(calc_table, cluster_table, rules=rules, study=study)
    return ({**calc_table, "label": labels.calc_label, "reason": labels.calc_reason},
            {**cluster_table, "label": labels.cluster_label, "score": labels.cluster_score,
             "reason": labels.cluster_reason})


def contexts_from_rod_counts(lateralities: Sequence[str | None], rod_counts: Sequence[int],
                             study_keys: Sequence[str | None]) -> list[StudyContext | None]:
    """Pair the left and right images of each study from per-image facts (no Result needed).

    Parameters
    ----------
    lateralities : sequence of str or None
        ``"L"``, ``"R"``, anything else = unknown; one per image.
    rod_counts : sequence of int
        :func:`count_rod_like` of each image's calcification table.
    study_keys : sequence of str or None
        StudyInstanceUID, or patient and date; None or "" = unknown.

    Returns
    -------
    list of StudyContext or None
        Per image: the rod-like count summed over the other breast's images of the same study,
        or None when the laterality or key is unknown or the other breast is not in the run.
    """
    if not len(lateralities) == len(rod_counts) == len(study_keys):
        raise ValueError(f"got {len(lateralities)} lateralities, {len(rod_counts)} rod counts and "
                         f"{len(study_keys)} study keys")
    out: list[StudyContext | None] = []
    for side, key in zip(lateralities, study_keys):
        other = {"L": "R", "R": "L"}.get(side)
        partners = [j for j, k in enumerate(study_keys) if key and k == key and lateralities[j] == other]
        if other is None or not key or not partners:
            out.append(None)
            continue
        out.append(StudyContext(study_key=str(key), contralateral_rod_count=sum(int(rod_counts[j]) for j in partners)))
    return out


