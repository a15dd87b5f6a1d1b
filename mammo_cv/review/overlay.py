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
stored pixels it covers) becomes ``round(255 * clip((v - low) / (high - low), 0, 1))`` in all
three channels, larger = brighter. ``(low, high)`` is ``image.display_window`` (the For
Presentation VOI window) when present, else the ``OverlayConfig.window_percentiles`` of the
displayed pixels inside the breast mask (of all pixels when the mask is empty).

Drawn on top:

- every calcification whose ``calc_id`` has a row in ``calc_table``: an outline in the colour
  of its ``label``, ``ring_gap`` display px outside the object (so the object itself stays
  visible, and a calcification smaller than a display pixel still gets a ring of that radius);
- each cluster: the convex hull of its member centroids padded by ``hull_pad_mm``, in the colour
  of the cluster ``label``, with ``"label score"`` written above it;
- the nipple: a white cross;
- a legend (laterality and view, each class colour with its number of calcifications, the
  number of clusters, the window used) in the top corner away from the chest wall, and a scale
  bar in mm in the bottom corner away from the chest wall. The bar is ``length_mm / (spacing_col_mm
  / scale_col)`` display px long, ``scale_col`` being display width / stored width.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from mammo_cv.core.files import write_bytes_atomic
from mammo_cv.core.labels import LABELS

__all__ = ["LABELS", "LABEL_COLOURS", "OverlayConfig", "OverlayBase", "prepare_overlay", "draw_overlay",
           "encode_png", "render_overlay", "encode_overlay", "save_overlay"]

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
        Percentiles of the breast pixels used as the display window when the file gives none, %:
        0.5 and 99.5 clip the few calcium and skin-line extremes without washing out tissue.
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
        The scale bar is the longest of 1, 2, 5, 10, 20, 50 or 100 mm that fits in this fraction of the
        display width.
    png_compression : int
        PNG zlib level, 0-9: 3 writes about 3x faster than the default 6 for a few % more bytes.
    min_side_px : int
        Smallest ``max_side_px`` accepted, px: below it, text cannot be drawn legibly.
    """

    # Percentiles of the breast pixels used as the display window when the file gives none:
    # 0.5/99.5 % clips the few calcium and skin-line extremes without washing out tissue
    # (the usual robust "auto window" of viewers).
    window_percentiles: tuple[float, float] = (0.5, 99.5)
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

    def __post_init__(self) -> None:
        low, high = self.window_percentiles
        if not 0.0 <= low < high <= 100.0:
            raise ValueError(f"window_percentiles must satisfy 0 <= low < high <= 100, got {self.window_percentiles}")
        if not 0 < self.scale_bar_fraction <= 1:
            raise ValueError(f"scale_bar_fraction must be in (0, 1], got {self.scale_bar_fraction}")
        if not 0 <= self.png_compression <= 9:
            raise ValueError(f"png_compression must be 0..9, got {self.png_compression}")
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
        ``"VOI"`` or the percentiles used (legend line).
    nipple_rc : (float, float)
        Nipple in the stored grid, px.
    spacing_mm : (float, float)
        Stored pixel spacing (row, col), mm.
    laterality, view : str
        Legend title, e.g. ``"L"``, ``"CC"``.
    legend_right : bool
        Legend and scale bar at the right edge (chest wall on the left).
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
    legend_right: bool
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
    if not high > low:
        high = low + max(abs(low), 1.0) * 1e-6
    return low, high, source


def _to_grey(small: np.ndarray, low: float, high: float) -> np.ndarray:
    alpha = 255.0 / (high - low)
    clipped = np.clip(small, np.float32(low), np.float32(high))
    return cv2.convertScaleAbs(clipped, alpha=alpha, beta=-low * alpha)


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


def _put_text(canvas: np.ndarray, text: str, origin: tuple[int, int], colour, display: _Display,
              *, box: bool = False) -> None:
    """Text with its baseline-left corner at ``origin`` (x, y), dark halo or dark box behind."""
    thickness = max(1, display.line_px)
    if box:
        (w, h), base = cv2.getTextSize(text, _FONT, display.font_scale, thickness)
        pad = max(1, display.line_px)
        cv2.rectangle(canvas, (origin[0] - pad, origin[1] - h - pad), (origin[0] + w + pad, origin[1] + base),
                      _BLACK, cv2.FILLED)
    else:
        cv2.putText(canvas, text, origin, _FONT, display.font_scale, _BLACK, thickness + 2, cv2.LINE_AA)
    cv2.putText(canvas, text, origin, _FONT, display.font_scale, colour, thickness, cv2.LINE_AA)


def _draw_clusters(canvas: np.ndarray, base: OverlayBase, calc_table: dict[str, np.ndarray],
                   clusters: dict[str, np.ndarray]) -> None:
    display, config = base.display, base.config
    cluster_ids = _column(clusters, "cluster_id", "cluster_table").astype(np.int64)
    if cluster_ids.size == 0:
        return
    label_index = _label_indices(_column(clusters, "label", "cluster_table"), "cluster_table")
    scores = _column(clusters, "score", "cluster_table").astype(np.float64)
    member_of = np.asarray(calc_table["cluster_id"], np.int64)
    member_xy = display.xy(calc_table["row_px"], calc_table["col_px"])
    centre_xy = display.xy(clusters["row_px"], clusters["col_px"])
    spacing_row, spacing_col = base.spacing_mm
    display_mm = float(np.sqrt(spacing_row / display.scale_row * spacing_col / display.scale_col))
    pad_px = max(config.hull_pad_mm / display_mm, display.gap_px + 2.0 * display.line_px)
    angles = np.linspace(0.0, 2.0 * np.pi, 24, endpoint=False)
    ring = pad_px * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    height, width = display.shape
    placed: list[tuple[int, int, int, int]] = []  # text boxes (x0, y0, x1, y1) already written
    # One iteration per reported cluster: a handful per image.
    for k, cluster_id in enumerate(cluster_ids):
        points = member_xy[member_of == cluster_id]
        if points.shape[0] == 0:
            points = centre_xy[k:k + 1]
        cloud = (points[:, None, :] + ring[None, :, :]).reshape(-1, 2)
        hull = np.round(cv2.convexHull(cloud.astype(np.float32))).astype(np.int32)
        name = LABELS[label_index[k]]
        cv2.polylines(canvas, [hull], True, _BLACK, display.line_px + 2, cv2.LINE_8)
        cv2.polylines(canvas, [hull], True, LABEL_COLOURS[name], display.line_px, cv2.LINE_8)
        text = f"{name} {scores[k]:.2f}"
        (text_w, text_h), _ = cv2.getTextSize(text, _FONT, display.font_scale, display.line_px)
        top, bottom = int(hull[:, 0, 1].min()), int(hull[:, 0, 1].max())
        gap = 2 * display.line_px
        baseline = top - gap if top - gap - text_h >= 0 else min(bottom + gap + text_h, height - 1)
        left = int(np.clip(hull[:, 0, 0].min(), 0, max(width - text_w - 1, 0)))
        baseline = _free_baseline(placed, left, baseline, text_w, text_h + 2 * gap, height)
        placed.append((left, baseline - text_h - gap, left + text_w, baseline + gap))
        _put_text(canvas, text, (left, baseline), LABEL_COLOURS[name], display, box=True)


def _free_baseline(placed, left: int, baseline: int, text_w: int, step: int, height: int) -> int:
    """Move a label up (away from its hull), else down, one line at a time, to a place where its box
    overlaps no label already written; keep the first place when none is free."""
    def free(base: int) -> bool:
        top = base - step
        return 0 <= top and base < height and not any(
            left < x1 and x0 < left + text_w and top < y1 and y0 < base for x0, y0, x1, y1 in placed)

    shifts = range(len(placed) + 1)  # each earlier label blocks at most one line
    for base in [baseline - i * step for i in shifts] + [baseline + i * step for i in shifts]:
        if free(base):
            return base
    return baseline


def _draw_nipple(canvas: np.ndarray, nipple_rc: tuple[float, float], display: _Display) -> None:
    x, y = np.round(display.xy(nipple_rc[0], nipple_rc[1])[0]).astype(int)
    size = 10 * display.line_px
    cv2.drawMarker(canvas, (int(x), int(y)), _BLACK, cv2.MARKER_CROSS, size + 2, display.line_px + 2)
    cv2.drawMarker(canvas, (int(x), int(y)), _WHITE, cv2.MARKER_CROSS, size, display.line_px)


def _draw_legend(canvas: np.ndarray, base: OverlayBase, calc_table: dict[str, np.ndarray],
                 cluster_table: dict[str, np.ndarray]) -> None:
    display = base.display
    labels = np.asarray(calc_table["label"]).astype(str)
    counts = {name: int(np.count_nonzero(labels == name)) for name in LABELS}
    lines: list[tuple[str, tuple[int, int, int] | None]] = [
        (f"{base.laterality} {base.view}", None),
        *[(f"{name} {counts[name]}", LABEL_COLOURS[name]) for name in LABELS],
        (f"clusters {len(np.asarray(cluster_table['cluster_id']))}", None),
        ("+ nipple", None),
        (f"window {base.window_source}", None),
    ]
    thickness = display.line_px
    sizes = [cv2.getTextSize(text, _FONT, display.font_scale, thickness)[0] for text, _ in lines]
    swatch = display.text_px
    pad = max(2, display.text_px // 2)
    row_h = display.text_px + pad
    box_w = pad * 3 + swatch + max(w for w, _ in sizes)
    box_h = pad + row_h * len(lines)
    height, width = display.shape
    box_w, box_h = min(box_w, width), min(box_h, height)
    x0 = width - box_w if base.legend_right else 0
    roi = canvas[0:box_h, x0:x0 + box_w]
    roi[...] = roi // 4  # darken: text stays readable, tissue stays faintly visible
    for i, (text, colour) in enumerate(lines):
        baseline = pad + row_h * i + display.text_px
        text_x = x0 + pad * 2 + swatch
        if colour is not None:
            cv2.rectangle(canvas, (x0 + pad, baseline - swatch), (x0 + pad + swatch - 1, baseline - 1),
                          colour, cv2.FILLED)
        cv2.putText(canvas, text, (text_x, baseline), _FONT, display.font_scale, _WHITE, thickness, cv2.LINE_AA)


def _scale_bar_mm(mm_per_px: float, width_px: int, fraction: float) -> float:
    fitting = [mm for mm in _NICE_BAR_MM if mm / mm_per_px <= fraction * width_px]
    return fitting[-1] if fitting else _NICE_BAR_MM[0]


def _draw_scale_bar(canvas: np.ndarray, base: OverlayBase) -> None:
    display = base.display
    mm_per_px = base.spacing_mm[1] / display.scale_col
    height, width = display.shape
    length_mm = _scale_bar_mm(mm_per_px, width, base.config.scale_bar_fraction)
    bar_px = int(round(length_mm / mm_per_px))
    bar_h = max(2, 2 * display.line_px)
    margin = max(4, display.text_px)
    x0 = width - margin - bar_px if base.legend_right else margin
    y1 = height - margin
    cv2.rectangle(canvas, (x0 - 1, y1 - bar_h - 1), (x0 + bar_px, y1), _BLACK, cv2.FILLED)
    cv2.rectangle(canvas, (x0, y1 - bar_h), (x0 + bar_px - 1, y1 - 1), _WHITE, cv2.FILLED)
    _put_text(canvas, f"{length_mm:g} mm", (x0, y1 - bar_h - 1 - 2 * display.line_px - 2), _WHITE, display)


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
    low, high, window_source = _window(image, small, mask_small, config)
    long_side = max(height, width)
    text_px = max(8, int(round(config.text_height_fraction * long_side)))
    display = _Display(scale_row=height / rows, scale_col=width / cols, shape=(height, width),
                       line_px=max(1, int(round(config.line_px_per_1000 * long_side / 1000))),
                       gap_px=max(2, int(round(config.ring_gap_px_per_1000 * long_side / 1000))),
                       font_scale=text_px / _FONT_CAP_PX, text_px=text_px)
    calc_pixel_flat, calc_pixel_id = _calc_display_pixels(result, display)
    return OverlayBase(grey=_to_grey(small, low, high), calc_pixel_flat=calc_pixel_flat, calc_pixel_id=calc_pixel_id,
                       window_source=window_source, nipple_rc=tuple(float(v) for v in anatomy.nipple_rc),
                       spacing_mm=tuple(float(v) for v in image.spacing_mm), laterality=str(image.laterality.value),
                       view=str(image.view.value), legend_right=str(anatomy.chest_wall_side.value) == "left",
                       config=config, display=display)


def draw_overlay(base: OverlayBase, calc_table: dict[str, np.ndarray],
                 cluster_table: dict[str, np.ndarray]) -> np.ndarray:
    """Draw the labelled tables of one image on its prepared base.

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
    (H, W, 3) ndarray of uint8
        RGB, the shape of ``base.grey``. See the module docstring for what is drawn.

    Raises
    ------
    KeyError
        When a table has no ``label`` (or ``score``) column yet.
    ValueError
        For a label outside :data:`LABELS`.
    """
    canvas = cv2.cvtColor(base.grey, cv2.COLOR_GRAY2RGB)
    _draw_calcifications(canvas, base, calc_table)
    _draw_clusters(canvas, base, calc_table, cluster_table)
    _draw_nipple(canvas, base.nipple_rc, base.display)
    _draw_legend(canvas, base, calc_table, cluster_table)
    _draw_scale_bar(canvas, base)
    return canvas


def encode_png(rgb: np.ndarray, *, config: OverlayConfig | None = None) -> bytes:
    """Encode an (H, W, 3) uint8 RGB overlay as PNG bytes (zlib level ``config.png_compression``).

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
    (H, W, 3) ndarray of uint8
        RGB, ``max(H, W) == min(max_side_px, max(M, N))``, aspect ratio kept (to 1 px). See the
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
