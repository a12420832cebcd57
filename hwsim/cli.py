"""Command line: a click group that parses, calls :mod:`hwsim.api`, and prints. No modelling here.

Any :class:`~hwsim.errors.HwsimError`, and any click usage error, becomes one line on stderr and exit status 2
(hwsim/cli_errors.py).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from hwsim.cli_errors import OneLineGroup, one_line_errors
from hwsim.errors import HwsimError, SpecError


@click.group(cls=OneLineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hwsim")
def main() -> None:
    """hwsim: latency, energy and area of transformer blocks on accelerators."""


def _emit(text: str, out: str | None) -> None:
    if out:
        try:
            Path(out).parent.mkdir(parents=True, exist_ok=True)
            Path(out).write_text(text)
        except OSError as e:
            raise SpecError(str(out), "--out", f"cannot write the output ({e.strerror or e.__class__.__name__})",
                            allowed="a file path in a writable directory") from None
        click.echo(f"wrote {out}", err=True)
    else:
        click.echo(text, nl=not text.endswith("\n"))


@main.command()
@click.option("--arch", default="npu_128", show_default=True, help="shipped name or path to an arch YAML")
@click.option("--workload", default="llama2_7b", show_default=True,
              help="shipped model name, model YAML, or a Hugging Face config.json")
@click.option("--phase", type=click.Choice(["prefill", "decode"]), default="decode", show_default=True)
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--seq", type=click.IntRange(min=1), default=None, help="prefill tokens per sequence [512]")
@click.option("--kv-len", type=click.IntRange(min=1), default=2048, show_default=True,
              help="decode: cached keys per sequence, including the new token")
@click.option("--engine", type=click.Choice(["analytical", "cycle", "roofline"]), default="analytical",
              show_default=True)
@click.option("--mapping", default=None, help="mapping policy name or YAML (default: fastest unit per op)")
@click.option("--fused-attention", is_flag=True,
              help="one FlashAttention-style op instead of QK^T/softmax/SV (tensor engines run it; systolic arrays "
                   "run the unfused ops)")
@click.option("--set", "overrides", multiple=True, metavar="PATH=VALUE",
              help="override a spec field, e.g. units.mxu.rows=64 or workload.precision.weights=int8")
@click.option("--schedule", type=click.Choice(["list", "event"]), default=None,
              help="list: critical path (default); event: simpy simulation with shared-memory contention")
@click.option("--order", type=click.Choice(["program", "ready"]), default=None,
              help="event schedule: units run ops in program order (default) or as they become ready")
@click.option("--sub-batches", type=click.IntRange(min=1), default=1, show_default=True,
              help="decode: interleave this many sub-batches over all layers (NeuPIMs); implies --schedule event")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--out", default=None, help="write the output to this file instead of stdout")
@one_line_errors
def run(arch, workload, phase, batch, seq, kv_len, engine, mapping, fused_attention, overrides, schedule, order,
        sub_batches, fmt, out):
    """Cost one transformer block: per-op and total latency, energy, area.

    With no arguments: a Llama-2-7B decode block (batch 1, kv_len 2048) on the generic NPU.
    """
    from hwsim import api
    from hwsim.report.text import run_table

    result = api.run(arch, workload, phase, batch, seq, kv_len, engine=engine, mapping=mapping,
                     overrides=overrides, fused_attention=fused_attention, schedule=schedule, order=order,
                     sub_batches=sub_batches)
    if fmt == "json":
        text = json.dumps(result.to_dict(), indent=2)
    elif fmt == "csv":
        text = result.to_frame().to_csv(index=False)
    else:
        text = run_table(result)
    _emit(text, out)


@main.command(name="list")
@one_line_errors
def list_() -> None:
    """Shipped architectures, workloads and mapping policies."""
    from hwsim.arch.loader import load_arch, shipped_archs
    from hwsim.mapping.mapper import shipped_policies
    from hwsim.workload.models import load_model, shipped_models

    click.echo("architectures:")
    for n in shipped_archs():
        click.echo(f"  {n:<16} {load_arch(n).description}")
    click.echo("workloads:")
    for n in shipped_models():
        m = load_model(n)
        click.echo(f"  {n:<16} {m.block.value}, {m.layers} layers, d_model {m.d_model}"
                   + (f", heads {m.heads}/{m.kv_heads}" if m.heads else "")
                   + (f", MoE {m.moe.top_k} of {m.moe.experts}" if m.moe else "")
                   + (f", d_state {m.ssm.d_state}, expand {m.ssm.expand}" if m.ssm else "")
                   + (f", {m.conv.resolution}x{m.conv.resolution} px, expansion {m.conv.expansion}" if m.conv else ""))
    click.echo("mapping policies:")
    for n in shipped_policies():
        click.echo(f"  {n}")


@main.command()
@click.argument("what", type=click.Choice(["arch", "workload", "mapping"]))
@click.argument("name")
@click.option("--set", "overrides", multiple=True, metavar="PATH=VALUE")
@one_line_errors
def show(what, name, overrides) -> None:
    """Print a resolved spec (defaults filled in, units in SI) as YAML."""
    import yaml

    if what == "arch":
        from hwsim.arch.loader import load_arch
        spec = load_arch(name, overrides)
    elif what == "workload":
        from hwsim.workload.models import load_model
        spec = load_model(name, overrides)
    else:
        from hwsim.mapping.mapper import load_policy
        spec = load_policy(name)
    click.echo(yaml.safe_dump(spec.model_dump(mode="json"), sort_keys=False))


@main.command()
@click.option("--arch", default="npu_128", show_default=True, help="shipped name or path to an arch YAML")
@click.option("--target", default="llama2_7b", show_default=True, help="target model (shipped name or path)")
@click.option("--draft", default="llama_160m", show_default=True, help="draft model (shipped name or path)")
@click.option("--k", "k", type=click.IntRange(min=1), multiple=True, help="draft tokens per step [4]; "
              "repeat it (and/or --acceptance) for a table of speedups")
@click.option("--acceptance", type=click.FloatRange(0, 1), multiple=True,
              help="probability that a drafted token is accepted [0.7]; repeatable")
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--kv-len", type=click.IntRange(min=1), default=2048, show_default=True)
@click.option("--fused-attention", is_flag=True, help="one fused (FlashAttention-style) attention op, as GPUs run it")
@click.option("--engine", type=click.Choice(["analytical", "cycle", "roofline"]), default="analytical",
              show_default=True)
@click.option("--set", "overrides", multiple=True, metavar="PATH=VALUE", help="arch or workload.<target field>")
@click.option("--draft-set", "draft_overrides", multiple=True, metavar="FIELD=VALUE", help="draft model field")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@one_line_errors
def specdec(arch, target, draft, k, acceptance, batch, kv_len, fused_attention, engine, overrides, draft_overrides,
            fmt) -> None:
    """Speculative decoding: expected tokens per target step, draft and target costs, speedup over plain decoding.
    Several --k / --acceptance values print a table of speedups (one row per k, one column per acceptance)."""
    from hwsim import api
    from hwsim.report.specdec import specdec_grid_table, specdec_table

    rs = [api.speculative(arch, target, draft, kk, a, batch, kv_len, engine=engine, overrides=overrides,
                          draft_overrides=draft_overrides, fused_attention=fused_attention)
          for kk in (k or (4,)) for a in (acceptance or (0.7,))]
    if fmt == "json":
        click.echo(json.dumps(rs[0].to_dict() if len(rs) == 1 else [r.to_dict() for r in rs], indent=2))
    else:
        click.echo(specdec_table(rs[0]) if len(rs) == 1 else specdec_grid_table(rs, batch, kv_len))


@main.command()
@click.argument("source", metavar="INPUT")
@click.option("--out", required=True, help="directory to write report.md, report.html, figures/, tables/ into")
@click.option("--measured", default=None, help="validation CSV: column of measured seconds [seconds]")
@click.option("--predicted", default=None, help="validation CSV: column of predicted seconds [pred_seconds]")
@one_line_errors
def report(source, out, measured, predicted) -> None:
    """Report with figures of a run (`hwsim run --format json`; `-` reads it from stdin), a sweep's results
    directory, or a validation CSV (measured and predicted seconds).

    Writes report.md, a self-contained report.html, figures as PNG and SVG, tables as CSV and manifest.json.
    """
    from hwsim import api

    command = ["hwsim", "report", source, "--out", out] + [x for k, v in (("--measured", measured),
                                                                          ("--predicted", predicted)) if v for x in (k, v)]
    files = api.report(source, out, measured=measured, predicted=predicted,
                       stdin_text=sys.stdin.read() if source == "-" else None, command=command)
    figs, tables = sum(1 for f in files if f.suffix == ".png"), sum(1 for f in files if f.suffix == ".csv")
    click.echo(f"wrote {out}: report.md, report.html, {figs} figure{'s' * (figs != 1)} (PNG + SVG), "
               f"{tables} table{'s' * (tables != 1)} (CSV), manifest.json")


@main.command()
@click.option("--arch", default="npu_128", show_default=True, help="shipped name or path to an arch YAML")
@click.option("--set", "overrides", multiple=True, metavar="PATH=VALUE",
              help="override a spec field, e.g. tech.node=3 or tech.device=ffet")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--out", default=None, help="write the output to this file instead of stdout")
@one_line_errors
def area(arch, overrides, fmt, out) -> None:
    """Area breakdown of an architecture (mm^2 by component and the die total)."""
    from hwsim import api
    from hwsim.report.text import area_table

    a = api.area(arch, overrides)
    if fmt == "json":
        text = json.dumps({"arch": arch, "area_mm2": {"total": sum(a.values()), "by_component": a}}, indent=2)
    elif fmt == "csv":
        text = "component,mm2,share\n" + "".join(f"{k},{v},{v / sum(a.values())}\n" for k, v in a.items())
    else:
        text = area_table(a)
    _emit(text, out)


@main.command()
@click.option("--node", type=click.Choice(["45", "28", "16", "7", "5", "3"]), default="45", show_default=True)
@click.option("--device", type=click.Choice(["finfet", "gaa", "cfet", "ffet", "ffet_dual"]), default="finfet",
              show_default=True)
@click.option("--cell", type=click.Choice(["hp", "lop", "lstp"]), default="hp", show_default=True,
              help="SRAM device flavour")
@click.option("--clock-scaling", type=click.Choice(["fixed", "device", "device_iso_area"]), default="fixed",
              show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--out", default=None, help="write the output to this file instead of stdout")
@one_line_errors
def tech(node, device, cell, clock_scaling, fmt, out) -> None:
    """The technology tables resolved at a node and device, every value with its basis and source."""
    from hwsim import api
    from hwsim.report.text import tech_table

    rows = api.tech_table(int(node), device, cell, clock_scaling)
    if fmt == "json":
        text = json.dumps(rows, indent=2)
    elif fmt == "csv":
        import pandas as pd
        text = pd.DataFrame(rows).to_csv(index=False)
    else:
        text = tech_table(rows, f"node {node} nm, {device}, SRAM cell {cell}, clock scaling {clock_scaling}")
    _emit(text, out)


@main.command()
@click.option("--arch", default="h100", show_default=True, help="shipped name or path to an arch YAML")
@click.option("--ops", "ops_path", required=True, help="CSV with columns kind,name,dtype,shape (more are kept)")
@click.option("--out", required=True, help="CSV to write: the same rows in the same order + seconds, joules")
@one_line_errors
def estimate(arch, ops_path, out) -> None:
    """Predict seconds and joules of measured-case rows (gemm, attn_prefill, attn_decode, block_*, copy, idle)."""
    from hwsim import api

    frame = api.estimate(ops_path, arch)
    _writing(out, lambda: (Path(out).parent.mkdir(parents=True, exist_ok=True), frame.to_csv(out, index=False)))
    click.echo(f"wrote {out} ({len(frame)} rows)", err=True)


def _writing(path, write) -> None:
    """Run ``write()``; an output path that cannot be written is a one-line SpecError, not a traceback."""
    try:
        write()
    except OSError as e:
        raise SpecError(str(path), "", f"cannot write ({e.strerror or e.__class__.__name__})") from None


@main.command()
@click.option("--arch", default="h100", show_default=True, help="shipped name or path to an arch YAML")
@click.option("--data", required=True, help="measured CSV: kind,name,dtype,shape,seconds[,joules]")
@click.option("--plot", default=None, help="parity plot PNG [<data stem>_parity_<arch>.png]")
@click.option("--worst", type=click.IntRange(min=0), default=5, show_default=True, help="worst rows to list")
@one_line_errors
def validate(arch, data, plot, worst) -> None:
    """Compare predictions with measurements: MAPE per kind and overall, worst rows, a parity plot."""
    from hwsim import api
    from hwsim.validation.validate import parity_plot

    if plot is not None and Path(plot).suffix.lower() != ".png":
        raise SpecError(plot, "", "--plot: the parity plot is a PNG", allowed="a path ending in .png")
    report = api.validate(data, arch)
    click.echo(report.text(worst))
    path = plot or f"{Path(data).stem}_parity_{report.arch}.png"
    _writing(path, lambda: parity_plot(report, path))
    click.echo(f"wrote {path}", err=True)


@main.command()
@click.option("--arch", default="npu_128", show_default=True, help="base architecture: shipped name or YAML path")
@click.option("--workload", default="llama2_7b", show_default=True, help="model: shipped name, YAML or config.json")
@click.option("--space", required=True, help="space YAML: swept parameters, sampling, constraints, blocks")
@click.option("--out", required=True, help="results directory (Parquet chunks, meta.json, space.yaml)")
@click.option("--phase", type=click.Choice(["prefill", "decode"]), multiple=True,
              help="block(s) to evaluate each point on, repeatable [decode]; or 'blocks:' in the space")
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--seq", type=click.IntRange(min=1), default=None, help="prefill tokens per sequence [512]")
@click.option("--kv-len", type=click.IntRange(min=1), default=None, help="decode: cached keys per sequence [2048]")
@click.option("--fused-attention", is_flag=True, help="blocks of --phase: one fused (FlashAttention-style) "
              "attention op, as GPUs run it")
@click.option("--engine", type=click.Choice(["analytical", "cycle", "roofline"]), default="analytical",
              show_default=True)
@click.option("--mapping", default=None, help="mapping policy name or YAML (default: fastest unit per op)")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="worker processes [all cores]")
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local", show_default=True)
@click.option("--scheduler", default=None, help="Dask scheduler address, e.g. tcp://10.0.0.1:8786 "
              "(default with --executor dask: a local cluster)")
@click.option("--resume", is_flag=True, help="continue the sweep in --out: compute only the missing points")
@click.option("--chunk-points", type=click.IntRange(min=1), default=None,
              help="points per task and per Parquet chunk [auto: about 8 per worker, 16..500]")
@click.option("--quiet", is_flag=True, help="no progress output")
@one_line_errors
def sweep(arch, workload, space, out, phase, batch, seq, kv_len, fused_attention, engine, mapping, jobs, executor,
          scheduler, resume, chunk_points, quiet) -> None:
    """Evaluate every design point of a space on one or more blocks; results go to Parquet in --out.

    Interrupt with Ctrl-C at any time and continue later with --resume.
    """
    from hwsim import api
    from hwsim.sweep.executors import WorkerDied
    from hwsim.sweep.runner import SweepInterrupted

    blocks = None
    if phase or seq is not None or kv_len is not None or batch != 1 or fused_attention:
        blocks = [{"phase": p, "batch": batch, "seq": seq, "kv_len": kv_len, "fused_attention": fused_attention}
                  for p in (phase or ("decode",))]
    try:
        summary = api.sweep(arch, workload, space, out, blocks=blocks, engine=engine, mapping=mapping, jobs=jobs,
                            executor=executor, scheduler=scheduler, resume=resume, progress=not quiet,
                            batch_points=chunk_points)
    except SweepInterrupted as e:
        click.echo(f"interrupted: {e}", err=True)
        sys.exit(130)
    except WorkerDied as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(1)
    click.echo(summary.line())


@main.command()
@click.argument("results_dir")
@click.option("--objectives", default="latency,energy,area", show_default=True,
              help="columns to minimise, comma-separated (latency, energy, area, or any output column; "
                   "append :max to maximise, e.g. utilization:max)")
@click.option("--block", default=None, help="only this block (default: a front per block)")
@click.option("--out", default=None, help="where to save the front [RESULTS_DIR/pareto.csv]")
@one_line_errors
def pareto(results_dir, objectives, block, out) -> None:
    """Print and save the non-dominated design points of a sweep."""
    from hwsim.errors import HwsimError
    from hwsim.sweep.pareto import pareto_front
    from hwsim.sweep.store import read_results

    df = read_results(results_dir)
    if block is not None:
        if block not in set(df["block"]):
            raise HwsimError(f"no block {block!r} in {results_dir} (blocks: {', '.join(sorted(set(df['block'])))})")
        df = df[df["block"] == block]
    front = pareto_front(df, objectives)
    path = Path(out) if out else Path(results_dir) / "pareto.csv"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        front.to_csv(path, index=False)
    except OSError as e:
        raise HwsimError(f"cannot write the front to {path}: {e.strerror or e}") from None
    objs = [c for c in front.columns if c in set(_objective_columns(objectives))]
    params = [c for c in front.columns if c not in objs and c not in ("error",)
              and not c.startswith(("energy_j.", "area_mm2.")) and c not in _OUTPUTS]
    click.echo(f"{len(front)} non-dominated of {int(df['error'].isna().sum())} rows ({', '.join(objs)})")
    if front.empty:
        errors = df["error"].dropna()
        click.echo(f"(no row without an error; first error: {errors.iloc[0]})" if len(errors) else "(no rows)")
    else:
        click.echo(front[params[:2] + objs + params[2:]].to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    click.echo(f"wrote {path}", err=True)


_OUTPUTS = ("latency_s", "energy_j", "area_mm2", "flops", "dram_bytes", "utilization", "bound")


def _objective_columns(objectives: str) -> list[str]:
    from hwsim.sweep.pareto import parse_objectives

    return [c for c, _ in parse_objectives(objectives)]
def _mkn(text: str) -> tuple[int, int, int]:
    from hwsim.errors import SpecError

    parts = text.lower().split("x")
    if len(parts) != 3 or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
        raise SpecError("--mkn", "", f"expected MxKxN with three positive integers, got {text!r}", "e.g. 512x4096x4096")
    return int(parts[0]), int(parts[1]), int(parts[2])


@main.command()
@click.option("--rows", type=int, required=True, help="array rows (PEs)")
@click.option("--cols", type=int, required=True, help="array columns (PEs)")
@click.option("--dataflow", type=click.Choice(["os", "ws", "is"]), required=True)
@click.option("--mkn", required=True, metavar="MxKxN", help="x[M,K] @ W[K,N], e.g. 512x4096x4096")
@click.option("--ifmap-kib", type=float, default=64, show_default=True, help="ifmap SRAM, KiB")
@click.option("--filter-kib", type=float, default=64, show_default=True, help="filter SRAM, KiB")
@click.option("--ofmap-kib", type=float, default=64, show_default=True, help="ofmap SRAM, KiB")
@click.option("--dram-bw-bytes-per-cycle", type=float, default=None, help="DRAM bandwidth (default: unlimited, CALC)")
@click.option("--word-bytes", type=float, default=1, show_default=True, help="bytes per operand element")
@click.option("--mode", type=click.Choice(["physical", "scalesim_compat"]), default="physical", show_default=True)
@click.option("--arrays", type=int, default=1, show_default=True, help="arrays sharing the folds round-robin")
@click.option("--groups", type=int, default=1, show_default=True, help="GEMMs of this shape back to back")
@click.option("--fold-pipelining", is_flag=True, help="load the next fold's stationary operand while streaming")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
@one_line_errors
def gemm(rows, cols, dataflow, mkn, ifmap_kib, filter_kib, ofmap_kib, dram_bw_bytes_per_cycle, word_bytes, mode,
         arrays, groups, fold_pipelining, as_json) -> None:
    """Simulate one GEMM on a systolic array (cycles, stalls, SRAM/DRAM traffic per operand)."""
    from hwsim import api

    r = api.simulate_gemm(*_mkn(mkn), rows=rows, cols=cols, dataflow=dataflow, ifmap_sram_bytes=ifmap_kib * 1024,
                          filter_sram_bytes=filter_kib * 1024, ofmap_sram_bytes=ofmap_kib * 1024,
                          word_bytes=word_bytes, dram_bw_bytes_per_cycle=dram_bw_bytes_per_cycle, mode=mode,
                          arrays=arrays, groups=groups, fold_pipelining=fold_pipelining)
    if as_json:
        click.echo(json.dumps(r.to_dict()))
        return
    click.echo(f"{r.m}x{r.k}x{r.n} on {r.arrays} x {r.rows}x{r.cols} {r.dataflow} ({r.mode}): {r.folds} folds")
    click.echo(f"cycles: compute {r.compute_cycles:,}  stall {r.stall_cycles:,}  total {r.total_cycles:,}  "
               f"(incl. prefetch {r.total_cycles_incl_prefetch:,})  utilization {r.utilization:.1%}")
    for name in ("sram_reads", "sram_writes", "dram_reads", "dram_writes"):
        click.echo(f"{name:<12} " + "  ".join(f"{k} {v:,}" for k, v in getattr(r, name).items()) + "  (words)")
    click.echo(f"peak DRAM bandwidth for zero stalls: {r.peak_dram_bw_bytes_per_cycle:.4g} B/cycle")


@main.command()
@click.option("--config", "config", required=True, help="SCALE-Sim .cfg")
@click.option("--topology", required=True, help="SCALE-Sim topology CSV (conv form, or GEMM form with --gemm)")
@click.option("--gemm", "is_gemm", is_flag=True, help="topology rows are 'Layer, M, N, K,'")
@click.option("--out", "out_dir", default=None, help="report folder (default ./<run_name>)")
@click.option("--mode", type=click.Choice(["physical", "scalesim_compat"]), default="physical", show_default=True,
              help="scalesim_compat reproduces SCALE-Sim v3's reports byte for byte (CALC only)")
@click.option("--word-bytes", type=float, default=1, show_default=True, help="bytes per element (physical)")
@one_line_errors
def scalesim(config, topology, is_gemm, out_dir, mode, word_bytes) -> None:
    """Run a SCALE-Sim v3 config + topology; write COMPUTE/BANDWIDTH(/DETAILED_ACCESS) reports."""
    from hwsim import api

    layers, results, written = api.scalesim(config, topology, gemm=is_gemm, mode=mode, out_dir=out_dir,
                                            word_bytes=word_bytes)
    width = max(len(x.name) for x in layers)
    click.echo(f"{'layer':<{width}}  {'M x K x N':>20}  {'total cycles':>12}  {'stall':>8}  {'util %':>7}  "
               f"{'DRAM words':>12}")
    for layer, r in zip(layers, results):
        words = sum(r.dram_reads.values()) + sum(r.dram_writes.values())
        click.echo(f"{layer.name:<{width}}  {f'{r.m} x {r.k} x {r.n}':>20}  {r.total_cycles:>12,}  {r.stall_cycles:>8,}  "
                   f"{r.utilization * 100:>7.2f}  {words:>12,}")
    for p in written:
        click.echo(f"wrote {p}", err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
