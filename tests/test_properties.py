"""Hypothesis: random specs never give a traceback, a negative or a NaN cost."""

import math

from hypothesis import HealthCheck, event, given, settings, strategies as st

from hwsim import api
from hwsim.arch.loader import arch_from_dict
from hwsim.errors import HwsimError
from hwsim.workload import build_block, load_model

LLAMA = load_model("llama2_7b")
GPT2 = load_model("gpt2")

BAD_ARCH = {"rows": [-4, 0, "x", None, 1.5], "clock": [-5, 0, float("nan"), float("inf"), "zz", "", "-3MB"],
            "cap": [-1, 0, "zz", "-3MB", float("nan")], "bw": [0, -1, "1e400GB/s", float("inf"), "64KiB"],
            "prec": [[], ["int9"], ["int8"], ["fp8"]], "df": ["xs", 3], "lanes": [0, -64, "many"]}


@st.composite
def arch_specs(draw):
    """Mostly valid systolic + vector + SRAM + HBM specs (so the engine runs), one field in three replaced by a
    bad value (negative, zero, NaN, infinite, unparsable, a format GPT-2 cannot run in) so the loader or the
    mapper refuses."""
    v = {"rows": draw(st.integers(1, 300)), "clock": draw(st.one_of(st.floats(1e8, 5e9),
                                                                     st.sampled_from(["700MHz", "1GHz", "1.5GHz"]))),
         "cap": draw(st.one_of(st.integers(1, 2**27), st.sampled_from(["1KiB", "64KiB", "8MiB", "32MiB"]))),
         "bw": draw(st.one_of(st.floats(1e9, 1e13), st.sampled_from(["34GB/s", "819.2GB/s", "4TB/s"]))),
         "prec": draw(st.sampled_from([["int8", "bf16"], ["bf16"], ["bf16", "fp16", "int8"]])),
         "df": draw(st.sampled_from(["ws", "os", "is"])), "lanes": draw(st.integers(1, 512))}
    if draw(st.integers(0, 2)) == 0:
        field = draw(st.sampled_from(sorted(BAD_ARCH)))
        v[field] = draw(st.sampled_from(BAD_ARCH[field]))
    return {"name": "r", "clock": v["clock"],
            "units": {"a": {"kind": "systolic", "rows": v["rows"], "cols": 16, "count": draw(st.integers(1, 8)),
                            "precisions": v["prec"], "dataflow": v["df"]},
                      "v": {"kind": "vector", "lanes": v["lanes"], "precisions": ["bf16", "fp32", "int8"]}},
            "memories": [{"name": "s", "kind": "sram", "capacity": v["cap"], "bandwidth": v["bw"]},
                         {"name": "d", "kind": "hbm3", "capacity": "8GiB", "bandwidth": v["bw"]}]}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=arch_specs(), phase=st.sampled_from(["prefill", "decode"]), batch=st.integers(1, 16),
       n=st.integers(1, 1024))
def test_random_arch_specs_never_crash(spec, phase, batch, n):
    """Random arch specs through the loader, mapper and engines with a GPT-2 block: one line naming the problem,
    or costs that are finite, non-negative, and no faster than the roofline (weights over DRAM bandwidth, GEMM
    flops over the arrays' peak)."""
    wl = build_block(GPT2, phase, batch, n if phase == "prefill" else None, n if phase == "decode" else None)

    def run():
        arch = arch_from_dict(spec, "rand.yaml")
        return wl, arch, api.evaluate(wl, arch)

    _sane_or_refused(run, "a")


def _sane_or_refused(run, array: str) -> None:
    """Either ``run()`` refuses with one line, or its costs are finite, non-negative, and no faster than the
    roofline: the block's weights over DRAM bandwidth, its matmul flops over the ``array`` unit's peak."""
    try:
        wl, arch, r = run()
    except HwsimError as e:
        assert "\n" not in str(e) and str(e)
        event(f"refused: {type(e).__name__}")
        return
    event("evaluated")
    assert all(op.flops >= 0 and op.min_bytes > 0 for op in wl.ops())
    for c in r.costs:
        for v in (c.cycles, c.latency_s, c.energy_total_j, c.compute_cycles):
            assert v >= 0 and math.isfinite(v)
    assert r.latency_s >= wl.weight_bytes / arch.dram.bandwidth * 0.999
    matmul_flops = sum(op.flops for op in wl.ops() if op.kind.value in ("gemm", "attention"))
    assert r.latency_s >= matmul_flops / (2 * arch.units[array].pes * arch.clock_hz) * 0.999


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



fmt = st.sampled_from(["bf16", "bf16", "fp16", "int8", "int4"])
BAD_FIELDS = {"layers": [0, -1, "x"], "d_model": [-64, 1.5], "heads": [0, 3, None], "kv_heads": [0, 5, 64],
              "ffn_dim": [0, "big"], "ffn_kind": ["geglu"], "norm": ["batchnorm"], "norm_position": ["mid"],
              "block": ["rnn"], "moe": [{"experts": 2, "top_k": 4}, {"experts": 0, "top_k": 1}, {"top_k": 1}],
              "precision": [{"weights": "int7"}, {"activations": 3}, {"activations": "fp32"}, {"weights": "fp32"}],
              "colour": ["red"]}  # fp32 is a format npu_128's arrays do not compute: a MappingError


@st.composite
def model_specs(draw):
    """Mostly valid transformer specs (so the engine runs), one field in four corrupted (so the loader refuses)."""
    kv = draw(st.sampled_from([1, 2, 4, 8]))
    heads = kv * draw(st.sampled_from([1, 2, 4]))
    spec = {"name": "rand", "block": draw(st.sampled_from(["decoder", "decoder", "encoder"])),
            "layers": draw(st.integers(1, 96)), "d_model": heads * draw(st.sampled_from([8, 16, 64, 128])),
            "heads": heads, "kv_heads": kv, "ffn_dim": draw(st.integers(1, 4096)),
            "ffn_kind": draw(st.sampled_from(["swiglu", "gelu_mlp", "relu_mlp"])),
            "norm": draw(st.sampled_from(["rmsnorm", "layernorm"])),
            "norm_position": draw(st.sampled_from(["pre", "post"])),
            "bias": draw(st.booleans()), "rope": draw(st.booleans()),
            "precision": {"weights": draw(fmt), "activations": draw(st.sampled_from(["bf16", "fp16", "int8"])),
                          "kv_cache": draw(fmt)}}
    if draw(st.booleans()):
        experts = draw(st.integers(1, 16))
        spec["moe"] = {"experts": experts, "top_k": draw(st.integers(1, experts)),
                       "shared_experts": draw(st.integers(0, 2))}
    if draw(st.integers(0, 3)) == 0:
        field = draw(st.sampled_from(sorted(BAD_FIELDS)))
        spec[field] = draw(st.sampled_from(BAD_FIELDS[field]))
    return spec


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=model_specs(), phase=st.sampled_from(["prefill", "decode"]), batch=st.integers(1, 8),
       n=st.integers(1, 300), fused=st.booleans())
def test_random_model_specs_never_crash(spec, phase, batch, n, fused):
    """Random model specs through the loader, the block builder and the engine on the generic NPU: either one
    line naming the problem, or costs that are finite, non-negative, and no faster than the block's weights over
    the NPU's HBM bandwidth (nor than its flops over the arrays' peak)."""
    from hwsim.arch.loader import load_arch
    from hwsim.specio import validate
    from hwsim.workload.models import ModelSpec

    arch = load_arch("npu_128")

    def run():
        model = validate(ModelSpec, spec, "rand.yaml")
        wl = build_block(model, phase, batch, n if phase == "prefill" else None, n if phase == "decode" else None,
                         fused_attention=fused)
        return wl, arch, api.evaluate(wl, arch)

    _sane_or_refused(run, "mxu")
