"""The public API: evaluate a workload on an architecture with a mapping and an engine fidelity.

Each stage is a plain function of the previous stage's value (DESIGN.md): map -> cost -> schedule -> PPA.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable, Iterable

from hwsim.arch.loader import load_arch
from hwsim.arch.spec import ArchSpec
from hwsim.arch.summary import arch_summary
from hwsim.engines.base import cost_op
from hwsim.errors import HwsimError, SpecError  # noqa: F401  (HwsimError: scripts catch it)
from hwsim.mapping.flash import lower_attention
from hwsim.mapping.mapper import load_policy, map_workload
from hwsim.mapping.types import Mapping, MappingPolicy
from hwsim.ppa.area import area_breakdown
from hwsim.ppa.energy import attach_energy
from hwsim.ppa.tech import apply_clock_scaling
from hwsim.result import CostResult, Fidelity, RunResult
from hwsim.scenarios import DecodeStep, Prefill, chunked_prefill, decode_step, shard  # noqa: F401  (public API)
from hwsim.schedule import ORDERS, event_schedule, list_schedule
from hwsim.specio import validate as validate_spec
from hwsim.workload.blocks import build_block
from hwsim.workload.graph import Workload
from hwsim.workload.interleave import interleaved_decode
from hwsim.workload.models import ModelSpec, load_model

# What the scripts/ drivers use beyond the functions below (DESIGN.md: scripts import hwsim.api only). Loaded on
# first use, since some of these modules import this one.
_SCRIPT_EXPORTS = {
    "estimate_frame": ("hwsim.validation.estimate", "estimate_frame"),  # predictions of a measured-case frame
    "compare_predictions": ("hwsim.validation.validate", "compare"),      # MAPE report of such predictions
    "gpu_fit": ("hwsim.validation.fit", None),                            # the GPU model's fitting toolkit
    "power_law": ("hwsim.ppa.tech", "power_law"),                          # derived technology rows
    "ppa_checks": ("hwsim.ppa.validation", "all_checks"),                  # published-chip checks
    "text_table": ("hwsim.report.text", "text_table"),
    "load_space": ("hwsim.sweep.space", "load_space"),
    "value_text": ("hwsim.sweep.space", "value_text"),
    "read_results": ("hwsim.sweep.store", "read_results"),
    "format_si": ("hwsim.units", "format_si"),
}


def __getattr__(name: str):
    if name not in _SCRIPT_EXPORTS:
        raise AttributeError(f"module 'hwsim.api' has no attribute {name!r}")
    import importlib

    module, attr = _SCRIPT_EXPORTS[name]
    m = importlib.import_module(module)
    return m if attr is None else getattr(m, attr)


BLOCK_PARAMS = ("phase", "batch", "seq", "kv_len", "past_len", "fused_attention", "kv_append")
SCHEDULES = ("list", "event")


def int_list(text: str) -> list[int]:
    """An ``argparse`` type for the scripts' comma-separated sizes: ``"64,128"`` -> ``[64, 128]``, each >= 1.

    >>> int_list("64,128")
    [64, 128]
    """
    import argparse

    try:
        values = [int(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of integers") from None
    if min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: every value must be an integer >= 1")
    return values


def evaluate(workload: Workload, arch: ArchSpec, *, mapping: Mapping | MappingPolicy | str | None = None,
             engine: str | Fidelity = Fidelity.ANALYTICAL, schedule: str = "list",
             order: str = "program", coster: Callable[..., CostResult] = cost_op) -> RunResult:
    """Cost one block: latency, energy by component and area, per op and in total.

    Parameters
    ----------
    workload : Workload
        From :func:`hwsim.workload.build_block`.
    arch : ArchSpec
        From :func:`load_arch`.
    mapping : Mapping, MappingPolicy, policy name or None
        None: every op on the fastest unit that accepts it.
    engine : "analytical" | "cycle" | "roofline"
        Fidelity requested; units without it fall back (noted per op).
    schedule : "list" | "event"
        Critical-path list scheduling (default), or the simpy event simulation in which overlapping ops share
        memory bandwidth and a blocked-mode PIM holds its memory alone (:mod:`hwsim.schedule`).
    order : "program" | "ready"
        Event schedule only: each unit runs its ops in topological order (agrees with "list" when nothing
        contends), or takes whichever is ready first (what sub-batch interleaving needs).
    coster : callable, optional
        Stands in for :func:`hwsim.engines.base.cost_op` (same signature and results), e.g. the memo a sweep
        shares across points (:class:`hwsim.sweep.cache.CostCache`).

    Examples
    --------
    >>> r = evaluate(build_block(load_model("llama2_7b"), "decode", 1, kv_len=2048), load_arch("npu_128"))
    >>> r.cost("gate_up").bound.value
    'memory'
    """
    try:
        fid = Fidelity(engine)
    except ValueError:
        raise SpecError("<arguments>", "engine", f"unknown engine {engine!r}",
                        allowed=", ".join(f.value for f in Fidelity)) from None
    if schedule not in SCHEDULES:
        raise SpecError("<arguments>", "schedule", f"unknown schedule {schedule!r}", allowed=", ".join(SCHEDULES))
    if order not in ORDERS:
        raise SpecError("<arguments>", "order", f"unknown order {order!r}", allowed=", ".join(ORDERS))
    arch = apply_clock_scaling(arch)  # tech.clock_scaling: device -> the device's frequency gain
    workload = lower_attention(workload, arch, coster=coster)  # fused attention on an NPU (mapping/flash.py)
    if not isinstance(mapping, Mapping):
        policy = mapping if isinstance(mapping, MappingPolicy) else load_policy(mapping)
        mapping = map_workload(workload, arch, policy, coster=coster)
    costs = [coster(op, mapping[op.name].unit, arch, mapping[op.name], fid) for op in workload.ops()]
    by_op = {c.op: c for c in costs}
    if schedule == "event":
        timeline, makespan = event_schedule(workload, by_op, order)
    else:
        timeline, makespan = list_schedule(workload, by_op)
    costs, energy = attach_energy(costs, arch, makespan)
    return RunResult(arch=arch.name, workload=workload.name, params=dict(workload.params), engine=fid.value,
                     costs=tuple(costs), schedule=timeline, latency_s=makespan, energy_j=energy,
                     area_mm2=arch.memo("area_breakdown", lambda: area_breakdown(arch)), layers=workload.layers,
                     inputs_hash=inputs_hash(arch, workload, mapping), arch_summary=arch_summary(arch),
                     notes=(f"schedule: {schedule}" + (f" ({order} order)" if schedule == "event" else ""),))


def inputs_hash(arch: ArchSpec, workload: Workload, mapping: Mapping) -> str:
    """Short hash of the three inputs, so a result can be matched to what produced it."""
    # the JSON text of ``[arch, params, name, mapping]``, with the arch's part serialised once per spec
    arch_json = arch.memo("inputs_json", lambda: json.dumps(arch.model_dump(mode="json"), sort_keys=True, default=str))
    rest = [json.dumps(x, sort_keys=True, default=str) for x in (
        dict(workload.params), workload.name,
        {k: (v.unit, v.dataflow and v.dataflow.value, dict(v.tiles), dict(v.options)) for k, v in mapping.ops.items()})]
    blob = "[" + ", ".join([arch_json] + rest) + "]"
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def split_overrides(overrides: Iterable[str]) -> tuple[list[str], list[str], dict[str, str]]:
    """Split ``--set`` items into arch overrides, model overrides (``workload.<field>=``) and block params
    (``workload.batch=``, ``workload.phase=`` ...)."""
    arch_o, model_o, block = [], [], {}
    for item in overrides:
        path, _, value = item.partition("=")
        if path.startswith("workload."):
            field = path[len("workload."):]
            if field in BLOCK_PARAMS:
                block[field] = value
            else:
                model_o.append(f"{field}={value}")
        else:
            arch_o.append(item)
    return arch_o, model_o, block


def run(arch: str = "npu_128", workload: str = "llama2_7b", phase: str = "decode", batch: int = 1,
        seq: int | None = None, kv_len: int | None = 2048, *, engine: str = "analytical",
        mapping: str | None = None, overrides: Iterable[str] = (), fused_attention: bool = False,
        past_len: int = 0, schedule: str | None = None, order: str | None = None,
        sub_batches: int = 1) -> RunResult:
    """Load specs by name or path, build the block and evaluate it (what ``hwsim run`` does).

    ``sub_batches`` > 1 (decode only) splits the batch into interleaved sub-batches over all layers
    (:func:`hwsim.workload.interleave.interleaved_decode`); ``schedule`` then defaults to "event" and ``order``
    to "ready", otherwise to "list" and "program".
    """
    arch_o, model_o, block = split_overrides(overrides)
    spec = load_arch(arch, arch_o)
    model: ModelSpec = load_model(workload, model_o)
    params = {"phase": phase, "batch": batch, "seq": seq, "kv_len": kv_len, "past_len": past_len,
              "fused_attention": fused_attention}
    for k, v in block.items():
        params[k] = _coerce(k, v)
    if params["phase"] == "prefill":
        params["kv_len"] = None
    interleaved = sub_batches > 1
    if interleaved:
        if params["phase"] != "decode":
            raise SpecError("<arguments>", "sub_batches", "sub-batch interleaving is for decode", allowed="1")
        wl = interleaved_decode(model, params["batch"], params["kv_len"] or 2048, sub_batches,
                                fused_attention=params["fused_attention"])
    else:
        wl = build_block(model, params.pop("phase"), **params)
    return evaluate(wl, spec, mapping=mapping, engine=engine, schedule=schedule or ("event" if interleaved else "list"),
                    order=order or ("ready" if interleaved else "program"))


def _coerce(field: str, value: str):
    if field in ("phase",):
        return value
    if field in ("fused_attention", "kv_append"):
        return value.lower() in ("1", "true", "yes")
    try:
        return int(value)
    except ValueError:
        raise SpecError("--set", f"workload.{field}", f"must be an integer, got {value!r}") from None


def speculative(arch: str = "npu_128", target: str = "llama2_7b", draft: str = "llama_160m", k: int = 4,
                acceptance: float = 0.7, batch: int = 1, kv_len: int = 2048, *, engine: str = "analytical",
                mapping: str | None = None, overrides: Iterable[str] = (), draft_overrides: Iterable[str] = (),
                fused_attention: bool = False):
    """Speculative decoding with ``draft`` proposing ``k`` tokens for ``target`` on ``arch``.

    ``overrides`` edit the arch and (``workload.<field>=``) the target; ``draft_overrides`` the draft model
    (``precision.weights=int8``). Returns a :class:`~hwsim.workload.speculative.SpecDecResult`: expected tokens
    per target step, draft/verification/plain costs per step, speedup and energy per token.

    Examples
    --------
    >>> r = speculative("npu_128", "llama2_7b", "llama_160m", k=4, acceptance=0.7)
    >>> round(r.expected_tokens, 4)
    2.7731
    """
    from hwsim.workload import speculative as sd

    arch_o, model_o, _ = split_overrides(overrides)
    spec = load_arch(arch, arch_o)
    plan = sd.plan(load_model(target, model_o), load_model(draft, list(draft_overrides)), k, acceptance, batch,
                   kv_len, fused_attention)

    def model_step(block: Workload, head: Workload | None) -> tuple[float, float]:
        r = evaluate(block, spec, mapping=mapping, engine=engine)
        s, j = r.latency_s * r.layers, r.energy_total_j * r.layers
        if head is not None:
            h = evaluate(head, spec, mapping=mapping, engine=engine)
            s, j = s + h.latency_s, j + h.energy_total_j
        return s, j

    d = model_step(plan.draft_block, plan.draft_head)
    v = model_step(plan.verify_block, plan.verify_head)
    p = model_step(plan.plain_block, plan.plain_head)
    return sd.SpecDecResult(spec.name, plan.plain_block.params["model"], plan.draft_block.params["model"], k,
                            acceptance, sd.expected_tokens(acceptance, k), d[0], d[1], v[0], v[1], p[0], p[1])


def report(source: str, out: str, *, measured: str | None = None, predicted: str | None = None,
           stdin_text: str | None = None, command: list[str] | None = None) -> list:
    """Write a Markdown + self-contained HTML report with figures (PNG, SVG) and tables (CSV) of a run's JSON,
    a sweep's results directory or a validation CSV (what ``hwsim report`` does); returns the files written."""
    from hwsim.report import make_report

    return make_report(source, out, measured=measured, predicted=predicted, stdin_text=stdin_text,
                       command=command)


def plot(figure: str, source: str, output: str, **options) -> Path:
    """Draw one named report figure of a results file into ``output`` (format by extension), for papers.
    Names and options: :data:`hwsim.report.catalog.CATALOG`."""
    from hwsim.report.catalog import plot as _plot

    return _plot(figure, source, output, **options)


def plot_script(figure: str, doc: str, argv: list[str] | None = None) -> int:
    """The command line of ``scripts/plot_<figure>.py`` (``--help`` lists its options); returns the exit status."""
    from hwsim.report.catalog import script_main

    return script_main(figure, doc, argv)


def area(arch: str | ArchSpec = "npu_128", overrides: Iterable[str] = ()) -> dict[str, float]:
    """Area by component (mm^2) of an architecture (what ``hwsim area`` prints).

    >>> a = area("tpu_v1")
    >>> sum(a.values()) <= 331     # Jouppi et al. 2017: at most half a Haswell die
    True
    """
    spec = arch if isinstance(arch, ArchSpec) else load_arch(arch, list(overrides))
    return area_breakdown(spec)


def tech_table(node: int = 45, device: str = "finfet", sram_cell: str = "hp",
               clock_scaling: str = "fixed") -> list[dict]:
    """The technology tables resolved at a node and device, one dict per row with value, unit, basis and
    source (what ``hwsim tech`` prints)."""
    from hwsim.arch.components import TechSpec
    from hwsim.ppa.catalog import resolved_table

    spec = validate_spec(TechSpec, {"node": node, "device": device, "sram_cell": sram_cell,
                               "clock_scaling": clock_scaling}, "<tech>")
    return resolved_table(spec)


# ---- measured cases: estimate and validate (hwsim/validation; docs/gpu.md) ----------------------------------
def estimate(ops, arch: str | ArchSpec = "h100", *, detail: bool = False):
    """Predict ``seconds`` and ``joules`` for rows ``kind,name,dtype,shape`` (a CSV path or a DataFrame).

    Rows keep their order and columns; see :mod:`hwsim.validation.cases` for what each kind means. Raises
    SpecError (one line: file, row, field, what is allowed) for a row it cannot read.
    """
    from hwsim.validation.estimate import estimate_frame, read_ops

    spec = arch if isinstance(arch, ArchSpec) else load_arch(arch)
    frame = ops if not isinstance(ops, (str, bytes)) and hasattr(ops, "columns") else read_ops(ops)
    return estimate_frame(frame, spec, str(ops) if isinstance(ops, str) else "<ops>", detail=detail)


def validate(data, arch: str | ArchSpec = "h100"):
    """Compare predictions with a measured CSV (``seconds``, optionally ``joules``): a ValidationReport."""
    from hwsim.validation.validate import validate_file

    return validate_file(data, arch if isinstance(arch, ArchSpec) else load_arch(arch))


def sweep(arch: str, workload: str, space, out, *, blocks: list[dict] | None = None, engine: str = "analytical",
          mapping: str | None = None, jobs: int | None = None, executor: str = "local",
          scheduler: str | None = None, resume: bool = False, progress=True, batch_points: int | None = None):
    """Evaluate every design point of ``space`` on every block; rows stream to Parquet in ``out``.

    Parameters
    ----------
    arch, workload : str
        Base architecture and model (shipped name or path), as for :func:`run`.
    space : path, dict or SpaceSpec
        Swept parameters, sampling and constraints (:mod:`hwsim.sweep.space`); may list ``blocks``.
    out : path
        Results directory (layout and columns: :mod:`hwsim.sweep.store`).
    blocks : list of dict, optional
        Blocks to evaluate each point on (``{"phase": "decode", "kv_len": 2048}``...) when the space lists
        none; default one decode block.
    engine, mapping
        As for :func:`evaluate`.
    jobs : int, optional
        Worker processes (default: all cores); with ``executor="dask"`` and no scheduler, local workers.
    executor : "local" | "dask"
    scheduler : str, optional
        Dask scheduler address (``tcp://host:8786``); without it a LocalCluster is started.
    resume : bool
        Continue a killed or interrupted sweep in ``out``: only missing points are computed.
    progress : bool or Progress
        Show progress on stderr.

    Returns
    -------
    hwsim.sweep.runner.SweepSummary
        Counts and timing; the rows are read with :func:`hwsim.sweep.store.read_results`.
    """
    import os
    from pathlib import Path

    import yaml

    from hwsim import __version__
    from hwsim.sweep.plan import build_plan
    from hwsim.sweep.runner import run_sweep

    plan = build_plan(arch, workload, space, blocks=blocks, engine=engine, mapping=mapping)
    if isinstance(space, (str, Path)):
        text = Path(space).read_text()
    else:
        text = yaml.safe_dump(plan.space.model_dump(mode="json", exclude_defaults=True), sort_keys=False)
    return run_sweep(plan, out, space_text=text, version=__version__, executor=executor,
                     jobs=jobs or os.cpu_count() or 1, scheduler=scheduler, resume=resume, progress=progress,
                     batch_points=batch_points)
# ---- systolic-array simulator (docs/systolic.md): the functions scripts and the CLI call -------------------
def simulate_gemm(m: int, k: int, n: int, **kwargs):
    """Cycle-level simulation of one GEMM on a systolic array; see
    :func:`hwsim.engines.systolic_sim.simulate_gemm` for the parameters (rows, cols, dataflow, SRAM bytes,
    DRAM bytes/cycle, mode, groups, arrays, fold_pipelining, operand_bytes, on_chip).

    >>> simulate_gemm(4, 4, 4, rows=4, cols=4, dataflow="ws").compute_cycles
    13
    """
    from hwsim.engines.systolic_sim import simulate_gemm as sim

    return sim(m, k, n, **kwargs)


def systolic_jit_cache_stats() -> dict[str, int]:
    """Numba cache hits/misses of the systolic simulator's kernels in this process (benchmarks use it)."""
    from hwsim.engines.systolic_sim import jit_cache_stats

    return jit_cache_stats()


def simulate_conv(dims, **kwargs):
    """Cycle-level simulation of one convolution; see :func:`hwsim.engines.systolic_sim.simulate_conv`."""
    from hwsim.engines.systolic_sim import simulate_conv as sim

    return sim(dims, **kwargs)


def gemm_equations(m: int, k: int, n: int, **kwargs):
    """The closed-form twin of :func:`simulate_gemm` (what the analytical engine uses)."""
    from hwsim.engines.systolic_equations import systolic_equations

    return systolic_equations(m, k, n, **kwargs)


def scalesim(config, topology, *, gemm: bool = False, mode: str = "physical", out_dir=None,
             word_bytes: float = 1, dram_bw_bytes_per_cycle: float | None = None):
    """Run a SCALE-Sim v3 ``.cfg`` + topology CSV and write its report CSVs.

    Returns ``(layers, results, written)``: the parsed topology rows, one :class:`SystolicSimResult` per
    layer, and the report paths written
    to ``out_dir`` (default ``./<run_name>``): COMPUTE_REPORT.csv and BANDWIDTH_REPORT.csv, plus
    DETAILED_ACCESS_REPORT.csv in ``scalesim_compat`` mode (byte-identical to SCALE-Sim's).
    """
    from pathlib import Path

    from hwsim.engines.scalesim_io import parse_config, parse_topology, run_layers, write_reports

    cfg = parse_config(config)
    layers = parse_topology(topology, gemm=gemm)
    results = run_layers(cfg, layers, mode=mode, word_bytes=word_bytes, dram_bw_bytes_per_cycle=dram_bw_bytes_per_cycle)
    return layers, results, write_reports(results, Path(out_dir) if out_dir else Path(cfg.run_name))
