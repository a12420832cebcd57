"""The PIM unit kind: spec validation, the engine's refusals and costs, its energy and area hooks."""

import pytest

from hwsim.api import evaluate
from hwsim.arch.loader import load_arch
from hwsim.engines.base import cost_op
from hwsim.engines.pim import ChannelLoad, GemvShape, channel_load, gemv_shape
from hwsim.engines.pim_equations import gemv_equations
from hwsim.engines.pim_timing import HBM2_NEUPIMS, HBM2_NEUPIMS_TIMING
from hwsim.errors import MappingError, SpecError, UnsupportedOpError
from hwsim.mapping.types import OpMapping
from hwsim.ppa.area import area_breakdown
from hwsim.ppa.energy import dynamic_energy, peak_dynamic_power_w
from hwsim.ppa.tech import mac_energy
from hwsim.result import Fidelity
from hwsim.workload import build_block, load_model
from hwsim.workload.ops import DType

GPT3_SHARD = ["heads=10", "kv_heads=10", "ffn_dim=5120"]  # GPT-3 13B, tensor-parallel 4 ways


@pytest.fixture(scope="module")
def neupims():
    return load_arch("neupims")


def _decode(batch=64, kv_len=512, model="gpt3_13b", overrides=GPT3_SHARD):
    return build_block(load_model(model, overrides), "decode", batch, kv_len=kv_len)


def _pim(op, arch, **options):
    return cost_op(op, "pim", arch, OpMapping(op.name, "pim", options=options), Fidelity.ANALYTICAL)


@pytest.mark.parametrize("name", ["softmax", "qkv_proj", "attn_norm", "kv_append", "up"])
def test_refuses_everything_but_gemvs(neupims, name):
    """Vector ops and copies are not GEMMs; batch-64 projections have 64 rows per group (> max_vectors 8)."""
    with pytest.raises(UnsupportedOpError):
        _pim(_decode().op(name), neupims)


def test_refuses_fused_attention_prefill_and_wrong_precision(neupims):
    """A fused attention op is not a GEMM; prefill attention reads K from activations (not DRAM-resident) and
    has 512 rows per group; a short chunk after cached tokens has few rows but half its keys are fresh; an int8
    GEMV is not in the unit's precisions (fp16)."""
    m = load_model("gpt3_13b", GPT3_SHARD)
    with pytest.raises(UnsupportedOpError, match="not attention"):
        _pim(build_block(m, "decode", 4, kv_len=64, fused_attention=True).op("attention"), neupims)
    with pytest.raises(UnsupportedOpError):
        _pim(build_block(m, "prefill", 1, seq=512).op("attn_score"), neupims)
    with pytest.raises(UnsupportedOpError, match="fresh activation"):  # 4-token chunk after 64 cached tokens
        _pim(build_block(m, "prefill", 1, seq=4, past_len=64).op("attn_score"), neupims)
    int8 = load_model("gpt3_13b", GPT3_SHARD + ["precision.weights=int8", "precision.activations=int8",
                                                "precision.kv_cache=int8"])
    with pytest.raises(UnsupportedOpError, match="not int8"):
        _pim(build_block(int8, "decode", 4, kv_len=64).op("attn_score"), neupims)


def test_gemv_shape_of_decode_attention():
    """attn_score: B = batch x kv heads = 640 matrices of Lkv x head_dim (rows = keys), one query each;
    attn_context: V^T, head_dim rows x Lkv columns; 64 sequences (the K/V cache's first dim)."""
    wl = _decode()
    u = load_arch("neupims").units["pim"]
    assert gemv_shape(wl.op("attn_score"), u) == GemvShape(640, 1, 512, 128, 2, 64)
    assert gemv_shape(wl.op("attn_context"), u) == GemvShape(640, 1, 128, 512, 2, 64)


def test_channel_load():
    """Sequences placement: 64 sequences on 32 channels = 2 each, x 10 heads = 20 GEMVs per channel; 8
    sequences use 8 channels; head placement deals 80 (sequence, head) pairs over 32 channels: ceil = 3.
    One weight matrix (B = 1) splits its 5120 rows over all channels: 160 each."""
    s = GemvShape(640, 1, 512, 128, 2, 64)
    assert channel_load(s, 32, "sequence") == ChannelLoad(20, 512, 32)
    assert channel_load(GemvShape(80, 1, 512, 128, 2, 8), 32, "sequence") == ChannelLoad(10, 512, 8)
    assert channel_load(GemvShape(80, 1, 512, 128, 2, 8), 32, "head") == ChannelLoad(3, 512, 32)
    assert channel_load(GemvShape(1, 1, 5120, 5120, 2, 1), 32, "sequence") == ChannelLoad(1, 160, 32)


def test_cost_is_gemvs_per_channel_times_the_equations(neupims):
    """attn_score of batch 64, kv_len 512: each channel runs 20 GEMVs of 512 x 128 one after another, each
    costing gemv_equations(512, 128, fp16, one channel) DRAM cycles at 1 GHz."""
    c = _pim(_decode().op("attn_score"), neupims)
    per = gemv_equations(512, 128, 2, HBM2_NEUPIMS, HBM2_NEUPIMS_TIMING, channels=1).cycles
    assert c.latency_s == pytest.approx(20 * per / 1e9, rel=1e-12)
    assert c.extra["channels_used"] == 32 and c.extra["pim_bank_bytes"] == 640 * 512 * 128 * 2
    assert "exclusive_levels" not in c.extra


def test_blocked_mode_claims_its_memory(neupims):
    """A blocked-mode PIM (mapping option, or hardware without a dual row buffer) holds hbm exclusively."""
    op = _decode().op("attn_score")
    assert _pim(op, neupims, blocked=True).extra["exclusive_levels"] == ("hbm",)
    single = load_arch("neupims", ["units.pim.dual_row_buffer=false"])
    assert _pim(op, single).extra["exclusive_levels"] == ("hbm",)


def test_cycle_fidelity_uses_the_simulator(neupims):
    """Cycle fidelity runs pim_sim.simulate_gemv; it agrees with the closed form within 3% (docs/pim.md's
    claim) and, in dual-row-buffer mode, reports the host-bus share it measured as hbm cycles."""
    op = _decode(8, 256).op("attn_score")
    a = _pim(op, neupims)
    c = cost_op(op, "pim", neupims, OpMapping(op.name, "pim"), Fidelity.CYCLE)
    assert c.fidelity == Fidelity.CYCLE and "simulate_gemv" in c.notes[-1]
    assert c.latency_s == pytest.approx(a.latency_s, rel=0.03)
    assert c.memory_cycles["hbm"] >= a.memory_cycles["hbm"]


def test_energy_of_bank_reads(neupims):
    """compute.pim = MACs x (fp16 mult + fp32 add at 7 nm) + bank bits x 0.55 pJ (cell ACT/PRE 0.11 + RD/WR
    0.44, tech_tables.md s.4); the bus traffic (vectors in, results out) is priced as HBM bits."""
    c = _pim(_decode().op("attn_score"), neupims)
    e = dynamic_energy(c, neupims)
    macs = 640 * 512 * 128
    expected = macs * mac_energy(DType.FP16, DType.FP32, 7).value + 640 * 512 * 128 * 2 * 8 * 0.55e-12
    assert e["compute.pim"] == pytest.approx(expected, rel=1e-9)
    assert e["dram.hbm"] == pytest.approx(c.extra["dram_bytes"] * 8 * 3.59e-12, rel=1e-9)


def test_area_and_peak_power_registered(neupims):
    """PIM MAC lanes: 32 channels x 32 banks x 16 lanes; peak rate 16384 lanes / tCCD_PIM 2 at 1 GHz."""
    a = area_breakdown(neupims)
    assert a["pim"] > 0
    p = peak_dynamic_power_w("pim", neupims)
    assert p == pytest.approx(32 * 32 * 16 * 1e9 / 2 * mac_energy(DType.FP16, DType.FP32, 7).value)


@pytest.mark.parametrize("override,message", [
    ("units.pim.preset=HBM9", "unknown PIM preset"),
    ("units.pim.timing={tXYZ: 3}", "unknown timing field"),
    ("units.pim.memory=ddr", "not a memory level"),
    ("units.pim.timing.tRCD=-1", "units.pim: tRCD must be an int >= 0 cycles, got -1"),
    ("units.pim.timing.tCCD_PIM=0", "units.pim: tCCD_PIM must be >= 1 cycle, got 0"),
    ("units.pim.timing.tREFI=100", r"units.pim: timing: tRFC 260 \+ tRP 14 must be below tREFI 100"),
    ("units.pim.mode=diagonal", r"units.pim.mode: not an allowed value \(got 'diagonal'\) \(allowed: 'all_bank' or 'per_bank'\)"),
])
def test_bad_pim_specs_are_one_line_errors(override, message):
    """The field path keeps the unit's name even when it is also a kind (the unit is named ``pim``)."""
    with pytest.raises(SpecError, match=message) as e:
        load_arch("neupims", [override])
    assert "\n" not in str(e.value) and str(e.value).startswith("arch_configs/neupims.yaml: ")


@pytest.mark.parametrize("options,message", [
    ({"blocked": "maybe"}, "options.blocked 'maybe' is not a boolean"),
    ({"blokced": True}, "unknown option.s. blokced"),
])
def test_bad_pim_mapping_options_are_errors(neupims, options, message):
    """A misspelt or non-boolean ``blocked`` must not silently pick a mode (``bool("maybe")`` is True)."""
    with pytest.raises(MappingError, match=message):
        _pim(_decode().op("attn_score"), neupims, **options)


def test_energy_conservation_with_pim(neupims):
    """Op energies (leakage share included) add up to the block's."""
    r = evaluate(_decode(), neupims, mapping="neupims")
    assert sum(c.energy_total_j for c in r.costs) == pytest.approx(r.energy_total_j, rel=1e-12)
