"""``breasts.csv``: one row per study and laterality, summed from the image, calcification and cluster tables.

A breast is the set of analysed images (``status == "ok"``) with the same ``study_key`` and
``laterality`` (``U`` images of a study form one "unknown" breast). Rows are in the order of
each breast's first image in ``images.csv`` (sorted path order), so the table is as
deterministic as its inputs. Failed images have no laterality and are in no breast.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from mammo_cv.classify.classifier import contexts_from_rod_counts, count_rod_like
from mammo_cv.classify.rules import Rules
from mammo_cv.tables.schemas import BREAST_COLUMNS, LABEL_COUNT_COLUMNS

__all__ = ["breast_table"]

_SUMMED = ("n_calcifications", "n_clusters", *LABEL_COUNT_COLUMNS)


def _rod_counts(image_ids: np.ndarray, calcifications: Mapping[str, np.ndarray], rules: Rules) -> list[int]:
    """Rod-like calcifications of each image, as the classifier's study context counts them."""
    owner = np.asarray(calcifications["image_id"], dtype=object)
    order = np.argsort(owner, kind="stable")  # one sort, then each image's rows are one slice
    ids, starts = np.unique(owner[order], return_index=True)
    bounds = dict(zip(ids.tolist(), zip(starts.tolist(), [*starts[1:].tolist(), owner.size])))
    columns = {name: np.asarray(values)[order] for name, values in calcifications.items()}
    counts = []
    for image_id in image_ids:
        start, stop = bounds.get(image_id, (0, 0))
        counts.append(count_rod_like({name: values[start:stop] for name, values in columns.items()}, rules))
    return counts


def _top_cluster(image_ids: list[str], clusters: Mapping[str, np.ndarray]) -> tuple[float, str, str]:
    """(score, label, image_id) of the breast's highest-scoring cluster; (NaN, "", "") without clusters."""
    rows = np.flatnonzero(np.isin(np.asarray(clusters["image_id"], dtype=object), image_ids))
    if rows.size == 0:
        return np.nan, "", ""
    best = rows[int(np.argmax(np.asarray(clusters["score"], np.float64)[rows]))]
    return float(clusters["score"][best]), str(clusters["label"][best]), str(clusters["image_id"][best])


def breast_table(images: Mapping[str, np.ndarray], calcifications: Mapping[str, np.ndarray],
                 clusters: Mapping[str, np.ndarray], *, rules: Rules) -> dict[str, np.ndarray]:
    """One row per study and laterality: its images, counts per label, top cluster, bilateral rods.

    Parameters
    ----------
    images, calcifications, clusters : dict of str to (n,) ndarray
        The batch's tables (``IMAGE_COLUMNS``, ``CALCIFICATION_CSV_COLUMNS``,
        ``CLUSTER_CSV_COLUMNS``), images in path order.
    rules : Rules
        The run's rules: rod-like limits and ``secretory.min_contralateral_rods``.

    Returns
    -------
    dict of str to (b,) ndarray
        ``BREAST_COLUMNS``; the count columns sum to those of the ``ok`` rows of ``images``.
    """
    ok = np.asarray(images["status"], dtype=object) == "ok"
    analysed = {name: np.asarray(images[name])[ok] for name in ("image_id", "study_key", "laterality", "view",
                                                                 *_SUMMED)}
    keys = [str(k) for k in analysed["study_key"]]
    sides = [str(side) for side in analysed["laterality"]]
    rods = _rod_counts(analysed["image_id"], calcifications, rules)
    contexts = contexts_from_rod_counts(sides, rods, keys)
    breasts: dict[tuple[str, str], list[int]] = {}
    for position, breast in enumerate(zip(keys, sides)):
        breasts.setdefault(breast, []).append(position)
    rows = []
    for (key, side), members in breasts.items():
        context = contexts[members[0]]  # every image of a breast has the same other breast
        rows.append({"study_key": key, "laterality": side,
                     **_member_facts({name: values[members] for name, values in analysed.items()}, clusters),
                     "n_rod_like": int(sum(rods[m] for m in members)),
                     **_bilateral(None if context is None else context.contralateral_rod_count, rules)})
    return {name: np.asarray([row[name] for row in rows], dtype=dtype) if rows else np.zeros(0, dtype)
            for name, dtype in BREAST_COLUMNS.items()}


def _member_facts(members: Mapping[str, np.ndarray], clusters: Mapping[str, np.ndarray]) -> dict[str, object]:
    """Images, views, summed counts and top cluster of one breast's ``images.csv`` rows."""
    ids = [str(i) for i in members["image_id"]]
    score, label, image_id = _top_cluster(ids, clusters)
    return {"n_images": len(ids), "image_ids": ";".join(ids), "views": ";".join(str(v) for v in members["view"]),
            **{name: int(np.sum(members[name], dtype=np.int64)) for name in _SUMMED},
            "max_cluster_score": score, "max_cluster_label": label, "max_cluster_image_id": image_id}


def _bilateral(contralateral_rods: int | None, rules: Rules) -> dict[str, object]:
    """The other breast's rod-like count (-1 when unknown) and whether it supports secretory."""
    count = -1 if contralateral_rods is None else int(contralateral_rods)
    return {"contralateral_rod_count": count, "bilateral_rod_support": count >= rules.secretory.min_contralateral_rods}
