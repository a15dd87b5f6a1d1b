"""Synthetic mammograms with known ground truth, for tests, docs and notebooks; and calcifications
of known truth inserted into real normal mammograms."""

from __future__ import annotations

from mammo_cv.synthetic.backgrounds import (
    PARTS,
    Background,
    background_part,
    cbis_backgrounds,
    load_background,
    mias_backgrounds,
    split_backgrounds,
)
from mammo_cv.synthetic.contrast import GREY_KINDS, GreyScale, grey_scale_of
from mammo_cv.synthetic.insert import Insertion, InsertionConfig, insert_calcifications
from mammo_cv.synthetic.phantoms import (
    CALC_KINDS,
    CALIBRATED_CALC_DENSITY,
    KIND_TO_LABEL,
    Phantom,
    PhantomConfig,
    phantom,
)

__all__ = ["CALC_KINDS", "CALIBRATED_CALC_DENSITY", "KIND_TO_LABEL", "PhantomConfig", "Phantom", "phantom",
           "Insertion", "InsertionConfig", "insert_calcifications",
           "GREY_KINDS", "GreyScale", "grey_scale_of",
           "PARTS", "Background", "background_part", "cbis_backgrounds", "mias_backgrounds", "split_backgrounds",
           "load_background"]
