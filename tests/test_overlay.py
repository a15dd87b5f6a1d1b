"""Overlay PNGs: colours at the calcifications, display window, scale bar, size limit, phantom truth."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from mammo_cv.config.settings import Config
from mammo_cv.core.labels import LABELS
from mammo_cv.core.types import Anatomy, MammoImage
from mammo_cv.detection.detect import Detections
from mammo_cv.pipeline.result import Result
from mammo_cv.review.layout import intersects
from mammo_cv.review.overlay import (
    LABEL_COLOURS,
    OverlayConfig,
    draw_overlay,
    draw_overlay_layout,
    encode_overlay,
    encode_png,
    prepare_overlay,
    render_overlay,
    save_overlay,
)
from mammo_cv.synthetic.phantoms import phantom

CONFIG = OverlayConfig()


def make_result(pixels, *, label_image=None, calc_labels=(), cluster_id=None, clusters=None,
                spacing_mm=(0.1, 0.1), mask=None, nipple_rc=None, display_window=None,
                chest_wall_side="left") -> Result:
    """A Result assembled by hand: centroids of ``label_image`` objects become the table rows."""
    pixels = np.asarray(pixels, np.float32)
    shape = pixels.shape
    label_image = np.zeros(shape, np.int32) if label_image is None else label_image
    n = len(calc_labels)
    ids = np.arange(1, n + 1)
    rows, cols = np.nonzero(label_image)
    counts = np.bincount(label_image[rows, cols], minlength=n + 1)[1:]
    row_px = np.bincount(label_image[rows, cols], weights=rows, minlength=n + 1)[1:] / np.maximum(counts, 1)
    col_px = np.bincount(label_image[rows, cols], weights=cols, minlength=n + 1)[1:] / np.maximum(counts, 1)
    calc_table = {"calc_id": ids.astype(np.int32), "row_px": row_px, "col_px": col_px,
                  "label": np.array(calc_labels, object),
                  "cluster_id": np.full(n, -1, np.int64) if cluster_id is None else np.asarray(cluster_id)}
    cluster_table = clusters or {"cluster_id": np.zeros(0, np.int64), "row_px": np.zeros(0), "col_px": np.zeros(0),
                                 "label": np.zeros(0, object), "score": np.zeros(0)}
    image = MammoImage(pixels, spacing_mm, "argument", laterality="L", view="CC", display_window=display_window)
    mask = np.ones(shape, bool) if mask is None else mask
    anatomy = Anatomy(mask, chest_wall_side, np.zeros(shape, bool), None,
                      nipple_rc if nipple_rc is not None else (shape[0] / 2, shape[1] - 5))
    detections = Detections(label_image=label_image, confidence=np.ones(n, np.float32),
                            peak_snr=np.ones(n, np.float32), area_px=counts.astype(np.int64),
                            peak_rc=np.zeros((n, 2), np.int64), elongation=np.ones(n, np.float32))
    return Result(image=image, anatomy=anatomy, detections=detections, calc_table=calc_table,
                  cluster_table=cluster_table, vascular_chains={}, config=Config())


def disks(shape, centres, radius_px):
    """Label image with disk k (1-based) at centres[k-1]."""
    labels = np.zeros(shape, np.int32)
    rr, cc = np.mgrid[:shape[0], :shape[1]]
    for k, (r, c) in enumerate(centres, start=1):
        labels[(rr - r) ** 2 + (cc - c) ** 2 <= radius_px ** 2] = k
    return labels


def colour_mask(rgb, colour):
    return np.all(rgb == np.array(colour, np.uint8), axis=-1)


def display_sizes(long_side):
    line = max(1, round(CONFIG.line_px_per_1000 * long_side / 1000))
    gap = max(2, round(CONFIG.ring_gap_px_per_1000 * long_side / 1000))
    return line, gap


@pytest.mark.parametrize("max_side_px", [2000, 300])
def test_each_calcification_is_outlined_in_its_class_colour_outside_the_object(max_side_px):
    shape = (600, 480)
    centres = [(300 + 100 * (k // 3), 140 + 110 * (k % 3)) for k in range(len(LABELS))]  # below the legend
    radius = 6
    result = make_result(np.full(shape, 100.0), label_image=disks(shape, centres, radius), calc_labels=LABELS,
                         display_window=(0.0, 1000.0))
    rgb = render_overlay(result, max_side_px=max_side_px)
    scale = rgb.shape[0] / shape[0]
    line, gap = display_sizes(max(rgb.shape[:2]))
    reach = int(np.ceil(radius * scale)) + gap + line + 2
    for (r, c), label in zip(centres, LABELS):
        y, x = int((r + 0.5) * scale - 0.5), int((c + 0.5) * scale - 0.5)
        window = rgb[y - reach:y + reach + 1, x - reach:x + reach + 1]
        assert colour_mask(window, LABEL_COLOURS[label]).sum() >= 4 * gap, label
        others = [name for name in LABELS if name != label]
        assert not any(colour_mask(window, LABEL_COLOURS[name]).any() for name in others), label
        # the object itself is not painted over: its centre keeps the windowed grey (100 -> 26)
        assert tuple(rgb[y, x]) == (26, 26, 26)


def test_a_subpixel_calcification_still_gets_a_ring():
    shape = (2000, 1600)
    labels = np.zeros(shape, np.int32)
    labels[1000, 800] = 1  # one stored pixel; 1/4 display pixel at max_side 500
    result = make_result(np.zeros(shape), label_image=labels, calc_labels=["punctate"], display_window=(0.0, 1.0))
    rgb = render_overlay(result, max_side_px=500)
    ring = colour_mask(rgb, LABEL_COLOURS["punctate"])
    ring[:150] = False  # the legend's swatch
    ys, xs = np.nonzero(ring)
    _, gap = display_sizes(500)
    # the ring surrounds the point at about the gap radius, on every side
    assert ys.min() < 250 - gap / 2 and ys.max() > 250 + gap / 2 - 1
    assert xs.min() < 200 - gap / 2 and xs.max() > 200 + gap / 2 - 1
    assert np.hypot(ys - 249.875, xs - 199.875).max() <= gap + 2


def test_voi_display_window_maps_linearly_and_clips():
    shape = (400, 400)  # legend top right, scale bar bottom right: patches on the left
    pixels = np.zeros(shape, np.float32)
    pixels[20:60, 20:60] = 50.0    # below the window
    pixels[20:60, 80:120] = 150.0  # a quarter of the way
    pixels[80:120, 20:60] = 250.0  # three quarters
    pixels[80:120, 80:120] = 900.0  # above
    result = make_result(pixels, display_window=(100.0, 300.0), nipple_rc=(390, 390))
    rgb = render_overlay(result, max_side_px=2000)
    assert tuple(rgb[40, 40]) == (0, 0, 0)
    assert tuple(rgb[40, 100]) == (64, 64, 64)     # 255 * 0.25 = 63.75
    assert tuple(rgb[100, 40]) == (191, 191, 191)  # 255 * 0.75 = 191.25
    assert tuple(rgb[100, 100]) == (255, 255, 255)


def test_percentile_window_inside_the_breast_when_the_file_gives_none():
    shape = (400, 400)
    mask = np.zeros(shape, bool)
    mask[:, :250] = True
    ramp = np.linspace(0.0, 1000.0, 250 * 400, dtype=np.float32).reshape(400, 250)
    pixels = np.full(shape, 5000.0, np.float32)  # outside the breast: ignored by the window
    pixels[mask] = ramp.ravel()
    result = make_result(pixels, mask=mask, nipple_rc=(390, 390))
    rgb = render_overlay(result, max_side_px=2000)
    low, high = np.percentile(ramp, CONFIG.window_percentiles)
    assert low == pytest.approx(5.0, abs=0.1) and high == pytest.approx(999.0, abs=0.1)
    row, col = 200, 0  # ramp value 200 * 250 / (250*400 - 1) * 1000 ~ 500.0
    value = float(pixels[row, col])
    linear = round(255 * (value - low) / (high - low))
    assert int(rgb[row, col, 0]) == round(255 * (linear / 255) ** CONFIG.percentile_gamma)
    assert tuple(rgb[300, 300]) == (255, 255, 255)  # outside the mask, above the window: clipped


@pytest.mark.parametrize("shape, max_side_px, expected", [
    ((500, 300), 200, (200, 120)),
    ((300, 500), 200, (120, 200)),
    ((4096, 3328), 2000, (2000, 1625)),
    ((300, 250), 2000, (300, 250)),  # never enlarged
])
def test_max_side_px_is_respected_and_aspect_kept(shape, max_side_px, expected):
    result = make_result(np.zeros(shape), nipple_rc=(shape[0] / 2, shape[1] - 5))
    rgb, layout = draw_overlay_layout(prepare_overlay(result, max_side_px=max_side_px), result.calc_table,
                                      result.cluster_table)
    assert layout.image == (0, 0, expected[1], expected[0])
    assert layout.panel[:2] == (expected[1], 0) and layout.panel[3] == expected[0]
    assert rgb.shape == (expected[0], layout.panel[2], 3) and rgb.dtype == np.uint8
    np.testing.assert_array_equal(rgb, render_overlay(result, max_side_px=max_side_px))


def bar_length_px(rgb, box):
    """Length of the longest run of pure white inside the scale bar's box."""
    x0, y0, x1, y1 = box
    return int(np.all(rgb[y0:y1, x0:x1] == 255, axis=-1).sum(axis=1).max())


@pytest.mark.parametrize("shape, spacing_mm, max_side_px", [
    ((3000, 2400), (0.07, 0.07), 2000),
    ((2400, 1900), (0.1, 0.1), 1000),
    ((1024, 1024), (0.2, 0.2), 2000),
    ((1200, 1000), (0.15, 0.05), 800),  # anisotropic: the bar is horizontal, so column spacing counts
])
def test_scale_bar_length_matches_its_mm_at_display_scale(shape, spacing_mm, max_side_px):
    result = make_result(np.zeros(shape), spacing_mm=spacing_mm, nipple_rc=(shape[0] / 2, 2),
                         display_window=(0.0, 1.0))
    rgb, layout = draw_overlay_layout(prepare_overlay(result, max_side_px=max_side_px), result.calc_table,
                                      result.cluster_table)
    width = layout.image[2]
    mm_per_display_px = spacing_mm[1] * shape[1] / width
    pad = layout.scale_bar[0] - layout.panel[0]
    room = min(layout.panel[2] - layout.panel[0] - 2 * pad, int(0.2 * width))
    candidates = [mm for mm in (1, 2, 5, 10, 20, 50, 100) if mm / mm_per_display_px <= room]
    length_mm = candidates[-1]
    assert bar_length_px(rgb, layout.scale_bar) == round(length_mm / mm_per_display_px)
    assert bar_length_px(rgb, layout.scale_bar) > room / 2.5  # the 1-2-5 ladder never leaves it shorter
    assert layout.image[2] <= layout.scale_bar[0] and layout.scale_bar[2] <= layout.panel[2]


@pytest.mark.parametrize("side", ["left", "right"])
def test_legend_swatches_sit_in_the_side_panel_never_on_the_image(side):
    shape = (800, 600)
    result = make_result(np.zeros(shape), chest_wall_side=side, nipple_rc=(400, 300), display_window=(0, 1))
    rgb, layout = draw_overlay_layout(prepare_overlay(result), result.calc_table, result.cluster_table)
    x0, y0, x1, y1 = layout.legend
    assert layout.panel[0] == layout.image[2] == 600 <= x0 and x1 <= layout.panel[2]
    for label in LABELS:
        swatch = colour_mask(rgb, LABEL_COLOURS[label])
        assert swatch[y0:y1, x0:x1].sum() >= 25 and swatch.sum() == swatch[y0:y1, x0:x1].sum(), label


def test_nipple_marker_is_white_at_the_nipple():
    result = make_result(np.zeros((400, 300)), nipple_rc=(210.0, 150.0), display_window=(0, 1))
    rgb = render_overlay(result)
    assert tuple(rgb[210, 150]) == (255, 255, 255)
    assert tuple(rgb[210, 154]) == (255, 255, 255) and tuple(rgb[214, 150]) == (255, 255, 255)
    assert tuple(rgb[214, 154]) == (0, 0, 0)  # a cross, not a blob


def test_cluster_hull_is_padded_around_member_centroids():
    shape = (800, 800)
    centres = [(400, 300), (420, 340), (380, 360), (430, 380)]
    labels = disks(shape, centres, 2)
    clusters = {"cluster_id": np.array([0]), "row_px": np.array([407.5]), "col_px": np.array([345.0]),
                "label": np.array(["suspicious_cluster"], object), "score": np.array([0.87])}
    result = make_result(np.zeros(shape), label_image=labels, calc_labels=["punctate"] * 4,
                         cluster_id=np.zeros(4, np.int64), clusters=clusters, spacing_mm=(0.1, 0.1),
                         nipple_rc=(700, 700), display_window=(0, 1))
    rgb = render_overlay(result)
    pad_px = CONFIG.hull_pad_mm / 0.1
    ys, xs = np.nonzero(colour_mask(rgb, LABEL_COLOURS["suspicious_cluster"]))
    below_text = ys >= 380 - pad_px + 3
    hull = cv2.convexHull(np.array([(c, r) for r, c in centres], np.float32))
    distance = np.array([-cv2.pointPolygonTest(hull, (float(x), float(y)), True)
                         for x, y in zip(xs[below_text], ys[below_text])])
    assert distance.size > 100
    assert np.all(np.abs(distance - pad_px) <= 2.5)  # 24-gon of the pad circle: within 1 % of pad, + line width
    text_pixels = (~below_text).sum()
    assert text_pixels > 50  # "suspicious_cluster 0.87" written above the hull


def test_missing_labels_raise_keyerror_and_unknown_labels_valueerror():
    shape = (100, 100)
    result = make_result(np.zeros(shape), label_image=disks(shape, [(50, 50)], 3), calc_labels=["macro"])
    without = dataclasses.replace(result, calc_table={k: v for k, v in result.calc_table.items() if k != "label"})
    with pytest.raises(KeyError, match="label"):
        render_overlay(without)
    wrong = dataclasses.replace(result, calc_table={**result.calc_table, "label": np.array(["benign"], object)})
    with pytest.raises(ValueError, match="benign"):
        render_overlay(wrong)
    with pytest.raises(ValueError, match="max_side_px"):
        render_overlay(result, max_side_px=10)


def test_save_overlay_writes_the_rendered_png_atomically(tmp_path):
    shape = (300, 240)
    result = make_result(np.linspace(0, 1, shape[0] * shape[1]).reshape(shape), display_window=(0, 1),
                         label_image=disks(shape, [(100, 100)], 4), calc_labels=["vascular"])
    path = save_overlay(result, tmp_path / "sub" / "x.png", max_side_px=200)
    assert path == tmp_path / "sub" / "x.png"
    written = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(written, render_overlay(result, max_side_px=200))
    assert sorted(p.name for p in path.parent.iterdir()) == ["x.png"]
    with pytest.raises(ValueError, match="png"):
        save_overlay(result, tmp_path / "x.jpg")


@pytest.mark.parametrize("max_side_px", [2000, 600])
def test_phantom_truth_calcifications_are_drawn_in_their_truth_colours(max_side_px):
    ph = phantom(spacing_mm=0.2, seed=4)
    calcs = ph.truth["calcifications"]
    n = len(calcs)
    labels = np.asarray(ph.calc_labels).copy()
    assert [c["id"] for c in calcs] == list(range(1, n + 1))
    result = make_result(ph.image.pixels, label_image=labels, calc_labels=[c["label"] for c in calcs],
                         mask=np.asarray(ph.breast_mask), nipple_rc=ph.truth["nipple_rc"])
    rgb = render_overlay(result, max_side_px=max_side_px)
    scale = rgb.shape[0] / ph.image.shape[0]
    line, gap = display_sizes(max(rgb.shape[:2]))
    rows = np.array([c["row_px"] for c in calcs])
    cols = np.array([c["col_px"] for c in calcs])
    checked = 0
    for k, calc in enumerate(calcs):
        # outlines of calcifications closer than two ring radii merge; check the isolated ones
        others = np.hypot(rows - rows[k], cols - cols[k]) * scale
        others[k] = np.inf
        size_px = calc["length_mm"] / 0.2 * scale
        if others.min() < 2 * (gap + line) + size_px:
            continue
        y, x = int(rows[k] * scale), int(cols[k] * scale)
        reach = int(size_px / 2) + gap + line + 2
        window = rgb[max(y - reach, 0):y + reach + 1, max(x - reach, 0):x + reach + 1]
        assert colour_mask(window, LABEL_COLOURS[calc["label"]]).sum() >= 2 * gap, calc
        checked += 1
    assert checked >= n // 3, (checked, n)


def test_labels_of_neighbouring_clusters_do_not_overlap():
    shape = (800, 800)
    centres = [(400, 300), (410, 330), (400, 360), (400, 380), (410, 400), (405, 430)]
    clusters = {"cluster_id": np.array([0, 1]), "row_px": np.array([403.3, 405.0]),
                "col_px": np.array([330.0, 403.3]), "label": np.array(["suspicious_cluster"] * 2, object),
                "score": np.array([0.87, 0.40])}
    result = make_result(np.zeros(shape), label_image=disks(shape, centres, 2), calc_labels=["punctate"] * 6,
                         cluster_id=np.array([0, 0, 0, 1, 1, 1]), clusters=clusters, nipple_rc=(700, 700),
                         display_window=(0, 1))
    rgb, layout = draw_overlay_layout(prepare_overlay(result), result.calc_table, result.cluster_table)
    assert sorted(layout.caption_cluster_ids) == [0, 1]
    first, second = layout.captions
    assert not intersects(first, second)
    for x0, y0, x1, y1 in layout.captions:  # each is drawn: light text on its dark box
        assert (rgb[y0:y1, x0:x1].min(axis=-1) >= 200).sum() > 20


def test_a_base_prepared_before_classification_draws_the_labelled_overlay():
    """prepare_overlay reads no label: a base made from the unlabelled phantom result, drawn with
    the truth labels, gives the PNG of the labelled result, and it keeps no stored-grid array."""
    ph = phantom(spacing_mm=0.2, seed=4)
    calcs = ph.truth["calcifications"]
    labelled = make_result(ph.image.pixels, label_image=np.asarray(ph.calc_labels).copy(),
                           calc_labels=[c["label"] for c in calcs], mask=np.asarray(ph.breast_mask),
                           nipple_rc=ph.truth["nipple_rc"])
    unlabelled = dataclasses.replace(
        labelled, calc_table={k: v for k, v in labelled.calc_table.items() if k != "label"},
        cluster_table={k: v for k, v in labelled.cluster_table.items() if k not in ("label", "score")})
    base = prepare_overlay(unlabelled, max_side_px=600)
    rgb = draw_overlay(base, labelled.calc_table, labelled.cluster_table)
    assert encode_png(rgb) == encode_overlay(labelled, max_side_px=600)
    assert len({tuple(c) for c in rgb.reshape(-1, 3)} & {LABEL_COLOURS[c["label"]] for c in calcs}) >= 3
    arrays = [v for v in vars(base).values() if isinstance(v, np.ndarray)]
    assert base.grey.shape == (rgb.shape[0], base.display.shape[1]) == (
        600, round(ph.image.shape[1] * 600 / ph.image.shape[0]))
    assert sum(a.nbytes for a in arrays) < ph.image.pixels.nbytes / 4
    # the base holds each calcification's display pixels: every truth object is there
    assert set(np.unique(base.calc_pixel_id)) == {c["id"] for c in calcs}
