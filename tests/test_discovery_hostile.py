"""Special files and undecodable file names in a batch: nothing blocks, each gets a row or a
``skipped`` entry with its reason, and the good files of the same run succeed."""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import sys
from pathlib import Path

import pytest
from batch_corpus import write_good

from mammo_cv.io import load_image
from mammo_cv.run.cli import main
from mammo_cv.run.discovery import discover_inputs

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo") or sys.platform == "darwin",
                                reason="FIFOs, /dev/zero and undecodable names are POSIX (Linux) cases")

# A FIFO open() blocks until a writer comes: without the regular-file check the test would hang,
# so each case runs under an alarm that turns a hang into a failure.
_HANG_SECONDS = 120


@pytest.fixture()
def no_hang():
    def fail(signum, frame):
        raise TimeoutError(f"blocked for {_HANG_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, fail)
    signal.alarm(_HANG_SECONDS)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _special_files(folder: Path) -> dict[str, str]:
    """A FIFO, links to /dev/zero and /dev/urandom and a unix socket in ``folder``: name -> kind."""
    folder.mkdir(parents=True, exist_ok=True)
    os.mkfifo(folder / "pipe.dcm")
    (folder / "zero.dcm").symlink_to("/dev/zero")
    (folder / "urandom").symlink_to("/dev/urandom")
    server = socket.socket(socket.AF_UNIX)
    server.bind(os.fspath(folder / "sock.dcm"))
    server.close()  # the socket file stays
    return {"pipe.dcm": "a FIFO (named pipe)", "zero.dcm": "a character device",
            "urandom": "a character device", "sock.dcm": "a socket"}


def test_special_files_in_a_folder_are_skipped_with_their_reason(tmp_path, no_hang):
    kinds = _special_files(tmp_path / "in")
    good = write_good(tmp_path / "in" / "good.dcm", uid_seed="good", study="s")
    files, skipped = discover_inputs([tmp_path / "in"], take_raster=False)
    assert [file.path for file in files] == [good]
    assert {Path(entry["path"]).name: entry["reason"] for entry in skipped} == {
        name: f"{kind}, not a regular file: never opened" for name, kind in kinds.items()}


@pytest.mark.parametrize("name", ["pipe.dcm", "zero.dcm", "urandom", "sock.dcm"])
def test_a_special_file_named_directly_is_refused_unopened(tmp_path, no_hang, name):
    kind = _special_files(tmp_path)[name]
    with pytest.raises(Exception, match="not a regular file") as info:
        load_image(tmp_path / name)
    assert type(info.value).__name__ == "NotDicomError" and info.value.path == str(tmp_path / name)
    assert kind in str(info.value)


def test_special_files_and_an_undecodable_name_end_to_end(tmp_path, no_hang):
    """One CLI run: the specials in the folder are skipped, a FIFO named directly is an error row,
    and a file named ``bad\\xff.dcm`` is analysed, its source_path round-tripping to its bytes."""
    folder = tmp_path / "in"
    _special_files(folder)
    good = write_good(folder / "good.dcm", uid_seed="good", study="s")
    odd = Path(os.fsdecode(os.fsencode(folder) + b"/bad\xff.dcm"))
    write_good(odd, uid_seed="odd", study="other")
    os.mkfifo(tmp_path / "named_pipe")
    out = tmp_path / "out"
    code = main(["analyze", str(folder), str(tmp_path / "named_pipe"), "--out", str(out), "--workers", "1",
                 "--quiet", "--no-overlays"])
    assert code == 1  # the named FIFO failed, nothing else
    with open(out / "images.csv", newline="", encoding="utf-8", errors="surrogateescape") as handle:
        rows = {row["source_path"]: row for row in csv.DictReader(handle)}
    assert os.fsencode(odd) in {os.fsencode(path) for path in rows}
    assert rows[str(odd)]["status"] == rows[str(good)]["status"] == "ok"
    pipe_row = rows[str(tmp_path / "named_pipe")]
    assert pipe_row["status"] == "error" and pipe_row["error"].startswith(
        f"NotDicomError: {tmp_path / 'named_pipe'}: a FIFO (named pipe), not a regular file")
    run = json.loads((out / "run.json").read_text())
    assert sorted(Path(entry["path"]).name for entry in run["skipped"]) == ["pipe.dcm", "sock.dcm", "urandom",
                                                                            "zero.dcm"]
