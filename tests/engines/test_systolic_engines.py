"""The two systolic engines over one fold model: analytical == cycle on compute cycles and counts, total
cycles within 5 %, on the ops of real blocks over arrays, bandwidths and fold pipelining; the arch -> simulator
rules (residency, local buffers, formats); ``hwsim run --engine cycle``."""

from __future__ import annotations

import itertools

import pytest
from numba import config

from hwsim import api
from hwsim.arch.loader import arch_from_dict, load_arch
from hwsim.engines.base import cost_op
from hwsim.mapping.types import OpMapping
from hwsim.result import Fidelity
from hwsim.workload import build_block, load_model
from hwsim.workload.ops import DType, Op, OpKind, TensorRole, TensorSpec

BLOCKS = [("llama2_7b", "decode", 1, dict(kv_len=2048)), ("llama2_7b", "decode", 16, dict(kv_len=1024)),
          ("llama2_7b", "prefill", 1, dict(seq=512)), ("mixtral_8x7b", "decode", 4, dict(kv_len=512)),
          ("gpt2", "prefill", 4, dict(seq=128))]
ARRAYS = [(128, 128, 4), (32, 32, 1), (64, 64, 2), (256, 256, 1)]
GRID = list(itertools.product(ARRAYS, ["100GB/s", "819.2GB/s", "3.2TB/s"], [True, False]))
if config.DISABLE_JIT:   # pure-Python simulator: one point of the grid, the smallest blocks
    GRID, BLOCKS = GRID[:1], BLOCKS[:1]


@pytest.fixture(scope="module")
def block_ops():
    ops = []
    for m, phase, batch, kw in BLOCKS:
        ops += [op for op in build_block(load_model(m), phase, batch, **kw).ops() if op.kind == OpKind.GEMM]
    return ops


def _both(op, unit, arch):
    mp = OpMapping(op.name, unit)
    return (cost_op(op, unit, arch, mp, Fidelity.ANALYTICAL), cost_op(op, unit, arch, mp, Fidelity.CYCLE))


@pytest.mark.parametrize("rcn, bw, pipelined", GRID)
def test_analytical_equals_cycle(block_ops, rcn, bw, pipelined):
    """Compute cycles and every byte count equal; total cycles within 5 % (measured worst: 2.2 %)."""
    arch = load_arch("npu_128", [f"units.mxu.rows={rcn[0]}", f"units.mxu.cols={rcn[1]}", f"units.mxu.count={rcn[2]}",
                                 f"memories.hbm.bandwidth={bw}", f"units.mxu.fold_pipelining={pipelined}"])
    for op in block_ops:
        a, c = _both(op, "mxu", arch)
        assert (a.engine, c.engine) == ("systolic-analytical", "systolic-cycle")
        assert a.compute_cycles == c.compute_cycles, op.name
        assert a.reads == c.reads and a.writes == c.writes, op.name
        assert abs(a.cycles - c.cycles) <= 0.05 * c.cycles, (op.name, a.cycles, c.cycles)


def test_decode_block_memory_bound_on_both_engines():
    """Llama-2-7B decode on npu_128 (4 x 128x128 WS, fold pipelining): weights + KV over 819.2 GB/s."""
    floor = (202_383_360 * 2 + 2 * 2048 * 4096 * 2) / 819.2e9
    for engine in ("analytical", "cycle"):
        r = api.run(engine=engine)
        assert floor <= r.latency_s <= 1.05 * floor, engine
        assert all(c.bound.value == "memory" for c in r.costs if c.kind == "gemm")


def test_cycle_run_uses_simulator_for_systolic_ops_only():
    r = api.run(engine="cycle")
    assert {c.engine for c in r.costs if c.unit == "mxu"} == {"systolic-cycle"}
    vec = [c for c in r.costs if c.unit == "vpu"]
    assert vec and all("cycle fidelity not available for vector" in " ".join(c.notes) for c in vec)
    roof = api.run(engine="roofline")   # the nearest fidelity answers, not the slowest
    assert {c.engine for c in roof.costs if c.unit == "mxu"} == {"systolic-analytical"}


ARCH = {
    "name": "t", "clock": "1GHz",
    "units": {"mxu": {"kind": "systolic", "rows": 8, "cols": 8, "precisions": ["int8", "int4"]}},
    "memories": [{"name": "sram", "kind": "sram", "capacity": "64KiB", "bandwidth": "1TB/s"},
                 {"name": "dram", "kind": "ddr4", "capacity": "1GiB", "bandwidth": "8GB/s"}],
}


def _gemm(m, k, n, w=None):
    a = TensorSpec("x", (m, k), DType.INT8)
    w = w or TensorSpec("w", (k, n), DType.INT8, TensorRole.WEIGHT)
    y = TensorSpec("y", (m, n), DType.INT8)
    return Op("g", OpKind.GEMM, {"B": 1, "M": m, "K": k, "N": n}, (a, w), (y,), DType.INT8, DType.INT32)


def test_resident_activations_never_touch_dram():
    """64 KiB SRAM: a 64x64 int8 ifmap (4 KiB) is resident (<= 32 KiB), so it moves nowhere and the DRAM sees
    only the weights (4 KiB) once. A 256x256 ifmap (64 KiB) is not: it comes from DRAM, at least once, while
    its 256x64 output (16 KiB) stays on chip."""
    arch = arch_from_dict(ARCH)
    for res in _both(_gemm(64, 64, 64), "mxu", arch):
        assert res.reads["dram"] == {"filter": 4096.0} and "dram" not in res.writes
        assert res.extra["dram_bytes"] == 4096
    for res in _both(_gemm(256, 256, 64), "mxu", arch):
        assert res.reads["dram"]["ifmap"] >= 256 * 256 and "dram" not in res.writes


def test_formats_set_bytes_per_operand():
    """int4 weights with an fp16 scale per 32: 0.5625 B per weight, on both engines; the partial sums the
    array writes to the SRAM are int32 (4 B)."""
    arch = arch_from_dict(ARCH)
    w4 = TensorSpec("w", (64, 64), DType.INT4, TensorRole.WEIGHT, scale_bits=16, scale_group=32)
    for res in _both(_gemm(64, 64, 64, w4), "mxu", arch):
        assert res.reads["dram"]["filter"] == pytest.approx(64 * 64 * 0.5625)
        assert res.writes["sram"]["ofmap"] % 4 == 0


def test_tpu_local_buffers_and_int8_bert():
    """TPU v1 declares its buffers: the array reads from ``mxu.buffers``, weights arrive from DDR3, activations
    from the Unified Buffer; both engines agree within 5 %."""
    int8 = ["workload.precision.weights=int8", "workload.precision.activations=int8",
            "workload.precision.accumulators=int32", "workload.precision.kv_cache=int8"]
    a, c = (api.run("tpu_v1", "bert_base", "prefill", batch=8, seq=128, engine=e, overrides=int8)
            for e in ("analytical", "cycle"))
    q = c.cost("qkv_proj")
    assert set(q.reads) == {"ub", "ddr3", "mxu.buffers"} and q.reads["ddr3"]["filter"] == 768 * 2304
    assert abs(a.latency_s - c.latency_s) <= 0.05 * c.latency_s


def test_conv_block_on_both_engines():
    """MobileNetV2 block (1x1 CONV2D expand/project) on the phone NPU: compute cycles equal, totals close."""
    a, c = (api.run("mobile_npu", "mobilenetv2_block", "prefill", engine=e) for e in ("analytical", "cycle"))
    for x, y in zip(a.costs, c.costs):
        if x.unit == "mxu":
            assert x.compute_cycles == y.compute_cycles and abs(x.cycles - y.cycles) <= 0.05 * y.cycles
    assert {c.kind for c in c.costs if c.unit == "mxu"} >= {"conv2d"}


def test_large_m_is_chunked_to_read_the_ifmap_once():
    """Prefill 8K qkv on npu_128: x is 8192 x 4096 bf16 = 64 MiB, beyond the 16 MiB residency share, so SCALE-Sim's
    fold order (for each column fold, every row fold) would fetch it once per column fold (96 x 64 MiB). Chunks of
    M read it once and the 96 MiB of weights once per chunk, which the engine picks by least DRAM traffic."""
    op = next(o for o in build_block(load_model("llama2_7b"), "prefill", 1, seq=8192).ops() if o.name == "qkv_proj")
    arch = load_arch("npu_128")
    chosen = cost_op(op, "mxu", arch, OpMapping(op.name, "mxu"), Fidelity.ANALYTICAL)
    whole = cost_op(op, "mxu", arch, OpMapping(op.name, "mxu", tiles={"M": 8192}), Fidelity.ANALYTICAL)
    assert any(n.startswith("chunks M") for n in chosen.notes)
    assert whole.reads["hbm"]["ifmap"] == 96 * 8192 * 4096 * 2
    assert chosen.extra["dram_bytes"] < 0.5 * whole.extra["dram_bytes"] and chosen.cycles < whole.cycles
    fixed = cost_op(op, "mxu", arch, OpMapping(op.name, "mxu", tiles={"M": 2048}), Fidelity.ANALYTICAL)
    assert "chunks M2048 x N12288 (mapping tiles)" in fixed.notes
    assert fixed.reads["hbm"]["filter"] == 4 * 4096 * 12288 * 2     # weights once per chunk of M


@pytest.mark.slow
@pytest.mark.parametrize("rcn, bw, pipelined", GRID)
def test_analytical_equals_cycle_long_prefill(rcn, bw, pipelined):
    """The grid again on 4K/8K prefill blocks (chunked GEMMs, large attention); measured worst 0.8 %."""
    arch = load_arch("npu_128", [f"units.mxu.rows={rcn[0]}", f"units.mxu.cols={rcn[1]}", f"units.mxu.count={rcn[2]}",
                                 f"memories.hbm.bandwidth={bw}", f"units.mxu.fold_pipelining={pipelined}"])
    for seq, batch in ((4096, 1), (8192, 2)):
        for op in build_block(load_model("llama2_7b"), "prefill", batch, seq=seq).ops():
            if op.kind == OpKind.GEMM:
                a, c = _both(op, "mxu", arch)
                assert a.compute_cycles == c.compute_cycles and abs(a.cycles - c.cycles) <= 0.05 * c.cycles, op.name
