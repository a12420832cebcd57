"""Attention sparsity: kept pairs, flops and K/V bytes against hand counts; units without support run dense."""

import math

import pytest
from hypothesis import given, settings, strategies as st

from hwsim import api
from hwsim.arch.loader import load_arch
from hwsim.errors import SpecError
from hwsim.workload import build_block, load_model
from hwsim.workload.blocks import causal_pairs
from hwsim.workload.ops import TensorRole
from hwsim.workload.passes.attention_sparsity import window_pairs

BLOCK = "attention_sparsity={kind: block, density: 0.25, block_size: 64}"
SUPPORT = ["units.mxu.sparsity.attention_block=true", "units.vpu.sparsity.attention_block=true"]


def kv_bytes(op):
    return sum(t.bytes for t in op.inputs if t.role == TensorRole.KV_CACHE)


def test_block_sparse_decode_reads_kept_blocks():
    """kv 2048, density 0.25, blocks of 64: ceil(0.25 x 2048 / 64) x 64 = 512 keys per query.
    QK^T flops 2 x 32 heads x 512 x 128; K cache 32 x 512 x 128 x 2 B."""
    wl = build_block(load_model("llama2_7b", [BLOCK]), "decode", 1, kv_len=2048)
    s, c = wl.op("attn_score"), wl.op("attn_context")
    assert s.dims["N"] == 512 and c.dims["K"] == 512 and wl.op("softmax").dims["cols"] == 512
    assert s.flops == c.flops == 2 * 32 * 512 * 128
    assert kv_bytes(s) == kv_bytes(c) == 32 * 512 * 128 * 2
    assert s.attrs["dense_op"].dims["N"] == 2048 and kv_bytes(s.attrs["dense_op"]) == 32 * 2048 * 128 * 2


def test_block_sparse_decode_rounds_to_whole_blocks():
    """kv 1000, density 0.3, blocks of 64: ceil(300 / 64) = 5 blocks = 320 keys."""
    wl = build_block(load_model("llama2_7b", ["attention_sparsity={kind: block, density: 0.3}"]), "decode", 1,
                     kv_len=1000)
    assert wl.op("attn_score").dims["N"] == 320


def test_block_sparse_prefill_scales_causal_pairs():
    """Prefill 512 tokens: 0.25 x 512 x 513 / 2 pairs per head; fused and unfused agree."""
    m = load_model("llama2_7b", [BLOCK])
    u, f = build_block(m, "prefill", 2, 512), build_block(m, "prefill", 2, 512, fused_attention=True)
    pairs = 0.25 * causal_pairs(512, 0)
    assert u.op("attn_score").flops == pytest.approx(2 * 2 * 32 * pairs * 128)
    assert f.op("attention").flops == pytest.approx(u.op("attn_score").flops + u.op("attn_context").flops)
    assert u.op("attn_score").dims["N"] == -(-int(pairs) // 512)   # ceil(pairs / Lq) keys per query
    # prefill K/V come from this step's projection and are read once: their bytes do not shrink
    dense = build_block(load_model("llama2_7b"), "prefill", 2, 512)
    assert u.op("attn_score").inputs == dense.op("attn_score").inputs


def test_sliding_window_prefill_hand_count():
    """8 queries, window 3: 1 + 2 + 3 x 6 = 21 pairs per head; 3 keys per query, density 21/24."""
    wl = build_block(load_model("llama2_7b", ["attention_sparsity={kind: sliding_window, window: 3}"]),
                     "prefill", 1, 8)
    s = wl.op("attn_score")
    assert s.flops == 2 * 32 * 21 * 128
    assert s.dims["N"] == 3 and s.attrs["density"] == pytest.approx(21 / 24)


def test_streaming_heads_decode_hand_count():
    """Half of 32 K/V heads stream (4 sinks + 1020 recent = 1024 keys), half read all 4096: mean 2560 keys;
    a contiguous range, so every unit reads it (no dense fallback)."""
    m = load_model("llama2_7b", ["attention_sparsity={kind: streaming, window: 1020}"])
    s = build_block(m, "decode", 2, kv_len=4096).op("attn_score")
    assert s.dims["N"] == 2560 and kv_bytes(s) == 2 * 32 * 2560 * 128 * 2
    assert "dense_op" not in s.attrs


def test_density_by_seq_interpolates_in_log_length():
    m = load_model("llama2_7b", ["attention_sparsity={kind: block, density_by_seq: {1024: 0.5, 4096: 0.25}}"])
    assert build_block(m, "decode", 1, kv_len=2048).op("attn_score").dims["N"] == 768   # 0.375 x 2048
    assert build_block(m, "decode", 1, kv_len=16384).op("attn_score").dims["N"] == 4096  # held at 0.25


@given(lq=st.integers(1, 40), past=st.integers(0, 40), cap=st.integers(1, 60))
def test_window_pairs_equals_brute_force(lq, past, cap):
    assert window_pairs(lq, past, cap) == sum(min(p + 1, cap) for p in range(past, past + lq))


def test_units_without_support_pay_dense_work():
    """npu_128 skips nothing by default: same latency as the dense block. With tile skipping on both units
    it is faster, and the attention ops' DRAM traffic is the kept cache."""
    dense = api.run("npu_128", "llama2_7b", "decode", kv_len=4096)
    nohw = api.run("npu_128", "llama2_7b", "decode", kv_len=4096, overrides=[f"workload.{BLOCK}"])
    hw = api.run("npu_128", "llama2_7b", "decode", kv_len=4096, overrides=[f"workload.{BLOCK}"] + SUPPORT)
    assert nohw.latency_s == dense.latency_s and nohw.energy_total_j == pytest.approx(dense.energy_total_j)
    assert "runs dense" in nohw.cost("attn_score").notes[-1]
    assert hw.latency_s < dense.latency_s
    assert hw.cost("attn_score").extra["dram_bytes"] >= 32 * 1024 * 128 * 2   # 1024 kept keys of K
    assert hw.cost("attn_score").extra["dram_bytes"] < dense.cost("attn_score").extra["dram_bytes"] / 3.9
    assert hw.cost("attn_score").flops == nohw.cost("attn_score").flops       # useful flops either way


def test_sparsity_field_parses_on_units():
    a = load_arch("npu_128", ["units.mxu.sparsity.weight_nm=[[2,4]]", "units.mxu.sparsity.metadata_bits=3"])
    assert a.units["mxu"].sparsity.skips_weights("nm", 2, 4) and not a.units["mxu"].sparsity.skips_weights("nm", 1, 4)
    assert not a.units["vpu"].sparsity.attention_block


def test_bad_specs_are_one_line_errors():
    with pytest.raises(SpecError, match="exactly one of density"):
        load_model("llama2_7b", ["attention_sparsity={kind: block}"])
    with pytest.raises(SpecError, match=r"attention_sparsity.kind: not an allowed value \(got 'diagonal'\) "
                                        r"\(allowed: 'block', 'sliding_window', 'streaming'\)"):
        load_model("llama2_7b", ["attention_sparsity={kind: diagonal}"])
    with pytest.raises(SpecError, match="attention_sparsity.kind: missing required field"):
        load_model("llama2_7b", ["attention_sparsity={density: 0.5}"])
    with pytest.raises(SpecError, match="no attention"):
        load_model("mamba_130m", ["attention_sparsity={kind: sliding_window, window: 8}"])


@settings(max_examples=15, deadline=None)
@given(d=st.floats(0.05, 1.0), kv=st.integers(64, 8192), b=st.sampled_from([16, 64, 128]))
def test_sparser_is_never_slower_on_a_capable_unit(d, kv, b):
    """Kept keys follow min(L, ceil(dL/b) b); with tile skipping, latency never exceeds the dense block's."""
    ov = [f"workload.attention_sparsity={{kind: block, density: {d}, block_size: {b}}}"]
    sp = api.run("npu_128", "gpt2", "decode", kv_len=kv, overrides=ov + SUPPORT)
    dense = api.run("npu_128", "gpt2", "decode", kv_len=kv)
    keys = min(kv, math.ceil(d * kv / b) * b)
    assert sp.cost("attn_score").flops == 2 * 12 * keys * 64 <= dense.cost("attn_score").flops
    assert sp.latency_s <= dense.latency_s * (1 + 1e-12)
    assert sp.params["variants"] != dense.params.get("variants") and sp.inputs_hash != dense.inputs_hash


def test_variant_label_names_the_attention_kind():
    """The run header and the sweep's variants column say which sparsity it is, also for the default kind."""
    wl = build_block(load_model("llama2_7b", [BLOCK]), "decode", 1, kv_len=256)
    assert wl.params["variants"] == 'attention_sparsity={"kind":"block","density":0.25}'
    wl = build_block(load_model("llama2_7b", ["attention_sparsity={kind: sliding_window, window: 8}"]), "decode", 1)
    assert wl.params["variants"] == 'attention_sparsity={"kind":"sliding_window","window":8}'
