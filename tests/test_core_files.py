"""Tests for mammo_cv.core.files: atomic writes leave the old file or the new one, never a part."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mammo_cv.core import files
from mammo_cv.core.files import write_bytes_atomic, write_text_atomic


def test_bytes_are_written_and_no_temporary_file_is_left(tmp_path):
    path = write_bytes_atomic(tmp_path / "a.bin", b"\x00\x01\xff")
    assert path == tmp_path / "a.bin"
    assert path.read_bytes() == b"\x00\x01\xff"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin"]


def test_an_existing_file_is_replaced(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"old content, longer than the new one")
    write_bytes_atomic(tmp_path / "a.txt", b"new")
    assert (tmp_path / "a.txt").read_bytes() == b"new"


def test_the_destination_keeps_its_old_content_until_the_rename(tmp_path, monkeypatch):
    path = tmp_path / "a.txt"
    path.write_bytes(b"old")
    seen = []

    def replace(source, destination):
        seen.append((Path(source).parent, path.read_bytes(), Path(source).read_bytes()))
        os.rename(source, destination)

    monkeypatch.setattr(files.os, "replace", replace)
    write_bytes_atomic(path, b"new")
    assert seen == [(tmp_path, b"old", b"new")]  # temporary file in the same folder
    assert path.read_bytes() == b"new"


def test_a_failed_write_removes_its_temporary_file(tmp_path):
    (tmp_path / "taken").mkdir()  # os.replace cannot put a file over a folder
    with pytest.raises(IsADirectoryError):
        write_bytes_atomic(tmp_path / "taken", b"data")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]
    assert list((tmp_path / "taken").iterdir()) == []


def test_a_missing_folder_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        write_bytes_atomic(tmp_path / "missing" / "a.bin", b"data")
    assert list(tmp_path.iterdir()) == []


def test_text_is_encoded_and_newlines_are_kept(tmp_path):
    write_text_atomic(tmp_path / "a.csv", "a,b\nµm,é\n")
    assert (tmp_path / "a.csv").read_bytes() == b"a,b\n\xc2\xb5m,\xc3\xa9\n"
    write_text_atomic(tmp_path / "b.txt", "é", encoding="latin-1")
    assert (tmp_path / "b.txt").read_bytes() == b"\xe9"
