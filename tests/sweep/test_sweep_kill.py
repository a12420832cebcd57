"""Killing a sweep (SIGKILL of the sweep or of a worker, or Ctrl-C) loses at most the batches in flight, leaves
no process behind, and ``--resume`` then gives results equal to an uninterrupted run, row for row."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from hwsim import api
from hwsim.sweep.store import read_results

REPO = Path(__file__).resolve().parents[2]
SPACE = {"sampling": "random", "samples": 400, "seed": 5,
         "params": {"units.mxu.rows": {"start": 32, "stop": 512, "log": True},
                    "units.mxu.cols": {"start": 32, "stop": 512, "log": True},
                    "memories.hbm.bandwidth": {"start": "400GB/s", "stop": "3.2TB/s", "log": True}}}


@pytest.fixture(scope="module")
def space_file(tmp_path_factory):
    p = tmp_path_factory.mktemp("kill") / "space.yaml"
    p.write_text(yaml.safe_dump(SPACE))
    return p


@pytest.fixture(scope="module")
def clean(space_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("clean") / "r"
    api.sweep("npu_128", "llama2_7b", space_file, out, jobs=1, progress=False)
    return read_results(out, include_pruned=True)


def _start(space_file, out, *extra):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "hwsim", "sweep", "--space", str(space_file), "--out", str(out),
                             "--jobs", "2", "--chunk-points", "8", "--quiet", *extra], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_chunks(out, proc, n=2, timeout=120.0):
    t0 = time.monotonic()
    while len(list((out / "chunks").glob("part-*.parquet"))) < n:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - t0 < timeout, "sweep wrote no chunks"
        time.sleep(0.02)


def _descendants(pid):
    """Process ids whose ancestry includes ``pid`` (from /proc)."""
    parent = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                parent[int(d.name)] = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    out, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, pp in parent.items() if pp in frontier} - out
        out |= frontier
    return out


def _alive(pids):
    return [p for p in pids if Path(f"/proc/{p}").exists()
            and Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"]


def _resume_and_compare(space_file, out, clean):
    done_before = len(read_results(out, include_pruned=True))
    assert 0 < done_before < len(clean), "the kill should land mid-run"
    r = subprocess.run([sys.executable, "-m", "hwsim", "sweep", "--space", str(space_file), "--out", str(out),
                        "--jobs", "2", "--resume", "--quiet"], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert f"{len(clean) - done_before:,} computed now" in r.stdout
    pd.testing.assert_frame_equal(read_results(out, include_pruned=True), clean, check_exact=True)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_sigkill_of_the_sweep_then_resume(space_file, clean, tmp_path):
    out = tmp_path / "r"
    proc = _start(space_file, out)
    _wait_for_chunks(out, proc)
    family = _descendants(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    t0 = time.monotonic()
    while _alive(family) and time.monotonic() - t0 < 10:   # workers notice and exit (no orphans)
        time.sleep(0.1)
    assert not _alive(family)
    _resume_and_compare(space_file, out, clean)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_sigkill_of_a_worker_stops_the_sweep_then_resume(space_file, clean, tmp_path):
    out = tmp_path / "r"
    proc = _start(space_file, out)
    _wait_for_chunks(out, proc)
    workers = [p for p in _descendants(proc.pid) if "forkserver" in Path(f"/proc/{p}/cmdline").read_text()
               and int(Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[1]) != proc.pid]
    assert workers
    os.kill(max(workers), signal.SIGKILL)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert err.strip().splitlines()[-1].startswith("error: a sweep worker process died") and "--resume" in err
    _resume_and_compare(space_file, out, clean)


def test_ctrl_c_saves_what_finished_and_exits_130(space_file, clean, tmp_path):
    out = tmp_path / "r"
    proc = _start(space_file, out)
    _wait_for_chunks(out, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1].startswith("interrupted: interrupted after") and "--resume" in err
    _resume_and_compare(space_file, out, clean)


def _forkserver_started(proc, timeout=120.0):
    t0 = time.monotonic()
    while not any("forkserver" in _cmdline(p) for p in _descendants(proc.pid)):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - t0 < timeout, "no fork server started"
        time.sleep(0.01)


def _cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return ""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
@pytest.mark.parametrize("moment", ["fork server starting", "chunks written"])
def test_ctrl_c_on_a_terminal_reaches_every_process_and_prints_no_traceback(space_file, tmp_path, moment):
    """A terminal's Ctrl-C signals the whole process group: the fork server (which ignores SIGINT only once it
    has imported hwsim) and workers being started must neither print a traceback nor outlive the sweep."""
    out = tmp_path / "r"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "hwsim", "sweep", "--space", str(space_file), "--out", str(out),
                             "--jobs", "2", "--chunk-points", "8", "--quiet"], cwd=REPO, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    if moment == "chunks written":
        _wait_for_chunks(out, proc)
    else:  # signal while the fork server imports hwsim (it takes seconds: 0.3 s in, it has started)
        _forkserver_started(proc)
        time.sleep(0.3)
    family = _descendants(proc.pid)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    t0 = time.monotonic()
    while _alive(family) and time.monotonic() - t0 < 10:
        time.sleep(0.1)
    assert proc.returncode == 130 and "Traceback" not in err, err
    assert err.strip().splitlines()[-1].startswith("interrupted"), err
    assert not _alive(family)
