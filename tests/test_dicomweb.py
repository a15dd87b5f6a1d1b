"""The DICOMweb round trip against a real Orthanc (Debian ``orthanc`` + ``orthanc-dicomweb``), started
on 127.0.0.1 with a temporary storage folder and a random port; and the options' checks."""

import json
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

pytest.importorskip("highdicom", reason="highdicom is not installed")
pytest.importorskip("dicomweb_client", reason="dicomweb-client is not installed")
import pydicom  # noqa: E402
from batch_corpus import PHI, referenced_uids, write_good_studies  # noqa: E402

import mammo_cv.run.cli as cli  # noqa: E402
from mammo_cv.pacs.dicomweb import _session  # noqa: E402
from mammo_cv.pacs.export import OBJECT_KINDS  # noqa: E402

ORTHANC = shutil.which("Orthanc") or "/usr/sbin/Orthanc"
PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Orthanc:
    """An Orthanc process with the DICOMweb plugin, its storage in ``folder``, no DICOM port."""

    def __init__(self, folder: Path):
        self.rest = f"http://127.0.0.1:{_free_port()}"
        self.url = f"{self.rest}/dicom-web"
        config = {"Name": "mammo_cv-test", "StorageDirectory": str(folder / "db"), "IndexDirectory": str(folder / "db"),
                  "HttpPort": int(self.rest.rsplit(":", 1)[1]), "DicomServerEnabled": False,
                  "DicomPort": _free_port(), "RemoteAccessAllowed": False, "AuthenticationEnabled": False,
                  "Plugins": [str(PLUGIN)], "DicomWeb": {"Enable": True, "Root": "/dicom-web/"}}
        (folder / "orthanc.json").write_text(json.dumps(config))
        self.log = open(folder / "orthanc.log", "wb")
        self.process = subprocess.Popen([ORTHANC, str(folder / "orthanc.json")], stdout=self.log,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while not self._up():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"Orthanc did not start: {(folder / 'orthanc.log').read_text()[-2000:]}")
            time.sleep(0.2)

    def _up(self) -> bool:
        try:
            return requests.get(f"{self.rest}/system", timeout=1).ok
        except requests.ConnectionError:
            return False

    def upload(self, path: Path) -> None:
        requests.post(f"{self.rest}/instances", data=path.read_bytes(), timeout=30).raise_for_status()

    def study_instances(self, study_uid: str) -> list[pydicom.Dataset]:
        """Every instance the server holds for ``study_uid`` (all its Orthanc patients), as datasets."""
        found = requests.post(f"{self.rest}/tools/find", timeout=30, json={
            "Level": "Instance", "Query": {"StudyInstanceUID": study_uid}}).json()
        return [pydicom.dcmread(_bytes(requests.get(f"{self.rest}/instances/{i}/file", timeout=30)))
                for i in found]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def _bytes(response: requests.Response):
    from io import BytesIO

    response.raise_for_status()
    return BytesIO(response.content)


@pytest.fixture
def orthanc_factory(tmp_path):
    if not (Path(ORTHANC).is_file() and PLUGIN.is_file()):
        pytest.skip("Orthanc with its DICOMweb plugin is not installed (Debian orthanc, orthanc-dicomweb)")
    servers = []

    def start(name: str) -> Orthanc:
        (tmp_path / name).mkdir()
        servers.append(Orthanc(tmp_path / name))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def _uploaded(server: Orthanc, folder: Path, n_studies: int) -> dict[str, list[pydicom.Dataset]]:
    """Upload ``n_studies`` two-image studies; Study Instance UID -> its source headers."""
    studies: dict[str, list[pydicom.Dataset]] = {}
    for path in write_good_studies(folder, n_studies, extra=PHI):
        server.upload(path)
        header = pydicom.dcmread(path, stop_before_pixels=True)
        studies.setdefault(header.StudyInstanceUID, []).append(header)
    return studies


def _analyze(server: Orthanc, studies, out: Path) -> int:
    study_args = [arg for uid in studies for arg in ("--study", uid)]
    return cli.main(["analyze", "--dicomweb", server.url, *study_args, "--send", server.url, "--dicom",
                     "--out", str(out), "--workers", "1", "--quiet", "--no-overlays"])


def _check_study(server: Orthanc, study_uid: str, sources: list[pydicom.Dataset]) -> None:
    """The study holds its sources plus exactly one object of each kind per source, referencing it."""
    held = server.study_instances(study_uid)
    assert sorted(ds.SOPInstanceUID for ds in held if ds.Modality == "MG") == sorted(s.SOPInstanceUID for s in sources)
    for kind in OBJECT_KINDS:
        objects = [ds for ds in held if ds.Modality == kind.upper()]
        assert len(objects) == len(sources), kind
        for source in sources:
            assert sum(source.SOPInstanceUID in referenced_uids(obj) for obj in objects) == 1, (kind, source)
        assert all(obj.PatientID == sources[0].PatientID for obj in objects)


@pytest.mark.slow
def test_round_trip_stores_one_object_per_kind_and_image_and_a_rerun_duplicates_nothing(orthanc_factory, tmp_path):
    server = orthanc_factory("pacs")
    studies = _uploaded(server, tmp_path / "upload", 2)
    out = tmp_path / "out"
    assert _analyze(server, studies, out) == 0
    for study_uid, sources in studies.items():
        _check_study(server, study_uid, sources)
    sends = json.loads((out / "run.json").read_text())["sends"]
    assert (sends["n_images"], sends["n_failed"]) == (4, 0)
    assert _analyze(server, studies, out) == 0  # the same study again: the objects are replaced
    for study_uid, sources in studies.items():
        _check_study(server, study_uid, sources)
    n_instances = requests.get(f"{server.rest}/statistics", timeout=10).json()["CountInstances"]
    assert n_instances == 4 * (1 + len(OBJECT_KINDS))


@pytest.mark.slow
def test_a_server_gone_before_the_send_fails_the_sends_not_the_run(orthanc_factory, tmp_path, monkeypatch, capsys):
    server = orthanc_factory("pacs")
    studies = _uploaded(server, tmp_path / "upload", 1)
    analysed = cli.run_batch

    def then_stop(*args, **kwargs):
        outcomes = analysed(*args, **kwargs)
        server.stop()  # retrieval is done, the send is still to come
        return outcomes

    monkeypatch.setattr(cli, "run_batch", then_stop)
    out = tmp_path / "out"
    assert _analyze(server, studies, out) == 1
    err = capsys.readouterr().err
    study_uid = next(iter(studies))
    assert err.count(f"{server.url}: study {study_uid}: STOW-RS of ") == 2 and "connection failed" in err
    run = json.loads((out / "run.json").read_text())
    assert (run["n_failed"], run["sends"]["n_images"], run["sends"]["n_failed"]) == (0, 2, 2)
    assert (out / "images.csv").is_file() and len(list((out / "dicom").glob("*.dcm"))) == 2 * len(OBJECT_KINDS)


def test_a_study_the_server_lacks_is_a_usage_error_naming_server_and_study(orthanc_factory, tmp_path, capsys):
    server = orthanc_factory("pacs")
    code = cli.main(["analyze", "--dicomweb", server.url, "--study", "1.2.3.4", "--out", str(tmp_path / "out")])
    assert code == 2
    assert f"{server.url}: study 1.2.3.4: no MG images found" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "message"), [
    ([], "give INPUT files or folders, or --dicomweb URL --study UID"),
    (["--dicomweb", "http://pacs/dicom-web"], "--dicomweb URL and --study UID go together"),
    (["x.dcm", "--study", "1.2.3"], "--dicomweb URL and --study UID go together"),
    (["x.dcm", "--send", "http://pacs/dicom-web"], "--send stores the --dicom objects: add --dicom"),
    (["--dicomweb", "http://user:secret@pacs/dicom-web", "--study", "1.2"], "no credentials in the URL"),
    (["x.dcm", "--dicom", "--send", "pacs:8042"], "not an http(s) URL"),
])
def test_archive_options_are_checked_before_any_work(argv, message, tmp_path, capsys):
    assert cli.main(["analyze", *argv, "--out", str(tmp_path / "out")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_credentials_come_from_the_environment():
    assert _session({"MAMMO_CV_DICOMWEB_USER": "ann", "MAMMO_CV_DICOMWEB_PASSWORD": "pw"}).auth == ("ann", "pw")
    token = _session({"MAMMO_CV_DICOMWEB_TOKEN": "t0k"})
    assert token.headers["Authorization"] == "Bearer t0k" and token.auth is None
    assert _session({}).auth is None and _session({}).trust_env  # requests then reads ~/.netrc
