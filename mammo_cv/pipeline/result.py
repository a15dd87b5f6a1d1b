"""``Result``: what :func:`mammo_cv.analyze` returns for one mammogram.

The tables are kept as dicts of numpy arrays (the pipeline's fixed schemas). The views are
built on demand by the stage that owns them: DataFrames and JSON records by
:mod:`mammo_cv.tables`, the overlay, the plot and the notebook display by
:mod:`mammo_cv.review`; so pandas and matplotlib are imported only when asked for.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mammo_cv.config import Config
from mammo_cv.core.types import Anatomy, MammoImage
from mammo_cv.detection.detect import Detections
from mammo_cv.review.notebook import plot_result, result_html, summary_text
from mammo_cv.review.overlay import render_overlay, save_overlay
from mammo_cv.tables.frames import image_frame
from mammo_cv.tables.ids import safe_id
from mammo_cv.tables.records import label_counts, result_record
from mammo_cv.tables.schemas import CALCIFICATION_CSV_COLUMNS, CLUSTER_CSV_COLUMNS

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = ["Result"]


@dataclass(frozen=True, eq=False, repr=False)
class Result:
    """Everything mammo_cv found in one mammogram.

    Attributes
    ----------
    image : MammoImage
    anatomy : Anatomy
    detections : Detections
        Candidate label image (stored grid) and detector scores.
    calc_table : dict of str to (n,) ndarray
        One row per detection: ``mammo_cv.describe.CALC_COLUMNS``, the bounding box and
        location columns (``mammo_cv.describe.location``), ``confidence``, ``cluster_id``
        (-1 = in no cluster), ``vascular_chain_id`` (-1 = none) and ``vascular_score``.
    cluster_table : dict of str to (k,) ndarray
        One row per reported cluster: ``mammo_cv.describe.CLUSTER_COLUMNS`` plus the location
        columns.
    vascular_chains : dict of str to (c,) ndarray
        Chains of collinear fragments and tram tracks: ``vascular.CHAIN_COLUMNS``.
    config : Config

    Examples
    --------
    >>> import mammo_cv
    >>> ph = mammo_cv.phantom(spacing_mm=0.2, seed=1)
    >>> result = mammo_cv.analyze(ph.image)
    >>> result.label_image.shape == ph.image.shape
    True
    >>> len(result.calcifications) == int(result.label_image.max())
    True
    """

    image: MammoImage
    anatomy: Anatomy
    detections: Detections
    calc_table: dict[str, np.ndarray]
    cluster_table: dict[str, np.ndarray]
    vascular_chains: dict[str, np.ndarray]
    config: Config

    @property
    def label_image(self) -> np.ndarray:
        """(M, N) ndarray of int32: 0 background, k where ``calc_id`` k lies (stored grid).

        Examples
        --------
        >>> import mammo_cv
        >>> result = mammo_cv.analyze(mammo_cv.phantom(spacing_mm=0.2, seed=1).image)
        >>> result.label_image.dtype
        dtype('int32')
        """
        return self.detections.label_image

    @property
    def image_id(self) -> str:
        """The ``image_id`` this image gets in a batch run (``images.csv``).

        The SOP Instance UID, else the file name, made file-name safe by the same function as
        :mod:`mammo_cv.run.batch`; ``"image"`` for an image built in memory.

        Examples
        --------
        >>> import mammo_cv
        >>> mammo_cv.analyze(mammo_cv.phantom(spacing_mm=0.2, seed=1).image).image_id
        'image'
        """

        image = self.image
        return safe_id(image.sop_instance_uid or Path(image.source_path or "").name)

    @property
    def calcifications(self) -> pd.DataFrame:
        """One row per calcification, with the columns and dtypes of ``calcifications.csv``.

        Returns
        -------
        pandas.DataFrame
            Columns ``mammo_cv.tables.CALCIFICATION_CSV_COLUMNS`` (``image_id``, ``calc_id``, positions
            in px of the stored grid and in mm, sizes in mm, angles in degrees, ...).

        Examples
        --------
        >>> import mammo_cv
        >>> result = mammo_cv.analyze(mammo_cv.phantom(spacing_mm=0.2, seed=1).image)
        >>> table = result.calcifications
        >>> list(table.columns[:4])
        ['image_id', 'calc_id', 'row_px', 'col_px']
        >>> bool((table["length_mm"] >= table["width_mm"]).all())
        True
        """

        return image_frame(self.calc_table, CALCIFICATION_CSV_COLUMNS, self.image_id)

    @property
    def clusters(self) -> pd.DataFrame:
        """One row per reported cluster, with the columns and dtypes of ``clusters.csv``.

        Returns
        -------
        pandas.DataFrame
            Columns ``mammo_cv.tables.CLUSTER_CSV_COLUMNS``; ``cluster_id`` matches the
            ``cluster_id`` of the member rows of :attr:`calcifications`.

        Examples
        --------
        >>> import mammo_cv
        >>> result = mammo_cv.analyze(mammo_cv.phantom(spacing_mm=0.2, seed=1).image)
        >>> clusters = result.clusters
        >>> members = result.calcifications.groupby("cluster_id").size()
        >>> bool((clusters["n_calcs"].to_numpy() == members[clusters["cluster_id"]].to_numpy()).all())
        True
        """

        return image_frame(self.cluster_table, CLUSTER_CSV_COLUMNS, self.image_id)

    def overlay(self, **kwargs: Any) -> np.ndarray:
        """The image with its findings drawn on it.

        Parameters
        ----------
        **kwargs
            Passed to :func:`mammo_cv.review.overlay.render_overlay` (e.g. ``max_side_px=2000``).

        Returns
        -------
        (H, W + P, 3) ndarray of uint8
            RGB; the stored grid, downscaled so that its longest side is at most
            ``max_side_px``, and the P-px legend panel on its right.

        Examples
        --------
        >>> import mammo_cv
        >>> result = mammo_cv.analyze(mammo_cv.phantom(spacing_mm=0.2, seed=1).image)
        >>> rgb = result.overlay(max_side_px=600)
        >>> rgb.dtype, rgb.shape[2], rgb.shape[0] <= 600
        (dtype('uint8'), 3, True)
        """

        return render_overlay(self, **kwargs)

    def save_overlay(self, path: str | os.PathLike[str], **kwargs: Any) -> Path:
        """Write :meth:`overlay` as a PNG file, atomically.

        Parameters
        ----------
        path : str or path-like
            Destination ``.png``; its folder is created.
        **kwargs
            Passed to :func:`mammo_cv.review.overlay.save_overlay` (e.g. ``max_side_px=2000``).

        Returns
        -------
        Path
            ``path``.

        Examples
        --------
        >>> import tempfile, pathlib, mammo_cv
        >>> result = mammo_cv.analyze(mammo_cv.phantom(spacing_mm=0.2, seed=1).image)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = result.save_overlay(pathlib.Path(folder) / "overlay.png", max_side_px=400)
        ...     path.read_bytes()[:4]
        b'\\x89PNG'
        """

        return save_overlay(self, path, **kwargs)

    def label_counts(self) -> dict[str, dict[str, int]]:
        """How many calcifications and clusters carry each label.

        Returns
        -------
        dict
            ``{"calcifications": {label: n, ...}, "clusters": {label: n, ...}}``, labels in
            sorted order.

        Examples
        --------
        >>> import mammo_cv
        >>> result = mammo_cv.analyze(mammo_cv.phantom(spacing_mm=0.2, seed=1).image)
        >>> counts = result.label_counts()
        >>> sum(counts["calcifications"].values()) == len(result.calcifications)
        True
        """
        return label_counts(self.calc_table, self.cluster_table)

    def to_dict(self) -> dict[str, Any]:
        """Everything in plain JSON-serialisable values (NaN becomes None).

        Returns
        -------
        dict
            ``mammo_cv_version``, ``image_id``, ``image`` (metadata, no pixels), ``anatomy``
            (chest-wall side, nipple (row, col) px, pectoral line, breast and pectoral areas in
            mm2), ``counts`` (per label), ``calcifications``, ``clusters`` and
            ``vascular_chains`` (lists of row dicts with the CSV columns) and ``config``
            (``digest`` of all settings, ``rules_digest`` and ``rules_source`` of the rule set).

        Examples
        --------
        >>> import json, mammo_cv
        >>> result = mammo_cv.analyze(mammo_cv.phantom(spacing_mm=0.2, seed=1).image)
        >>> record = json.loads(json.dumps(result.to_dict(), allow_nan=False))
        >>> record["image"]["spacing_mm"], len(record["calcifications"]) == len(result.calcifications)
        ([0.2, 0.2], True)
        """

        return result_record(self)

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Show :meth:`overlay` on matplotlib axes whose coordinates are stored-grid px.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on; a new figure and axes when None.
        **kwargs
            Passed to :func:`mammo_cv.review.overlay.prepare_overlay`.

        Returns
        -------
        matplotlib.axes.Axes
            x = column px, y = row px of the stored grid (origin top-left), so table
            positions can be drawn on top with ``ax.plot(col_px, row_px)``; the legend panel
            lies right of column ``N - 0.5``.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import matplotlib.pyplot as plt, mammo_cv
        >>> result = mammo_cv.analyze(mammo_cv.phantom(spacing_mm=0.2, seed=1).image)
        >>> ax = result.plot()
        >>> ax.get_xlim()[0] == -0.5 and ax.get_ylim() == (result.image.shape[0] - 0.5, -0.5)
        True
        >>> plt.close(ax.figure)
        """
        return plot_result(self, ax, **kwargs)

    def __repr__(self) -> str:
        return f"<Result {summary_text(self)}>"

    def _repr_html_(self) -> str:
        """Notebook display: a small overlay thumbnail and the counts per label (escaped HTML)."""
        return result_html(self)
