"""Regenerate ``sample_dicoms/``: small synthetic mammograms with ground-truth sidecars.

Each sample is a phantom from :func:`mammo_cv.synthetic.phantoms.phantom` written with
:func:`mammo_cv.io.write_mammo_dicom`, plus ``<name>.json`` = the phantom truth, the
arguments that rebuild it (``phantom_args``) and the DICOM encoding facts (``dicom``).
Reruns give identical bytes.

Usage::

    python scripts/make_sample_dicoms.py                   # all samples into sample_dicoms/
    python scripts/make_sample_dicoms.py --out /tmp/x --only s01_LCC_proc_m2_explicit
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np

from mammo_cv.io import write_mammo_dicom
from mammo_cv.synthetic.phantoms import phantom

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "sample_dicoms"

# PatientOrientation (row direction\col direction) of the usual MG storage, in which the
# chest wall is on the left column edge for a left breast and on the right for a right one.
_ORIENTATION = {("L", "CC"): ["A", "R"], ("R", "CC"): ["P", "L"],
                ("L", "MLO"): ["A", "FR"], ("R", "MLO"): ["P", "FL"]}

# Between them the samples cover: MONOCHROME1/2, L/R, CC/MLO, For Processing/Presentation
# (VOI window), explicit/RLE/JPEG 2000 lossless, ERMF 1.0/1.08/1.15, 0.1/0.07 mm, one study
# holding both breasts (s01), a calibrated Pixel Spacing, and one non-standard orientation.
# Fields are modest (<= 120 x 96 mm) to keep the set far below 10 MB in git.
SAMPLES: dict[str, dict] = {
    "s01_LCC_proc_m2_explicit": {
        "phantom": {"seed": 101, "spacing_mm": 0.1, "size_mm": [120.0, 96.0], "laterality": "L",
                    "view": "CC", "age_years": 58},
        "dicom": {"photometric": "MONOCHROME2", "presentation_intent": "FOR PROCESSING",
                  "transfer_syntax": "explicit", "ermf": 1.0, "study_uid_seed": "sample-study-01"},
    },
    "s01_RCC_proc_m1_rle": {
        "phantom": {"seed": 102, "spacing_mm": 0.1, "size_mm": [120.0, 96.0], "laterality": "R",
                    "view": "CC", "age_years": 58},
        "dicom": {"photometric": "MONOCHROME1", "presentation_intent": "FOR PROCESSING",
                  "transfer_syntax": "rle", "ermf": 1.08, "study_uid_seed": "sample-study-01"},
    },
    "s02_LMLO_pres_m2_j2k": {
        "phantom": {"seed": 201, "spacing_mm": 0.07, "size_mm": [110.0, 90.0], "laterality": "L",
                    "view": "MLO", "age_years": 47},
        "dicom": {"photometric": "MONOCHROME2", "presentation_intent": "FOR PRESENTATION",
                  "transfer_syntax": "j2k_lossless", "ermf": 1.15, "voi": True},
    },
    "s03_RMLO_pres_m1_j2k_pixelspacing": {
        "phantom": {"seed": 301, "spacing_mm": 0.07, "size_mm": [110.0, 90.0], "laterality": "R",
                    "view": "MLO", "age_years": 71},
        "dicom": {"photometric": "MONOCHROME1", "presentation_intent": "FOR PRESENTATION",
                  "transfer_syntax": "j2k_lossless", "ermf": 1.08, "voi": True,
                  "use_pixel_spacing": True},
    },
    "s04_RCC_proc_m2_rle_chestwall_left": {
        "phantom": {"seed": 401, "spacing_mm": 0.1, "size_mm": [100.0, 80.0], "laterality": "R",
                    "view": "CC", "age_years": 64, "chest_wall_side": "left"},
        "dicom": {"photometric": "MONOCHROME2", "presentation_intent": "FOR PROCESSING",
                  "transfer_syntax": "rle", "ermf": 1.0},
    },
}

BITS_STORED = 12
# VOI window (stored units) spanning these percentiles of the breast: a plain linear window
# such as a For Presentation file would carry.
VOI_PERCENTILES = (0.5, 99.5)


def voi_window(stored: np.ndarray, breast_mask: np.ndarray) -> tuple[float, float]:
    """(center, width) in stored units covering ``VOI_PERCENTILES`` of the breast pixels."""
    lo, hi = np.percentile(stored[breast_mask], VOI_PERCENTILES)
    return float(round((lo + hi) / 2.0, 1)), float(round(max(hi - lo, 1.0), 1))


def build_sample(name: str, out_dir: Path) -> Path:
    """Write ``<name>.dcm`` and ``<name>.json`` into ``out_dir``; return the DICOM path."""
    spec = SAMPLES[name]
    args = dict(spec["phantom"])
    args["size_mm"] = tuple(args["size_mm"])
    ph = phantom(**args)
    enc = spec["dicom"]
    stored = ph.to_stored(bits_stored=BITS_STORED, photometric=enc["photometric"])
    window = voi_window(stored, ph.breast_mask) if enc.get("voi") else None
    lat, view = ph.image.laterality.value, ph.image.view.value
    standard = ph.truth["chest_wall_side"] == ("left" if lat == "L" else "right")
    orientation = _ORIENTATION[(lat, view)] if standard else None
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.dcm"
    write_mammo_dicom(path, stored, spacing_mm=ph.image.spacing_mm, ermf=enc["ermf"],
                      laterality=lat, view=view, photometric=enc["photometric"],
                      presentation_intent=enc["presentation_intent"], bits_stored=BITS_STORED,
                      voi_window=window, transfer_syntax=enc["transfer_syntax"], uid_seed=name,
                      study_uid_seed=enc.get("study_uid_seed"),
                      use_pixel_spacing=enc.get("use_pixel_spacing", False),
                      extra={"PatientOrientation": orientation} if orientation else None)
    spacing = list(ph.image.spacing_mm)
    sidecar = {
        **ph.truth,
        "phantom_args": spec["phantom"],
        "dicom": {
            "file": path.name,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "photometric": enc["photometric"],
            "presentation_intent": enc["presentation_intent"],
            "transfer_syntax": enc["transfer_syntax"],
            "bits_stored": BITS_STORED,
            "ermf": enc["ermf"],
            "imager_pixel_spacing_mm": [s * enc["ermf"] for s in spacing],
            "pixel_spacing_written": bool(enc.get("use_pixel_spacing", False)),
            "spacing_mm": spacing,
            "voi_window": list(window) if window else None,
            "patient_orientation": orientation,
            "uid_seed": name,
            "study_uid_seed": enc.get("study_uid_seed"),
            "stored_value": "round(phantom pixels); MONOCHROME1 stores 4095 - that",
        },
    }
    text = json.dumps(sidecar, indent=1, sort_keys=True) + "\n"
    (out_dir / f"{name}.json").write_text(text, encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--only", action="append", choices=sorted(SAMPLES), help="sample name (repeatable)")
    ns = parser.parse_args(argv)
    for name in ns.only or SAMPLES:
        path = build_sample(name, ns.out)
        print(f"{path}  {path.stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
