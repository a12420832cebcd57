"""Quantization: stored bytes with group scales, compute formats, dequantisation/quantisation ops."""

import networkx as nx
import pytest

from hwsim import api
from hwsim.errors import SpecError
from hwsim.workload import build_block, load_model
from hwsim.workload.ops import DType, TensorRole

W4 = "quantization={weights: {format: int4, group_size: 128}}"


def weight(op):
    return [t for t in op.inputs if t.role == TensorRole.WEIGHT][0]


def test_w4a16_bytes_compute_and_dequant_op():
    """int4 g128 + fp16 scales: 4096 x 12288 x 4.125 / 8 bytes; the GEMM computes in bf16; a fused dequant op of
    2 flops per weight (zero point, scale) runs beside it: after qkv_proj's input, before its consumers."""
    wl = build_block(load_model("llama2_7b", [W4]), "decode", 1, kv_len=64)
    q = wl.op("qkv_proj")
    assert weight(q).bytes == 4096 * 12288 * 4.125 / 8 and q.dtype == DType.BF16
    dq = wl.op("dequant.qkv_proj.weight")
    assert dq.flops == 2 * 4096 * 12288 and dq.min_bytes == 0 and dq.attrs["for_op"] == "qkv_proj"
    assert set(wl.predecessors("dequant.qkv_proj.weight")) == {"attn_norm"}
    assert {"rope", "kv_append"} <= set(wl.graph.successors("dequant.qkv_proj.weight"))
    assert not nx.has_path(wl.graph, "qkv_proj", "dequant.qkv_proj.weight")   # runs beside, not after
    # norm weights keep precision.weights
    assert weight(wl.op("attn_norm")).dtype == DType.BF16
    assert wl.params["variants"].startswith("quantization=")


def test_w8a8_computes_int8_and_quantises_activations():
    """W8A8 (per-tensor activation scale): int8 GEMMs. A GEMM input written by a vector op read only by that
    GEMM is cast in the producer's epilogue (RMSNorm: 4 + 1 ops per element); the attention output, written by
    a GEMM, gets its own cast op (1 op per element)."""
    wl = build_block(load_model("llama2_7b", ["quantization={weights: {format: int8}, activations: {format: int8}}"]),
                     "prefill", 1, 32)
    for name in ("qkv_proj", "o_proj", "gate_up", "down"):
        assert wl.op(name).dtype == DType.INT8
    h = wl.op("qkv_proj").inputs[0]
    assert h.name == "h_attn" and h.dtype == DType.INT8 and h.bytes == 32 * 4096
    assert wl.op("attn_norm").outputs[0] == h and wl.op("attn_norm").flops == (4 + 1) * 32 * 4096
    assert wl.op("quant.attn_out").flops == 32 * 4096 and wl.op("o_proj").inputs[0].name == "attn_out.q"
    assert "quant.h_attn" not in wl.graph and "quant.act_out" not in wl.graph
    assert not any(n.startswith("dequant.") for n in wl.graph)
    assert wl.op("attn_score").dtype == DType.BF16                    # attention stays in bf16


def test_mx_formats_end_to_end():
    """MXFP4 weights and activations compute in MXFP4; activation quantisation carries the MX block scale."""
    m = load_model("llama2_7b", ["quantization={weights: {format: mxfp4}, activations: {format: mxfp4}}"])
    wl = build_block(m, "prefill", 1, 64)
    g = wl.op("gate_up")
    assert g.dtype == DType.MXFP4 and weight(g).bytes == 4096 * 22016 * 4.25 / 8
    assert g.inputs[0].bytes == 64 * 4096 * 4.25 / 8
    r = api.evaluate(wl, api.load_arch("npu_128", ["units.mxu.precisions=[bf16, mxfp4]"]))
    assert r.cost("gate_up").actions == {"mac.mxfp4.fp32": 64 * 4096 * 22016}
    with pytest.raises(SpecError, match="own 32-element block scale"):
        load_model("llama2_7b", ["quantization={weights: {format: mxfp4, group_size: 32}}"])


def test_kv_cache_quantization():
    """int4 KV with fp16 scales per 64: cache bytes x 4.25/16 of bf16; attention dequantises it on the fly; the
    append quantises (3 ops per element)."""
    wl = build_block(load_model("llama2_7b", ["quantization={kv_cache: {format: int4, group_size: 64}}"]),
                     "decode", 2, kv_len=1024)
    k = [t for t in wl.op("attn_score").inputs if t.role == TensorRole.KV_CACHE][0]
    assert k.bytes == 2 * 32 * 1024 * 128 * 4.25 / 8
    assert wl.op("attn_score").dtype == DType.BF16
    assert wl.op("dequant.k_cache").flops == 2 * 2 * 32 * 1024 * 128
    assert wl.op("kv_append").flops == 3 * 2 * 2 * 32 * 128


def test_sageattention2_formats():
    """SageAttention2: Q K^T in int4, P V in fp8, operands with fp32 scales per 64. q (read only by QK^T) and P
    are quantised by their producers (RoPE, softmax); k (also appended to the cache) and v (a GEMM output) by
    quantisation ops."""
    m = load_model("llama2_7b", ["quantization={attention: {qk: int4, pv: fp8}}"])
    wl = build_block(m, "prefill", 1, 256)
    assert wl.op("attn_score").dtype == DType.INT4 and wl.op("attn_context").dtype == DType.FP8
    qq = wl.op("rope").outputs[0]
    assert qq.name == "q_rot" and qq.dtype == DType.INT4 and qq.bytes == 256 * 4096 * (4 + 32 / 64) / 8
    assert wl.op("rope").flops == 3 * 256 * 8192 + 3 * 256 * 4096           # RoPE + quantising q
    assert wl.op("softmax").outputs[0].dtype == DType.FP8
    assert {"quant.k_rot", "quant.v"} <= set(wl.graph) and "quant.q_rot" not in wl.graph
    f = build_block(m, "prefill", 1, 256, fused_attention=True)
    assert f.op("attention").dtype == DType.FP8                        # one format: the wider of the two
    arch = api.load_arch("npu_128", ["units.mxu.precisions=[bf16, int8, int4, fp8]"])
    base = api.evaluate(build_block(load_model("llama2_7b"), "prefill", 1, 256), arch)
    sage = api.evaluate(wl, arch)
    assert sage.cost("attn_score").energy_total_j < base.cost("attn_score").energy_total_j


def test_w4a16_decode_faster_on_a_gpu():
    base = api.run("h100", "llama2_7b", "decode", kv_len=1024)
    w4 = api.run("h100", "llama2_7b", "decode", kv_len=1024, overrides=[f"workload.{W4}"])
    assert w4.latency_s < 0.6 * base.latency_s
    assert w4.cost("gate_up").extra["dram_bytes"] == pytest.approx(4096 * 22016 * 4.125 / 8 + 2 * 4096 + 2 * 22016)


def test_quantization_and_sparsity_compose():
    """2:4 then int4 g128: the kept weights are stored in int4 with their index bits and scales."""
    m = load_model("llama2_7b", ["weight_sparsity={pattern: nm, n: 2, m: 4}", W4])
    q = build_block(m, "decode", 1, kv_len=64).op("qkv_proj")
    assert weight(q).bytes == 2048 * 12288 * (4 + 2 + 16 / 128) / 8
    assert weight(q.attrs["dense_op"]).bytes == 4096 * 12288 * 4.125 / 8


def test_kv_dequant_runs_beside_decode_attention():
    """The int4 cache is dequantised in-kernel beside the GEMM that reads it. Decode attention reads the cache
    after kv_append writes the new token, so the dequantisation waits for kv_append too: on npu_128 it starts
    with attn_score (vpu beside mxu) instead of holding the vpu before kv_append and delaying attention by its
    65.5 us (8192 x 4096 elements x 2 ops at the vpu's 1,024 flops per cycle, 1 GHz). The block becomes faster
    than bf16: the attention GEMVs read 4.25/16 of the bytes and are bound by the arrays (65.8 us) instead of HBM
    (82.1 us); the quantising kv_append (3 ops per element) adds 4 ns."""
    m = load_model("llama2_7b", ["quantization={kv_cache: {format: int4, group_size: 64}}"])
    wl = build_block(m, "decode", 1, kv_len=8192)
    assert set(wl.predecessors("dequant.k_cache")) == {"rope", "kv_append"}
    r = api.run("npu_128", "llama2_7b", "decode", kv_len=8192,
                overrides=["workload.quantization={kv_cache: {format: int4, group_size: 64}}"])
    at = {s.op: s for s in r.schedule}
    assert at["dequant.k_cache"].start_s == at["attn_score"].start_s == at["kv_append"].end_s
    assert at["dequant.k_cache"].end_s - at["dequant.k_cache"].start_s == pytest.approx(8192 * 4096 * 2 / 1024e9)
    assert at["dequant.v_cache"].start_s == at["attn_context"].start_s
    dense = api.run("npu_128", "llama2_7b", "decode", kv_len=8192)
    saved = sum(dense.cost(n).latency_s - r.cost(n).latency_s for n in ("attn_score", "attn_context", "kv_append"))
    assert r.latency_s == pytest.approx(dense.latency_s - saved, rel=1e-6)


def test_quantized_kv_cache_shrinks_fused_gpu_attention_traffic():
    """The calibrated GPU's fused decode attention streams the cache as stored: int4 with an fp16 scale per 64
    is 4.25 bits per element, so K + V of 32 heads x 4096 keys x 128 read 2 x 32 x 4096 x 128 x 4.25 / 8 bytes
    (+ q and o, 2 x 4096 x 2 B) instead of the bf16 67.1 MB; attention time falls with it."""
    q = ["workload.quantization={kv_cache: {format: int4, group_size: 64}}"]
    dense = api.run("h100", "llama2_7b", "decode", kv_len=4096, fused_attention=True)
    kv4 = api.run("h100", "llama2_7b", "decode", kv_len=4096, fused_attention=True, overrides=q)
    assert dense.cost("attention").extra["dram_bytes"] == 2 * 32 * 4096 * 128 * 2 + 16384
    assert kv4.cost("attention").extra["dram_bytes"] == 2 * 32 * 4096 * 128 * 4.25 / 8 + 16384
    assert kv4.cost("attention").latency_s < 0.5 * dense.cost("attention").latency_s
    assert kv4.latency_s < dense.latency_s
