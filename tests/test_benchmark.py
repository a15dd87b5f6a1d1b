"""scripts/benchmark.py --quick: the JSON report holds every stage, input and figure of issue 8
(no timing thresholds: the benchmark measures, the tests only check that it measured)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "benchmark.py"
STAGES = ("decode", "anatomy", "detection", "features", "clusters", "vascular", "classify", "pipeline")
OVERLAY_STAGES = ("overlay", "pipeline_overlay")


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("bench") / "benchmark.json"
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "speed-up" in done.stdout and "files/s" in done.stdout  # the readable table
    return json.loads(out.read_text())


@pytest.mark.slow
def test_every_stage_of_every_case_has_a_positive_median(report):
    has_overlay = importlib.util.find_spec("mammo_cv.review.overlay") is not None
    assert set(report["cases"]) == {"phantom_500x400", "phantom_500x400_j2k", "phantom_350x400"}
    for name, case in report["cases"].items():
        for stage in STAGES + (OVERLAY_STAGES if has_overlay else ()):
            assert case["seconds"][stage] > 0, (name, stage)
        assert case["seconds"]["pipeline_overlay"] is None or case["seconds"]["pipeline_overlay"] > 0


@pytest.mark.slow
def test_sizes_and_seconds_per_megapixel_are_consistent(report):
    for name, rows, cols in (("phantom_500x400", 500, 400), ("phantom_350x400", 350, 400)):
        case = report["cases"][name]
        assert case["shape"] == [rows, cols]
        assert case["spacing_mm"] == [0.2, 0.2]
        assert case["megapixels"] == pytest.approx(rows * cols / 1e6)
        assert case["pipeline_seconds_per_megapixel"] == pytest.approx(
            case["seconds"]["pipeline"] / case["megapixels"], rel=1e-2, abs=1e-3)
        assert report["seconds_per_megapixel"][name] == case["pipeline_seconds_per_megapixel"]


@pytest.mark.slow
def test_j2k_memory_batch_and_naive_figures_are_present(report):
    j2k = report["j2k"]["phantom_500x400_j2k"]
    assert j2k["threads"] >= 1 and all(v > 0 for v in j2k["seconds"].values())
    assert len(j2k["seconds"]) == (1 if j2k["threads"] == 1 else 2)
    assert report["bare_interpreter_rss_mb"] > 0
    for name in ("phantom_500x400", "phantom_500x400_j2k", "phantom_350x400", "phantom_500x400_with_overlay"):
        rss = report["peak_rss_mb"][name]
        assert rss["peak_mb"] >= rss["after_imports_mb"] > report["bare_interpreter_rss_mb"]
    fresh = report["fresh_process"]
    assert fresh["runs"] == 2 and "mmap_threshold" in fresh["glibc_tunables"]
    for variant in ("default_malloc", "glibc_heap_reuse"):
        assert fresh[variant]["first_run_seconds"] > 0 and fresh[variant]["later_runs_median_seconds"] > 0
        assert fresh[variant]["peak_mb"] >= fresh[variant]["after_imports_mb"]
    batch = report["batch"]
    assert batch["n_files"] == 4 and batch["shape"] == [350, 400]
    for workers in (1, 2):
        assert batch[f"workers_{workers}"]["files_per_second"] == pytest.approx(
            4 / batch[f"workers_{workers}"]["seconds"], rel=1e-2)
    for ratio, key in (("ratio_2_to_1", "files_per_second"), ("ratio_2_to_1_marginal", "marginal_files_per_second")):
        assert batch[ratio] == pytest.approx(batch["workers_2"][key] / batch["workers_1"][key], rel=1e-2)
    naive = report["naive"]
    assert set(naive["seconds"]) == {"decode", "anatomy", "detection", "features", "clusters", "pipeline"}
    assert naive["speedup"]["pipeline"] == pytest.approx(
        naive["seconds"]["pipeline"] / report["cases"]["phantom_500x400"]["seconds"]["pipeline"], rel=0.05)
