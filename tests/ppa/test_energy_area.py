"""Energy and area stages: conservation, components, overrides, buffer aliasing, device clock scaling."""

import pytest

from hwsim import api
from hwsim.arch.components import EnergyCalibration
from hwsim.arch.loader import load_arch
from hwsim.errors import SpecError
from hwsim.ppa import energy, sram, tech
from hwsim.ppa.area import area_breakdown, datapath_dtype
from hwsim.workload.ops import DType

INT8 = ["workload.precision.weights=int8", "workload.precision.activations=int8",
        "workload.precision.accumulators=int32", "workload.precision.kv_cache=int8"]


@pytest.fixture(scope="module")
def tpu_run():
    return api.run("tpu_v1", "bert_base", "prefill", batch=8, seq=128, overrides=INT8)


@pytest.fixture(scope="module")
def npu_run():
    return api.run()


@pytest.mark.parametrize("which", ["tpu_run", "npu_run"])
def test_energy_is_the_sum_of_its_parts(which, request):
    r = request.getfixturevalue(which)
    for c in r.costs:
        assert c.energy_total_j == pytest.approx(sum(c.energy_j.values()), rel=1e-12)
    for k, v in r.energy_j.items():
        assert v == pytest.approx(sum(c.energy_j.get(k, 0.0) for c in r.costs), rel=1e-12)
    keys = set(r.energy_j)
    assert "leakage" in keys and "noc" in keys
    assert any(k.startswith("compute.") for k in keys) and any(k.startswith("dram.") for k in keys)
    assert any(k.startswith("sram.") for k in keys)


def test_components_recompute_from_actions_and_traffic(npu_run, npu):
    """An op's compute energy = MACs x (mult + add); its DRAM energy = bits x pJ/bit; its NoC energy = bits at
    shared levels x avg_hops x pJ/bit-hop."""
    c = npu_run.cost("gate_up")
    macs = c.actions["mac.bf16.fp32"]
    mac_j = tech.mac_energy(DType.BF16, DType.FP32, 7).value
    reg_j = (16 + 32) * tech.register_bit("energy", 7).value  # ws: moving activation + partial sum
    assert c.energy_j["compute.mxu"] == pytest.approx(macs * (mac_j + reg_j))
    bits = c.bytes_at("hbm") * 8
    assert c.energy_j["dram.hbm"] == pytest.approx(bits * tech.dram_energy_per_bit(npu.dram.kind).value)
    shared = sum(c.bytes_at(lv) for lv in set(c.reads) | set(c.writes) if not lv.endswith(".buffers")) * 8
    assert c.energy_j["noc"] == pytest.approx(shared * 1.0 * tech.noc_energy_per_bit_hop(7).value)


def test_leakage_is_static_power_times_makespan(npu_run, npu):
    assert npu_run.energy_j["leakage"] == pytest.approx(energy.static_power_w(npu) * npu_run.latency_s)


def test_fitted_energies_override_tables():
    arch = load_arch("npu_128")
    cal = EnergyCalibration(source="test", static_power_w=10.0, action_j={"mac.bf16.fp32": 1e-12},
                            bit_j={"hbm": 5e-12})
    arch = arch.model_copy(update={"energy": cal})
    r = api.evaluate(api.build_block(api.load_model("llama2_7b"), "decode", 1, kv_len=256), arch)
    c = r.cost("gate_up")
    assert c.energy_j["compute.mxu"] == pytest.approx(c.actions["mac.bf16.fp32"] * 1e-12)
    assert c.energy_j["dram.hbm"] == pytest.approx(c.bytes_at("hbm") * 8 * 5e-12)
    assert r.energy_j["leakage"] == pytest.approx(10.0 * r.latency_s)
    # fitted per-bit energies already include on-chip movement: no NoC charge for that level
    shared = sum(c.bytes_at(lv) for lv in set(c.reads) | set(c.writes) if lv not in ("hbm",)
                 and not lv.endswith(".buffers")) * 8
    assert c.energy_j.get("noc", 0.0) == pytest.approx(shared * tech.noc_energy_per_bit_hop(7).value)


def test_tpu_unified_buffer_is_counted_once(tpu_run):
    """The UB is both the `ub` level and the array's ifmap buffer (buffer_levels): its area appears once, the
    array's own buffers are the 4 MiB accumulators + 256 KiB weight FIFO, and ifmap feeds charge sram.ub."""
    arch = load_arch("tpu_v1")
    a = area_breakdown(arch)
    own = sram.sram_area_mm2(4 * 2 ** 20, 1, 28).value + sram.sram_area_mm2(256 * 1024, 1, 28).value
    assert a["mxu.buffers"] == pytest.approx(own)
    assert a["sram.ub"] == pytest.approx(sram.sram_area_mm2(24 * 2 ** 20, 24, 28, access_bits=2048).value)
    g = energy.level_geometry(arch, "mxu.buffers", "ifmap")
    assert g.key == "sram.ub" and g.banks == 24
    assert energy.level_geometry(arch, "mxu.buffers", "ofmap").capacity == 4 * 2 ** 20
    leak = energy.leakage_power_w(arch)
    assert leak["sram.mxu.buffers"] == pytest.approx(sram.sram_leakage_w(4 * 2 ** 20, 1, 28).value
                                                     + sram.sram_leakage_w(256 * 1024, 1, 28).value)


def test_operand_without_a_buffer_is_charged_at_a_real_buffer():
    """A `bias` read at mxu.buffers: the mean of TPU v1's own buffers ((4 MiB + 256 KiB) / 2); with every buffer
    aliased to the UB, the UB itself (no made-up capacity)."""
    g = energy.level_geometry(load_arch("tpu_v1"), "mxu.buffers", "bias")
    assert (g.key, g.capacity) == ("sram.mxu.buffers", (4 * 2 ** 20 + 256 * 1024) / 2)
    arch = load_arch("tpu_v1", ["units.mxu.buffer_levels.filter=ub", "units.mxu.buffer_levels.ofmap=ub"])
    g = energy.level_geometry(arch, "mxu.buffers", "bias")
    assert (g.key, g.capacity, g.banks) == ("sram.ub", 24 * 2 ** 20, 24)


def test_buffer_levels_must_name_an_on_chip_level():
    with pytest.raises(SpecError, match="buffer_levels.ifmap.*not an on-chip memory level"):
        load_arch("tpu_v1", ["units.mxu.buffer_levels.ifmap=ddr3"])


def test_datapath_format_is_the_full_rate_one():
    """TPU v1 runs int16 at 1/4 rate on int8 multipliers; the NPU runs fp16/bf16/int8 at full rate -> fp16."""
    assert datapath_dtype(load_arch("tpu_v1").units["mxu"]) == DType.INT8
    assert datapath_dtype(load_arch("npu_128").units["mxu"]) == DType.FP16
    assert datapath_dtype(load_arch("tpu_v1").units["act"]) == DType.FP32


def test_area_components_and_control_share():
    for name in ("npu_128", "tpu_v1", "mobile_npu", "h100"):
        arch = load_arch(name)
        a = area_breakdown(arch)
        assert all(v > 0 for v in a.values())
        assert a["control_io"] / sum(a.values()) == pytest.approx(arch.control_overhead_fraction)
        assert {f"phy.{arch.dram.name}"} <= set(a)


def test_smaller_node_shrinks_the_die():
    sizes = [sum(api.area("npu_128", [f"tech.node={n}"]).values()) for n in (45, 28, 16, 7, 5, 3)]
    assert all(b <= a for a, b in zip(sizes, sizes[1:])), sizes


def test_device_sweep_shows_the_frequency_gain():
    """clock_scaling: device -> FFET runs 1.25x the clock, so a compute-bound op is 1.25x faster; fixed keeps it."""
    def run(*o):
        return api.run("tpu_v1", "bert_base", "prefill", batch=8, seq=128, overrides=INT8 + list(o))

    rc = run("tech.device=cfet", "tech.clock_scaling=device")
    rf = run("tech.device=ffet", "tech.clock_scaling=device")
    c, f = rc.cost("attn_score"), rf.cost("attn_score")
    assert c.bound.value == "compute" and c.compute_cycles == f.compute_cycles
    # the un-hidden first weight load is DRAM time, which does not speed up with the clock
    assert c.compute_cycles / 700e6 / (f.compute_cycles / 875e6) == pytest.approx(1.25)
    assert 1.2 < c.latency_s / f.latency_s <= 1.25
    assert rf.cost("attn_score").energy_j["compute.mxu"] / c.energy_j["compute.mxu"] == pytest.approx(0.881)
    assert run("tech.device=ffet").cost("attn_score").latency_s == c.latency_s  # fixed clock by default
    assert sum(api.area("npu_128", ["tech.device=ffet"]).values()) < sum(api.area("npu_128").values())
