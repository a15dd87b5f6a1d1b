"""The fixed schemas of the output tables: ordered column name -> numpy dtype, and what each column holds.

An image with no findings gives a table with every column and zero rows, never a missing
file. ``COLUMN_DOCS`` gives every column its unit and meaning; ``docs/outputs.md`` renders it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from mammo_cv.core.labels import LABELS
from mammo_cv.describe.calcifications import CALC_COLUMNS
from mammo_cv.describe.cluster_table import CLUSTER_COLUMNS
from mammo_cv.describe.location import EXTENT_COLUMNS, LOCATION_COLUMNS

__all__ = ["IMAGE_COLUMNS", "CALCIFICATION_CSV_COLUMNS", "CLUSTER_CSV_COLUMNS", "BREAST_COLUMNS", "LABEL_COUNT_COLUMNS",
           "PART_SCHEMA", "ColumnDoc", "TABLES", "COLUMN_DOCS"]


_STR = np.dtype(object)


IMAGE_COLUMNS: dict[str, np.dtype] = {
    "image_id": _STR,
    "source_path": _STR,
    "study_key": _STR,
    "status": _STR,
    "error": _STR,
    "laterality": _STR,
    "view": _STR,
    "presentation_intent": _STR,
    "photometric": _STR,
    "review_blanking": _STR,
    "assumed_mammogram": np.dtype(np.int64),
    "spacing_row_mm": np.dtype(np.float64),
    "spacing_col_mm": np.dtype(np.float64),
    "spacing_source": _STR,
    "rows": np.dtype(np.int64),
    "cols": np.dtype(np.int64),
    "chest_wall_side": _STR,
    "nipple_row_px": np.dtype(np.float64),
    "nipple_col_px": np.dtype(np.float64),
    "breast_area_mm2": np.dtype(np.float64),
    "n_calcifications": np.dtype(np.int64),
    "n_clusters": np.dtype(np.int64),
    **{f"n_{label}": np.dtype(np.int64) for label in LABELS},
    "seconds": np.dtype(np.float64),
}


#: ``images.csv`` count column -> the calcification ``label`` it counts.
LABEL_COUNT_COLUMNS: dict[str, str] = {f"n_{label}": label for label in LABELS}


CALCIFICATION_CSV_COLUMNS: dict[str, np.dtype] = {
    "image_id": _STR,
    **CALC_COLUMNS,
    **EXTENT_COLUMNS,
    **LOCATION_COLUMNS,
    "confidence": np.dtype(np.float64),
    "cluster_id": np.dtype(np.int64),
    "vascular_chain_id": np.dtype(np.int64),
    "vascular_score": np.dtype(np.float64),
    "label": _STR,
    "reason": _STR,
}


CLUSTER_CSV_COLUMNS: dict[str, np.dtype] = {
    "image_id": _STR,
    **CLUSTER_COLUMNS,
    **LOCATION_COLUMNS,
    "label": _STR,
    "score": np.dtype(np.float64),  # the classifier's 0-1 suspicion
    "reason": _STR,
}


BREAST_COLUMNS: dict[str, np.dtype] = {
    "study_key": _STR,
    "laterality": _STR,
    "n_images": np.dtype(np.int64),
    "image_ids": _STR,
    "views": _STR,
    "n_calcifications": np.dtype(np.int64),
    "n_clusters": np.dtype(np.int64),
    **{column: np.dtype(np.int64) for column in LABEL_COUNT_COLUMNS},
    "max_cluster_score": np.dtype(np.float64),
    "max_cluster_label": _STR,
    "max_cluster_image_id": _STR,
    "n_rod_like": np.dtype(np.int64),
    "contralateral_rod_count": np.dtype(np.int64),
    "bilateral_rod_support": np.dtype(bool),
}


#: Version of the per-image part format; a part with another version is not "complete".
PART_SCHEMA = 2


#: Output table name (``<name>.csv``) -> its schema.
TABLES: dict[str, dict[str, np.dtype]] = {
    "images": IMAGE_COLUMNS,
    "calcifications": CALCIFICATION_CSV_COLUMNS,
    "clusters": CLUSTER_CSV_COLUMNS,
    "breasts": BREAST_COLUMNS,
}


class ColumnDoc(NamedTuple):
    """What one output column holds.

    Attributes
    ----------
    unit : str
        Unit of the values (``"mm"``, ``"px"``, ``"deg"``, ...), or ``""`` for text, counts,
        ids and dimensionless numbers.
    meaning : str
        One or two sentences, in Markdown.
    """

    unit: str
    meaning: str


_IMAGE_DOCS: dict[str, ColumnDoc] = {
    "image_id": ColumnDoc("", (
        "The SOP Instance UID (read from the header before analysis), or for raster files and files "
        "without one the path relative to the INPUT folder. Made file-name safe: characters other than "
        "`A-Za-z0-9._-` become `_`, there is no leading or trailing dot (so `../` in a tag can never leave "
        "`DIR`), and an id over 96 characters is cut and suffixed with a hash. Unique in sorted path order "
        "(`_2`, `_3`, ... for repeats, compared case-insensitively) and stable: the same inputs give the "
        "same ids.")),
    "source_path": ColumnDoc("", "The file as found."),
    "study_key": ColumnDoc("", (
        "Which study the file belongs to, as the batch grouped it: `study:` + a one-way hash (SHA-256, "
        "24 hex digits) of the Study Instance UID, else `patient-date:` + a hash of Patient ID and Study "
        "Date, else `file:` + a hash of the absolute path (raster files, unreadable headers: their own "
        "study). Equal keys mean the same study; the UID, ID or date cannot be read back from it, but the "
        "hash is unsalted: someone holding a list of candidate Patient IDs and dates could test them "
        "against a `patient-date:` key, so treat such tables as pseudonymised, not anonymous.")),
    "status": ColumnDoc("", "`ok` or `error`."),
    "error": ColumnDoc("", (
        "For `error`: the exception type and a one-line message naming the file and the problem; "
        "empty for `ok`.")),
    "laterality": ColumnDoc("", "`L`, `R` or `U` (unknown)."),
    "view": ColumnDoc("", "`CC`, `MLO`, `ML`, `LM`, `XCCL`, ... or `U` (unknown)."),
    "presentation_intent": ColumnDoc("", "`FOR PROCESSING`, `FOR PRESENTATION` or `UNKNOWN`."),
    "photometric": ColumnDoc("", "Photometric interpretation as stored (`MONOCHROME1`, `MONOCHROME2`)."),
    "review_blanking": ColumnDoc("", (
        "Whether the review images (overlay, gallery) show only the breast: `none`, or why every pixel "
        "outside the breast mask was blanked (DICOM PS3.15 Annex E, clean pixel data): "
        "`burned_in_annotation` (the file's BurnedInAnnotation is YES) or `text_outside_breast` "
        "(text-like content found outside the breast, burned-in view markers included; see "
        "[Outputs](outputs.md#pixel-privacy)). Empty for errors.")),
    "assumed_mammogram": ColumnDoc("", (
        "1 when the file was analysed only because of `--assume-mammogram` (a Secondary Capture of "
        "another modality, or Modality RG, OT or absent), 0 for a file known to be a mammogram; "
        "-1 for errors.")),
    "spacing_row_mm": ColumnDoc("mm", "Pixel spacing between rows, in the breast plane."),
    "spacing_col_mm": ColumnDoc("mm", "Pixel spacing between columns, in the breast plane."),
    "spacing_source": ColumnDoc("", (
        "Where the spacing came from (`argument`, `PixelSpacing(GEOMETRY)`, `ImagerPixelSpacing/ERMF`, "
        "...; see [Reading images](loading.md#pixel-spacing)).")),
    "rows": ColumnDoc("px", "Stored image height."),
    "cols": ColumnDoc("px", "Stored image width."),
    "chest_wall_side": ColumnDoc("", "`left` or `right`: the column edge of the chest wall, found from the pixels."),
    "nipple_row_px": ColumnDoc("px", "Nipple row in the stored pixel grid."),
    "nipple_col_px": ColumnDoc("px", "Nipple column in the stored pixel grid."),
    "breast_area_mm2": ColumnDoc("mm²", (
        "Area of the breast mask (pectoral muscle included; background, labels and markers left out): "
        "its pixel count times the pixel area.")),
    "n_calcifications": ColumnDoc("", "Rows of this image in `calcifications.csv`."),
    "n_clusters": ColumnDoc("", "Rows of this image in `clusters.csv`."),
    "n_secretory": ColumnDoc("", "Calcifications of this image labelled `secretory`."),
    "n_vascular": ColumnDoc("", "Calcifications of this image labelled `vascular`."),
    "n_macro": ColumnDoc("", "Calcifications of this image labelled `macro`."),
    "n_suspicious_cluster": ColumnDoc("", (
        "Calcifications of this image labelled `suspicious_cluster`, i.e. members of suspicious "
        "clusters (the clusters themselves are the `clusters.csv` rows with that `label`).")),
    "n_punctate": ColumnDoc("", "Calcifications of this image labelled `punctate`."),
    "n_other": ColumnDoc("", "Calcifications of this image labelled `other`."),
    "seconds": ColumnDoc("s", (
        "Wall time for this file: analysis, reclassification with the study context and overlay. "
        "The only column that is not deterministic.")),
}


_LOCATION_DOCS: dict[str, ColumnDoc] = {
    "clock_face": ColumnDoc("h", (
        "The hour as if facing the patient (12 superior, 6 inferior, the right breast's lateral side "
        "at 9, the left breast's at 3), of {what}. One view shows half the clock only, so the hour is "
        "the middle of the known half: CC views give 9 or 3 (lateral or medial of the nipple axis, "
        "laterality needed), MLO, ML, LM and LMO views 12 or 6 (above or below it; on an MLO, above "
        "mixes upper with lateral). Empty for other views, a CC view without laterality, or a "
        "position on the axis. Assumes the standard row direction (top of the image lateral on CC, "
        "superior otherwise); see [Location](outputs.md#location).")),
    "distance_to_nipple_mm": ColumnDoc("mm", "Distance from {what} to the nipple in the image plane."),
    "depth": ColumnDoc("", (
        "`anterior`, `middle` or `posterior`: the third of the nipple-to-chest-wall distance (along the "
        "perpendicular from the nipple to the pectoral line on MLO/ML/LM views when found, else to the "
        "chest-wall edge of the breast) in which {what} projects (BI-RADS depth). Empty when the nipple "
        "is unknown or on the chest-wall line.")),
}


def _location_docs(what: str) -> dict[str, ColumnDoc]:
    return {name: ColumnDoc(doc.unit, doc.meaning.format(what=what)) for name, doc in _LOCATION_DOCS.items()}


_CALCIFICATION_DOCS: dict[str, ColumnDoc] = {
    "image_id": ColumnDoc("", "As in `images.csv`."),
    "calc_id": ColumnDoc("", "1-based id within the image; the value of the calcification in `Result.label_image`."),
    "row_px": ColumnDoc("px", "Centroid row in the stored pixel grid."),
    "col_px": ColumnDoc("px", "Centroid column in the stored pixel grid."),
    "row_mm": ColumnDoc("mm", "`row_px` times the row spacing."),
    "col_mm": ColumnDoc("mm", "`col_px` times the column spacing."),
    "area_mm2": ColumnDoc("mm²", "Pixel count times pixel area."),
    "length_mm": ColumnDoc("mm", (
        "Greatest extent: for an elongated object without holes, the larger of its skeleton's longest "
        "path (plus the half width at each end) and its maximum Feret diameter; for a blob or a ring, "
        "the maximum Feret diameter (exact definition in `mammo_cv.describe.calcifications`).")),
    "width_mm": ColumnDoc("mm", "Mean thickness along the medial axis; the minimum Feret diameter for a blob."),
    "calibre_mm": ColumnDoc("mm", "width_mm with the system blur (measured PSF and pixel) removed in quadrature; "
                                  "0 = thinner than the blur. The fine and coarse rules read it."),
    "elongation": ColumnDoc("", "`length_mm / width_mm`."),
    "tapering": ColumnDoc("", (
        "1 − (width near the ends) / (width in the middle): 0 untapered, toward 1 for needles, "
        "negative for dumb-bells; 0 for round objects.")),
    "lucent_center": ColumnDoc("", (
        "Rim-versus-centre contrast: 0 solid, toward 1 for a lucent centre (rim, eggshell).")),
    "branching": ColumnDoc("", "Skeleton branch points that keep 3 or more arms once spurs are dropped."),
    "irregularity": ColumnDoc("", "1 − solidity (area over convex-hull area): 0 convex, larger for ragged shapes."),
    "contrast": ColumnDoc("noise σ", "Peak signal above the local background, in units of the local noise."),
    "orientation_to_nipple_deg": ColumnDoc("deg", (
        "Angle between the long axis and the line to the nipple, 0-90 (0 points at the nipple, 90 "
        "across); empty for round objects.")),
    "axis_angle_deg": ColumnDoc("deg", "Direction of the long axis, from +col toward +row, in [0, 180)."),
    "bbox_row_min_px": ColumnDoc("px", "First row of the calcification's pixels (stored grid)."),
    "bbox_col_min_px": ColumnDoc("px", "First column of the calcification's pixels."),
    "bbox_row_max_px": ColumnDoc("px", (
        "One past the last row (half-open box, as scikit-image's `bbox`): the pixels are rows "
        "`bbox_row_min_px` to `bbox_row_max_px − 1`.")),
    "bbox_col_max_px": ColumnDoc("px", "One past the last column (half open)."),
    "area_px": ColumnDoc("px", "Pixel count (the area in stored pixels; `area_mm2` is this times the pixel area)."),
    **_location_docs("the centroid"),
    "confidence": ColumnDoc("σ", (
        "Detector confidence, in noise sigmas of the noise-equalised image. Calcifications are "
        "reported from `DetectionConfig.min_confidence` (6), and from `context_min_confidence` (4.5) "
        "when at least `context_min_neighbours` (3) calcifications at 6 or more lie within "
        "`context_radius_mm` (5 mm). Clusters and vascular chains use only those at 6 or more. "
        "Ranks detections for operating points and FROC curves.")),
    "cluster_id": ColumnDoc("", "The calcification's cluster in `clusters.csv`, or −1."),
    "vascular_chain_id": ColumnDoc("", (
        "Chain of collinear elongated fragments (vessel-like) the calcification belongs to, or −1 "
        "(`mammo_cv.describe.vascular`).")),
    "vascular_score": ColumnDoc("", (
        "0-1: how vessel-like the fragment's chain is (long chains and parallel tram tracks 1-3 mm "
        "apart score high).")),
    "label": ColumnDoc("", (
        "`secretory`, `vascular`, `macro`, `suspicious_cluster`, `punctate` or `other` "
        "(see [Classification rules](rules.md)).")),
    "reason": ColumnDoc("", (
        "The rule that gave the label, with the measured values, e.g. `rod 4.6 mm x 0.66 mm, "
        "elongation 7.0, 7 deg to nipple -> secretory (large rod-like)`.")),
}

_CLUSTER_DOCS: dict[str, ColumnDoc] = {
    "image_id": ColumnDoc("", "As in `images.csv`."),
    "cluster_id": ColumnDoc("", "0-based id within the image, as in the `cluster_id` of `calcifications.csv`."),
    "n_calcs": ColumnDoc("", "Members."),
    "row_px": ColumnDoc("px", "Mean member row in the stored pixel grid."),
    "col_px": ColumnDoc("px", "Mean member column in the stored pixel grid."),
    "row_mm": ColumnDoc("mm", "Mean member row in mm."),
    "col_mm": ColumnDoc("mm", "Mean member column in mm."),
    "extent_mm": ColumnDoc("mm", "Feret diameter of the member centroids plus the mean member length."),
    "area_mm2": ColumnDoc("mm²", "Convex hull of the member centroids, grown by half the mean member width."),
    "density_per_cm2": ColumnDoc("1/cm²", "Members per cm² of that hull."),
    "linearity": ColumnDoc("", "1 − √(λmin/λmax) of the member positions: 0 round, 1 on a line."),
    "branching": ColumnDoc("", "Fraction of members whose skeleton branches (the group's branching pattern)."),
    "pleomorphism": ColumnDoc("", "0-1 spread of member area, elongation and irregularity."),
    "nipple_alignment_deg": ColumnDoc("deg", (
        "Angle between the cluster's main axis and the line to the nipple; empty for round clusters.")),
    "apex_toward_nipple": ColumnDoc("", (
        "−1 to 1: above 0 when the cluster narrows toward the nipple (a segment's apex).")),
    "mean_width_mm": ColumnDoc("mm", "Mean `width_mm` of the members."),
    "max_length_mm": ColumnDoc("mm", "Largest `length_mm` of the members."),
    "distribution": ColumnDoc("", (
        "`grouped`, `linear`, `segmental`, `regional` or `diffuse` (BI-RADS 5th ed.; rules in "
        "`mammo_cv.describe.groups`). `diffuse` is image-level: the clustered calcifications of the "
        "image, at least 30, cover at least 25 % of the breast.")),
    "n_calcs_1cm": ColumnDoc("", "Most members inside a 1-cm circle centred on a member."),
    "bi_rads_group": ColumnDoc("", "`n_calcs_1cm` ≥ 5: a BI-RADS group (reported, not required by the classifier)."),
    "detection_score": ColumnDoc("σ", "Mean confidence of the 3 most confident members; ranks clusters for the FROC."),
    **_location_docs("the mean member position (`row_px`, `col_px`)"),
    "label": ColumnDoc("", "The cluster's class, same vocabulary as the calcifications."),
    "score": ColumnDoc("", "0-1 suspicion from the classifier; ranks clusters, and the gallery sorts on it."),
    "reason": ColumnDoc("", "Why the cluster got its label, with the measured values."),
}

_BREAST_DOCS: dict[str, ColumnDoc] = {
    "study_key": ColumnDoc("", "As in `images.csv`: the study the breast's images belong to."),
    "laterality": ColumnDoc("", "`L`, `R`, or `U` for the images of the study without laterality."),
    "n_images": ColumnDoc("", "Images of this breast analysed (`status` `ok`); failed images are in no breast."),
    "image_ids": ColumnDoc("", "Their `image_id`s, `;`-separated, in `images.csv` order."),
    "views": ColumnDoc("", "Their views, `;`-separated, in the same order."),
    "n_calcifications": ColumnDoc("", "Sum of the images' `n_calcifications`."),
    "n_clusters": ColumnDoc("", "Sum of the images' `n_clusters`."),
    **{column: ColumnDoc("", f"Sum of the images' `{column}` (calcifications labelled `{label}`).")
       for column, label in LABEL_COUNT_COLUMNS.items()},
    "max_cluster_score": ColumnDoc("", (
        "Highest cluster `score` (0-1 suspicion) over the breast's images: the breast-level rating for "
        "ROC analysis. Empty when the breast has no cluster.")),
    "max_cluster_label": ColumnDoc("", "`label` of that cluster (the first in `clusters.csv` order on a tie)."),
    "max_cluster_image_id": ColumnDoc("", "`image_id` of that cluster's image."),
    "n_rod_like": ColumnDoc("", (
        "Rod-like calcifications in this breast (secretory length, width, elongation and irregularity, "
        "any orientation, not vascular; `mammo_cv.classify.classifier.count_rod_like`).")),
    "contralateral_rod_count": ColumnDoc("", (
        "`n_rod_like` of the other breast of the same study, as the classifier's study context saw it; "
        "−1 when the laterality is unknown or the other breast is not in the run.")),
    "bilateral_rod_support": ColumnDoc("", (
        "1 (true) when `contralateral_rod_count` reaches `secretory.min_contralateral_rods`: the "
        "classifier then relaxed the secretory limits for this breast (\"usually bilateral\"); else 0.")),
}

#: Output table name -> column -> its unit and meaning, for every column of ``TABLES``.
COLUMN_DOCS: dict[str, dict[str, ColumnDoc]] = {
    "images": _IMAGE_DOCS,
    "calcifications": _CALCIFICATION_DOCS,
    "clusters": _CLUSTER_DOCS,
    "breasts": _BREAST_DOCS,
}
