"""The notebook-facing API of ``Result``: DataFrames, image id, to_dict, overlay, plot, HTML."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import ndimage

import mammo_cv
from mammo_cv.describe.vascular import empty_chain_table
from mammo_cv.review.overlay import prepare_overlay
from mammo_cv.tables import CALCIFICATION_CSV_COLUMNS, CLUSTER_CSV_COLUMNS, empty_table

SAMPLES = Path(__file__).resolve().parents[1] / "sample_dicoms"
SAMPLE = SAMPLES / "s01_LCC_proc_m2_explicit.dcm"


@pytest.fixture(scope="module")
def ph():
    return mammo_cv.phantom(spacing_mm=0.2, seed=1)


@pytest.fixture(scope="module")
def result(ph):
    return mammo_cv.analyze(ph.image)


@pytest.fixture(scope="module")
def empty_result(result):
    from mammo_cv.describe import CLUSTER_COLUMNS
    from mammo_cv.describe.calcifications import CALC_COLUMNS

    calc_columns = {name: dtype for name, dtype in CALCIFICATION_CSV_COLUMNS.items() if name != "image_id"}
    assert set(CALC_COLUMNS) <= set(calc_columns)
    cluster_columns = {name: dtype for name, dtype in CLUSTER_CSV_COLUMNS.items() if name != "image_id"}
    assert set(CLUSTER_COLUMNS) <= set(cluster_columns)
    detections = dataclasses.replace(result.detections, label_image=np.zeros_like(result.label_image))
    return dataclasses.replace(result, detections=detections, calc_table=empty_table(calc_columns),
                               cluster_table=empty_table(cluster_columns), vascular_chains=empty_chain_table())


def _assert_schema(frame: pd.DataFrame, columns: dict[str, np.dtype]) -> None:
    """Columns in schema order; numbers at the schema dtype, text as pandas' string dtype
    (``object`` before pandas 3, ``str`` from pandas 3)."""
    assert list(frame.columns) == list(columns)
    for name, dtype in columns.items():
        if dtype.kind == "O":
            assert pd.api.types.is_string_dtype(frame[name].dtype), name
        else:
            assert frame[name].dtype == dtype, name


# --- DataFrames ---------------------------------------------------------------------------------


def test_calcifications_frame_has_csv_schema_and_the_table_values(result):
    frame = result.calcifications
    _assert_schema(frame, CALCIFICATION_CSV_COLUMNS)
    assert len(frame) == len(result.calc_table["calc_id"]) > 0
    for name in CALCIFICATION_CSV_COLUMNS:
        if name != "image_id":
            np.testing.assert_array_equal(frame[name].to_numpy(), result.calc_table[name])
    assert (frame["image_id"] == "image").all()


def test_calcification_rows_match_the_label_image(result):
    frame = result.calcifications
    ids = frame["calc_id"].to_numpy()
    np.testing.assert_array_equal(np.unique(result.label_image[result.label_image > 0]), np.sort(ids))
    centroids = np.asarray(ndimage.center_of_mass(result.label_image > 0, result.label_image, ids))
    np.testing.assert_allclose(centroids, frame[["row_px", "col_px"]].to_numpy(), atol=1e-6)
    np.testing.assert_allclose(frame["row_mm"], frame["row_px"] * result.image.spacing_mm[0])


def test_clusters_frame_counts_its_members(result):
    clusters = result.clusters
    _assert_schema(clusters, CLUSTER_CSV_COLUMNS)
    assert len(clusters) > 0
    calcs = result.calcifications
    for row in clusters.itertuples():
        members = calcs[calcs["cluster_id"] == row.cluster_id]
        assert len(members) == row.n_calcs
        assert row.row_px == pytest.approx(members["row_px"].mean())


def test_empty_result_gives_empty_frames_with_every_column(empty_result):
    _assert_schema(empty_result.calcifications, CALCIFICATION_CSV_COLUMNS)
    _assert_schema(empty_result.clusters, CLUSTER_CSV_COLUMNS)
    assert len(empty_result.calcifications) == len(empty_result.clusters) == 0
    record = empty_result.to_dict()
    assert record["calcifications"] == record["clusters"] == record["vascular_chains"] == []
    assert record["counts"] == {"calcifications": {}, "clusters": {}}


def test_frames_equal_the_batch_tables_of_the_same_file():
    result = mammo_cv.analyze(SAMPLE)
    batch = mammo_cv.analyze_batch([SAMPLE], workers=1, progress=False)
    assert batch.images["image_id"].tolist() == [result.image_id]
    assert len(result.calcifications) > 0 and len(result.clusters) > 0
    pd.testing.assert_frame_equal(result.calcifications, batch.calcifications)
    pd.testing.assert_frame_equal(result.clusters, batch.clusters)


# --- image id -----------------------------------------------------------------------------------


def test_image_id_is_the_sop_instance_uid_made_safe():
    result = mammo_cv.analyze(SAMPLE)
    assert result.image_id == re.sub(r"[^A-Za-z0-9._-]+", "_", result.image.sop_instance_uid)


def test_raster_image_id_is_the_batch_id_of_the_file(tmp_path, ph):
    import cv2

    raster = tmp_path / "odd name (1).png"
    cv2.imwrite(str(raster), np.clip(ph.image.pixels / 16, 0, 255).astype(np.uint8))
    result = mammo_cv.analyze(raster, pixel_spacing_mm=0.2)
    batch = mammo_cv.analyze_batch([raster], workers=1, progress=False, pixel_spacing_mm=0.2)
    assert result.image_id == batch.images["image_id"].item() == "odd_name_1_.png"


# --- to_dict ------------------------------------------------------------------------------------


def test_to_dict_is_strict_json_with_the_result_values(result):
    record = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert record["mammo_cv_version"] == mammo_cv.__version__
    assert record["image"]["spacing_mm"] == [0.2, 0.2]
    assert record["image"]["shape_px"] == list(result.image.shape)
    assert record["image"]["laterality"] == "L" and record["image"]["view"] == "CC"
    assert record["anatomy"]["chest_wall_side"] == result.anatomy.chest_wall_side.value
    assert record["anatomy"]["nipple_rc_px"] == pytest.approx(list(result.anatomy.nipple_rc))
    breast_mm2 = np.count_nonzero(result.anatomy.breast_mask) * 0.04
    assert record["anatomy"]["breast_area_mm2"] == pytest.approx(breast_mm2)
    assert record["config"]["digest"] == result.config.digest()
    assert record["config"]["rules_digest"] == mammo_cv.load_rules().digest

    frame = result.calcifications
    assert [row["calc_id"] for row in record["calcifications"]] == frame["calc_id"].tolist()
    for row, (_, expected) in zip(record["calcifications"], frame.iterrows()):
        for column, value in row.items():
            if value is None:
                assert pd.isna(expected[column]), column
            elif isinstance(value, float):
                assert value == pytest.approx(expected[column]), column
            else:
                assert value == expected[column], column
    assert len(record["clusters"]) == len(result.clusters)
    assert len(record["vascular_chains"]) == len(result.vascular_chains["chain_id"])


def test_label_counts_add_up_to_the_tables(result):
    counts = result.label_counts()
    assert counts["calcifications"] == result.calcifications["label"].value_counts().sort_index().to_dict()
    assert counts["clusters"] == result.clusters["label"].value_counts().sort_index().to_dict()
    assert sum(counts["calcifications"].values()) == len(result.calcifications)


# --- overlay, plot, notebook display -------------------------------------------------------------


def test_overlay_is_rgb_uint8_and_bounded(result):
    rgb = result.overlay(max_side_px=300)
    assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3
    rows, cols = result.image.shape
    mammogram = prepare_overlay(result, max_side_px=300).grey  # the PNG adds the legend panel on its right
    assert max(mammogram.shape) == 300 and rgb.shape[0] == mammogram.shape[0] and rgb.shape[1] > mammogram.shape[1]
    assert mammogram.shape[0] / mammogram.shape[1] == pytest.approx(rows / cols, rel=0.01)


def test_save_overlay_writes_the_overlay(result, tmp_path):
    import cv2

    path = tmp_path / "overlay.png"
    assert result.save_overlay(path, max_side_px=300) == path
    written = cv2.imread(str(path), cv2.IMREAD_COLOR)[:, :, ::-1]
    np.testing.assert_array_equal(written, result.overlay(max_side_px=300))


def test_plot_draws_the_overlay_in_stored_pixel_coordinates(result):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    try:
        assert result.plot(ax) is ax
        rows, cols = result.image.shape
        shown = np.asarray(ax.images[0].get_array())
        np.testing.assert_array_equal(shown, result.overlay())
        mammogram_width = prepare_overlay(result).grey.shape[1]  # the legend panel follows column cols - 0.5
        assert ax.get_xlim() == pytest.approx((-0.5, cols * shown.shape[1] / mammogram_width - 0.5))
        assert ax.get_ylim() == (rows - 0.5, -0.5)  # row 0 at the top, as stored
        assert f"{len(result.calcifications)} calcifications" in ax.get_title()
    finally:
        plt.close(fig)


def test_repr_html_has_a_small_png_thumbnail_and_the_counts(result):
    import cv2

    text = result._repr_html_()
    data = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text).group(1)
    thumbnail = cv2.imdecode(np.frombuffer(base64.b64decode(data), np.uint8), cv2.IMREAD_COLOR)
    assert max(prepare_overlay(result, max_side_px=384).grey.shape) == 384 == thumbnail.shape[0]
    for kind, counts in result.label_counts().items():
        for label, n in counts.items():
            assert f"<td>{kind}</td><td>{label}</td><td>{n}</td>" in text


def test_repr_html_escapes_the_file_name(result):
    named = dataclasses.replace(result, image=dataclasses.replace(result.image, source_path="in/<b>&x.dcm"))
    text = named._repr_html_()
    assert "<b>&x" not in text and "&lt;b&gt;&amp;x.dcm" in text


def test_repr_is_one_line_with_the_counts(result):
    text = repr(result)
    assert "\n" not in text
    assert f"{len(result.calcifications)} calcifications, {len(result.clusters)} clusters" in text
