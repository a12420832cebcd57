"""Skipping: each token skips a layer's FFN with probability ``f`` and the whole layer with probability ``s``.

The block is costed as the expected layer. With ``T`` tokens in the step, an FFN runs unless every token skips
it, with probability ``1 - f^T``, and then processes the ``T (1 - f)`` expected non-skipping tokens, i.e.
``T (1 - f) / (1 - f^T)`` rows given that it runs; a layer runs with probability ``1 - s^T``. The ops carry
the probability in ``attrs["executed_fraction"]`` (engines' costs are scaled by it, hwsim/engines/lowering.py)
and the FFN GEMMs and vector ops their conditional row counts (tensor shapes keep ``T`` rows: their bytes are
an upper bound for ``T > 1``). For one token per step (batch-1 decode, FFN-SkipLLM's setting) this is exact:
the FFN's expected cost is ``(1 - f)`` of the dense FFN's. Rows of layer-skipped steps are not reduced.
"""

from __future__ import annotations

import math
from dataclasses import replace

from hwsim.workload.ops import Op, OpKind
from hwsim.workload.passes import BlockContext
from hwsim.workload.passes.rewrite import with_attrs
from hwsim.workload.variant_specs import SkipSpec

FFN_OPS = frozenset({"ffn_norm", "gate_up", "up", "act", "down", "ffn_residual", "router", "router_topk",
                     "expert_gather", "moe_combine"})
_FFN_PREFIXES = ("experts_", "shared_")


def is_ffn(op: Op) -> bool:
    """True for the FFN (or MoE) part of a transformer block and the conversion ops that serve it."""
    name = op.attrs.get("for_op", op.name)
    return name in FFN_OPS or name.startswith(_FFN_PREFIXES)


def run_probability(fraction: float, tokens: int) -> float:
    """Probability that at least one of ``tokens`` independent tokens does not skip.

    >>> run_probability(0.25, 1)
    0.75
    """
    return 1.0 - fraction ** tokens


def apply(ops: list[Op], spec: SkipSpec, ctx: BlockContext) -> list[Op]:
    if ctx.phase not in spec.phases:
        return ops
    t = ctx.tokens
    p_layer = run_probability(spec.layer_fraction, t)
    p_ffn = run_probability(spec.ffn_fraction, t)
    rows = max(1, math.ceil(t * (1.0 - spec.ffn_fraction) / p_ffn - 1e-9))
    out = []
    for op in ops:
        p = p_layer
        dims = op.dims
        if is_ffn(op) and spec.ffn_fraction:
            p *= p_ffn
            if op.kind == OpKind.GEMM and "rows" not in dims and dims.get("M") == t:
                dims = {**dims, "M": rows}
            elif op.kind != OpKind.GEMM and dims.get("rows") == t and op.name != "ffn_residual":
                dims = {**dims, "rows": rows}
        if p != 1.0 or dims is not op.dims:
            attrs = op.attrs if p == 1.0 else with_attrs(op.attrs, executed_fraction=p * op.attrs.get(
                "executed_fraction", 1.0))
            if "dense_op" in attrs and dims is not op.dims:
                attrs = with_attrs(attrs, dense_op=replace(attrs["dense_op"], dims={**attrs["dense_op"].dims,
                                                                                   **{k: dims[k] for k in ("M", "rows") if k in dims}}))
            op = replace(op, dims=dims, attrs=attrs)
        out.append(op)
    return out
