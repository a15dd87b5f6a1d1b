"""JSON records of one image's result: plain Python values (NaN as None), no pixels.

:func:`result_record` is duck-typed on the result (``image``, ``anatomy``, ``image_id``,
``calc_table``, ``cluster_table``, ``vascular_chains``, ``config``), since tables sits below
the pipeline that defines it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np

from mammo_cv.core.types import Anatomy, MammoImage
from mammo_cv.core.version import __version__
from mammo_cv.describe.vascular import CHAIN_COLUMNS
from mammo_cv.tables.schemas import CALCIFICATION_CSV_COLUMNS, CLUSTER_CSV_COLUMNS

__all__ = ["label_counts", "table_records", "image_record", "anatomy_record", "result_record"]


def label_counts(calc_table: Mapping[str, np.ndarray],
                 cluster_table: Mapping[str, np.ndarray]) -> dict[str, dict[str, int]]:
    """How many calcifications and clusters carry each label.

    Parameters
    ----------
    calc_table, cluster_table : dict of str to (n,) ndarray
        Each needs a ``label`` column.

    Returns
    -------
    dict
        ``{"calcifications": {label: n, ...}, "clusters": {label: n, ...}}``, labels in sorted
        order; a label that no row carries is left out.

    Examples
    --------
    >>> import numpy as np
    >>> label_counts({"label": np.array(["punctate", "macro", "punctate"], object)},
    ...              {"label": np.zeros(0, object)})
    {'calcifications': {'macro': 1, 'punctate': 2}, 'clusters': {}}
    """
    return {"calcifications": _count(calc_table["label"]), "clusters": _count(cluster_table["label"])}


def _count(labels: np.ndarray) -> dict[str, int]:
    return dict(sorted(Counter(str(label) for label in labels).items()))


def table_records(table: Mapping[str, np.ndarray], columns: Mapping[str, np.dtype],
                  image_id: str) -> list[dict[str, Any]]:
    """Rows of ``columns`` as dicts of plain Python values, ``image_id`` filled in; NaN becomes None.

    Parameters
    ----------
    table : dict of str to (n,) ndarray
        Every column of ``columns`` but ``image_id``.
    columns : dict of str to numpy dtype
        The schema; each value is cast to its column's dtype first.
    image_id : str

    Returns
    -------
    list of dict
        n dicts, keys in the order of ``columns``.

    Examples
    --------
    >>> import numpy as np
    >>> columns = {"image_id": np.dtype(object), "calc_id": np.dtype(np.int64), "area_mm2": np.dtype(np.float64)}
    >>> table_records({"calc_id": np.array([1, 2]), "area_mm2": np.array([0.5, np.nan])}, columns, "img1")
    [{'image_id': 'img1', 'calc_id': 1, 'area_mm2': 0.5}, {'image_id': 'img1', 'calc_id': 2, 'area_mm2': None}]
    """
    names = list(columns)
    n_rows = len(next(iter(table.values())))
    values = {name: ([image_id] * n_rows if name == "image_id" else np.asarray(table[name]).astype(dtype).tolist())
              for name, dtype in columns.items()}
    return [{name: _plain(values[name][i]) for name in names} for i in range(n_rows)]


def _plain(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def image_record(image: MammoImage) -> dict[str, Any]:
    """The image's metadata (no pixels) as plain values: shape in px, spacing in mm, labels, UIDs.

    Parameters
    ----------
    image : MammoImage

    Returns
    -------
    dict
        ``source_path``, ``shape_px``, ``spacing_mm``, ``spacing_source``, ``laterality``,
        ``view``, ``presentation_intent``, ``photometric``, ``bits_stored``,
        ``sop_instance_uid``, ``study_instance_uid`` and ``display_window`` (low, high) or None.

    Examples
    --------
    >>> import numpy as np
    >>> from mammo_cv.core.types import MammoImage
    >>> record = image_record(MammoImage(pixels=np.zeros((4, 3), np.float32), spacing_mm=(0.1, 0.1),
    ...                                 spacing_source="argument"))
    >>> record["shape_px"], record["spacing_mm"], record["laterality"]
    ([4, 3], [0.1, 0.1], 'U')
    """
    return {
        "source_path": image.source_path,
        "shape_px": list(image.shape),
        "spacing_mm": [float(s) for s in image.spacing_mm],
        "spacing_source": image.spacing_source,
        "laterality": image.laterality.value,
        "view": image.view.value,
        "presentation_intent": image.presentation_intent.value,
        "photometric": image.photometric,
        "bits_stored": int(image.bits_stored),
        "sop_instance_uid": image.sop_instance_uid,
        "study_instance_uid": image.study_instance_uid,
        "display_window": None if image.display_window is None else [float(v) for v in image.display_window],
    }


def anatomy_record(anatomy: Anatomy, pixel_area_mm2: float) -> dict[str, Any]:
    """The anatomy as plain values: nipple and pectoral line (row, col) px, breast and pectoral areas in mm2.

    Parameters
    ----------
    anatomy : Anatomy
    pixel_area_mm2 : float
        Area of one stored pixel, mm2 (``MammoImage.pixel_area_mm2``).

    Returns
    -------
    dict
        ``chest_wall_side``, ``nipple_rc_px``, ``pectoral_line_rc_px`` (two (row, col) ends, or
        None), ``breast_area_mm2``, ``pectoral_area_mm2`` and ``method_notes``.
    """
    return {
        "chest_wall_side": anatomy.chest_wall_side.value,
        "nipple_rc_px": [float(v) for v in anatomy.nipple_rc],
        "pectoral_line_rc_px": (None if anatomy.pectoral_line is None
                                else [[float(v) for v in end] for end in anatomy.pectoral_line]),
        "breast_area_mm2": float(np.count_nonzero(anatomy.breast_mask)) * pixel_area_mm2,
        "pectoral_area_mm2": float(np.count_nonzero(anatomy.pectoral_mask)) * pixel_area_mm2,
        "method_notes": list(anatomy.method_notes),
    }


def result_record(result) -> dict[str, Any]:
    """Everything of one result in plain JSON-serialisable values; see ``Result.to_dict``.

    Parameters
    ----------
    result : mammo_cv.pipeline.Result

    Returns
    -------
    dict
        ``mammo_cv_version``, ``image_id``, ``image``, ``anatomy``, ``counts``,
        ``calcifications``, ``clusters``, ``vascular_chains`` and ``config``.
    """
    image_id = result.image_id
    return {
        "mammo_cv_version": __version__,
        "image_id": image_id,
        "image": image_record(result.image),
        "anatomy": anatomy_record(result.anatomy, result.image.pixel_area_mm2),
        "counts": label_counts(result.calc_table, result.cluster_table),
        "calcifications": table_records(result.calc_table, CALCIFICATION_CSV_COLUMNS, image_id),
        "clusters": table_records(result.cluster_table, CLUSTER_CSV_COLUMNS, image_id),
        "vascular_chains": table_records(result.vascular_chains, CHAIN_COLUMNS, image_id),
        "config": {"digest": result.config.digest(), "rules_digest": result.config.rules.digest,
                   "rules_source": result.config.rules.source},
    }
