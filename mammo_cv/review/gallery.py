"""The HTML review gallery of a batch run: ``index.html``, one card per image.

The page is self-contained (inline CSS and JavaScript, no network): each card shows the
image's overlay thumbnail (linking the full PNG by a relative path), its counts per class, its
highest cluster suspicion score and its cluster rows in a ``<details>``; images that failed
show an error card with the message. Buttons sort the cards by suspicion (highest first), by
name, or by number of calcifications (most first). Every text from the tables is escaped with
``html.escape``: file names, errors and reasons are untrusted.
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote

import numpy as np

from mammo_cv.core.files import write_text_atomic
from mammo_cv.core.labels import LABELS
from mammo_cv.review.overlay import LABEL_COLOURS

__all__ = ["write_gallery"]

# Cluster columns not repeated in each row of a card's cluster table.
_CLUSTER_SKIP = ("image_id",)

_CSS = """
body{font-family:system-ui,sans-serif;margin:1rem;background:#f4f4f4;color:#111}
header{display:flex;flex-wrap:wrap;gap:1rem;align-items:center}
h1{font-size:1.3rem;margin:0}
.sort button{margin-right:.3rem;padding:.3rem .7rem;border:1px solid #888;background:#fff;cursor:pointer}
.sort button[aria-pressed=true]{background:#222;color:#fff}
#cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:1rem;margin-top:1rem;align-items:start}
.card{background:#fff;border:1px solid #ccc;border-radius:6px;padding:.6rem;overflow:hidden}
.card.error{border-color:#d55e00;background:#fff4ee}
.card h2{font-size:1rem;margin:0 0 .3rem;word-break:break-all}
.card img{width:100%;height:260px;object-fit:contain;background:#000}
.noimg{height:60px;display:flex;align-items:center;justify-content:center;background:#ddd}
.meta{font-size:.8rem;color:#444;word-break:break-all}
.counts{display:flex;flex-wrap:wrap;gap:.3rem;margin:.4rem 0;padding:0;list-style:none}
.counts li{font-size:.8rem;padding:.1rem .4rem;border-radius:3px;border-left:.8rem solid}
.score{font-weight:bold}
.card details{overflow-x:auto}
.msg{color:#a33;font-family:monospace;white-space:pre-wrap;word-break:break-all}
table{border-collapse:collapse;font-size:.75rem}
td,th{border:1px solid #ccc;padding:.1rem .3rem;text-align:left}
"""

_JS = """
(function () {
  var grid = document.getElementById('cards');
  function num(card, key) { return parseFloat(card.dataset[key]); }
  function byName(a, b) { return a.dataset.name < b.dataset.name ? -1 : (a.dataset.name > b.dataset.name ? 1 : 0); }
  var orders = {
    suspicion: function (a, b) { return (num(b, 'suspicion') - num(a, 'suspicion')) || byName(a, b); },
    name: byName,
    calcifications: function (a, b) { return (num(b, 'calcifications') - num(a, 'calcifications')) || byName(a, b); }
  };
  function sortCards(key) {
    var cards = Array.prototype.slice.call(grid.children);
    cards.sort(orders[key]);
    cards.forEach(function (card) { grid.appendChild(card); });
    document.querySelectorAll('.sort button').forEach(function (button) {
      button.setAttribute('aria-pressed', String(button.dataset.sort === key));
    });
  }
  document.querySelectorAll('.sort button').forEach(function (button) {
    button.addEventListener('click', function () { sortCards(button.dataset.sort); });
  });
  sortCards('suspicion');
})();
"""


def _columns(table) -> dict[str, list]:
    """A dict of arrays or a DataFrame -> {column: list of values}."""
    if hasattr(table, "columns") and hasattr(table, "to_dict"):  # a pandas DataFrame
        return {str(name): list(table[name]) for name in table.columns}
    if isinstance(table, Mapping):
        return {str(name): list(np.asarray(values, dtype=object)) for name, values in table.items()}
    raise TypeError(f"expected a dict of arrays or a DataFrame, got {type(table).__name__}")


def _rows(table, required: tuple[str, ...], name: str) -> list[dict]:
    columns = _columns(table)
    missing = [column for column in required if column not in columns]
    if missing:
        raise KeyError(f"{name} table has no column(s) {missing}")
    lengths = {len(values) for values in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"{name} table columns have different lengths {sorted(lengths)}")
    n = lengths.pop() if lengths else 0
    return [{column: values[i] for column, values in columns.items()} for i in range(n)]


def _missing(value) -> bool:
    return value is None or (isinstance(value, (float, np.floating)) and math.isnan(value))


def _text(value) -> str:
    """A table value as escaped display text (empty for None/NaN, 4 significant digits for floats)."""
    if _missing(value):
        return ""
    if isinstance(value, (float, np.floating)):
        return html.escape(f"{float(value):.4g}")
    return html.escape(str(value))


def _int(value) -> int:
    return 0 if _missing(value) or value == "" else int(value)


def _cluster_table(rows: list[dict]) -> str:
    if not rows:
        return "<p class=\"meta\">no clusters</p>"
    columns = [column for column in rows[0] if column not in _CLUSTER_SKIP]
    head = "".join(f"<th>{html.escape(column)}</th>" for column in columns)
    body = "".join("<tr>" + "".join(f"<td>{_text(row[column])}</td>" for column in columns) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _card(image: dict, clusters: list[dict], out_dir: Path, overlay_dir: str) -> str:
    image_id = str(image["image_id"])
    name = html.escape(image_id)
    source = _text(image.get("source_path"))
    view = " ".join(_text(image.get(key)) for key in ("laterality", "view") if not _missing(image.get(key)))
    if str(image["status"]) != "ok":
        return (f"<article class=\"card error\" data-name=\"{name}\" data-suspicion=\"-1\" "
                f"data-calcifications=\"-1\"><h2>{name}</h2><p class=\"meta\">{source}</p>"
                f"<p class=\"msg\">{_text(image.get('error'))}</p></article>")
    scores = [float(row["score"]) for row in clusters if not _missing(row.get("score"))]
    suspicion = max(scores) if scores else 0.0
    n_calcs = _int(image.get("n_calcifications"))
    overlay = out_dir / overlay_dir / f"{image_id}.png"
    if overlay.is_file():
        href = html.escape(f"{quote(overlay_dir)}/{quote(image_id + '.png', safe='')}")
        picture = (f"<a href=\"{href}\"><img loading=\"lazy\" src=\"{href}\" "
                   f"alt=\"overlay of {name}\"></a>")
    else:
        picture = "<div class=\"noimg\">no overlay</div>"
    counts = "".join(
        f"<li style=\"border-left-color:rgb{LABEL_COLOURS[label]}\">{html.escape(label)} "
        f"{_int(image.get('n_' + label))}</li>"
        for label in LABELS if f"n_{label}" in image)
    return (f"<article class=\"card\" data-name=\"{name}\" data-suspicion=\"{suspicion:.6f}\" "
            f"data-calcifications=\"{n_calcs}\"><h2>{name}</h2>{picture}"
            f"<p class=\"meta\">{view} &middot; {source}</p>"
            f"<p>max suspicion <span class=\"score\">{suspicion:.2f}</span> &middot; "
            f"{n_calcs} calcifications &middot; {_int(image.get('n_clusters'))} clusters</p>"
            f"<ul class=\"counts\">{counts}</ul>"
            f"<details><summary>clusters ({len(clusters)})</summary>{_cluster_table(clusters)}</details>"
            f"</article>")


def write_gallery(out_dir: str | os.PathLike[str], images, clusters, *, overlay_dir: str = "overlays") -> Path:
    """Write ``out_dir/index.html``, the self-contained review page of a run.

    Parameters
    ----------
    out_dir : path-like
        The run's output folder; overlays are looked up in ``out_dir/overlay_dir/<image_id>.png``.
    images : dict of str to (n,) array, or DataFrame
        The ``images.csv`` table: needs ``image_id``, ``status``; uses ``source_path``, ``error``,
        ``laterality``, ``view``, ``n_calcifications``, ``n_clusters`` and any ``n_<label>``.
    clusters : dict of str to (k,) array, or DataFrame
        The ``clusters.csv`` table: needs ``image_id``, ``score``; every column is shown.
    overlay_dir : str
        Folder of the overlay PNGs, relative to ``out_dir``.

    Returns
    -------
    Path
        ``out_dir/index.html``, written atomically (temporary file, then ``os.replace``).
    """
    out_dir = Path(out_dir)
    image_rows = _rows(images, ("image_id", "status"), "images")
    cluster_rows = _rows(clusters, ("image_id", "score"), "clusters")
    by_image: dict[str, list[dict]] = {}
    for row in cluster_rows:
        by_image.setdefault(str(row["image_id"]), []).append(row)
    cards = "\n".join(_card(row, by_image.get(str(row["image_id"]), []), out_dir, overlay_dir)
                      for row in image_rows)
    n_errors = sum(str(row["status"]) != "ok" for row in image_rows)
    page = (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>mammo_cv review</title><link rel=\"icon\" href=\"data:,\">"
        f"<style>{_CSS}</style></head><body>"
        "<header><h1>mammo_cv review</h1>"
        f"<span id=\"summary\">{len(image_rows)} images, {n_errors} errors, {len(cluster_rows)} clusters</span>"
        "<span class=\"sort\">sort by "
        "<button type=\"button\" data-sort=\"suspicion\" aria-pressed=\"true\">suspicion</button>"
        "<button type=\"button\" data-sort=\"name\" aria-pressed=\"false\">name</button>"
        "<button type=\"button\" data-sort=\"calcifications\" aria-pressed=\"false\">calcifications</button>"
        "</span></header>"
        "<p class=\"meta\">Research software, not a medical device. Scores are the classifier's 0-1 "
        "suspicion; errors sort last.</p>"
        f"<main id=\"cards\">\n{cards}\n</main><script>{_JS}</script></body></html>\n"
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    return write_text_atomic(out_dir / "index.html", page)
