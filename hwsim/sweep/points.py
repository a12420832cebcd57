"""Evaluating design points (runs in the workers): one result row per point and block.

Each point edits the base specs with its assignment, builds the arch, checks the area constraints, then
evaluates every block with :func:`hwsim.api.evaluate` (the single-point reference path) and turns the
:class:`~hwsim.result.RunResult` into one flat row (the results contract in ``hwsim/sweep/store.py``).
A point the specs reject gets its message in ``error`` (one line) and the sweep goes on.

What does not depend on the swept values is computed once per worker process and kept: the parsed base
specs (in the plan), arch specs per arch assignment, model specs and block graphs per workload assignment,
and the costs of ops on units (:class:`~hwsim.sweep.cache.CostCache`), so a sweep over arch parameters
builds the block's graph once.
"""

from __future__ import annotations

import gc
import json
from collections import OrderedDict
from typing import Any, Callable, Hashable

from hwsim.api import evaluate
from hwsim.arch.loader import arch_from_dict
from hwsim.arch.spec import ArchSpec
from hwsim.errors import HwsimError
from hwsim.ppa.area import area_breakdown
from hwsim.result import RunResult
from hwsim.specio import validate
from hwsim.sweep.cache import CostCache
from hwsim.sweep.constraints import ConstraintError
from hwsim.sweep.plan import BlockDef, SweepPlan, set_swept
from hwsim.workload.blocks import build_block
from hwsim.workload.graph import Workload
from hwsim.workload.models import ModelSpec


class _LRU:
    """A small least-recently-used memo: ``get(key, make)``; exceptions are not cached."""

    def __init__(self, size: int):
        self.size, self.data = size, OrderedDict()

    def get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        if key in self.data:
            self.data.move_to_end(key)
            return self.data[key]
        value = make()
        self.data[key] = value
        if len(self.data) > self.size:
            self.data.popitem(last=False)
        return value


def run_outputs(r: RunResult) -> dict[str, Any]:
    """The output columns of one evaluated block (see the results contract in store.py).

    ``utilization`` is the flop-weighted mean of the ops' utilisations; ``bound`` is the bound of the op that
    takes the most time (the first such op in topological order on a tie).
    """
    out: dict[str, Any] = {"latency_s": r.latency_s, "energy_j": r.energy_total_j}
    out.update({f"energy_j.{k}": v for k, v in r.energy_j.items()})
    out["area_mm2"] = r.area_total_mm2
    out.update({f"area_mm2.{k}": v for k, v in r.area_mm2.items()})
    flops = r.flops
    out["flops"] = flops
    out["dram_bytes"] = float(sum(c.extra.get("dram_bytes", 0.0) for c in r.costs))
    out["utilization"] = float(sum(c.flops * c.utilization for c in r.costs) / flops) if flops else 0.0
    slowest = max(r.costs, key=lambda c: c.latency_s, default=None)
    out["bound"] = slowest.bound.value if slowest is not None else None
    return out


def one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text if isinstance(e, (HwsimError, ConstraintError)) else f"internal error {type(e).__name__}: {text}"


class PointEvaluator:
    """Per-process evaluator of one plan's points, with the caches described in the module docstring."""

    def __init__(self, plan: SweepPlan):
        self.plan = plan
        self.costs = CostCache()
        # memo sizes: a choice, not a measurement. Points sweeping workload fields revisit a few model and
        # block assignments (kept); arch assignments repeat only where the workload is swept too (grid order:
        # the last parameter varies fastest). Entries are small (a spec, a ~15-op graph): bounded memory.
        self._arch = _LRU(256)
        self._model = _LRU(64)
        self._block = _LRU(256)
        self._model_names = {k: validate(ModelSpec, d, f).name for k, (d, f) in plan.models.items()}

    # ---- spec construction (cached) -------------------------------------------------------------------
    def arch(self, edits: tuple[tuple[str, Any], ...]) -> tuple[ArchSpec, dict[str, float]]:
        def make():
            data = json.loads(json.dumps(self.plan.arch_data, default=str))
            for path, value in edits:
                set_swept(data, path, value, self.plan.arch_label)
            spec = arch_from_dict(data, self.plan.arch_label)
            return spec, spec.memo("area_breakdown", lambda: area_breakdown(spec))
        return self._arch.get(_key(edits), make)

    def model(self, name: str, edits: tuple[tuple[str, Any], ...]) -> ModelSpec:
        def make():
            data0, file = self.plan.models[name]
            data = json.loads(json.dumps(data0, default=str))
            for path, value in edits:
                set_swept(data, path, value, file)
            return validate(ModelSpec, data, file)
        return self._model.get((name, _key(edits)), make)

    def workload(self, b: BlockDef, model_edits, block_edits: dict[str, Any]) -> Workload:
        params = {**b.params, **block_edits}
        if params["phase"] == "prefill":
            params["kv_len"] = None
        key = (b.model, _key(model_edits), tuple(sorted(params.items())))

        def make():
            p = dict(params)
            return build_block(self.model(b.model, model_edits), p.pop("phase"), **p)
        return self._block.get(key, make)

    # ---- one point ------------------------------------------------------------------------------------
    def evaluate(self, pid: str, assignment: dict[str, Any]) -> list[dict[str, Any]]:
        """Rows of one design point (one per block)."""
        edits: dict[str, list] = {"arch": [], "model": [], "block": []}
        for path, value in assignment.items():
            kind, inner = self.plan.targets[path]
            edits[kind].append((inner, value))
        arch_e, model_e, block_e = tuple(edits["arch"]), tuple(edits["model"]), dict(edits["block"])
        columns = self.plan.columns(assignment)
        rows = [{"point_id": pid, "block": self._label(b, block_e), **columns, "error": None, "pruned": None}
                for b in self.plan.blocks]
        try:
            arch, area = self.arch(arch_e)
        except Exception as e:  # noqa: BLE001 (recorded in the row; the sweep goes on)
            return [{**r, "error": one_line(e)} for r in rows]
        area_cols = {"area_mm2": float(sum(area.values())), **{f"area_mm2.{k}": v for k, v in area.items()}}
        try:
            pruned = next((c.text for c in self.plan.arch_constraints if not c({**columns, **area_cols})), None)
        except ConstraintError as e:
            return [{**r, "error": one_line(e)} for r in rows]
        if pruned is not None:
            return [{**r, **area_cols, "pruned": pruned} for r in rows]
        for row, b in zip(rows, self.plan.blocks):
            try:
                wl = self.workload(b, model_e, block_e)
                r = evaluate(wl, arch, mapping=self.plan.mapping, engine=self.plan.engine, coster=self.costs)
                row.update(run_outputs(r))
                row["pruned"] = next((c.text for c in self.plan.output_constraints if not c(row)), None)
            except Exception as e:  # noqa: BLE001 (recorded in the row; the sweep goes on)
                row["error"] = one_line(e)
        return rows

    def _label(self, b: BlockDef, block_e: dict[str, Any]) -> str:
        return b.label(self._model_names[b.model], str(block_e.get("phase", b.params["phase"])))

    def evaluate_batch(self, points: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
        """Rows of a batch, with the cyclic garbage collector paused while it runs. Evaluation creates no
        reference cycles (cached refusals keep no traceback, spec memos hold no self-reference), so the
        collector would only re-scan the long-lived caches, about a fifth of a point's time; one young-generation
        pass after the batch frees any cycle that a failing point did make."""
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return [row for pid, a in points for row in self.evaluate(pid, a)]
        finally:
            if was_enabled:
                gc.enable()
                gc.collect(1)


def _key(edits: tuple[tuple[str, Any], ...]) -> tuple[tuple[str, Any], ...]:
    """Edits as a memo key: structured values (mappings, lists) as their canonical JSON."""
    return tuple((p, json.dumps(v, sort_keys=True) if isinstance(v, (dict, list, tuple)) else v) for p, v in edits)


_EVALUATORS: dict[str, PointEvaluator] = {}


def evaluate_batch(plan: SweepPlan, points: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Rows of a batch of points; the evaluator (and its caches) is kept per process and plan."""
    ev = _EVALUATORS.get(plan.key)
    if ev is None:
        _EVALUATORS.clear()
        ev = _EVALUATORS[plan.key] = PointEvaluator(plan)
    return ev.evaluate_batch(points)
