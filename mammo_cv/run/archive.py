"""``mammo-cv analyze`` with an archive: ``--dicomweb URL --study UID`` retrieves the inputs,
``--send URL`` stores the ``--dicom`` objects back (:mod:`mammo_cv.pacs.dicomweb`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from mammo_cv.core.optional import require
from mammo_cv.run.discovery import WorkItem
from mammo_cv.run.outcomes import ImageOutcome
from mammo_cv.run.parts import dicom_path

__all__ = ["CACHE_DIR", "add_archive_options", "archive_usage_error", "retrieve_inputs", "send_results"]

CACHE_DIR = ".dicomweb-cache"


def add_archive_options(parser: argparse.ArgumentParser) -> None:
    """The ``--dicomweb``, ``--study`` and ``--send`` options of ``analyze``."""
    parser.add_argument("--dicomweb", metavar="URL",
                        help="DICOMweb service to read the --study images from (WADO-RS), e.g. "
                             "http://pacs:8042/dicom-web; credentials from MAMMO_CV_DICOMWEB_TOKEN, "
                             "MAMMO_CV_DICOMWEB_USER/_PASSWORD or ~/.netrc")
    parser.add_argument("--study", action="append", metavar="UID",
                        help="Study Instance UID to retrieve from --dicomweb (repeatable); its MG images "
                             f"go to DIR/{CACHE_DIR}/ and are analysed with the INPUTs")
    parser.add_argument("--send", metavar="URL",
                        help="DICOMweb service to store the --dicom objects in (STOW-RS); failed sends are "
                             "listed in run.json and make the exit code 1")


def _url_error(url: str | None, option: str) -> str | None:
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"{option} {url}: not an http(s) URL"
    if parts.username or parts.password:
        return (f"{option}: no credentials in the URL; use MAMMO_CV_DICOMWEB_TOKEN, "
                "MAMMO_CV_DICOMWEB_USER and MAMMO_CV_DICOMWEB_PASSWORD, or ~/.netrc")
    return None


def archive_usage_error(args: argparse.Namespace) -> str | None:
    """What is wrong with the archive options of ``args`` (and INPUT), or None."""
    if not args.inputs and args.dicomweb is None:
        return "give INPUT files or folders, or --dicomweb URL --study UID"
    if (args.dicomweb is None) != (not args.study):
        return "--dicomweb URL and --study UID go together"
    if args.send is not None and not args.dicom:
        return "--send stores the --dicom objects: add --dicom"
    return _url_error(args.dicomweb, "--dicomweb") or _url_error(args.send, "--send")


def _dicomweb():
    require("dicomweb_client", "dicom", purpose="--dicomweb and --send")
    from mammo_cv.pacs import dicomweb

    return dicomweb


def retrieve_inputs(args: argparse.Namespace) -> list[Path]:
    """The MG images of the ``--study`` studies, retrieved into ``DIR/.dicomweb-cache``.

    Raises
    ------
    mammo_cv.pacs.dicomweb.DicomwebError
        If a study cannot be retrieved (the message names the server, the study and the HTTP status).
    """
    if args.dicomweb is None:
        return []
    dicomweb = _dicomweb()
    return dicomweb.retrieve_studies(dicomweb.connect(args.dicomweb), args.study, args.out / CACHE_DIR)


def send_results(args: argparse.Namespace, items: Sequence[WorkItem],
                 outcomes: Sequence[ImageOutcome]) -> dict[str, object] | None:
    """Store the objects of every analysed image in ``--send`` and report each failure on stderr.

    Returns
    -------
    dict or None
        For ``run.json``: the URL, the number of images sent and the failures (``image_id``,
        HTTP ``status``, ``error``; no study UID); None without ``--send``.
    """
    if args.send is None:
        return None
    from mammo_cv.pacs.export import OBJECT_KINDS

    ok = {str(o.image_row["image_id"]) for o in outcomes if o.image_row["status"] == "ok"}
    objects: dict[str, list[Path]] = {}
    for item in (item for item in items if item.image_id in ok):
        paths = [dicom_path(args.out, item.image_id, kind) for kind in OBJECT_KINDS]
        if all(path.is_file() for path in paths):  # raster inputs have none
            objects[item.image_id] = paths
    failures = _dicomweb().send_objects(_dicomweb().connect(args.send), objects)
    for failure in failures:
        print(f"mammo-cv: {args.send}: study {failure.study_uid}: STOW-RS of {failure.image_id} failed: "
              f"{failure.error}", file=sys.stderr)
    return {"url": args.send, "n_images": len(objects), "n_failed": len(failures),
            "failed": [{"image_id": f.image_id, "status": f.status, "error": f.error} for f in failures]}
