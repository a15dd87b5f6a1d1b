"""Fault injection on whole runs: kill -9 of the main process, of a worker and of the fork
server, then ``--resume``; a ``mammo_cv`` package in the current directory. Every run is a fresh
``mammo-cv analyze`` process started from a launcher script outside the current directory (as
the console script is), in a session of its own, so that every process of the run can be found."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from batch_corpus import image_rows, write_good_studies

from mammo_cv.run.cli import main

TABLES = ("calcifications.csv", "clusters.csv", "breasts.csv")
N_STUDIES = 8  # 16 images

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("faults")
    write_good_studies(root / "in", N_STUDIES)
    launcher = root / "launch" / "mammo_cv_cli.py"
    launcher.parent.mkdir()
    launcher.write_text("import sys\nfrom mammo_cv.run.cli import main\nsys.exit(main())\n")
    command = [sys.executable, str(launcher), "analyze", str(root / "in"), "--workers", "2", "--quiet"]
    reference = root / "reference"
    assert subprocess.run([*command, "--out", str(reference)], env=_env()).returncode == 0
    return command, reference


def _env() -> dict[str, str]:
    """This environment with PYTHONPATH made absolute (a relative entry would follow the run's cwd)."""
    entries = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    return {**os.environ, "PYTHONPATH": os.pathsep.join(os.path.abspath(e) for e in entries if e)}


def _processes() -> list[dict[str, object]]:
    """Every process: pid, ppid, session and command line (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # ended meanwhile
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        found.append({"pid": int(entry.name), "ppid": int(fields[1]), "session": int(fields[3]), "cmdline": cmdline})
    return found


def _left_in_session(session: int, timeout_s: float = 15.0) -> list[dict[str, object]]:
    """The processes of ``session`` still alive once they have had ``timeout_s`` to end."""
    deadline = time.monotonic() + timeout_s
    while True:
        left = [p for p in _processes() if p["session"] == session]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


def _victim(main_pid: int, target: str) -> int:
    """The pid of ``target`` ("main", "forkserver" or "worker") of the run ``main_pid``."""
    if target == "main":
        return main_pid
    processes = _processes()
    server = next(p["pid"] for p in processes if p["ppid"] == main_pid and "forkserver" in p["cmdline"])
    if target == "forkserver":
        return server
    return next(p["pid"] for p in processes if p["ppid"] == server)


def _start_and_kill(command: list[str], out: Path, target: str, after_parts: int) -> int:
    """Start a run, kill -9 its ``target`` once ``after_parts`` parts exist; return the main process."""
    process = subprocess.Popen([*command, "--out", str(out)], start_new_session=True, env=_env())
    deadline = time.monotonic() + 120
    while len(list((out / ".parts").glob("*.json"))) < after_parts and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process.poll() is None, "the run ended before it could be killed"
    os.kill(_victim(process.pid, target), signal.SIGKILL)
    code = process.wait(timeout=300)
    return process.pid if target == "main" else code


def _same_tables(out: Path, reference: Path) -> None:
    for name in TABLES:
        assert (out / name).read_bytes() == (reference / name).read_bytes(), name
    assert image_rows(out) == image_rows(reference)


@pytest.mark.parametrize("after_parts", [1, 10])
def test_kill_9_of_the_main_process_leaves_no_process_and_resume_gives_the_same_tables(corpus, tmp_path,
                                                                                      after_parts):
    command, reference = corpus
    out = tmp_path / "out"
    main_pid = _start_and_kill(command, out, "main", after_parts)
    assert _left_in_session(main_pid) == []  # workers, fork server, resource tracker: all gone
    n_parts = len(list((out / ".parts").glob("*.json")))
    assert after_parts <= n_parts < 2 * N_STUDIES
    assert not (out / "images.csv").exists()  # no table looks current
    assert subprocess.run([*command, "--out", str(out), "--resume"], env=_env()).returncode == 0
    _same_tables(out, reference)


@pytest.mark.parametrize("target", ["worker", "forkserver"])
def test_kill_9_of_a_worker_or_the_fork_server_costs_nothing(corpus, tmp_path, target):
    """The studies the dead pool was running are run again; the run ends with every image ok,
    the tables of an uninterrupted run, and no process left."""
    command, reference = corpus
    out = tmp_path / "out"
    process = subprocess.Popen([*command, "--out", str(out)], start_new_session=True, env=_env())
    deadline = time.monotonic() + 120
    while len(list((out / ".parts").glob("*.json"))) < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process.poll() is None, "the run ended before it could be killed"
    os.kill(_victim(process.pid, target), signal.SIGKILL)
    assert process.wait(timeout=300) == 0
    assert _left_in_session(process.pid) == []
    _same_tables(out, reference)
    assert subprocess.run([*command, "--out", str(out), "--resume"], env=_env()).returncode == 0
    _same_tables(out, reference)


@pytest.mark.parametrize("decoy", ["empty_package", "shadowing_copy"])
def test_workers_never_import_a_mammo_cv_folder_in_the_current_directory(corpus, tmp_path, decoy):
    command, _ = corpus
    write_good_studies(tmp_path / "in", 2)
    command = [*command[:3], str(tmp_path / "in"), *command[4:]]
    reference = tmp_path / "reference"
    assert main(["analyze", str(tmp_path / "in"), "--out", str(reference), "--workers", "1", "--quiet"]) == 0
    cwd = tmp_path / "cwd"
    package = cwd / "mammo_cv"
    package.mkdir(parents=True)
    marker = tmp_path / "decoy-imported"
    if decoy == "empty_package":
        (package / "__init__.py").write_text("")
    else:  # runs silently: it records its import, then serves the installed package's modules
        import mammo_cv

        (package / "__init__.py").write_text(
            f"open({str(marker)!r}, 'a').write('imported')\n__path__.append({str(Path(mammo_cv.__file__).parent)!r})\n")
    out = tmp_path / "out"
    assert subprocess.run([*command, "--out", str(out)], cwd=cwd, env=_env()).returncode == 0
    assert not marker.exists()
    _same_tables(out, reference)
