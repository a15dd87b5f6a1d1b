"""Inputs for the batch tests, generated on the fly (never committed as binaries).

Good files are small phantoms (0.3 mm, 100 x 80 mm: 333 x 267 px, ~0.05 s to analyse) written
as Digital Mammography DICOMs, two views per study. Bad files are made from a good one by
changing its header or its bytes, one defect each.
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path

import cv2
import numpy as np

from mammo_cv.io import write_mammo_dicom
from mammo_cv.synthetic.phantoms import phantom

SPACING_MM = 0.3
SIZE_MM = (100.0, 80.0)
# Protected health information markers: none of these may appear in any output.
PHI = {"PatientName": "PHIMARKER^NAME", "PatientID": "PHIMARKER-ID", "PatientBirthDate": "19230405",
       "AccessionNumber": "PHIMARKER-ACC"}


@functools.lru_cache(maxsize=8)
def stored_phantom(laterality: str, view: str, seed: int) -> np.ndarray:
    """Stored 12-bit values of a small phantom (cached: the tests reuse a few anatomies)."""
    ph = phantom(spacing_mm=SPACING_MM, size_mm=SIZE_MM, laterality=laterality, view=view, seed=seed)
    stored = ph.to_stored()
    stored.setflags(write=False)
    return stored


def write_good(path: Path, *, uid_seed: str, study: str, laterality: str = "L", view: str = "CC",
               seed: int = 1, extra: dict | None = None) -> Path:
    """One analysable phantom DICOM of study ``study``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_mammo_dicom(path, stored_phantom(laterality, view, seed), spacing_mm=SPACING_MM, laterality=laterality,
                      view=view, uid_seed=uid_seed, study_uid_seed=study, extra=extra)
    return path


def write_good_studies(folder: Path, n_studies: int, *, prefix: str = "s", extra: dict | None = None) -> list[Path]:
    """``n_studies`` studies of two images each (left CC and right CC) in ``folder/<study>/``."""
    paths = []
    for k in range(n_studies):
        study = f"{prefix}{k:03d}"
        for laterality in ("L", "R"):
            paths.append(write_good(folder / study / f"{laterality}CC.dcm", uid_seed=f"{study}-{laterality}",
                                    study=study, laterality=laterality, seed=1 + k % 3, extra=extra))
    return paths


def _small(path: Path, *, uid_seed: str, extra: dict) -> Path:
    stored = np.full((40, 30), 100, np.uint16)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_mammo_dicom(path, stored, spacing_mm=0.1, laterality="L", view="CC", uid_seed=uid_seed, extra=extra)
    return path


#: Every bad DICOM of the corpus: file name -> (error type, words the message must hold).
BAD_DICOM_EXPECTED: dict[str, tuple[str, tuple[str, ...]]] = {
    "truncated.dcm": ("CorruptPixelDataError", ("truncated",)),  # cut at 2/3 of the file
    "no_pixel_data.dcm": ("NoPixelDataError", ("no Pixel Data (7FE0,0010)",)),
    "wrong_length.dcm": ("CorruptPixelDataError", ("1800 bytes", "2400")),
    "rgb.dcm": ("NotMammogramError", ("SamplesPerPixel", "RGB")),
    "multi_frame.dcm": ("NotMammogramError", ("multi-frame", "NumberOfFrames")),
    "non_image_sop.dcm": ("NoPixelDataError", ("Basic Text SR Storage",)),
    "non_mg_modality.dcm": ("NotMammogramError", ("SOP Class UID", "CT Image Storage")),
    "zero_size.dcm": ("CorruptPixelDataError", ("Rows",)),
    "huge_claim.dcm": ("ImageTooLargeError", ("60000 x 60000", "max_pixels")),
}


def write_bad_dicoms(folder: Path, good: Path) -> dict[str, Path]:
    """The bad DICOMs of :data:`BAD_DICOM_EXPECTED` in ``folder``; ``good`` is a good DICOM to
    truncate. All are recognised as DICOM by content, so a folder walk takes them."""
    folder.mkdir(parents=True, exist_ok=True)
    data = good.read_bytes()
    paths = {name: folder / name for name in BAD_DICOM_EXPECTED}
    paths["truncated.dcm"].write_bytes(data[: len(data) * 2 // 3])
    _small(paths["no_pixel_data.dcm"], uid_seed="bad-nopix", extra={"PixelData": None})
    _small(paths["wrong_length.dcm"], uid_seed="bad-length", extra={"PixelData": bytes(40 * 30 * 2 - 600)})
    _small(paths["rgb.dcm"], uid_seed="bad-rgb", extra={"SamplesPerPixel": 3, "PhotometricInterpretation": "RGB",
                                                         "PlanarConfiguration": 0, "BitsAllocated": 8,
                                                         "BitsStored": 8, "HighBit": 7,
                                                         "PixelData": bytes(40 * 30 * 3)})
    _small(paths["multi_frame.dcm"], uid_seed="bad-frames", extra={"NumberOfFrames": 2,
                                                                    "PixelData": bytes(40 * 30 * 2 * 2)})
    _small(paths["non_image_sop.dcm"], uid_seed="bad-sop",  # a Basic Text SR in an MG export
           extra={"SOPClassUID": "1.2.840.10008.5.1.4.1.1.88.11", "Modality": "SR", "PixelData": None,
                  "Rows": None, "Columns": None})
    _small(paths["non_mg_modality.dcm"], uid_seed="bad-ct", extra={"Modality": "CT",
                                                                    "SOPClassUID": "1.2.840.10008.5.1.4.1.1.2"})
    _small(paths["zero_size.dcm"], uid_seed="bad-zero", extra={"Rows": 0, "PixelData": b""})
    _small(paths["huge_claim.dcm"], uid_seed="bad-huge", extra={"Rows": 60000, "Columns": 60000})
    return paths


def write_random_bytes(path: Path, seed: int = 0) -> Path:
    """4 KiB of random bytes: neither DICOM nor raster."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(np.random.default_rng(seed).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    return path


def write_png_named_dcm(path: Path) -> Path:
    """A small grey PNG under a ``.dcm`` name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, png = cv2.imencode(".png", np.full((16, 16), 128, np.uint8))
    assert ok
    path.write_bytes(png.tobytes())
    return path


def referenced_uids(dataset) -> set[str]:
    """Every Referenced SOP Instance UID anywhere in the pydicom ``dataset`` (SEG and SR nest them differently)."""
    return {str(element.value) for element in dataset.iterall() if element.keyword == "ReferencedSOPInstanceUID"}


def csv_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV table written by a batch, as dicts of strings."""
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def image_rows(out: Path) -> list[dict[str, str]]:
    """``images.csv`` of the output folder ``out`` without its timing column (``seconds``)."""
    return [{k: v for k, v in row.items() if k != "seconds"} for row in csv_rows(out / "images.csv")]
