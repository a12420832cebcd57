"""Measured-case rows (``kind,name,dtype,shape``, as in hwsim/data/calibration/*.csv) -> workloads to evaluate.

| kind | shape | workload |
| --- | --- | --- |
| gemm | ``MxKxN`` | one GEMM ``x[M,K] @ W[K,N]``; fp8 writes bf16, int8 writes int32 (torch._scaled_mm, _int_mm) |
| attn_prefill | ``BxHxLxD`` | one fused causal attention, ``Lq = Lkv = L`` |
| attn_decode | ``BxHxLxD`` | one fused attention of one query per sequence against ``L`` cached keys/values |
| copy | ``n`` | a copy of ``n`` elements |
| block_prefill | ``B{b}_T{t}`` | ``build_block(llama7b_block, "prefill", b, seq=t)`` |
| block_decode | ``B{b}_L{l}`` | ``build_block(llama7b_block, "decode", b, kv_len=l)`` |
| idle | empty or seconds | the board doing nothing for that long (default 2 s): static power x time |

Single-op rows were measured as a loop over the same tensors, so their ops carry ``attrs["warm_l2"]``. Blocks
are composed from the block's ops (never fitted as a whole): llama7b_block is Llama-2-7B's layer without RoPE
(the measured ``Block`` has none), fused attention as SDPA ran it, and no KV append (the measured cache is
pre-filled; hwsim/data/calibration/README.md).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from hwsim.errors import SpecError
from hwsim.workload.blocks import build_block, causal_pairs
from hwsim.workload.graph import Workload, graph_from_ops
from hwsim.workload.models import ModelSpec, load_model
from hwsim.workload.ops import DType, Op, OpKind, TensorRole, TensorSpec

KINDS = ("gemm", "attn_prefill", "attn_decode", "block_prefill", "block_decode", "copy", "idle")
BLOCKS = ("llama7b_block",)
GEMM_DTYPES = (DType.BF16, DType.FP16, DType.FP32, DType.TF32, DType.FP8, DType.INT8)
ATTN_DTYPES = (DType.BF16, DType.FP16)
IDLE_DEFAULT_S = 2.0
_OUT = {DType.FP8: DType.BF16, DType.INT8: DType.INT32}
A, W, KV = TensorRole.ACTIVATION, TensorRole.WEIGHT, TensorRole.KV_CACHE


@dataclass(frozen=True)
class Case:
    """One row: what to evaluate. ``workload`` is None for idle rows (``idle_s`` set instead)."""

    kind: str
    name: str
    dtype: str
    shape: str
    workload: Workload | None
    in_module: bool = False
    idle_s: float = 0.0


@lru_cache(maxsize=1)
def llama7b_block() -> ModelSpec:
    """The measured block: Llama-2-7B's layer (d 4096, 32 MHA heads, SwiGLU 11008, RMSNorm), no RoPE."""
    return load_model("llama2_7b", ["rope=false"]).model_copy(update={"name": "llama7b_block"})


def _ints(text: str, sep: str, n: int, where: tuple[str, str], form: str) -> list[int]:
    parts = text.split(sep)
    try:
        vals = [int(p) for p in parts]
    except ValueError:
        vals = []
    if len(vals) != n or any(v <= 0 for v in vals):
        raise SpecError(where[0], f"{where[1]}: shape", f"cannot read {text!r}", allowed=f"{form}, positive integers")
    return vals


def _dtype(text: str, allowed: tuple[DType, ...], where: tuple[str, str], kind: str) -> DType:
    try:
        dt = DType.parse(text)
    except ValueError:
        dt = None
    if dt not in allowed:
        raise SpecError(where[0], f"{where[1]}: dtype", f"{kind} rows cannot use dtype {text!r}",
                        allowed=", ".join(d.value for d in allowed))
    return dt


def single_op_workload(op: Op) -> Workload:
    return Workload(op.name, graph_from_ops([op], []), {"case": op.name})


def gemm_op(m: int, k: int, n: int, dt: DType) -> Op:
    """One ``y[M,N] = x[M,K] @ W[K,N]`` as torch.matmul / _scaled_mm / _int_mm ran it, in a warm loop."""
    out = _OUT.get(dt, dt)
    acc = DType.INT32 if dt == DType.INT8 else DType.FP32
    return Op("gemm", OpKind.GEMM, {"B": 1, "M": m, "K": k, "N": n},
              (TensorSpec("x", (m, k), dt, A), TensorSpec("w", (k, n), dt, W)), (TensorSpec("y", (m, n), out, A),),
              dt, acc, {"warm_l2": True})


def attention_op(b: int, h: int, lq: int, lkv: int, d: int, dt: DType, causal: bool) -> Op:
    """One SDPA call: q ``[B,H,Lq,D]`` against k, v ``[B,H,Lkv,D]`` (a KV cache when ``Lq`` is 1)."""
    role = A if causal else KV
    density = causal_pairs(lq, lkv - lq) / (lq * lkv) if causal else 1.0
    return Op("attention", OpKind.ATTENTION, {"B": b, "H": h, "KVH": h, "Lq": lq, "Lkv": lkv, "D": d},
              (TensorSpec("q", (b, h, lq, d), dt, A), TensorSpec("k", (b, h, lkv, d), dt, role),
               TensorSpec("v", (b, h, lkv, d), dt, role)), (TensorSpec("o", (b, h, lq, d), dt, A),),
              dt, DType.FP32, {"density": density, "causal": causal, "warm_l2": True})


def copy_op(n: int, dt: DType) -> Op:
    return Op("copy", OpKind.COPY, {"elements": n}, (TensorSpec("a", (n,), dt, A),), (TensorSpec("b", (n,), dt, A),),
              dt, DType.FP32, {"fn": "copy", "warm_l2": True})


def _block(kind: str, name: str, dtype: str, shape: str, where: tuple[str, str]) -> Workload:
    if name not in BLOCKS:
        raise SpecError(where[0], f"{where[1]}: name", f"unknown block {name!r}", allowed=", ".join(BLOCKS))
    _dtype(dtype, (DType.BF16,), where, kind)
    letter = "T" if kind == "block_prefill" else "L"
    mt = re.fullmatch(rf"B(\d+)_{letter}(\d+)", shape.strip())
    if not mt or min(int(mt[1]), int(mt[2])) <= 0:
        raise SpecError(where[0], f"{where[1]}: shape", f"cannot read {shape!r}",
                        allowed=f"B<batch>_{letter}<{'tokens' if letter == 'T' else 'kv_len'}>")
    b, n = int(mt[1]), int(mt[2])
    if kind == "block_prefill":
        return build_block(llama7b_block(), "prefill", b, seq=n, fused_attention=True, kv_append=False)
    return build_block(llama7b_block(), "decode", b, kv_len=n, fused_attention=True, kv_append=False)


def parse_case(kind: str, name: str, dtype: str, shape: str, file: str = "<ops>", row: int = 0) -> Case:
    """Read one row; raise SpecError (one line: file, row and field, what is allowed) if it cannot be read."""
    where = (file, f"row {row}")
    kind, name, dtype, shape = (str(x).strip() if x is not None and x == x else "" for x in (kind, name, dtype, shape))
    if kind == "gemm":
        m, k, n = _ints(shape, "x", 3, where, "MxKxN")
        return Case(kind, name, dtype, shape, single_op_workload(gemm_op(m, k, n, _dtype(dtype, GEMM_DTYPES, where, kind))))
    if kind in ("attn_prefill", "attn_decode"):
        b, h, ln, d = _ints(shape, "x", 4, where, "BxHxLxD")
        dt = _dtype(dtype, ATTN_DTYPES, where, kind)
        lq = ln if kind == "attn_prefill" else 1
        return Case(kind, name, dtype, shape, single_op_workload(attention_op(b, h, lq, ln, d, dt, kind == "attn_prefill")))
    if kind == "copy":
        (n,) = _ints(shape, "x", 1, where, "n (elements)")
        return Case(kind, name, dtype, shape, single_op_workload(copy_op(n, _dtype(dtype, tuple(DType), where, kind))))
    if kind in ("block_prefill", "block_decode"):
        return Case(kind, name, dtype, shape, _block(kind, name, dtype, shape, where), in_module=True)
    if kind == "idle":
        try:
            secs = float(shape) if shape else IDLE_DEFAULT_S
        except ValueError:
            secs = -1.0
        if not (secs > 0 and math.isfinite(secs)):
            raise SpecError(where[0], f"{where[1]}: shape", f"cannot read idle duration {shape!r}",
                            allowed="empty (2 s) or seconds > 0")
        return Case(kind, name, dtype, shape, None, idle_s=secs)
    raise SpecError(where[0], f"{where[1]}: kind", f"unknown kind {kind!r}", allowed=", ".join(KINDS))
