"""Micro-benchmarks that the calibration file lacks, for the tensor-engine model's physical parameters.

Same method as measure_gpu.py (its `bench`, `energy_of` and `energy_mj` are copied verbatim), plus the time per
call of the same function captured 20 times in a CUDA graph and replayed (`graph_seconds`: GPU time with the
host launch cost removed). Cases (none of them a shape of measure_gpu.py or measure_gpu_holdout.py):

* gemm fp32 (torch default: no TF32, CUDA-core SIMT kernels): (K,N) in (5120,5120), (2048,8192), (8192,2048)
  x M in 1, 4, 16, 64, 256, 1024, 4096; one with NVML energy;
* gemm bf16 with leading dimensions that are not 16-byte aligned (no TMA path): 1500^3, 4100^3, 2000x3000x2050,
  and the aligned 1504^3 next to them; one tiny aligned GEMM (GPU time vs host floor);
* element-wise kernels (bf16): add of two contiguous tensors, silu of a contiguous tensor, silu and mul of the
  two halves of a chunked [T, 22016] tensor (as the llama block's SwiGLU runs them), torch.nn.RMSNorm on
  [T, 4096];
* SDPA tiny prefill / decode (host floor vs GPU time);
* NVML energy: idle with a live context, a GEMV, a bf16 M=64 GEMM, an fp32 GEMM, a decode attention, a large
  add, a large RMSNorm.

Run: python3 measure_gpu_microbench.py OUT.csv   (rows are written as they are measured)
"""
import csv, json, subprocess, sys, time
import torch
import torch.nn.functional as F

try:
    import pynvml
    pynvml.nvmlInit()
    H = pynvml.nvmlDeviceGetHandleByIndex(0)
except Exception:
    H = None

dev = "cuda"
OUT = sys.argv[1] if len(sys.argv) > 1 else "microbench.csv"
FIELDS = ["kind", "name", "dtype", "shape", "flops", "bytes_min", "seconds", "graph_seconds", "joules",
          "avg_watts", "sm_mhz_after"]
fh = open(OUT, "w", newline="")
W = csv.DictWriter(fh, fieldnames=FIELDS)
W.writeheader()


def energy_mj():  # copied from measure_gpu.py
    if H is None:
        return None
    try:
        return pynvml.nvmlDeviceGetTotalEnergyConsumption(H)
    except Exception:
        return None


def bench(fn, warm=3, iters=20, min_s=0.05):  # copied from measure_gpu.py
    for _ in range(warm):
        fn()
    torch.cuda.synchronize()
    s = torch.cuda.Event(enable_timing=True); e = torch.cuda.Event(enable_timing=True)
    s.record(); fn(); e.record(); torch.cuda.synchronize()
    one = max(s.elapsed_time(e) / 1e3, 1e-6)
    n = max(1, min(2000, int(min_s / one)))
    times = []
    for _ in range(iters if n == 1 else 5):
        s.record()
        for _ in range(n):
            fn()
        e.record(); torch.cuda.synchronize()
        times.append(s.elapsed_time(e) / 1e3 / n)
    times.sort()
    return times[len(times) // 2]


def energy_of(fn, seconds=1.5):  # copied from measure_gpu.py
    if H is None:
        return None, None
    fn(); torch.cuda.synchronize()
    t = bench(fn, warm=1, iters=3, min_s=0.02)
    n = max(1, int(seconds / max(t, 1e-7)))
    e0 = energy_mj(); t0 = time.perf_counter()
    for _ in range(n):
        fn()
    torch.cuda.synchronize()
    t1 = time.perf_counter(); e1 = energy_mj()
    if e0 is None or e1 is None:
        return None, None
    joules = (e1 - e0) / 1e3
    return joules / n, joules / (t1 - t0)


def graph_time(fn, reps=20):
    """GPU time per call: fn captured `reps` times in one CUDA graph, replayed, median of 5 batches."""
    try:
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            for _ in range(3):
                fn()
        torch.cuda.current_stream().wait_stream(s)
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            for _ in range(reps):
                fn()
        t = bench(g.replay, warm=2, iters=5, min_s=0.02)
        del g
        return t / reps
    except Exception as ex:
        print("graph failed", ex, flush=True)
        return None


def sm_mhz():
    try:
        return pynvml.nvmlDeviceGetClockInfo(H, pynvml.NVML_CLOCK_SM)
    except Exception:
        return ""


def add(kind, name, dtype, shape, flops, bytes_min, fn, energy=False, graph=True):
    try:
        t = bench(fn)
        g = graph_time(fn) if graph else None
        j = w = None
        if energy:
            j, w = energy_of(fn)
        row = dict(kind=kind, name=name, dtype=dtype, shape=shape, flops=flops, bytes_min=bytes_min, seconds=t,
                   graph_seconds=g if g is not None else "", joules=j if j is not None else "",
                   avg_watts=w if w is not None else "", sm_mhz_after=sm_mhz())
        W.writerow(row); fh.flush()
        print(row, flush=True)
    except Exception as ex:
        print("FAILED", kind, name, shape, ex, flush=True)


props = torch.cuda.get_device_properties(0)
meta = {"name": props.name, "sms": props.multi_processor_count, "mem_gb": props.total_memory / 2**30,
        "torch": torch.__version__, "l2_mb": getattr(props, "L2_cache_size", 0) / 2**20,
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())}
print(json.dumps(meta), flush=True)

# idle with a live context (synchronised first), as measure_gpu_holdout.py does
torch.zeros(1, device=dev); torch.cuda.synchronize()
if H is not None:
    e0 = energy_mj(); time.sleep(2.0); e1 = energy_mj()
    W.writerow(dict(kind="idle", name="idle_ctx_2s", dtype="", shape="", flops=0, bytes_min=0, seconds=2.0,
                    graph_seconds="", joules=(e1 - e0) / 1e3, avg_watts=(e1 - e0) / 2e3, sm_mhz_after=sm_mhz()))
    fh.flush()

# fp32 GEMMs (CUDA cores)
for K, N in [(5120, 5120), (2048, 8192), (8192, 2048)]:
    Wt = torch.randn(K, N, device=dev) * 0.02
    for M in [1, 4, 16, 64, 256, 1024, 4096]:
        x = torch.randn(M, K, device=dev)
        f = lambda: torch.matmul(x, Wt)
        add("gemm", "micro_fp32", "fp32", f"{M}x{K}x{N}", 2 * M * K * N, 4 * (M * K + K * N + M * N), f,
            energy=(M, K, N) == (4096, 5120, 5120))
    del Wt
# bf16 misaligned / aligned / tiny / GEMV / M=64
for M, K, N, nm in [(1500, 1500, 1500, "misaligned"), (4100, 4100, 4100, "misaligned"),
                    (2000, 3000, 2050, "misaligned"), (1504, 1504, 1504, "aligned"), (64, 1024, 1024, "tiny"),
                    (1, 8192, 16384, "gemv"), (64, 8192, 16384, "m64")]:
    a = torch.randn(M, K, device=dev, dtype=torch.bfloat16); b = torch.randn(K, N, device=dev, dtype=torch.bfloat16) * 0.02
    f = lambda: torch.matmul(a, b)
    add("gemm", nm, "bf16", f"{M}x{K}x{N}", 2 * M * K * N, 2 * (M * K + K * N + M * N), f, energy=nm in ("gemv", "m64"))
    del a, b
# element-wise kernels
for n in [4096, 1 << 16, 1 << 20, 1 << 22, 1 << 24, 1 << 26]:
    a = torch.randn(n, device=dev, dtype=torch.bfloat16); b = torch.randn_like(a)
    add("add", "add_contig", "bf16", f"{n}", n, 3 * 2 * n, lambda: a + b, energy=(n == 1 << 26))
    add("silu", "silu_contig", "bf16", f"{n}", 4 * n, 2 * 2 * n, lambda: F.silu(a))
    del a, b
for T in [1, 16, 512, 2048, 8192]:
    gu = torch.randn(T, 22016, device=dev, dtype=torch.bfloat16)
    g, u = gu.chunk(2, -1)
    add("silu", "silu_chunk", "bf16", f"{T}x11008", 4 * T * 11008, 2 * 2 * T * 11008, lambda: F.silu(g))
    sg = F.silu(g)
    add("mul", "mul_chunk", "bf16", f"{T}x11008", T * 11008, 3 * 2 * T * 11008, lambda: sg * u)
    del gu, g, u, sg
norm = torch.nn.RMSNorm(4096).to(dev, torch.bfloat16)
with torch.no_grad():
    for T in [1, 16, 128, 512, 2048, 8192, 32768]:
        x = torch.randn(T, 4096, device=dev, dtype=torch.bfloat16)
        add("rmsnorm", "rmsnorm_4096", "bf16", f"{T}x4096", 4 * T * 4096, 2 * 2 * T * 4096 + 2 * 4096,
            lambda: norm(x), energy=(T == 32768))
        del x
# SDPA
for B, Hh, L, D in [(1, 8, 128, 64), (2, 16, 1024, 128)]:
    q = torch.randn(B, Hh, L, D, device=dev, dtype=torch.bfloat16); k = torch.randn_like(q); v = torch.randn_like(q)
    add("attn_prefill", "micro_prefill", "bf16", f"{B}x{Hh}x{L}x{D}", 2 * B * Hh * L * L * D, 8 * B * Hh * L * D,
        lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True))
for B, Hh, L, D in [(1, 8, 256, 128), (8, 32, 4096, 128), (2, 32, 8192, 128)]:
    q = torch.randn(B, Hh, 1, D, device=dev, dtype=torch.bfloat16)
    k = torch.randn(B, Hh, L, D, device=dev, dtype=torch.bfloat16); v = torch.randn_like(k)
    add("attn_decode", "micro_decode", "bf16", f"{B}x{Hh}x{L}x{D}", 4 * B * Hh * L * D, 4 * B * Hh * L * D,
        lambda: F.scaled_dot_product_attention(q, k, v), energy=(B == 8))
    del q, k, v
fh.close()
meta["finished_utc"] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
try:
    meta["nvml_sm_mhz_end"] = sm_mhz()
    meta["power_limit_w"] = pynvml.nvmlDeviceGetPowerManagementLimit(H) / 1e3
except Exception:
    pass
json.dump(meta, open(OUT.replace(".csv", "_meta.json"), "w"), indent=1)
print("done", flush=True)
