"""Sweep throughput and memory: design points per minute for a Llama-2-7B decode block on npu_128 (JSON).

Cases (each in a fresh process, ``--jobs`` workers, analytical engine, results streamed to Parquet):

* ``grid``: 6 rows x 6 cols x 4 array counts x 6 SRAM sizes x 4 HBM bandwidths x 3 nodes x 2 devices =
  20,736 points; repeated values let the per-worker cost memo answer often (the usual case).
* ``lhs``: 20,000 Latin-hypercube samples over continuous ranges of the same fields; every point has its
  own memories, so every op is costed afresh (the worst case).
* ``memory``: random samples (continuous, so no reuse) at growing sizes; peak resident memory of the
  sweep process and of the largest worker should not grow with the size (rows go to disk as they finish).

CPU seconds are summed over the sweep's whole process tree from /proc (Linux), so ``cpu_ms_per_point`` is
the cost of a point whatever else the machine runs; ``points_per_min`` is wall-clock and shows contention.

Usage: ``python scripts/bench_sweep.py [--jobs 2] [--quick]`` (``--quick``: small sizes, a smoke test).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_PER_MIN = 20_000
FIELDS = ["units.mxu.rows", "units.mxu.cols", "units.mxu.count", "memories.sram.capacity",
          "memories.hbm.bandwidth", "tech.node", "tech.device"]


def grid_space() -> dict:
    sizes = [32, 64, 128, 256, 512, 1024]
    return {"params": {"units.mxu.rows": sizes, "units.mxu.cols": sizes, "units.mxu.count": [1, 2, 4, 8],
                       "memories.sram.capacity": ["4MiB", "8MiB", "16MiB", "32MiB", "64MiB", "128MiB"],
                       "memories.hbm.bandwidth": ["400GB/s", "800GB/s", "1.6TB/s", "3.2TB/s"],
                       "tech.node": [7, 5, 3], "tech.device": ["finfet", "ffet"]}}


def sampled_space(sampling: str, n: int, seed: int = 0) -> dict:
    return {"sampling": sampling, "samples": n, "seed": seed,
            "params": {"units.mxu.rows": {"start": 32, "stop": 1024, "log": True},
                       "units.mxu.cols": {"start": 32, "stop": 1024, "log": True},
                       "units.mxu.count": [1, 2, 4, 8],
                       "memories.sram.capacity": {"start": "4MiB", "stop": "128MiB", "log": True},
                       "memories.hbm.bandwidth": {"start": "400GB/s", "stop": "3.2TB/s", "log": True},
                       "tech.node": [7, 5, 3], "tech.device": ["finfet", "ffet"]}}


CHILD = """
import json, sys
from hwsim import api
space, out, jobs = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3])
s = api.sweep("npu_128", "llama2_7b", space, out, blocks=[{"phase": "decode", "batch": 1, "kv_len": 2048}],
              jobs=jobs, progress=False)
print(json.dumps({"n_points": s.n_points, "rows": s.rows, "errors": s.errors, "elapsed_s": s.elapsed_s}))
"""


class TreeSampler(threading.Thread):
    """Samples a process tree every 0.2 s: peak RSS per process and CPU seconds (utime + stime)."""

    def __init__(self, root: int):
        super().__init__(daemon=True)
        self.root, self.stop = root, False
        self.peak_kib: dict[int, int] = {}
        self.cpu_s: dict[int, float] = {}
        self.tick = os.sysconf("SC_CLK_TCK")

    def tree(self) -> set[int]:
        parent = {}
        for d in Path("/proc").iterdir():
            if d.name.isdigit():
                try:
                    parent[int(d.name)] = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
        out, frontier = {self.root}, {self.root}
        while frontier:
            frontier = {p for p, pp in parent.items() if pp in frontier} - out
            out |= frontier
        return out

    def run(self) -> None:
        while not self.stop:
            for pid in self.tree():
                try:
                    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    self.cpu_s[pid] = (int(stat[11]) + int(stat[12])) / self.tick
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("VmHWM:"):
                            self.peak_kib[pid] = max(self.peak_kib.get(pid, 0), int(line.split()[1]))
                except (OSError, IndexError, ValueError):
                    continue
            time.sleep(0.2)


def run_case(name: str, space: dict, jobs: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        t0 = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(space), str(Path(tmp) / "r"), str(jobs)],
                                cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        out, err = proc.communicate()
        wall = time.monotonic() - t0
        sampler.stop = True
        sampler.join()
        if proc.returncode:
            raise SystemExit(f"{name}: sweep failed: {err.strip().splitlines()[-1] if err.strip() else proc.returncode}")
        res = json.loads(out)
        peaks = sampler.peak_kib
        main_kib = peaks.get(proc.pid, 0)
        worker_kib = max((v for k, v in peaks.items() if k != proc.pid), default=0)
        n = res["n_points"]
        return {"case": name, "points": n, "rows": res["rows"], "errors": res["errors"], "jobs": jobs,
                "sweep_s": round(res["elapsed_s"], 2), "process_wall_s": round(wall, 2),
                "points_per_min": round(n / res["elapsed_s"] * 60),
                "cpu_ms_per_point": round(sum(sampler.cpu_s.values()) / n * 1e3, 3),
                "peak_rss_main_mib": round(main_kib / 1024, 1), "peak_rss_worker_mib": round(worker_kib / 1024, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke test, not a measurement")
    args = ap.parse_args()
    scale = 0.05 if args.quick else 1.0
    grid = grid_space()
    if args.quick:
        grid["params"]["units.mxu.rows"] = [64, 128]
        grid["params"]["units.mxu.cols"] = [64, 128]
    cases = [run_case("grid", grid, args.jobs),
             run_case("lhs", sampled_space("lhs", int(20_000 * scale)), args.jobs)]
    memory = [run_case(f"random_{n}", sampled_space("random", n, seed=1), args.jobs)
              for n in (int(2_000 * scale), int(8_000 * scale), int(32_000 * scale))]
    report = {
        "benchmark": "sweep throughput, Llama-2-7B decode block (batch 1, kv_len 2048) on npu_128, analytical",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "load_avg_1min_at_end": round(os.getloadavg()[0], 2)},
        "swept_fields": FIELDS, "target_points_per_min": TARGET_PER_MIN, "cases": cases, "memory": memory,
        "meets_target": all(c["points_per_min"] >= TARGET_PER_MIN for c in cases),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
