"""Technology tables: provenance on every row, hand-checked values, derivation rules, monotonicity, devices."""

import math

import pytest
from hypothesis import given, settings, strategies as st

from hwsim.arch.components import ClockScaling, Device, MemoryKind, SramCell
from hwsim.errors import SpecError
from hwsim.ppa import sram, tables, tech
from hwsim.workload.ops import DType

NODES = (45, 28, 16, 7, 5, 3)


@pytest.mark.parametrize("name", tables.TABLES)
def test_every_row_has_basis_and_source(name):
    rows = tables.table(name)
    assert rows
    for r in rows:
        assert r["basis"] in tables.BASES and len(r["source"]) > 10, r


@pytest.mark.parametrize("basis,source,words", [("published", "", "row 2.source"),
                                                 ("guess", "x y z", "allowed: published, derived, fitted, extrapolated")])
def test_a_row_without_provenance_is_rejected(tmp_path, monkeypatch, basis, source, words):
    (tmp_path / "scaling.csv").write_text("node_nm,area_factor,energy_factor,basis,source,note\n"
                                          f"45,1,1,{basis},{source},\n")
    monkeypatch.setattr(tables, "TECH_DIR", tmp_path)
    tables.table.cache_clear()
    try:
        with pytest.raises(SpecError, match=words):
            tables.table("scaling")
    finally:
        tables.table.cache_clear()


def test_a_second_basis_column_is_checked_too(tmp_path, monkeypatch):
    """dram.csv's phy_basis (the PHY area's provenance) obeys the same rule as basis."""
    (tmp_path / "dram.csv").write_text("kind,energy_pj_per_bit,basis,phy_basis,source,note\n"
                                       "ddr3,20,published,guess,Horowitz,\n")
    monkeypatch.setattr(tables, "TECH_DIR", tmp_path)
    tables.table.cache_clear()
    try:
        with pytest.raises(SpecError, match="row 2.phy_basis: got 'guess'"):
            tables.table("dram")
    finally:
        tables.table.cache_clear()


def test_derived_arithmetic_rows_follow_the_power_law():
    """Each derived row = power law through the family's two published rows (int: 8/32 bits; float: fp16/fp32
    significands 11/24), e.g. int16 mult = 0.2 pJ x (16/8)^(ln(3.1/0.2)/ln 4) = 0.7874 pJ."""
    rows = {(r["op"], r["format"]): r for r in tables.table("arithmetic")}
    floats = {"fp16", "fp32", "bf16", "fp8", "fp8_e5m2", "tf32", "fp6_e2m3", "fp6_e3m2", "fp4"}
    derived = [r for r in rows.values() if r["basis"] == "derived"]
    assert {r["format"] for r in derived if r["op"] == "mult"} == {"int4", "int16", "bf16", "fp8", "fp8_e5m2", "tf32", "fp6_e2m3", "fp6_e3m2", "fp4"}
    for r in derived:
        lo, hi = ("fp16", "fp32") if r["format"] in floats else ("int8", "int32")
        a, b = rows[(r["op"], lo)], rows[(r["op"], hi)]
        for col in ("energy_pj", "area_um2"):
            v, _ = tech.power_law(float(a[col]), float(a["width_bits"]), float(b[col]), float(b["width_bits"]),
                                  float(r["width_bits"]))
            assert float(r[col]) == pytest.approx(v, rel=1e-3), (r["op"], r["format"], col)
    assert float(rows[("mult", "int16")]["energy_pj"]) == pytest.approx(0.7874, rel=1e-4)


def test_hand_checked_values():
    """Horowitz: int8 MAC = 0.2 + 0.1 pJ at 45 nm; S-B 7 nm energy x0.0943, area x0.059."""
    assert tech.mac_energy(DType.INT8, DType.INT32).value == pytest.approx(0.3e-12)
    assert tech.mac_energy(DType.INT8, DType.INT32, 7).value == pytest.approx(0.3e-12 * 0.0943)
    assert tech.mac_energy(DType.FP16, DType.FP32).value == pytest.approx(2.0e-12)
    assert tech.node_factors(7)[:2] == (0.059, 0.0943)
    assert tech.unit_op("mult", DType.INT8, "area", 7).value == pytest.approx(282e-6 * 0.059)
    # 5 and 3 nm are the hwcomponents extrapolation of the 7 nm factors, flagged
    a5, e5 = tech.node_scaling(5)
    assert a5.value == pytest.approx(0.059 * 5 / 7, rel=1e-3) and e5.value == pytest.approx(0.0943 * math.sqrt(5 / 7), rel=1e-3)
    assert a5.basis == e5.basis == "extrapolated" and tech.node_scaling(7)[0].basis == "published"


def test_pe_area_is_cells_times_layout_overhead():
    """int8/int32 WS PE with a double-buffered weight at 45 nm: (282 + 137 + (3x8 + 32) x 5.98) um^2 x 2.5."""
    pe = tech.pe_area_mm2(DType.INT8, DType.INT32)
    assert pe.value == pytest.approx((282 + 137 + 56 * 5.98) * 2.5e-6)
    assert tech.pe_area_mm2(DType.INT8, DType.INT32, double_buffered=False).value < pe.value


def test_ffet_vs_cfet_are_the_papers_ratios():
    """Lu et al. DATE 2025: area -23.3 %, power -11.9 %, +25.0 % f (same utilisation), +16.0 % f (same area);
    dual-sided signals +10.6 % f."""
    cfet, ffet = Device.CFET, Device.FFET
    e = lambda d: tech.mac_energy(DType.BF16, DType.FP32, 7, d).value  # noqa: E731
    a = lambda d, cs=ClockScaling.FIXED: tech.pe_area_mm2(DType.BF16, DType.FP32, 7, d, clock_scaling=cs).value  # noqa: E731
    assert e(ffet) / e(cfet) == pytest.approx(0.881)
    assert a(ffet) / a(cfet) == pytest.approx(0.767)
    assert tech.clock_factor(ffet, ClockScaling.DEVICE) / tech.clock_factor(cfet, ClockScaling.DEVICE) == 1.25
    assert tech.clock_factor(ffet, ClockScaling.DEVICE_ISO_AREA) == pytest.approx(1.16)
    assert a(ffet, ClockScaling.DEVICE_ISO_AREA) == a(cfet)
    assert tech.clock_factor(Device.FFET_DUAL, ClockScaling.DEVICE) == pytest.approx(1.25 * 1.106)
    assert e(Device.FFET_DUAL) == e(ffet)
    assert tech.clock_factor(ffet, ClockScaling.FIXED) == 1.0
    # unsourced devices are the reference and say so
    assert "UNSOURCED" in tech.device_scaling(Device.GAA).source and tech.device_factors(Device.GAA)[:3] == (1, 1, 1)


def test_devices_leave_sram_alone():
    """No sourced SRAM factor for any device: SRAM numbers do not depend on it."""
    for f in (sram.sram_area_mm2, sram.sram_leakage_w):
        assert f(2 ** 20, 1, 7, Device.FFET).value == f(2 ** 20, 1, 7, Device.FINFET).value


@pytest.mark.parametrize("quantity", ["read", "write", "area", "leakage"])
@pytest.mark.parametrize("width", [64, 512])
@pytest.mark.parametrize("node", [45, 32, 22])
def test_cacti_fits_stay_close_to_the_runs(quantity, width, node):
    """Power law in capacity: within 35 % of every CACTI run (worst: 512b read/area, lumpy organisations)."""
    assert sram.cacti_fit(quantity, width, node)[2] < 0.35


def test_45nm_macro_area_is_cacti():
    """At 45 nm the bitcell is CACTI's own 146 F^2 (0.2957 um^2 in the table), so the model returns the CACTI
    fit itself (to the table's 4 digits)."""
    a, b, _ = sram.cacti_fit("area", 64, 45)
    assert sram.sram_area_mm2(2 ** 20, 1, 45).value == pytest.approx(math.exp(a + b * math.log(2 ** 20)), rel=1e-3)


@settings(max_examples=60, deadline=None)
@given(kb=st.integers(8, 16384), grow=st.floats(1.1, 8), width=st.sampled_from([32, 64, 256, 512, 2048]),
       node=st.sampled_from(NODES))
def test_sram_energy_and_area_grow_with_capacity(kb, grow, width, node):
    small, big = kb * 1024, kb * 1024 * grow
    for write in (False, True):
        assert (sram.sram_energy_per_bit(big, 1, width, write, node).value
                > sram.sram_energy_per_bit(small, 1, width, write, node).value)
    assert sram.sram_area_mm2(big, 1, node, access_bits=width).value > sram.sram_area_mm2(small, 1, node,
                                                                                          access_bits=width).value
    assert sram.sram_leakage_w(big, 1, node).value > sram.sram_leakage_w(small, 1, node).value


@pytest.mark.parametrize("cap", [32 * 1024, 2 ** 20, 32 * 2 ** 20])
def test_smaller_node_never_larger(cap):
    areas = [sram.sram_area_mm2(cap, 4, n).value for n in NODES]
    energies = [sram.sram_energy_per_bit(cap, 4, 64, False, n).value for n in NODES]
    pes = [tech.pe_area_mm2(DType.BF16, DType.FP32, n).value for n in NODES]
    macs = [tech.mac_energy(DType.INT8, DType.INT32, n).value for n in NODES]
    for seq in (areas, energies, pes, macs):
        assert all(b <= a for a, b in zip(seq, seq[1:])), seq


def test_banking_splits_capacity_and_adds_wire():
    """24 MiB in 24 banks: each access is a 1 MiB bank + a wire of half the array side (0.11 pJ/bit/mm)."""
    e24 = sram.sram_energy_per_bit(24 * 2 ** 20, 24, 512, node_nm=28).value
    bank = sram.sram_energy_per_bit(2 ** 20, 1, 512, node_nm=28).value
    side = math.sqrt(sram.sram_area_mm2(24 * 2 ** 20, 24, 28, access_bits=512).value)
    assert e24 == pytest.approx(bank + 0.11e-12 * side / 2)
    assert e24 < sram.sram_energy_per_bit(24 * 2 ** 20, 1, 512, node_nm=28).value


def test_sram_cells_scale_leakage_and_dynamic():
    hp = sram.sram_leakage_w(2 ** 20, 1, 28).value
    assert sram.sram_leakage_w(2 ** 20, 1, 28, cell=SramCell.LOP).value == pytest.approx(0.1219 * hp)
    assert sram.sram_leakage_w(2 ** 20, 1, 28, cell=SramCell.LSTP).value == pytest.approx(4.017e-4 * hp)
    e = lambda c: sram.sram_energy_per_bit(2 ** 20, node_nm=28, cell=c).value  # noqa: E731
    assert e(SramCell.LOP) == pytest.approx(0.49 * e(SramCell.HP))


def test_dram_rows_cover_every_off_chip_kind():
    for k in MemoryKind:
        if k.off_chip:
            e = tech.dram_energy_per_bit(k)
            assert e.value > 0 and e.basis in tables.BASES
    # HBM3: HBM2's core terms x (1.1/1.2)^2 + interposer I/O x (0.4/1.2)^2
    assert tech.dram_energy_per_bit(MemoryKind.HBM3).value == pytest.approx(
        (3.29 * (1.1 / 1.2) ** 2 + 0.3 * (0.4 / 1.2) ** 2) * 1e-12, rel=2e-3)
    assert tech.dram_energy_per_bit(MemoryKind.HBM2).basis == "published"
    # H100: 3.35 TB/s over 819.2 GB/s HBM3 stacks = 5 PHYs of 10.45 mm^2
    assert tech.dram_phy_area_mm2(MemoryKind.HBM3, 3.35e12).value == pytest.approx(5 * 10.45)
    assert tech.dram_phy_area_mm2(MemoryKind.DDR3, 34e9).value == pytest.approx(4 * 1.45)


def test_noc_and_wire():
    """Park et al. DAC 2012: 531.4 mW / 892 Gb/s / 2.5 hops = 0.2383 pJ per bit-hop at 45 nm."""
    assert tech.noc_energy_per_bit_hop(45).value == pytest.approx(531.4e-3 / 892e9 / 2.5, rel=1e-3)
    assert tech.noc_energy_per_bit_hop(7).value == pytest.approx(0.2383e-12 * 0.0943, rel=1e-3)
    assert tech.wire_energy_per_bit_mm().value == pytest.approx(0.11e-12)
