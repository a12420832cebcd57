"""List the GPU kernels that ONE forward call of llama7b_block launches, and how long the call takes.

The block is the SAME `Block` (llama7b_block) as in hwsim/data/calibration/measure_gpu.py (class copied
verbatim; this is a stand-alone measurement script that imports nothing from the repository; `bench` is copied
from measure_gpu.py too).

Cases: prefill B1_T512, decode B1_L2048, decode B16_L2048 (same input conventions as measure_gpu.py).
For each case:
  * torch.profiler (CPU+CUDA activities) around exactly one call, after warm-up and after one discarded profiled
    call; the GPU kernels (and any GPU memcpy/memset) are read from the exported Chrome trace;
  * the wall time per call without the profiler (`bench`: CUDA events, many calls back to back, median), as in
    the calibration CSV;
  * the time per call of the same forward captured in a CUDA graph and replayed (launch gaps mostly removed).

Run: python3 profile_block_kernels.py OUT.csv
writes OUT.csv        (case, kernel_index, kernel_name, gpu_seconds, start_offset_s)
       OUT_summary.csv (case, n_kernels, sum_kernel_s, gpu_span_s, eager_s_per_call, graph_s_per_call,
                        profiled_host_s)
start_offset_s is the kernel's start relative to the first kernel's start in that call; gpu_span_s is the last
kernel's end minus the first kernel's start; sum_kernel_s / eager_s_per_call is the busy fraction.
"""
import csv, json, os, sys, tempfile, time
import torch
import torch.nn.functional as F
from torch.profiler import profile, ProfilerActivity

dev = "cuda"


def bench(fn, warm=3, iters=20, min_s=0.05):  # copied from measure_gpu.py
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


class Block(torch.nn.Module):  # copied verbatim from measure_gpu.py
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


def gpu_kernels_of_one_call(f):
    """Kernels of one call of f, from the profiler's Chrome trace, in start order: [(name, start_us, dur_us)]."""
    acts = [ProfilerActivity.CPU, ProfilerActivity.CUDA]
    with profile(activities=acts) as p0:  # discarded: first profiled call pays CUPTI set-up
        f(); torch.cuda.synchronize()
    torch.cuda.synchronize()
    with profile(activities=acts) as p:
        t0 = time.perf_counter()
        f(); torch.cuda.synchronize()
        host = time.perf_counter() - t0
    fd, path = tempfile.mkstemp(suffix=".json"); os.close(fd)
    p.export_chrome_trace(path)
    with open(path) as fh:
        tr = json.load(fh)
    os.remove(path)
    evs = tr["traceEvents"] if isinstance(tr, dict) else tr
    ks = [(e["name"], float(e["ts"]), float(e.get("dur", 0.0))) for e in evs
          if e.get("ph") == "X" and e.get("cat") in ("kernel", "gpu_memcpy", "gpu_memset")]
    ks.sort(key=lambda k: k[1])
    return ks, host


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "block_kernels.csv"
    summ = out.replace(".csv", "_summary.csv")
    torch.manual_seed(0)
    blk = Block().to(dev, torch.bfloat16).eval()
    cases = [("prefill_B1_T512", 1, 512, None), ("decode_B1_L2048", 1, 1, 2048), ("decode_B16_L2048", 16, 1, 2048)]
    fk = open(out, "w", newline=""); wk = csv.writer(fk)
    wk.writerow(["case", "kernel_index", "kernel_name", "gpu_seconds", "start_offset_s"]); fk.flush()
    fs = open(summ, "w", newline=""); ws = csv.writer(fs)
    ws.writerow(["case", "n_kernels", "sum_kernel_s", "gpu_span_s", "eager_s_per_call", "graph_s_per_call",
                 "profiled_host_s"]); fs.flush()
    with torch.no_grad():
        for name, B, T, L in cases:
            try:
                x = torch.randn(B, T, 4096, device=dev, dtype=torch.bfloat16)
                if L is None:
                    f = lambda: blk(x)
                else:
                    kc = torch.randn(B, 32, L, 128, device=dev, dtype=torch.bfloat16); vc = torch.randn_like(kc)
                    f = lambda: blk(x, kc, vc)
                eager = bench(f)
                ks, host = gpu_kernels_of_one_call(f)
                t_first = ks[0][1] if ks else 0.0
                for i, (kn, ts, du) in enumerate(ks):
                    wk.writerow([name, i, kn, du / 1e6, (ts - t_first) / 1e6])
                fk.flush()
                ssum = sum(k[2] for k in ks) / 1e6
                span = (max(k[1] + k[2] for k in ks) - t_first) / 1e6 if ks else 0.0
                graph_t = ""
                try:
                    st = torch.cuda.Stream(); st.wait_stream(torch.cuda.current_stream())
                    with torch.cuda.stream(st):
                        for _ in range(3):
                            f()
                    torch.cuda.current_stream().wait_stream(st); torch.cuda.synchronize()
                    g = torch.cuda.CUDAGraph()
                    with torch.cuda.graph(g):
                        f()
                    graph_t = bench(g.replay)
                    del g
                except Exception as ex:
                    print("graph capture failed for", name, type(ex).__name__, ex, flush=True)
                ws.writerow([name, len(ks), ssum, span, eager, graph_t, host]); fs.flush()
                print(f"{name}: {len(ks)} kernels, sum {ssum*1e6:.1f} us, span {span*1e6:.1f} us, "
                      f"eager {eager*1e6:.1f} us/call, graph {graph_t if graph_t == '' else round(graph_t*1e6, 1)} us/call",
                      flush=True)
                for i, (kn, ts, du) in enumerate(ks):
                    print(f"   {i:2d} {du:8.1f} us  +{ts - t_first:8.1f} us  {kn[:110]}")
            except Exception as ex:
                import traceback; traceback.print_exc()
                print("FAILED", name, type(ex).__name__, ex, flush=True)
            torch.cuda.empty_cache()
    fk.close(); fs.close()


if __name__ == "__main__":
    main()
