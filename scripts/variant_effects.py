"""What each efficient-transformer variant buys on two architectures: latency, energy and area vs the dense model.

Every row is one ``hwsim.api.run`` (or ``api.speculative``) call: a workload switch (``workload.<field>=``)
plus, where the variant needs hardware support, the unit switch that provides it. Latency and energy are for
the whole layer stack (block x layers, no embeddings or LM head) for one step, with attention fused
(FlashAttention-style) on the GPU and unfused on the NPU; the speculative-decoding row is
per generated token, LM heads included, against plain decoding on the same arch. Ratios are against the dense
row of the same scenario and arch.

    python scripts/variant_effects.py                # table
    python scripts/variant_effects.py --format csv   # for plotting
"""

from __future__ import annotations

import argparse
import csv
import sys

from hwsim import api

ARCHS = ("npu_128", "h100")
FUSED = {"npu_128": False, "h100": True}  # FlashAttention-style fused attention on the GPU; arrays run it unfused
DECODE = {"workload": "llama2_7b", "phase": "decode", "batch": 1, "kv_len": 8192}
PREFILL = {"workload": "llama2_7b", "phase": "prefill", "batch": 1, "seq": 8192, "kv_len": None}
# unit switches per arch: which zero patterns / formats the hardware variant adds
ATTN_HW = {"npu_128": ["units.mxu.sparsity.attention_block=true", "units.vpu.sparsity.attention_block=true"],
           "h100": ["units.gpu.sparsity.attention_block=true"]}
NM_HW = {"npu_128": ["units.mxu.sparsity.weight_nm=[[2,4]]"], "h100": ["units.gpu.sparsity.weight_nm=[[2,4]]"]}
NO_NM = {"npu_128": [], "h100": ["units.gpu.sparsity.weight_nm=[]"]}  # h100.yaml declares 2:4 support
BLOCK_HW = {"npu_128": ["units.mxu.sparsity.weight_block=true"], "h100": ["units.gpu.sparsity.weight_block=true"]}
FORMATS_HW = {"npu_128": ["units.mxu.precisions=[bf16, fp16, int8, int4, fp8, mxfp4]"],
              "h100": ["units.gpu.tensor_flops_per_sm_per_cycle={tf32: 2048, bf16: 4096, fp16: 4096, fp8: 8192, "
                       "int8: 8192, int4: 16384, mxfp4: 16384}"]}
INT8_ONLY = {"npu_128": ["units.mxu.precisions=[int8]"], "h100": []}

# (name, scenario, workload switches, unit switches per arch or None)
VARIANTS = [
    ("dense", DECODE, [], None),
    ("dense", PREFILL, [], None),
    ("block-sparse attention d=0.1, b=64 (units skip tiles)", PREFILL,
     ["attention_sparsity={kind: block, density: 0.1, block_size: 64}"], ATTN_HW),
    ("block-sparse attention d=0.1, b=64 (no support: dense)", PREFILL,
     ["attention_sparsity={kind: block, density: 0.1, block_size: 64}"], None),
    ("block-sparse attention d=0.1, b=64 (units skip tiles)", DECODE,
     ["attention_sparsity={kind: block, density: 0.1, block_size: 64}"], ATTN_HW),
    ("sliding window 4096 (units skip tiles)", PREFILL, ["attention_sparsity={kind: sliding_window, window: 4096}"],
     ATTN_HW),
    ("streaming heads 50%, 4 sinks + 1020 (LServe)", DECODE,
     ["attention_sparsity={kind: streaming, streaming_fraction: 0.5, sink: 4, window: 1020}"], None),
    ("2:4 weights (unit skips)", DECODE, ["weight_sparsity={pattern: nm, n: 2, m: 4}"], NM_HW),
    ("2:4 weights (no support: dense)", DECODE, ["weight_sparsity={pattern: nm, n: 2, m: 4}"], NO_NM),
    ("32x32 block-sparse weights d=0.5 (unit skips)", PREFILL,
     ["weight_sparsity={pattern: block, density: 0.5, block_size: 32}"], BLOCK_HW),
    ("W4A16 int4 g128", DECODE, ["quantization={weights: {format: int4, group_size: 128}}"], None),
    ("W8A8 int8", DECODE, ["quantization={weights: {format: int8}, activations: {format: int8}}"], None),
    ("W8A8 int8, all-int8 (npu_128: int8-only array)", PREFILL,
     ["quantization={weights: {format: int8}, activations: {format: int8}}", "precision.activations=int8",
      "precision.kv_cache=int8", "precision.accumulators=int32"], INT8_ONLY),
    ("FP8 e4m3 weights + activations", PREFILL, ["quantization={weights: {format: fp8}, activations: {format: fp8}}"],
     FORMATS_HW),
    ("MXFP4 weights + activations", PREFILL,
     ["quantization={weights: {format: mxfp4}, activations: {format: mxfp4}}"], FORMATS_HW),
    ("SageAttention2 (QK int4, PV fp8)", PREFILL, ["quantization={attention: {qk: int4, pv: fp8}}"], FORMATS_HW),
    ("KV cache int4 g64", DECODE, ["quantization={kv_cache: {format: int4, group_size: 64}}"], None),
    ("FFN skip 25% (FFN-SkipLLM)", DECODE, ["skip={ffn_fraction: 0.25}"], None),
    ("layer skip 10%", DECODE, ["skip={layer_fraction: 0.1}"], None),
]


def _scenario(s: dict) -> str:
    return f"{s['phase']} {s['workload']}" + (f" kv {s['kv_len']}" if s["phase"] == "decode" else f" seq {s['seq']}")


def rows():
    """Yield one dict per (variant, arch)."""
    dense: dict = {}
    for name, sc, wl_sets, hw in VARIANTS:
        for arch in ARCHS:
            sets = [f"workload.{x}" for x in wl_sets] + (hw or {}).get(arch, [])
            r = api.run(arch, sc["workload"], sc["phase"], sc["batch"], sc.get("seq"), sc["kv_len"], overrides=sets,
                        fused_attention=FUSED[arch])
            s, j = r.latency_s * r.layers, r.energy_total_j * r.layers
            key = (_scenario(sc), arch)
            if name == "dense":
                dense[key] = (s, j)
            d = dense[key]
            yield {"variant": name, "scenario": key[0], "arch": arch, "latency_s": s, "energy_j": j,
                   "area_mm2": r.area_total_mm2, "latency_vs_dense": s / d[0], "energy_vs_dense": j / d[1]}
    for arch in ARCHS:
        sd = api.speculative(arch, "llama2_7b", "llama_160m", k=4, acceptance=0.7, kv_len=8192,
                             fused_attention=FUSED[arch])
        yield {"variant": "speculative decoding, Llama-160M draft, k=4, a=0.7 (per token)",
               "scenario": _scenario(DECODE), "arch": arch, "latency_s": sd.s_per_token, "energy_j": sd.j_per_token,
               "area_mm2": api.run(arch).area_total_mm2, "latency_vs_dense": 1 / sd.speedup,
               "energy_vs_dense": sd.energy_ratio}
    for wl, ph in (("mamba_2.8b", "decode"), ("mobilenetv2_block", "prefill")):
        for arch in ARCHS:
            r = api.run(arch, wl, ph, fused_attention=FUSED[arch])
            yield {"variant": f"{wl} block", "scenario": f"{ph} batch 1", "arch": arch,
                   "latency_s": r.latency_s * r.layers, "energy_j": r.energy_total_j * r.layers,
                   "area_mm2": r.area_total_mm2, "latency_vs_dense": float("nan"), "energy_vs_dense": float("nan")}


def _si(x: float, unit: str) -> str:
    for f, p in ((1, ""), (1e-3, "m"), (1e-6, "u"), (1e-9, "n")):
        if abs(x) >= f:
            return f"{x / f:.3g} {p}{unit}"
    return f"{x:.3g} {unit}"


def _ratio(x: float) -> str:
    return "-" if x != x else f"{x:.2f}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--format", choices=["table", "csv"], default="table")
    args = ap.parse_args(argv)
    data = list(rows())
    if args.format == "csv":
        w = csv.DictWriter(sys.stdout, fieldnames=list(data[0]))
        w.writeheader()
        w.writerows(data)
        return 0
    head = ["variant", "scenario", "arch", "latency", "energy", "area", "lat/dense", "E/dense"]
    cells = [[d["variant"], d["scenario"], d["arch"], _si(d["latency_s"], "s"), _si(d["energy_j"], "J"),
              f"{d['area_mm2']:.1f} mm2", _ratio(d["latency_vs_dense"]), _ratio(d["energy_vs_dense"])]
             for d in data]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(head)]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    print("  ".join("-" * w for w in widths))
    for c in cells:
        print("  ".join(x.ljust(w) if i < 3 else x.rjust(w) for i, (x, w) in enumerate(zip(c, widths))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
