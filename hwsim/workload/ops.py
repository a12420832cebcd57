"""The op vocabulary: a small closed set of op kinds, grouped so engines ask group questions.

An :class:`Op` is a frozen record of *what* is computed (kind, dims, tensors, precision); its flops and
compulsory bytes are derived, never stored. Adding an :class:`OpKind` is a reviewed change: every engine
must either cost it or refuse it (tinygrad's ``Ops``/``GroupOp`` is the model for this module).

FLOP conventions (one multiply-add = 2 flops, as in the H100 calibration file and in LLMCompass):

* ``GEMM``: ``2 * B * M * K * N * density`` (``rows`` replaces ``B*M`` for grouped GEMMs whose groups
  hold unequal row counts, e.g. MoE experts).
* ``ATTENTION`` (fused, FlashAttention-style): ``4 * B * H * Lq * Lkv * D * density`` (QK^T and PV).
* vector ops: ``FLOPS_PER_ELEMENT[fn] * elements`` (table below, each row justified).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Iterable, Mapping


class FrozenDict(dict):
    """A read-only dict that still pickles (ops travel to Dask workers)."""

    def _blocked(self, *a, **k):
        raise TypeError("FrozenDict is read-only")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _blocked  # type: ignore

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items())))

    def __reduce__(self):
        return (FrozenDict, (dict(self),))


class DType(str, Enum):
    """Number formats. ``bits`` is the element width; MX formats add a shared 8-bit scale per 32 elements.

    The MX (microscaling) formats follow the OCP Microscaling Formats (MX) Specification v1.0 (2023): a block of
    32 elements of the element type shares one E8M0 (8-bit power-of-two) scale, so MXFP4 stores
    4 + 8/32 = 4.25 bits per element. Group-wise scales of a chosen size (int4 with one fp16 scale per 128
    weights) are a property of the tensor, not of the format: see :class:`TensorSpec`.
    """

    FP32 = "fp32"
    TF32 = "tf32"
    BF16 = "bf16"
    FP16 = "fp16"
    FP8 = "fp8"  # e4m3
    FP8_E5M2 = "fp8_e5m2"
    INT32 = "int32"
    INT16 = "int16"
    INT8 = "int8"
    INT4 = "int4"
    FP6_E2M3 = "fp6_e2m3"
    FP6_E3M2 = "fp6_e3m2"
    FP4 = "fp4"  # e2m1
    MXFP8 = "mxfp8"  # e4m3 elements
    MXFP8_E5M2 = "mxfp8_e5m2"
    MXFP6 = "mxfp6"  # e2m3 elements
    MXFP6_E3M2 = "mxfp6_e3m2"
    MXFP4 = "mxfp4"  # e2m1 elements
    MXINT8 = "mxint8"

    @property
    def bits(self) -> int:
        """Element width in bits (without a block scale)."""
        return _BITS[self]

    @property
    def block_scale(self) -> tuple[int, int] | None:
        """(elements per block, scale bits) of a block-scaled format, else None."""
        return MX_BLOCK if self in _MX_ELEMENT else None

    @property
    def element(self) -> "DType":
        """The element format (MXFP4 -> FP4; a plain format is its own element)."""
        return _MX_ELEMENT.get(self, self)

    @property
    def storage_bits(self) -> float:
        """Bits stored per element, the shared block scale included (MXFP4: 4.25)."""
        b = self.block_scale
        return _BITS[self] + (b[1] / b[0] if b else 0)

    @property
    def bytes(self) -> float:
        """Storage bytes per element, the shared block scale included."""
        return self.storage_bits / 8

    @property
    def is_float(self) -> bool:
        return self in _FLOATS

    @classmethod
    def parse(cls, text: str) -> "DType":
        """Read a dtype name; raises ValueError listing the allowed names."""
        try:
            return cls(str(text).lower())
        except ValueError:
            raise ValueError(f"unknown precision {text!r}; allowed: {', '.join(d.value for d in cls)}") from None


_BITS = {DType.FP32: 32, DType.TF32: 32, DType.BF16: 16, DType.FP16: 16, DType.FP8: 8, DType.FP8_E5M2: 8,
         DType.INT32: 32, DType.INT16: 16, DType.INT8: 8, DType.INT4: 4, DType.FP6_E2M3: 6, DType.FP6_E3M2: 6,
         DType.FP4: 4, DType.MXFP8: 8, DType.MXFP8_E5M2: 8, DType.MXFP6: 6, DType.MXFP6_E3M2: 6, DType.MXFP4: 4,
         DType.MXINT8: 8}
_FLOATS = {DType.FP32, DType.TF32, DType.BF16, DType.FP16, DType.FP8, DType.FP8_E5M2, DType.FP6_E2M3,
           DType.FP6_E3M2, DType.FP4, DType.MXFP8, DType.MXFP8_E5M2, DType.MXFP6, DType.MXFP6_E3M2, DType.MXFP4}
# OCP MX v1.0 Table 1: every MX format has block size 32 and an E8M0 (8-bit) shared scale.
MX_BLOCK = (32, 8)
_MX_ELEMENT = {DType.MXFP8: DType.FP8, DType.MXFP8_E5M2: DType.FP8_E5M2, DType.MXFP6: DType.FP6_E2M3,
               DType.MXFP6_E3M2: DType.FP6_E3M2, DType.MXFP4: DType.FP4, DType.MXINT8: DType.INT8}


class OpKind(str, Enum):
    GEMM = "gemm"              # y[B,M,N] = x[B,M,K] @ w[B|1,K,N]
    ATTENTION = "attention"    # fused softmax(QK^T)V, FlashAttention-style traffic
    CONV2D = "conv2d"          # lowered to GEMM as SCALE-Sim does (ofmap pixels x window x filters)
    SOFTMAX = "softmax"
    NORM = "norm"              # layernorm / rmsnorm (attrs["fn"])
    ELEMENTWISE = "elementwise"  # add, mul, activation, rope (attrs["fn"])
    TOPK = "topk"              # MoE router selection
    COPY = "copy"              # pure data movement (KV-cache append)


class OpGroup:
    """Group questions engines and mappers ask: ``op.kind in OpGroup.MATMUL_LIKE``."""

    MATMUL_LIKE = frozenset({OpKind.GEMM, OpKind.ATTENTION, OpKind.CONV2D})
    VECTOR = frozenset({OpKind.SOFTMAX, OpKind.NORM, OpKind.ELEMENTWISE, OpKind.TOPK})
    DATA_MOVEMENT = frozenset({OpKind.COPY})
    ALL = MATMUL_LIKE | VECTOR | DATA_MOVEMENT


# Flops per output element of vector ops. Conventions follow LLMCompass (software_model/*.py) counts of
# arithmetic instructions; they only set vector-unit cycles, never the matmul totals the tests check.
FLOPS_PER_ELEMENT: Mapping[str, float] = FrozenDict({
    "add": 1.0,        # residual add
    "mul": 1.0,
    "silu_mul": 5.0,   # x*sigmoid(x) (exp, add, div, mul) then * up
    "gelu": 8.0,       # tanh approximation: ~8 ops
    "relu": 1.0,
    "rope": 3.0,       # x*cos + rot(x)*sin per element
    "rmsnorm": 4.0,    # square, accumulate, scale by rsqrt, multiply by weight
    "layernorm": 7.0,  # mean, sub, square, accumulate, rsqrt-scale, *gamma, +beta
    "softmax": 5.0,    # max, sub, exp, sum, div
    "topk": 2.0,       # compare + select per score (softmax of router logits counted separately)
    "copy": 0.0,
})


class TensorRole(str, Enum):
    """Which class of tensor: sets its precision and where it lives (weights and KV cache off-chip)."""

    WEIGHT = "weight"
    ACTIVATION = "activation"
    KV_CACHE = "kv_cache"


@dataclass(frozen=True)
class TensorSpec:
    """One tensor an op reads or writes: shape, storage dtype and role.

    Optional storage overheads (all default to none, leaving the plain ``elements x bits`` size):
    ``scale_group`` elements share one ``scale_bits`` scale (int4 weights with one fp16 scale per 128:
    ``scale_group=128, scale_bits=16``); ``index_bits`` of sparse-format metadata per stored element
    (2:4 sparsity: a 2-bit position per kept value). MX formats carry their own block scale in the dtype.
    ``on_chip``: an intermediate a fused kernel keeps on chip whatever its size (the score and probability
    blocks of FlashAttention lowered for an array, hwsim/mapping/flash.py); it never moves off-chip.
    """

    name: str
    shape: tuple[int, ...]
    dtype: DType
    role: TensorRole = TensorRole.ACTIVATION
    scale_group: int = 0
    scale_bits: int = 0
    index_bits: float = 0.0
    on_chip: bool = False

    @property
    def elements(self) -> int:
        return math.prod(self.shape)

    @property
    def bytes(self) -> int:
        """Storage bytes, rounded up to whole bytes (int4 packs two per byte), scales and metadata included.

        >>> TensorSpec("w", (4096, 4096), DType.MXFP4).bytes == 4096 * 4096 * 4.25 / 8
        True
        >>> TensorSpec("w", (4096, 4096), DType.INT4, scale_group=128, scale_bits=16).bytes / 4096**2 * 8
        4.125
        """
        n = self.elements
        bits = n * self.dtype.bits if not self.index_bits else n * (self.dtype.bits + self.index_bits)
        block = self.dtype.block_scale
        if block:
            bits += math.ceil(n / block[0]) * block[1]
        if self.scale_group:
            bits += math.ceil(n / self.scale_group) * self.scale_bits
        return math.ceil(bits / 8)

    @property
    def element_bytes(self) -> float:
        """Mean storage bytes per element, scales and metadata included (no rounding): what engines stream."""
        extra = self.scale_bits / self.scale_group if self.scale_group else 0.0
        if not extra and not self.index_bits:
            return self.dtype.bytes
        return (self.dtype.storage_bits + self.index_bits + extra) / 8


def _frozen(d: Mapping[str, Any] | None) -> FrozenDict:
    return d if isinstance(d, FrozenDict) else FrozenDict(d or {})


@dataclass(frozen=True)
class Op:
    """One op of a block's graph.

    Parameters
    ----------
    name : str
        Unique within the block (``qkv_proj``, ``attn_score``...).
    kind : OpKind
    dims : mapping of str to int
        Problem dimensions. GEMM: ``B, M, K, N`` (+ optional ``rows``); ATTENTION: ``B, H, KVH, Lq, Lkv, D``;
        CONV2D: ``B, H, W, C, R, S, F, stride``; vector ops: ``rows, cols``; COPY: ``elements``.
    inputs, outputs : tuple of TensorSpec
        Compulsory traffic: each input read once, each output written once.
    dtype : DType
        Compute precision (the MAC / ALU format).
    acc_dtype : DType
        Accumulator precision of MAC ops.
    attrs : mapping
        ``density`` (useful fraction of the dense work: causal mask x sparsity), ``fn`` for vector ops.
    """

    name: str
    kind: OpKind
    dims: Mapping[str, int]
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    dtype: DType
    acc_dtype: DType = DType.FP32
    attrs: Mapping[str, Any] = field(default_factory=FrozenDict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "dims", _frozen(self.dims))
        object.__setattr__(self, "attrs", _frozen(self.attrs))
        for k, v in self.dims.items():
            if not isinstance(v, (int,)) or v < 0:
                raise ValueError(f"op {self.name}: dim {k} must be a non-negative integer, got {v!r}")

    # ---- derived quantities -------------------------------------------------------------------------
    @property
    def density(self) -> float:
        return float(self.attrs.get("density", 1.0))

    @property
    def macs(self) -> float:
        """Useful multiply-accumulates (0 for vector ops)."""
        d = self.dims
        if self.kind == OpKind.GEMM:
            rows = d["rows"] if "rows" in d else d.get("B", 1) * d["M"]
            return rows * d["K"] * d["N"] * self.density
        if self.kind == OpKind.ATTENTION:
            return 2 * d["B"] * d["H"] * d["Lq"] * d["Lkv"] * d["D"] * self.density
        if self.kind == OpKind.CONV2D:
            m, k, n = conv_as_gemm(d)
            return m * k * n * self.density
        return 0.0

    @property
    def flops(self) -> float:
        """Useful floating-point (or integer) operations; a MAC counts 2."""
        if self.kind in OpGroup.MATMUL_LIKE:
            return 2.0 * self.macs
        per = self.attrs.get("flops_per_element", FLOPS_PER_ELEMENT.get(self.attrs.get("fn", self.kind.value), 1.0))
        return per * self.elements * self.density

    @property
    def elements(self) -> int:
        """Elements the op produces: vector ops count their ``rows x cols`` iteration space (equal to their output
        tensors, except for ops that also write a recurrent state, or a dequantisation fused into a GEMM's
        pipeline, which has no tensors of its own); other ops sum their output tensors."""
        if "rows" in self.dims and "cols" in self.dims:
            return self.dims["rows"] * self.dims["cols"]
        return sum(t.elements for t in self.outputs)

    @property
    def min_bytes(self) -> int:
        """Compulsory traffic: every input read once and every output written once."""
        return sum(t.bytes for t in self.inputs) + sum(t.bytes for t in self.outputs)

    def bytes_by_role(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for t in self.inputs + self.outputs:
            out[t.role.value] = out.get(t.role.value, 0) + t.bytes
        return out

    def tensors(self) -> Iterable[TensorSpec]:
        return self.inputs + self.outputs


def conv_as_gemm(d: Mapping[str, int]) -> tuple[int, int, int]:
    """SCALE-Sim's lowering of a convolution: (ofmap pixels, window size, filters) = (M, K, N).

    Dims: batch ``B``, ifmap ``H x W`` with ``C`` channels, filter ``R x S``, ``F`` filters, ``stride``
    (no padding, as SCALE-Sim's topology files assume).

    >>> conv_as_gemm({"B": 1, "H": 5, "W": 5, "C": 2, "R": 3, "S": 3, "F": 4, "stride": 1})
    (9, 18, 4)
    """
    stride = d.get("stride", 1)
    oh = (d["H"] - d["R"]) // stride + 1
    ow = (d["W"] - d["S"]) // stride + 1
    return d.get("B", 1) * oh * ow, d["R"] * d["S"] * d["C"], d["F"]
