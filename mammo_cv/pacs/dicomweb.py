"""The round trip with an archive over DICOMweb: WADO-RS retrieval of a study's MG images, STOW-RS
storage of the objects made from them.

Credentials never come from the command line: ``MAMMO_CV_DICOMWEB_TOKEN`` (a bearer token), or
``MAMMO_CV_DICOMWEB_USER`` and ``MAMMO_CV_DICOMWEB_PASSWORD`` (HTTP basic), else the user's
``~/.netrc`` (or ``$NETRC``), which requests reads for the server's host.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pydicom
import requests
from dicomweb_client.api import DICOMwebClient
from pydicom.dataset import Dataset
from pydicom.uid import UID
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from mammo_cv.core.files import write_bytes_atomic

__all__ = ["DicomwebError", "SendFailure", "connect", "retrieve_studies", "send_objects", "study_folder"]

# Retries of a request that fails to connect or gets a 5xx answer: 0.25 s backoff doubling
# (0.5, 1, 2 s between tries), about 4 s before a dead server is reported.
RETRIES = 3
BACKOFF_S = 0.25
RETRY_STATUSES = (500, 502, 503, 504)
TIMEOUT_S = (5.0, 120.0)  # (connect, read) per request


class DicomwebError(RuntimeError):
    """A DICOMweb request failed; the message names the server, the study and the HTTP status."""


@dataclass(frozen=True)
class SendFailure:
    """An image whose objects the archive did not store.

    Attributes
    ----------
    image_id : str
    study_uid : str
        Study Instance UID of the objects (for the message on stderr; it may identify a patient).
    status : int or None
        HTTP status of the last answer; None when the server could not be reached.
    error : str
        One line: the HTTP status and reason, or the connection error.
    """

    image_id: str
    study_uid: str
    status: int | None
    error: str


def _session(environ: Mapping[str, str]) -> requests.Session:
    """A session that retries connection errors and 5xx answers, with the credentials of ``environ``."""
    session = requests.Session()
    retry = Retry(total=RETRIES, connect=RETRIES, read=RETRIES, status=RETRIES, backoff_factor=BACKOFF_S,
                  status_forcelist=RETRY_STATUSES, allowed_methods=None, raise_on_status=False)
    for prefix in ("http://", "https://"):
        session.mount(prefix, HTTPAdapter(max_retries=retry))
    if environ.get("MAMMO_CV_DICOMWEB_TOKEN"):
        session.headers["Authorization"] = f"Bearer {environ['MAMMO_CV_DICOMWEB_TOKEN']}"
    elif environ.get("MAMMO_CV_DICOMWEB_USER"):
        session.auth = (environ["MAMMO_CV_DICOMWEB_USER"], environ.get("MAMMO_CV_DICOMWEB_PASSWORD", ""))
    return session  # no auth set: requests takes the host's entry of ~/.netrc, if any


def connect(url: str, *, environ: Mapping[str, str] | None = None) -> DICOMwebClient:
    """A DICOMweb client of the service at ``url`` (e.g. ``http://pacs:8042/dicom-web``).

    Parameters
    ----------
    url : str
        Base URL of the QIDO-RS, WADO-RS and STOW-RS services.
    environ : mapping, optional
        Where the credentials are read (default: ``os.environ``).
    """
    client = DICOMwebClient(url.rstrip("/"), session=_session(os.environ if environ is None else environ),
                            timeout=TIMEOUT_S)
    client.set_http_retry_params(retry=False)  # the session retries (connection errors too)
    return client


def _failure(exc: Exception) -> tuple[int | None, str]:
    """(HTTP status or None, one-line reason) of a failed request."""
    response = getattr(exc, "response", None)
    if response is not None:
        return response.status_code, f"HTTP {response.status_code} {response.reason}"
    return None, f"connection failed ({type(exc).__name__})"


def study_folder(cache_dir: Path, study_uid: str) -> Path:
    """The folder of a retrieved study: named by a hash, since a Study Instance UID may identify a patient."""
    return cache_dir / hashlib.sha256(study_uid.encode()).hexdigest()[:24]


def _uid(value: object, what: str, url: str) -> str:
    uid = UID(str(value))
    if not uid.is_valid:  # it becomes a file name: no path may come from the server
        raise DicomwebError(f"{url}: the server gave an invalid {what} {str(value)[:80]!r}")
    return str(uid)


def _tag_value(item: Mapping, tag: str) -> object:
    return item.get(tag, {}).get("Value", [""])[0]


def _retrieve_study(client: DICOMwebClient, study_uid: str, folder: Path) -> list[Path]:
    """Retrieve the MG instances of one study into ``folder`` (those already there are kept)."""
    paths = []
    for series in client.search_for_series(study_uid, search_filters={"Modality": "MG"}):
        series_uid = _uid(_tag_value(series, "0020000E"), "Series Instance UID", client.base_url)
        for instance in client.search_for_instances(study_uid, series_uid):
            sop_uid = _uid(_tag_value(instance, "00080018"), "SOP Instance UID", client.base_url)
            path = folder / f"{sop_uid}.dcm"
            if not path.is_file():
                dataset = client.retrieve_instance(study_uid, series_uid, sop_uid)
                folder.mkdir(parents=True, exist_ok=True)
                buffer = BytesIO()
                dataset.save_as(buffer, enforce_file_format=True)
                write_bytes_atomic(path, buffer.getvalue())
            paths.append(path)
    return paths


def retrieve_studies(client: DICOMwebClient, study_uids: Sequence[str], cache_dir: Path) -> list[Path]:
    """Retrieve the MG images of each study by WADO-RS into ``cache_dir`` and return their paths.

    Each study goes to ``cache_dir/<hash of its UID>/<SOP Instance UID>.dcm``; an instance
    already there is not retrieved again (so a rerun or ``--resume`` reuses it).

    Raises
    ------
    DicomwebError
        If a request fails (after the retries) or the study has no MG image: the message names
        the server, the study and the HTTP status.
    """
    paths = []
    for study_uid in study_uids:
        try:
            found = _retrieve_study(client, _uid(study_uid, "Study Instance UID", client.base_url),
                                    study_folder(cache_dir, study_uid))
        except (requests.RequestException, ValueError) as exc:
            raise DicomwebError(f"{client.base_url}: study {study_uid}: retrieval failed: {_failure(exc)[1]}") from exc
        if not found:
            raise DicomwebError(f"{client.base_url}: study {study_uid}: no MG images found (QIDO-RS)")
        paths.extend(found)
    return paths


def _store(client: DICOMwebClient, datasets: list[Dataset]) -> tuple[int | None, str] | None:
    """Store ``datasets`` (one study) by STOW-RS; None if all were stored, else (status, reason)."""
    try:
        answer = client.store_instances(datasets, study_instance_uid=datasets[0].StudyInstanceUID)
    except requests.RequestException as exc:
        return _failure(exc)
    failed = answer.get("FailedSOPSequence", [])
    if failed:
        reasons = sorted({str(item.get("FailureReason", "?")) for item in failed})
        return None, f"{len(failed)} of {len(datasets)} objects refused (failure reason {', '.join(reasons)})"
    return None


def send_objects(client: DICOMwebClient, objects: Mapping[str, Sequence[Path]]) -> list[SendFailure]:
    """Store each image's object files by STOW-RS, one request per image.

    Parameters
    ----------
    objects : mapping of str to sequence of Path
        ``image_id`` -> its Part 10 files (``DIR/dicom/<image_id>_<kind>.dcm``).

    Returns
    -------
    list of SendFailure
        The images not stored (after the retries), in the order of ``objects``.
    """
    failures = []
    for image_id, paths in objects.items():
        datasets = [pydicom.dcmread(path) for path in paths]
        failed = _store(client, datasets)
        if failed is not None:
            failures.append(SendFailure(image_id, str(datasets[0].StudyInstanceUID), *failed))
    return failures
