"""Tests for mammo_cv.review.notebook: summary line, plot axes and HTML thumbnail of a hand-made result."""

from __future__ import annotations

import base64
import dataclasses
import re

import cv2
import numpy as np
import pytest
from test_overlay import disks, make_result

from mammo_cv.review.notebook import THUMBNAIL_SIDE_PX, plot_result, result_html, summary_text
from mammo_cv.review.overlay import render_overlay

SHAPE = (512, 384)


def two_calcs():
    return make_result(np.full(SHAPE, 100.0), label_image=disks(SHAPE, [(200, 100), (300, 200)], 4),
                       calc_labels=("punctate", "macro"))


def test_summary_names_the_file_or_the_image_id():
    result = two_calcs()
    assert summary_text(result) == "image: L CC, 2 calcifications, 0 clusters"
    named = dataclasses.replace(result, image=dataclasses.replace(result.image, source_path="in/scan 1.dcm"))
    assert summary_text(named) == "scan 1.dcm: L CC, 2 calcifications, 0 clusters"


def test_html_has_the_thumbnail_and_one_row_per_label():
    result = two_calcs()
    text = result_html(result)
    data = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text).group(1)
    thumbnail = cv2.imdecode(np.frombuffer(base64.b64decode(data), np.uint8), cv2.IMREAD_COLOR)
    # 512 x 384 reduced to a 384-px long side, and the legend panel beside it
    assert thumbnail.shape[0] == THUMBNAIL_SIDE_PX and thumbnail.shape[1] > 288
    np.testing.assert_array_equal(thumbnail[:, :, ::-1], render_overlay(result, max_side_px=THUMBNAIL_SIDE_PX))
    rows = re.findall(r"<tr><td>(\w+)</td><td>(\w+)</td><td>(\d+)</td></tr>", text)
    assert rows == [("calcifications", "macro", "1"), ("calcifications", "punctate", "1")]
    assert text.startswith("<div><b>image: L CC, 2 calcifications, 0 clusters</b>")


def test_plot_puts_the_overlay_on_the_given_axes_in_stored_px():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    try:
        result = two_calcs()
        assert plot_result(result, ax, max_side_px=200) is ax
        low, high = ax.get_xlim()  # stored px: the mammogram's columns, then the legend panel
        rgb = render_overlay(result, max_side_px=200)
        assert low == -0.5 and high == pytest.approx(SHAPE[1] * rgb.shape[1] / 150 - 0.5)
        assert ax.get_ylim() == (SHAPE[0] - 0.5, -0.5)
        np.testing.assert_array_equal(np.asarray(ax.images[0].get_array()), render_overlay(result, max_side_px=200))
        assert ax.get_title() == "image: L CC, 2 calcifications, 0 clusters"
    finally:
        plt.close(fig)
