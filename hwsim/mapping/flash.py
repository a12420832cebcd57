"""Fused attention on an arch with no attention unit: FlashAttention lowered to the array and the vector unit.

A mapping-stage pass. When no unit accepts a fused ``attention`` op (OpKind.ATTENTION) but one unit runs its
score GEMM and one its softmax, :func:`lower_attention` replaces it with the three ops an NPU runs, named after
it: ``attention.score`` (``S = Q K^T`` on the array), ``attention.softmax`` (``P = softmax(S)`` on the vector
unit) and ``attention.context`` (``O = P V`` on the array), with FlashAttention's traffic (Dao et al. 2022,
"FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness", Algorithm 1 and Theorem 2):

* **S and P stay on chip.** They are ``on_chip`` tensors: read and written in the on-chip level that holds the
  unit's working set (SRAM energy counted), never in off-chip memory.
* **Q read once, O written once; K and V once per query block.** The query rows of one (sequence, KV head)
  are cut into ``n = ceil(g Lq / Bq)`` blocks of ``ceil(g Lq / n)`` rows (``g`` query heads per KV head), and
  each block is one group of the batched GEMMs, so the array's fold model streams each block's K (V) once:
  K and V move ``n`` times. :func:`query_block` gives ``Bq``, the largest block whose working set fits.
* **Work.** ``rows = B H Lq`` keeps the useful flops: score ``2 rows D Lkv x density`` plus context the same,
  the fused op's ``4 B H Lq Lkv D x density``; the softmax is the unfused graph's (5 flops per score, which the
  fused op's count leaves out), so the lowered block does the unfused block's flops.

Arches whose units run fused attention (a GPU's tensor engine) keep the fused op untouched; arches with no GEMM
or no softmax unit keep it too, and the mapper's "no unit can run op attention" error names every unit.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Callable

from hwsim.arch.spec import ArchSpec
from hwsim.engines.base import cost_op
from hwsim.engines.systolic_job import operand_buffers
from hwsim.errors import UnsupportedOpError
from hwsim.mapping.types import OpMapping
from hwsim.result import CostResult, Fidelity
from hwsim.workload.graph import Workload, graph_from_ops
from hwsim.workload.ops import DType, Op, OpKind, TensorSpec

STATS_DTYPE = DType.FP32   # the running max m and sum l of the online softmax, one each per query row


def query_block(head_dim: int, q_bytes: float, acc_bytes: float, kv_bytes: float, kv_tile: int,
                capacity_bytes: float) -> int:
    """Largest query block ``Bq`` (rows) whose FlashAttention working set fits ``capacity_bytes``.

    One block holds its Q rows (``Bq D q_bytes``), its output accumulator (``Bq D acc_bytes``), the running
    max and sum (``2 Bq`` fp32) and one K and one V tile of ``kv_tile`` keys (``2 kv_tile D kv_bytes``)::

        Bq = floor((M - 2 Bkv D e_kv) / (D (e_q + e_acc) + 8))

    FlashAttention's Algorithm 1 sizes its blocks from the same budget (``Bc = ceil(M / 4d)``); with ``n =
    ceil(Lq / Bq)`` passes over K and V its Theorem 2 count of HBM accesses, ``Theta(N^2 d^2 / M)``, follows.

    >>> query_block(128, 2, 4, 2, 128, 0.5 * 32 * 2**20 / 3)    # npu_128: a third of the 16 MiB tile share
    7122
    """
    per_row = head_dim * (q_bytes + acc_bytes) + 2 * STATS_DTYPE.bytes
    free = capacity_bytes - 2 * kv_tile * head_dim * kv_bytes
    if free < per_row:
        raise UnsupportedOpError(f"FlashAttention needs {2 * kv_tile * head_dim * kv_bytes + per_row:.0f} B on "
                                 f"chip for one query row and one K/V tile; the array has {capacity_bytes:.0f} B")
    return int(free // per_row)


def lower_attention(workload: Workload, arch: ArchSpec, *,
                    coster: Callable[..., CostResult] = cost_op) -> Workload:
    """``workload`` with every fused attention op no unit of ``arch`` accepts lowered (module docstring).

    >>> from hwsim.arch.loader import load_arch
    >>> from hwsim.workload import build_block, load_model
    >>> wl = build_block(load_model("llama2_7b"), "prefill", 1, seq=8192, fused_attention=True)
    >>> low = lower_attention(wl, load_arch("npu_128"))
    >>> [op.name for op in low.ops() if op.name.startswith("attention")]
    ['attention.score', 'attention.softmax', 'attention.context']
    >>> low.op("attention.score").attrs["kv_passes"]
    2
    >>> lower_attention(wl, load_arch("h100")) is wl
    True
    """
    fused = [op for op in workload.ops() if op.kind == OpKind.ATTENTION and not _accepted(op, arch, coster)]
    lowered = {op.name: ops for op in fused if (ops := _lower(op, arch, coster)) is not None}
    if not lowered:
        return workload
    ops = [new for op in workload.ops() for new in lowered.get(op.name, [op])]
    first = {name: ops3[0].name for name, ops3 in lowered.items()}
    last = {name: ops3[-1].name for name, ops3 in lowered.items()}
    after = [(last.get(u, u), first.get(v, v)) for u, v, t in workload.graph.edges(data="tensors") if not t]
    return Workload(workload.name, graph_from_ops(ops, after), workload.params, layers=workload.layers)


def _accepted(op: Op, arch: ArchSpec, coster) -> str | None:
    """The first unit of ``arch`` that accepts ``op`` (None if none does)."""
    for unit in arch.units:
        try:
            coster(op, unit, arch, OpMapping(op.name, unit), Fidelity.ANALYTICAL)
            return unit
        except UnsupportedOpError:
            continue
    return None


def _lower(op: Op, arch: ArchSpec, coster) -> list[Op] | None:
    """The three ops of fused ``op`` with the query block of the first unit that runs its score GEMM."""
    unit = _accepted(_ops(op, 1)[0], arch, coster)
    if unit is None:
        return None
    d = op.dims
    rows_per_kv_head = d["H"] // d["KVH"] * d["Lq"]
    kv = op.inputs[1]
    try:
        bq = query_block(d["D"], op.inputs[0].element_bytes, op.acc_dtype.bytes, kv.element_bytes,
                         _kv_tile(arch, unit), min(operand_buffers(unit, arch)[0]))
    except UnsupportedOpError:
        return None
    ops = _ops(op, math.ceil(rows_per_kv_head / bq), bq)
    if any(_accepted(o, arch, coster) is None for o in ops):
        return None
    return ops


def _kv_tile(arch: ArchSpec, unit: str) -> int:
    """Keys per K/V tile: the array's columns (one fold's worth of keys), else 128 (FlashAttention's Bc)."""
    return int(getattr(arch.units[unit], "cols", 128))


def _ops(op: Op, passes: int, bq: int = 0) -> list[Op]:
    """Score GEMM, softmax and context GEMM of ``op`` with its query rows in ``passes`` blocks."""
    d = op.dims
    b, h, kvh, lq, lkv, hd = d["B"], d["H"], d["KVH"], d["Lq"], d["Lkv"], d["D"]
    nk = (len(op.inputs) - 1) // 2
    q, ks, vs, out = op.inputs[0], op.inputs[1:1 + nk], op.inputs[1 + nk:], op.outputs[0]
    rows = b * h * lq
    block = math.ceil(h // kvh * lq / passes)
    s = TensorSpec(f"{op.name}.scores", (rows, lkv), out.dtype, on_chip=True)
    p = replace(s, name=f"{op.name}.probs")
    attrs = {"density": op.density, "lowered_from": op.name, "query_block": bq, "kv_passes": passes}
    gemm = {"B": b * kvh * passes, "M": block, "rows": rows}
    return [Op(f"{op.name}.score", OpKind.GEMM, {**gemm, "K": hd, "N": lkv}, (q, *ks), (s,), op.dtype,
               op.acc_dtype, attrs),
            Op(f"{op.name}.softmax", OpKind.SOFTMAX, {"rows": rows, "cols": lkv}, (s,), (p,), out.dtype,
               op.acc_dtype, {"fn": "softmax", "density": op.density, "lowered_from": op.name}),
            Op(f"{op.name}.context", OpKind.GEMM, {**gemm, "K": lkv, "N": hd}, (p, *vs), (out,), op.dtype,
               op.acc_dtype, attrs)]
