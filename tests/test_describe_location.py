"""Location of findings on hand-made geometry: clock face, distance to the nipple, depth, bounding boxes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from mammo_cv.core.types import Anatomy, MammoImage
from mammo_cv.describe.location import extent_columns, location_columns, nipple_axis

_SHAPE = (200, 120)
_NIPPLE = (100.0, 90.0)  # chest wall on the left when not mirrored
_PECTORAL = ((0.0, 40.0), (200.0, 0.0))


def _mirror_col(col: float) -> float:
    return _SHAPE[1] - 1 - col


def _case(laterality: str, view: str, spacing_mm=(0.1, 0.1), nipple=_NIPPLE):
    """A breast whose chest wall is on the left for L, mirrored (on the right) for R."""
    mirrored = laterality == "R"
    mask = np.zeros(_SHAPE, bool)
    mask[:, :91] = True
    pectoral = _PECTORAL if view == "MLO" else None
    if mirrored:
        mask = mask[:, ::-1]
        nipple = (nipple[0], _mirror_col(nipple[1]))
        if pectoral is not None:
            pectoral = tuple((r, _mirror_col(c)) for r, c in pectoral)
    image = MammoImage(pixels=np.zeros(_SHAPE, np.float32), spacing_mm=spacing_mm, spacing_source="argument",
                       laterality=laterality, view=view)
    anatomy = Anatomy(breast_mask=mask, chest_wall_side="right" if mirrored else "left",
                      pectoral_mask=np.zeros(_SHAPE, bool), pectoral_line=pectoral, nipple_rc=nipple)
    return image, anatomy, mirrored


def _locate(image, anatomy, rows, cols):
    return location_columns(np.asarray(rows, float), np.asarray(cols, float), spacing_mm=image.spacing_mm,
                            axis=nipple_axis(image, anatomy))


# Facing the patient: 12 superior, 6 inferior, the right breast's lateral side at 9, the left's at 3.
# Stored rows: top = lateral on CC, superior on MLO. So "above the axis" is lateral resp. superior.
@pytest.mark.parametrize(("laterality", "view", "above", "below"), [
    ("L", "CC", 3.0, 9.0), ("R", "CC", 9.0, 3.0), ("L", "MLO", 12.0, 6.0), ("R", "MLO", 12.0, 6.0)])
def test_clock_face_from_laterality_view_and_side_of_the_nipple_axis(laterality, view, above, below):
    image, anatomy, mirrored = _case(laterality, view)
    cols = [70.0, 70.0]
    cols = [_mirror_col(c) for c in cols] if mirrored else cols
    located = _locate(image, anatomy, [80.0, 120.0], cols)
    assert located["clock_face"].tolist() == [above, below]


@pytest.mark.parametrize("laterality", ["L", "R"])
@pytest.mark.parametrize("spacing_mm", [(0.1, 0.1), (0.1, 0.2)])
def test_depth_thirds_of_the_nipple_to_chest_wall_distance_on_cc(laterality, spacing_mm):
    image, anatomy, mirrored = _case(laterality, "CC", spacing_mm=spacing_mm)
    # chest wall at col 0 (L) or 119 (R); nipple 90 px from it: thirds end at 30 and 60 px from the nipple
    depths_px = [5.0, 29.0, 31.0, 59.0, 61.0, 89.0, 95.0, -3.0]
    cols = [_NIPPLE[1] - d for d in depths_px]
    cols = [_mirror_col(c) for c in cols] if mirrored else cols
    located = _locate(image, anatomy, [_NIPPLE[0]] * len(cols), cols)
    assert located["depth"].tolist() == ["anterior", "anterior", "middle", "middle", "posterior", "posterior",
                                         "posterior", "anterior"]
    assert np.allclose(located["distance_to_nipple_mm"], np.abs(depths_px) * spacing_mm[1])
    assert np.isnan(located["clock_face"]).all()  # on the axis: neither half


def test_depth_on_mlo_is_measured_to_the_pectoral_line_not_the_image_edge():
    image, anatomy, _ = _case("L", "MLO")
    axis = nipple_axis(image, anatomy)
    a, b = np.asarray(_PECTORAL) * 0.1
    nipple = np.asarray(_NIPPLE) * 0.1
    direction = (b - a) / np.linalg.norm(b - a)
    offset = nipple - a
    expected = abs(direction[0] * offset[1] - direction[1] * offset[0])  # perpendicular distance, mm
    assert axis.length_mm == pytest.approx(expected, rel=1e-12)
    # 0.5 of the way along the perpendicular is the middle third, 0.9 the posterior one
    points = nipple + np.outer([0.5, 0.9], axis.toward_chest * axis.length_mm)
    located = location_columns(points[:, 0] / 0.1, points[:, 1] / 0.1, spacing_mm=(0.1, 0.1), axis=axis)
    assert located["depth"].tolist() == ["middle", "posterior"]
    assert np.allclose(located["distance_to_nipple_mm"], [0.5 * expected, 0.9 * expected])


def test_distance_to_nipple_uses_both_spacings():
    image, anatomy, _ = _case("L", "CC", spacing_mm=(0.05, 0.2))
    located = _locate(image, anatomy, [_NIPPLE[0] + 40.0], [_NIPPLE[1] - 10.0])
    assert located["distance_to_nipple_mm"][0] == pytest.approx(np.hypot(40 * 0.05, 10 * 0.2))


@pytest.mark.parametrize(("laterality", "view"), [("U", "CC"), ("L", "U"), ("L", "SPOT")])
def test_clock_face_is_empty_when_view_and_laterality_do_not_tell(laterality, view):
    image, anatomy, _ = _case(laterality, view)
    located = _locate(image, anatomy, [80.0, 120.0], [70.0, 70.0])
    assert np.isnan(located["clock_face"]).all()
    assert located["depth"].tolist() == ["anterior", "anterior"]  # depth needs no view


def test_upper_lower_on_mlo_needs_no_laterality():
    image, anatomy, _ = _case("U", "MLO")
    assert _locate(image, anatomy, [80.0, 120.0], [70.0, 70.0])["clock_face"].tolist() == [12.0, 6.0]


@pytest.mark.parametrize("nipple", [(np.nan, np.nan), (100.0, 0.0)])
def test_unknown_nipple_or_nipple_on_the_chest_wall_leaves_every_location_column_empty(nipple):
    image, anatomy, _ = _case("L", "CC", nipple=nipple)
    located = _locate(image, anatomy, [80.0], [70.0])
    assert np.isnan(located["clock_face"][0])
    assert located["depth"].tolist() == [""]
    if np.isnan(nipple[0]):
        assert np.isnan(located["distance_to_nipple_mm"][0])


def test_no_positions_give_empty_columns():
    image, anatomy, _ = _case("L", "CC")
    located = _locate(image, anatomy, [], [])
    assert all(len(values) == 0 for values in located.values())
    assert located["depth"].dtype == object


def test_extent_columns_match_find_objects_and_bincount():
    rng = np.random.default_rng(3)
    labels, n = ndimage.label(rng.random((60, 80)) > 0.8)
    extent = extent_columns(labels, n)
    boxes = ndimage.find_objects(labels)
    assert extent["bbox_row_min_px"].tolist() == [box[0].start for box in boxes]
    assert extent["bbox_row_max_px"].tolist() == [box[0].stop for box in boxes]
    assert extent["bbox_col_min_px"].tolist() == [box[1].start for box in boxes]
    assert extent["bbox_col_max_px"].tolist() == [box[1].stop for box in boxes]
    assert extent["area_px"].tolist() == np.bincount(labels.ravel())[1:].tolist()


def test_the_pipeline_tables_carry_consistent_boxes_areas_and_locations():
    import mammo_cv

    phantom = mammo_cv.phantom(spacing_mm=0.2, seed=1)
    result = mammo_cv.analyze(phantom.image)
    calcs, clusters = result.calc_table, result.cluster_table
    assert len(calcs["calc_id"]) > 0 and len(clusters["cluster_id"]) > 0
    assert np.all((calcs["bbox_row_min_px"] <= calcs["row_px"]) & (calcs["row_px"] < calcs["bbox_row_max_px"]))
    assert np.all((calcs["bbox_col_min_px"] <= calcs["col_px"]) & (calcs["col_px"] < calcs["bbox_col_max_px"]))
    assert np.allclose(calcs["area_px"] * phantom.image.pixel_area_mm2, calcs["area_mm2"])
    labels = result.label_image
    assert calcs["area_px"].sum() == np.count_nonzero(labels)
    # the phantom is a left CC: lateral/medial only, and every position has a depth
    assert set(np.unique(calcs["clock_face"][np.isfinite(calcs["clock_face"])])) <= {3.0, 9.0}
    assert set(clusters["depth"]) <= {"anterior", "middle", "posterior"}
    nipple_mm = np.asarray(result.anatomy.nipple_rc) * np.asarray(phantom.image.spacing_mm)
    assert np.allclose(clusters["distance_to_nipple_mm"],
                       np.hypot(clusters["row_mm"] - nipple_mm[0], clusters["col_mm"] - nipple_mm[1]))
