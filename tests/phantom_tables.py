"""A phantom's true calcification list as a calcification table, for tests of the stages that
read tables (grouping, vascular context) without running the detector."""

import numpy as np


def truth_calc_table(phantom) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Columns of ``features.CALC_COLUMNS`` that the truth determines, plus kinds and groups.

    ``area_mm2`` is ``length_mm * width_mm`` (a rectangle: exact enough for group statistics),
    ``irregularity`` a constant 0.05 and ``branching`` 0. ``axis_angle_deg`` follows the
    features convention (clockwise on screen); the phantom's angles run counter-clockwise.

    Returns
    -------
    table : dict of str to (n,) ndarray
    kind : (n,) ndarray of str
    group_id : (n,) ndarray of int
    """
    calcs = phantom.truth["calcifications"]
    spacing = phantom.truth["spacing_mm"]
    rows = np.array([c["row_px"] for c in calcs])
    cols = np.array([c["col_px"] for c in calcs])
    length = np.array([c["length_mm"] for c in calcs])
    width = np.array([c["width_mm"] for c in calcs])
    angle = np.array([np.nan if c["angle_deg"] is None else (180.0 - c["angle_deg"]) % 180.0 for c in calcs])
    table = {"row_px": rows, "col_px": cols, "row_mm": rows * spacing[0], "col_mm": cols * spacing[1],
             "area_mm2": length * width, "length_mm": length, "width_mm": width, "elongation": length / width,
             "irregularity": np.full(rows.size, 0.05), "branching": np.zeros(rows.size, np.int32),
             "axis_angle_deg": angle}
    return table, np.array([c["kind"] for c in calcs]), np.array([c["group_id"] for c in calcs])
