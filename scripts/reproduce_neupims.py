"""Reproduce NeuPIMs' throughput comparison (Heo et al. ASPLOS 2024) from the shipped YAML specs.

Decode throughput (tokens/s of one device holding a tensor-parallel shard, as NeuPIMs' configs shard the models:
casys-kaist/NeuPIMs configs/model_configs/*.json n_tp / n_pp) for four systems:

* gpu_only: arch_configs/a100.yaml, mapping gpu_only (the calibrated GPU model, H100-fitted efficiencies);
* npu_only: arch_configs/neupims_npu_only.yaml, mapping npu_only (attention GEMVs on the systolic arrays);
* naive:    arch_configs/neupims.yaml, mapping pim_blocked, no sub-batching (NeuPIMs' npu+pim branch);
* neupims:  arch_configs/neupims.yaml, mapping neupims (dual row buffers), two interleaved sub-batches when
            the batch is 256 or more (the repository README's rule), else one batch.

Ratios are NeuPIMs' throughput over each baseline; nothing here is tuned to the paper's 3x / 2.4x / 1.6x.
Usage: ``python scripts/reproduce_neupims.py [--json] [--models gpt3_13b,llama2_7b] [--batches 64,128,256,512]
[--kv-lens 256,512,1024] [--layers N]``. Progress goes to stderr; Ctrl-C prints what is done.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from hwsim.api import HwsimError, decode_step, int_list, load_arch, load_model, shard

PAPER = {"gpu_only": 3.0, "npu_only": 2.4, "naive": 1.6}  # arXiv:2403.00579 abstract (v3)
PARALLEL = {"gpt3_7b": (4, 1), "gpt3_13b": (4, 1), "gpt3_30b": (4, 2), "gpt3_175b": (8, 4), "llama2_7b": (4, 1)}
FP16 = ["precision.weights=fp16", "precision.activations=fp16", "precision.kv_cache=fp16"]
SYSTEMS = {"gpu_only": ("a100", "gpu_only"), "npu_only": ("neupims_npu_only", "npu_only"),
           "naive": ("neupims", "pim_blocked"), "neupims": ("neupims", "neupims")}
SUB_BATCH_MIN = 256  # casys-kaist/NeuPIMs README: sub-batch interleaving only when batch size >= 256


def footprint_bytes(model, batch: int, kv_len: int) -> float:
    """Weights of the shard plus its KV cache (bytes)."""
    p = model.precision
    d, h, kvh, hd, f = model.d_model, model.heads, model.kv_heads, model.head_dim, model.ffn_dim
    ffn = (3 if model.ffn_kind.value == "swiglu" else 2) * d * f
    weights = (d * (h + 2 * kvh) * hd + h * hd * d + ffn) * p.weights.bytes * model.layers
    kv = 2 * batch * kv_len * kvh * hd * p.kv_cache.bytes * model.layers
    return weights + kv


def point(name: str, model, archs, batch: int, kv_len: int, layers: int | None, engine: str) -> dict:
    out = {"model": name, "batch": batch, "kv_len": kv_len, "tokens_per_s": {}, "bottleneck": {}}
    for system, (arch, mapping) in SYSTEMS.items():
        sub = 2 if system == "neupims" and batch >= SUB_BATCH_MIN else 1
        s = decode_step(model, archs[arch], batch=batch, kv_len=kv_len, mapping=mapping, sub_batches=sub,
                        layers=layers if sub > 1 else None, engine=engine)
        out["tokens_per_s"][system] = s.tokens_per_s
        out["bottleneck"][system] = f"{s.bottleneck.unit} ({s.bottleneck.bound})"
        if system == "neupims":
            out["sub_batches"] = sub
            other = decode_step(model, archs[arch], batch=batch, kv_len=kv_len, mapping=mapping,
                                sub_batches=1 if sub > 1 else 2, layers=layers, engine=engine)
            out["tokens_per_s"]["neupims_" + ("one_batch" if sub > 1 else "interleaved")] = other.tokens_per_s
    t = out["tokens_per_s"]
    out["ratios"] = {b: t["neupims"] / t[b] for b in PAPER}
    out["footprint_gb"] = footprint_bytes(model, batch, kv_len) / 1e9
    out["fits"] = footprint_bytes(model, batch, kv_len) <= archs["neupims"].dram.capacity
    return out


def geomean(xs: list[float]) -> float:
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def summary(points: list[dict]) -> dict:
    """Geometric means of NeuPIMs' ratios over the points that fit in the device's memory, over those that fit
    and interleave sub-batches (batch >= 256), and over all points; extremes over the fitting ones."""
    fit = [p for p in points if p["fits"]]
    big = [p for p in fit if p["sub_batches"] > 1]
    out = {}
    for b, paper in PAPER.items():
        out[b] = {"paper": paper, "geomean_fitting": geomean([p["ratios"][b] for p in fit]),
                  "geomean_fitting_sub_batched": geomean([p["ratios"][b] for p in big]),
                  "geomean_all": geomean([p["ratios"][b] for p in points]),
                  "max_fitting": max((p["ratios"][b] for p in fit), default=float("nan")),
                  "min_fitting": min((p["ratios"][b] for p in fit), default=float("nan"))}
    return out


def table(points: list[dict]) -> str:
    head = f"{'model':<12}{'batch':>6}{'kv':>6}{'fits':>6}  " + "".join(f"{s:>11}" for s in SYSTEMS) + \
           "   neupims / gpu  npu  naive"
    rows = [head]
    for p in points:
        t, r = p["tokens_per_s"], p["ratios"]
        rows.append(f"{p['model']:<12}{p['batch']:>6}{p['kv_len']:>6}{'yes' if p['fits'] else 'no':>6}  "
                    + "".join(f"{t[s]:>11.0f}" for s in SYSTEMS)
                    + f"   {r['gpu_only']:>13.2f}{r['npu_only']:>5.2f}{r['naive']:>7.2f}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ap.add_argument("--models", default="gpt3_13b,llama2_7b")
    ap.add_argument("--batches", type=int_list, default="64,128,256,512")
    ap.add_argument("--kv-lens", type=int_list, default="256,512,1024")
    ap.add_argument("--layers", type=int, default=None, help="layers unrolled for interleaving (default all)")
    ap.add_argument("--engine", default="analytical", choices=["analytical", "cycle"],
                    help="cycle: PIM ops by the command-level simulator (other units fall back as noted)")
    a = ap.parse_args(argv)
    archs = {n: load_arch(n) for n in ("a100", "neupims_npu_only", "neupims")}
    points: list[dict] = []
    interrupted = False
    try:
        for name in a.models.split(","):
            tp, pp = PARALLEL.get(name, (1, 1))
            model = shard(load_model(name, FP16), tp, pp)
            for batch in a.batches:
                for kv in a.kv_lens:
                    print(f"{name} tp{tp} pp{pp} batch {batch} kv_len {kv}", file=sys.stderr)
                    points.append(point(name, model, archs, batch, kv, a.layers, a.engine))
    except KeyboardInterrupt:
        interrupted = True
        print("interrupted: printing the points done", file=sys.stderr)
    except HwsimError as e:  # an unknown model, a --layers that does not divide the model's, ...
        print(f"error: {e}", file=sys.stderr)
        return 2
    systems = {k: {"arch": v[0], "mapping": v[1]} for k, v in SYSTEMS.items()}
    out = {"paper": PAPER, "engine": a.engine, "systems": systems,
           "sub_batch_min": SUB_BATCH_MIN, "parallelism": {m: PARALLEL.get(m, (1, 1)) for m in a.models.split(",")},
           "points": points, "summary": summary(points), "interrupted": interrupted}
    print(json.dumps(out, indent=1) if a.json else table(points) + "\n\n" + json.dumps(out["summary"], indent=1))
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
