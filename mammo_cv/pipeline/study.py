"""The study step: give each image the other breast of its study, then label its tables again.

It works on tables, never on pixels, so a batch can drop each image's pixels as soon as the
image is analysed and still label it with its study's context.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mammo_cv.classify.classifier import StudyContext, contexts_from_rod_counts, count_rod_like, label_tables
from mammo_cv.classify.rules import Rules

__all__ = ["StudyImage", "study_image", "pair_study", "study_contexts", "label_image_tables"]


@dataclass(frozen=True)
class StudyImage:
    """What the study step needs of one analysed image: no pixels.

    Attributes
    ----------
    laterality : str
        ``"L"``, ``"R"``, anything else = unknown.
    study_key : str
        StudyInstanceUID, or patient and date; "" = unknown.
    rod_count : int
        Rod-like calcifications of the image (:func:`mammo_cv.classify.classifier.count_rod_like`).
    """

    laterality: str
    study_key: str
    rod_count: int


def study_image(result, study_key: str | None) -> StudyImage:
    """The study facts of a :class:`~mammo_cv.pipeline.result.Result`, its rods counted with its own rules."""
    side = getattr(result.image.laterality, "value", str(result.image.laterality))
    return StudyImage(side, study_key or "", count_rod_like(result.calc_table, result.config.rules))


def pair_study(images: Sequence[StudyImage]) -> list[StudyContext | None]:
    """The study context of each image: the rod-like count over the other breast's images of
    the same study, or None when the laterality or key is unknown or the other breast is absent."""
    return contexts_from_rod_counts([i.laterality for i in images], [i.rod_count for i in images],
                                    [i.study_key for i in images])


def study_contexts(results: Sequence, study_keys: Sequence[str | None]) -> list[StudyContext | None]:
    """Pair the left and right images of each study.

    Parameters
    ----------
    results : sequence of Result
        Analysed images (``image.laterality``, ``calc_table``, ``config.rules`` are read).
    study_keys : sequence of str or None
        One key per result (StudyInstanceUID, or patient and date); None or "" = unknown.

    Returns
    -------
    list of StudyContext or None
        Per result, as :func:`pair_study`.
    """
    if len(results) != len(study_keys):
        raise ValueError(f"got {len(results)} results and {len(study_keys)} study keys")
    return pair_study([study_image(r, key) for r, key in zip(results, study_keys)])


def label_image_tables(calc_table: dict[str, np.ndarray], cluster_table: dict[str, np.ndarray], *, rules: Rules,
                       study: StudyContext | None = None) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """One image's tables with their labels added or replaced, given its study context.

    Returns
    -------
    calc_table : dict of str to (n,) ndarray
        Plus ``label`` and ``reason`` (object arrays of str).
    cluster_table : dict of str to (k,) ndarray
        Plus ``label``, ``reason`` (object, str) and ``score`` (float64, 0..1 suspicion).
    """
    return label_tables(calc_table, cluster_table, rules=rules, study=study)
