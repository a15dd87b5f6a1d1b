"""A 5 x 7 bitmap font for the labels burned into phantoms, so that their pixels do not depend on
any library's text rasteriser (OpenCV's Hershey glyphs move by a pixel between releases)."""

from __future__ import annotations

import numpy as np

__all__ = ["text_bitmap"]

# one string of 7 rows x 5 columns per character, '#' for ink
_FONT: dict[str, str] = {
    " ": "..... ..... ..... ..... ..... ..... .....",
    "B": "####. #...# #...# ####. #...# #...# ####.",
    "C": ".###. #...# #.... #.... #.... #...# .###.",
    "F": "##### #.... #.... ####. #.... #.... #....",
    "I": ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",
    "L": "#.... #.... #.... #.... #.... #.... #####",
    "M": "#...# ##.## #.#.# #.#.# #...# #...# #...#",
    "O": ".###. #...# #...# #...# #...# #...# .###.",
    "P": "####. #...# #...# ####. #.... #.... #....",
    "R": "####. #...# #...# ####. #.#.. #..#. #...#",
    "S": ".#### #.... #.... .###. ....# ....# ####.",
    "T": "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
    "U": "#...# #...# #...# #...# #...# #...# .###.",
    "X": "#...# #...# .#.#. ..#.. .#.#. #...# #...#",
}


def text_bitmap(text: str, height_px: int, width_px: int) -> np.ndarray:
    """``text`` drawn as large as fits in 70 % of a (``height_px``, ``width_px``) box, centred.

    Parameters
    ----------
    text : str
        Upper-case letters of the font and spaces.
    height_px, width_px : int
        Box size, px.

    Returns
    -------
    (height_px, width_px) ndarray of bool
        True on ink.

    Raises
    ------
    ValueError
        For a character the font does not hold.
    """
    missing = sorted(set(text) - set(_FONT))
    if missing:
        raise ValueError(f"no glyph for {missing} in the label font")
    glyphs = [np.array([[c == "#" for c in row] for row in _FONT[ch].split()], bool) for ch in text]
    gap = np.zeros((7, 1), bool)
    line = np.hstack([part for glyph in glyphs for part in (glyph, gap)][:-1])
    scale = max(1, int(0.7 * min(height_px / line.shape[0], width_px / line.shape[1])))
    ink = np.repeat(np.repeat(line, scale, axis=0), scale, axis=1)[:height_px, :width_px]
    box = np.zeros((height_px, width_px), bool)
    r0, c0 = (height_px - ink.shape[0]) // 2, (width_px - ink.shape[1]) // 2
    box[r0:r0 + ink.shape[0], c0:c0 + ink.shape[1]] = ink
    return box
