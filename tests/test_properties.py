"""Hypothesis: random specs never give a traceback, a negative or a NaN cost."""

import math

from hypothesis import HealthCheck, given, settings, strategies as st

from hwsim import api
from hwsim.arch.loader import arch_from_dict
from hwsim.errors import HwsimError
from hwsim.workload import build_block, load_model

LLAMA = load_model("llama2_7b")
GPT2 = load_model("gpt2")

quantity = st.one_of(st.integers(-5, 10**12), st.floats(allow_nan=True, allow_infinity=True),
                     st.sampled_from(["1GHz", "64KiB", "-3MB", "zz", "", "1e400GB/s"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.one_of(st.integers(-4, 300), st.sampled_from(["x", None, 1.5])), clock=quantity, cap=quantity,
       bw=quantity, prec=st.sampled_from([["int8"], ["bf16"], [], ["fp8", "bf16"], ["int9"]]),
       df=st.sampled_from(["ws", "os", "is", "xs"]))
def test_random_arch_specs_never_crash(rows, clock, cap, bw, prec, df):
    spec = {"name": "r", "clock": clock,
            "units": {"a": {"kind": "systolic", "rows": rows, "cols": 16, "precisions": prec, "dataflow": df},
                      "v": {"kind": "vector", "lanes": 64, "precisions": ["bf16", "fp32", "int8"]}},
            "memories": [{"name": "s", "kind": "sram", "capacity": cap, "bandwidth": bw},
                         {"name": "d", "kind": "hbm3", "capacity": "8GiB", "bandwidth": bw}]}
    try:
        arch = arch_from_dict(spec, "rand.yaml")
        r = api.evaluate(build_block(GPT2, "decode", 2, kv_len=64), arch)
    except HwsimError as e:
        assert "\n" not in str(e)
        return
    for c in r.costs:
        for v in (c.cycles, c.latency_s, c.energy_total_j, c.compute_cycles):
            assert v >= 0 and math.isfinite(v)


@settings(max_examples=40, deadline=None)
@given(batch=st.integers(1, 64), kv=st.integers(1, 8192), seq=st.integers(1, 2048),
       phase=st.sampled_from(["prefill", "decode"]), bw=st.floats(1e9, 1e13))
def test_random_workloads_costs_finite_and_bounded(batch, kv, seq, phase, bw):
    from hwsim.arch.loader import load_arch
    arch = load_arch("npu_128", [f"memories.hbm.bandwidth={bw}"])
    wl = build_block(LLAMA, phase, batch, seq if phase == "prefill" else None, kv if phase == "decode" else None)
    r = api.evaluate(wl, arch)
    assert r.latency_s >= wl.weight_bytes / bw * 0.999
    assert all(math.isfinite(c.energy_total_j) and c.energy_total_j >= 0 for c in r.costs)
