"""Model specs: the architecture hyper-parameters of a transformer, from YAML or a Hugging Face config.json.

A :class:`ModelSpec` says *what* a block computes; :func:`hwsim.workload.blocks.build_block` turns it into an
op graph for a phase. Shipped specs live in ``workloads/*.yaml``; each cites the config it was copied from.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any, Iterable

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hwsim.errors import SpecError
from hwsim.specio import apply_overrides, display_path, read_mapping, validate
from hwsim.workload.ops import DType
from hwsim.workload.variant_specs import (AttentionSparsity, ConvBlockSpec, Quantization, SkipSpec, SsmSpec,
                                          WeightSparsity)

WORKLOADS_DIR = Path(__file__).resolve().parents[2] / "workloads"


class BlockType(str, Enum):
    DECODER = "decoder"   # causal self-attention, KV cache (GPT, Llama, Mixtral, Qwen)
    ENCODER = "encoder"   # bidirectional self-attention (BERT, ViT)
    MAMBA = "mamba"       # selective state-space block (needs ``ssm:``), recurrent state instead of a KV cache
    INVERTED_RESIDUAL = "inverted_residual"  # MobileNetV2 block (needs ``conv:``)


class FfnKind(str, Enum):
    SWIGLU = "swiglu"     # down(silu(gate(x)) * up(x))
    GELU_MLP = "gelu_mlp"  # down(gelu(up(x)))
    RELU_MLP = "relu_mlp"


class NormKind(str, Enum):
    RMSNORM = "rmsnorm"
    LAYERNORM = "layernorm"


class NormPosition(str, Enum):
    PRE = "pre"    # x + f(norm(x))      (GPT-2, Llama)
    POST = "post"  # norm(x + f(x))      (BERT)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MoESpec(_Frozen):
    """Mixture of experts replacing the FFN: ``experts`` routed, ``top_k`` per token, plus always-on shared experts."""

    experts: int = Field(gt=0, description="routed experts per layer")
    top_k: int = Field(gt=0, description="experts each token is sent to")
    shared_experts: int = Field(0, ge=0, description="experts every token also goes through")
    expert_ffn_dim: int | None = Field(None, gt=0, description="hidden size of one expert (default: ffn_dim)")

    @model_validator(mode="after")
    def _k_le_e(self) -> "MoESpec":
        if self.top_k > self.experts:
            raise ValueError(f"top_k ({self.top_k}) must be <= experts ({self.experts})")
        return self


class PrecisionSpec(_Frozen):
    """Storage/compute format per tensor class."""

    weights: DType = DType.BF16
    activations: DType = DType.BF16
    kv_cache: DType = DType.BF16
    accumulators: DType = DType.FP32

    @field_validator("*", mode="before")
    @classmethod
    def _lower(cls, v: Any) -> Any:
        return v.lower() if isinstance(v, str) else v


class ModelSpec(_Frozen):
    """Hyper-parameters of one transformer model (all sizes in elements, not bytes)."""

    name: str
    source: str = Field("", description="where these numbers come from (config URL / paper)")
    block: BlockType = BlockType.DECODER
    layers: int = Field(gt=0)
    d_model: int = Field(gt=0)
    heads: int | None = Field(None, gt=0, description="attention heads (transformer blocks)")
    kv_heads: int | None = Field(None, gt=0, description="K/V heads: = heads (MHA), < heads (GQA), 1 (MQA)")
    head_dim: int | None = Field(None, gt=0)
    ffn_dim: int | None = Field(None, gt=0, description="FFN hidden size (transformer blocks)")
    ffn_kind: FfnKind = FfnKind.SWIGLU
    norm: NormKind = NormKind.RMSNORM
    norm_position: NormPosition = NormPosition.PRE
    bias: bool = Field(False, description="linear layers carry biases (GPT-2, BERT, ViT)")
    qkv_bias: bool | None = Field(None, description="the QKV projection carries a bias (default: = bias; Qwen)")
    rope: bool = Field(True, description="rotary position embedding applied to q and k in every block")
    vocab: int = Field(0, ge=0)
    max_positions: int = Field(0, ge=0)
    moe: MoESpec | None = None
    precision: PrecisionSpec = PrecisionSpec()
    # vision encoders: tokens per image = (image/patch)^2 + cls
    image_size: int | None = Field(None, gt=0)
    patch_size: int | None = Field(None, gt=0)
    # efficient-transformer variants (hwsim/workload/variant_specs.py); None leaves the foundation's graph
    attention_sparsity: AttentionSparsity | None = None
    weight_sparsity: WeightSparsity | None = None
    quantization: Quantization | None = None
    skip: SkipSpec | None = None
    # non-transformer blocks
    ssm: SsmSpec | None = Field(None, description="block: mamba")
    conv: ConvBlockSpec | None = Field(None, description="block: inverted_residual (d_model = input channels)")

    @model_validator(mode="after")
    def _fill_and_check(self) -> "ModelSpec":
        needs = {BlockType.MAMBA: "ssm", BlockType.INVERTED_RESIDUAL: "conv"}.get(self.block)
        if needs is not None:
            if getattr(self, needs) is None:
                raise ValueError(f"block {self.block.value} needs the '{needs}:' section")
            if self.attention_sparsity is not None:
                raise ValueError(f"block {self.block.value} has no attention; drop attention_sparsity")
            return self
        if self.heads is None or self.ffn_dim is None:
            raise ValueError(f"block {self.block.value} needs heads and ffn_dim")
        if self.head_dim is None and self.d_model % self.heads:
            raise ValueError(f"d_model {self.d_model} is not divisible by heads {self.heads}; give head_dim")
        kv = self.kv_heads if self.kv_heads is not None else self.heads
        object.__setattr__(self, "kv_heads", kv)
        object.__setattr__(self, "head_dim", self.head_dim or self.d_model // self.heads)
        if self.heads % kv:
            raise ValueError(f"heads ({self.heads}) must be a multiple of kv_heads ({kv})")
        return self

    @property
    def group_size(self) -> int:
        """Query heads per K/V head (1 for MHA)."""
        return self.heads // self.kv_heads  # type: ignore[operator]

    @property
    def image_tokens(self) -> int | None:
        if self.image_size and self.patch_size:
            return (self.image_size // self.patch_size) ** 2 + 1
        return None


def load_model(name_or_path: str | Path, overrides: Iterable[str] = ()) -> ModelSpec:
    """Load a model spec by shipped name (``llama2_7b``), YAML path, or Hugging Face ``config.json`` path.

    ``overrides`` are ``dotted.path=value`` strings (``precision.weights=int8``). Raises SpecError naming the
    file and field, and listing shipped names for an unknown name.
    """
    data, file = read_model_data(name_or_path)
    if overrides:
        data = apply_overrides(data, list(overrides), file)
    try:
        return validate(ModelSpec, data, file)
    except SpecError as e:
        key = _hf_key(e.field, name_or_path) if str(data.get("source", "")).startswith(_HF_SOURCE) else None
        if key is None:
            raise
        raise SpecError(e.file, f"{key} (hwsim {e.field})", e.message, e.allowed) from None


def read_model_data(name_or_path: str | Path) -> tuple[dict[str, Any], str]:
    """The raw fields of a model spec (before validation) and the file label errors should name.

    A sweep reads a model once and re-validates it with each point's overrides.
    """
    p = _model_path(name_or_path)
    if p.suffix in (".yaml", ".yml", ".json") or p.is_file():
        data, file = read_mapping(p), display_path(p)
        if p.suffix == ".json" and "name" not in data:
            data = from_hf_config(data, default_name=p.parent.name or p.stem, file=file)
        return data, file
    shipped = WORKLOADS_DIR / f"{name_or_path}.yaml"
    if not shipped.exists():
        raise SpecError(str(name_or_path), "", "unknown workload", allowed=", ".join(shipped_models()))
    return read_mapping(shipped), display_path(shipped)


def _model_path(name_or_path: str | Path) -> Path:
    p = Path(name_or_path)
    if p.is_dir() and (p / "config.json").is_file():  # a downloaded Hugging Face model folder
        return p / "config.json"
    return p


def shipped_models() -> list[str]:
    return sorted(p.stem for p in WORKLOADS_DIR.glob("*.yaml"))


_HF_SOURCE = "Hugging Face config.json"
# ModelSpec field -> the config.json keys it is read from (first present wins), for error messages
_HF_KEYS = {"d_model": ("hidden_size", "n_embd", "d_model"), "heads": ("num_attention_heads", "n_head"),
            "layers": ("num_hidden_layers", "n_layer"), "kv_heads": ("num_key_value_heads",),
            "ffn_dim": ("intermediate_size", "n_inner"), "head_dim": ("head_dim",), "vocab": ("vocab_size",),
            "max_positions": ("max_position_embeddings", "n_positions"),
            "moe.experts": ("num_local_experts", "num_experts"), "moe.top_k": ("num_experts_per_tok",),
            "moe.shared_experts": ("n_shared_experts",), "moe.expert_ffn_dim": ("moe_intermediate_size",),
            "image_size": ("image_size",), "patch_size": ("patch_size",)}


def _hf_key(field: str, name_or_path: str | Path) -> str | None:
    """The config.json key a ModelSpec field came from (None: not one read from a single key)."""
    keys = _HF_KEYS.get(field)
    if keys is None:
        return None
    cfg = read_mapping(_model_path(name_or_path))
    return next((k for k in keys if k in cfg), keys[0])


_HF_ACT_TO_FFN = {"silu": FfnKind.SWIGLU, "swish": FfnKind.SWIGLU, "gelu": FfnKind.GELU_MLP,
                  "gelu_new": FfnKind.GELU_MLP, "gelu_pytorch_tanh": FfnKind.GELU_MLP, "relu": FfnKind.RELU_MLP}
_HF_DTYPE = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}


def from_hf_config(cfg: dict[str, Any], default_name: str, file: str) -> dict[str, Any]:
    """Map a Hugging Face ``config.json`` (Llama, Mistral, Mixtral, Qwen2, GPT-2, BERT, ViT) to ModelSpec fields."""

    def get(*keys: str, default: Any = None) -> Any:
        for k in keys:
            if k in cfg:
                return cfg[k]
        return default

    mtype = str(cfg.get("model_type", ""))
    if mtype == "mamba":
        return _from_hf_mamba(cfg, default_name, file)
    d = get("hidden_size", "n_embd", "d_model")
    heads = get("num_attention_heads", "n_head")
    layers = get("num_hidden_layers", "n_layer")
    missing = [k for k, v in (("hidden_size", d), ("num_attention_heads", heads), ("num_hidden_layers", layers))
               if v is None]
    if missing:
        raise SpecError(file, missing[0], "config.json lacks this field (GPT-2 names: n_embd, n_head, n_layer)")
    act = str(get("hidden_act", "activation_function", default="silu"))
    ffn_kind = _HF_ACT_TO_FFN.get(act)
    if ffn_kind is None:
        raise SpecError(file, "hidden_act", f"unsupported activation {act!r}", allowed=", ".join(_HF_ACT_TO_FFN))
    encoder = mtype in ("bert", "roberta", "vit", "deit")
    out: dict[str, Any] = {
        "name": str(cfg.get("_name_or_path") or default_name),
        "source": f"{_HF_SOURCE} ({file})",
        "block": "encoder" if encoder else "decoder",
        "layers": layers, "d_model": d, "heads": heads,
        "kv_heads": get("num_key_value_heads", default=heads),
        "ffn_dim": get("intermediate_size", "n_inner", default=None) or 4 * d,
        "ffn_kind": ffn_kind.value,
        "norm": "rmsnorm" if "rms_norm_eps" in cfg else "layernorm",
        "norm_position": "post" if mtype in ("bert", "roberta") else "pre",
        "bias": mtype in ("gpt2", "bert", "roberta", "vit", "deit") or bool(cfg.get("attention_bias", False)),
        # Qwen2 (Qwen1.5, Qwen2, Qwen2.5): q/k/v projections carry biases, o and the MLP do not (its config has
        # no key for it: transformers' Qwen2Attention hard-codes bias=True on q_proj/k_proj/v_proj)
        **({"qkv_bias": True} if mtype in ("qwen2", "qwen2_moe") else {}),
        "rope": "rope_theta" in cfg or mtype in ("llama", "mistral", "mixtral", "qwen2", "qwen2_moe"),
        "vocab": get("vocab_size", default=0) or 0,
        "max_positions": get("max_position_embeddings", "n_positions", default=0) or 0,
    }
    if "head_dim" in cfg and cfg["head_dim"]:
        out["head_dim"] = cfg["head_dim"]
    experts = get("num_local_experts", "num_experts")
    if experts:
        out["moe"] = {"experts": experts, "top_k": get("num_experts_per_tok", default=2),
                      "shared_experts": get("n_shared_experts", default=0) or 0}
        if "moe_intermediate_size" in cfg:
            out["moe"]["expert_ffn_dim"] = cfg["moe_intermediate_size"]
    dt = _HF_DTYPE.get(str(get("torch_dtype", "dtype", default="bfloat16")))
    if dt:
        out["precision"] = {"weights": dt, "activations": dt, "kv_cache": dt}
    if mtype in ("vit", "deit"):
        out["image_size"] = cfg.get("image_size", 224)
        out["patch_size"] = cfg.get("patch_size", 16)
        out["rope"] = False
    return out


def _from_hf_mamba(cfg: dict[str, Any], default_name: str, file: str) -> dict[str, Any]:
    """Hugging Face ``MambaConfig`` (state-spaces/mamba-*-hf) to ModelSpec fields."""
    try:
        d, layers = cfg["hidden_size"], cfg["num_hidden_layers"]
    except KeyError as e:
        raise SpecError(file, str(e.args[0]), "Mamba config.json lacks this field") from None
    expand = cfg.get("expand", 2)
    out: dict[str, Any] = {
        "name": str(cfg.get("_name_or_path") or default_name), "source": f"{_HF_SOURCE} ({file})",
        "block": "mamba", "layers": layers, "d_model": d, "norm": "rmsnorm", "rope": False,
        "vocab": cfg.get("vocab_size", 0) or 0,
        "ssm": {"d_state": cfg.get("state_size", 16), "d_conv": cfg.get("conv_kernel", 4), "expand": expand,
                "conv_bias": bool(cfg.get("use_conv_bias", True)), "bias": bool(cfg.get("use_bias", False))},
    }
    rank = cfg.get("time_step_rank")
    if isinstance(rank, int):
        out["ssm"]["dt_rank"] = rank
    dt = _HF_DTYPE.get(str(cfg.get("torch_dtype", "bfloat16")))
    if dt:
        out["precision"] = {"weights": dt, "activations": dt, "kv_cache": dt}
    return out
