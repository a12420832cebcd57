"""Event scheduler: whole timelines of hand-built graphs (simpy's test style), contention, interleaving."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwsim.result import CostResult, Fidelity
from hwsim.schedule import event_schedule, fair_rates, list_schedule
from hwsim.workload.graph import Workload, graph_from_ops
from hwsim.workload.interleave import interleave
from hwsim.workload.ops import DType, Op, OpKind, TensorSpec


def _op(name, ins, outs):
    t = lambda n: TensorSpec(n, (4,), DType.BF16)
    return Op(name, OpKind.ELEMENTWISE, {"rows": 1, "cols": 4}, tuple(t(i) for i in ins), tuple(t(o) for o in outs),
              DType.BF16, attrs={"fn": "add"})


def _cost(op, unit, seconds, hbm=0.0, exclusive=()):
    """A cost of ``seconds`` whose op needs the fraction ``hbm`` of the hbm level's bandwidth."""
    cycles = seconds * 1e9
    return CostResult(op, "elementwise", unit, "test", Fidelity.ANALYTICAL, 0.0, cycles, seconds, 0.0,
                      memory_cycles={"hbm": hbm * cycles} if hbm else {},
                      extra={"exclusive_levels": tuple(exclusive)} if exclusive else {})


def _timeline(t):
    return [(s.unit, s.op, s.start_s, s.end_s) for s in t]


def _wl(*ops, after=()):
    return Workload("t", graph_from_ops(list(ops), list(after)))


def test_three_op_timeline_matches_list():
    """a (u1, 2 s) -> c; b (u2, 1 s) -> c; c (u1, 3 s): a and b overlap, c starts at 2 and ends at 5,
    exactly as the list scheduler says (no shared memory is oversubscribed)."""
    wl = _wl(_op("a", ["x"], ["ya"]), _op("b", ["x"], ["yb"]), _op("c", ["ya", "yb"], ["z"]))
    costs = {"a": _cost("a", "u1", 2.0, 0.5), "b": _cost("b", "u2", 1.0, 0.5), "c": _cost("c", "u1", 3.0)}
    timeline, makespan = event_schedule(wl, costs)
    assert _timeline(timeline) == [("u1", "a", 0.0, 2.0), ("u2", "b", 0.0, 1.0), ("u1", "c", 2.0, 5.0)]
    assert (timeline, makespan) == list_schedule(wl, costs)


def test_two_ops_saturating_one_memory_share_it():
    """a (u1) and b (u2) each need all of hbm for 2 s when alone: together each gets half, both end at 4;
    c (u1, 1 s, no memory) follows at 4."""
    wl = _wl(_op("a", ["x"], ["ya"]), _op("b", ["x"], ["yb"]), _op("c", ["ya", "yb"], ["z"]))
    costs = {"a": _cost("a", "u1", 2.0, 1.0), "b": _cost("b", "u2", 2.0, 1.0), "c": _cost("c", "u1", 1.0)}
    timeline, makespan = event_schedule(wl, costs)
    assert _timeline(timeline) == [("u1", "a", 0.0, 4.0), ("u2", "b", 0.0, 4.0), ("u1", "c", 4.0, 5.0)]
    assert makespan == 5.0


def test_partial_overlap_rates_change_when_one_ends():
    """a (2 s, needs 1.0 of hbm) and b (1 s, needs 0.5): demand 1.5, so both run at rate 2/3 (max-min fair:
    equal rates until hbm saturates). b's 1 s of work ends at 1.5; a has done 1 s by then and finishes its
    last second alone at rate 1: ends at 2.5."""
    wl = _wl(_op("a", ["x"], ["ya"]), _op("b", ["x"], ["yb"]))
    timeline, _ = event_schedule(wl, {"a": _cost("a", "u1", 2.0, 1.0), "b": _cost("b", "u2", 1.0, 0.5)})
    (ua, a, sa, ea), (ub, b, sb, eb) = _timeline(timeline)
    assert (sa, sb) == (0.0, 0.0)
    assert eb == pytest.approx(1.5, rel=1e-12) and ea == pytest.approx(2.5, rel=1e-12)


def test_blocked_pim_stalls_host_traffic():
    """p (PIM, 1 s) holds hbm exclusively (blocked mode); n (NPU, 2 s, needs 0.5 of hbm) starts with it and
    makes no progress until p ends at 1, then runs its 2 s: ends at 3."""
    wl = _wl(_op("n", ["x"], ["yn"]), _op("p", ["x"], ["yp"]))
    costs = {"n": _cost("n", "npu", 2.0, 0.5), "p": _cost("p", "pim", 1.0, 0.05, exclusive=["hbm"])}
    timeline, makespan = event_schedule(wl, costs)
    assert _timeline(timeline) == [("npu", "n", 0.0, 3.0), ("pim", "p", 0.0, 1.0)]
    assert makespan == 3.0


def test_dual_row_buffer_pim_overlaps_host_traffic():
    """The same pair with a dual-row-buffer PIM (not exclusive, 0.05 of hbm): 0.5 + 0.05 < 1, no slowdown."""
    wl = _wl(_op("n", ["x"], ["yn"]), _op("p", ["x"], ["yp"]))
    costs = {"n": _cost("n", "npu", 2.0, 0.5), "p": _cost("p", "pim", 1.0, 0.05)}
    timeline, _ = event_schedule(wl, costs)
    assert _timeline(timeline) == [("npu", "n", 0.0, 2.0), ("pim", "p", 0.0, 1.0)]


def test_program_order_versus_ready_order():
    """x (u1, 2 s) -> y (u2, 1 s); z (u2, 1 s) independent. Topological order is x, y, z, so in program order
    u2 runs y (2..3) before z (3..4); in ready order z runs first (0..1) while y waits for x."""
    wl = _wl(_op("x", ["i"], ["xo"]), _op("y", ["xo"], ["yo"]), _op("z", ["i"], ["zo"]))
    costs = {"x": _cost("x", "u1", 2.0), "y": _cost("y", "u2", 1.0), "z": _cost("z", "u2", 1.0)}
    prog, _ = event_schedule(wl, costs, order="program")
    ready, _ = event_schedule(wl, costs, order="ready")
    assert _timeline(prog) == [("u1", "x", 0.0, 2.0), ("u2", "y", 2.0, 3.0), ("u2", "z", 3.0, 4.0)]
    assert _timeline(ready) == [("u1", "x", 0.0, 2.0), ("u2", "y", 2.0, 3.0), ("u2", "z", 0.0, 1.0)]
    with pytest.raises(ValueError, match="allowed: program, ready"):
        event_schedule(wl, costs, order="random")


def test_sub_batch_interleaving_toy():
    """Two sub-batches of a 2-op block g (npu, 2 s) -> a (pim, 3 s), two layers, ready order.
    npu: l0.sb0.g 0-2, l0.sb1.g 2-4, l1.sb0.g 5-7 (waits for l0.sb0.a), l1.sb1.g 8-10;
    pim: l0.sb0.a 2-5, l0.sb1.a 5-8, l1.sb0.a 8-11, l1.sb1.a 11-14. Makespan 14, against 2 x (2+3) x 2 = 20
    for the same four sub-batch-layers run one after another."""
    block = _wl(_op("g", ["x"], ["h"]), _op("a", ["h"], ["y"]))
    block = Workload("toy", block.graph, {"batch": 1}, layers=2)
    wl = interleave([block, block], layers=2)
    costs = {op.name: _cost(op.name, "npu" if op.attrs["base_op"] == "g" else "pim",
                            2.0 if op.attrs["base_op"] == "g" else 3.0) for op in wl.ops()}
    timeline, makespan = event_schedule(wl, costs, order="ready")
    assert sorted(_timeline(timeline)) == [
        ("npu", "l0.sb0.g", 0.0, 2.0), ("npu", "l0.sb1.g", 2.0, 4.0), ("npu", "l1.sb0.g", 5.0, 7.0),
        ("npu", "l1.sb1.g", 8.0, 10.0),
        ("pim", "l0.sb0.a", 2.0, 5.0), ("pim", "l0.sb1.a", 5.0, 8.0), ("pim", "l1.sb0.a", 8.0, 11.0),
        ("pim", "l1.sb1.a", 11.0, 14.0)]
    assert makespan == 14.0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1), st.booleans()), min_size=1, max_size=6))
def test_fair_rates_invariants(ops):
    """Rates lie in [0, 1]; no level is oversubscribed (exclusive holders aside); an op below rate 1 that is
    not stalled by an exclusive holder touches a saturated level (max-min fairness)."""
    need = {f"o{i}": {k: v for k, v in (("hbm", h), ("sram", s)) if v > 0} for i, (h, s, _) in enumerate(ops)}
    excl = {f"o{i}": frozenset({"hbm"}) for i, (h, _, x) in enumerate(ops) if x and h > 0}
    rates = fair_rates(need, excl)
    assert all(0.0 <= r <= 1.0 + 1e-12 for r in rates.values())
    stalled = {o for o in need if "hbm" in need[o] and excl and o not in excl}
    for lv in ("hbm", "sram"):
        used = sum(rates[o] * need[o].get(lv, 0.0) for o in need)
        assert used <= 1.0 + 1e-9
    for o, r in rates.items():
        if r < 1.0 - 1e-9 and o not in stalled:
            assert any(sum(rates[p] * need[p].get(lv, 0.0) for p in need) >= 1.0 - 1e-9 for lv in need[o])
