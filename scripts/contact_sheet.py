"""Anatomy contact sheet: one PNG showing find_anatomy's result for every image in a folder.

Each tile shows the image (display-windowed), the breast outline (green), a yellow bar on the
detected chest-wall edge, the pectoral line (magenta) and the nipple (red ring). Images for which
anatomy fails show the error in red.

Usage
-----
    python scripts/contact_sheet.py /work/shared/data/mini-mias-dev --out sheet.png \
        --pixel-spacing 0.2 --view MLO
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import cv2
import numpy as np

from mammo_cv.anatomy.landmarks import find_anatomy
from mammo_cv.core.errors import MammoInputError
from mammo_cv.core.types import Anatomy, ChestWallSide, MammoImage
from mammo_cv.io import load_image

IMAGE_SUFFIXES = {".pgm", ".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp", ".dcm", ".dicom"}


def load(path: Path, pixel_spacing_mm: float | None, view: str | None) -> MammoImage:
    """Load one file with ``mammo_cv.io.load_image`` (DICOM, or raster with a spacing)."""
    return load_image(path, pixel_spacing_mm=pixel_spacing_mm, view=view)


def render_tile(image: MammoImage, anatomy: Anatomy | None, error: str | None, name: str,
                tile_px: int) -> np.ndarray:
    """(tile_px, tile_px, 3) uint8 BGR tile."""
    rows, cols = image.shape
    scale = tile_px / max(rows, cols)
    size = (max(1, round(cols * scale)), max(1, round(rows * scale)))
    small = cv2.resize(np.asarray(image.pixels), size, interpolation=cv2.INTER_AREA)
    low, high = np.percentile(small, [1.0, 99.5])
    grey = np.clip((small - low) / max(high - low, 1e-12) * 255.0, 0, 255).astype(np.uint8)
    tile = np.zeros((tile_px, tile_px, 3), np.uint8)
    tile[:size[1], :size[0]] = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    if anatomy is not None:
        mask = cv2.resize(anatomy.breast_mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(tile, contours, -1, (0, 255, 0), 1)
        bar_x = 0 if anatomy.chest_wall_side is ChestWallSide.LEFT else size[0] - 4
        cv2.rectangle(tile, (bar_x, 0), (bar_x + 3, size[1] - 1), (0, 255, 255), -1)
        if anatomy.pectoral_line is not None:
            (r0, c0), (r1, c1) = anatomy.pectoral_line
            cv2.line(tile, (round(c0 * scale), round(r0 * scale)), (round(c1 * scale), round(r1 * scale)),
                     (255, 0, 255), 2)
        nr, nc = anatomy.nipple_rc
        cv2.circle(tile, (round(nc * scale), round(nr * scale)), 6, (0, 0, 255), 2)
    cv2.putText(tile, name, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 200, 255), 1, cv2.LINE_AA)
    if error:
        for k, start in enumerate(range(0, min(len(error), 120), 30)):
            cv2.putText(tile, error[start:start + 30], (6, 40 + 16 * k), cv2.FONT_HERSHEY_SIMPLEX,
                        0.4, (0, 0, 255), 1, cv2.LINE_AA)
    return tile


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="output PNG")
    parser.add_argument("--pixel-spacing", type=float, default=None, help="mm per pixel (raster files)")
    parser.add_argument("--view", default=None, help="view to assume, e.g. MLO")
    parser.add_argument("--tile", type=int, default=256, help="tile size in px")
    parser.add_argument("--columns", type=int, default=10)
    args = parser.parse_args(argv)

    files = sorted(p for p in args.data_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        print(f"{args.data_dir}: no images", file=sys.stderr)
        return 1
    tiles = []
    for path in files:
        image = load(path, args.pixel_spacing, args.view)
        try:
            anatomy, error = find_anatomy(image), None
        except MammoInputError as exc:
            anatomy, error = None, exc.problem
        tiles.append(render_tile(image, anatomy, error, path.stem, args.tile))
    n_rows = math.ceil(len(tiles) / args.columns)
    blank = np.zeros_like(tiles[0])
    tiles += [blank] * (n_rows * args.columns - len(tiles))
    sheet = np.vstack([np.hstack(tiles[k * args.columns:(k + 1) * args.columns]) for k in range(n_rows)])
    cv2.imwrite(str(args.out), sheet)
    print(f"wrote {args.out} ({len(files)} images)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
