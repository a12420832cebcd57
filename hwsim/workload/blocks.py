"""Build one transformer block's op graph for a phase.

``build_block(model, "prefill", batch=1, seq=512)`` or ``build_block(model, "decode", batch=8, kv_len=2048)``.

Shapes (T = tokens in this step, Lq = query length per sequence, Lkv = keys attended per sequence):

* prefill: T = batch x seq, Lq = seq, Lkv = past_len + seq, causal for decoders (query i sees past_len+i+1 keys);
* decode: T = batch, Lq = 1, Lkv = kv_len (the cache *including* this step's appended key/value, as in the
  H100 calibration block).

Attention is either unfused (``attn_score`` GEMM, ``softmax``, ``attn_context`` GEMM: what an NPU runs on its
array and vector unit, and what a PIM unit runs as GEMVs in decode) or one fused ``attention`` op with
FlashAttention-style traffic (q, k, v read once, output written once). GQA is expressed by batching the
score/context GEMMs over (sequence, kv-head) with the head group folded into M, so each K/V head is read once.

MoE experts: with T tokens routed uniformly to top_k of E experts, the expected number of experts that
receive at least one token is ``E * (1 - (1 - k/E)^T)`` (rounded up); their weights are all read, and the
T*k routed rows are split evenly over them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum

from hwsim.errors import SpecError
from hwsim.workload.graph import Workload, graph_from_ops
from hwsim.workload.models import BlockType, FfnKind, ModelSpec, NormPosition
from hwsim.workload.ops import DType, Op, OpKind, TensorRole, TensorSpec
from hwsim.workload.passes import BlockContext, apply_variants, variant_label

W, A, KV = TensorRole.WEIGHT, TensorRole.ACTIVATION, TensorRole.KV_CACHE


class Phase(str, Enum):
    PREFILL = "prefill"
    DECODE = "decode"


def causal_pairs(lq: int, past: int) -> int:
    """(query, key) pairs a causal mask keeps when ``lq`` new queries follow ``past`` cached tokens.

    >>> causal_pairs(4, 0)   # 1 + 2 + 3 + 4
    10
    >>> causal_pairs(1, 7)   # one decode token sees all 7 + itself
    8
    """
    return lq * past + lq * (lq + 1) // 2


def expected_active_experts(tokens: int, experts: int, top_k: int) -> float:
    """Expected number of distinct experts hit when ``tokens`` each pick ``top_k`` of ``experts`` uniformly.

    >>> round(expected_active_experts(1, 8, 2), 6)
    2.0
    >>> round(expected_active_experts(512, 8, 2), 6)
    8.0
    """
    return experts * (1.0 - (1.0 - top_k / experts) ** tokens)


def _wider(a: DType, b: DType) -> DType:
    """Compute format of a product of two operands: the wider one (W4A16 computes in 16 bits)."""
    return a if a.bits >= b.bits else b


@dataclass
class _Builder:
    """Accumulates ops; one place that knows each tensor class's dtype."""

    m: ModelSpec
    ops: list[Op] = field(default_factory=list)
    after: list[tuple[str, str]] = field(default_factory=list)

    def t(self, name: str, shape: tuple[int, ...], role: TensorRole = A) -> TensorSpec:
        p = self.m.precision
        dtype = {W: p.weights, A: p.activations, KV: p.kv_cache}[role]
        return TensorSpec(name, tuple(int(s) for s in shape), dtype, role)

    def add(self, op: Op) -> Op:
        self.ops.append(op)
        return op

    def linear(self, name: str, x: TensorSpec, k: int, n: int, out: str, groups: int = 1,
               rows: int | None = None) -> TensorSpec:
        """y = x @ W (+ b). ``groups`` > 1 makes a grouped GEMM (MoE experts) with per-group weights."""
        p = self.m.precision
        tokens = x.shape[0]
        m_per_group = math.ceil(tokens / groups)
        w = self.t(f"{name}.weight", (groups, k, n) if groups > 1 else (k, n), W)
        ins = [x, w]
        if self.m.bias:
            ins.append(self.t(f"{name}.bias", (groups, n) if groups > 1 else (n,), W))
        y = self.t(out, (tokens, n))
        dims = {"B": groups, "M": m_per_group, "K": k, "N": n}
        if rows is not None:
            dims["rows"] = rows
        self.add(Op(name, OpKind.GEMM, dims, tuple(ins), (y,), _wider(p.weights, p.activations), p.accumulators))
        return y

    def vector(self, kind: OpKind, name: str, fn: str, ins: list[TensorSpec], out: TensorSpec,
               density: float = 1.0, **attrs) -> TensorSpec:
        rows, cols = out.shape[0], math.prod(out.shape[1:])
        self.add(Op(name, kind, {"rows": rows, "cols": cols}, tuple(ins), (out,), self.m.precision.activations,
                    self.m.precision.accumulators, {"fn": fn, "density": density, **attrs}))
        return out

    def norm(self, name: str, x: TensorSpec, out: str) -> TensorSpec:
        d = self.m.d_model
        ins = [x, self.t(f"{name}.weight", (d,), W)]
        if self.m.norm.value == "layernorm":
            ins.append(self.t(f"{name}.bias", (d,), W))
        return self.vector(OpKind.NORM, name, self.m.norm.value, ins, self.t(out, x.shape))

    def add_residual(self, name: str, a: TensorSpec, b: TensorSpec, out: str) -> TensorSpec:
        return self.vector(OpKind.ELEMENTWISE, name, "add", [a, b], self.t(out, a.shape))


def build_block(model: ModelSpec, phase: Phase | str, batch: int = 1, seq: int | None = None,
                kv_len: int | None = None, *, past_len: int = 0, fused_attention: bool = False,
                kv_append: bool = True) -> Workload:
    """One block of ``model`` for ``phase``.

    Parameters
    ----------
    model : ModelSpec
    phase : "prefill" or "decode"
    batch : int
        Sequences in the step.
    seq : int, optional
        Prefill tokens per sequence (default: a ViT's image tokens, else 512).
    kv_len : int, optional
        Decode: keys per sequence attended, including the new token (default 2048).
    past_len : int
        Prefill only: tokens already in the KV cache (chunked prefill).
    fused_attention : bool
        One FlashAttention-style op instead of score GEMM + softmax + context GEMM.
    kv_append : bool
        Include the op that writes this step's keys/values into the cache (decoders only).

    Examples
    --------
    >>> from hwsim.workload.models import load_model
    >>> wl = build_block(load_model("llama2_7b"), "prefill", batch=1, seq=512)
    >>> wl.op("qkv_proj").flops == 2 * 512 * 4096 * 12288
    True
    >>> wl.parameters
    202383360
    """
    try:
        phase = Phase(phase)
    except ValueError:
        raise SpecError("<arguments>", "phase", f"unknown phase {phase!r}", allowed="prefill, decode") from None
    for nm, v in (("batch", batch), ("seq", seq), ("kv_len", kv_len), ("past_len", past_len)):
        if v is not None and (not isinstance(v, int) or v < (0 if nm == "past_len" else 1)):
            raise SpecError("<arguments>", nm, f"must be a positive integer, got {v!r}")
    m = model
    if m.block in BLOCK_BUILDERS:
        return BLOCK_BUILDERS[m.block](m, phase, batch, seq, kv_len)
    decoder = m.block == BlockType.DECODER
    if phase == Phase.DECODE:
        if not decoder:
            raise SpecError(m.name, "phase", "an encoder block has no decode phase", allowed="prefill")
        lq, lkv = 1, kv_len or 2048
        pairs = lq * lkv
        seq_used = None
    else:
        lq = seq or m.image_tokens or 512
        lkv = past_len + lq
        pairs = causal_pairs(lq, past_len) if decoder else lq * lkv
        seq_used = lq
    b = _Builder(m)
    tokens = batch * lq
    density = pairs / (lq * lkv)
    x = b.t("x", (tokens, m.d_model))
    h = b.norm("attn_norm", x, "h_attn") if m.norm_position == NormPosition.PRE else x
    attn_out = _attention(b, h, batch, lq, lkv, phase, decoder, density, fused_attention, kv_append)
    o = b.linear("o_proj", attn_out, m.heads * m.head_dim, m.d_model, "o_out")
    x1 = b.add_residual("attn_residual", x, o, "x1")
    if m.norm_position == NormPosition.POST:
        x1 = b.norm("attn_post_norm", x1, "x1_norm")
    h2 = b.norm("ffn_norm", x1, "h_ffn") if m.norm_position == NormPosition.PRE else x1
    f = _moe(b, h2) if m.moe else _ffn(b, h2, m.ffn_dim, "")
    y = b.add_residual("ffn_residual", x1, f, "y")
    if m.norm_position == NormPosition.POST:
        b.norm("ffn_post_norm", y, "y_norm")
    params = {"model": m.name, "phase": phase.value, "batch": batch, "seq": seq_used,
              "kv_len": lkv if phase == Phase.DECODE else None, "past_len": past_len, "tokens": tokens,
              "attention": "fused" if fused_attention else "unfused"}
    ops, after = apply_variants(b.ops, b.after, m, BlockContext(phase.value, batch, lq, lkv, lkv - lq, decoder))
    if (label := variant_label(m)) is not None:
        params["variants"] = label
    return Workload(f"{m.name}/{phase.value}", graph_from_ops(ops, after), params, layers=m.layers)


# Builders of non-transformer block types, registered by their modules (hwsim/workload/mamba.py, mobilenet.py):
# ``fn(model, phase, batch, seq, kv_len) -> Workload``.
BLOCK_BUILDERS: dict = {}


def register_block(block: BlockType):
    """Decorator: the graph builder of a non-transformer block type."""
    def deco(fn):
        BLOCK_BUILDERS[block] = fn
        return fn
    return deco


def _attention(b: _Builder, h: TensorSpec, batch: int, lq: int, lkv: int, phase: Phase, decoder: bool,
               density: float, fused: bool, kv_append: bool) -> TensorSpec:
    m = b.m
    hd, H, KVH, g = m.head_dim, m.heads, m.kv_heads, m.group_size
    tokens = batch * lq
    qkv_n = (H + 2 * KVH) * hd
    q, k, v = (b.t(n, (tokens, c * hd)) for n, c in (("q", H), ("k", KVH), ("v", KVH)))
    ins = [h, b.t("qkv_proj.weight", (m.d_model, qkv_n), W)]
    if m.bias if m.qkv_bias is None else m.qkv_bias:
        ins.append(b.t("qkv_proj.bias", (qkv_n,), W))
    p = m.precision
    b.add(Op("qkv_proj", OpKind.GEMM, {"B": 1, "M": tokens, "K": m.d_model, "N": qkv_n}, tuple(ins), (q, k, v),
             _wider(p.weights, p.activations), p.accumulators))
    if m.rope:
        q_r, k_r = b.t("q_rot", q.shape), b.t("k_rot", k.shape)
        b.add(Op("rope", OpKind.ELEMENTWISE, {"rows": tokens, "cols": (H + KVH) * hd}, (q, k), (q_r, k_r),
                 p.activations, p.accumulators, {"fn": "rope"}))
        q, k = q_r, k_r
    past = lkv - lq
    if decoder and kv_append:
        kc, vc = b.t("k_cache_append", (batch, KVH, lq, hd), KV), b.t("v_cache_append", (batch, KVH, lq, hd), KV)
        b.add(Op("kv_append", OpKind.COPY, {"elements": 2 * tokens * KVH * hd}, (k, v), (kc, vc),
                 p.kv_cache, p.accumulators, {"fn": "copy"}))
    # Where keys/values are read from: the cache in decode (it holds this step's entry), the fresh
    # activations in prefill, plus the cached past for chunked prefill.
    if phase == Phase.DECODE:
        k_src = [b.t("k_cache", (batch, KVH, lkv, hd), KV)]
        v_src = [b.t("v_cache", (batch, KVH, lkv, hd), KV)]
    else:
        k_src, v_src = [k], [v]
        if past:
            k_src.append(b.t("k_cache_past", (batch, KVH, past, hd), KV))
            v_src.append(b.t("v_cache_past", (batch, KVH, past, hd), KV))
    out = b.t("attn_out", (tokens, H * hd))
    adt = _wider(p.activations, p.kv_cache)
    attn_ops = []
    if fused:
        attn_ops.append(b.add(Op("attention", OpKind.ATTENTION,
                                 {"B": batch, "H": H, "KVH": KVH, "Lq": lq, "Lkv": lkv, "D": hd},
                                 tuple([q] + k_src + v_src), (out,), adt, p.accumulators,
                                 {"density": density, "causal": decoder})))
    else:
        scores = b.t("scores", (batch * H * lq, lkv))
        attn_ops.append(b.add(Op("attn_score", OpKind.GEMM, {"B": batch * KVH, "M": g * lq, "K": hd, "N": lkv},
                                 tuple([q] + k_src), (scores,), adt, p.accumulators, {"density": density})))
        probs = b.vector(OpKind.SOFTMAX, "softmax", "softmax", [scores], b.t("probs", scores.shape), density)
        attn_ops.append(b.add(Op("attn_context", OpKind.GEMM, {"B": batch * KVH, "M": g * lq, "K": lkv, "N": hd},
                                 tuple([probs] + v_src), (out,), adt, p.accumulators, {"density": density})))
    if decoder and kv_append and phase == Phase.DECODE:
        b.after.extend(("kv_append", op.name) for op in attn_ops)
    return out


def _ffn(b: _Builder, h: TensorSpec, ffn: int, prefix: str, groups: int = 1, rows: int | None = None) -> TensorSpec:
    m = b.m
    tokens = h.shape[0]
    if m.ffn_kind == FfnKind.SWIGLU:
        gu = b.linear(f"{prefix}gate_up", h, m.d_model, 2 * ffn, f"{prefix}gate_up_out", groups, rows)
        a = b.vector(OpKind.ELEMENTWISE, f"{prefix}act", "silu_mul", [gu], b.t(f"{prefix}act_out", (tokens, ffn)))
    else:
        up = b.linear(f"{prefix}up", h, m.d_model, ffn, f"{prefix}up_out", groups, rows)
        fn = "gelu" if m.ffn_kind == FfnKind.GELU_MLP else "relu"
        a = b.vector(OpKind.ELEMENTWISE, f"{prefix}act", fn, [up], b.t(f"{prefix}act_out", (tokens, ffn)))
    return b.linear(f"{prefix}down", a, ffn, m.d_model, f"{prefix}ffn_out", groups, rows)


def _moe(b: _Builder, h: TensorSpec) -> TensorSpec:
    m = b.m
    moe = m.moe
    assert moe is not None
    tokens = h.shape[0]
    e_ffn = moe.expert_ffn_dim or m.ffn_dim
    logits = b.linear("router", h, m.d_model, moe.experts, "router_logits")
    route = b.vector(OpKind.TOPK, "router_topk", "topk", [logits], b.t("routing", (tokens, moe.top_k)))
    active = min(moe.experts, math.ceil(expected_active_experts(tokens, moe.experts, moe.top_k) - 1e-9))
    routed_rows = tokens * moe.top_k
    # experts see the gathered routed rows: (tokens x top_k) rows split over the active experts
    gathered = b.vector(OpKind.ELEMENTWISE, "expert_gather", "copy", [h, route],
                        b.t("expert_in", (routed_rows, m.d_model)))
    ex = _ffn(b, gathered, e_ffn, "experts_", groups=active, rows=routed_rows)
    parts = [ex]
    if moe.shared_experts:
        parts.append(_ffn(b, h, e_ffn * moe.shared_experts, "shared_"))
    out = b.t("moe_out", (tokens, m.d_model))
    # weighted sum of each token's top_k expert rows (+ shared output): 2 flops per summed element
    b.vector(OpKind.ELEMENTWISE, "moe_combine", "add", parts + [route], out,
             flops_per_element=2.0 * (moe.top_k + (1 if moe.shared_experts else 0)))
    return out
