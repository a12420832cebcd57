"""Workload graphs checked against hand counts."""

import math

import networkx as nx
import pytest

from hwsim.errors import SpecError
from hwsim.workload.blocks import build_block, causal_pairs, expected_active_experts
from hwsim.workload.models import load_model, shipped_models
from hwsim.workload.ops import DType, OpKind, TensorRole


def test_llama2_7b_layer_parameters(llama7b):
    """4*4096^2 (q,k,v,o) + 3*4096*11008 (gate, up, down) + 2*4096 (two RMSNorm weights)."""
    wl = build_block(llama7b, "prefill", 1, 512)
    assert wl.parameters == 4 * 4096**2 + 3 * 4096 * 11008 + 2 * 4096 == 202_383_360


def test_llama2_7b_prefill_gemm_flops(llama7b):
    wl = build_block(llama7b, "prefill", 1, 512)
    assert wl.op("qkv_proj").flops == 2 * 512 * 4096 * 12288
    assert wl.op("o_proj").flops == 2 * 512 * 4096 * 4096
    assert wl.op("gate_up").flops == 2 * 512 * 4096 * 22016
    assert wl.op("down").flops == 2 * 512 * 11008 * 4096
    # causal: query i (0-based) sees i+1 keys -> 512*513/2 pairs per head, 2*D flops per pair per GEMM
    pairs = 512 * 513 // 2
    assert wl.op("attn_score").flops == pytest.approx(2 * 32 * pairs * 128)
    assert wl.op("attn_context").flops == pytest.approx(2 * 32 * pairs * 128)


def test_gpt2_layer_parameters():
    """GPT-2 small: c_attn 768x2304+2304, c_proj 768^2+768, c_fc 768x3072+3072, c_proj 3072x768+768, 2 LN x 2x768."""
    wl = build_block(load_model("gpt2"), "prefill", 1, 64)
    expected = 768 * 2304 + 2304 + 768 * 768 + 768 + 768 * 3072 + 3072 + 3072 * 768 + 768 + 4 * 768
    assert wl.parameters == expected == 7_087_872
    assert "rope" not in wl.graph


def test_decode_kv_traffic_and_append(llama7b):
    """Decode reads the whole cache (kv_len entries of K and V) and appends one entry per sequence."""
    wl = build_block(llama7b, "decode", batch=4, kv_len=1000)
    score, ctx, app = wl.op("attn_score"), wl.op("attn_context"), wl.op("kv_append")
    kv_read = sum(t.bytes for op in (score, ctx) for t in op.inputs if t.role == TensorRole.KV_CACHE)
    assert kv_read == 2 * 4 * 32 * 1000 * 128 * 2
    assert sum(t.bytes for t in app.outputs) == 2 * 4 * 32 * 1 * 128 * 2
    assert nx.has_path(wl.graph, "kv_append", "attn_score")
    assert score.dims["M"] == 1 and score.dims["N"] == 1000


def test_gqa_batches_over_kv_heads():
    """Llama-2-70B: 64 query heads over 8 KV heads -> 8 query rows per KV head, K/V read once per KV head."""
    m = load_model("llama2_70b")
    wl = build_block(m, "decode", batch=2, kv_len=512)
    s = wl.op("attn_score")
    assert (s.dims["B"], s.dims["M"], s.dims["K"], s.dims["N"]) == (2 * 8, 8, 128, 512)
    assert wl.op("qkv_proj").dims["N"] == (64 + 2 * 8) * 128
    assert s.flops == 2 * 2 * 64 * 512 * 128


def test_mixtral_moe_expected_experts():
    m = load_model("mixtral_8x7b")
    dec = build_block(m, "decode", batch=1, kv_len=128)
    gu = dec.op("experts_gate_up")
    assert gu.dims["B"] == 2 and gu.dims["rows"] == 2           # one token -> exactly its 2 experts
    assert gu.flops == 2 * 2 * 4096 * 2 * 14336
    pre = build_block(m, "prefill", batch=1, seq=512)
    assert pre.op("experts_gate_up").dims["B"] == 8               # 512 tokens hit all 8 experts
    assert pre.op("experts_gate_up").dims["M"] == 512 * 2 // 8
    assert expected_active_experts(4, 8, 2) == pytest.approx(8 * (1 - 0.75**4))
    # 4 sequences decoding: 8 (1 - 0.75^4) = 5.47 -> 6 experts' weights read, the 8 routed rows split over them
    b4 = build_block(m, "decode", batch=4, kv_len=128)
    assert (b4.op("experts_gate_up").dims["B"], b4.op("experts_gate_up").dims["M"]) == (6, 2)
    assert b4.op("experts_gate_up").flops == 2 * 8 * 4096 * 2 * 14336            # useful rows, not B x M = 12
    attn = 4096 * (4096 + 2 * 1024) + 4096 * 4096
    assert b4.parameters == attn + 4096 * 8 + 6 * 3 * 4096 * 14336 + 2 * 4096 == 1_098_948_608
    assert pre.parameters == attn + 4096 * 8 + 8 * 3 * 4096 * 14336 + 2 * 4096 == 1_451_270_144


def test_bert_post_norm_and_vit_tokens():
    b = build_block(load_model("bert_base"), "prefill", 2, 128)
    assert "attn_post_norm" in b.graph and "ffn_post_norm" in b.graph and "attn_norm" not in b.graph
    assert b.op("attn_score").attrs["density"] == 1.0             # bidirectional
    v = build_block(load_model("vit_b16"), "prefill", 1)
    assert v.params["seq"] == 197
    with pytest.raises(SpecError, match="no decode phase"):
        build_block(load_model("bert_base"), "decode", 1, kv_len=16)


def test_chunked_prefill_pairs(llama7b):
    wl = build_block(llama7b, "prefill", 1, 256, past_len=768)
    s = wl.op("attn_score")
    assert s.dims["N"] == 1024
    assert s.flops == pytest.approx(2 * 32 * causal_pairs(256, 768) * 128)
    assert any(t.name == "k_cache_past" for t in s.inputs)


def test_fused_attention_flops_match_unfused(llama7b):
    f = build_block(llama7b, "prefill", 2, 256, fused_attention=True)
    u = build_block(llama7b, "prefill", 2, 256)
    assert f.op("attention").flops == pytest.approx(u.op("attn_score").flops + u.op("attn_context").flops)
    assert f.op("attention").kind == OpKind.ATTENTION


def test_precision_per_tensor_class():
    m = load_model("llama2_7b", ["precision.weights=int4", "precision.kv_cache=int8"])
    wl = build_block(m, "decode", 1, kv_len=64)
    w = [t for t in wl.op("qkv_proj").inputs if t.role == TensorRole.WEIGHT][0]
    assert w.dtype == DType.INT4 and w.bytes == 4096 * 12288 // 2
    assert wl.op("qkv_proj").dtype == DType.BF16                 # W4A16 computes in bf16
    kv = [t for t in wl.op("attn_score").inputs if t.role == TensorRole.KV_CACHE][0]
    assert kv.dtype == DType.INT8


@pytest.mark.parametrize("name", shipped_models())
def test_every_shipped_model_builds_a_dag(name):
    m = load_model(name)
    for phase in (["prefill", "decode"] if m.block.value == "decoder" else ["prefill"]):
        wl = build_block(m, phase, 2, 64 if phase == "prefill" else None, 128 if phase == "decode" else None)
        assert nx.is_directed_acyclic_graph(wl.graph)
        assert wl.flops > 0 and all(op.min_bytes > 0 for op in wl.ops())
        assert wl.layers == m.layers


def test_hf_config_json(tmp_path):
    cfg = {"model_type": "llama", "hidden_size": 2048, "num_attention_heads": 16, "num_key_value_heads": 4,
           "num_hidden_layers": 22, "intermediate_size": 5632, "hidden_act": "silu", "rms_norm_eps": 1e-5,
           "vocab_size": 32000, "max_position_embeddings": 2048, "torch_dtype": "bfloat16"}
    p = tmp_path / "tinyllama" / "config.json"
    p.parent.mkdir()
    import json
    p.write_text(json.dumps(cfg))
    m = load_model(p)
    assert (m.kv_heads, m.head_dim, m.ffn_kind.value, m.norm.value, m.layers) == (4, 128, "swiglu", "rmsnorm", 22)
    wl = build_block(m, "prefill", 1, 16)
    assert wl.parameters == 2048 * (2048 + 2 * 512) + 2048 * 2048 + 3 * 2048 * 5632 + 2 * 2048


def test_causal_pairs_formula():
    for lq in range(1, 9):
        for past in range(0, 5):
            brute = sum(past + i + 1 for i in range(lq))
            assert causal_pairs(lq, past) == brute
    assert math.isclose(expected_active_experts(10**6, 8, 2), 8)
