"""Schedules: when each op runs, given its cost and the unit it occupies.

``list_schedule`` (default) walks the ops in topological order; an op starts when all its predecessors have
finished and its unit is free, so ops on different units overlap where the graph allows. It is
deterministic (ties broken by op order) and O(ops + edges).
"""

from __future__ import annotations

from hwsim.result import CostResult, ScheduledOp
from hwsim.workload.graph import Workload


def list_schedule(workload: Workload, costs: dict[str, CostResult]) -> tuple[tuple[ScheduledOp, ...], float]:
    """(timeline, makespan in seconds).

    >>> # see tests/test_schedule.py for a hand-built three-op timeline
    """
    end: dict[str, float] = {}
    unit_free: dict[str, float] = {}
    timeline = []
    for op in workload.ops():
        c = costs[op.name]
        ready = max((end[p] for p in workload.predecessors(op.name)), default=0.0)
        start = max(ready, unit_free.get(c.unit, 0.0))
        end[op.name] = start + c.latency_s
        unit_free[c.unit] = end[op.name]
        timeline.append(ScheduledOp(op.name, c.unit, start, end[op.name]))
    return tuple(timeline), max(end.values(), default=0.0)
