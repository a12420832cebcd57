"""End-to-end evaluate(): the default job's physics and conservation laws."""

import pytest

from hwsim import api
from hwsim.workload import build_block, load_model


def test_default_run_is_memory_bound_at_weights_over_bandwidth(npu):
    """Llama-2-7B decode, batch 1, kv 2048 on the generic NPU: HBM must move the layer's weights
    (202,383,360 x 2 B) plus the K/V cache (2 x 2048 x 4096 x 2 B); the latency is that over 819.2 GB/s."""
    r = api.run()
    floor = (202_383_360 * 2 + 2 * 2048 * 4096 * 2) / 819.2e9
    assert floor <= r.latency_s <= 1.05 * floor
    gemms = [c for c in r.costs if c.kind == "gemm"]
    assert all(c.bound.value == "memory" for c in gemms)


def test_energy_is_sum_of_parts_and_dram_bytes_at_least_compulsory(npu, llama7b):
    wl = build_block(llama7b, "prefill", 1, 512)
    r = api.evaluate(wl, npu)
    assert sum(c.energy_total_j for c in r.costs) == pytest.approx(r.energy_total_j, rel=1e-12)
    assert sum(r.energy_j.values()) == pytest.approx(r.energy_total_j)
    dram = sum(c.extra["dram_bytes"] for c in r.costs)
    assert dram >= wl.weight_bytes
    # energy never below the MAC floor
    from hwsim.ppa.tech import mac_energy
    from hwsim.workload.ops import DType
    macs = sum(op.macs for op in wl.ops())
    assert r.energy_j["compute.mxu"] >= macs * mac_energy(DType.BF16, DType.FP32, 7).value * 0.999


def test_latency_at_least_roofline(npu, llama7b):
    for phase, kw in (("prefill", {"seq": 1024}), ("decode", {"kv_len": 4096})):
        wl = build_block(llama7b, phase, 4, **kw)
        r = api.evaluate(wl, npu)
        peak = 2 * sum(u.pes for u in npu.units.values() if u.kind == "systolic") * npu.clock_hz
        assert r.latency_s >= wl.flops / peak * 0.999
        assert r.latency_s >= wl.weight_bytes / npu.dram.bandwidth


def test_more_bandwidth_never_slower(llama7b):
    slow = api.run(overrides=["memories.hbm.bandwidth=400GB/s"])
    fast = api.run(overrides=["memories.hbm.bandwidth=1600GB/s"])
    assert fast.latency_s < slow.latency_s


def test_workload_overrides_route_to_model_and_block():
    r = api.run(overrides=["workload.precision.weights=int8", "workload.batch=4"])
    assert r.params["batch"] == 4
    base = api.run(overrides=["workload.batch=4"])
    assert r.latency_s < base.latency_s


def test_tpu_v1_runs_int8_bert():
    r = api.run("tpu_v1", "bert_base", "prefill", batch=8, seq=128,
                overrides=["workload.precision.weights=int8", "workload.precision.activations=int8",
                           "workload.precision.accumulators=int32", "workload.precision.kv_cache=int8"])
    assert r.latency_s > 0 and {c.unit for c in r.costs} == {"mxu", "act"}


def test_inputs_hash_is_stable():
    assert api.run().inputs_hash == api.run().inputs_hash
