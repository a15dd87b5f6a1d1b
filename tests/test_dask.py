"""``--dask ADDRESS``: the same per-study work on a Dask distributed cluster gives the same tables."""

import warnings

import pytest
from batch_corpus import csv_rows, write_bad_dicoms, write_good_studies

from mammo_cv.run.cli import main

distributed = pytest.importorskip("distributed", reason='pip install "mammo_cv[dask]"')


@pytest.mark.slow
def test_dask_run_equals_a_local_run(tmp_path):
    folder = tmp_path / "in"
    good = write_good_studies(folder, 3)
    write_bad_dicoms(folder / "bad", good[0])
    local, remote = tmp_path / "local", tmp_path / "dask"
    assert main(["analyze", str(folder), "--out", str(local), "--workers", "1", "--quiet"]) == 1
    with warnings.catch_warnings():
        # the cluster's own start-up and shutdown chatter (ports, closing comms) is not ours to test
        warnings.simplefilter("ignore")
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster:
            code = main(["analyze", str(folder), "--out", str(remote), "--dask", cluster.scheduler_address,
                         "--quiet"])
    assert code == 1
    for name in ("calcifications.csv", "clusters.csv"):
        assert (remote / name).read_bytes() == (local / name).read_bytes()
    strip = [[{k: v for k, v in row.items() if k != "seconds"} for row in csv_rows(out / "images.csv")]
             for out in (local, remote)]
    assert strip[0] == strip[1]
    assert sum(row["status"] == "error" for row in strip[0]) == 9
    overlays = sorted(p.name for p in (local / "overlays").glob("*.png"))
    assert overlays == sorted(p.name for p in (remote / "overlays").glob("*.png")) and len(overlays) == 6

