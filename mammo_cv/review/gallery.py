"""The HTML review gallery of a batch run: ``index.html``, one card per image, grouped by study.

The page is self-contained (inline CSS and JavaScript, no network). Cards are grouped by study
(``study_key`` of ``images.csv``, else the folder of ``source_path``), and inside a study they
follow the hanging protocol: R CC, L CC, R MLO, L MLO, then any other view (right before left),
then images of unknown laterality or view, then failed images. Each card is titled with
laterality, view and file name; it shows the overlay thumbnail (a click opens the full overlay
at its full size in a viewer; the link also works without JavaScript), the number of
calcifications of each of the six labels, and one line per cluster: label, score where it
decided the label (as on the overlay) and the classifier's reason. Failed images show their
error message.

Buttons sort the studies by suspicion (highest cluster score first), by name, or by number of
calcifications; two filters show only the cards with at least one calcification of a label, or
with a cluster score at or above a threshold. Every text from the tables is escaped with
``html.escape``: file names, errors and reasons are untrusted.
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Mapping
from pathlib import Path, PurePath
from urllib.parse import quote

import numpy as np

from mammo_cv.core.files import write_text_atomic
from mammo_cv.core.labels import LABELS
from mammo_cv.review.overlay import LABEL_COLOURS, caption_text

__all__ = ["HANGING_ORDER", "write_gallery"]

#: Hanging-protocol order of the cards of one study: (laterality, view).
HANGING_ORDER: tuple[tuple[str, str], ...] = (("R", "CC"), ("L", "CC"), ("R", "MLO"), ("L", "MLO"))

_CSS = """
body{font-family:system-ui,sans-serif;margin:1rem;background:#f4f4f4;color:#111}
header{display:flex;flex-wrap:wrap;gap:.6rem 1rem;align-items:center}
h1{font-size:1.3rem;margin:0}
header button{margin-right:.3rem;padding:.3rem .7rem;border:1px solid #888;background:#fff;cursor:pointer}
header button[aria-pressed=true]{background:#222;color:#fff}
.study{margin-top:1rem}
.study h2{font-size:1rem;margin:0 0 .4rem;color:#333}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:1rem;align-items:start}
.card{background:#fff;border:1px solid #ccc;border-radius:6px;padding:.6rem;min-width:0}
.card.error{border-color:#d55e00;background:#fff4ee}
.card h3{font-size:1rem;margin:0 0 .3rem;overflow-wrap:anywhere}
.card img{display:block;width:100%;height:260px;object-fit:contain;background:#000;cursor:zoom-in}
.noimg{height:60px;display:flex;align-items:center;justify-content:center;background:#ddd}
.meta{font-size:.75rem;color:#555;overflow-wrap:anywhere;margin:.3rem 0}
.counts{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:.2rem .5rem;margin:.4rem 0;padding:0;
list-style:none;font-size:.8rem}
.counts li{align-self:start;padding-left:.4rem;border-left:.8rem solid;overflow-wrap:anywhere}
.counts li.zero{color:#777}
.clusters{margin:.3rem 0 0;padding:0;list-style:none;font-size:.8rem}
.clusters li{margin:.25rem 0;padding-left:.4rem;border-left:.3rem solid;overflow-wrap:anywhere}
.clusters .reason{display:block;font-size:.72rem;color:#444}
.msg{color:#a33;font-family:monospace;white-space:pre-wrap;overflow-wrap:anywhere}
[hidden]{display:none !important}
dialog{padding:0;border:0;max-width:96vw;max-height:96vh;background:#000}
dialog .frame{overflow:auto;max-width:96vw;max-height:calc(96vh - 2.4rem)}
dialog img{display:block;max-width:none}
dialog form{display:flex;justify-content:space-between;align-items:center;background:#222;color:#fff;padding:.3rem}
"""

_JS = """
(function () {
  var root = document.getElementById('studies');
  var sortKey = 'suspicion';
  function num(el, key) { return parseFloat(el.dataset[key]); }
  function byName(a, b) { return a.dataset.name < b.dataset.name ? -1 : (a.dataset.name > b.dataset.name ? 1 : 0); }
  var orders = {
    suspicion: function (a, b) { return (num(b, 'suspicion') - num(a, 'suspicion')) || byName(a, b); },
    name: byName,
    calcifications: function (a, b) { return (num(b, 'calcifications') - num(a, 'calcifications')) || byName(a, b); }
  };
  function sortStudies(key) {
    sortKey = key;
    var studies = Array.prototype.slice.call(root.children);
    studies.sort(orders[key]);
    studies.forEach(function (study) { root.appendChild(study); });
    document.querySelectorAll('button[data-sort]').forEach(function (button) {
      button.setAttribute('aria-pressed', String(button.dataset.sort === key));
    });
  }
  function applyFilters() {
    var label = document.getElementById('label-filter').value;
    var minScore = parseFloat(document.getElementById('score-filter').value);
    root.querySelectorAll('.study').forEach(function (study) {
      var shown = 0;
      study.querySelectorAll('.card').forEach(function (card) {
        var ok = (!label || num(card, 'n' + label.replace(/_/g, '')) > 0) &&
                 (!(minScore > 0) || num(card, 'suspicion') >= minScore);
        card.hidden = !ok;
        if (ok) { shown += 1; }
      });
      study.hidden = shown === 0;
    });
    document.getElementById('shown').textContent = root.querySelectorAll('.card:not([hidden])').length;
  }
  document.querySelectorAll('button[data-sort]').forEach(function (button) {
    button.addEventListener('click', function () { sortStudies(button.dataset.sort); });
  });
  document.getElementById('label-filter').addEventListener('change', applyFilters);
  document.getElementById('score-filter').addEventListener('change', applyFilters);
  var viewer = document.getElementById('viewer');
  root.addEventListener('click', function (event) {
    var link = event.target.closest('a.full');
    if (!link || !viewer.showModal) { return; }
    event.preventDefault();
    viewer.querySelector('img').src = link.getAttribute('href');
    viewer.querySelector('.title').textContent = link.dataset.title;
    viewer.showModal();
  });
  sortStudies(sortKey);
  applyFilters();
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
    return value is None or (isinstance(value, (float, np.floating)) and math.isnan(value)) or value == ""


def _text(value) -> str:
    """A table value as escaped display text (empty for None/NaN)."""
    return "" if _missing(value) else html.escape(str(value))


def _int(value) -> int:
    return 0 if _missing(value) else int(value)


def _label_counts(image: dict, calc_counts: dict[tuple[str, str], int]) -> dict[str, int]:
    """Calcifications per label of one image: its ``n_<label>`` columns, else the calcification table."""
    image_id = str(image["image_id"])
    return {label: _int(image[f"n_{label}"]) if f"n_{label}" in image else calc_counts.get((image_id, label), 0)
            for label in LABELS}


def _hanging_rank(image: dict) -> tuple:
    """Sort key of a card inside its study: hanging protocol, other views, unknown, errors."""
    laterality, view = str(image.get("laterality") or "U"), str(image.get("view") or "U")
    if str(image["status"]) != "ok":
        rank = (3, 0, "")
    elif (laterality, view) in HANGING_ORDER:
        rank = (0, HANGING_ORDER.index((laterality, view)), "")
    elif laterality in ("R", "L") and view != "U":
        rank = (1, ("R", "L").index(laterality), view)
    else:
        rank = (2, 0, view)
    return (*rank, str(image.get("source_path") or ""), str(image["image_id"]))


def _study_of(image: dict) -> str:
    key = image.get("study_key")
    if not _missing(key):
        return str(key)
    source = image.get("source_path")
    return str(PurePath(str(source)).parent) if not _missing(source) else ""


def _file_name(image: dict) -> str:
    source = image.get("source_path")
    return PurePath(str(source)).name if not _missing(source) else str(image["image_id"])


def _cluster_list(rows: list[dict]) -> str:
    if not rows:
        return "<p class=\"meta\">no clusters</p>"
    items = []
    for row in sorted(rows, key=lambda r: -float(r["score"]) if not _missing(r.get("score")) else 1.0):
        label = str(row.get("label") or "")
        colour = LABEL_COLOURS.get(label, (136, 136, 136))
        score = float(row["score"]) if not _missing(row.get("score")) else math.nan
        items.append(f"<li style=\"border-left-color:rgb{colour}\"><b>{html.escape(caption_text(label, score))}</b>"
                     f"<span class=\"reason\">{_text(row.get('reason'))}</span></li>")
    return f"<ol class=\"clusters\">{''.join(items)}</ol>"


def _picture(image_id: str, title: str, out_dir: Path, overlay_dir: str) -> str:
    if not (out_dir / overlay_dir / f"{image_id}.png").is_file():
        return "<div class=\"noimg\">no overlay</div>"
    href = html.escape(f"{quote(overlay_dir)}/{quote(image_id + '.png', safe='')}")
    return (f"<a class=\"full\" href=\"{href}\" data-title=\"{title}\" target=\"_blank\" rel=\"noopener\">"
            f"<img loading=\"lazy\" src=\"{href}\" alt=\"overlay of {title}\"></a>")


def _card(image: dict, clusters: list[dict], counts: dict[str, int], out_dir: Path, overlay_dir: str) -> str:
    image_id = str(image["image_id"])
    view = " ".join(str(image.get(key)) for key in ("laterality", "view") if not _missing(image.get(key)))
    title = html.escape(f"{view} {_file_name(image)}".strip())
    data = (f"data-name=\"{html.escape(_file_name(image))}\" "
            + " ".join(f"data-n{label.replace('_', '')}=\"{counts[label]}\"" for label in LABELS))
    if str(image["status"]) != "ok":
        return (f"<article class=\"card error\" {data} data-suspicion=\"-1\"><h3>{title}</h3>"
                f"<p class=\"meta\">{html.escape(image_id)}</p>"
                f"<p class=\"msg\">{_text(image.get('error'))}</p></article>")
    scores = [float(row["score"]) for row in clusters if not _missing(row.get("score"))]
    suspicion = max(scores) if scores else 0.0
    count_items = "".join(
        f"<li class=\"{'zero' if counts[label] == 0 else ''}\" style=\"border-left-color:rgb{LABEL_COLOURS[label]}\">"
        f"{html.escape(label)} {counts[label]}</li>" for label in LABELS)
    return (f"<article class=\"card\" {data} data-suspicion=\"{suspicion:.6f}\"><h3>{title}</h3>"
            f"{_picture(image_id, title, out_dir, overlay_dir)}"
            f"<p class=\"meta\">{html.escape(image_id)}</p>"
            f"<p>max suspicion <b>{suspicion:.2f}</b> &middot; {_int(image.get('n_calcifications'))} calcifications "
            f"&middot; {len(clusters)} clusters</p>"
            f"<ul class=\"counts\">{count_items}</ul>{_cluster_list(clusters)}</article>")


def _study_section(key: str, images: list[dict], cards: list[str], suspicions: list[float]) -> str:
    n_calcs = sum(_int(image.get("n_calcifications")) for image in images)
    name = html.escape(_file_name(images[0]))
    hashed = not _missing(images[0].get("study_key"))
    label = html.escape(key[:12] if hashed else (PurePath(key).name or key or "no folder"))
    return (f"<section class=\"study\" data-name=\"{name}\" data-suspicion=\"{max(suspicions):.6f}\" "
            f"data-calcifications=\"{n_calcs}\"><h2>Study {label} &middot; "
            f"{len(images)} image{'s' if len(images) != 1 else ''}</h2>"
            f"<div class=\"grid\">{''.join(cards)}</div></section>")


def _header(n_images: int, n_errors: int, n_clusters: int) -> str:
    options = "".join(f"<option value=\"{label}\">{label}</option>" for label in LABELS)
    return (
        "<header><h1>mammo_cv review</h1>"
        f"<span id=\"summary\">{n_images} images, {n_errors} errors, {n_clusters} clusters; "
        f"<span id=\"shown\">{n_images}</span> shown</span>"
        "<span>sort studies by "
        "<button type=\"button\" data-sort=\"suspicion\" aria-pressed=\"true\">suspicion</button>"
        "<button type=\"button\" data-sort=\"name\" aria-pressed=\"false\">name</button>"
        "<button type=\"button\" data-sort=\"calcifications\" aria-pressed=\"false\">calcifications</button></span>"
        f"<label>label <select id=\"label-filter\"><option value=\"\">any</option>{options}</select></label>"
        "<label>suspicion &ge; <select id=\"score-filter\"><option value=\"0\">any</option>"
        "<option value=\"0.25\">0.25</option><option value=\"0.5\">0.50</option>"
        "<option value=\"0.75\">0.75</option></select></label></header>"
    )


def write_gallery(out_dir: str | os.PathLike[str], images, clusters, *, calcifications=None,
                  overlay_dir: str = "overlays") -> Path:
    """Write ``out_dir/index.html``, the self-contained review page of a run.

    Parameters
    ----------
    out_dir : path-like
        The run's output folder; overlays are looked up in ``out_dir/overlay_dir/<image_id>.png``.
    images : dict of str to (n,) array, or DataFrame
        The ``images.csv`` table: needs ``image_id``, ``status``; uses ``source_path``, ``error``,
        ``laterality``, ``view``, ``study_key``, ``n_calcifications`` and the ``n_<label>`` columns.
    clusters : dict of str to (k,) array, or DataFrame
        The ``clusters.csv`` table: needs ``image_id``, ``score``; uses ``label`` and ``reason``.
    calcifications : dict of str to (m,) array, or DataFrame, optional
        The ``calcifications.csv`` table (``image_id``, ``label``): counts of the labels that
        ``images`` has no ``n_<label>`` column for (0 without it).
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
    calc_counts: dict[tuple[str, str], int] = {}
    for row in _rows(calcifications, ("image_id", "label"), "calcifications") if calcifications is not None else []:
        key = (str(row["image_id"]), str(row["label"]))
        calc_counts[key] = calc_counts.get(key, 0) + 1
    by_image: dict[str, list[dict]] = {}
    for row in cluster_rows:
        by_image.setdefault(str(row["image_id"]), []).append(row)
    studies: dict[str, list[dict]] = {}
    for row in image_rows:
        studies.setdefault(_study_of(row), []).append(row)
    sections = []
    for key, members in sorted(studies.items()):
        members.sort(key=_hanging_rank)
        found = [by_image.get(str(row["image_id"]), []) for row in members]
        cards = [_card(row, rows, _label_counts(row, calc_counts), out_dir, overlay_dir)
                 for row, rows in zip(members, found)]
        suspicions = [max((float(r["score"]) for r in rows if not _missing(r.get("score"))), default=0.0)
                      if str(row["status"]) == "ok" else -1.0 for row, rows in zip(members, found)]
        sections.append(_study_section(key, members, cards, suspicions))
    n_errors = sum(str(row["status"]) != "ok" for row in image_rows)
    page = (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>mammo_cv review</title><link rel=\"icon\" href=\"data:,\">"
        f"<style>{_CSS}</style></head><body>{_header(len(image_rows), n_errors, len(cluster_rows))}"
        "<p class=\"meta\">Research software, not a medical device. Scores are the classifier's 0-1 "
        "suspicion, shown where they decided the label; studies with errors only sort last.</p>"
        f"<main id=\"studies\">\n{''.join(sections)}\n</main>"
        "<dialog id=\"viewer\"><form method=\"dialog\"><span class=\"title\"></span>"
        "<button type=\"submit\">close</button></form><div class=\"frame\"><img alt=\"full overlay\"></div></dialog>"
        f"<script>{_JS}</script></body></html>\n"
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    return write_text_atomic(out_dir / "index.html", page)
