"""Every shipped transformer spec against the Hugging Face config.json it cites, and the whole-model parameter
count each implies against the figure the model card / checkpoint publishes.

The configs below are the architecture keys of the published files (huggingface.co/<repo>/blob/main/config.json,
the repo named in each workload YAML's ``source``), copied as written there, including keys hwsim ignores.
"""

import json

import pytest

from hwsim.errors import SpecError
from hwsim.workload.blocks import build_block
from hwsim.workload.models import load_model

HF_CONFIGS = {
    "gpt2": {"activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"], "layer_norm_epsilon": 1e-05,
             "model_type": "gpt2", "n_ctx": 1024, "n_embd": 768, "n_head": 12, "n_layer": 12, "n_positions": 1024,
             "vocab_size": 50257},
    "bert_base": {"architectures": ["BertForMaskedLM"], "hidden_act": "gelu", "hidden_size": 768,
                  "intermediate_size": 3072, "layer_norm_eps": 1e-12, "max_position_embeddings": 512,
                  "model_type": "bert", "num_attention_heads": 12, "num_hidden_layers": 12,
                  "position_embedding_type": "absolute", "type_vocab_size": 2, "vocab_size": 30522},
    "vit_b16": {"architectures": ["ViTForImageClassification"], "hidden_act": "gelu", "hidden_size": 768,
                "image_size": 224, "intermediate_size": 3072, "layer_norm_eps": 1e-12, "model_type": "vit",
                "num_attention_heads": 12, "num_channels": 3, "num_hidden_layers": 12, "patch_size": 16,
                "qkv_bias": True},
    "llama2_7b": {"architectures": ["LlamaForCausalLM"], "hidden_act": "silu", "hidden_size": 4096,
                  "intermediate_size": 11008, "max_position_embeddings": 4096, "model_type": "llama",
                  "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 32,
                  "rms_norm_eps": 1e-05, "tie_word_embeddings": False, "torch_dtype": "float16", "vocab_size": 32000},
    "llama2_70b": {"architectures": ["LlamaForCausalLM"], "hidden_act": "silu", "hidden_size": 8192,
                   "intermediate_size": 28672, "max_position_embeddings": 4096, "model_type": "llama",
                   "num_attention_heads": 64, "num_hidden_layers": 80, "num_key_value_heads": 8,
                   "rms_norm_eps": 1e-05, "tie_word_embeddings": False, "torch_dtype": "float16",
                   "vocab_size": 32000},
    "llama3_8b": {"architectures": ["LlamaForCausalLM"], "attention_bias": False, "hidden_act": "silu",
                  "hidden_size": 4096, "intermediate_size": 14336, "max_position_embeddings": 8192,
                  "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 32,
                  "num_key_value_heads": 8, "rms_norm_eps": 1e-05, "rope_theta": 500000.0,
                  "tie_word_embeddings": False, "torch_dtype": "bfloat16", "vocab_size": 128256},
    "mixtral_8x7b": {"architectures": ["MixtralForCausalLM"], "hidden_act": "silu", "hidden_size": 4096,
                     "intermediate_size": 14336, "max_position_embeddings": 32768, "model_type": "mixtral",
                     "num_attention_heads": 32, "num_experts_per_tok": 2, "num_hidden_layers": 32,
                     "num_key_value_heads": 8, "num_local_experts": 8, "rms_norm_eps": 1e-05, "rope_theta": 1e6,
                     "sliding_window": None, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
                     "vocab_size": 32000},
    "qwen1.5_1.8b": {"architectures": ["Qwen2ForCausalLM"], "hidden_act": "silu", "hidden_size": 2048,
                     "intermediate_size": 5504, "max_position_embeddings": 32768, "model_type": "qwen2",
                     "num_attention_heads": 16, "num_hidden_layers": 24, "num_key_value_heads": 16,
                     "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "tie_word_embeddings": False,
                     "torch_dtype": "bfloat16", "vocab_size": 151936},
}

STRUCTURE = ("block", "layers", "d_model", "heads", "kv_heads", "head_dim", "ffn_dim", "ffn_kind", "norm",
             "norm_position", "bias", "rope", "vocab", "max_positions", "moe", "image_size", "patch_size")


def _write(tmp_path, name, cfg):
    p = tmp_path / name / "config.json"
    p.parent.mkdir(parents=True)
    p.write_text(json.dumps(cfg))
    return p


@pytest.mark.parametrize("name", sorted(HF_CONFIGS))
def test_shipped_yaml_equals_its_hf_config(name, tmp_path):
    """Loading the published config.json by path gives the shipped spec, field by field, and the same block."""
    shipped, hf = load_model(name), load_model(_write(tmp_path, name, HF_CONFIGS[name]))
    for f in STRUCTURE:
        assert getattr(hf, f) == getattr(shipped, f), f
    qkv_bias = lambda m: m.bias if m.qkv_bias is None else m.qkv_bias  # noqa: E731
    assert qkv_bias(hf) == qkv_bias(shipped)
    # the Llama-2 checkpoints are fp16, the shipped specs bf16: the same 2 bytes per element
    assert hf.precision.weights.bits == shipped.precision.weights.bits == 16
    a, b = (build_block(m, "prefill", 1, 32) for m in (shipped, hf))
    assert a.parameters == b.parameters and a.flops == b.flops


# Whole-model count = layers x hwsim's block parameters + what lies outside the blocks (embeddings, final norm,
# untied LM head, pooler), each term written out. Published figures: the checkpoints' parameter counts as
# transformers reports them (GPT2Model, BertModel, ViTModel with pooler, *ForCausalLM).
OUTSIDE_BLOCKS = {
    "gpt2": 50257 * 768 + 1024 * 768 + 2 * 768,                    # wte + wpe + ln_f (LM head tied)
    "bert_base": (30522 + 512 + 2) * 768 + 2 * 768 + 768 * 768 + 768,  # word/pos/type emb + emb LN + pooler
    # patch conv (768 x 3 x 16 x 16 + bias), class token, 197 positions, final LN, pooler
    "vit_b16": 768 * 3 * 16 * 16 + 768 + 768 + 197 * 768 + 2 * 768 + 768 * 768 + 768,
    "llama2_7b": 2 * 32000 * 4096 + 4096,                          # embed + untied lm_head + final RMSNorm
    "llama2_70b": 2 * 32000 * 8192 + 8192,
    "llama3_8b": 2 * 128256 * 4096 + 4096,
    "mixtral_8x7b": 2 * 32000 * 4096 + 4096,
    "qwen1.5_1.8b": 2 * 151936 * 2048 + 2048,
}
PUBLISHED_PARAMETERS = {
    "gpt2": 124_439_808, "bert_base": 109_482_240, "vit_b16": 86_389_248, "llama2_7b": 6_738_415_616,
    "llama2_70b": 68_976_648_192, "llama3_8b": 8_030_261_248, "mixtral_8x7b": 46_702_792_704,
    "qwen1.5_1.8b": 1_836_828_672,
}


@pytest.mark.parametrize("name", sorted(PUBLISHED_PARAMETERS))
def test_whole_model_parameters_match_published(name):
    m = load_model(name)
    block = build_block(m, "prefill", 1, 16).parameters
    assert m.layers * block + OUTSIDE_BLOCKS[name] == PUBLISHED_PARAMETERS[name]


def test_qwen_per_layer_hand_count():
    """Qwen2 layer: q/k/v 2048 x 3*2048 + their biases 3*2048, o 2048^2, SwiGLU 3 x 2048 x 5504, 2 RMSNorms."""
    wl = build_block(load_model("qwen1.5_1.8b"), "decode", 1, kv_len=16)
    assert wl.parameters == 2048 * 6144 + 6144 + 2048 ** 2 + 3 * 2048 * 5504 + 2 * 2048 == 50_604_032


def test_hf_model_folder_and_errors_name_config_keys(tmp_path):
    p = _write(tmp_path, "qwen", HF_CONFIGS["qwen1.5_1.8b"])
    assert load_model(p.parent).qkv_bias is True                   # a downloaded folder works too
    bad = _write(tmp_path, "bad", {**HF_CONFIGS["llama2_7b"], "hidden_size": "big"})
    with pytest.raises(SpecError) as e:
        load_model(bad)
    assert str(e.value).startswith(f"{bad}: hidden_size (hwsim d_model): ") and "'big'" in str(e.value)
    gpt = _write(tmp_path, "gpt", {**HF_CONFIGS["gpt2"], "n_layer": 0})
    with pytest.raises(SpecError, match=r"n_layer \(hwsim layers\): Input should be greater than 0 \(got 0\)"):
        load_model(gpt)
    miss = {k: v for k, v in HF_CONFIGS["llama3_8b"].items() if k != "num_hidden_layers"}
    with pytest.raises(SpecError, match="num_hidden_layers: config.json lacks this field"):
        load_model(_write(tmp_path, "miss", miss))
