"""Synthetic mammograms with known ground truth, for tests, docs and notebooks."""

from __future__ import annotations

from mammo_cv.synthetic.phantoms import CALC_KINDS, KIND_TO_LABEL, Phantom, PhantomConfig, phantom

__all__ = ["CALC_KINDS", "KIND_TO_LABEL", "PhantomConfig", "Phantom", "phantom"]
