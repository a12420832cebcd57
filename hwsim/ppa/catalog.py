"""The technology tables resolved at one node/device/cell, as rows a user can read (``hwsim tech``).

Each row: ``quantity``, ``value``, ``unit``, ``basis`` (published / derived / fitted / extrapolated) and
``source``. Values are in the units engineers quote (pJ, um^2, mm^2, mW), not SI, because this is a report.
"""

from __future__ import annotations

from hwsim.arch.components import MemoryKind, TechSpec
from hwsim.ppa import sram, tech
from hwsim.ppa.tables import Sourced, table
from hwsim.workload.ops import DType

MAC_PAIRS = ((DType.INT4, DType.INT32), (DType.INT8, DType.INT32), (DType.INT16, DType.INT32),
             (DType.FP8, DType.FP32), (DType.FP16, DType.FP32), (DType.BF16, DType.FP32), (DType.FP32, DType.FP32))
SRAM_SIZES = ((32 * 1024, "32 KiB"), (2 ** 20, "1 MiB"), (32 * 2 ** 20, "32 MiB"))


def _row(quantity: str, s: Sourced, scale: float, unit: str) -> dict:
    return {"quantity": quantity, "value": s.value * scale, "unit": unit, "basis": s.basis, "source": s.source}


def _scaling_rows(t: TechSpec) -> list[dict]:
    a, e = tech.node_scaling(t.node_nm)
    d = tech.device_scaling(t.device)
    ds = Sourced(0, "", d.source, d.basis)
    rows = [_row("node area factor vs 45 nm", a, 1, "x"), _row("node energy factor vs 45 nm", e, 1, "x")]
    for q, v in (("device logic area factor", tech.logic_area_factor(t.device, t.clock_scaling)),
                 ("device logic power factor", d.power),
                 (f"device clock factor ({t.clock_scaling.value})", tech.clock_factor(t.device, t.clock_scaling))):
        rows.append({**_row(q, ds, 1, "x"), "value": v})
    return rows


def _arith_rows(t: TechSpec) -> list[dict]:
    rows = []
    d = tech.device_scaling(t.device)
    for r in table("arithmetic"):
        if r["op"] not in ("mult", "add"):
            continue
        dt = DType(r["format"])
        e = tech.unit_op(r["op"], dt, "energy", t.node_nm)
        e = Sourced(e.value * d.power, e.unit, f"{e.source}; device power x{d.power} ({d.device.value})",
                    tech._mix(e.basis, d.basis))
        rows.append(_row(f"{r['op']} {dt.value} energy", e, 1e12, "pJ"))
        rows.append(_row(f"{r['op']} {dt.value} cell area", tech.unit_op(r["op"], dt, "area", t.node_nm), 1e6,
                         "um^2"))
    for dt, acc in MAC_PAIRS:
        rows.append(_row(f"MAC {dt.value}/{acc.value} energy", tech.mac_energy(dt, acc, t.node_nm, t.device),
                         1e12, "pJ"))
        rows.append(_row(f"systolic PE {dt.value}/{acc.value} placed area",
                         tech.pe_area_mm2(dt, acc, t.node_nm, t.device, clock_scaling=t.clock_scaling), 1e6, "um^2"))
    rows.append(_row("register energy per bit", tech.register_bit("energy", t.node_nm), 1e12, "pJ"))
    rows.append(_row("register area per bit", tech.register_bit("area", t.node_nm), 1e6, "um^2"))
    return rows


def _sram_rows(t: TechSpec) -> list[dict]:
    rows = []
    for cap, label in SRAM_SIZES:
        n, c = t.node_nm, t.sram_cell
        rows += [_row(f"SRAM {label} read energy per bit", sram.sram_energy_per_bit(cap, node_nm=n, cell=c), 1e12, "pJ"),
                 _row(f"SRAM {label} write energy per bit",
                      sram.sram_energy_per_bit(cap, write=True, node_nm=n, cell=c), 1e12, "pJ"),
                 _row(f"SRAM {label} leakage ({c.value})", sram.sram_leakage_w(cap, 1, n, cell=c), 1e3, "mW"),
                 _row(f"SRAM {label} area", sram.sram_area_mm2(cap, 1, n), 1, "mm^2")]
    return rows


def _offchip_rows(t: TechSpec) -> list[dict]:
    rows = []
    for r in table("dram"):
        k = MemoryKind(r["kind"])
        rows.append(_row(f"{k.value} energy per bit", tech.dram_energy_per_bit(k), 1e12, "pJ"))
        bw = tech.dram_unit_bandwidth(k)
        rows.append(_row(f"{k.value} PHY area per {r['unit_bits']}-bit unit ({bw / 1e9:.1f} GB/s)",
                         tech.dram_phy_area_mm2(k, bw), 1, "mm^2"))
    rows.append(_row("on-chip wire energy per bit per mm", tech.wire_energy_per_bit_mm(), 1e12, "pJ"))
    rows.append(_row("NoC energy per bit per hop", tech.noc_energy_per_bit_hop(t.node_nm, t.device), 1e12, "pJ"))
    rows.append(_row("logic leakage / full-activity dynamic power", tech.logic_leakage_fraction(), 1, "x"))
    return rows


def resolved_table(t: TechSpec) -> list[dict]:
    """Every technology number hwsim uses at ``t``, with unit, basis and source.

    >>> from hwsim.arch.components import TechSpec
    >>> rows = resolved_table(TechSpec(node_nm=7))
    >>> [r["value"] for r in rows if r["quantity"] == "node energy factor vs 45 nm"]
    [0.0943]
    """
    return _scaling_rows(t) + _arith_rows(t) + _sram_rows(t) + _offchip_rows(t)
