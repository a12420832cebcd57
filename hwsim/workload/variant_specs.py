"""Model-spec sub-models for the efficient-transformer variants and the non-transformer blocks.

Each is an optional field of :class:`~hwsim.workload.models.ModelSpec` (``attention_sparsity:``,
``weight_sparsity:``, ``quantization:``, ``skip:``, ``ssm:``, ``conv:``); left out, the block graph is exactly
the foundation's. The graph passes that apply them live in :mod:`hwsim.workload.passes`; the equations and
their sources are in docs/variants.md.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hwsim.workload.ops import DType


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _dtype(v: Any) -> Any:
    return DType.parse(v) if isinstance(v, str) else v


# ---- attention sparsity -----------------------------------------------------------------------------
class BlockSparseAttention(_Frozen):
    """Block-sparse attention (SeerAttention, XAttention, Quest/LServe page selection): of the
    (query-block x key-block) tiles the mask allows, a fraction ``density`` is computed.

    ``density_by_seq`` maps keys attended to a density (sparser at longer context); between the given lengths
    the density is interpolated linearly in log(length), beyond them it is held at the end values.
    """

    kind: Literal["block"] = "block"
    block_size: int = Field(64, gt=0, description="tile edge in tokens (queries and keys)")
    density: float | None = Field(None, gt=0, le=1, description="kept fraction of the allowed tiles")
    density_by_seq: dict[int, float] | None = Field(None, description="keys attended -> density")

    @model_validator(mode="after")
    def _one_density(self) -> "BlockSparseAttention":
        if (self.density is None) == (self.density_by_seq is None):
            raise ValueError("give exactly one of density and density_by_seq")
        for k, v in (self.density_by_seq or {}).items():
            if k <= 0 or not 0 < v <= 1:
                raise ValueError(f"density_by_seq needs positive lengths and densities in (0, 1], got {k}: {v}")
        return self

    def density_at(self, keys: int) -> float:
        """Density at ``keys`` attended per query.

        >>> round(BlockSparseAttention(density_by_seq={1024: 0.5, 4096: 0.25}).density_at(2048), 12)
        0.375
        """
        if self.density is not None:
            return self.density
        pts = sorted(self.density_by_seq.items())  # type: ignore[union-attr]
        if keys <= pts[0][0]:
            return pts[0][1]
        for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
            if keys <= x1:
                t = (math.log(keys) - math.log(x0)) / (math.log(x1) - math.log(x0))
                return y0 + t * (y1 - y0)
        return pts[-1][1]


class SlidingWindowAttention(_Frozen):
    """Every query attends to the last ``window`` keys, itself included (Mistral 7B's sliding window)."""

    kind: Literal["sliding_window"] = "sliding_window"
    window: int = Field(gt=0, description="keys each query sees, itself included")


class StreamingHeadsAttention(_Frozen):
    """A fraction of the K/V heads are streaming heads that attend only to ``sink`` initial tokens and the last
    ``window`` tokens (StreamingLLM's attention sinks, Xiao et al. ICLR 2024, which keeps 4 sinks); the others
    attend densely. LServe (Yang et al. 2025) converts half of the heads."""

    kind: Literal["streaming"] = "streaming"
    streaming_fraction: float = Field(0.5, ge=0, le=1, description="fraction of K/V heads that stream")
    sink: int = Field(4, ge=0, description="initial tokens every streaming query attends to")
    window: int = Field(gt=0, description="recent tokens (itself included) a streaming query attends to")


AttentionSparsity = Annotated[Union[BlockSparseAttention, SlidingWindowAttention, StreamingHeadsAttention],
                              Field(discriminator="kind")]


# ---- weight sparsity --------------------------------------------------------------------------------
class WeightSparsity(_Frozen):
    """Zeros in the weights of the block's linear layers.

    ``nm``: N of every M consecutive weights along K are non-zero (2:4, Mishra et al. 2021); ``block``:
    ``block_size x block_size`` tiles are all-zero or kept, a fraction ``density`` kept (LPViT); ``unstructured``:
    a fraction ``density`` of individual weights kept. ``layers`` are globs over GEMM op names.
    """

    pattern: Literal["nm", "block", "unstructured"]
    n: int | None = Field(None, gt=0)
    m: int | None = Field(None, gt=0)
    density: float | None = Field(None, gt=0, le=1)
    block_size: int = Field(32, gt=0, description="pattern block: tile edge in weights (32 is a stated default, "
                            "not a published figure; set the pruning's own block shape)")
    layers: tuple[str, ...] = Field(("qkv_proj", "o_proj", "gate_up", "up", "down", "experts_*", "shared_*"),
                                    description="GEMM op names (globs) whose weights are sparse")

    @model_validator(mode="after")
    def _consistent(self) -> "WeightSparsity":
        if self.pattern == "nm":
            if self.n is None or self.m is None or self.n > self.m or self.density is not None:
                raise ValueError("pattern nm needs n <= m (e.g. n: 2, m: 4) and no density")
        elif self.density is None or self.n is not None or self.m is not None:
            raise ValueError(f"pattern {self.pattern} needs density (and no n, m)")
        return self

    @property
    def kept(self) -> float:
        """Fraction of weights stored (non-zero)."""
        return self.n / self.m if self.pattern == "nm" else self.density  # type: ignore[operator,return-value]

    def index_bits(self) -> float:
        """Metadata bits per kept weight of the format: N:M stores a ceil(log2 M)-bit position per kept value
        (2 bits for 2:4, NVIDIA's format, Mishra et al. 2021); block: one 32-bit column index per kept
        block (BSR); unstructured: a 1-bit-per-weight bitmap (SparTen, Gondimalla et al. MICRO 2019)."""
        if self.pattern == "nm":
            return float(math.ceil(math.log2(self.m)))  # type: ignore[arg-type]
        if self.pattern == "block":
            return 32.0 / self.block_size ** 2
        return 1.0 / self.kept


# ---- quantization -----------------------------------------------------------------------------------
class QuantFormat(_Frozen):
    """Storage format of one tensor class: an element format plus, optionally, one ``scale`` per
    ``group_size`` elements (int4 g128 with fp16 scales: 4 + 16/128 = 4.125 bits per weight). MX formats carry
    their own 32-element E8M0 scale and take no group_size."""

    format: DType
    group_size: int | None = Field(None, gt=0, description="elements sharing one scale")
    scale: DType = Field(DType.FP16, description="format of each group scale")

    @field_validator("format", "scale", mode="before")
    @classmethod
    def _parse(cls, v: Any) -> Any:
        return _dtype(v)

    @model_validator(mode="after")
    def _mx_has_no_group(self) -> "QuantFormat":
        if self.format.block_scale and self.group_size is not None:
            raise ValueError(f"{self.format.value} has its own 32-element block scale; drop group_size")
        return self


class AttentionQuant(_Frozen):
    """Compute formats inside attention (SageAttention2, Zhang et al. 2025: Q K^T in INT4, P V in FP8); the
    operands are quantised on the fly with one fp32 scale per ``group_size`` elements."""

    qk: DType
    pv: DType
    group_size: int = Field(64, gt=0, description="elements per on-the-fly scale (per-block/per-warp)")

    @field_validator("qk", "pv", mode="before")
    @classmethod
    def _parse(cls, v: Any) -> Any:
        return _dtype(v)


class Quantization(_Frozen):
    """Formats beyond ``precision:``: weights and activations of the linear layers, the KV cache, attention.

    ``weights``/``kv_cache`` replace ``precision.weights``/``precision.kv_cache`` for the linear layers' weights
    and the cache. ``activations`` is the format the linear layers' inputs are quantised to (W8A8). A GEMM
    computes in the wider of its operands' formats; a narrower operand is dequantised on the fly by a fused
    vector op, a wider one is quantised by a vector op first (docs/variants.md).
    """

    weights: QuantFormat | None = None
    activations: QuantFormat | None = None
    kv_cache: QuantFormat | None = None
    attention: AttentionQuant | None = None


# ---- skipping ---------------------------------------------------------------------------------------
class SkipSpec(_Frozen):
    """Per-token skipping: each token skips the FFN of a layer with probability ``ffn_fraction`` (FFN-SkipLLM,
    Jaiswal et al. 2024: 25-30 %) and a whole layer with probability ``layer_fraction``."""

    ffn_fraction: float = Field(0.0, ge=0, lt=1)
    layer_fraction: float = Field(0.0, ge=0, lt=1)
    phases: tuple[Literal["prefill", "decode"], ...] = Field(("decode",), description="phases that skip")


# ---- non-transformer blocks -------------------------------------------------------------------------
class SsmSpec(_Frozen):
    """Mamba selective-SSM block (Gu & Dao 2023, arXiv:2312.00752, Fig. 3): in_proj to 2 x expand x d_model,
    causal depthwise conv1d of width ``d_conv``, x_proj to (dt_rank + 2 d_state), dt_proj, selective scan with
    ``d_state`` states per channel, SiLU gate, out_proj."""

    d_state: int = Field(16, gt=0)
    d_conv: int = Field(4, gt=0)
    expand: int = Field(2, gt=0)
    dt_rank: int | None = Field(None, gt=0, description="default ceil(d_model / 16) (Mamba's 'auto')")
    conv_bias: bool = True
    bias: bool = False


class ConvBlockSpec(_Frozen):
    """MobileNetV2 inverted residual (Sandler et al. CVPR 2018, Table 1): 1x1 expand to ``expansion x d_model``
    channels + ReLU6, ``kernel x kernel`` depthwise conv (stride ``stride``, same padding) + ReLU6, 1x1 project
    to ``out_channels``; a residual add when stride is 1 and the widths match. BatchNorm is folded into the
    convolutions (inference)."""

    out_channels: int = Field(gt=0)
    expansion: int = Field(6, gt=0)
    kernel: int = Field(3, gt=0)
    stride: int = Field(1, gt=0)
    resolution: int = Field(gt=0, description="input height = width, pixels")
