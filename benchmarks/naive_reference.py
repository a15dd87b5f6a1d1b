"""The mammo_cv stages written the way a researcher would write them with scikit-image.

This is the baseline of ``scripts/benchmark.py`` (issue 8): the same stages as
``mammo_cv.analyze`` -- decode, anatomy, detection, features, clusters -- at the same
physical scales, with the textbook calls and no attention to speed:

* decode: ``pydicom`` ``pixel_array`` converted to float64 (``skimage.util.img_as_float``);
* anatomy: Gaussian smoothing, Otsu threshold, largest ``skimage.measure.label`` region,
  holes filled, at full resolution;
* detection: ``skimage.morphology.white_tophat`` with a ``disk`` of each diameter in
  ``DetectionConfig.tophat_diameters_mm``, at full resolution, maximum over the scales, one
  global threshold (mean + ``THRESHOLD_SIGMA`` standard deviations inside the breast),
  ``label``;
* features: ``regionprops`` of every candidate, a Python dict per object;
* clusters: single linkage of the centroids at ``ClusterConfig``'s distance (SciPy).

It is deliberately not the researcher's worst case: disks of radius >= ``DECOMPOSE_RADIUS_PX``
use ``disk(..., decomposition="sequence")``, which scikit-image's documentation recommends
for large footprints. A plain 10 mm disk at 0.07 mm (143 px wide) would take about 18 min
per top-hat on a 4096 x 3328 image (measured on a 512 x 512 crop: 21 s), which no one would
wait for; so the speed-up reported against this reference is a lower bound.

Not part of the package, and not a detector anyone should use: its output is only counted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
from scipy import ndimage
from scipy.cluster.hierarchy import fcluster, linkage
from skimage import filters, measure, morphology, util

from mammo_cv.describe import ClusterConfig
from mammo_cv.detection.detect import DetectionConfig

__all__ = ["STAGES", "naive_analyze"]

THRESHOLD_SIGMA = 5.0  # global threshold in standard deviations of the top-hat maximum
SMOOTHING_SIGMA_MM = 0.8  # as AnatomyConfig.smoothing_sigma_mm
DECOMPOSE_RADIUS_PX = 10  # scikit-image's disk decomposition pays off from about here (measured)

STAGES = ("decode", "anatomy", "detection", "features", "clusters")


def decode(path: Path) -> np.ndarray:
    """(M, N) float64 image in [0, 1] from a DICOM file."""
    return util.img_as_float(pydicom.dcmread(path).pixel_array)


def anatomy(image: np.ndarray, spacing_mm: float) -> np.ndarray:
    """(M, N) bool breast mask: Otsu on the smoothed image, largest region, holes filled."""
    smooth = filters.gaussian(image, sigma=SMOOTHING_SIGMA_MM / spacing_mm)
    labels = measure.label(smooth > filters.threshold_otsu(smooth))
    largest = max(measure.regionprops(labels), key=lambda region: region.area).label
    return ndimage.binary_fill_holes(labels == largest)


def detection(image: np.ndarray, breast: np.ndarray, spacing_mm: float) -> np.ndarray:
    """(M, N) int label image of bright spots above one global threshold."""
    response = np.zeros_like(image)
    for diameter_mm in DetectionConfig().tophat_diameters_mm:
        radius = max(1, int(round(diameter_mm / spacing_mm / 2)))
        footprint = disk(radius)
        response = np.maximum(response, morphology.white_tophat(image, footprint))
    inside = response[breast]
    candidates = (response > inside.mean() + THRESHOLD_SIGMA * inside.std()) & breast
    return measure.label(candidates)


def disk(radius: int):
    """``skimage.morphology.disk``, decomposed for large radii as its documentation advises."""
    if radius >= DECOMPOSE_RADIUS_PX:
        return morphology.disk(radius, decomposition="sequence")
    return morphology.disk(radius)


def features(labels: np.ndarray, image: np.ndarray, spacing_mm: float) -> list[dict]:
    """One dict of sizes (mm, mm^2) and shape measures per labelled candidate."""
    rows = []
    for region in measure.regionprops(labels, intensity_image=image):
        rows.append({
            "row_mm": region.centroid[0] * spacing_mm, "col_mm": region.centroid[1] * spacing_mm,
            "area_mm2": region.area * spacing_mm**2,
            "length_mm": region.axis_major_length * spacing_mm,
            "width_mm": region.axis_minor_length * spacing_mm,
            "eccentricity": region.eccentricity, "solidity": region.solidity,
            "perimeter_mm": region.perimeter * spacing_mm, "mean_intensity": region.intensity_mean,
        })
    return rows


def clusters(rows: list[dict]) -> np.ndarray:
    """Cluster id per candidate (single linkage at ``ClusterConfig().link_mm``)."""
    if len(rows) < 2:
        return np.ones(len(rows), dtype=int)
    points = np.array([[row["row_mm"], row["col_mm"]] for row in rows])
    return fcluster(linkage(points, method="single"), t=ClusterConfig().link_mm,
                    criterion="distance")


def naive_analyze(path: Path, spacing_mm: float, *,
                  clock: Callable[[], float] = time.perf_counter) -> dict[str, object]:
    """Run every stage once on one DICOM file.

    Returns
    -------
    dict
        ``seconds`` (stage -> wall seconds, plus ``pipeline``), ``n_candidates`` and
        ``n_clusters``.
    """
    seconds = {}
    start = clock()
    image = decode(path)
    seconds["decode"] = clock() - start
    mark = clock()
    breast = anatomy(image, spacing_mm)
    seconds["anatomy"] = clock() - mark
    mark = clock()
    labels = detection(image, breast, spacing_mm)
    seconds["detection"] = clock() - mark
    mark = clock()
    rows = features(labels, image, spacing_mm)
    seconds["features"] = clock() - mark
    mark = clock()
    cluster_ids = clusters(rows)
    seconds["clusters"] = clock() - mark
    seconds["pipeline"] = clock() - start
    return {"seconds": seconds, "n_candidates": len(rows),
            "n_clusters": int(np.unique(cluster_ids).size)}
