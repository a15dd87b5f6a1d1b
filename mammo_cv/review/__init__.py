"""Review images: overlay PNGs, the HTML gallery and the notebook views of one result."""

from __future__ import annotations

from mammo_cv.review.gallery import write_gallery
from mammo_cv.review.notebook import THUMBNAIL_SIDE_PX, plot_result, result_html, summary_text
from mammo_cv.review.overlay import (
    LABEL_COLOURS,
    LABELS,
    OverlayBase,
    OverlayConfig,
    OverlayLayout,
    draw_overlay,
    draw_overlay_layout,
    encode_overlay,
    encode_png,
    prepare_overlay,
    render_overlay,
    save_overlay,
)

__all__ = [
    "LABELS", "LABEL_COLOURS", "OverlayConfig", "OverlayBase", "OverlayLayout", "prepare_overlay", "draw_overlay",
    "draw_overlay_layout", "encode_png",
    "render_overlay", "encode_overlay", "save_overlay", "write_gallery", "THUMBNAIL_SIDE_PX", "summary_text",
    "plot_result", "result_html",
]
