"""scripts/evaluate_resolution.py: the label lookup, the resampling and the agreement figures."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from script_modules import load_script

from mammo_cv.core.types import MammoImage

SCRIPT = load_script(Path(__file__).resolve().parent.parent / "scripts" / "evaluate_resolution.py")


def _result(label_image: np.ndarray, labels: dict[int, str]):
    table = {"calc_id": np.array(list(labels)), "label": np.array(list(labels.values()))}
    return SimpleNamespace(detections=SimpleNamespace(label_image=label_image), calc_table=table)


def test_labels_at_takes_the_detection_at_or_next_to_the_centroid():
    det = np.zeros((20, 20), np.int32)
    det[5:8, 5:8] = 1
    det[12, 14] = 2
    result = _result(det, {1: "macro", 2: "punctate"})
    got = SCRIPT.labels_at(result, np.array([[6.2, 5.9], [11.0, 13.0], [2.0, 17.0], [19.4, 0.0]]))
    assert got == ["macro", "punctate", "missed", "missed"]


def test_resampled_area_averages_to_the_coarser_spacing():
    pixels = np.zeros((100, 80), np.float32)
    pixels[::2, ::2] = 4.0  # mean 1
    image = MammoImage(pixels=pixels, spacing_mm=(0.05, 0.05), spacing_source="argument")
    coarse = SCRIPT.resampled(image, 0.1)
    assert coarse.pixels.shape == (50, 40) and coarse.spacing_mm == (0.1, 0.1)
    np.testing.assert_allclose(coarse.pixels, 1.0)


def test_summary_counts_agreement_over_calcifications_found_at_both_spacings():
    rows = [{"kind": "secretory", "truth": "secretory", "labels": {"0.05": "secretory", "0.2": "macro"}},
            {"kind": "secretory", "truth": "secretory", "labels": {"0.05": "secretory", "0.2": "secretory"}},
            {"kind": "round", "truth": "macro", "labels": {"0.05": "macro", "0.2": "missed"}},
            {"kind": "round", "truth": "macro", "labels": {"0.05": "missed", "0.2": "macro"}}]
    out = SCRIPT.summary(rows, [0.05, 0.2])
    assert out["by_spacing"]["0.05"] == {"found": 0.75, "label_right": 1.0, "same_label_as_reference": 1.0,
                                         "n_found_at_both": 3}
    assert out["by_spacing"]["0.2"]["found"] == 0.75
    assert out["by_spacing"]["0.2"]["label_right"] == pytest.approx(2 / 3, abs=1e-4)
    assert out["by_spacing"]["0.2"]["same_label_as_reference"] == 0.5
    assert out["labels_by_kind"]["secretory"]["0.2"] == {"macro": 1, "secretory": 1}
