"""Quantization: storage formats with group scales, per-op compute formats, and the conversions they need.

1. Formats. The linear layers' weights take ``quantization.weights`` and the KV cache ``quantization.kv_cache``
   (element format plus one scale per ``group_size`` elements; MX formats carry their own block scale). Norm
   weights and biases keep ``precision.weights``.
2. Compute formats. A linear layer computes in the wider of its weight format and the activation format
   (``quantization.activations`` if given, else ``precision.activations``): W4A16 computes in bf16, W8A8 in
   int8. Attention computes in ``attention.qk`` (Q K^T) and ``attention.pv`` (P V) when given (SageAttention2;
   a fused attention op, having one format, takes the wider of the two), else as the foundation does.
3. Conversions, per matmul operand whose stored format differs from the compute format:

   * narrower (int4 weights into a bf16 GEMM, an int4 KV cache into bf16 attention): a ``dequant.<tensor>`` op
     on the vector unit with no tensors of its own. It works on the tiles the GEMM fetches (in-kernel
     dequantisation as in AWQ/Marlin kernels), so it moves no bytes; it runs beside the GEMM: it waits for the
     GEMM's inputs and the GEMM's consumers wait for it.
   * wider (bf16 activations into an int8 or int4 GEMM): if a vector op (a norm, the softmax, an activation)
     produces the tensor and this GEMM is its only reader, the producer writes it in the compute format with its
     scales (quantisation fused into its epilogue, as SmoothQuant fuses it into LayerNorm and SageAttention
     quantises P inside the kernel) and pays the quantisation ops; otherwise a ``quant.<tensor>`` op reads the
     tensor and writes it quantised, and the GEMM reads that.

Vector work per element (our operation counts): dequantising a grouped integer is 2 ops (subtract the zero
point, multiply by the scale: the asymmetric scheme of GPTQ/AWQ); a float or MX element 1 (one multiply);
quantising with scales is 3 (abs-max reduction, multiply by the inverse scale, round and convert), a plain cast 1.
The KV-cache append quantises what it writes when the cache has scales.
"""

from __future__ import annotations

import math
from dataclasses import replace

from hwsim.workload.ops import FLOPS_PER_ELEMENT, DType, Op, OpGroup, OpKind, TensorRole, TensorSpec
from hwsim.workload.passes.rewrite import consumers, producers, retensor, weight_operand, with_attrs

DEQUANT_GROUPED_INT = 2.0
DEQUANT_SCALED = 1.0
QUANT_SCALED = 3.0
CAST = 1.0
_ATTN_QK, _ATTN_PV, _ATTN_FUSED = "attn_score", "attn_context", "attention"


def _wider(a: DType, b: DType) -> DType:
    return a if a.bits >= b.bits else b


def _stored(t: TensorSpec, fmt) -> TensorSpec:
    """``t`` in quantisation format ``fmt`` (a QuantFormat)."""
    g = fmt.group_size or 0
    return replace(t, dtype=fmt.format, scale_group=g, scale_bits=fmt.scale.bits if g else 0)


def _has_scales(t: TensorSpec) -> bool:
    return bool(t.scale_group or t.dtype.block_scale)


def _dequant_flops(t: TensorSpec) -> float:
    if t.scale_group and not t.dtype.is_float:
        return DEQUANT_GROUPED_INT
    return DEQUANT_SCALED if _has_scales(t) else CAST


def _compute_format(op: Op, q, act: DType, kv: DType) -> DType:
    w = weight_operand(op)
    if w is not None:
        return _wider(w.dtype, act)
    if q.attention is not None and op.name in (_ATTN_QK, _ATTN_PV, _ATTN_FUSED):
        return {_ATTN_QK: q.attention.qk, _ATTN_PV: q.attention.pv}.get(op.name,
                                                                         _wider(q.attention.qk, q.attention.pv))
    return _wider(act, kv) if op.name in (_ATTN_QK, _ATTN_PV, _ATTN_FUSED) else op.dtype


def apply(ops: list[Op], model, after: list[tuple[str, str]] = ()) -> tuple[list[Op], list[tuple[str, str]]]:
    """Return the quantised ops and the ordering edges of the fused dequantisation ops (``after``: the block's
    ordering edges, e.g. kv_append before decode attention, which a dequantisation op inherits from its GEMM)."""
    q, p = model.quantization, model.precision
    linear_w = {w.name for op in ops if op.kind in OpGroup.MATMUL_LIKE and (w := weight_operand(op)) is not None}

    def fmt(t: TensorSpec) -> TensorSpec:
        if q.weights is not None and t.name in linear_w:
            return _stored(t, q.weights)
        if q.kv_cache is not None and t.role == TensorRole.KV_CACHE:
            return _stored(t, q.kv_cache)
        return t

    act = q.activations.format if q.activations is not None else p.activations
    kv = q.kv_cache.format if q.kv_cache is not None else p.kv_cache
    out: list[Op] = []
    extra: list[Op] = []
    quantised: dict[tuple[str, DType], TensorSpec] = {}
    readers = consumers(ops)
    where: dict[str, int] = {}  # tensor name -> index in ``out`` of the vector op that writes it
    for op in ops:
        op = retensor(op, fmt, dense_too=True)
        if op.name == "kv_append" and q.kv_cache is not None and _has_scales(op.outputs[0]):
            op = replace(op, dtype=p.activations, attrs=with_attrs(op.attrs, flops_per_element=QUANT_SCALED))
        if op.kind not in OpGroup.MATMUL_LIKE:
            if op.kind in OpGroup.VECTOR:
                where.update({t.name: len(out) for t in op.outputs})
            out.append(op)
            continue
        c = _compute_format(op, q, act, kv)
        swap: dict[str, TensorSpec] = {}
        for t in op.inputs:
            if t.name.endswith(".bias") or t.dtype == c:
                continue
            if t.dtype.storage_bits < c.storage_bits:
                extra.append(_dequant_op(t, op, p))
                continue
            key = (t.name, c)
            if t.name in where and readers.get(t.name) == [op.name]:
                tq = replace(_quantised(t, c, op, q), name=t.name)
                i = where[t.name]
                out[i] = _fuse_quant(out[i], tq)
                swap[t.name] = tq
                continue
            if key not in quantised:
                tq = _quantised(t, c, op, q)
                quantised[key] = tq
                extra.append(Op(f"quant.{t.name}", OpKind.ELEMENTWISE, _rows_cols(t), (t,), (tq,), p.activations,
                                p.accumulators, {"fn": "quantize", "for_op": op.name,
                                                 "flops_per_element": QUANT_SCALED if _has_scales(tq) else CAST}))
            swap[t.name] = quantised[key]

        def convert(o: Op, swap=swap, c=c) -> Op:
            o = retensor(o, lambda t: replace(swap[t.name], shape=t.shape) if t.name in swap else t)
            attrs = o.attrs
            if "dense_op" in attrs:
                attrs = with_attrs(attrs, dense_op=convert(attrs["dense_op"]))
            return replace(o, dtype=c, attrs=attrs)

        out.append(convert(op))
    return _place(out, extra, after)


def _fuse_quant(producer: Op, tq: TensorSpec) -> Op:
    """``producer`` writing ``tq`` (same name, new format) and paying the quantisation ops per element of it."""
    def retype(t: TensorSpec) -> TensorSpec:
        return replace(tq, shape=t.shape) if t.name == tq.name else t

    def bump(o: Op) -> Op:
        o = retensor(o, retype)
        per = o.attrs.get("flops_per_element", FLOPS_PER_ELEMENT.get(o.attrs.get("fn", o.kind.value), 1.0))
        t = next(x for x in o.outputs if x.name == tq.name)
        add = (QUANT_SCALED if _has_scales(tq) else CAST) * t.elements / o.elements
        attrs = with_attrs(o.attrs, flops_per_element=per + add, quantises=tq.name)
        if "dense_op" in attrs:
            attrs = with_attrs(attrs, dense_op=bump(attrs["dense_op"]))
        return replace(o, attrs=attrs)

    return bump(producer)


def _rows_cols(t: TensorSpec) -> dict[str, int]:
    return {"rows": math.prod(t.shape[:-1]), "cols": t.shape[-1]}


def _quantised(t: TensorSpec, c: DType, op: Op, q) -> TensorSpec:
    if q.attention is not None and op.name in (_ATTN_QK, _ATTN_PV, _ATTN_FUSED):
        g, bits = q.attention.group_size, 32
    elif q.activations is not None and q.activations.group_size:
        g, bits = q.activations.group_size, q.activations.scale.bits
    else:
        g, bits = 0, 0
    if c.block_scale:
        g, bits = 0, 0
    return TensorSpec(f"{t.name}.q", t.shape, c, TensorRole.ACTIVATION, g, bits)


def _dequant_op(t: TensorSpec, op: Op, p) -> Op:
    return Op(f"dequant.{t.name}", OpKind.ELEMENTWISE, _rows_cols(t), (), (), p.activations, p.accumulators,
              {"fn": "dequant", "for_op": op.name, "flops_per_element": _dequant_flops(t)})


def _place(ops: list[Op], extra: list[Op], before: list[tuple[str, str]] = ()
           ) -> tuple[list[Op], list[tuple[str, str]]]:
    """Put each conversion op before its GEMM; order the fused dequantisations beside their GEMM: after the
    producers of its inputs and the ops ordered before it (``before``: the decode cache append), before the
    consumers of its outputs."""
    by_for: dict[str, list[Op]] = {}
    for e in extra:
        by_for.setdefault(e.attrs["for_op"], []).append(e)
    placed: list[Op] = []
    for op in ops:
        placed.extend(by_for.get(op.name, []))
        placed.append(op)
    prod, cons = producers(placed), consumers(placed)
    by_name = {o.name: o for o in placed}
    after: list[tuple[str, str]] = []
    for e in extra:
        if e.attrs["fn"] != "dequant":
            continue
        gemm = by_name[e.attrs["for_op"]]
        after += [(prod[t.name], e.name) for t in gemm.inputs if t.name in prod]
        after += [(a, e.name) for a, b in before if b == gemm.name]
        after += [(e.name, c) for t in gemm.outputs for c in cons.get(t.name, [])]
    return placed, sorted(set(after))
