"""The public API: evaluate a workload on an architecture with a mapping and an engine fidelity.

Each stage is a plain function of the previous stage's value (DESIGN.md): map -> cost -> schedule -> PPA.
"""

from __future__ import annotations

import hashlib
import json
from typing import Iterable

from hwsim.arch.loader import load_arch
from hwsim.arch.spec import ArchSpec
from hwsim.engines.base import cost_op
from hwsim.errors import SpecError
from hwsim.mapping.mapper import load_policy, map_workload
from hwsim.mapping.types import Mapping, MappingPolicy
from hwsim.ppa.area import area_breakdown
from hwsim.ppa.energy import attach_energy
from hwsim.result import Fidelity, RunResult
from hwsim.schedule import list_schedule
from hwsim.workload.blocks import build_block
from hwsim.workload.graph import Workload
from hwsim.workload.models import ModelSpec, load_model

BLOCK_PARAMS = ("phase", "batch", "seq", "kv_len", "past_len", "fused_attention", "kv_append")


def evaluate(workload: Workload, arch: ArchSpec, *, mapping: Mapping | MappingPolicy | str | None = None,
             engine: str | Fidelity = Fidelity.ANALYTICAL) -> RunResult:
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
    if not isinstance(mapping, Mapping):
        policy = mapping if isinstance(mapping, MappingPolicy) else load_policy(mapping)
        mapping = map_workload(workload, arch, policy)
    costs = [cost_op(op, mapping[op.name].unit, arch, mapping[op.name], fid) for op in workload.ops()]
    timeline, makespan = list_schedule(workload, {c.op: c for c in costs})
    costs, energy = attach_energy(costs, arch, makespan)
    return RunResult(arch=arch.name, workload=workload.name, params=dict(workload.params), engine=fid.value,
                     costs=tuple(costs), schedule=timeline, latency_s=makespan, energy_j=energy,
                     area_mm2=area_breakdown(arch), layers=workload.layers,
                     inputs_hash=inputs_hash(arch, workload, mapping))


def inputs_hash(arch: ArchSpec, workload: Workload, mapping: Mapping) -> str:
    """Short hash of the three inputs, so a result can be matched to what produced it."""
    blob = json.dumps([arch.model_dump(mode="json"), dict(workload.params), workload.name,
                       {k: (v.unit, v.dataflow and v.dataflow.value, dict(v.tiles)) for k, v in mapping.ops.items()}],
                      sort_keys=True, default=str)
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
        past_len: int = 0) -> RunResult:
    """Load specs by name or path, build the block and evaluate it (what ``hwsim run`` does)."""
    arch_o, model_o, block = split_overrides(overrides)
    spec = load_arch(arch, arch_o)
    model: ModelSpec = load_model(workload, model_o)
    params = {"phase": phase, "batch": batch, "seq": seq, "kv_len": kv_len, "past_len": past_len,
              "fused_attention": fused_attention}
    for k, v in block.items():
        params[k] = _coerce(k, v)
    if params["phase"] == "prefill":
        params["kv_len"] = None
    wl = build_block(model, params.pop("phase"), **params)
    return evaluate(wl, spec, mapping=mapping, engine=engine)


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
