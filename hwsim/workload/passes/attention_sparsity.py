"""Attention sparsity: fewer (query, key) pairs per head, fewer keys read per query.

Per (sequence, K/V head), a query at absolute position ``p`` (0-based) of a causal decoder may attend to
``p + 1`` keys; the variants keep

* block-sparse with density ``d``: ``d`` x the causal pairs in prefill; in decode the kept keys are
  ``min(L, ceil(d L / b) b)`` for ``L`` cached keys and block size ``b`` (whole blocks/pages are fetched);
* sliding window ``w``: ``min(p + 1, w)`` keys;
* streaming heads (sink ``s``, window ``w``): ``min(p + 1, s + w)`` keys on the streaming fraction of the K/V
  heads, all ``p + 1`` on the others (the graph carries the mean over heads).

With ``P`` kept pairs per (sequence, K/V head) and ``Lq`` queries, the ops keep ``n = ceil(P / Lq)`` keys per
query (score ``N``, context ``K``, fused ``Lkv``) and density ``P / (Lq n)``; in decode the K/V cache reads
shrink to the kept keys. Encoders use ``Lkv`` keys per query in place of ``p + 1``. Every sparse op keeps its
dense form in ``attrs["dense_op"]`` for units that cannot skip tiles, except a sliding window or streaming
heads in decode: there the kept keys are one contiguous range that every unit reads as a shorter cache.
"""

from __future__ import annotations

import math
from dataclasses import replace

from hwsim.workload.blocks import causal_pairs
from hwsim.workload.ops import Op
from hwsim.workload.passes import BlockContext
from hwsim.workload.passes.rewrite import retensor, with_attrs

ATTENTION_OPS = ("attn_score", "softmax", "attn_context", "attention")
# which dimension of each attention op counts keys per query
_KEY_DIM = {"attn_score": "N", "softmax": "cols", "attn_context": "K", "attention": "Lkv"}


def window_pairs(lq: int, past: int, cap: int, causal: bool = True, lkv: int | None = None) -> int:
    """Sum over queries at positions ``past .. past+lq-1`` of ``min(p + 1, cap)`` (causal), or of
    ``min(lkv, cap)`` (bidirectional).

    >>> window_pairs(4, 0, 2)        # 1 + 2 + 2 + 2
    7
    >>> window_pairs(1, 99, 10)      # one decode query, 100 keys cached, window 10
    10
    """
    if not causal:
        return lq * min(lkv, cap)  # type: ignore[type-var]
    lo, hi = past + 1, past + lq
    if hi <= cap:
        return (lo + hi) * lq // 2
    if lo > cap:
        return lq * cap
    return (lo + cap) * (cap - lo + 1) // 2 + (hi - cap) * cap


def _block(spec, ctx: BlockContext, kv_heads: int, dense: int) -> float:
    d = spec.density_at(ctx.lkv)
    if ctx.phase == "decode":
        b = spec.block_size
        return float(min(ctx.lkv, math.ceil(d * ctx.lkv / b) * b))
    return d * dense


def _sliding(spec, ctx: BlockContext, kv_heads: int, dense: int) -> float:
    return float(window_pairs(ctx.lq, ctx.past, spec.window, ctx.decoder, ctx.lkv))


def _streaming(spec, ctx: BlockContext, kv_heads: int, dense: int) -> float:
    n_stream = round(spec.streaming_fraction * kv_heads)
    stream = window_pairs(ctx.lq, ctx.past, spec.sink + spec.window, ctx.decoder, ctx.lkv)
    return (n_stream * stream + (kv_heads - n_stream) * dense) / kv_heads


# kept pairs per (sequence, K/V head), by the spec's ``kind``; a new pattern registers its rule here
KEPT_PAIRS = {"block": _block, "sliding_window": _sliding, "streaming": _streaming}
# patterns whose decode keys are one contiguous range (every unit reads it as a shorter cache)
CONTIGUOUS_IN_DECODE = frozenset({"sliding_window", "streaming"})


def kept_pairs(spec, ctx: BlockContext, kv_heads: int) -> float:
    """Mean kept (query, key) pairs per (sequence, K/V head) under ``spec`` (see module docstring)."""
    dense = causal_pairs(ctx.lq, ctx.past) if ctx.decoder else ctx.lq * ctx.lkv
    return KEPT_PAIRS[spec.kind](spec, ctx, kv_heads, dense)


def apply(ops: list[Op], model, ctx: BlockContext) -> list[Op]:
    """Shrink the attention ops to the kept keys; see the module docstring."""
    spec = model.attention_sparsity
    pairs = kept_pairs(spec, ctx, model.kv_heads)
    keys = max(1, math.ceil(pairs / ctx.lq - 1e-9))
    density = pairs / (ctx.lq * keys)
    contiguous = ctx.phase == "decode" and spec.kind in CONTIGUOUS_IN_DECODE
    by_name = {op.name: op for op in ops}
    new: dict = {}
    for name in ("attn_score", "softmax"):
        if name in by_name:
            t = by_name[name].outputs[0]
            new[t.name] = replace(t, shape=(t.shape[0], keys))
    if ctx.phase == "decode":
        for op in ops:
            for t in op.inputs:
                if t.name in ("k_cache", "v_cache"):
                    new[t.name] = replace(t, shape=t.shape[:2] + (keys,) + t.shape[3:])
    out = []
    for op in ops:
        if op.name not in _KEY_DIM:
            out.append(retensor(op, new))
            continue
        dims = {**op.dims, _KEY_DIM[op.name]: keys}
        attrs = with_attrs(op.attrs, density=density, attention_sparsity=spec.kind)
        if not contiguous:
            attrs = with_attrs(attrs, sparsity="attention", dense_op=op)
        out.append(retensor(replace(op, dims=dims, attrs=attrs), new))
    return out
