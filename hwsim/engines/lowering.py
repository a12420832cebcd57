"""From a graph op to what a unit executes: sparse or dense, and how often.

Applied by :func:`hwsim.engines.base.cost_op` around every engine, so each engine costs plain ops and none
needs to know about sparsity or skipping:

* **Sparsity.** An op with ``attrs["sparsity"]`` is in its sparse form (reduced dims, compressed tensors). A
  unit whose ``sparsity:`` spec skips that pattern (attention tiles, an N:M pattern, zero blocks, individual
  zeros) runs it as is, with the unit's ``metadata_bits`` if it gives them; any other unit runs
  ``attrs["dense_op"]``: the zeros computed, stored and moved.
* **Expected execution.** An op with ``attrs["executed_fraction"] = p`` runs in a fraction ``p`` of the
  steps (skipped FFNs and layers): its cycles, time, traffic and actions are scaled by ``p`` (expected cost;
  every later stage, schedule and energy, is linear in them).

The result always reports the graph op's useful flops; ``extra["executed_flops"]`` holds the work done.
"""

from __future__ import annotations

from dataclasses import replace

from hwsim.result import CostResult
from hwsim.workload.ops import Op, TensorRole


def lower_for_unit(op: Op, unit) -> tuple[Op, tuple[str, ...]]:
    """(the op ``unit`` executes, notes saying which form and why)."""
    pattern = op.attrs.get("sparsity")
    if pattern is None:
        return op, ()
    sup = unit.sparsity
    if pattern == "attention":
        ok = sup.attention_block
    else:
        n, m = op.attrs.get("nm", (0, 0))
        ok = sup.skips_weights(pattern, n, m)
    if not ok:
        return op.attrs["dense_op"], (f"{_label(op)} sparsity not supported by this unit: runs dense",)
    if pattern != "attention" and sup.metadata_bits is not None:
        op = replace(op, inputs=tuple(replace(t, index_bits=sup.metadata_bits) if t.role == TensorRole.WEIGHT
                                      and t.index_bits else t for t in op.inputs))
    return op, (f"{_label(op)} sparsity skipped by this unit",)


def _label(op: Op) -> str:
    p = op.attrs["sparsity"]
    if p == "nm":
        return "%d:%d" % tuple(op.attrs["nm"])
    return f"{op.attrs.get('attention_sparsity', '')} attention" if p == "attention" else p


def account(res: CostResult, op: Op, ran: Op) -> CostResult:
    """Report ``res`` (the cost of ``ran``) as the cost of graph op ``op``: useful flops, expected execution."""
    extra = dict(res.extra)
    extra["executed_flops"] = ran.flops
    p = float(op.attrs.get("executed_fraction", 1.0))
    if p == 1.0:
        return replace(res, flops=op.flops, extra=extra)
    scale = lambda d: {k: v * p for k, v in d.items()}  # noqa: E731
    for k in ("dram_bytes", "executed_flops"):
        if k in extra:
            extra[k] = extra[k] * p
    return replace(res, flops=op.flops * p, cycles=res.cycles * p, latency_s=res.latency_s * p,
                   compute_cycles=res.compute_cycles * p, memory_cycles=scale(res.memory_cycles),
                   stall_cycles=res.stall_cycles * p, reads={k: scale(v) for k, v in res.reads.items()},
                   writes={k: scale(v) for k, v in res.writes.items()}, actions=scale(res.actions), extra=extra,
                   notes=res.notes + (f"expected cost: runs in {p:.4g} of the steps (skipping)",))
