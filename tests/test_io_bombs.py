"""Bombs are refused before decoding: the peak RSS of a process that loads one stays under 2 GB.

Each load runs in a child process; ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` of a
wrapper process gives the child's peak resident set (KiB on Linux).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from test_io_dicom import write
from test_io_hostile import deflated_file, zeros_deflated

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux only")]

# The target: at most 2 GB resident per process for every bomb.
_MAX_RSS_BYTES = 2 * 10**9

_MEASURE = """
import json, resource, subprocess, sys
child = subprocess.run([sys.executable, "-c", sys.argv[1], *sys.argv[2:]], capture_output=True, text=True)
print(json.dumps({"rss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                  "stdout": child.stdout, "stderr": child.stderr[-2000:], "code": child.returncode}))
"""

_LOAD = """
import sys
from mammo_cv.core.errors import MammoInputError
from mammo_cv.io import load_image
try:
    load_image(sys.argv[1])
except MammoInputError as exc:
    print(type(exc).__name__, exc)
else:
    print("loaded")
"""

_PLAN = """
import sys
from mammo_cv.run.discovery import discover_inputs, plan_studies
files, _ = discover_inputs([sys.argv[1]], take_raster=False)
print(len(plan_studies(files)), "studies")
"""


def _peak(script: str, *args: str) -> tuple[int, str]:
    """(peak RSS in bytes, stdout) of ``python -c script args`` in a child process."""
    done = subprocess.run([sys.executable, "-c", _MEASURE, script, *args], capture_output=True, text=True,
                          check=True, timeout=600)
    report = json.loads(done.stdout)
    assert report["code"] == 0, report["stderr"]
    return report["rss_kib"] * 1024, report["stdout"]


@pytest.fixture(scope="module")
def deflate_bomb(tmp_path_factory):
    """3 GiB of zeros deflated into about 3 MB, as a Digital Mammography file."""
    return deflated_file(tmp_path_factory.mktemp("bomb") / "deflate_bomb.dcm", zeros_deflated(48))


def test_deflate_bomb_load_stays_under_2_gb(deflate_bomb):
    assert deflate_bomb.stat().st_size < 4 << 20
    rss, out = _peak(_LOAD, str(deflate_bomb))
    assert out.startswith("ImageTooLargeError") and "Deflated data set inflates beyond" in out
    assert rss <= _MAX_RSS_BYTES, f"peak RSS {rss / 1e9:.2f} GB"


def test_deflate_bomb_planning_stays_under_2_gb(deflate_bomb):
    """Planning reads study keys from headers: the bomb must not be inflated there either."""
    rss, out = _peak(_PLAN, str(deflate_bomb))
    assert out.strip() == "1 studies"
    assert rss <= _MAX_RSS_BYTES, f"peak RSS {rss / 1e9:.2f} GB"


@pytest.mark.parametrize("claimed", [20000, 40000])
def test_j2k_siz_bomb_stays_under_2_gb(tmp_path, claimed):
    import pydicom
    from pydicom.encaps import encapsulate, generate_frames

    path = write(tmp_path / "j2k.dcm", transfer_syntax="j2k_lossless")
    ds = pydicom.dcmread(path)
    frame = bytearray(next(generate_frames(ds.PixelData, number_of_frames=1)))
    start = frame.find(b"\xff\x4f\xff\x51")
    frame[start + 8:start + 16] = claimed.to_bytes(4, "big") * 2  # Xsiz, Ysiz
    ds.PixelData = encapsulate([bytes(frame)])
    ds.save_as(path, enforce_file_format=True)
    rss, out = _peak(_LOAD, str(path))
    assert out.startswith("CorruptPixelDataError") and f"SIZ marker says {claimed} x {claimed}" in out
    assert rss <= _MAX_RSS_BYTES, f"peak RSS {rss / 1e9:.2f} GB"
