"""``analyze`` and ``reclassify``: the stages composed, with no computation of their own.

io -> anatomy -> detect -> features -> clusters (+ vascular context) -> classify
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

import numpy as np

from mammo_cv.anatomy.landmarks import find_anatomy
from mammo_cv.classify.classifier import StudyContext
from mammo_cv.config import Config, resolve_config
from mammo_cv.core.psf import image_psf_sigma_mm
from mammo_cv.core.types import MammoImage
from mammo_cv.describe.calcifications import measure_calcifications
from mammo_cv.describe.cluster_table import cluster_table
from mammo_cv.describe.location import extent_columns, location_columns, nipple_axis
from mammo_cv.describe.vascular import find_vascular
from mammo_cv.detection.detect import detect_calcifications
from mammo_cv.io import load_image
from mammo_cv.pipeline.result import Result
from mammo_cv.pipeline.study import label_image_tables

__all__ = ["analyze", "reclassify"]


def analyze(source: MammoImage | str | os.PathLike[str], *,
            pixel_spacing_mm: float | Sequence[float] | None = None,
            config: Config | str | os.PathLike[str] | None = None,
            study: StudyContext | None = None, laterality: str | None = None,
            view: str | None = None, assume_mammogram: bool = False) -> Result:
    """Find, measure and group the calcifications of one mammogram.

    Parameters
    ----------
    source : MammoImage or path
        An image already loaded, or a DICOM / raster file for :func:`mammo_cv.load_image`.
    pixel_spacing_mm : float or (float, float), optional
        Passed to ``load_image`` when ``source`` is a path (required for raster files).
    laterality, view : str, optional
        Passed to ``load_image`` when ``source`` is a path: ``"L"``/``"R"``, ``"CC"``/``"MLO"``...,
        overriding the header (raster files carry none and are otherwise unknown, ``"U"``).
    assume_mammogram : bool
        Passed to ``load_image`` when ``source`` is a path: take a Secondary Capture or an
        RG/OT object as a mammogram.
    config : Config or path, optional
        Settings of every stage; defaults to ``Config()``. A path is a settings file
        (:func:`mammo_cv.config.load_settings`: sections ``[detection]``, ``[rules.macro]``,
        ..., any subset of the keys). A rules-only file: ``Config(rules=load_rules(path))``.
    study : StudyContext, optional
        The other breast of the same study (bilateral secretory support); see
        :func:`mammo_cv.pipeline.study.study_contexts` and :func:`reclassify`.

    Returns
    -------
    Result

    Raises
    ------
    MammoInputError
        Unreadable input, or an image with no breast (``NoBreastFoundError``).
    SettingsError
        ``config`` is a settings file that does not validate (the message names the key).

    Examples
    --------
    >>> from mammo_cv.synthetic.phantoms import phantom
    >>> result = analyze(phantom(spacing_mm=0.2, seed=1).image)
    >>> result.anatomy.chest_wall_side.value
    'left'
    >>> labels = {"secretory", "vascular", "macro", "suspicious_cluster", "punctate", "other"}
    >>> set(result.calc_table["label"]) <= labels, len(result.calc_table["label"]) > 0
    (True, True)
    """
    config = resolve_config(config)
    if isinstance(source, MammoImage):
        image = source
    else:
        image = load_image(source, pixel_spacing_mm=pixel_spacing_mm, laterality=laterality, view=view,
                           assume_mammogram=assume_mammogram)
    anatomy = find_anatomy(image, config=config.anatomy)
    detections = detect_calcifications(image, anatomy, config=config.detection)
    calcifications = measure_calcifications(image, detections.label_image, nipple_rc=anatomy.nipple_rc,
                                            peak_snr=detections.peak_snr,
                                            psf_sigma_mm=image_psf_sigma_mm(image, anatomy.breast_mask),
                                            config=config.features)
    calcifications.update(extent_columns(detections.label_image, len(calcifications["calc_id"])))
    axis = nipple_axis(image, anatomy)
    calcifications.update(location_columns(calcifications["row_px"], calcifications["col_px"],
                                           spacing_mm=image.spacing_mm, axis=axis))
    calcifications["confidence"] = detections.confidence.astype(np.float64)
    nipple_rc_mm = (anatomy.nipple_rc[0] * image.spacing_mm[0], anatomy.nipple_rc[1] * image.spacing_mm[1])
    breast_area_mm2 = float(np.count_nonzero(anatomy.breast_mask)) * image.pixel_area_mm2
    cluster_id, clusters = cluster_table(calcifications, nipple_rc_mm=nipple_rc_mm, breast_area_mm2=breast_area_mm2,
                                         config=config.clusters, group_config=config.groups)
    clusters.update(location_columns(clusters["row_px"], clusters["col_px"], spacing_mm=image.spacing_mm, axis=axis))
    calcifications["cluster_id"] = cluster_id
    # faint detections reported only beside confident ones (the detector's context threshold)
    # owe their place to their neighbours: they join no cluster and no vascular chain
    vascular = find_vascular(calcifications, config=config.vascular,
                             members=calcifications["confidence"] >= config.clusters.min_member_confidence)
    calcifications["vascular_chain_id"] = vascular["vascular_chain_id"]
    calcifications["vascular_score"] = vascular["vascular_score"]
    result = Result(image=image, anatomy=anatomy, detections=detections, calc_table=calcifications,
                    cluster_table=clusters, vascular_chains=vascular["chains"], config=config)
    return reclassify(result, study)


def reclassify(result: Result, study: StudyContext | None = None) -> Result:
    """Label a result's tables again, e.g. once the other breast of its study is known.

    No pixel work: the tables are classified with ``result.config.rules`` and ``study``.

    Parameters
    ----------
    result : Result
    study : StudyContext, optional

    Returns
    -------
    Result
        A copy whose ``calc_table`` has ``label`` and ``reason`` and whose ``cluster_table``
        has ``label``, ``score`` (0..1 suspicion) and ``reason`` (object arrays of str; score
        float64); every other field is shared with ``result``.
    """
    calc_table, cluster_table = label_image_tables(result.calc_table, result.cluster_table,
                                                   rules=result.config.rules, study=study)
    return dataclasses.replace(result, calc_table=calc_table, cluster_table=cluster_table)
