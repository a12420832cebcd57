"""Fit the H100 tensor-engine model's physical constants and report its errors (prints JSON).

Protocol (docs/gpu.md, "Calibration"):
1. fit rows = hwsim/data/calibration/h100_calibration.csv minus the held-out rows (hwsim.validation.fit.HELD_OUT)
   + h100_microbench.csv (GPU time from CUDA-graph replay, NVML energy); measured, not fitted: the static power
   (micro idle row) and the host time of an element-wise launch (micro eager rows of tiny element-wise ops);
2. fit each group of constants on the rows that determine it (GROUPS below), cycling until they settle;
3. report MAPE on the fit rows, on the held-out calibration rows, on h100_holdout.csv (minus the rows that repeat
   calibration shapes, MEASUREMENTS.md), energy errors, and the H200 (arch_configs/h200.yaml = the fitted H100
   with the H200's datasheet figures; never fitted to H200 data) on h200_calibration.csv and h200_holdout.csv.

Usage: python scripts/fit_h100.py [--write] [--rounds N] [--markdown FILE]
  --write     store the fitted constants in arch_configs/h100.yaml and regenerate arch_configs/h200.yaml
  --markdown  also write the accuracy tables of docs/gpu.md and docs/validation.md to FILE
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from hwsim.api import compare_predictions as compare, estimate_frame, gpu_fit as F

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "hwsim" / "data" / "calibration"
H100 = ROOT / "arch_configs" / "h100.yaml"
H200 = ROOT / "arch_configs" / "h200.yaml"
# hold-out rows that repeat a calibration shape (MEASUREMENTS.md, "Overlaps"): not a generalisation check
OVERLAPS = {("gemm", "bf16", s) for s in ("1x768x2304", "1x768x3072", "1x3072x768", "4096x4096x4096",
                                          "1x4096x4096", "512x4096x4096")}
# H200 datasheet figures (NVIDIA H200 Tensor Core GPU datasheet: 141 GB HBM3e at 4.8 TB/s, up to 700 W) and the
# L2 size the device reports (h200_meta.json: 60 MB); everything else is the H100's.
H200_CHANGES = {"name": "h200", "l2": "60MB", "hbm_kind": "hbm3e", "hbm_capacity": "141GB", "hbm_bw": "4.8TB/s",
                "power_cap_w": 700.0}


def kinds(*ks):
    return lambda r: r.case.kind in ks


def groups():
    gp, ej = F.gp, F.ej
    l2bw = F.Param(("memories", "0", "bandwidth"), 3e12, 20e12)
    hbm_bit = F.Param(("energy", "bit_j", "hbm"), 1e-12, 40e-12)
    l2_bit = F.Param(("energy", "bit_j", "l2"), 0.5e-12, 30e-12)  # >= a large SRAM read + wire at 5 nm
    gemm_dt = lambda *dts: (lambda r: r.case.kind == "gemm" and r.case.dtype in dts and r.case.name not in
                            ("misaligned",))
    return [
        ("memory", [gp("hbm_efficiency", 0.7, 1.0), gp("kernel_fixed_s", 0.0, 10e-6), l2bw],
         lambda r: r.target != "joules" and (r.case.kind in ("copy", "add") or (r.case.kind == "silu" and
                                                                              r.case.name == "silu_contig"))),
        ("gemm_bf16_energy", [gp("overlap_exponent", 1.0, 20.0), gp("host_gemm_s", 0, 40e-6),
                              gp("gemm_fixed_s", 0.0, 10e-6), ej("mac.bf16.fp32", 0.05e-12, 5e-12), hbm_bit, l2_bit,
                              ej("sm.active_s", 0.0, 400.0), ej("ce.bytes", 0.0, 200e-12)],
         lambda r: gemm_dt("bf16")(r) or (r.target == "joules" and (r.case.kind in ("copy", "add", "attn_decode")
                                                                    or r.case.name == "gemv"))),
        ("gemm_lowp", [ej("mac.fp8.fp32", 0.02e-12, 5e-12), gp("int8_efficiency", 0.01, 1.0)], gemm_dt("fp8", "int8")),
        ("gemm_fp32", [ej("mac.fp32.fp32", 0.5e-12, 60e-12)], gemm_dt("fp32")),
        ("gemm_unaligned", [gp("unaligned_efficiency", 0.02, 1.0)],
         lambda r: r.case.kind == "gemm" and r.case.name == "misaligned"),
        ("attention", [gp("attn_efficiency", 0.3, 1.0), gp("softmax_per_clk", 0.5, 64.0), ej("alu.fp32", 1e-14, 2e-11),
                       gp("attn_cta_fixed_s", 0.0, 10e-6), gp("attn_fixed_s", 0.0, 30e-6)], kinds("attn_prefill")),
        ("attention_host", [gp("host_attention_s", 0, 40e-6)],
         lambda r: r.case.kind in ("attn_prefill", "attn_decode") and r.target == "seconds"),
        ("decode", [gp("decode_efficiency", 0.5, 1.2), gp("decode_fixed_s", 0.0, 20e-6)],
         lambda r: r.case.kind == "attn_decode" and r.target != "joules"),
        ("vector", [gp("vector_efficiency", 0.5, 1.2), gp("strided_elems_per_clk", 0.1, 16.0),
                    gp("norm_efficiency", 0.2, 1.2), gp("norm_fixed_s", 0.0, 10e-6), ej("alu.bf16", 1e-14, 1e-10)],
         lambda r: r.case.kind in ("add", "silu", "mul", "rmsnorm")),
        ("block", [gp("host_module_s", 0.0, 60e-6)], kinds("block_prefill", "block_decode")),
    ]


def measured_constants(micro: pd.DataFrame, sustained: pd.DataFrame) -> dict:
    """Constants read straight off micro-benchmark rows (not fitted)."""
    idle = micro[micro.kind == "idle"].iloc[0]
    n = pd.to_numeric(micro["shape"], errors="coerce")
    tiny = micro[micro.kind.isin(["add", "silu"]) & (n <= 1 << 20)]
    fp32 = sustained[(sustained.kind == "gemm") & (sustained.dtype == "fp32")].iloc[0]
    m, k, n = (int(v) for v in fp32["shape"].split("x"))
    simt = 2.0 * m * k * n / fp32.seconds / (132 * 256 * 1.98e9)
    return {"static_power_w": float(idle.avg_watts), "host_vector_s": float(np.median(tiny.seconds)),
            "simt_efficiency": float(simt),
            "sources": {"static_power_w": f"h100_microbench.csv idle_ctx_2s ({idle.avg_watts:.1f} W)",
                        "host_vector_s": f"median eager seconds of {len(tiny)} h100_microbench.csv add/silu rows "
                                         "of <= 2^20 elements",
                        "simt_efficiency": f"h100_sustained.csv fp32 {fp32['shape']}: {fp32.seconds * 1e3:.2f} ms at "
                                           f"{fp32.sm_mhz_after_loop} MHz, {fp32.avg_watts:.0f} W (below the cap) "
                                           "over 132 SMs x 256 flops x 1.98 GHz"}}


def derived_energies(base: dict) -> None:
    """Per-MAC energies of formats without a power-capped measurement, from measured ones (docs/gpu.md)."""
    a = base["energy"]["action_j"]
    a["mac.fp16.fp32"] = a["mac.bf16.fp32"]        # same tensor-core datapath and operand width
    a["mac.int8.int32"] = a["mac.fp8.fp32"]        # same 8-bit operand path; int8 rows are not power-capped
    a["mac.tf32.fp32"] = 2.0 * a["mac.bf16.fp32"]  # half the bf16 rate on the same datapath and power


def h200_dict(h100: dict) -> dict:
    d = json.loads(json.dumps(h100))
    d["name"] = "h200"
    d["description"] = "NVIDIA H200 SXM 141GB: the H100 model with the H200 datasheet's HBM3e, L2 and power"
    d["memories"][0]["capacity"] = H200_CHANGES["l2"]
    d["memories"][1].update(kind=H200_CHANGES["hbm_kind"], capacity=H200_CHANGES["hbm_capacity"],
                            bandwidth=H200_CHANGES["hbm_bw"])
    d["units"]["gpu"]["params"]["power_cap_w"] = H200_CHANGES["power_cap_w"]
    return d


def report(arch, frame: pd.DataFrame, drop=None) -> dict:
    f = frame if drop is None else frame[~frame.apply(drop, axis=1)]
    rep = compare(estimate_frame(f, arch, detail=True), arch.name, "")
    out = {"rows": int((f.kind != "idle").sum()), "mape_all": round(rep.mape_all, 4),
           "mape_by_kind": {k: round(v, 4) for k, v in rep.mape_by_kind.items()}}
    t = rep.frame[rep.frame["kind"] != "idle"].copy()
    t["group"] = t["kind"].str.split("_").str[0].replace({"attn": "attention"})
    for name, sel in (("device_bound", t["gpu_s"] > t["host_s"]), ("host_bound", t["gpu_s"] <= t["host_s"])):
        g = t[sel].assign(abs_err=t["err"].abs()).groupby("group")
        out[name] = {k: {"rows": int(len(v)), "mape": round(float(v["abs_err"].mean()), 4),
                         "bias": round(float(v["err"].mean()), 4)} for k, v in g}
    if rep.energy_mape is not None:
        out["energy_mape"] = round(rep.energy_mape, 4)
        e = rep.frame[rep.frame["energy_err"].notna()]
        out["energy_rows"] = {f"{r.kind} {r.shape}": round(float(r.energy_err), 4) for r in e.itertuples()}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--markdown", default=None)
    args = ap.parse_args(argv)
    import yaml

    base = yaml.safe_load(H100.read_text())
    cal = pd.read_csv(DATA / "h100_calibration.csv")
    micro = pd.read_csv(DATA / "h100_microbench.csv")
    sustained = pd.read_csv(DATA / "h100_sustained.csv")
    const = measured_constants(micro, sustained)
    base["energy"]["static_power_w"] = const["static_power_w"]
    base["units"]["gpu"]["params"]["host_vector_s"] = const["host_vector_s"]
    base["units"]["gpu"]["params"]["host_copy_s"] = const["host_vector_s"]  # one ATen op + one launch, like them
    base["units"]["gpu"]["params"]["simt_efficiency"] = const["simt_efficiency"]
    base["energy"]["source"] = ("scripts/fit_h100.py: static power = h100_microbench.csv idle_ctx_2s (measured); "
                                "sm.active_s, ce.bytes, bit_j.hbm, bit_j.l2, mac.bf16 fitted jointly to bf16 GEMM "
                                "times (calibration fit rows, micro, sustained: the power cap) and the joules of "
                                "copy_4096MB, square_8192 (calibration), micro add/gemv/m64/decode, sustained bf16; "
                                "mac.fp8 to fp8 times + sustained joules; mac.fp32 to micro/sustained fp32 joules; "
                                "alu.fp32 to attn_prefill times + sustained SDPA joules; alu.bf16 to micro "
                                "rmsnorm/add joules; fp16/int8/tf32 derived (docs/gpu.md)")
    rows = (F.calibration_rows(cal, "h100_calibration.csv", held_out=False)
            + F.microbench_rows(micro, "h100_microbench.csv")
            + F.calibration_rows(sustained, "h100_sustained.csv", held_out=False))
    base = F.run_fit(base, groups(), rows, args.rounds, log=lambda s: print(s, file=sys.stderr))
    derived_energies(base)
    h100 = F.arch_from_dict(base, "h100(fitted)")
    h200 = F.arch_from_dict(h200_dict(base), "h200(datasheet)")
    hold = pd.read_csv(DATA / "h100_holdout.csv")
    held = lambda r: F.is_held_out(r["kind"], str(r["dtype"]), str(r["shape"]))
    out = {
        "params": {k: v for k, v in base["units"]["gpu"]["params"].items()},
        "l2_bandwidth": base["memories"][0]["bandwidth"], "energy": base["energy"], "measured": const,
        "h100_calibration_fit_rows": report(h100, cal, drop=lambda r: r["kind"] != "idle" and held(r)),
        "h100_calibration_held_out": report(h100, cal[cal.apply(held, axis=1)]),
        "h100_holdout": report(h100, hold, drop=lambda r: (r["kind"], str(r["dtype"]), str(r["shape"])) in OVERLAPS),
        "h200_calibration": report(h200, pd.read_csv(DATA / "h200_calibration.csv")),
        "h200_holdout": report(h200, pd.read_csv(DATA / "h200_holdout.csv")),
    }
    print(json.dumps(out, indent=1, default=float))
    if args.write:
        write_yaml(base)
    if args.markdown:
        Path(args.markdown).write_text(markdown(out, h100, h200))
    return 0


NAMES = {"h100_calibration_fit_rows": "H100 calibration, fit rows",
         "h100_calibration_held_out": "H100 calibration, held-out rows",
         "h100_holdout": "H100 hold-out file (overlaps removed)",
         "h200_calibration": "H200 calibration file (not fitted)", "h200_holdout": "H200 hold-out file (not fitted)"}
KINDS = ("gemm", "attn_prefill", "attn_decode", "block_prefill", "block_decode", "copy")


def markdown(out: dict, h100, h200) -> str:
    """The accuracy tables (MAPE %, rows) and the per-row energy table, as Markdown."""
    pct = lambda v: f"{100 * v:.1f}"
    lines = ["| data | rows | " + " | ".join(KINDS) + " | all | energy |", "|" + "---|" * (len(KINDS) + 4)]
    for key, name in NAMES.items():
        r, m = out[key], out[key]["mape_by_kind"]
        lines.append(f"| {name} | {r['rows']} | " + " | ".join(pct(m[k]) if k in m else "-" for k in KINDS)
                     + f" | {pct(r['mape_all'])} | " + (pct(r["energy_mape"]) if "energy_mape" in r else "-") + " |")
    lines += ["", "| data | device-bound GEMM | attention | block | host-bound GEMM | attention | block |",
              "|---|---|---|---|---|---|---|"]
    for key, name in NAMES.items():
        r = out[key]
        cell = lambda s, g: f"{pct(r[s][g]['mape'])} ({r[s][g]['rows']})" if g in r[s] else "-"
        lines.append(f"| {name} | " + " | ".join(cell(s, g) for s in ("device_bound", "host_bound")
                                                 for g in ("gemm", "attention", "block")) + " |")
    lines += ["", "| config | file | case | measured ms | predicted ms | measured J | predicted J | error % |",
              "|---|---|---|---|---|---|---|---|"]
    for arch, files in ((h100, ("h100_calibration", "h100_holdout")), (h200, ("h200_calibration", "h200_holdout"))):
        for f in files:
            d = pd.read_csv(DATA / f"{f}.csv")
            p = estimate_frame(d[d.joules.notna()], arch)
            for r in p.itertuples():
                case = " ".join(str(x) for x in (r.kind, r.name, r.dtype, r.shape) if x == x and str(x))
                mj = float(r.measured_joules)
                lines.append(f"| {arch.name} | {f}.csv | {case} | {float(r.measured_seconds) * 1e3:.3f} | "
                             f"{r.seconds * 1e3:.3f} | {mj:.4g} | {r.joules:.4g} | {100 * (r.joules / mj - 1):+.1f} |")
    return "\n".join(lines) + "\n"


def write_yaml(base: dict) -> None:
    """Store fitted values in h100.yaml in place (comments kept) and regenerate h200.yaml from it."""
    text = H100.read_text()
    fitted = {p.path[-1] for _, ps, _ in groups() for p in ps} | {"host_vector_s", "host_copy_s", "simt_efficiency"}
    for k, v in base["units"]["gpu"]["params"].items():
        if k in fitted:
            text = re.sub(rf"(?m)^(      {k}: )\S+(\s*)(#.*)?$",
                          lambda m: f"{m[1]}{f'{v:.4g}':<{max(len(m[0]) - len(m[1]) - len(m[3] or ''), 1) - 1}} "
                                    f"{m[3] or ''}".rstrip(), text)
    bw = base["memories"][0]["bandwidth"]
    text = re.sub(r"(?m)^(    bandwidth: )\S+(\s*# L2.*)$", lambda m: f"{m[1]}{bw / 1e12:.3g}TB/s{m[2]}", text)
    e = base["energy"]
    block = ["energy:", f"  source: \"{e['source']}\"", f"  static_power_w: {e['static_power_w']:.4g}",
             "  action_j: {" + ", ".join(f"{k}: {v:.4g}" for k, v in e["action_j"].items()) + "}",
             "  bit_j: {" + ", ".join(f"{k}: {v:.4g}" for k, v in e["bit_j"].items()) + "}"]
    text = re.sub(r"(?ms)^energy:.*\Z", "\n".join(block) + "\n", text)
    H100.write_text(text)
    H200.write_text(h200_text(text))


def h200_text(text: str) -> str:
    """arch_configs/h200.yaml from the text of h100.yaml: only the H200 datasheet's figures change."""
    h200 = re.sub(r"(?m)^name: h100$", "name: h200", text)
    h200 = re.sub(r"(?m)^description: .*$", 'description: "NVIDIA H200 SXM 141GB: the H100 model with the H200 '
                  'datasheet\'s HBM3e, L2 and power"', h200)
    h200 = re.sub(r"(?m)^    capacity: 50MB$", f"    capacity: {H200_CHANGES['l2']}   # h200_meta.json L2", h200)
    h200 = re.sub(r"(?m)^    kind: hbm3$", f"    kind: {H200_CHANGES['hbm_kind']}", h200)
    h200 = re.sub(r"(?m)^    capacity: 80GB$", f"    capacity: {H200_CHANGES['hbm_capacity']}", h200)
    h200 = re.sub(r"(?m)^    bandwidth: 3.35TB/s$", f"    bandwidth: {H200_CHANGES['hbm_bw']}   # H200 datasheet", h200)
    header = ("# NVIDIA H200 SXM 141 GB: GENERATED by scripts/fit_h100.py from h100.yaml. Only the H200 datasheet's\n"
              "# figures differ (HBM3e 141 GB at 4.8 TB/s; L2 60 MB as the device reports, h200_meta.json; 700 W);\n"
              "# nothing here is fitted to H200 data. The H100 header below applies to every other line.\n")
    return header + h200


if __name__ == "__main__":
    sys.exit(main())
