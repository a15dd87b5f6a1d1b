"""One result in a notebook: the one-line summary, the matplotlib plot and the HTML thumbnail.

Duck-typed on the result (``mammo_cv.pipeline.Result``: ``image``, ``image_id``,
``calc_table``, ``cluster_table`` and what :func:`~mammo_cv.review.overlay.render_overlay`
reads), since review sits below the pipeline. matplotlib is imported inside :func:`plot_result`.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from mammo_cv.core.optional import require
from mammo_cv.review.overlay import draw_overlay_layout, prepare_overlay, render_overlay
from mammo_cv.tables.records import label_counts

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.axes import Axes

__all__ = ["THUMBNAIL_SIDE_PX", "summary_text", "plot_result", "result_html"]

#: Longest side of the notebook thumbnail's mammogram, px (the legend panel is added beside it):
#: small enough that a notebook of many results stays light (~50-120 kB of PNG), large enough
#: that captions and legend are readable at the 9 px minimum text height.
THUMBNAIL_SIDE_PX = 384


def summary_text(result) -> str:
    """``"<file name>: <laterality> <view>, <n> calcifications, <k> clusters"``.

    Parameters
    ----------
    result : mammo_cv.pipeline.Result

    Returns
    -------
    str
        One line; the file name is the ``image_id`` for an image built in memory.

    Examples
    --------
    >>> import mammo_cv
    >>> summary_text(mammo_cv.analyze(mammo_cv.phantom(spacing_mm=0.2, seed=1).image))
    'image: L CC, ... calcifications, ... clusters'
    """
    image = result.image
    name = Path(image.source_path).name if image.source_path else result.image_id
    return (f"{name}: {image.laterality.value} {image.view.value}, "
            f"{len(result.calc_table['calc_id'])} calcifications, "
            f"{len(result.cluster_table['cluster_id'])} clusters")


def plot_result(result, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Show the overlay on matplotlib axes whose coordinates are stored-grid px; see ``Result.plot``.

    Parameters
    ----------
    result : mammo_cv.pipeline.Result
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure and axes when None.
    **kwargs
        Passed to :func:`~mammo_cv.review.overlay.prepare_overlay`.

    Returns
    -------
    matplotlib.axes.Axes
        x = column px, y = row px of the stored grid (origin top-left), titled with
        :func:`summary_text`; the legend panel lies right of column ``N - 0.5``.
    """
    plt = require("matplotlib.pyplot", "plot", purpose="Result.plot()")
    rows, cols = result.image.shape
    rgb, layout = draw_overlay_layout(prepare_overlay(result, **kwargs), result.calc_table, result.cluster_table)
    panel_cols = cols * (layout.panel[2] - layout.panel[0]) / layout.image[2]
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 6 * rows / (cols + panel_cols)))
    ax.imshow(rgb, extent=(-0.5, cols + panel_cols - 0.5, rows - 0.5, -0.5), interpolation="antialiased")
    ax.set_title(summary_text(result))
    ax.set_xlabel("col (px)")
    ax.set_ylabel("row (px)")
    return ax


def result_html(result) -> str:
    """Notebook display: the summary, an overlay thumbnail and the counts per label, as escaped HTML.

    Parameters
    ----------
    result : mammo_cv.pipeline.Result

    Returns
    -------
    str
        A ``<div>`` with the summary in bold, the overlay as an inline base64 PNG whose
        mammogram's long side is :data:`THUMBNAIL_SIDE_PX` (legend panel beside it), and a table
        of (table, label, n).
    """
    rgb = render_overlay(result, max_side_px=THUMBNAIL_SIDE_PX)
    ok, png = cv2.imencode(".png", np.ascontiguousarray(rgb[:, :, ::-1]))
    if not ok:
        raise RuntimeError(f"{result.image_id}: PNG encoding of the overlay thumbnail failed")
    data = base64.b64encode(png.tobytes()).decode("ascii")
    counts = label_counts(result.calc_table, result.cluster_table)
    rows = "".join(
        f"<tr><td>{html.escape(kind)}</td><td>{html.escape(label)}</td><td>{n}</td></tr>"
        for kind in ("calcifications", "clusters") for label, n in counts[kind].items())
    return (f"<div><b>{html.escape(summary_text(result))}</b><br>"
            f'<img src="data:image/png;base64,{data}" alt="{html.escape(result.image_id)} overlay">'
            f"<table><tr><th>table</th><th>label</th><th>n</th></tr>{rows}</table></div>")
