"""The Dask executor on a real LocalCluster (2 worker processes) gives the local executor's rows exactly."""

import logging

import pandas as pd
import pytest

from hwsim import api
from hwsim.errors import HwsimError
from hwsim.sweep.store import read_results

from sweep_cases import SMALL_SPACE

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=logging.ERROR) as c:
        yield c


def test_dask_cluster_equals_local_executor(cluster, tmp_path):
    local = api.sweep("npu_128", "llama2_7b", SMALL_SPACE, tmp_path / "local", jobs=1, progress=False)
    with distributed.Client(cluster) as client, distributed.get_task_stream(client) as stream:
        dask = api.sweep("npu_128", "llama2_7b", SMALL_SPACE, tmp_path / "dask", executor="dask",
                         scheduler=cluster.scheduler_address, progress=False, batch_points=2)
    assert (dask.computed, dask.rows, dask.errors, dask.pruned) == (local.computed, local.rows, local.errors,
                                                                    local.pruned) == (12, 24, 8, 2)
    batches = [t for t in stream.data if t["key"].startswith("evaluate_batch")]
    assert len(batches) == 6                                   # 12 points in batches of 2, each run once
    assert {t["worker"] for t in batches} == set(cluster.scheduler_info["workers"])   # both workers took some
    pd.testing.assert_frame_equal(read_results(tmp_path / "dask", include_pruned=True),
                                  read_results(tmp_path / "local", include_pruned=True), check_exact=True)


def test_dask_resume_after_lost_chunks(cluster, tmp_path):
    out = tmp_path / "r"
    api.sweep("npu_128", "llama2_7b", SMALL_SPACE, out, executor="dask", scheduler=cluster.scheduler_address,
              progress=False, batch_points=3)
    full = read_results(out, include_pruned=True)
    for c in sorted((out / "chunks").glob("part-*.parquet"))[:2]:
        c.unlink()
    s = api.sweep("npu_128", "llama2_7b", SMALL_SPACE, out, executor="dask", scheduler=cluster.scheduler_address,
                  progress=False, resume=True)
    assert s.computed == 6
    pd.testing.assert_frame_equal(read_results(out, include_pruned=True), full, check_exact=True)


def test_unreachable_scheduler_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr("hwsim.sweep.executors.CONNECT_TIMEOUT", "1s")
    with pytest.raises(HwsimError, match="cannot reach the Dask scheduler tcp://127.0.0.1:1") as e:
        api.sweep("npu_128", "llama2_7b", SMALL_SPACE, tmp_path / "r", executor="dask",
                  scheduler="tcp://127.0.0.1:1", progress=False)
    assert "\n" not in str(e.value)


@pytest.mark.slow
def test_dask_without_address_starts_a_local_cluster(tmp_path):
    s = api.sweep("npu_128", "llama2_7b", SMALL_SPACE, tmp_path / "r", executor="dask", jobs=2, progress=False)
    assert s.rows == 24
