"""List scheduling: the whole timeline of a hand-built graph (simpy's test style)."""

from hwsim.result import CostResult, Fidelity
from hwsim.schedule import list_schedule
from hwsim.workload.graph import Workload, graph_from_ops
from hwsim.workload.ops import DType, Op, OpKind, TensorSpec


def _op(name, ins, outs):
    t = lambda n: TensorSpec(n, (4,), DType.BF16)
    return Op(name, OpKind.ELEMENTWISE, {"rows": 1, "cols": 4}, tuple(t(i) for i in ins), tuple(t(o) for o in outs),
              DType.BF16, attrs={"fn": "add"})


def _cost(op, unit, seconds):
    return CostResult(op, "elementwise", unit, "test", Fidelity.ANALYTICAL, 0.0, seconds * 1e9, seconds, 0.0)


def test_three_op_timeline():
    """a (unit u1, 2 s) -> c; b (unit u2, 1 s) -> c; c (u1, 3 s).
    a and b overlap on different units; c waits for both and for u1: starts at 2, ends at 5."""
    ops = [_op("a", ["x"], ["ya"]), _op("b", ["x"], ["yb"]), _op("c", ["ya", "yb"], ["z"])]
    wl = Workload("t", graph_from_ops(ops))
    costs = {"a": _cost("a", "u1", 2.0), "b": _cost("b", "u2", 1.0), "c": _cost("c", "u1", 3.0)}
    timeline, makespan = list_schedule(wl, costs)
    assert [(s.op, s.unit, s.start_s, s.end_s) for s in timeline] == \
        [("a", "u1", 0.0, 2.0), ("b", "u2", 0.0, 1.0), ("c", "u1", 2.0, 5.0)]
    assert makespan == 5.0


def test_same_unit_serialises():
    """Independent ops on one unit run back to back in topological (name) order."""
    ops = [_op("a", ["x"], ["ya"]), _op("b", ["x"], ["yb"])]
    wl = Workload("t", graph_from_ops(ops))
    timeline, makespan = list_schedule(wl, {"a": _cost("a", "u", 1.0), "b": _cost("b", "u", 1.5)})
    assert [(s.op, s.start_s, s.end_s) for s in timeline] == [("a", 0.0, 1.0), ("b", 1.0, 2.5)]
    assert makespan == 2.5
