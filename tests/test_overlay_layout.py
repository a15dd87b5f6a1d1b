"""Overlay layout from the drawn boxes (samples), captions, display window and pixel privacy."""

from __future__ import annotations

import itertools
from pathlib import Path

import cv2
import numpy as np
import pydicom
import pytest
from test_overlay import disks, make_result

import mammo_cv
from mammo_cv.core.types import MammoImage
from mammo_cv.io import load_image
from mammo_cv.review.layout import intersects, place_box
from mammo_cv.review.notebook import THUMBNAIL_SIDE_PX
from mammo_cv.review.overlay import caption_text, draw_overlay_layout, prepare_overlay
from mammo_cv.review.privacy import blanking_reason, text_outside_breast
from mammo_cv.synthetic.phantoms import phantom

SAMPLES = sorted((Path(__file__).resolve().parents[1] / "sample_dicoms").glob("*.dcm"))


def canvas_mask(mask: np.ndarray, layout) -> np.ndarray:
    """A stored-grid mask at display size, on the overlay's canvas (panel columns all False)."""
    width, height = layout.image[2], layout.image[3]
    small = cv2.resize(mask.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST) > 0
    full = np.zeros((height, layout.panel[2]), bool)
    full[:, :width] = small
    return full


def under_captions(layout) -> np.ndarray:
    """True under the caption boxes (drawn after blanking, they may lie outside the breast)."""
    mask = np.zeros((layout.image[3], layout.panel[2]), bool)
    for x0, y0, x1, y1 in layout.captions:
        mask[y0:y1, x0:x1] = True
    return mask


def covered(mask: np.ndarray, box) -> int:
    x0, y0, x1, y1 = box
    return int(mask[y0:y1, x0:x1].sum())


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_sample_legend_covers_no_label_or_breast_and_captions_do_not_intersect(path):
    result = mammo_cv.analyze(path)
    found = text_outside_breast(result.image.pixels, result.anatomy.breast_mask, result.image.spacing_mm)
    for max_side_px in (2000, THUMBNAIL_SIDE_PX):  # the PNG of a run, and the notebook thumbnail
        base = prepare_overlay(result, max_side_px=max_side_px)
        rgb, layout = draw_overlay_layout(base, result.calc_table, result.cluster_table)
        breast = canvas_mask(result.anatomy.breast_mask, layout)
        labels = canvas_mask(found, layout)
        assert labels.sum() > 20  # the burned-in "L CC" marker is found, so the check below can fail
        for box in (layout.legend, layout.scale_bar):
            assert covered(breast, box) == 0 and covered(labels, box) == 0
        assert len(layout.captions) == len(result.cluster_table["cluster_id"]) >= 3
        for a, b in itertools.combinations(layout.captions + (layout.legend, layout.scale_bar), 2):
            assert not intersects(a, b), (max_side_px, a, b)
        for box in layout.captions:
            assert intersects(box, layout.image) and not intersects(box, layout.panel)
        # the marker is text outside the breast: everything outside the breast is blanked before drawing
        assert base.blanking == "text_outside_breast"
        assert not base.grey[~breast[:, :layout.image[2]]].any()
        assert not rgb[labels & ~under_captions(layout)].any()


def test_a_crowd_of_clusters_gets_captions_that_never_intersect():
    shape = (600, 600)
    centres = [(150 + 40 * (k // 5), 150 + 60 * (k % 5)) for k in range(20)]
    n = len(centres)
    clusters = {"cluster_id": np.arange(n), "row_px": np.array([c[0] for c in centres], float),
                "col_px": np.array([c[1] for c in centres], float),
                "label": np.array(["suspicious_cluster"] * n, object), "score": np.linspace(0.5, 1.0, n)}
    result = make_result(np.zeros(shape), label_image=disks(shape, centres, 2), calc_labels=["punctate"] * n,
                         cluster_id=np.arange(n), clusters=clusters, display_window=(0, 1))
    _, layout = draw_overlay_layout(prepare_overlay(result), result.calc_table, result.cluster_table)
    assert len(layout.captions) == n
    assert not any(intersects(a, b) for a, b in itertools.combinations(layout.captions, 2))


def test_place_box_gives_none_when_nothing_is_free():
    bounds = (0, 0, 100, 20)
    assert place_box((50, 10), (0, 0, 10, 10), bounds, taken=[bounds], avoid=[], gap=2) is None
    assert place_box((150, 10), (0, 0, 10, 10), bounds, taken=[], avoid=[], gap=2) is None
    box = place_box((50, 10), (40, 5, 60, 15), bounds, taken=[(0, 0, 100, 10)], avoid=[], gap=2)
    assert box is not None and box[1] >= 10 and box[3] <= 20


def test_the_score_is_captioned_only_where_it_decided_the_label():
    assert caption_text("suspicious_cluster", 0.7412) == "suspicious_cluster 0.74"
    assert caption_text("punctate", 0.31) == "punctate 0.31"
    assert [caption_text(name, 0.0) for name in ("vascular", "secretory", "macro")] == [
        "vascular", "secretory", "macro"]


def test_percentile_window_keeps_dense_tissue_below_white():
    shape = (400, 400)
    rng = np.random.default_rng(0)
    tissue = rng.normal(1000.0, 100.0, shape).astype(np.float32)
    label_image = disks(shape, [(100, 100), (300, 300)], 6)
    tissue[label_image > 0] = 5000.0  # calcium: far denser than any tissue
    result = make_result(tissue, label_image=label_image, calc_labels=["macro", "macro"], nipple_rc=(200, 395))
    base = prepare_overlay(result)
    plain = label_image == 0
    assert np.mean(base.grey[plain] == 255) <= 0.0011  # 99.9th percentile of the tissue
    assert np.all(base.grey[~plain] == 255)


def clean_phantom(seed: int = 1):
    """A phantom whose burned-in label is painted over with the background level."""
    ph = phantom(spacing_mm=0.2, seed=seed)
    pixels = np.array(ph.image.pixels)
    outside = ~np.asarray(ph.breast_mask)
    pixels[outside] = np.median(pixels[outside])
    return ph, pixels


def test_a_burned_in_name_outside_the_breast_leaves_no_text_pixel_in_the_overlay():
    ph, pixels = clean_phantom()
    clean = MammoImage(pixels, ph.image.spacing_mm, "argument", laterality="L", view="CC")
    assert blanking_reason(clean, np.asarray(ph.breast_mask)) == "none"
    text = np.zeros(pixels.shape, np.uint8)
    cv2.putText(text, "DOE^JANE 0012345", (560, 80), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 255, 3)
    cv2.putText(text, "1961-04-02", (560, 130), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 255, 3)
    text = text > 0
    assert not (text & np.asarray(ph.breast_mask)).any()
    pixels[text] = float(pixels.max())
    named = MammoImage(pixels, ph.image.spacing_mm, "argument", laterality="L", view="CC")
    result = mammo_cv.analyze(named)
    assert blanking_reason(named, result.anatomy.breast_mask) == "text_outside_breast"
    base = prepare_overlay(result)  # 1200 x 950: drawn at full size
    rgb, layout = draw_overlay_layout(base, result.calc_table, result.cluster_table)
    assert not base.grey[text].any() and not base.grey[~result.anatomy.breast_mask].any()
    assert not rgb[canvas_mask(text, layout) & ~under_captions(layout)].any()


def test_burned_in_annotation_yes_blanks_even_without_text(tmp_path):
    ph, pixels = clean_phantom()
    flagged = MammoImage(pixels, ph.image.spacing_mm, "argument", burned_in_annotation=True)
    assert blanking_reason(flagged, np.asarray(ph.breast_mask)) == "burned_in_annotation"
    ds = pydicom.dcmread(SAMPLES[0])
    ds.BurnedInAnnotation = "YES"
    ds.save_as(tmp_path / "flagged.dcm")
    assert load_image(tmp_path / "flagged.dcm").burned_in_annotation
    assert not load_image(SAMPLES[0]).burned_in_annotation


def test_images_csv_records_the_blanking():
    tables = mammo_cv.analyze_batch([SAMPLES[-1]], workers=1, progress=False)
    assert tables.images["review_blanking"].tolist() == ["text_outside_breast"]
