"""Tests for mammo_cv.detection.segmentation on hand-drawn grey levels."""

from __future__ import annotations

import numpy as np

from mammo_cv.detection.detect import DetectionConfig
from mammo_cv.detection.segmentation import _hysteresis_regions, _pieces, _whole_objects


def test_whole_object_needs_a_filled_plateau():
    """The whole-object pass keeps a flat-topped blob and rejects one whose bright cores are
    joined only through a dim bridge (grey 55 % of the way up: inside the half maximum, below
    the plateau level ``whole_core_fraction``), so the bridge cannot merge the cores."""
    config = DetectionConfig()
    shape, spacing = (60, 60), (0.2, 0.2)
    grey = np.zeros(shape, np.float32)
    grey[10:20, 10:20] = 1.0                      # 2 x 2 mm plateau
    grey[40:50, 10:50] = 0.55                     # 2 x 8 mm dim bridge ...
    grey[43:46, 12:48:6] = 1.0                    # ... holding six 0.6 mm bright cores
    flat = np.arange(grey.size)
    zeros = np.zeros(grey.size, np.float32)
    whole = _whole_objects(flat, grey.ravel(), zeros, np.ones(grey.size, np.float32), shape, spacing, config)
    kept = np.zeros(grey.size, bool)
    kept[whole] = True
    kept = kept.reshape(shape)
    assert kept[10:20, 10:20].all()
    assert not kept[40:50].any()
    loose = DetectionConfig(whole_min_core_share=0.0)  # the round-3 pass: the bridge joins the cores
    whole = _whole_objects(flat, grey.ravel(), zeros, np.ones(grey.size, np.float32), shape, spacing, loose)
    assert np.isin(np.ravel_multi_index((44, 12), shape), whole)


def _blob(shape: tuple[int, int], centre: tuple[int, int], sigma_px: float, peak: float) -> np.ndarray:
    rr, cc = np.mgrid[:shape[0], :shape[1]]
    return (peak * np.exp(-((rr - centre[0]) ** 2 + (cc - centre[1]) ** 2) / (2 * sigma_px ** 2))).astype(np.float32)


def _piece_mask(snr: np.ndarray, config: DetectionConfig) -> np.ndarray:
    """Pixels of the pieces of ``snr`` over a flat grey, so that the grey trim keeps them all."""
    regions = _hysteresis_regions(snr, snr, None, np.ones_like(snr), config)
    mask = np.zeros(snr.size, bool)
    mask[regions.flat[_pieces(regions, config)]] = True
    return mask.reshape(snr.shape)


def test_a_dim_peak_joined_through_tissue_keeps_its_piece_and_touching_peaks_stay_one():
    """Pieces are cut at half the peak of their own basin: a 12-sigma spot joined to a 60-sigma
    one through a 5-sigma band (below half of 12) has its own piece, which one cut at half of 60
    erased, and none through a 10-sigma band (above half of 12); an isolated spot is cut at half
    its peak; two peaks of 20 and 16 joined at 14.5, above half of 16, come out as one piece."""
    config = DetectionConfig()
    shape = (40, 120)
    snr = np.maximum(_blob(shape, (20, 20), 2.0, 60.0), _blob(shape, (20, 60), 2.0, 12.0))
    snr[19:22, 20:61] = np.maximum(snr[19:22, 20:61], 5.0)  # the tissue band
    snr = np.maximum(snr, _blob(shape, (20, 100), 2.0, 10.0))  # alone
    pieces = _piece_mask(snr, config)
    assert pieces[20, 20] and pieces[20, 60] and pieces[20, 100]
    assert not pieces[20, 40]  # the band itself is no piece
    bright = snr.copy()
    bright[19:22, 20:61] = np.maximum(bright[19:22, 20:61], 10.0)  # joined above half of 12: one object
    assert not _piece_mask(bright, config)[20, 60]
    alone = snr[:, 80:] >= 0.5 * 10.0
    assert np.array_equal(pieces[:, 80:], alone)
    pair = np.maximum(_blob(shape, (20, 50), 2.5, 20.0), _blob(shape, (20, 54), 2.5, 16.0))
    assert pair[20, 50:55].min() >= 14.0 > 0.5 * 16.0
    joined = _piece_mask(pair, config)
    assert joined[20, 50:55].all()
