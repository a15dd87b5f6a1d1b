"""``Result``: what :func:`mammo_cv.analyze` returns for one mammogram."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mammo_cv.config import Config
from mammo_cv.detect import Detections
from mammo_cv.types import Anatomy, MammoImage

__all__ = ["Result"]


@dataclass(frozen=True)
class Result:
    """Everything mammo_cv found in one mammogram.

    Attributes
    ----------
    image : MammoImage
    anatomy : Anatomy
    detections : Detections
        Candidate label image (stored grid) and detector scores.
    calc_table : dict of str to (n,) ndarray
        One row per detection: ``features.CALC_COLUMNS`` plus ``confidence``,
        ``cluster_id`` (-1 = in no cluster), ``vascular_chain_id`` (-1 = none) and
        ``vascular_score``.
    cluster_table : dict of str to (k,) ndarray
        One row per reported cluster: ``clusters.CLUSTER_COLUMNS``.
    vascular_chains : dict of str to (c,) ndarray
        Chains of collinear fragments and tram tracks: ``vascular.CHAIN_COLUMNS``.
    config : Config
    """

    image: MammoImage
    anatomy: Anatomy
    detections: Detections
    calc_table: dict[str, np.ndarray]
    cluster_table: dict[str, np.ndarray]
    vascular_chains: dict[str, np.ndarray]
    config: Config
