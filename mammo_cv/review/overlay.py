"""Overlay PNGs: one mammogram and its findings in class colours, for review at a glance.

The image is first reduced (``cv2.INTER_AREA``) so that its long side is at most
``max_side_px``; everything is then drawn at that display resolution, so line widths and text
keep their size in the PNG. This module is the one place that turns the tables' (row, col)
positions in the stored grid into OpenCV's (x, y) display coordinates.

Two steps, so that a batch need not keep an image's pixels until its study is classified:
:func:`prepare_overlay` does all the pixel work once (windowed grey image at display size, the
display pixels of every calcification, the nipple and the image facts the legend needs: a few
MB), and :func:`draw_overlay` draws from that base and the labelled tables.
:func:`render_overlay` is the two in a row.

Display mapping (documented contract, tested): a displayed pixel ``v`` (the area mean of the
stored pixels it covers) becomes ``round(255 * clip((v - low) / (high - low), 0, 1) ** gamma)``
in all three channels, larger = brighter. ``(low, high)`` is ``image.display_window`` (the For
Presentation VOI window, ``gamma`` 1) when present, else the ``OverlayConfig.window_percentiles``
(0.5 and 99.9 %) of the displayed pixels inside the breast mask, calcifications left out (of all
pixels when the mask is empty), with ``gamma`` = ``OverlayConfig.percentile_gamma`` (1.6): at
most 0.1 % of the tissue is white, and the dense tissue gets the most grey levels, so it stays
readable.

Pixel privacy: when ``mammo_cv.review.privacy.blanking_reason`` is not ``"none"`` (the file's
BurnedInAnnotation is YES, or text-like content lies outside the breast), every displayed pixel
outside the breast mask is black (0) before anything is drawn.

Drawn on top:

- every calcification whose ``calc_id`` has a row in ``calc_table``: an outline in the colour
  of its ``label``, ``ring_gap`` display px outside the object (so the object itself stays
  visible, and a calcification smaller than a display pixel still gets a ring of that radius);
- each cluster: the convex hull of its member centroids padded by ``hull_pad_mm``, in the colour
  of the cluster ``label``, and a caption (:func:`caption_text`: the label, and the score where
  it decided the label) in white on a dark box after a swatch of that colour. Captions are
  placed most suspicious first, each at the free place nearest its hull
  (:func:`mammo_cv.review.layout.place_box`): no caption intersects another, and none covers a
  hull when another place exists; a caption not beside its hull is joined to it by a line;
- the nipple: a white cross.

Legend and scale bar never cover the image: they sit in a dark side panel added to the right
of the mammogram (the PNG is P px wider than the mammogram at display size, P fitting the
widest legend line). The legend gives laterality and view, each class colour with its number
of calcifications, the number of clusters, the window used and whether pixels were blanked; the
scale bar at the panel's foot is ``length_mm / (spacing_col_mm / scale_col)`` display px long,
``scale_col`` being display width / stored width. :func:`draw_overlay_layout` returns the boxes
of all of these (:class:`mammo_cv.review.layout.OverlayLayout`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from mammo_cv.core.files import write_bytes_atomic
from mammo_cv.core.labels import LABELS
from mammo_cv.review.layout import Box, OverlayLayout, place_box
from mammo_cv.review.privacy import blanking_reason

__all__ = ["LABELS", "LABEL_COLOURS", "OverlayConfig", "OverlayBase", "OverlayLayout", "prepare_overlay",
           "draw_overlay", "draw_overlay_layout", "caption_text", "encode_png", "render_overlay", "encode_overlay",
           "save_overlay"]

#: RGB colour of each label: the Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design"),
#: whose colours stay distinct under the common colour-vision deficiencies.
LABEL_COLOURS: dict[str, tuple[int, int, int]] = {
    "secretory": (86, 180, 233),         # sky blue
    "vascular": (0, 158, 115),           # bluish green
    "macro": (240, 228, 66),             # yellow
    "suspicious_cluster": (213, 94, 0),  # vermillion
    "punctate": (204, 121, 167),         # reddish purple
    "other": (0, 114, 178),              # blue
}

# Benign first, suspicious last: where outlines overlap, the suspicious one is on top.
_DRAW_ORDER: tuple[str, ...] = ("other", "punctate", "vascular", "secretory", "macro", "suspicious_cluster")
_WHITE = (255, 255, 255)
_BLACK = (0, 0, 0)
_PANEL = (32, 32, 32)  # side panel and caption boxes: dark grey, apart from the black background
# Cluster labels given by a type rule, whose caption shows no suspicion score (see caption_text).
_SCORELESS = frozenset({"vascular", "secretory", "macro"})
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_FONT_CAP_PX = float(cv2.getTextSize("H", _FONT, 1.0, 1)[0][1])  # text height at fontScale 1
_NICE_BAR_MM: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)


@dataclass(frozen=True)
class OverlayConfig:
    """Drawing settings of the overlay (display only; they change no measurement).

    Sizes given "per 1000 px" scale with the display's long side, so an overlay looks the same
    at any ``max_side_px``; at the default 2000 px a line is 2 px wide, which stays at least
    1 px when the PNG is shown reduced by half.

    Attributes
    ----------
    window_percentiles : (float, float)
        Percentiles of the breast pixels (calcifications left out) used as the display window when
        the file gives none, %: at most 0.1 % of the tissue reaches white, so dense tissue keeps its
        texture, while calcifications, denser than any tissue, saturate.
    percentile_gamma : float
        Exponent applied to the percentile window (not to a VOI window, which is the file's own):
        1.6 widens the grey range of the densest fifth of the tissue by half (mini-MIAS mdb002,
        p1-p99: grey 212-255 linear, 190-255 at 1.6) while fat stays above black.
    line_px_per_1000 : float
        Outline width, display px per 1000 px of long side (at least 1 px).
    ring_gap_px_per_1000 : float
        Gap between an object and its outline, which is also the radius of the ring around objects
        smaller than a display pixel, display px per 1000 px of long side (at least 2 px).
    hull_pad_mm : float
        Cluster hulls are padded this far around the member centroids, mm: BI-RADS clusters are about
        1 cm across, so 2 mm keeps the hull tight while clearing the members' rings.
    text_height_fraction : float
        Text height as a fraction of the display's long side: 26 px at 2000 px, legible at half size.
    scale_bar_fraction : float
        The scale bar is the longest of 1, 2, 5, 10, 20, 50 or 100 mm that fits in the side panel and
        in this fraction of the mammogram's display width.
    png_compression : int
        PNG zlib level, 0-9: 3 writes about 3x faster than the default 6 for a few % more bytes.
    min_side_px : int
        Smallest ``max_side_px`` accepted, px: below it, text cannot be drawn legibly.
    min_text_px : int
        Smallest text height, px, however small the overlay: 9 px stays readable in a thumbnail.
    """

    window_percentiles: tuple[float, float] = (0.5, 99.9)
    percentile_gamma: float = 1.6
    # Outline width, display px per 1000 px of long side (>= 1 px).
    line_px_per_1000: float = 1.0
    # Gap between an object and its outline = radius of the ring around sub-pixel objects,
    # display px per 1000 px of long side (>= 2 px): 4 px at 2000 px, an 8-px ring.
    ring_gap_px_per_1000: float = 2.0
    # Cluster hulls are padded this far around the member centroids (BI-RADS clusters are
    # about 1 cm across, so 2 mm keeps the hull tight while clearing the members' rings).
    hull_pad_mm: float = 2.0
    # Text height as a fraction of the display's long side (26 px at 2000 px: legible when the
    # PNG is shown at half size).
    text_height_fraction: float = 0.013
    # The scale bar is the longest of 1, 2, 5, 10, 20, 50, 100 mm that fits in this fraction
    # of the display width.
    scale_bar_fraction: float = 0.2
    # PNG zlib level: 3 is ~3x faster to write than the default 6 for a few % more bytes.
    png_compression: int = 3
    # Minimum long side accepted for max_side_px (below this, text cannot be drawn legibly).
    min_side_px: int = 64
    min_text_px: int = 9

    def __post_init__(self) -> None:
        low, high = self.window_percentiles
        if not 0.0 <= low < high <= 100.0:
            raise ValueError(f"window_percentiles must satisfy 0 <= low < high <= 100, got {self.window_percentiles}")
        if not 0 < self.scale_bar_fraction <= 1:
            raise ValueError(f"scale_bar_fraction must be in (0, 1], got {self.scale_bar_fraction}")
        if not 0 <= self.png_compression <= 9:
            raise ValueError(f"png_compression must be 0..9, got {self.png_compression}")
        if not 0.2 <= self.percentile_gamma <= 5.0:
            raise ValueError(f"percentile_gamma must be in [0.2, 5], got {self.percentile_gamma}")
        if self.hull_pad_mm < 0 or self.line_px_per_1000 <= 0 or self.ring_gap_px_per_1000 <= 0:
            raise ValueError("hull_pad_mm must be >= 0 and the per-1000 sizes > 0")


@dataclass(frozen=True)
class _Display:
    """Geometry of the display grid: stored (row, col) -> display (x, y)."""

    scale_row: float
    scale_col: float
    shape: tuple[int, int]
    line_px: int
    gap_px: int
    font_scale: float
    text_px: int

    def xy(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Stored pixel centres (row, col) -> display (x, y), float, shape (n, 2)."""
        x = (np.asarray(cols, np.float64) + 0.5) * self.scale_col - 0.5
        y = (np.asarray(rows, np.float64) + 0.5) * self.scale_row - 0.5
        return np.stack([x, y], axis=-1).reshape(-1, 2)


@dataclass(frozen=True)
class OverlayBase:
    """Everything of one image that the overlay needs from its pixels, at display size.

    Built by :func:`prepare_overlay`; no pixel array of the stored grid is kept.

    Attributes
    ----------
    grey : (H, W) ndarray of uint8
        The windowed display image.
    calc_pixel_flat, calc_pixel_id : (p,) ndarray of int64
        Display pixels (flat index into ``grey``) covered by each calcification (its
        ``label_image`` value = ``calc_id``), one entry per (pixel, calc_id) pair.
    window_source : str
        ``"VOI"`` or the percentiles (and gamma) used (legend line).
    nipple_rc : (float, float)
        Nipple in the stored grid, px.
    spacing_mm : (float, float)
        Stored pixel spacing (row, col), mm.
    laterality, view : str
        Legend title, e.g. ``"L"``, ``"CC"``.
    blanking : str
        Why every pixel outside the breast is black, one of
        ``mammo_cv.review.privacy.BLANKING_REASONS`` (``"none"``: nothing blanked).
    config : OverlayConfig
    """

    grey: np.ndarray
    calc_pixel_flat: np.ndarray
    calc_pixel_id: np.ndarray
    window_source: str
    nipple_rc: tuple[float, float]
    spacing_mm: tuple[float, float]
    laterality: str
    view: str
    blanking: str
    config: OverlayConfig
    display: _Display


def _column(table: dict[str, np.ndarray], name: str, table_name: str) -> np.ndarray:
    try:
        return np.asarray(table[name])
    except KeyError:
        raise KeyError(f"result.{table_name} has no {name!r} column (labels come from the classifier: "
                       f"classify the result before drawing it)") from None


def _label_indices(labels: np.ndarray, table_name: str) -> np.ndarray:
    """Label strings -> index in LABELS, (n,) int64; unknown labels raise ValueError."""
    names, inverse = np.unique(labels.astype(str), return_inverse=True)
    unknown = sorted(set(names) - set(LABELS))
    if unknown:
        raise ValueError(f"result.{table_name}: unknown label(s) {unknown}; expected one of {LABELS}")
    return np.array([LABELS.index(name) for name in names], np.int64)[inverse].reshape(-1)


def _window(image, small: np.ndarray, mask_small: np.ndarray, config: OverlayConfig) -> tuple[float, float, str]:
    if image.display_window is not None:
        low, high = (float(v) for v in image.display_window)
        source = "VOI"
    else:
        values = small[mask_small] if mask_small.any() else small.ravel()
        # A deterministic stride keeps the percentile cheap on full-field images (~1e6 samples).
        values = values[:: max(1, values.size // 1_000_000)]
        low, high = (float(v) for v in np.percentile(values, config.window_percentiles))
        source = f"p{config.window_percentiles[0]:g}-p{config.window_percentiles[1]:g}"
        if config.percentile_gamma != 1.0:
            source += f" gamma {config.percentile_gamma:g}"
    if not high > low:
        high = low + max(abs(low), 1.0) * 1e-6
    return low, high, source


def _to_grey(small: np.ndarray, low: float, high: float, gamma: float) -> np.ndarray:
    """``round(255 * clip((v - low) / (high - low), 0, 1) ** gamma)``, (H, W) uint8."""
    alpha = 255.0 / (high - low)
    clipped = np.clip(small, np.float32(low), np.float32(high))
    linear = cv2.convertScaleAbs(clipped, alpha=alpha, beta=-low * alpha)
    if gamma == 1.0:
        return linear
    lut = np.round(255.0 * (np.arange(256) / 255.0) ** gamma).astype(np.uint8)
    return cv2.LUT(linear, lut)


def _calc_display_pixels(result, display: _Display) -> tuple[np.ndarray, np.ndarray]:
    """Display pixels of every labelled object: (flat display index, calc_id), unique pairs,
    both (p,) int64, sorted by calc_id then pixel."""
    label_image = np.asarray(result.detections.label_image)
    if label_image.shape != result.image.shape:
        raise ValueError(f"detections.label_image shape {label_image.shape} differs from the image "
                         f"{result.image.shape}")
    flat = np.flatnonzero(label_image)
    ids = label_image.ravel()[flat].astype(np.int64)
    rows, cols = np.divmod(flat, label_image.shape[1])
    height, width = display.shape
    y = np.minimum((rows * display.scale_row).astype(np.int64), height - 1)
    x = np.minimum((cols * display.scale_col).astype(np.int64), width - 1)
    key = np.unique(ids * (height * width) + y * width + x)
    return key % (height * width), key // (height * width)


def _draw_calcifications(canvas: np.ndarray, base: OverlayBase, calc_table: dict[str, np.ndarray]) -> None:
    display = base.display
    label_index = _label_indices(_column(calc_table, "label", "calc_table"), "calc_table")
    calc_id = _column(calc_table, "calc_id", "calc_table").astype(np.int64)
    flat, ids = base.calc_pixel_flat, base.calc_pixel_id
    if flat.size == 0 or calc_id.size == 0:
        return
    lut = np.full(max(int(calc_id.max()), int(ids.max())) + 1, -1, np.int64)
    lut[calc_id] = label_index
    pixel_class = lut[ids]
    keep = pixel_class >= 0  # objects without a table row are not drawn
    flat, pixel_class = flat[keep], pixel_class[keep]
    height, width = display.shape
    y, x = np.divmod(flat, width)
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * display.gap_px + 1,) * 2)
    margin = display.gap_px + display.line_px + 2
    outlines = []
    for name in _DRAW_ORDER:
        selected = pixel_class == LABELS.index(name)
        if not selected.any():
            continue
        ys, xs = y[selected], x[selected]
        y0, x0 = max(int(ys.min()) - margin, 0), max(int(xs.min()) - margin, 0)
        y1, x1 = min(int(ys.max()) + margin + 1, height), min(int(xs.max()) + margin + 1, width)
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        mask[ys - y0, xs - x0] = 255
        contours, _ = cv2.findContours(cv2.dilate(mask, disk), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE,
                                       offset=(x0, y0))
        outlines.append((LABEL_COLOURS[name], contours))
    for _, contours in outlines:  # dark halos first, so no halo covers another class's colour
        cv2.drawContours(canvas, contours, -1, _BLACK, display.line_px + 2, cv2.LINE_8)
    for colour, contours in outlines:
        cv2.drawContours(canvas, contours, -1, colour, display.line_px, cv2.LINE_8)


def _text_box(text: str, display: _Display) -> tuple[int, int, int]:
    """(width, height, baseline offset) of a caption box: swatch, text and padding, display px."""
    (w, h), _ = cv2.getTextSize(text, _FONT, display.font_scale, display.line_px)
    pad = max(2, display.text_px // 4)
    return 3 * pad + display.text_px + w, 2 * pad + h + display.text_px // 4, pad + h


def _draw_caption(canvas: np.ndarray, text: str, box: Box, colour, display: _Display) -> None:
    """White text on a dark box, after a swatch of the cluster's colour: readable on any tissue."""
    x0, y0, x1, y1 = box
    pad = max(2, display.text_px // 4)
    cv2.rectangle(canvas, (x0, y0), (x1 - 1, y1 - 1), _PANEL, cv2.FILLED)
    cv2.rectangle(canvas, (x0, y0), (x1 - 1, y1 - 1), colour, 1, cv2.LINE_8)
    swatch = display.text_px
    top = y0 + (y1 - y0 - swatch) // 2
    cv2.rectangle(canvas, (x0 + pad, top), (x0 + pad + swatch - 1, top + swatch - 1), colour, cv2.FILLED)
    baseline = y0 + _text_box(text, display)[2]
    cv2.putText(canvas, text, (x0 + 2 * pad + swatch, baseline), _FONT, display.font_scale, _WHITE,
                display.line_px, cv2.LINE_AA)


def caption_text(label: str, score: float) -> str:
    """A cluster's caption: its label, and its suspicion score where the score decided the label.

    The score is the classifier's 0-1 suspicion; a cluster that a type rule labelled
    (``vascular``, ``secretory``, ``macro``) was not judged on it, so its caption is the label alone.
    """
    return label if label in _SCORELESS or not np.isfinite(score) else f"{label} {score:.2f}"


def _cluster_hulls(base: OverlayBase, calc_table: dict[str, np.ndarray],
                   clusters: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Each cluster's hull in display (x, y): its member centroids padded by ``hull_pad_mm``."""
    display = base.display
    member_of = np.asarray(calc_table["cluster_id"], np.int64)
    member_xy = display.xy(calc_table["row_px"], calc_table["col_px"])
    centre_xy = display.xy(clusters["row_px"], clusters["col_px"])
    spacing_row, spacing_col = base.spacing_mm
    display_mm = float(np.sqrt(spacing_row / display.scale_row * spacing_col / display.scale_col))
    pad_px = max(base.config.hull_pad_mm / display_mm, display.gap_px + 2.0 * display.line_px)
    angles = np.linspace(0.0, 2.0 * np.pi, 24, endpoint=False)
    ring = pad_px * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    hulls = []
    for k, cluster_id in enumerate(np.asarray(clusters["cluster_id"], np.int64)):  # a handful per image
        points = member_xy[member_of == cluster_id]
        if points.shape[0] == 0:
            points = centre_xy[k:k + 1]
        cloud = (points[:, None, :] + ring[None, :, :]).reshape(-1, 2)
        hulls.append(np.round(cv2.convexHull(cloud.astype(np.float32))).astype(np.int32))
    return hulls


def _draw_leader(canvas: np.ndarray, box: Box, hull: np.ndarray, colour, display: _Display) -> None:
    """A line from a caption to the nearest vertex of its hull, when the caption is not beside it."""
    vertices = hull[:, 0, :].astype(np.float64)
    centre = np.array([(box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0])
    vertex = vertices[int(np.argmin(np.hypot(*(vertices - centre).T)))]
    edge = np.clip(vertex, [box[0], box[1]], [box[2] - 1, box[3] - 1])
    if np.hypot(*(vertex - edge)) <= 4 * display.line_px + display.gap_px:
        return
    start, end = tuple(int(v) for v in edge), tuple(int(v) for v in vertex)
    cv2.line(canvas, start, end, _BLACK, display.line_px + 2, cv2.LINE_AA)
    cv2.line(canvas, start, end, colour, display.line_px, cv2.LINE_AA)


def _draw_clusters(canvas: np.ndarray, base: OverlayBase, calc_table: dict[str, np.ndarray],
                   clusters: dict[str, np.ndarray]) -> tuple[list[Box], list[int]]:
    """Outline every cluster, then caption each at a free place; returns (caption boxes, their ids)."""
    display = base.display
    cluster_ids = _column(clusters, "cluster_id", "cluster_table").astype(np.int64)
    if cluster_ids.size == 0:
        return [], []
    label_index = _label_indices(_column(clusters, "label", "cluster_table"), "cluster_table")
    scores = _column(clusters, "score", "cluster_table").astype(np.float64)
    hulls = _cluster_hulls(base, calc_table, clusters)
    hull_boxes: list[Box] = []
    for k, hull in enumerate(hulls):
        colour = LABEL_COLOURS[LABELS[label_index[k]]]
        cv2.polylines(canvas, [hull], True, _BLACK, display.line_px + 2, cv2.LINE_8)
        cv2.polylines(canvas, [hull], True, colour, display.line_px, cv2.LINE_8)
        x, y, w, h = cv2.boundingRect(hull)
        hull_boxes.append((x, y, x + w, y + h))
    height, width = display.shape
    placed: list[Box] = []
    placed_ids: list[int] = []
    for k in np.argsort(-scores, kind="stable"):  # the most suspicious get the nearest places
        name = LABELS[label_index[k]]
        text = caption_text(name, float(scores[k]))
        w, h, _ = _text_box(text, display)
        box = place_box((w, h), hull_boxes[k], (0, 0, width, height), taken=placed, avoid=hull_boxes,
                        gap=2 * display.line_px)
        if box is not None:
            _draw_leader(canvas, box, hulls[k], LABEL_COLOURS[name], display)
            _draw_caption(canvas, text, box, LABEL_COLOURS[name], display)
            placed.append(box)
            placed_ids.append(int(cluster_ids[k]))
    return placed, placed_ids


def _draw_nipple(canvas: np.ndarray, nipple_rc: tuple[float, float], display: _Display) -> None:
    x, y = np.round(display.xy(nipple_rc[0], nipple_rc[1])[0]).astype(int)
    size = 10 * display.line_px
    cv2.drawMarker(canvas, (int(x), int(y)), _BLACK, cv2.MARKER_CROSS, size + 2, display.line_px + 2)
    cv2.drawMarker(canvas, (int(x), int(y)), _WHITE, cv2.MARKER_CROSS, size, display.line_px)


def _legend_lines(base: OverlayBase, calc_table: dict[str, np.ndarray],
                  cluster_table: dict[str, np.ndarray]) -> list[tuple[str, tuple[int, int, int] | None]]:
    """The legend's (text, swatch colour or None) lines."""
    labels = np.asarray(calc_table["label"]).astype(str)
    lines: list[tuple[str, tuple[int, int, int] | None]] = [
        (f"{base.laterality} {base.view}", None),
        *[(f"{name} {int(np.count_nonzero(labels == name))}", LABEL_COLOURS[name]) for name in LABELS],
        (f"clusters {len(np.asarray(cluster_table['cluster_id']))}", None),
        ("+ nipple", None),
        (f"window {base.window_source}", None),
    ]
    if base.blanking != "none":
        lines.append(("outside breast blanked", None))
    return lines


def _legend_geometry(display: _Display) -> tuple[int, int, int]:
    """(padding, swatch side, row height) of the legend, display px."""
    pad = max(2, display.text_px // 2)
    return pad, display.text_px, display.text_px + pad


def _panel_width(base: OverlayBase) -> int:
    """Width of the side panel, display px: the widest legend line (all counts at 5 digits)."""
    display = base.display
    pad, swatch, _ = _legend_geometry(display)
    widest = max(f"{name} 00000" for name in LABELS)
    texts = [widest, f"window {base.window_source}", "outside breast blanked", "clusters 00000",
             f"{base.laterality} {base.view}", "100 mm"]
    return 3 * pad + swatch + max(cv2.getTextSize(t, _FONT, display.font_scale, display.line_px)[0][0]
                                  for t in texts)


def _draw_legend(canvas: np.ndarray, base: OverlayBase, lines, panel: Box) -> Box:
    """Write the legend at the top of the panel; returns its box."""
    display = base.display
    pad, swatch, row_h = _legend_geometry(display)
    x0 = panel[0]
    for i, (text, colour) in enumerate(lines):
        baseline = pad + row_h * i + display.text_px
        if colour is not None:
            cv2.rectangle(canvas, (x0 + pad, baseline - swatch), (x0 + pad + swatch - 1, baseline - 1),
                          colour, cv2.FILLED)
        cv2.putText(canvas, text, (x0 + 2 * pad + swatch, baseline), _FONT, display.font_scale, _WHITE,
                    display.line_px, cv2.LINE_AA)
    return x0, 0, panel[2], min(pad + row_h * len(lines) + pad, panel[3])


def _scale_bar_mm(mm_per_px: float, width_px: int) -> float:
    fitting = [mm for mm in _NICE_BAR_MM if mm / mm_per_px <= width_px]
    return fitting[-1] if fitting else _NICE_BAR_MM[0]


def _draw_scale_bar(canvas: np.ndarray, base: OverlayBase, panel: Box) -> Box:
    """Draw the scale bar at the bottom of the panel; returns its box (bar and its text)."""
    display = base.display
    mm_per_px = base.spacing_mm[1] / display.scale_col
    pad = _legend_geometry(display)[0]
    room = min(panel[2] - panel[0] - 2 * pad, int(base.config.scale_bar_fraction * display.shape[1]))
    length_mm = _scale_bar_mm(mm_per_px, max(room, 1))
    bar_px = int(round(length_mm / mm_per_px))
    bar_h = max(2, 2 * display.line_px)
    x0, y1 = panel[0] + pad, panel[3] - pad
    cv2.rectangle(canvas, (x0, y1 - bar_h), (x0 + bar_px - 1, y1 - 1), _WHITE, cv2.FILLED)
    baseline = y1 - bar_h - 2 * display.line_px - 2
    cv2.putText(canvas, f"{length_mm:g} mm", (x0, baseline), _FONT, display.font_scale, _WHITE,
                display.line_px, cv2.LINE_AA)
    return x0, baseline - display.text_px, max(x0 + bar_px, panel[0] + pad), y1


def prepare_overlay(result, *, max_side_px: int = 2000, config: OverlayConfig | None = None) -> OverlayBase:
    """Do the pixel work of an overlay once: window, reduce, locate the calcifications.

    The base depends on the image, the anatomy and the label image only, not on the labels, so it
    can be built before the study is classified and the result released.

    Parameters
    ----------
    result : mammo_cv.pipeline.result.Result
        ``image``, ``anatomy`` and ``detections.label_image`` are read (no table).
    max_side_px : int
        Longest side of the output, px; smaller images are not enlarged.
    config : OverlayConfig, optional

    Returns
    -------
    OverlayBase
        About ``H * W`` bytes (the grey image) plus 16 bytes per display pixel of calcification.

    Raises
    ------
    ValueError
        ``max_side_px`` below ``config.min_side_px``, or a label image of another shape than the image.
    """
    config = config or OverlayConfig()
    if int(max_side_px) < config.min_side_px:
        raise ValueError(f"max_side_px must be at least {config.min_side_px}, got {max_side_px}")
    image, anatomy = result.image, result.anatomy
    rows, cols = image.shape
    scale = min(1.0, int(max_side_px) / max(rows, cols))
    height, width = max(1, round(rows * scale)), max(1, round(cols * scale))
    if (height, width) == (rows, cols):
        small = image.pixels
        mask_small = np.asarray(anatomy.breast_mask)
    else:
        small = cv2.resize(image.pixels, (width, height), interpolation=cv2.INTER_AREA)
        mask_small = cv2.resize(np.asarray(anatomy.breast_mask).view(np.uint8), (width, height),
                                interpolation=cv2.INTER_NEAREST).view(bool)
    display = _display(rows, cols, height, width, config)
    calc_pixel_flat, calc_pixel_id = _calc_display_pixels(result, display)
    tissue = mask_small.copy()
    tissue.ravel()[calc_pixel_flat] = False
    low, high, window_source = _window(image, small, tissue, config)
    grey = _to_grey(small, low, high, 1.0 if window_source == "VOI" else config.percentile_gamma)
    blanking = blanking_reason(image, np.asarray(anatomy.breast_mask))
    if blanking != "none":
        grey[~mask_small] = 0
    return OverlayBase(grey=grey, calc_pixel_flat=calc_pixel_flat, calc_pixel_id=calc_pixel_id,
                       window_source=window_source, nipple_rc=tuple(float(v) for v in anatomy.nipple_rc),
                       spacing_mm=tuple(float(v) for v in image.spacing_mm), laterality=str(image.laterality.value),
                       view=str(image.view.value), blanking=blanking, config=config, display=display)


def _display(rows: int, cols: int, height: int, width: int, config: OverlayConfig) -> _Display:
    """The display geometry of a (rows, cols) image shown at (height, width)."""
    long_side = max(height, width)
    text_px = max(config.min_text_px, int(round(config.text_height_fraction * long_side)))
    return _Display(scale_row=height / rows, scale_col=width / cols, shape=(height, width),
                    line_px=max(1, int(round(config.line_px_per_1000 * long_side / 1000))),
                    gap_px=max(2, int(round(config.ring_gap_px_per_1000 * long_side / 1000))),
                    font_scale=text_px / _FONT_CAP_PX, text_px=text_px)


def draw_overlay_layout(base: OverlayBase, calc_table: dict[str, np.ndarray],
                        cluster_table: dict[str, np.ndarray]) -> tuple[np.ndarray, OverlayLayout]:
    """Draw the labelled tables of one image on its prepared base, and say where the text went.

    Parameters
    ----------
    base : OverlayBase
        From :func:`prepare_overlay` of the result the tables belong to.
    calc_table : dict of str to (n,) ndarray
        Needs ``calc_id``, ``label``, ``row_px``, ``col_px``, ``cluster_id`` (row with ``calc_id``
        k describes ``label_image == k``).
    cluster_table : dict of str to (k,) ndarray
        Needs ``cluster_id``, ``label``, ``score``, ``row_px``, ``col_px``.

    Returns
    -------
    rgb : (H, W + P, 3) ndarray of uint8
        The mammogram (``base.grey``'s H x W) with a P-px side panel on its right. See the module
        docstring for what is drawn.
    layout : OverlayLayout
        The boxes of the panel, legend, scale bar and captions, display px.

    Raises
    ------
    KeyError
        When a table has no ``label`` (or ``score``) column yet.
    ValueError
        For a label outside :data:`LABELS`.
    """
    height, width = base.display.shape
    panel: Box = (width, 0, width + _panel_width(base), height)
    canvas = np.empty((height, panel[2], 3), np.uint8)
    canvas[:, :width] = base.grey[:, :, None]
    canvas[:, width:] = _PANEL
    _draw_calcifications(canvas, base, calc_table)
    captions, caption_ids = _draw_clusters(canvas, base, calc_table, cluster_table)
    _draw_nipple(canvas, base.nipple_rc, base.display)
    legend = _draw_legend(canvas, base, _legend_lines(base, calc_table, cluster_table), panel)
    scale_bar = _draw_scale_bar(canvas, base, panel)
    layout = OverlayLayout(image=(0, 0, width, height), panel=panel, legend=legend, scale_bar=scale_bar,
                           captions=tuple(captions), caption_cluster_ids=tuple(caption_ids))
    return canvas, layout


def draw_overlay(base: OverlayBase, calc_table: dict[str, np.ndarray],
                 cluster_table: dict[str, np.ndarray]) -> np.ndarray:
    """:func:`draw_overlay_layout` without the layout: the (H, W + P, 3) uint8 RGB overlay."""
    return draw_overlay_layout(base, calc_table, cluster_table)[0]


def encode_png(rgb: np.ndarray, *, config: OverlayConfig | None = None) -> bytes:
    """Encode an (H, W', 3) uint8 RGB overlay as PNG bytes (zlib level ``config.png_compression``).

    Raises
    ------
    OSError
        If OpenCV cannot encode the image.
    """
    config = config or OverlayConfig()
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                               [cv2.IMWRITE_PNG_COMPRESSION, config.png_compression])
    if not ok:
        raise OSError("PNG encoding of the overlay failed")
    return encoded.tobytes()


def render_overlay(result, *, max_side_px: int = 2000, config: OverlayConfig | None = None) -> np.ndarray:
    """Draw one analysed mammogram with its findings, for review (:func:`prepare_overlay` then
    :func:`draw_overlay`).

    Parameters
    ----------
    result : mammo_cv.pipeline.result.Result
        Needs ``calc_table["label"]`` and ``cluster_table["label"]``/``["score"]`` (from the
        classifier); ``calc_table`` row with ``calc_id`` k describes ``label_image == k``.
    max_side_px : int
        Longest side of the output, px; smaller images are not enlarged.
    config : OverlayConfig, optional

    Returns
    -------
    (H, W + P, 3) ndarray of uint8
        RGB: the mammogram at ``max(H, W) == min(max_side_px, max(M, N))``, aspect ratio kept (to
        1 px), and the P-px side panel on its right. See the
        module docstring for the display window and what is drawn.

    Raises
    ------
    KeyError
        When a table has no ``label`` (or ``score``) column yet.
    ValueError
        For a label outside :data:`LABELS`, or ``max_side_px`` below ``config.min_side_px``.
    """
    base = prepare_overlay(result, max_side_px=max_side_px, config=config)
    return draw_overlay(base, result.calc_table, result.cluster_table)


def encode_overlay(result, *, max_side_px: int = 2000, config: OverlayConfig | None = None) -> bytes:
    """Render the overlay and encode it as PNG bytes (for callers that store the file themselves).

    Parameters
    ----------
    result : mammo_cv.pipeline.result.Result
    max_side_px : int
        Longest side of the PNG, px.
    config : OverlayConfig, optional

    Returns
    -------
    bytes
        A PNG (RGB, 8 bit) of :func:`render_overlay`'s image.
    """
    config = config or OverlayConfig()
    return encode_png(render_overlay(result, max_side_px=max_side_px, config=config), config=config)


def save_overlay(result, path: str | os.PathLike[str], *, max_side_px: int = 2000,
                 config: OverlayConfig | None = None) -> Path:
    """Render the overlay and write it as a PNG, atomically (temporary file, then ``os.replace``).

    Parameters
    ----------
    result : mammo_cv.pipeline.result.Result
    path : path-like
        Destination ``.png``; its folder is created.
    max_side_px : int
        Longest side of the PNG, px.
    config : OverlayConfig, optional

    Returns
    -------
    Path
        ``path``; no partial file is ever left there.
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"{path}: overlays are PNG files; use a .png name")
    png = encode_overlay(result, max_side_px=max_side_px, config=config)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_bytes_atomic(path, png)
