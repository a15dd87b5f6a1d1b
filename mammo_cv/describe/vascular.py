"""Vascular context: chains of collinear fragments and parallel tram-track pairs.

Calcified vessel walls show as discontinuous elongated fragments lying along one smooth curve,
often as two parallel tracks (the two walls, 1-3 mm apart). One fragment alone looks like any
rod, so this module looks at the arrangement of the fragments of the calcification table
(:mod:`mammo_cv.describe.calcifications`; positions and lengths in mm, ``axis_angle_deg`` from +col toward
+row in [0, 180)).

Method (all candidate pairs from ``cKDTree.query_pairs``, tests vectorised over pairs):

1. *Fragments*: ``elongation >= min_elongation`` with a finite ``axis_angle_deg``.
2. *Links*: two fragments link when their axes differ by at most ``max_bend_deg``, the line
   joining their centroids is within ``max_bend_deg`` of both axes, their centroids lie within
   ``max_lateral_mm`` of one line along the mean axis (for two tangents to one arc that line is
   parallel to the chord, so curves pass; a parallel track ``>= track_gap_mm[0]`` away does
   not), and the gap between their ends, centroid distance minus the half lengths, is at most
   ``max_gap_mm``. Each fragment keeps only its nearest link on each side (ahead of / behind
   it along its axis), and a link is kept only if both ends choose it, so chains are paths.
3. *Chains*: connected fragments, kept when they number ``>= min_fragments`` or span
   ``>= min_chain_length_mm``. ``length_mm`` = sum of centroid-to-centroid link distances plus
   half the length of each end fragment.
4. *Tram tracks*: two fragments not in the same chain, parallel within ``max_parallel_deg``,
   ``track_gap_mm[0]``-``track_gap_mm[1]`` apart across their mean axis and overlapping along
   it (offset along the axis <= half the sum of their lengths). A chain is a tram track when at
   least ``min_tram_fragments`` of its fragments have such a partner.

``vascular_score`` per calcification, in [0, 1]:
``0.5 * min(1, chain length / full_score_length_mm) + 0.5 * tram``, where the chain term is 0
outside chains and ``tram`` is 1 when the fragment is in a tram-track chain or is the tram
partner of a fragment of one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from mammo_cv.core.relabel import appearance_order, relabel_kept

__all__ = ["CHAIN_COLUMNS", "VascularConfig", "empty_chain_table", "find_vascular"]

CHAIN_COLUMNS: dict[str, np.dtype] = {
    "chain_id": np.dtype(np.int64),
    "n_fragments": np.dtype(np.int64),
    "row_px": np.dtype(np.float64),
    "col_px": np.dtype(np.float64),
    "row_mm": np.dtype(np.float64),
    "col_mm": np.dtype(np.float64),
    "length_mm": np.dtype(np.float64),
    "mean_gap_mm": np.dtype(np.float64),
    "tram_track": np.dtype(bool),
    "track_gap_mm": np.dtype(np.float64),
}

_NEEDED = ("row_px", "col_px", "row_mm", "col_mm", "length_mm", "elongation", "axis_angle_deg")


@dataclass(frozen=True)
class VascularConfig:
    """Geometry of vessel-wall fragments (mm, degrees or counts).

    How each default was chosen is recorded in ``docs/validation.md``.

    Attributes
    ----------
    min_elongation : float
        A fragment is at least twice as long as wide: the BI-RADS 5th ed. sense of "linear" (the
        threshold the tapering feature also uses).
    max_gap_mm : float
        Largest gap between the ends of consecutive fragments of one vessel, mm. Wall calcification is
        interrupted over a few mm (BI-RADS "parallel tracks or linear tubular calcifications"), and the
        faint ends of each fragment are lost on film, which widens the gaps seen: 5 mm, chosen on the
        insertion dev part (mini-MIAS normals: vascular F1 0.65 at 3 mm, 0.70 at 4, 0.73 at 5 and 6),
        half the 10-mm group scale.
    max_bend_deg : float
        Largest angle between two linked fragments' axes, and between each axis and the line joining
        them, deg. Breast arteries are tortuous: 35 deg keeps the turns of the phantom vessel walls (up to
        ~31 deg between consecutive fragments) while few randomly oriented rods chain.
    max_lateral_mm : float
        Largest distance of two linked centroids from one line along their mean axis, mm: below the
        smallest tram-track gap (1 mm), so that a link never jumps to the other wall, with room for
        fragments that are chords of a curved wall (up to 0.46 mm on the phantoms) and for the longer
        chords the wider gaps make: 0.8 mm (insertion dev part, mini-MIAS: vascular F1 0.73 -> 0.74).
    min_fragments : int
        A chain has at least this many fragments (two collinear rods are common by chance) ...
    min_chain_length_mm : float
        ... or spans at least this length, mm: 10 mm, the longest secretory rod (BI-RADS 3-10 mm), so
        that one rod broken in two is not a chain.
    track_gap_mm : (float, float)
        Distance between the two walls of a calcified vessel, mm: 1-3 mm, the calibre of breast arteries.
    max_parallel_deg : float
        Two tracks are parallel when their axes differ by at most this, deg (package choice).
    min_tram_fragments : int
        A chain is a tram track when this many of its fragments have a parallel partner: two, so that one
        chance neighbour is not enough.
    full_score_length_mm : float
        The chain term of ``vascular_score`` reaches 1 at this length, mm: the 2-cm BI-RADS group scale,
        beyond which a single duct segment is rarely this straight (package choice).
    """

    min_elongation: float = 2.0
    max_gap_mm: float = 5.0
    max_bend_deg: float = 35.0
    max_lateral_mm: float = 0.8
    min_fragments: int = 3
    min_chain_length_mm: float = 10.0
    track_gap_mm: tuple[float, float] = (1.0, 3.0)
    max_parallel_deg: float = 15.0
    min_tram_fragments: int = 2
    full_score_length_mm: float = 20.0

    def __post_init__(self) -> None:
        low, high = (float(v) for v in self.track_gap_mm)
        object.__setattr__(self, "track_gap_mm", (low, high))
        if not 0.0 < low < high:
            raise ValueError(f"track_gap_mm must be (low, high) with 0 < low < high, got {self.track_gap_mm}")
        if self.max_lateral_mm >= low:
            raise ValueError("max_lateral_mm must be below track_gap_mm[0] so links stay on one wall")
        for name in ("max_bend_deg", "max_parallel_deg"):
            if not 0.0 < getattr(self, name) < 90.0:
                raise ValueError(f"{name} must be in (0, 90), got {getattr(self, name)}")
        if self.min_elongation < 1.0 or self.min_fragments < 2 or self.min_tram_fragments < 1:
            raise ValueError("need min_elongation >= 1, min_fragments >= 2, min_tram_fragments >= 1")
        if self.max_gap_mm < 0.0 or self.min_chain_length_mm <= 0.0 or self.full_score_length_mm <= 0.0:
            raise ValueError("need max_gap_mm >= 0 and positive chain lengths")


def empty_chain_table() -> dict[str, np.ndarray]:
    """A table with no rows: every column of ``CHAIN_COLUMNS`` as a zero-length array."""
    return {name: np.zeros(0, dtype) for name, dtype in CHAIN_COLUMNS.items()}


def _pair_geometry(rc: np.ndarray, u: np.ndarray, pairs: np.ndarray):
    """For pairs (i, j): centroid offset d (m, 2), its length, the axes' |cos|, the mean axis
    m (sign of u_j aligned with u_i), and d's components along and across m."""
    i, j = pairs[:, 0], pairs[:, 1]
    d = rc[j] - rc[i]
    distance = np.hypot(d[:, 0], d[:, 1])
    dot_axes = np.einsum("ij,ij->i", u[i], u[j])
    mean_axis = u[i] + np.sign(dot_axes + (dot_axes == 0))[:, None] * u[j]
    mean_axis /= np.hypot(mean_axis[:, 0], mean_axis[:, 1])[:, None]
    along = np.einsum("ij,ij->i", d, mean_axis)
    across = np.abs(d[:, 0] * mean_axis[:, 1] - d[:, 1] * mean_axis[:, 0])
    return d, distance, np.abs(dot_axes), along, across


def _links(rc, u, length, config):
    """Mutual-nearest collinear links between fragments: (m, 2) index pairs and distances."""
    radius = config.max_gap_mm + float(length.max())
    pairs = cKDTree(rc).query_pairs(r=radius, output_type="ndarray")
    d, distance, cos_axes, _, across = _pair_geometry(rc, u, pairs)
    i, j = pairs[:, 0], pairs[:, 1]
    cos_bend = np.cos(np.radians(config.max_bend_deg))
    safe = np.maximum(distance, 1e-12)
    cos_i = np.einsum("ij,ij->i", d, u[i]) / safe
    cos_j = np.einsum("ij,ij->i", d, u[j]) / safe
    ok = ((cos_axes >= cos_bend) & (np.abs(cos_i) >= cos_bend) & (np.abs(cos_j) >= cos_bend)
          & (across <= config.max_lateral_mm)
          & (distance - 0.5 * (length[i] + length[j]) <= config.max_gap_mm) & (distance > 0))
    pairs, distance, cos_i, cos_j = pairs[ok], distance[ok], cos_i[ok], cos_j[ok]
    # side key: 2 * fragment + (neighbour ahead along the fragment's own axis)
    key_i = 2 * pairs[:, 0] + (cos_i > 0)
    key_j = 2 * pairs[:, 1] + (cos_j < 0)     # from j, i lies at -d
    keys = np.concatenate([key_i, key_j])
    edge = np.tile(np.arange(pairs.shape[0]), 2)
    order = np.lexsort((np.concatenate([distance, distance]), keys))
    first = np.ones(keys.size, bool)
    first[1:] = keys[order][1:] != keys[order][:-1]
    best = np.full(2 * rc.shape[0], -1, np.int64)
    best[keys[order][first]] = edge[order][first]
    mutual = np.flatnonzero((best[key_i] == np.arange(pairs.shape[0])) & (best[key_j] == np.arange(pairs.shape[0])))
    return pairs[mutual], distance[mutual], distance[mutual] - 0.5 * (length[pairs[mutual, 0]]
                                                                      + length[pairs[mutual, 1]])


@dataclass(frozen=True)
class _Fragments:
    """The f fragments: ``index`` (f,) their rows in the table, ``rc`` (f, 2) centroids (mm),
    ``u`` (f, 2) unit axes as (row, col) and ``length`` (f,) lengths (mm)."""

    index: np.ndarray
    rc: np.ndarray
    u: np.ndarray
    length: np.ndarray


def _fragments(col: dict[str, np.ndarray], members: np.ndarray | None, config: VascularConfig) -> _Fragments | None:
    """Elongated calcifications with an axis (among ``members``); None when fewer than two."""
    angle = col["axis_angle_deg"]
    fragment = (col["elongation"] >= config.min_elongation) & np.isfinite(angle)
    if members is not None:
        fragment &= np.asarray(members, bool)
    frag = np.flatnonzero(fragment)
    if frag.size < 2:
        return None
    theta = np.radians(angle[frag])
    return _Fragments(index=frag, rc=np.column_stack([col["row_mm"][frag], col["col_mm"][frag]]),
                      u=np.column_stack([np.sin(theta), np.cos(theta)]), length=col["length_mm"][frag])


@dataclass(frozen=True)
class _Chains:
    """The m chains: ``chain`` (f,) int64 chain of each fragment, 0..m-1 in order of first
    appearance, -1 = none; ``length_mm`` (m,) chain lengths; ``links`` (L, 2) fragment pairs
    linked and ``gap_mm`` (L,) the gap between their ends."""

    chain: np.ndarray
    length_mm: np.ndarray
    links: np.ndarray
    gap_mm: np.ndarray


def _chains(fr: _Fragments, config: VascularConfig) -> _Chains | None:
    """Connected linked fragments, kept when numerous or long enough; None when none is kept."""
    f = fr.index.size
    links, link_mm, gap_mm = _links(fr.rc, fr.u, fr.length, config)
    graph = coo_matrix((np.ones(len(links)), (links[:, 0], links[:, 1])), shape=(f, f))
    _, component = connected_components(graph, directed=False)
    n_comp = int(component.max()) + 1
    size = np.bincount(component, minlength=n_comp)
    degree = np.bincount(links.ravel(), minlength=f)
    link_comp = component[links[:, 0]]
    chain_len = (np.bincount(link_comp, link_mm, n_comp)
                 + np.bincount(component, np.where(degree == 1, 0.5 * fr.length, 0.0), n_comp))
    keep = (size >= 2) & ((size >= config.min_fragments) | (chain_len >= config.min_chain_length_mm))
    if not keep.any():
        return None
    kept_in_order = appearance_order(component[keep[component]])
    return _Chains(chain=relabel_kept(component, kept_in_order, n_comp), length_mm=chain_len[kept_in_order],
                   links=links, gap_mm=gap_mm)


@dataclass(frozen=True)
class _TramTracks:
    """``tram_chain`` (m,) bool: the chain is a tram track; ``track_gap_mm`` (m,) mean distance
    to the tram partners of its fragments (NaN if none); ``tram`` (f,) bool: the fragment is in
    a tram-track chain or is the partner of one of its fragments."""

    tram_chain: np.ndarray
    track_gap_mm: np.ndarray
    tram: np.ndarray


def _tram_tracks(fr: _Fragments, chains: _Chains, config: VascularConfig) -> _TramTracks:
    """Parallel partners of the fragments across one vessel, and the chains they make tram tracks."""
    frag_chain, m, length = chains.chain, chains.length_mm.size, fr.length
    low, high = config.track_gap_mm
    pairs = cKDTree(fr.rc).query_pairs(r=float(np.hypot(high, length.max())), output_type="ndarray")
    _, _, cos_axes, along, across = _pair_geometry(fr.rc, fr.u, pairs)
    i, j = pairs[:, 0], pairs[:, 1]
    tram = ((cos_axes >= np.cos(np.radians(config.max_parallel_deg))) & (across >= low) & (across <= high)
            & (np.abs(along) <= 0.5 * (length[i] + length[j]))
            & ((frag_chain[i] != frag_chain[j]) | (frag_chain[i] < 0)))
    i, j, across = i[tram], j[tram], across[tram]
    ends = np.concatenate([i, j])
    partners = np.concatenate([j, i])
    has_partner = np.zeros(fr.index.size, bool)
    has_partner[ends] = True
    chained = frag_chain >= 0
    n_partnered = np.bincount(frag_chain[chained & has_partner], minlength=m)
    tram_chain = n_partnered >= config.min_tram_fragments
    ends_chain = frag_chain[ends]
    on_chain = ends_chain >= 0
    pair_count = np.bincount(ends_chain[on_chain], minlength=m)
    track_gap = np.full(m, np.nan)
    measured = pair_count > 0
    track_gap[measured] = (np.bincount(ends_chain[on_chain], np.concatenate([across, across])[on_chain], m)
                           [measured] / pair_count[measured])
    frag_tram = chained & tram_chain[np.maximum(frag_chain, 0)]
    partner_of_tram = np.zeros(fr.index.size, bool)
    partner_of_tram[ends[frag_tram[partners]]] = True
    return _TramTracks(tram_chain=tram_chain, track_gap_mm=track_gap, tram=frag_tram | partner_of_tram)


def _chain_table(col: dict[str, np.ndarray], fr: _Fragments, chains: _Chains,
                 trams: _TramTracks) -> dict[str, np.ndarray]:
    """One row per chain, ``CHAIN_COLUMNS`` (positions are member means)."""
    m = chains.length_mm.size
    chained = chains.chain >= 0
    members = chains.chain[chained]
    count = np.bincount(members, minlength=m).astype(np.float64)
    link_chain = chains.chain[chains.links[:, 0]]
    link_on = link_chain >= 0
    n_links = np.bincount(link_chain[link_on], minlength=m)
    mean_gap = np.bincount(link_chain[link_on], np.maximum(chains.gap_mm[link_on], 0.0), m) / np.maximum(n_links, 1)

    def member_mean(name: str) -> np.ndarray:
        return np.bincount(members, col[name][fr.index][chained], m) / count

    table = {
        "chain_id": np.arange(m),
        "n_fragments": count,
        "row_px": member_mean("row_px"),
        "col_px": member_mean("col_px"),
        "row_mm": member_mean("row_mm"),
        "col_mm": member_mean("col_mm"),
        "length_mm": chains.length_mm,
        "mean_gap_mm": mean_gap,
        "tram_track": trams.tram_chain,
        "track_gap_mm": trams.track_gap_mm,
    }
    return {name: np.asarray(table[name]).astype(dtype) for name, dtype in CHAIN_COLUMNS.items()}


def find_vascular(calcs: dict[str, np.ndarray], *, members: np.ndarray | None = None,
                  config: VascularConfig | None = None) -> dict:
    """Chains of collinear fragments and tram-track pairs (method in the module docstring).

    Parameters
    ----------
    calcs : dict of str to (n,) ndarray
        Calcification table (``features.CALC_COLUMNS``); needs ``row_px``, ``col_px``,
        ``row_mm``, ``col_mm``, ``length_mm``, ``elongation`` and ``axis_angle_deg``.
    members : (n,) array_like of bool, optional
        The calcifications that may be fragments (default: all); the others get chain -1 and
        score 0. The pipeline passes the confident detections, as for clusters.
    config : VascularConfig, optional

    Returns
    -------
    dict
        ``"vascular_chain_id"``: (n,) ndarray of int64, chain of each calcification, 0..m-1 in
        order of first appearance, -1 = none. ``"vascular_score"``: (n,) ndarray of float64 in
        [0, 1]. ``"chains"``: dict of str to (m,) ndarray with ``CHAIN_COLUMNS`` (positions are
        member means; ``track_gap_mm`` is the mean distance to tram partners, NaN if none).

    Examples
    --------
    >>> import numpy as np
    >>> cols = np.arange(4) * 4.0                      # 3-mm rods along +col, 1-mm gaps
    >>> calcs = {"row_px": np.zeros(4), "col_px": cols * 10, "row_mm": np.zeros(4),
    ...          "col_mm": cols, "length_mm": np.full(4, 3.0), "elongation": np.full(4, 6.0),
    ...          "axis_angle_deg": np.zeros(4)}
    >>> out = find_vascular(calcs)
    >>> out["vascular_chain_id"].tolist(), float(out["chains"]["length_mm"][0])
    ([0, 0, 0, 0], 15.0)
    """
    config = config or VascularConfig()
    missing = [name for name in _NEEDED if name not in calcs]
    if missing:
        raise ValueError(f"calcification table lacks columns {missing}")
    col = {name: np.asarray(calcs[name], np.float64) for name in _NEEDED}
    n = col["row_mm"].shape[0]
    chain_id = np.full(n, -1, np.int64)
    score = np.zeros(n)
    fragments = _fragments(col, members, config)
    chains = None if fragments is None else _chains(fragments, config)
    if chains is None:
        return {"vascular_chain_id": chain_id, "vascular_score": score, "chains": empty_chain_table()}
    trams = _tram_tracks(fragments, chains, config)
    chained = chains.chain >= 0
    chain_term = np.where(chained, np.minimum(chains.length_mm[np.maximum(chains.chain, 0)]
                                              / config.full_score_length_mm, 1.0), 0.0)
    score[fragments.index] = 0.5 * chain_term + 0.5 * trams.tram
    chain_id[fragments.index] = chains.chain
    return {"vascular_chain_id": chain_id, "vascular_score": score,
            "chains": _chain_table(col, fragments, chains, trams)}
