"""Tests for mammo_cv.tables.frames: DataFrame views with the schema's columns, order and dtypes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mammo_cv.tables.frames import image_frame, to_dataframe

SCHEMA = {"image_id": np.dtype(object), "calc_id": np.dtype(np.int32), "area_mm2": np.dtype(np.float64),
          "label": np.dtype(object)}


def test_to_dataframe_follows_the_schema():
    frame = to_dataframe({"label": np.array(["macro", "other"], object), "area_mm2": np.array([1, 2]),
                          "calc_id": np.array([1.0, 2.0]), "image_id": np.array(["a", "a"], object)}, SCHEMA)
    assert list(frame.columns) == list(SCHEMA)
    assert [str(t) for t in frame.dtypes] == ["string", "int32", "float64", "string"]
    assert frame["area_mm2"].tolist() == [1.0, 2.0]


def test_image_frame_fills_the_image_id_and_drops_other_columns():
    frame = image_frame({"calc_id": np.array([1, 2, 3]), "area_mm2": np.array([0.5, np.nan, 2.0]),
                         "label": np.array(["macro", "punctate", "other"], object), "extra": np.zeros(3)},
                        SCHEMA, "img-7")
    expected = pd.DataFrame({"image_id": pd.array(["img-7"] * 3, dtype="string"),
                             "calc_id": np.array([1, 2, 3], np.int32), "area_mm2": [0.5, np.nan, 2.0],
                             "label": pd.array(["macro", "punctate", "other"], dtype="string")})
    pd.testing.assert_frame_equal(frame, expected)


def test_an_empty_table_gives_every_column():
    frame = image_frame({name: np.zeros(0, dtype) for name, dtype in SCHEMA.items() if name != "image_id"},
                        SCHEMA, "img")
    assert frame.shape == (0, 4)
    assert [str(t) for t in frame.dtypes] == ["string", "int32", "float64", "string"]
