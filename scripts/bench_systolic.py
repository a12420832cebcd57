"""Speed benchmark of the systolic simulator; prints one JSON object.

Targets (issue 4): 512x4096x4096 on 128x128 under 0.1 s after JIT warm-up; the four Llama-2-7B
prefill-512 GEMMs on 32x32 under 2 s in all; peak RSS under 300 MB; a second process reuses the
Numba on-disk cache (no recompilation). Also timed: the same GEMM on 4 pipelined arrays, and whole
blocks through ``hwsim.api.run`` with ``engine="cycle"`` vs ``"analytical"``. Times are best-of-3 wall
seconds after one warm-up call. Imports :mod:`hwsim.api` only.

    python scripts/bench_systolic.py [--compat]

``--compat`` also times the cycle-exact SCALE-Sim replay (mode="scalesim_compat") on the 128x128 case.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hwsim import api  # noqa: E402

LLAMA2_7B_PREFILL_512 = {"qkv": (512, 4096, 12288), "o_proj": (512, 4096, 4096),
                         "gate_up": (512, 4096, 22016), "down": (512, 11008, 4096)}

CHILD = """
import json, sys, time
sys.path.insert(0, {root!r})
t0 = time.perf_counter()
from hwsim import api
api.simulate_gemm(64, 64, 64, rows=8, cols=8, dataflow="ws")
api.simulate_gemm(64, 64, 64, rows=8, cols=8, dataflow="ws", mode="scalesim_compat")
print(json.dumps({{"first_call_s": time.perf_counter() - t0, **api.systolic_jit_cache_stats()}}))
"""


def _best(fn, repeat: int = 3) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return round(min(times), 5)


def _gemms(out: dict) -> None:
    big = {}
    for df in ("os", "ws", "is"):
        for bw in (None, 64.0):
            key = f"{df}_bw{'calc' if bw is None else int(bw)}"
            big[key] = _best(lambda: api.simulate_gemm(512, 4096, 4096, rows=128, cols=128, dataflow=df,
                                                       dram_bw_bytes_per_cycle=bw))
    out["gemm_512x4096x4096_128x128_s"] = big
    out["gemm_512x4096x4096_128x128_max_s"] = max(big.values())
    out["gemm_512x4096x4096_4x128x128_pipelined_ws_s"] = _best(lambda: api.simulate_gemm(
        512, 4096, 4096, rows=128, cols=128, dataflow="ws", arrays=4, fold_pipelining=True, word_bytes=2,
        dram_bw_bytes_per_cycle=819.2))
    llama = {}
    for df in ("os", "ws", "is"):
        llama[df] = _best(lambda: [api.simulate_gemm(*mkn, rows=32, cols=32, dataflow=df, dram_bw_bytes_per_cycle=64.0)
                                   for mkn in LLAMA2_7B_PREFILL_512.values()])
    out["llama2_7b_prefill512_4gemms_32x32_s"] = llama
    out["llama2_7b_prefill512_4gemms_32x32_max_s"] = max(llama.values())
    r = api.simulate_gemm(512, 4096, 4096, rows=128, cols=128, dataflow="ws")
    out["example_ws_128x128"] = {"compute_cycles": r.compute_cycles,
                                 "peak_dram_bw_bytes_per_cycle": r.peak_dram_bw_bytes_per_cycle}


def _blocks(out: dict) -> None:
    """``hwsim run`` on npu_128: the default decode block and prefill-512 / 8K blocks, both engines."""
    runs = {"llama2_7b_decode_b1_kv2048": dict(), "llama2_7b_prefill_b1_seq512": dict(phase="prefill", seq=512),
            "llama2_7b_prefill_b1_seq8192": dict(phase="prefill", seq=8192)}
    res = {}
    for name, kw in runs.items():
        row = {}
        for engine in ("analytical", "cycle"):
            row[f"{engine}_s"] = _best(lambda: api.run(engine=engine, **kw))
            row[f"{engine}_latency_s"] = api.run(engine=engine, **kw).latency_s
        res[name] = row
    out["hwsim_run_npu_128"] = res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--compat", action="store_true", help="also time the SCALE-Sim replay")
    args = ap.parse_args(argv)
    out: dict = {"python": platform.python_version(), "machine": platform.machine()}
    t0 = time.perf_counter()
    api.simulate_gemm(8, 8, 8, rows=4, cols=4, dataflow="ws", dram_bw_bytes_per_cycle=4.0)
    out["warmup_s"] = round(time.perf_counter() - t0, 3)
    _gemms(out)
    _blocks(out)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)   # physical runs
    if args.compat:
        out["compat_512x4096x4096_128x128_s"] = {
            df: _best(lambda: api.simulate_gemm(512, 4096, 4096, rows=128, cols=128, dataflow=df,
                                                mode="scalesim_compat"), repeat=1) for df in ("os", "ws", "is")}
        out["peak_rss_mb_incl_compat"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    child = subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT))], capture_output=True, text=True,
                           check=True)
    second = json.loads(child.stdout)
    second["numba_cache_reused"] = second["cache_hits"] > 0 and second["cache_misses"] == 0
    out["second_process"] = second
    out["targets_met"] = {"big_under_0.1s": out["gemm_512x4096x4096_128x128_max_s"] < 0.1,
                          "llama_under_2s": out["llama2_7b_prefill512_4gemms_32x32_max_s"] < 2.0,
                          "rss_under_300mb": out["peak_rss_mb"] < 300,
                          "cache_reused": second["numba_cache_reused"]}
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
