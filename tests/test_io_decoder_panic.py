"""Native decoders are untrusted: whatever they raise, BaseException included (pyo3's
PanicException), is a CorruptPixelDataError naming the file; Ctrl-C and exit still pass."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from batch_corpus import write_good

from mammo_cv.core.errors import CorruptPixelDataError
from mammo_cv.io import load_image
from mammo_cv.run.cli import main

SAMPLE_RLE = Path(__file__).resolve().parents[1] / "sample_dicoms" / "s01_RCC_proc_m1_rle.dcm"


@pytest.fixture(scope="module")
def panicking_frame() -> bytes:
    """The RLE sample's frame with the first single-byte flip (0xFF at frame bytes 64, 71,
    78...) that makes pylibjpeg-rle panic ("index out of bounds"); skips when none of the first
    600 does."""
    pydicom = pytest.importorskip("pydicom")
    rle = pytest.importorskip("rle.rle")
    from pydicom.encaps import generate_frames

    ds = pydicom.dcmread(SAMPLE_RLE)
    frame = bytes(next(generate_frames(ds.PixelData, number_of_frames=1)))
    for offset in range(64, 64 + 7 * 600, 7):
        mutated = bytearray(frame)
        mutated[offset] ^= 0xFF
        try:
            rle.decode_frame(bytes(mutated), int(ds.Rows) * int(ds.Columns), int(ds.BitsAllocated), "<")
        except BaseException as exc:  # noqa: BLE001 - looking for the one that is not an Exception
            if not isinstance(exc, Exception):
                return bytes(mutated)
    pytest.skip("no single-byte flip tried makes this pylibjpeg-rle panic")


def _panicking_rle_file(path: Path, frame: bytes) -> Path:
    import pydicom
    from pydicom.encaps import encapsulate

    ds = pydicom.dcmread(SAMPLE_RLE)
    ds.PixelData = encapsulate([frame])
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def test_a_real_rle_decoder_panic_is_corrupt_pixel_data(tmp_path, panicking_frame):
    path = _panicking_rle_file(tmp_path / "panic.dcm", panicking_frame)
    with pytest.raises(CorruptPixelDataError, match=r"panic.dcm: cannot decode Pixel Data .*PanicException") as info:
        load_image(path)
    assert info.value.path == str(path)


def test_a_panic_costs_one_row_in_a_one_worker_run(tmp_path, panicking_frame):
    """With --workers 1 the panic used to kill the whole CLI before any table was written."""
    path = _panicking_rle_file(tmp_path / "in" / "panic.dcm", panicking_frame)
    good = write_good(tmp_path / "in" / "good.dcm", uid_seed="good", study="s")
    code = main(["analyze", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--workers", "1", "--quiet",
                 "--no-overlays"])
    with open(tmp_path / "out" / "images.csv", newline="") as handle:
        rows = {row["source_path"]: row for row in csv.DictReader(handle)}
    assert code == 1 and rows[str(good)]["status"] == "ok"
    assert rows[str(path)]["error"].startswith(f"CorruptPixelDataError: {path}: cannot decode Pixel Data")


class _NativePanic(BaseException):
    """Stands in for a decoder's BaseException that is neither Ctrl-C nor exit."""


@pytest.mark.parametrize("raised, expected", [
    (_NativePanic("index out of bounds"), CorruptPixelDataError),
    (MemoryError("native allocation failed"), CorruptPixelDataError),
    (KeyboardInterrupt(), KeyboardInterrupt),
    (SystemExit(3), SystemExit),
    (GeneratorExit(), GeneratorExit),
])
def test_what_a_decoder_raises(tmp_path, monkeypatch, raised, expected):
    path = write_good(tmp_path / "x.dcm", uid_seed="x", study="s")

    def decoder(*args, **kwargs):
        raise raised

    monkeypatch.setattr("mammo_cv.io.dicom_read.decode_frame", decoder)
    with pytest.raises(expected) as info:
        load_image(path)
    if expected is CorruptPixelDataError:
        assert info.value.path == str(path) and type(raised).__name__ in str(info.value)

