"""Number formats: storage bits with block/group scales and sparse metadata; MAC energy/area by format."""

import math

import pytest

from hwsim.ppa.tech import mac_energy, pe_area_mm2
from hwsim.workload import build_block, load_model
from hwsim.workload.ops import DType, TensorRole, TensorSpec

N = 4096 * 4096


@pytest.mark.parametrize("fmt, bits", [(DType.MXFP8, 8.25), (DType.MXFP8_E5M2, 8.25), (DType.MXFP6, 6.25),
                                       (DType.MXFP6_E3M2, 6.25), (DType.MXFP4, 4.25), (DType.MXINT8, 8.25)])
def test_mx_formats_store_a_shared_8bit_scale_per_32(fmt, bits):
    """OCP MX v1.0: element bits + 8-bit E8M0 scale / 32 elements."""
    t = TensorSpec("w", (4096, 4096), fmt)
    assert t.bytes == N * bits / 8
    assert t.element_bytes == bits / 8 == fmt.bytes
    assert fmt.block_scale == (32, 8)


def test_group_scales_and_index_bits():
    """int4 + fp16 scale per 128 = 4.125 bits; int8 + fp16 per 64 = 8.25; 2:4 bf16 with 2-bit index = 18 bits/kept."""
    assert TensorSpec("w", (4096, 4096), DType.INT4, scale_group=128, scale_bits=16).bytes == N * 4.125 / 8
    assert TensorSpec("w", (4096, 4096), DType.INT8, scale_group=64, scale_bits=16).bytes == N * 8.25 / 8
    t = TensorSpec("w", (2048, 4096), DType.BF16, index_bits=2.0)
    assert t.bytes == 2048 * 4096 * 18 / 8 and t.element_bytes == 18 / 8
    # a ragged last group still stores its scale: 130 int4 + 2 fp16 scales = 65 + 4 bytes
    assert TensorSpec("w", (130,), DType.INT4, scale_group=128, scale_bits=16).bytes == 69


def test_plain_formats_unchanged():
    """No overheads: the foundation's ceil(elements x bits / 8) (int4 packs two per byte)."""
    assert TensorSpec("w", (3, 5), DType.INT4).bytes == 8
    assert TensorSpec("w", (7,), DType.BF16).bytes == 14
    assert DType.INT4.bytes == 0.5 and DType.FP4.bits == 4 and DType.FP6_E2M3.bits == 6


def test_mac_energy_and_area_follow_the_format():
    """Narrower multipliers cost less (width-/significand-squared rule of tech.py); an MX MAC adds INT8 add / 32
    for the shared scales: 0.03 pJ / 32 at 45 nm (Horowitz)."""
    e = {d: mac_energy(d, DType.FP32 if d.is_float else DType.INT32).value
         for d in (DType.BF16, DType.FP8, DType.FP6_E2M3, DType.FP4, DType.MXFP4, DType.INT8, DType.INT4, DType.MXINT8)}
    assert e[DType.FP4] < e[DType.FP8] < e[DType.BF16]
    assert e[DType.INT4] < e[DType.INT8]
    assert e[DType.MXFP4] - e[DType.FP4] == pytest.approx(0.03e-12 / 32)
    assert e[DType.MXINT8] - e[DType.INT8] == pytest.approx(0.03e-12 / 32)
    assert pe_area_mm2(DType.FP4, DType.FP32).value < pe_area_mm2(DType.BF16, DType.FP32).value
    assert "INT8 add / 32" in mac_energy(DType.MXFP8, DType.FP32).source


def test_foundation_precision_graphs_have_no_conversion_ops():
    """precision: alone keeps the foundation's graph (no dequantisation ops, no scales)."""
    wl = build_block(load_model("llama2_7b", ["precision.weights=int4"]), "decode", 1, kv_len=64)
    assert not any(n.startswith(("dequant.", "quant.")) for n in wl.graph)
    w = [t for t in wl.op("qkv_proj").inputs if t.role == TensorRole.WEIGHT][0]
    assert w.scale_group == 0 and w.bytes == 4096 * 12288 // 2
    assert "variants" not in wl.params
    assert math.isclose(wl.op("qkv_proj").flops, 2 * 4096 * 12288)
