"""Schedules: when each op runs, given its cost and the unit it occupies.

Two schedulers, selected by ``evaluate(..., schedule="list" | "event")``:

``list_schedule`` (default) walks the ops in topological order; an op starts when all its predecessors have
finished and its unit is free, so ops on different units overlap where the graph allows. It is
deterministic (ties broken by op order) and O(ops + edges). Overlapping ops do not slow each other down.

``event_schedule`` is a simpy discrete-event simulation: every unit is a ``simpy.PriorityResource``, every op
a process that waits for its predecessors, takes its unit, runs, and releases it. Ops that overlap share the
memories they use (:class:`SharedMemories`): each op ``i`` needs the fraction ``f_iL = memory_cycles_L /
cycles`` of level ``L``'s bandwidth when it runs alone at full speed; when overlapping ops ask for more than a
level has, their progress rates are the max-min fair allocation (progressive filling: every op's rate rises
together until it reaches 1 or one of its levels saturates). An op whose cost says it holds a level
exclusively (``extra["exclusive_levels"]``: a PIM in blocked mode) stops every other op that touches that
level while it runs. Without such contention every rate stays exactly 1 and the event schedule equals the list
schedule bit for bit (a test checks this).

``order="program"`` (default) issues each unit's ops in topological order, as the list scheduler does (an
in-order command queue per unit); ``order="ready"`` lets a unit take whichever op is ready first (ties by
topological position), which is what lets two interleaved sub-batches fill each other's gaps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import simpy

from hwsim.result import CostResult, ScheduledOp
from hwsim.workload.graph import Workload

ORDERS = ("program", "ready")


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


def demands(cost: CostResult) -> dict[str, float]:
    """Fraction of each memory level's bandwidth the op uses when it runs alone (0..1).

    >>> from hwsim.result import Fidelity
    >>> c = CostResult("x", "gemm", "u", "e", Fidelity.ANALYTICAL, 0.0, 100.0, 1e-7, 40.0,
    ...                memory_cycles={"hbm": 100.0, "sram": 25.0})
    >>> demands(c)
    {'hbm': 1.0, 'sram': 0.25}
    """
    if cost.cycles <= 0:
        return {}
    return {lv: min(1.0, cyc / cost.cycles) for lv, cyc in cost.memory_cycles.items() if cyc > 0}


def fair_rates(need: dict[str, dict[str, float]], exclusive: dict[str, frozenset[str]]) -> dict[str, float]:
    """Max-min fair progress rates (0..1) of concurrently running ops sharing memory levels.

    ``need[op][level]`` is the op's bandwidth fraction at full speed; ``exclusive[op]`` the levels it holds
    alone. Ops touching a level someone else holds exclusively get 0; the rest are filled progressively.

    >>> fair_rates({"a": {"hbm": 0.75}, "b": {"hbm": 0.75}, "c": {"sram": 0.5}}, {})
    {'a': 0.6666666666666666, 'b': 0.6666666666666666, 'c': 1.0}
    >>> fair_rates({"pim": {"hbm": 0.1}, "npu": {"hbm": 0.9}}, {"pim": frozenset({"hbm"})})
    {'pim': 1.0, 'npu': 0.0}
    """
    rate = {op: 0.0 for op in need}
    held: dict[str, set[str]] = {}
    for op, levels in exclusive.items():
        for lv in levels if op in need else ():
            held.setdefault(lv, set()).add(op)
    active = {op for op in need if not any(lv in held and op not in held[lv] for lv in need[op])}
    used: dict[str, float] = {}
    while active:
        inc = min(1.0 - rate[op] for op in active)
        for lv in {lv for op in active for lv in need[op]}:
            load = sum(need[op].get(lv, 0.0) for op in active)
            if load > 0:
                inc = min(inc, (1.0 - used.get(lv, 0.0)) / load)
        for op in active:
            rate[op] += inc
            for lv, f in need[op].items():
                used[lv] = used.get(lv, 0.0) + f * inc
        full = {lv for lv, u in used.items() if u >= 1.0 - 1e-12}
        active = {op for op in active if rate[op] < 1.0 and not (set(need[op]) & full)}
    return rate


@dataclass
class _Running:
    proc: simpy.Process
    t0: float
    rem0: float
    rate: float = 1.0

    def end(self) -> float:
        return self.t0 + self.rem0 / self.rate if self.rate > 0 else float("inf")


@dataclass
class SharedMemories:
    """The memory levels ops share: tracks running ops and re-divides bandwidth whenever one starts or ends.

    An op whose rate changes is interrupted and sleeps again for its remaining work at the new rate.
    """

    env: simpy.Environment
    costs: dict[str, CostResult]
    running: dict[str, _Running] = field(default_factory=dict)

    def start(self, op: str, proc: simpy.Process) -> None:
        self.running[op] = _Running(proc, self.env.now, self.costs[op].latency_s)
        self._rebalance(op)

    def finish(self, op: str) -> None:
        del self.running[op]
        self._rebalance(None)

    def remaining_s(self, op: str) -> float:
        """Seconds ``op`` still needs at its current rate (inf while stalled); asked only at a (re)start,
        when its clock ``t0`` is now, so an op that never changes rate sleeps exactly its latency."""
        run = self.running[op]
        return run.rem0 / run.rate if run.rate > 0 else float("inf")

    def _rebalance(self, caller: str | None) -> None:
        now = self.env.now
        need = {op: demands(self.costs[op]) for op in self.running}
        excl = {op: frozenset(self.costs[op].extra.get("exclusive_levels", ())) for op in self.running}
        for op, r in fair_rates(need, excl).items():
            run = self.running[op]
            if r == run.rate or (op != caller and run.end() <= now):
                continue
            run.rem0 -= run.rate * (now - run.t0)
            run.t0, run.rate = now, r
            if op != caller:
                run.proc.interrupt("rate")


def event_schedule(workload: Workload, costs: dict[str, CostResult], order: str = "program"
                   ) -> tuple[tuple[ScheduledOp, ...], float]:
    """(timeline, makespan in seconds) from a simpy simulation with shared-memory contention.

    The timeline lists the ops in topological order, like :func:`list_schedule`.

    >>> # see tests/test_event_schedule.py for hand-built timelines with and without contention
    """
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}; allowed: {', '.join(ORDERS)}")
    env = simpy.Environment()
    ops = [op.name for op in workload.ops()]
    index = {name: i for i, name in enumerate(ops)}
    units = {c.unit: simpy.PriorityResource(env, capacity=1) for c in costs.values()}
    done = {name: env.event() for name in ops}
    mem = SharedMemories(env, costs)
    times: dict[str, tuple[float, float]] = {}
    last_on_unit: dict[str, str] = {}
    for name in ops:
        after = [done[p] for p in workload.predecessors(name)]
        unit = costs[name].unit
        if order == "program" and unit in last_on_unit:
            after.append(done[last_on_unit[unit]])
        last_on_unit[unit] = name
        env.process(_run_op(env, name, after, units[unit], index[name], mem, done[name], times))
    env.run()
    timeline = tuple(ScheduledOp(n, costs[n].unit, *times[n]) for n in ops)
    return timeline, max((e for _, e in times.values()), default=0.0)


def _run_op(env, name, after, unit, priority, mem, done, times):
    """One op: wait for its inputs (and, in program order, its unit's previous op), run, release."""
    if after:
        yield simpy.AllOf(env, after)
    with unit.request(priority=priority) as req:
        yield req
        start = env.now
        mem.start(name, env.active_process)
        while True:
            left = mem.remaining_s(name)
            try:
                yield env.timeout(left) if left != float("inf") else env.event()
                break
            except simpy.Interrupt:
                continue
        mem.finish(name)
        times[name] = (start, env.now)
    done.succeed()
