"""``analyze``: the stages composed, with no computation of its own.

io -> anatomy -> detect -> features -> clusters (+ vascular context)
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from mammo_cv.anatomy import find_anatomy
from mammo_cv.clusters import cluster_table
from mammo_cv.config import Config
from mammo_cv.detect import detect_calcifications
from mammo_cv.features import measure_calcifications
from mammo_cv.io import load_image
from mammo_cv.result import Result
from mammo_cv.types import MammoImage
from mammo_cv.vascular import find_vascular

__all__ = ["analyze"]


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
    nipple_rc_mm = (anatomy.nipple_rc[0] * image.spacing_mm[0], anatomy.nipple_rc[1] * image.spacing_mm[1])
    breast_area_mm2 = float(np.count_nonzero(anatomy.breast_mask)) * image.pixel_area_mm2
    cluster_id, clusters = cluster_table(calcifications, nipple_rc_mm=nipple_rc_mm, breast_area_mm2=breast_area_mm2,
                                         config=config.clusters, group_config=config.groups)
    calcifications["cluster_id"] = cluster_id
    vascular = find_vascular(calcifications, config=config.vascular)
    calcifications["vascular_chain_id"] = vascular["vascular_chain_id"]
    calcifications["vascular_score"] = vascular["vascular_score"]
    return Result(image=image, anatomy=anatomy, detections=detections, calc_table=calcifications,
                  cluster_table=clusters, vascular_chains=vascular["chains"], config=config)
