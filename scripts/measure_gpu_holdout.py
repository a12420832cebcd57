"""Hold-out GPU measurements: other cases of the same kinds as measure_gpu.py.

Same method, same CSV columns and the same kind/name/dtype/shape conventions as the calibration script
(hwsim/data/calibration/measure_gpu.py), but different cases (other model shapes, other M, other sequence
lengths and batches, odd non-power-of-two GEMMs, fp8/int8 on non-square shapes), so that a model fitted on
the calibration file can be checked on cases it never saw.

This is a stand-alone measurement script: it imports nothing from the repository. The helpers `bench`,
`energy_of`, `energy_mj`, the row format of `add` and the `Block` (llama7b_block) definition are COPIED from
measure_gpu.py on purpose, so that both files measure the same way. Differences from measure_gpu.py:
  * every row is appended to the CSV (and flushed) as soon as it is measured, so a partial run keeps its rows;
  * each case runs under try/except: a failing case is logged ("FAILED ...") and skipped;
  * `--sections` picks a subset of sections (idle,copy,gemm,attn,block) for re-runs;
  * the meta JSON also records driver/CUDA versions, clocks and power limit read through NVML;
  * the idle row calls torch.cuda.synchronize() before its 2 s sleep, so the CUDA context already exists
    (measure_gpu.py samples before any kernel ran). On 2026-11-23 this read ~120 W on both H100 and H200,
    against ~75 W for measure_gpu.py's idle row: it is "idle with a live context", not the same quantity.

Run on a machine with an NVIDIA GPU and PyTorch:
    python3 measure_gpu_holdout.py OUT.csv [--sections idle,copy,gemm,attn,block]
writes OUT.csv and OUT_meta.json (OUT.csv with ".csv" replaced by "_meta.json").
"""
import argparse, csv, sys, time, math, json, traceback, datetime
import torch
import torch.nn.functional as F

try:
    import pynvml
    pynvml.nvmlInit()
    H = pynvml.nvmlDeviceGetHandleByIndex(0)
except Exception:
    H = None

ap = argparse.ArgumentParser()
ap.add_argument("out", nargs="?", default="gpu_holdout.csv")
ap.add_argument("--sections", default="idle,copy,gemm,attn,block")
args = ap.parse_args()
SECTIONS = set(args.sections.split(","))

dev = "cuda"
props = torch.cuda.get_device_properties(0)
meta = {"name": props.name, "sms": props.multi_processor_count, "mem_gb": props.total_memory / 2**30,
        "torch": torch.__version__}
try:
    meta["l2_mb"] = props.L2_cache_size / 2**20
except Exception:
    pass
meta["cuda_runtime"] = torch.version.cuda
meta["script"] = "scripts/measure_gpu_holdout.py"
meta["sections"] = sorted(SECTIONS)
meta["started_utc"] = datetime.datetime.utcnow().isoformat(timespec="seconds")


def _nvml(fn, *a):
    try:
        v = fn(*a)
        return v.decode() if isinstance(v, bytes) else v
    except Exception:
        return None


def nvml_state():
    if H is None:
        return {}
    C = pynvml
    return {"sm_mhz": _nvml(C.nvmlDeviceGetClockInfo, H, C.NVML_CLOCK_SM),
            "mem_mhz": _nvml(C.nvmlDeviceGetClockInfo, H, C.NVML_CLOCK_MEM),
            "temp_c": _nvml(C.nvmlDeviceGetTemperature, H, C.NVML_TEMPERATURE_GPU),
            "power_w": (lambda p: p / 1e3 if p is not None else None)(_nvml(C.nvmlDeviceGetPowerUsage, H))}


if H is not None:
    C = pynvml
    meta["driver"] = _nvml(C.nvmlSystemGetDriverVersion)
    meta["nvml_cuda_driver"] = _nvml(C.nvmlSystemGetCudaDriverVersion_v2) if hasattr(C, "nvmlSystemGetCudaDriverVersion_v2") else None
    meta["max_sm_mhz"] = _nvml(C.nvmlDeviceGetMaxClockInfo, H, C.NVML_CLOCK_SM)
    meta["max_mem_mhz"] = _nvml(C.nvmlDeviceGetMaxClockInfo, H, C.NVML_CLOCK_MEM)
    pl = _nvml(C.nvmlDeviceGetPowerManagementLimit, H)
    meta["power_limit_w"] = pl / 1e3 if pl is not None else None
    meta["state_at_start"] = nvml_state()
print(json.dumps(meta), flush=True)

FIELDS = ["kind", "name", "dtype", "shape", "flops", "bytes_min", "seconds", "tflops", "gbps", "joules", "avg_watts"]
out = args.out
meta_path = out.replace(".csv", "_meta.json")
fh = open(out, "w", newline="")
writer = csv.DictWriter(fh, fieldnames=FIELDS)
writer.writeheader(); fh.flush()
n_rows = 0
failures = []


def write_meta():
    meta["rows"] = n_rows
    meta["failures"] = failures
    with open(meta_path, "w") as mf:
        json.dump(meta, mf, indent=1)


write_meta()  # rewritten at the end; a run that dies part-way still leaves a meta file


# ---- helpers copied from measure_gpu.py (unchanged) ----
def energy_mj():
    if H is None:
        return None
    try:
        return pynvml.nvmlDeviceGetTotalEnergyConsumption(H)
    except Exception:
        return None


def bench(fn, warm=3, iters=20, min_s=0.05):
    for _ in range(warm):
        fn()
    torch.cuda.synchronize()
    # calibrate iterations so that a timed batch lasts >= min_s
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


def energy_of(fn, seconds=1.5):
    """Average joules per call over a sustained loop (nvml total energy counter)."""
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
# ---- end of copied helpers ----


def add(kind, name, dtype, shape, flops, bytes_min, sec, j=None, watts=None):
    global n_rows
    row = dict(kind=kind, name=name, dtype=dtype, shape=shape, flops=flops, bytes_min=bytes_min,
               seconds=sec, tflops=flops / sec / 1e12 if flops else "",
               gbps=bytes_min / sec / 1e9 if bytes_min else "",
               joules=j if j is not None else "", avg_watts=watts if watts is not None else "")
    writer.writerow(row); fh.flush()
    n_rows += 1
    print(row, flush=True)


def case(label, body):
    """Run one measured case; log and skip it if it fails."""
    try:
        body()
    except Exception as ex:
        msg = f"{label}: {type(ex).__name__}: {str(ex).splitlines()[0] if str(ex) else ''}"
        print("FAILED", msg, flush=True)
        traceback.print_exc()
        failures.append(msg)
    finally:
        torch.cuda.empty_cache()


def measure(kind, name, dtype, shape, flops, bytes_min, f, energy=False):
    t = bench(f)
    j = w = None
    if energy:
        j, w = energy_of(f)
        print("  energy state after loop:", nvml_state(), flush=True)
    add(kind, name, dtype, shape, flops, bytes_min, t, j, w)


# idle power
if "idle" in SECTIONS and H is not None:
    def _idle():
        torch.cuda.synchronize()
        e0 = energy_mj(); time.sleep(2.0); e1 = energy_mj()
        add("idle", "idle_2s", "", "", 0, 0, 2.0, (e1 - e0) / 1e3, (e1 - e0) / 1e3 / 2.0)
    case("idle", _idle)

# 1. memory bandwidth (16 MB: source+destination fit in L2 on H100/H200)
if "copy" in SECTIONS:
    for mb in [16, 256, 2048]:
        def _copy(mb=mb):
            n = mb * 2**20 // 2
            a = torch.empty(n, dtype=torch.bfloat16, device=dev); b = torch.empty_like(a)
            a.normal_()
            measure("copy", f"copy_{mb}MB", "bf16", f"{n}", 0, 2 * n * 2, lambda: b.copy_(a))
        case(f"copy_{mb}MB", _copy)

# 2. GEMMs: y[M,N] = x[M,K] @ W[K,N]
if "gemm" in SECTIONS:
    shapes = {
        "gpt2_qkv": (768, 2304), "gpt2_ffn1": (768, 3072), "gpt2_ffn2": (3072, 768),
        "llama3_8b_qkv": (4096, 6144), "llama3_8b_o": (4096, 4096), "llama3_8b_gate": (4096, 14336),
        "llama3_8b_gateup": (4096, 28672), "llama3_8b_down": (14336, 4096),
        "qwen2_7b_qkv": (3584, 4608), "qwen2_7b_down": (18944, 3584),
        "llama3_8b_lmhead": (4096, 128256),
    }
    Ms = [1, 4, 16, 64, 256, 1024, 4096]
    # extra M per shape (energy cases from the plan)
    extra_M = {"llama3_8b_o": [512], "llama3_8b_gateup": [8192]}
    energy_cases = {("llama3_8b_gate", 4096), ("llama3_8b_gateup", 8192), ("llama3_8b_o", 512)}
    fp32_shapes = {"gpt2_ffn1": [1, 16, 256, 4096], "llama3_8b_qkv": [1, 16, 256, 4096]}
    for dt_name, dt in [("bf16", torch.bfloat16), ("fp32", torch.float32)]:
        for nm, (K, N) in shapes.items():
            if dt_name == "fp32" and nm not in fp32_shapes:
                continue
            Mlist = Ms + extra_M.get(nm, []) if dt_name == "bf16" else fp32_shapes[nm]

            def _shape(nm=nm, K=K, N=N, dt=dt, dt_name=dt_name, Mlist=Mlist):
                W = torch.randn(K, N, device=dev, dtype=dt) * 0.02
                esz = 2 if dt_name == "bf16" else 4
                for M in Mlist:
                    def _one(M=M):
                        x = torch.randn(M, K, device=dev, dtype=dt)
                        measure("gemm", nm, dt_name, f"{M}x{K}x{N}", 2 * M * K * N, esz * (M * K + K * N + M * N),
                                lambda: torch.matmul(x, W), energy=(dt_name == "bf16" and (nm, M) in energy_cases))
                    case(f"gemm {nm} {dt_name} M={M}", _one)
                del W
            case(f"gemm {nm} {dt_name}", _shape)

    # odd, non-power-of-two shapes (bf16), name "odd"
    for (M, K, N) in [(1000, 4000, 3000), (3000, 5120, 1536), (777, 4096, 4096), (33, 4096, 11008),
                      (6000, 6000, 6000), (100, 1000, 10000), (2500, 2500, 2500)]:
        def _odd(M=M, K=K, N=N):
            a = torch.randn(M, K, device=dev, dtype=torch.bfloat16); b = torch.randn(K, N, device=dev, dtype=torch.bfloat16)
            measure("gemm", "odd", "bf16", f"{M}x{K}x{N}", 2 * M * K * N, 2 * (M * K + K * N + M * N), lambda: a @ b)
        case(f"gemm odd {M}x{K}x{N}", _odd)

    lp_shapes = [(512, 4096, 4096), (2048, 4096, 14336), (4096, 8192, 4096), (8192, 4096, 28672)]
    # fp8: e4m3 inputs, bf16 output, torch._scaled_mm (b column-major), as in measure_gpu.py
    for (M, K, N) in lp_shapes:
        def _fp8(M=M, K=K, N=N):
            a = torch.randn(M, K, device=dev).to(torch.float8_e4m3fn)
            b = torch.randn(N, K, device=dev).to(torch.float8_e4m3fn).t()
            one = torch.tensor(1.0, device=dev)
            measure("gemm", "lowp", "fp8", f"{M}x{K}x{N}", 2 * M * K * N, M * K + K * N + 2 * M * N,
                    lambda: torch._scaled_mm(a, b, scale_a=one, scale_b=one, out_dtype=torch.bfloat16))
        case(f"gemm fp8 {M}x{K}x{N}", _fp8)
    # int8: torch._int_mm, int32 output (needs M>16, K and N multiples of 8)
    for (M, K, N) in lp_shapes:
        def _i8(M=M, K=K, N=N):
            a = torch.randint(-8, 8, (M, K), device=dev, dtype=torch.int8)
            b = torch.randint(-8, 8, (K, N), device=dev, dtype=torch.int8)
            measure("gemm", "lowp", "int8", f"{M}x{K}x{N}", 2 * M * K * N, M * K + K * N + 4 * M * N,
                    lambda: torch._int_mm(a, b))
        case(f"gemm int8 {M}x{K}x{N}", _i8)

# 3. attention (SDPA): prefill causal, and decode (1 query vs L keys)
if "attn" in SECTIONS:
    pre = [((B, Hh, D), L) for (B, Hh, D) in [(2, 32, 128), (4, 8, 128), (1, 16, 64), (2, 40, 128)]
           for L in [256, 1024, 4096]]
    pre.append(((4, 32, 128), 4096))  # energy case
    for (B, Hh, D), L in pre:
        def _pre(B=B, Hh=Hh, D=D, L=L):
            q = torch.randn(B, Hh, L, D, device=dev, dtype=torch.bfloat16)
            k = torch.randn_like(q); v = torch.randn_like(q)
            flops = 4 * B * Hh * L * L * D / 2
            measure("attn_prefill", f"sdpa_causal_B{B}_H{Hh}_D{D}", "bf16", f"{B}x{Hh}x{L}x{D}", flops,
                    2 * 4 * B * Hh * L * D, lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True),
                    energy=((B, Hh, L, D) == (4, 32, 4096, 128)))
        case(f"attn_prefill {B}x{Hh}x{L}x{D}", _pre)
    for (B, Hh, D) in [(4, 32, 128), (32, 32, 128), (8, 8, 128)]:
        for L in [1024, 4096, 16384]:
            if B * L > 64 * 8192:
                continue
            def _dec(B=B, Hh=Hh, D=D, L=L):
                q = torch.randn(B, Hh, 1, D, device=dev, dtype=torch.bfloat16)
                k = torch.randn(B, Hh, L, D, device=dev, dtype=torch.bfloat16); v = torch.randn_like(k)
                measure("attn_decode", f"sdpa_decode_B{B}_H{Hh}_D{D}", "bf16", f"{B}x{Hh}x{L}x{D}",
                        4 * B * Hh * L * D, 2 * 2 * B * Hh * L * D, lambda: F.scaled_dot_product_attention(q, k, v))
            case(f"attn_decode {B}x{Hh}x{L}x{D}", _dec)


# 4. full decoder block: the SAME llama7b_block as measure_gpu.py (class copied verbatim)
class Block(torch.nn.Module):
    def __init__(s, d=4096, h=32, ff=11008):
        super().__init__()
        s.h = h; s.d = d
        s.qkv = torch.nn.Linear(d, 3 * d, bias=False); s.o = torch.nn.Linear(d, d, bias=False)
        s.gu = torch.nn.Linear(d, 2 * ff, bias=False); s.down = torch.nn.Linear(ff, d, bias=False)
        s.n1 = torch.nn.RMSNorm(d); s.n2 = torch.nn.RMSNorm(d)

    def forward(s, x, kc=None, vc=None):
        B, T, d = x.shape
        q, k, v = s.qkv(s.n1(x)).view(B, T, 3, s.h, d // s.h).permute(2, 0, 3, 1, 4)
        if kc is not None:
            # the cache already holds this step's key/value (as a paged KV cache would after its append)
            a = F.scaled_dot_product_attention(q, kc, vc)
        else:
            a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + s.o(a.transpose(1, 2).reshape(B, T, d))
        g, u = s.gu(s.n2(x)).chunk(2, -1)
        return x + s.down(F.silu(g) * u)


if "block" in SECTIONS:
    blk = Block().to(dev, torch.bfloat16).eval()
    P = sum(p.numel() for p in blk.parameters())
    with torch.no_grad():
        for B, T in [(1, 256), (2, 1024), (1, 4096), (16, 128)]:
            def _bp(B=B, T=T):
                x = torch.randn(B, T, 4096, device=dev, dtype=torch.bfloat16)
                flops = 2 * P * B * T + 4 * B * 32 * T * T * 128 / 2
                measure("block_prefill", "llama7b_block", "bf16", f"B{B}_T{T}", flops, 2 * P, lambda: blk(x),
                        energy=((B, T) == (2, 1024)))
            case(f"block_prefill B{B}_T{T}", _bp)
        for B, L in [(4, 1024), (32, 1024), (8, 4096), (1, 16384), (128, 512)]:
            def _bd(B=B, L=L):
                x = torch.randn(B, 1, 4096, device=dev, dtype=torch.bfloat16)
                kc = torch.randn(B, 32, L, 128, device=dev, dtype=torch.bfloat16); vc = torch.randn_like(kc)
                flops = 2 * P * B + 4 * B * 32 * L * 128
                measure("block_decode", "llama7b_block", "bf16", f"B{B}_L{L}", flops,
                        2 * P + 2 * 2 * B * 32 * L * 128, lambda: blk(x, kc, vc), energy=((B, L) == (32, 1024)))
            case(f"block_decode B{B}_L{L}", _bd)

fh.close()
meta["state_at_end"] = nvml_state()
meta["finished_utc"] = datetime.datetime.utcnow().isoformat(timespec="seconds")
write_meta()
print("wrote", n_rows, "rows;", len(failures), "failures", flush=True)
for m in failures:
    print("  failed:", m)
