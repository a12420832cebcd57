"""Mamba and MobileNetV2 blocks against hand counts."""

import json
import math

import pytest

from hwsim import api
from hwsim.errors import SpecError
from hwsim.workload import build_block, load_model
from hwsim.workload.ops import TensorRole


def test_mamba_130m_parameters():
    """d 768, d_inner 1536, N 16, r 48, k 4 (docstring of workloads/mamba_130m.yaml)."""
    wl = build_block(load_model("mamba_130m"), "prefill", 1, 16)
    assert wl.parameters == (768 * 3072 + 1536 * 4 + 1536 + 1536 * 80 + 48 * 1536 + 1536 + 1536 * 16 + 1536
                             + 1536 * 768 + 768) == 3_771_648
    # x 24 layers + 50280 x 768 embeddings = 129.1 M, the model's 130 M
    assert wl.parameters * 24 + 50280 * 768 == 129_134_592


def test_mamba_2p8b_parameters():
    wl = build_block(load_model("mamba_2.8b"), "decode", 1)
    assert wl.parameters == (2560 * 10240 + 5120 * 5 + 5120 * 192 + 160 * 5120 + 5120 + 5120 * 16 + 5120
                             + 5120 * 2560 + 2560) == 41_244_160


def test_mamba_decode_flops_and_state_bytes():
    """One token: GEMMs 2 x (768 x 3072 + 1536 x 80 + 48 x 1536 + 1536 x 768); conv (2 x 4 + 1) x 1536;
    SiLU 4 x 1536; scan (7 x 16 + 11) x 1536; RMSNorm 4 x 768; residual 768. State read and written:
    SSM 1536 x 16 and conv 1536 x 3 bf16 per sequence; no KV cache."""
    wl = build_block(load_model("mamba_130m"), "decode", 2)
    per_token = (2 * (768 * 3072 + 1536 * 80 + 48 * 1536 + 1536 * 768) + 9 * 1536 + 4 * 1536 + 123 * 1536
                 + 4 * 768 + 768)
    assert wl.flops == 2 * per_token
    scan = wl.op("scan")
    state = [t for t in scan.tensors() if t.role == TensorRole.KV_CACHE]
    assert sum(t.bytes for t in state) == 2 * (2 * 1536 * 16 * 2)            # read + write, 2 sequences
    conv = [t for t in wl.op("conv1d").tensors() if t.role == TensorRole.KV_CACHE]
    assert sum(t.bytes for t in conv) == 2 * (2 * 1536 * 3 * 2)
    assert not any(t.name.startswith(("k_cache", "v_cache")) for op in wl.ops() for t in op.tensors())


def test_mamba_prefill_is_linear_in_length():
    m = load_model("mamba_130m")
    a, b = build_block(m, "prefill", 1, 1024), build_block(m, "prefill", 1, 2048)
    assert b.op("scan").flops == 2 * a.op("scan").flops == 2 * 1024 * 1536 * 123
    assert not any(t.role == TensorRole.KV_CACHE for t in a.op("scan").inputs)   # starts from zero state


def test_mamba_runs_on_two_archs():
    for arch in ("npu_128", "h100"):
        r = api.run(arch, "mamba_2.8b", "decode")
        assert r.latency_s > 0 and r.params["kv_len"] is None


def test_mamba_from_hf_config(tmp_path):
    cfg = {"model_type": "mamba", "hidden_size": 768, "num_hidden_layers": 24, "state_size": 16, "expand": 2,
           "conv_kernel": 4, "time_step_rank": 48, "use_bias": False, "use_conv_bias": True, "vocab_size": 50280,
           "torch_dtype": "float32"}
    p = tmp_path / "mamba" / "config.json"
    p.parent.mkdir()
    p.write_text(json.dumps(cfg))
    m = load_model(p)
    assert m.block.value == "mamba" and m.precision.weights.value == "fp32"
    assert build_block(m, "prefill", 1, 8).parameters == 3_771_648


def test_mobilenetv2_block_hand_count():
    """14 x 14 x 64 -> t 6 -> 384 channels -> 64, stride 1, 3x3 depthwise.
    MACs: expand 196 x 64 x 384, depthwise 196 x 384 x 9, project 196 x 384 x 64.
    Parameters: (64 x 384 + 384) + (384 x 9 + 384) + (384 x 64 + 64) = 53,440."""
    wl = build_block(load_model("mobilenetv2_block"), "prefill", 1)
    assert wl.parameters == 53_440
    assert wl.op("expand").macs == wl.op("project").macs == 196 * 64 * 384
    dw = wl.op("dw")
    assert (dw.dims["B"], dw.dims["M"], dw.dims["K"], dw.dims["N"]) == (384, 196, 9, 1)
    assert dw.macs == 196 * 384 * 9
    assert wl.flops == 2 * (2 * 196 * 64 * 384 + 196 * 384 * 9) + 2 * 2 * 196 * 384 + 196 * 64
    assert "residual" in wl.graph and wl.layers == 3


def test_mobilenetv2_stride2_block():
    """28 x 28 input, stride 2: 14 x 14 output, no residual (shapes differ)."""
    m = load_model("mobilenetv2_block", ["conv.stride=2", "conv.resolution=28", "conv.out_channels=96"])
    wl = build_block(m, "prefill", 2)
    assert wl.op("expand").macs == 2 * 28 * 28 * 64 * 384
    assert wl.op("dw").dims["M"] == 2 * 14 * 14 and wl.op("project").macs == 2 * 196 * 384 * 96
    assert "residual" not in wl.graph
    with pytest.raises(SpecError, match="no decode phase"):
        build_block(m, "decode", 1)


def test_depthwise_maps_poorly_on_a_systolic_array():
    """npu_128 (4 x 128x128 WS, fold pipelining): 384 per-channel GEMMs, one fold each, 96 per array;
    cycles = (196 + 2 x 128 + 128 - 2) + 95 x max(196, 128) - 1 = 19,197: utilisation 677,376 MACs /
    (65,536 PEs x 19,197) = 0.054 %, while the 1x1 expand conv keeps the array far busier."""
    r = api.run("npu_128", "mobilenetv2_block", "prefill", batch=1)
    dw = r.cost("dw")
    assert dw.unit == "mxu" and dw.compute_cycles == 19_197
    assert dw.utilization < 0.0006
    assert r.cost("expand").utilization > 20 * dw.utilization


def test_mobile_npu_runs_mobilenet_int8():
    r = api.run("mobile_npu", "mobilenetv2_block", "prefill", batch=1)
    assert r.latency_s > 0 and math.isfinite(r.energy_total_j)
