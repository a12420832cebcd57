"""Tensor-core and CUDA-core rates at the maximum clock, before the 700 W power cap slows the clock down.

The calibration loops run for >= 50 ms, long enough for the power governor to lower the SM clock (MEASUREMENTS.md:
1305-1635 MHz at the end of the big loops). Here each case runs once after 1.5 s of idling (clock at 1980 MHz,
board cool) and is timed alone with CUDA events: the kernel is short enough (<= 2 ms) that the governor has not
yet reacted, so time x clock gives the kernel's efficiency at the maximum clock. For comparison each case is
then run as a sustained loop (measure_gpu.py's `bench`) with NVML energy and the SM clock read after it.

Cases: bf16 8192^3 and 4096^3 GEMM, fp8 8192^3 (torch._scaled_mm), fp32 4096x5120x5120, causal SDPA 8x32x4096x128
and 8x32x4096x64.
Run: python3 measure_gpu_unthrottled.py OUT.csv
"""
import csv, sys, time
import torch
import torch.nn.functional as F

try:
    import pynvml
    pynvml.nvmlInit()
    H = pynvml.nvmlDeviceGetHandleByIndex(0)
except Exception:
    H = None
dev = "cuda"


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


def energy_of(fn, seconds=1.5):  # copied from measure_gpu.py (energy_mj inlined)
    fn(); torch.cuda.synchronize()
    t = bench(fn, warm=1, iters=3, min_s=0.02)
    n = max(1, int(seconds / max(t, 1e-7)))
    e0 = pynvml.nvmlDeviceGetTotalEnergyConsumption(H); t0 = time.perf_counter()
    for _ in range(n):
        fn()
    torch.cuda.synchronize()
    t1 = time.perf_counter(); e1 = pynvml.nvmlDeviceGetTotalEnergyConsumption(H)
    joules = (e1 - e0) / 1e3
    return joules / n, joules / (t1 - t0)


def clock():
    return pynvml.nvmlDeviceGetClockInfo(H, pynvml.NVML_CLOCK_SM) if H is not None else -1


def cold_time(fn, tries=3):
    """Fastest single call after 1.5 s idle, and the SM clock read just before it."""
    best, mhz = 1e9, -1
    for _ in range(tries):
        torch.cuda.synchronize(); time.sleep(1.5)
        c = clock()
        s = torch.cuda.Event(enable_timing=True); e = torch.cuda.Event(enable_timing=True)
        s.record(); fn(); e.record(); torch.cuda.synchronize()
        t = s.elapsed_time(e) / 1e3
        if t < best:
            best, mhz = t, c
    return best, mhz


out = open(sys.argv[1] if len(sys.argv) > 1 else "unthrottled.csv", "w", newline="")
W = csv.DictWriter(out, fieldnames=["kind", "name", "dtype", "shape", "flops", "cold_seconds", "cold_sm_mhz",
                                    "seconds", "joules", "avg_watts", "sm_mhz_after_loop"])
W.writeheader()


def case(kind, name, dtype, shape, flops, fn):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    tc, mc = cold_time(fn)
    t = bench(fn)
    j, w = energy_of(fn) if H is not None else (None, None)
    row = dict(kind=kind, name=name, dtype=dtype, shape=shape, flops=flops, cold_seconds=tc, cold_sm_mhz=mc,
               seconds=t, joules=j, avg_watts=w, sm_mhz_after_loop=clock())
    W.writerow(row); out.flush(); print(row, flush=True)


for n in (8192, 4096):
    a = torch.randn(n, n, device=dev, dtype=torch.bfloat16); b = torch.randn(n, n, device=dev, dtype=torch.bfloat16)
    case("gemm", "cold_square", "bf16", f"{n}x{n}x{n}", 2 * n ** 3, lambda: a @ b)
    del a, b
n = 8192
a = torch.randn(n, n, device=dev).to(torch.float8_e4m3fn); b = torch.randn(n, n, device=dev).to(torch.float8_e4m3fn).t()
one = torch.tensor(1.0, device=dev)
case("gemm", "cold_square", "fp8", f"{n}x{n}x{n}", 2 * n ** 3,
     lambda: torch._scaled_mm(a, b, scale_a=one, scale_b=one, out_dtype=torch.bfloat16))
del a, b
x = torch.randn(4096, 5120, device=dev); w = torch.randn(5120, 5120, device=dev) * 0.02
case("gemm", "cold_fp32", "fp32", "4096x5120x5120", 2 * 4096 * 5120 * 5120, lambda: torch.matmul(x, w))
del x, w
for D in (128, 64):
    q = torch.randn(8, 32, 4096, D, device=dev, dtype=torch.bfloat16); k = torch.randn_like(q); v = torch.randn_like(q)
    case("attn_prefill", "cold_sdpa", "bf16", f"8x32x4096x{D}", 4 * 8 * 32 * 4096 * 4096 * D / 2,
         lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True))
    del q, k, v
out.close()
print("done", flush=True)
