"""Results: CostResult (one op on one unit), RunResult (one block), and tidy pandas views of them.

Analytical and cycle engines return the same CostResult so one can be checked against the other.
Traffic is in bytes by memory level and operand; energy in joules by component; time in seconds and cycles.
"""

from __future__ import annotations

import collections.abc as _abc
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any, Mapping

from hwsim.workload.ops import FrozenDict


class Bound(str, Enum):
    COMPUTE = "compute"
    MEMORY = "memory"
    OVERHEAD = "overhead"


class Fidelity(str, Enum):
    ROOFLINE = "roofline"
    ANALYTICAL = "analytical"
    CYCLE = "cycle"


def _fd(x: Mapping | None) -> FrozenDict:
    if isinstance(x, FrozenDict):
        return x
    # collections.abc.Mapping, not typing.Mapping: the typing alias's isinstance is ~10x slower (sweeps)
    return FrozenDict({k: (_fd(v) if isinstance(v, _abc.Mapping) else v) for k, v in (x or {}).items()})


def _total(parts: Mapping[str, float]) -> float:
    """Sum of a breakdown in key order: the components' insertion order follows set iteration upstream, which
    varies between processes (string hashing is randomised), and float addition is not associative."""
    return float(sum(v for _, v in sorted(parts.items())))


@dataclass(frozen=True)
class CostResult:
    """Cost of one op on one unit.

    Attributes
    ----------
    op, kind, unit, engine : str
        Op name and kind, the unit it ran on, the engine kind that costed it.
    fidelity : Fidelity
    flops : float
        Useful flops of the op.
    cycles : float
        Unit cycles from start to end of the op (at the arch clock).
    latency_s : float
    compute_cycles : float
        Cycles the compute pipeline needs alone (fill/drain and fold quantisation included).
    memory_cycles : mapping level -> cycles
        Cycles each memory level needs to move the op's traffic at its bandwidth.
    stall_cycles : float
        Cycles the unit waits on memory (cycle engines), or ``cycles - compute_cycles`` when memory-bound.
    reads, writes : mapping level -> mapping operand -> bytes
    actions : mapping str -> count
        Energy-relevant action counts (``mac.<dtype>``, ``alu.<dtype>``, ``<level>.read_bytes``...), turned
        into joules by :mod:`hwsim.ppa.energy`.
    energy_j : mapping component -> J
        Filled by the PPA stage (dynamic + this op's leakage share).
    utilization : float
        Useful MACs (or ops) / (peak per cycle x cycles).
    bound : Bound
    notes : tuple of str
        Where each number came from: model, fidelity, fallbacks.
    """

    op: str
    kind: str
    unit: str
    engine: str
    fidelity: Fidelity
    flops: float
    cycles: float
    latency_s: float
    compute_cycles: float
    memory_cycles: Mapping[str, float] = field(default_factory=FrozenDict)
    stall_cycles: float = 0.0
    reads: Mapping[str, Mapping[str, float]] = field(default_factory=FrozenDict)
    writes: Mapping[str, Mapping[str, float]] = field(default_factory=FrozenDict)
    actions: Mapping[str, float] = field(default_factory=FrozenDict)
    energy_j: Mapping[str, float] = field(default_factory=FrozenDict)
    utilization: float = 0.0
    bound: Bound = Bound.COMPUTE
    notes: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=FrozenDict)

    def __post_init__(self) -> None:
        for name in ("memory_cycles", "reads", "writes", "actions", "energy_j", "extra"):
            object.__setattr__(self, name, _fd(getattr(self, name)))

    @property
    def energy_total_j(self) -> float:
        return _total(self.energy_j)

    def bytes_at(self, level: str) -> float:
        """Bytes read + written at ``level``."""
        return float(sum(self.reads.get(level, {}).values()) + sum(self.writes.get(level, {}).values()))

    def with_energy(self, energy_j: Mapping[str, float], note: str | None = None) -> "CostResult":
        return replace(self, energy_j=_fd(energy_j), notes=self.notes + ((note,) if note else ()))


@dataclass(frozen=True)
class ScheduledOp:
    """When an op ran: start/end in seconds from the block's start."""

    op: str
    unit: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class RunResult:
    """One block evaluated on one architecture.

    ``costs`` are in topological order; ``schedule`` says when each op ran; ``latency_s`` is the
    makespan; ``energy_j`` by component sums the ops' energies (leakage included);
    ``area_mm2`` by component; ``arch_summary`` holds the peaks and bandwidths of the arch as run
    (:func:`hwsim.arch.summary.arch_summary`), so a report can draw its roofline from the JSON alone.
    """

    arch: str
    workload: str
    params: Mapping[str, Any]
    engine: str
    costs: tuple[CostResult, ...]
    schedule: tuple[ScheduledOp, ...]
    latency_s: float
    energy_j: Mapping[str, float]
    area_mm2: Mapping[str, float]
    layers: int = 1
    inputs_hash: str = ""
    notes: tuple[str, ...] = ()
    arch_summary: Mapping[str, Any] = field(default_factory=FrozenDict)

    def __post_init__(self) -> None:
        for name in ("params", "energy_j", "area_mm2", "arch_summary"):
            object.__setattr__(self, name, _fd(getattr(self, name)))

    @property
    def flops(self) -> float:
        return float(sum(c.flops for c in self.costs))

    @property
    def energy_total_j(self) -> float:
        return _total(self.energy_j)

    @property
    def area_total_mm2(self) -> float:
        return float(sum(self.area_mm2.values()))

    def cost(self, op: str) -> CostResult:
        for c in self.costs:
            if c.op == op:
                return c
        raise KeyError(op)

    def to_frame(self):
        """One row per op: name, kind, unit, flops, bytes, cycles, seconds, energy_j, bound, utilization..."""
        import pandas as pd

        rows = []
        for c in self.costs:
            row = {"op": c.op, "kind": c.kind, "unit": c.unit, "engine": c.engine, "fidelity": c.fidelity.value,
                   "flops": c.flops, "bytes": sum(c.bytes_at(lv) for lv in sorted(set(c.reads) | set(c.writes))),
                   "dram_bytes": c.extra.get("dram_bytes", 0.0), "cycles": c.cycles, "seconds": c.latency_s,
                   "energy_j": c.energy_total_j, "bound": c.bound.value, "utilization": c.utilization}
            row.update({f"energy_j.{k}": v for k, v in c.energy_j.items()})
            rows.append(row)
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: ``ops`` rows, ``block`` totals, ``area_mm2`` total and by component."""
        ops = []
        for c in self.costs:
            ops.append({
                "name": c.op, "kind": c.kind, "unit": c.unit, "engine": c.engine, "fidelity": c.fidelity.value,
                "flops": c.flops, "bytes": {lv: c.bytes_at(lv) for lv in sorted(set(c.reads) | set(c.writes))},
                "cycles": c.cycles, "compute_cycles": c.compute_cycles, "stall_cycles": c.stall_cycles,
                "memory_cycles": dict(c.memory_cycles), "seconds": c.latency_s, "energy_j": c.energy_total_j,
                "energy_j_by_component": dict(c.energy_j), "bound": c.bound.value, "utilization": c.utilization,
                "reads": {k: dict(v) for k, v in c.reads.items()}, "writes": {k: dict(v) for k, v in c.writes.items()},
                "notes": list(c.notes),
            })
        sched = [{"op": s.op, "unit": s.unit, "start_s": s.start_s, "end_s": s.end_s} for s in self.schedule]
        return {
            "arch": self.arch, "workload": self.workload, "params": dict(self.params), "engine": self.engine,
            "inputs_hash": self.inputs_hash, "ops": ops, "schedule": sched,
            "block": {"seconds": self.latency_s, "energy_j": self.energy_total_j,
                      "energy_j_by_component": dict(self.energy_j), "flops": self.flops,
                      "dram_bytes": float(sum(c.extra.get("dram_bytes", 0.0) for c in self.costs))},
            "model": {"layers": self.layers, "seconds": self.latency_s * self.layers,
                      "energy_j": self.energy_total_j * self.layers},
            "area_mm2": {"total": self.area_total_mm2, "by_component": dict(self.area_mm2)},
            "notes": list(self.notes),
            "arch_summary": _plain(self.arch_summary),
        }


def _plain(x: Any) -> Any:
    """Nested FrozenDicts as plain dicts (for JSON and YAML writers)."""
    return {k: _plain(v) for k, v in x.items()} if isinstance(x, Mapping) else x
