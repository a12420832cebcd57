"""Presets against the published figures they should reproduce (reference/validation_targets.csv)."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import pytest

from hwsim.engines.pim_timing import (GDDR6_AIM, GDDR6_AIM_TIMING, HBM2_AQUABOLT_TIMING, HBM2_NEUPIMS,
                                      HBM2_NEUPIMS_TIMING, HBM2_NEWTON, HBM2_PIM_AQUABOLT, PRESETS,
                                      DramTiming, peak_external_bandwidth_Bps, peak_internal_bandwidth_Bps,
                                      peak_pim_flops)

TARGETS = Path(__file__).resolve().parents[2] / "hwsim" / "data" / "reference" / "validation_targets.csv"


def _target(chip: str, quantity: str) -> str:
    with TARGETS.open(newline="") as f:
        for row in csv.DictReader(f):
            if row["chip"] == chip and row["quantity"] == quantity:
                return row["value"]
    raise KeyError((chip, quantity))


def test_neupims_peak_bandwidth_from_its_config():
    """NeuPIMs config: 32 channels x 32 banks, 64-B columns, COMP every max(burst, tCCD_S) = 2 ns.

    Internal: 32 x 32 x 64 B / 2 ns = 32.768 TB/s; external: 32 x 64 B / 2 ns = 1.024 TB/s, so all-bank
    PIM has 32x the host bandwidth: the 32 banks of both ranks (16x per rank, AttAcc's "bank 16x").
    16 FP16 multipliers per bank at 1 GHz match: 32 x 32 x 16 x 2 FLOP x 1 GHz = 32.768 TFLOPS.
    """
    t = HBM2_NEUPIMS_TIMING
    assert peak_internal_bandwidth_Bps(HBM2_NEUPIMS, t) == pytest.approx(32.768e12)
    assert peak_external_bandwidth_Bps(HBM2_NEUPIMS, t) == pytest.approx(1.024e12)
    lanes_flops = HBM2_NEUPIMS.channels * HBM2_NEUPIMS.banks_per_channel * HBM2_NEUPIMS.mac_lanes * 2 * t.clock_hz
    assert peak_pim_flops(HBM2_NEUPIMS, t, dtype_bytes=2) == pytest.approx(lanes_flops)
    assert HBM2_NEUPIMS.channels * HBM2_NEUPIMS.banks_per_channel * 32 * 2**20 == 32 * 2**30  # HBM_size 32 GB
    assert "16 multipliers per bank" in _target("NeuPIMs", "memory config")


def test_aquabolt_matches_isscc_pcu_clock_and_tflops():
    """128 PCUs (16 pseudo-channels x 8) of 16 FP16 lanes, one op per all-bank command every tCCD_L."""
    t, org = HBM2_AQUABOLT_TIMING, HBM2_PIM_AQUABOLT
    assert t.clock_hz / t.tCCD_PIM == pytest.approx(float(_target("HBM-PIM (Aquabolt-XL)", "PCU clock")) * 1e6)
    assert org.channels * org.mac_units_per_channel == 128
    tflops = float(_target("HBM-PIM (Aquabolt-XL)", "peak compute"))
    assert peak_pim_flops(org, t, dtype_bytes=2) / 1e12 == pytest.approx(tflops, rel=0.03)


def test_aim_matches_jssc_one_tflops():
    """GDDR6-AiM: 2 channels x 16 banks x 16 BF16 lanes at 1 GHz = 1.024 TFLOPS ("1 TFLOPS MAC")."""
    assert "1 TFLOPS" in _target("GDDR6-AiM (SK hynix)", "device")
    assert peak_pim_flops(GDDR6_AIM, GDDR6_AIM_TIMING, dtype_bytes=2) / 1e12 == pytest.approx(1.0, rel=0.03)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_cites_its_source(name):
    org, timing = PRESETS[name]
    assert org.source and timing.source
    # the MAC lanes keep up with the FP16 elements the column rate delivers to a unit per cycle
    assert org.column_bytes / 2 / timing.tCCD_PIM <= org.mac_lanes
    assert timing.tRFC + timing.tRP < timing.tREFI


def test_newton_is_neupims_without_the_second_row_buffer():
    assert replace(HBM2_NEWTON, name=HBM2_NEUPIMS.name, dual_row_buffer=True,
                   source=HBM2_NEUPIMS.source) == HBM2_NEUPIMS


def test_invalid_values_are_refused_with_the_value():
    with pytest.raises(ValueError, match="tRCD must be an int >= 0 cycles, got -1"):
        replace(HBM2_NEUPIMS_TIMING, tRCD=-1)
    with pytest.raises(ValueError, match="tCCD_PIM must be >= 1 cycle, got 0"):
        replace(HBM2_NEUPIMS_TIMING, tCCD_PIM=0)
    with pytest.raises(ValueError, match="gang_act_banks 3 must divide the 16 banks of a rank"):
        replace(HBM2_NEUPIMS, gang_act_banks=3)
    with pytest.raises(ValueError, match="row_bytes 1000 is not a multiple of column_bytes 64"):
        replace(HBM2_NEUPIMS, row_bytes=1000)
    assert isinstance(HBM2_NEUPIMS_TIMING, DramTiming)
