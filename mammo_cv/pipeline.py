"""``analyze``: the stages composed, with no computation of its own.

io -> anatomy -> detect -> features -> clusters
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mammo_cv.anatomy import find_anatomy
from mammo_cv.clusters import cluster_table
from mammo_cv.config import Config
from mammo_cv.detect import Detections, detect_calcifications
from mammo_cv.features import measure_calcifications
from mammo_cv.io import load_image
from mammo_cv.types import Anatomy, MammoImage

__all__ = ["Result", "analyze"]


@dataclass(frozen=True)
class Result:
    """Everything mammo_cv found in one mammogram.

    Attributes
    ----------
    image : MammoImage
    anatomy : Anatomy
    detections : Detections
        Candidate label image (stored grid) and detector scores.
    calcifications : dict of str to (n,) ndarray
        One row per detection: ``features.CALC_COLUMNS`` plus ``confidence`` and
        ``cluster_id`` (-1 = in no cluster).
    clusters : dict of str to (k,) ndarray
        One row per reported cluster: ``clusters.CLUSTER_COLUMNS``.
    config : Config
    """

    image: MammoImage
    anatomy: Anatomy
    detections: Detections
    calcifications: dict[str, np.ndarray]
    clusters: dict[str, np.ndarray]
    config: Config


def analyze(source: MammoImage | str | os.PathLike[str], *,
            pixel_spacing_mm: float | Sequence[float] | None = None,
            config: Config | None = None) -> Result:
    """Find, measure and group the calcifications of one mammogram.

    Parameters
    ----------
    source : MammoImage or path
        An image already loaded, or a DICOM / raster file for :func:`mammo_cv.load_image`.
    pixel_spacing_mm : float or (float, float), optional
        Passed to ``load_image`` when ``source`` is a path (required for raster files).
    config : Config, optional
        Settings of every stage; defaults to ``Config()``.

    Returns
    -------
    Result

    Raises
    ------
    MammoInputError
        Unreadable input, or an image with no breast (``NoBreastFoundError``).
    """
    config = config or Config()
    if isinstance(source, MammoImage):
        image = source
    else:
        image = load_image(source, pixel_spacing_mm=pixel_spacing_mm)
    anatomy = find_anatomy(image, config=config.anatomy)
    detections = detect_calcifications(image, anatomy, config=config.detection)
    calcifications = measure_calcifications(image, detections.label_image, nipple_rc=anatomy.nipple_rc,
                                            peak_snr=detections.peak_snr, config=config.features)
    calcifications["confidence"] = detections.confidence.astype(np.float64)
    cluster_id, clusters = cluster_table(calcifications, spacing_mm=image.spacing_mm,
                                         config=config.clusters)
    calcifications["cluster_id"] = cluster_id
    return Result(image=image, anatomy=anatomy, detections=detections,
                  calcifications=calcifications, clusters=clusters, config=config)
