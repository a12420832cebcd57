"""Systolic analytical engine: fold equations by hand, the arch -> simulator rules, and the roofline."""

import pytest

from hwsim.arch.loader import arch_from_dict, load_arch
from hwsim.engines.base import cost_op
from hwsim.engines.systolic_equations import compute_cycles, systolic_equations
from hwsim.engines.systolic_job import job_for
from hwsim.errors import UnsupportedOpError
from hwsim.mapping.types import OpMapping
from hwsim.result import Bound, Fidelity
from hwsim.workload.ops import DType, Op, OpKind, TensorRole, TensorSpec


def test_fold_cycles_by_hand():
    """4x4 ws array, 8x8x8 GEMM: ceil(8/4)*ceil(8/4) = 4 folds, each M + 2R + C - 2 = 8 + 8 + 4 - 2 = 18,
    SCALE-Sim subtracts 1 once: 71. Pipelined: 18 + 3 * max(8, 4) - 1 = 41."""
    assert compute_cycles(8, 8, 8, 4, 4, "ws") == 71
    assert compute_cycles(8, 8, 8, 4, 4, "ws", fold_pipelining=True) == 41
    # os: folds over M and N, each K + R + C - 2 = 8 + 6 = 14 -> 4*14 - 1
    assert compute_cycles(8, 8, 8, 4, 4, "os") == 55
    # is: folds over K and M, each N + 2R + C - 2
    assert compute_cycles(8, 8, 16, 4, 4, "is") == 4 * (16 + 8 + 4 - 2) - 1


def test_scalesim_formula_reference_point():
    """The 512x4096x4096 GEMM on 128x128 ws (reference/scalesim_v3_howto.md formula)."""
    assert compute_cycles(512, 4096, 4096, 128, 128, "ws") == 32 * 32 * (512 + 256 + 128 - 2) - 1


def test_arrays_and_groups_share_folds_round_robin():
    """16 folds of 18 cycles over 4 arrays: 4 each (4*18 - 1); 3 groups of them: 48 folds, 12 each."""
    assert compute_cycles(8, 16, 16, 4, 4, "ws", arrays=4) == 4 * 18 - 1
    assert compute_cycles(8, 16, 16, 4, 4, "ws", groups=3, arrays=4) == 12 * 18 - 1
    # pipelined: 18 + 11 * max(8, 4) - 1
    assert compute_cycles(8, 16, 16, 4, 4, "ws", groups=3, arrays=4, fold_pipelining=True) == 18 + 11 * 8 - 1


def test_gemv_reads_weights_once_and_traffic_at_least_compulsory():
    r = systolic_equations(1, 4096, 11008, rows=128, cols=128, dataflow="ws", word_bytes=2,
                           ifmap_sram_bytes=1 << 20, filter_sram_bytes=1 << 20, ofmap_sram_bytes=1 << 20)
    assert r.dram_reads["filter"] == 4096 * 11008 and r.dram_reads["ifmap"] == 4096
    for m, k, n, cap in [(512, 4096, 4096, 1 << 20), (2048, 4096, 22016, 32 << 20), (7, 13, 5, 1 << 10)]:
        for df in ("os", "ws", "is"):
            t = systolic_equations(m, k, n, rows=128, cols=128, dataflow=df, word_bytes=2, ifmap_sram_bytes=cap,
                                   filter_sram_bytes=cap, ofmap_sram_bytes=cap)
            assert t.dram_reads["ifmap"] >= m * k and t.dram_reads["filter"] >= k * n
            assert t.dram_writes["ofmap"] >= m * n


def test_small_buffer_costs_more_traffic():
    kw = dict(rows=128, cols=128, dataflow="ws", word_bytes=2)
    big = systolic_equations(2048, 4096, 4096, ifmap_sram_bytes=64 << 20, **kw)
    small = systolic_equations(2048, 4096, 4096, ifmap_sram_bytes=1 << 20, **kw)
    assert small.dram_bytes > big.dram_bytes


ARCH = {
    "name": "t", "clock": "1GHz",
    "units": {"mxu": {"kind": "systolic", "rows": 4, "cols": 4, "precisions": ["int8"], "fold_pipelining": False}},
    "memories": [{"name": "sram", "kind": "sram", "capacity": "1MiB", "bandwidth": "1TB/s"},
                 {"name": "dram", "kind": "ddr4", "capacity": "1GiB", "bandwidth": "4GB/s"}],
}


def _gemm(m, k, n, groups=1, w_dtype=DType.INT8):
    a = TensorSpec("x", (groups * m, k), DType.INT8)
    w = TensorSpec("w", (groups, k, n) if groups > 1 else (k, n), w_dtype, TensorRole.WEIGHT)
    y = TensorSpec("y", (groups * m, n), DType.INT8)
    return Op("g", OpKind.GEMM, {"B": groups, "M": m, "K": k, "N": n}, (a, w), (y,), DType.INT8, DType.INT32)


def test_sram_share_rule_and_bandwidth_per_cycle():
    """No local buffers: each SRAM gets (1 - 0.5) x 1 MiB / 3; DRAM 4 GB/s at 1 GHz = 4 B/cycle; the
    activations (64 B) live in the SRAM, the weights off chip."""
    arch = arch_from_dict(ARCH)
    job = job_for(_gemm(8, 8, 8), "mxu", arch, OpMapping("g", "mxu"))
    kw = job.sim_kwargs
    assert kw["ifmap_sram_bytes"] == kw["ofmap_sram_bytes"] == (1 << 20) / 6
    assert kw["dram_bw_bytes_per_cycle"] == 4.0 and kw["on_chip"] == ("ifmap", "ofmap")
    assert job.stage == "sram" and kw["arrays"] == 1 and kw["fold_pipelining"] is False
    tpu = load_arch("tpu_v1")
    tjob = job_for(_gemm(256, 256, 256), "mxu", tpu, OpMapping("g", "mxu"))
    assert tjob.sim_kwargs["filter_sram_bytes"] == 256 * 1024 and tjob.stage == "mxu.buffers"
    assert tjob.sim_kwargs["dram_bw_bytes_per_cycle"] == pytest.approx(34e9 / 700e6)


def test_engine_bound_and_roofline():
    arch = arch_from_dict(ARCH)
    c = cost_op(_gemm(8, 8, 8), "mxu", arch, OpMapping("g", "mxu"), Fidelity.ANALYTICAL)
    assert c.compute_cycles == 71
    # weights (64 B) come from DRAM at 4 B/cycle: 16 cycles < 71 -> compute-bound
    assert c.bound == Bound.COMPUTE and c.reads["dram"]["filter"] == 64
    assert c.cycles >= c.compute_cycles and c.cycles >= max(c.memory_cycles.values())
    assert c.utilization == pytest.approx(512 / (16 * c.cycles))
    # a GEMV: 1024 x 1024 folds of 1 + 8 + 4 - 2 = 11 cycles = 11.5 M cycles of compute; 16 MiB of weights at
    # 0.5 B/cycle need 33.6 M cycles -> memory-bound
    slow = arch_from_dict({**ARCH, "memories": [ARCH["memories"][0], {**ARCH["memories"][1], "bandwidth": "500MB/s"}]})
    c2 = cost_op(_gemm(1, 4096, 4096), "mxu", slow, OpMapping("g", "mxu"), Fidelity.ANALYTICAL)
    assert c2.compute_cycles == 1024 * 1024 * 11 - 1
    assert c2.bound == Bound.MEMORY
    assert c2.cycles >= 4096 * 4096 / 0.5


def test_element_bytes_with_group_scales_set_weight_traffic():
    """int4 weights with an fp16 scale per 32: 0.5 + 2/32 = 0.5625 B per weight read from DRAM."""
    arch = arch_from_dict({**ARCH, "units": {"mxu": {**ARCH["units"]["mxu"], "precisions": ["int8", "int4"]}}})
    w4 = TensorSpec("w", (64, 64), DType.INT4, TensorRole.WEIGHT, scale_bits=16, scale_group=32)
    op = Op("g", OpKind.GEMM, {"B": 1, "M": 8, "K": 64, "N": 64}, (TensorSpec("x", (8, 64), DType.INT8), w4),
            (TensorSpec("y", (8, 64), DType.INT8),), DType.INT8, DType.INT32)
    c = cost_op(op, "mxu", arch, OpMapping("g", "mxu"), Fidelity.ANALYTICAL)
    assert c.reads["dram"]["filter"] == pytest.approx(64 * 64 * 0.5625)


def test_precision_refused():
    arch = arch_from_dict(ARCH)
    op = _gemm(8, 8, 8)
    bf = Op("g", OpKind.GEMM, op.dims, op.inputs, op.outputs, DType.BF16)
    with pytest.raises(UnsupportedOpError, match="not bf16"):
        cost_op(bf, "mxu", arch, OpMapping("g", "mxu"), Fidelity.ANALYTICAL)


def test_int16_quarter_rate_on_tpu():
    """TPU v1 runs 16-bit operands at 1/4 rate: every cycle of the fold schedule takes 4."""
    tpu = load_arch("tpu_v1")
    i8 = cost_op(_gemm(256, 256, 256), "mxu", tpu, OpMapping("g", "mxu"), Fidelity.ANALYTICAL)
    op16 = _gemm(256, 256, 256, w_dtype=DType.INT16)
    op16 = Op("g", OpKind.GEMM, op16.dims, op16.inputs, op16.outputs, DType.INT16, DType.INT32)
    i16 = cost_op(op16, "mxu", tpu, OpMapping("g", "mxu"), Fidelity.ANALYTICAL)
    assert i16.compute_cycles == 4 * i8.compute_cycles == 4 * compute_cycles(256, 256, 256, 256, 256, "ws",
                                                                             fold_pipelining=True)
