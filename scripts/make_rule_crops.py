"""Example crops for docs/rules.md: one phantom calcification per label, as the classifier saw it.

Usage: ``python scripts/make_rule_crops.py [--out docs/img] [--seed 7] [--spacing 0.07]``. Writes
``<label>.png`` (8-bit grey, 12 mm square around the most confident calcification of that label,
display window = 1st-99.8th percentile of the crop). Same arguments, same bytes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from mammo_cv.classify.classifier import LABELS
from mammo_cv.pipeline.analysis import analyze
from mammo_cv.synthetic.phantoms import phantom

CROP_MM = 12.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/img"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--spacing", type=float, default=0.07)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    ph = phantom(spacing_mm=args.spacing, size_mm=(120.0, 96.0), seed=args.seed)
    result = analyze(ph.image)
    table, pixels = result.calc_table, ph.image.pixels
    half = int(round(CROP_MM / 2 / args.spacing))
    for label in LABELS:
        rows = np.flatnonzero(table["label"] == label)
        if rows.size == 0:
            print(f"{label}: none on seed {args.seed}")
            continue
        i = rows[np.argmax(table["confidence"][rows])]
        r, c = int(round(table["row_px"][i])), int(round(table["col_px"][i]))
        crop = pixels[max(r - half, 0):r + half, max(c - half, 0):c + half]
        low, high = np.percentile(crop, [1.0, 99.8])
        grey = np.clip((crop - low) / max(high - low, 1e-6) * 255.0, 0, 255).astype(np.uint8)
        cv2.imwrite(str(args.out / f"{label}.png"), cv2.resize(grey, (240, 240), interpolation=cv2.INTER_AREA))
        print(f"{label}: {table['reason'][i]}")


if __name__ == "__main__":
    main()
