"""The public API: evaluate a workload on an architecture with a mapping and an engine fidelity.

Each stage is a plain function of the previous stage's value (DESIGN.md): map -> cost -> schedule -> PPA.
"""

from __future__ import annotations

import hashlib
import json
from typing import Callable, Iterable

from hwsim.arch.loader import load_arch
from hwsim.arch.spec import ArchSpec
from hwsim.engines.base import cost_op
from hwsim.errors import SpecError
from hwsim.mapping.mapper import load_policy, map_workload
from hwsim.mapping.types import Mapping, MappingPolicy
from hwsim.ppa.area import area_breakdown
from hwsim.ppa.energy import attach_energy
from hwsim.result import CostResult, Fidelity, RunResult
from hwsim.schedule import list_schedule
from hwsim.workload.blocks import build_block
from hwsim.workload.graph import Workload
from hwsim.workload.models import ModelSpec, load_model

BLOCK_PARAMS = ("phase", "batch", "seq", "kv_len", "past_len", "fused_attention", "kv_append")


def evaluate(workload: Workload, arch: ArchSpec, *, mapping: Mapping | MappingPolicy | str | None = None,
             engine: str | Fidelity = Fidelity.ANALYTICAL, coster: Callable[..., CostResult] = cost_op) -> RunResult:
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
    if not isinstance(mapping, Mapping):
        policy = mapping if isinstance(mapping, MappingPolicy) else load_policy(mapping)
        mapping = map_workload(workload, arch, policy, coster=coster)
    costs = [coster(op, mapping[op.name].unit, arch, mapping[op.name], fid) for op in workload.ops()]
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
