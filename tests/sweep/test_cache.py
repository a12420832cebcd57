"""The sweep's cost memo (hwsim.sweep.cache.CostCache) never changes a number: evaluation through one shared
memo equals plain evaluation bit for bit, on every shipped arch, while the fields the memo key leaves out
(tech, energy calibration, other units, names) and the fields it keeps (the op's unit, memories, clock) vary."""

import pytest

from hwsim.api import evaluate
from hwsim.arch.loader import load_arch
from hwsim.sweep.cache import CostCache
from hwsim.workload import build_block, load_model

INT8 = ["precision.weights=int8", "precision.activations=int8", "precision.kv_cache=int8",
        "precision.accumulators=int32"]
CASES = {  # arch -> (model overrides, the unit to vary, memory to vary)
    "npu_128": ((), "mxu", "sram"),
    "tpu_v1": (INT8, "mxu", "ub"),
    "mobile_npu": (("precision.weights=fp16", "precision.activations=fp16", "precision.kv_cache=fp16"), "mxu",
                   "sram"),
    "h100": ((), "gpu", "l2"),
}


def _variants(arch: str, unit: str, memory: str | None):
    """Arch overrides: excluded-from-key changes first, then key changes, then both mixed."""
    out = [[], ["tech.node=3"], ["tech.device=ffet"], ["name=other", "description=x"],
           ["control_overhead_fraction=0.3"], ["clock=2GHz"], ["tech.node=16", "clock=500MHz"]]
    if arch != "h100":
        out += [[f"units.{unit}.rows=64"], [f"units.{unit}.cols=32", "tech.node=5"]]
    if memory:
        out += [[f"memories.{memory}.capacity=1MiB"], [f"memories.{memory}.bandwidth=100GB/s", "tech.node=7"]]
    return out


@pytest.mark.parametrize("arch", sorted(CASES))
def test_cached_evaluation_is_bit_identical(arch):
    model_o, unit, memory = CASES[arch]
    model = load_model("gpt2", list(model_o))
    blocks = [build_block(model, "decode", 2, kv_len=256), build_block(model, "prefill", 1, seq=128)]
    cache = CostCache()
    for sets in _variants(arch, unit, memory):
        spec = load_arch(arch, sets)
        for wl in blocks:
            assert evaluate(wl, spec, coster=cache).to_dict() == evaluate(wl, spec).to_dict(), (arch, sets, wl.name)
    assert cache.hits > cache.misses   # the memo did answer most questions


def test_refusals_are_remembered_and_raised_again():
    from hwsim.engines.base import cost_op
    from hwsim.errors import UnsupportedOpError
    from hwsim.mapping.types import OpMapping
    from hwsim.result import Fidelity

    arch, op = load_arch("npu_128"), build_block(load_model("gpt2"), "decode", 1, kv_len=64).op("softmax")
    cache = CostCache()
    for _ in range(2):
        with pytest.raises(UnsupportedOpError) as e:
            cache(op, "mxu", arch, OpMapping(op.name, "mxu"), Fidelity.ANALYTICAL)
    with pytest.raises(UnsupportedOpError) as ref:
        cost_op(op, "mxu", arch, OpMapping(op.name, "mxu"), Fidelity.ANALYTICAL)
    assert str(e.value) == str(ref.value) and (cache.hits, cache.misses) == (1, 1)
