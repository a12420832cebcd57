"""The lowering every engine goes through: sparse vs dense form by unit capability, expected execution."""

import pytest

from hwsim.arch.loader import load_arch
from hwsim.engines.base import cost_op
from hwsim.engines.lowering import lower_for_unit
from hwsim.mapping.types import OpMapping
from hwsim.result import Fidelity
from hwsim.workload import build_block, load_model
from hwsim.workload.passes.rewrite import with_attrs


def test_lower_picks_the_form_the_unit_runs():
    op = build_block(load_model("llama2_7b", ["weight_sparsity={pattern: nm, n: 2, m: 4}"]), "decode", 1,
                     kv_len=64).op("down")
    plain = load_arch("npu_128").units["mxu"]
    nm = load_arch("npu_128", ["units.mxu.sparsity.weight_nm=[[2,4]]"]).units["mxu"]
    nm14 = load_arch("npu_128", ["units.mxu.sparsity.weight_nm=[[1,4]]"]).units["mxu"]
    assert lower_for_unit(op, plain)[0] is op.attrs["dense_op"]
    assert lower_for_unit(op, nm14)[0] is op.attrs["dense_op"]          # a different N:M pattern
    ran, notes = lower_for_unit(op, nm)
    assert ran is op and notes == ("2:4 sparsity skipped by this unit",)


@pytest.mark.parametrize("arch,unit", [("npu_128", "mxu"), ("h100", "gpu"), ("tpu_v1", "act")])
def test_executed_fraction_scales_every_engine(arch, unit):
    """A cost scaled by p: cycles, seconds, bytes and actions all x p (vector, systolic, tensor engines)."""
    a = load_arch(arch)
    wl = build_block(load_model("gpt2", ["precision.weights=int8", "precision.activations=int8",
                                         "precision.accumulators=int32"] if arch == "tpu_v1" else []),
                     "decode", 1, kv_len=64)
    op = wl.op("ffn_norm") if unit == "act" else wl.op("down")
    half = op.__class__(**{**op.__dict__, "attrs": with_attrs(op.attrs, executed_fraction=0.5)})
    m = OpMapping(op.name, unit)
    full, part = cost_op(op, unit, a, m, Fidelity.ANALYTICAL), cost_op(half, unit, a, m, Fidelity.ANALYTICAL)
    assert part.latency_s == pytest.approx(0.5 * full.latency_s) and part.cycles == pytest.approx(0.5 * full.cycles)
    assert {k: v * 0.5 for k, v in full.actions.items()} == pytest.approx(dict(part.actions))
    for lv in full.reads:
        assert part.bytes_at(lv) == pytest.approx(0.5 * full.bytes_at(lv))
    assert part.flops == pytest.approx(0.5 * op.flops)
