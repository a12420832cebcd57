"""Skipping FFN blocks and layers per token: expected cost."""

import pytest

from hwsim import api
from hwsim.workload import build_block, load_model
from hwsim.workload.passes.skip import FFN_OPS

FFN = ["ffn_norm", "gate_up", "act", "down", "ffn_residual"]


def test_ffn_skip_decode_batch1_is_three_quarters_of_the_ffn():
    """One token, FFN skipped with probability 0.25: every FFN op costs 0.75 x its dense cost, attention 1x."""
    dense = api.run("npu_128", "llama2_7b", "decode", kv_len=1024)
    skip = api.run("npu_128", "llama2_7b", "decode", kv_len=1024, overrides=["workload.skip={ffn_fraction: 0.25}"])
    for c in skip.costs:
        d = dense.cost(c.op)
        f = 0.75 if c.op in FFN else 1.0
        assert c.latency_s == pytest.approx(f * d.latency_s) and c.flops == pytest.approx(f * d.flops)
        assert c.extra["dram_bytes"] == pytest.approx(f * d.extra["dram_bytes"])
    ffn = sum(dense.cost(n).latency_s for n in FFN)
    assert skip.latency_s == pytest.approx(dense.latency_s - 0.25 * ffn, rel=1e-9)


def test_layer_skip_scales_everything():
    dense = api.run("h100", "llama2_7b", "decode", kv_len=512)
    skip = api.run("h100", "llama2_7b", "decode", kv_len=512, overrides=["workload.skip={layer_fraction: 0.1}"])
    assert skip.latency_s == pytest.approx(0.9 * dense.latency_s)
    assert skip.energy_total_j < dense.energy_total_j


def test_ffn_skip_prefill_rows():
    """512 tokens, f = 0.25: the FFN runs (1 - 0.25^512 = 1) on 384 expected rows."""
    m = load_model("llama2_7b", ["skip={ffn_fraction: 0.25, phases: [prefill]}"])
    wl = build_block(m, "prefill", 1, 512)
    assert wl.op("gate_up").flops == 2 * 384 * 4096 * 22016
    assert wl.op("act").dims["rows"] == 384 and wl.op("ffn_residual").dims["rows"] == 512
    assert wl.op("qkv_proj").dims["M"] == 512
    # default phases: decode only
    assert build_block(load_model("llama2_7b", ["skip={ffn_fraction: 0.25}"]), "prefill", 1, 512
                       ).op("gate_up").dims["M"] == 512


def test_batched_decode_probability():
    """4 tokens: the FFN runs unless all 4 skip: 1 - 0.25^4; rows given it runs: ceil(3 / 0.996) = 4."""
    wl = build_block(load_model("llama2_7b", ["skip={ffn_fraction: 0.25}"]), "decode", 4, kv_len=64)
    assert wl.op("down").attrs["executed_fraction"] == pytest.approx(1 - 0.25 ** 4)
    assert wl.op("down").dims["M"] == 4
    assert "executed_fraction" not in wl.op("o_proj").attrs


def test_moe_ffn_ops_are_ffn():
    assert {"router", "moe_combine"} <= FFN_OPS
    wl = build_block(load_model("mixtral_8x7b", ["skip={ffn_fraction: 0.3}"]), "decode", 1, kv_len=64)
    assert wl.op("experts_gate_up").attrs["executed_fraction"] == pytest.approx(0.7)
