"""GPU tensor-engine model: hand-derived waves and tail waves, traffic, the power cap, invariants."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwsim.api import evaluate
from hwsim.arch.loader import arch_from_dict, load_arch
from hwsim.engines.gpu_attention import decode_kernel, fa2_num_splits, kv_blocks_per_q_block, lpt_makespan, prefill_kernel
from hwsim.engines.gpu_gemm import _grid, aligned, gemm_kernel, waves
from hwsim.engines.gpu_kernel import soft_max
from hwsim.engines.gpu_params import gpu_params
from hwsim.errors import SpecError
from hwsim.validation.cases import single_op_workload, gemm_op
from hwsim.workload.ops import DType

BF16 = DType.BF16


def toy(params=None, energy=None, sms=4, hbm="1TB/s"):
    """A 4-SM GPU at 1 GHz, 4096 bf16 flops/SM/clock (2048 MAC), ideal unless params say otherwise."""
    data = {"name": "toy", "clock": "1GHz",
            "units": {"gpu": {"kind": "tensor_engine", "sms": sms, "precisions": ["bf16", "fp32"],
                              "tensor_flops_per_sm_per_cycle": {"bf16": 4096}, "vector_flops_per_sm_per_cycle": 256,
                              "smem_per_sm": "228KiB", "params": {"smem_bytes_per_clk": 1e9, **(params or {})}}},
            "memories": [{"name": "l2", "kind": "sram", "capacity": "50MB", "bandwidth": "1000TB/s"},
                         {"name": "hbm", "kind": "hbm3", "capacity": "80GB", "bandwidth": hbm}]}
    if energy is not None:
        data["energy"] = energy
    return gpu_params(arch_from_dict(data, "<toy>"), "gpu")


def test_waves_and_the_tail_wave():
    """4 SMs, 128x128 tiles, K = 1024: one CTA = 128*128*1024 MAC / 2048 MAC/clock = 8192 clocks = 8.192 us.
    M = 512 gives 4 CTAs (one wave, 8.192 us); M = 640 gives 5 CTAs: the fifth runs alone in a second wave,
    so the compute time doubles (16.384 us) although the work grew by only 25 %."""
    gp = toy()
    tile = np.array([[128.0, 128.0, 1.0]])
    rate = np.array([2048e9])
    one = _grid(gp, 512, 1024, 128, 1, tile, rate, 2, 2, 2, 0.0, "mac.bf16.fp32")[1]["compute"][0]
    two = _grid(gp, 640, 1024, 128, 1, tile, rate, 2, 2, 2, 0.0, "mac.bf16.fp32")[1]["compute"][0]
    assert one == pytest.approx(8.192e-6) and two == pytest.approx(16.384e-6)
    assert waves(132, 132) == 1 and waves(133, 132) == 2


def test_l2_traffic_per_tile():
    """Each of the ceil(M/m) ceil(N/n) CTAs streams its m x K rows of x and K x n columns of W: for M = N = 256,
    K = 64 and 128x128 tiles that is 4 x (128*64 + 64*128) x 2 B = 131072 B, plus the 256*256*2 B output."""
    gp = toy()
    terms = _grid(gp, 256, 64, 256, 1, np.array([[128.0, 128.0, 1.0]]), np.array([2048e9]), 2, 2, 2, 0.0, "m")[1]
    assert terms["l2"][0] == 4 * (128 * 64 + 64 * 128) * 2 + 256 * 256 * 2


def test_gemv_is_bandwidth_bound_and_reads_weights_once():
    """1 x 4096 x 4096 bf16 on the toy GPU: 33.6 MB of weights at 1 TB/s = 33.6 us; compute is negligible."""
    k = gemm_kernel(toy(), 1, 4096, 4096, 1, BF16, 2, 2, 2, DType.FP32)
    assert k.hbm_bytes == 2 * (4096 + 4096 * 4096 + 4096)
    assert k.seconds == pytest.approx(k.hbm_bytes / 1e12, rel=1e-3)


def test_power_cap_sets_the_time_of_a_hot_kernel():
    """With 1 pJ per MAC and 100 W of headroom (cap 300 W - static 150 W - SM-active 50 W), 2^33 MACs need
    8.59 mJ: the kernel cannot finish faster than 8.59 mJ / 100 W = 85.9 us, slower than its 4-SM compute time."""
    energy = {"source": "test", "static_power_w": 150.0, "action_j": {"mac.bf16.fp32": 1e-12, "sm.active_s": 50.0},
              "bit_j": {}}
    gp = toy({"power_cap_w": 300.0}, energy, sms=132)
    k = gemm_kernel(gp, 2048, 2048, 2048, 1, BF16, 2, 2, 2, DType.FP32)
    assert k.macs >= 2048 ** 3
    assert k.seconds == pytest.approx(k.macs * 1e-12 / 100.0, rel=1e-6)
    assert k.power_s > k.body_s


def test_alignment_rule():
    """TMA needs 16-byte strides: K = N = 2500 bf16 rows are 5000 B (not a multiple of 16)."""
    assert aligned(4096, 4096, 2, 2, 2) and not aligned(2500, 2500, 2, 2, 2) and not aligned(4096, 4100, 2, 2, 2)
    gp = toy({"unaligned_efficiency": 0.25})
    fast = gemm_kernel(gp, 4096, 4096, 4096, 1, BF16, 2, 2, 2, DType.FP32)
    slow = gemm_kernel(gp, 4096, 4096, 4100, 1, BF16, 2, 2, 2, DType.FP32)
    assert slow.compute_s > 3.5 * fast.compute_s


def test_flash_prefill_counts_the_causal_half_and_the_diagonal():
    """L = 512 with 128-blocks: query block i visits i + 1 key blocks, 1+2+3+4 = 10 pairs per head (the exact
    causal half would be 8 blocks' worth: the 4 diagonal blocks are computed whole)."""
    assert kv_blocks_per_q_block(512, 512, 128, 128, True) == [1, 2, 3, 4]
    gp = toy({"softmax_per_clk": 1e9})
    k = prefill_kernel(gp, 1, 2, 2, 512, 512, 128, BF16, 2, True, DType.FP32)
    assert k.extra["pairs"] == 2 * 10 and k.macs == 2 * 10 * 2 * 128 * 128 * 128
    # LPT on 4 SMs: 2 heads x blocks {4,3,2,1}: loads {4,1}, {4,1}, {3,2}, {3,2} -> makespan 5 pairs
    assert lpt_makespan([1, 2, 3, 4], 2, 4) == 5.0


def test_decode_splits_kv_to_fill_the_gpu():
    """One sequence, 32 heads, 32k keys on 132 SMs: FA2's heuristic splits the keys 4 ways (128 CTAs)."""
    assert fa2_num_splits(32, 132, 256) == 4
    gp = gpu_params(load_arch("h100"), "gpu")
    k = decode_kernel(gp, 1, 32, 32, 1, 32768, 128, BF16, 2, DType.FP32)
    assert k.extra["splits"] == 4 and k.kernels == 2
    assert k.hbm_bytes == pytest.approx(2 * 32 * 32768 * 128 * 2 + 2 * 32 * 128 * 2)


@given(st.floats(0, 1e3), st.floats(0, 1e3), st.floats(1.0, 50.0))
def test_soft_max_between_max_and_sum(a, b, p):
    s = soft_max(a, b, p)
    assert max(a, b) * (1 - 1e-9) <= s <= (a + b) * (1 + 1e-9)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 8192), st.integers(64, 16384), st.integers(64, 16384))
def test_more_bandwidth_never_slower_and_roofline_holds(m, k, n):
    h100 = load_arch("h100")
    faster = h100.model_copy(update={"memories": (h100.memories[0], h100.memories[1].model_copy(
        update={"bandwidth": 2 * h100.memories[1].bandwidth}))})
    wl = single_op_workload(gemm_op(m, k, n, BF16))
    slow, fast = evaluate(wl, h100).costs[0], evaluate(wl, faster).costs[0]
    assert fast.latency_s <= slow.latency_s * (1 + 1e-9)
    peak = 4096 * 132 * h100.clock_hz
    assert slow.latency_s >= max(2.0 * m * k * n / peak, slow.extra["dram_bytes"] / h100.dram.bandwidth)


def test_unknown_param_key_is_a_one_line_error():
    with pytest.raises(SpecError, match="unknown keys"):
        toy({"tc_eficiency": 0.5})


def test_executed_macs_cover_useful_macs():
    for m, k, n in [(1, 4096, 4096), (77, 1000, 3000), (4096, 4096, 4096)]:
        c = gemm_kernel(gpu_params(load_arch("h100"), "gpu"), m, k, n, 1, BF16, 2, 2, 2, DType.FP32)
        assert c.macs >= m * k * n and math.isfinite(c.seconds)


def test_scales_and_sparse_indices_do_not_misalign_rows():
    """Alignment is a property of the stored elements' row strides; group scales and sparse indices are arrays
    of their own. Llama-2-7B prefill (8192 tokens) gate_up: W is 4096 x 22016. As int4 with one fp16 scale per
    128 weights it streams 0.5 + 2/128 = 0.515625 bytes per weight, and 22016 x 0.515625 = 11352 is no multiple
    of 16, but its int4 rows (22016 x 0.5 = 11008 bytes) are: the GEMM runs at the same tensor-core efficiency
    as qkv_proj (N = 12288), not at the misaligned kernel's."""
    from hwsim import api
    r = api.run("h100", "llama2_7b", "prefill", 1, seq=8192, fused_attention=True,
                overrides=["workload.quantization={weights: {format: int4, group_size: 128}}"])
    util = {c.op: c.utilization for c in r.costs}
    assert (22016 * 0.515625) % 16 and not (22016 * 0.5) % 16
    assert util["gate_up"] == pytest.approx(util["qkv_proj"], rel=0.02)
