"""Systolic analytical engine: fold equations by hand, traffic bounds, and the roofline."""

import math

import pytest

from hwsim.arch.components import Dataflow, SystolicArray
from hwsim.arch.loader import arch_from_dict
from hwsim.engines.analytical import gemm_traffic
from hwsim.engines.base import cost_op
from hwsim.engines.systolic import compute_cycles, fold_cycles
from hwsim.mapping.types import OpMapping
from hwsim.result import Bound, Fidelity
from hwsim.workload.ops import DType, Op, OpKind, TensorRole, TensorSpec


def test_fold_cycles_by_hand():
    """4x4 ws array, 8x8x8 GEMM: ceil(8/4)*ceil(8/4) = 4 folds, each M + 2R + C - 2 = 8 + 8 + 4 - 2 = 18,
    SCALE-Sim subtracts 1 once: 71. Pipelined: 18 + 3 * max(8, 4) - 1 = 41."""
    assert fold_cycles(8, 8, 8, 4, 4, Dataflow.WS) == (4, 71)
    assert fold_cycles(8, 8, 8, 4, 4, Dataflow.WS, pipelined=True) == (4, 41)
    # os: folds over M and N, each K + R + C - 2 = 8 + 6 = 14 -> 4*14 - 1
    assert fold_cycles(8, 8, 8, 4, 4, Dataflow.OS) == (4, 55)
    # is: folds over K and M, each N + 2R + C - 2
    assert fold_cycles(8, 8, 16, 4, 4, Dataflow.IS) == (4, 4 * (16 + 8 + 4 - 2) - 1)


def test_scalesim_formula_reference_point():
    """The 512x4096x4096 GEMM on 128x128 ws (reference/scalesim_v3_howto.md formula)."""
    assert fold_cycles(512, 4096, 4096, 128, 128, Dataflow.WS)[1] == 32 * 32 * (512 + 256 + 128 - 2) - 1


def test_multiple_arrays_split_folds():
    u = SystolicArray(rows=4, cols=4, precisions=["int8"], count=4, fold_pipelining=False)
    # 16 folds over 4 arrays -> 4 folds each of 8 + 8 + 4 - 2 = 18 cycles
    assert compute_cycles(1, 8, 16, 16, u, Dataflow.WS) == 4 * 18 - 1


def test_gemv_reads_weights_once():
    t = gemm_traffic(1, 4096, 11008, 1, 2, 2, 2, 4, 0, 0, 0, shared_cap=32 << 20, row_step=128, col_step=128)
    assert t.w_bytes == 4096 * 11008 * 2 and t.a_bytes == 4096 * 2


def test_traffic_never_below_compulsory():
    for m, k, n, cap in [(512, 4096, 4096, 1 << 20), (2048, 4096, 22016, 32 << 20), (7, 13, 5, 1 << 10)]:
        t = gemm_traffic(m, k, n, 1, 2, 2, 2, 4, 0, 0, 0, shared_cap=cap, row_step=128, col_step=128)
        assert t.a_bytes >= m * k * 2 and t.w_bytes >= k * n * 2 and t.out_bytes == m * n * 2


def test_small_buffer_costs_more_traffic():
    big = gemm_traffic(2048, 4096, 4096, 1, 2, 2, 2, 4, 0, 0, 0, shared_cap=64 << 20, row_step=128, col_step=128)
    small = gemm_traffic(2048, 4096, 4096, 1, 2, 2, 2, 4, 0, 0, 0, shared_cap=1 << 20, row_step=128, col_step=128)
    assert small.total > big.total


ARCH = {
    "name": "t", "clock": "1GHz",
    "units": {"mxu": {"kind": "systolic", "rows": 4, "cols": 4, "precisions": ["int8"], "fold_pipelining": False}},
    "memories": [{"name": "sram", "kind": "sram", "capacity": "1MiB", "bandwidth": "1TB/s"},
                 {"name": "dram", "kind": "ddr4", "capacity": "1GiB", "bandwidth": "4GB/s"}],
}


def _gemm(m, k, n):
    a = TensorSpec("x", (m, k), DType.INT8)
    w = TensorSpec("w", (k, n), DType.INT8, TensorRole.WEIGHT)
    y = TensorSpec("y", (m, n), DType.INT8)
    return Op("g", OpKind.GEMM, {"B": 1, "M": m, "K": k, "N": n}, (a, w), (y,), DType.INT8, DType.INT32)


def test_engine_bound_and_roofline():
    arch = arch_from_dict(ARCH)
    op = _gemm(8, 8, 8)
    c = cost_op(op, "mxu", arch, OpMapping("g", "mxu"), Fidelity.ANALYTICAL)
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


def test_precision_refused():
    arch = arch_from_dict(ARCH)
    op = _gemm(8, 8, 8)
    bf = Op("g", OpKind.GEMM, op.dims, op.inputs, op.outputs, DType.BF16)
    from hwsim.errors import UnsupportedOpError
    with pytest.raises(UnsupportedOpError, match="not bf16"):
        cost_op(bf, "mxu", arch, OpMapping("g", "mxu"), Fidelity.ANALYTICAL)


def test_int16_quarter_rate_on_tpu():
    from hwsim.arch.loader import load_arch
    tpu = load_arch("tpu_v1")
    u = tpu.units["mxu"]
    assert compute_cycles(1, 256, 256, 256, u, Dataflow.WS, u.mac_rate(DType.INT16)) == \
        4 * compute_cycles(1, 256, 256, 256, u, Dataflow.WS)
    assert math.isclose(u.mac_rate(DType.INT8), 1.0)
