"""Detection figures on small synthetic phantoms against the issue-3 targets.

Seeds 200-207 (calcifications) and 1200-1207 (calcification-free) were not used to develop the
detector (development used 0-9 and 1000-1009). The poses cycle L-CC, R-CC, L-MLO, R-MLO.
Issue targets: recall >= 0.95 for calcifications >= 0.3 mm, >= 0.80 for 0.15-0.3 mm, <= 0.5
false detections per calcification-free image. The assertions are the measured figures at the
default operating point minus a margin of a few calcifications per band, so that a regression
fails (``summarise`` on seeds 200-207, 120 x 96 mm, 0.07 / 0.1 mm; figures in the test).
"""

from __future__ import annotations

import numpy as np
import pytest
from script_modules import REPO, load_script

from mammo_cv.anatomy.landmarks import find_anatomy
from mammo_cv.detection.detect import DetectionConfig, detect_calcifications
from mammo_cv.synthetic.phantoms import phantom, seed_pose

SEEDS = range(200, 208)
SIZE_MM = (120.0, 96.0)


def _script():
    return load_script(REPO / "scripts" / "evaluate_phantoms.py")


@pytest.mark.slow
@pytest.mark.parametrize("spacing_mm", [0.07, 0.1])
def test_phantom_recall_false_detections_and_splits(spacing_mm):
    result = _script().summarise(spacing_mm, SEEDS, DetectionConfig(), size_mm=SIZE_MM)
    assert result["calcifications"] > 300
    # measured on these 8 small phantoms (0.07 / 0.1 mm), with the context threshold, the 0.1-mm
    # floor for spots outside groups and the lone-dot policy (isolated_min_confidence): 0.993 /
    # 0.987, 0.847 / 0.864 (59 calcifications of 0.15-0.3 mm), 0.125 / 0.25 false per clean image
    # and 0.75 / 0.25 per image with calcifications; the targets are 0.95, 0.80, 0.5
    assert result["recall_ge_0p3_mm"] >= 0.95
    assert result["recall_0p15_to_0p3_mm"] >= 0.80
    assert result["false_detections_per_calc_free_image"] <= 0.5
    assert result["false_detections_per_image"] <= 1.0
    # the band's misses are thin pleomorphic fragments (greatest dimension 0.15-0.3 mm, area of a
    # disk under 0.15 mm); measured: punctate 0.94 / 0.88 (17: the phantom's punctate ones are
    # lone dots, and the lone-dot policy drops 1 / 2 faint ones), area >= 0.15 mm 0.90 / 0.89,
    # thinner 0.60 / 0.67 (10 / 6)
    by_area, by_kind = result["recall_0p15_to_0p3_mm_by_area"], result["recall_0p15_to_0p3_mm_by_kind"]
    assert sum(v["n"] for v in by_area.values()) == sum(v["n"] for v in by_kind.values()) > 40
    assert by_kind["punctate"]["recall"] >= 0.85
    assert by_area["equivalent_diameter_ge_0p15_mm"]["recall"] >= 0.85
    assert result["split_fraction"] <= 0.10


@pytest.mark.slow
def test_lower_operating_point_trades_false_detections_for_recall():
    """min_confidence is the reporting operating point: lowering it must not lose recall and
    must not reduce false detections (monotone), measured on the same phantoms. The context
    threshold is off here (context_min_confidence = min_confidence), so that only the operating
    point changes."""
    module = _script()
    seeds = range(200, 204)
    high = module.summarise(0.1, seeds, DetectionConfig(min_confidence=9.0, context_min_confidence=9.0),
                            size_mm=SIZE_MM)
    low = module.summarise(0.1, seeds, DetectionConfig(min_confidence=5.0, context_min_confidence=5.0),
                           size_mm=SIZE_MM)
    assert low["recall_ge_0p3_mm"] >= high["recall_ge_0p3_mm"]
    assert low["false_detections_per_calc_free_image"] >= high["false_detections_per_calc_free_image"]
    # measured: 0.15-0.3 mm recall 0.52 at 9 sigma, 0.86 at 5 sigma; false 0.0 and 0.25 per clean image
    assert low["recall_0p15_to_0p3_mm"] >= high["recall_0p15_to_0p3_mm"] + 0.2


MACRO_KINDS = ("popcorn", "rim", "coarse", "secretory")


@pytest.mark.slow
@pytest.mark.parametrize("spacing_mm", [0.07, 0.1])
def test_large_calcifications_come_out_whole(spacing_mm):
    """Saturated (flat-topped) macro-calcifications and secretory rods of 2-10 mm, drawn on
    phantom texture, are each held by ONE detection covering most of their area. Measured on
    these 44 objects per spacing (0.07 / 0.1 mm): before the whole-object pass (commit 58f9773)
    the smallest largest-share was 0.15 / 0.03 (median 0.77 / 0.75), 3 / 4 objects split and
    4 / 2 below half; after it the smallest is 0.77 / 0.72 (median 0.85 / 0.86), none split.
    0.6 leaves room for the grey half-maximum edge of rims and thin rods."""
    module = _script()
    shares = []
    for seed in range(400, 406):
        laterality, view = seed_pose(seed)
        ph = phantom(spacing_mm=spacing_mm, seed=seed, size_mm=SIZE_MM, laterality=laterality, view=view,
                     calcifications=MACRO_KINDS)
        dets = detect_calcifications(ph.image, find_anatomy(ph.image), config=DetectionConfig())
        share, _ = module.overlap_summary(ph.calc_labels, dets.label_image)
        shares += [share[c["id"] - 1] for c in ph.truth["calcifications"] if c["size_mm"] >= 2.0]
    shares = np.asarray(shares)
    assert shares.size >= 30
    assert shares.min() >= 0.6, np.sort(shares)[:5]
    assert np.median(shares) >= 0.8
