"""Technology tables resolved at a node and device: arithmetic, registers, DRAM, NoC, scaling, each value
with its source and basis.

The numbers live in ``hwsim/data/tech/*.csv`` (see :mod:`hwsim.ppa.tables`); this module only combines them.
Base data are 45 nm (Horowitz ISSCC 2014 arithmetic, Aladdin registers); other nodes scale by the
Stillmaker-Baas factors of ``scaling.csv`` (5 and 3 nm extrapolated, flagged so). ``device`` factors
(``devices.csv``) apply to *logic* only: the Flip FET paper measured a synthesised core, not SRAM macros,
DRAM or PHYs, so those are left unchanged (docs/ppa.md, "Devices"). SRAM lives in :mod:`hwsim.ppa.sram`;
its public functions are re-exported here for callers of the v1 API.

Formats without a primary row (int4, int16, bf16, fp8, tf32) are *derived* rows of ``arithmetic.csv``: a
power law in (significand) width through the two published rows of the same family,
``v(w) = v_a (w / w_a)^p`` with ``p = ln(v_b / v_a) / ln(w_b / w_a)`` (:func:`power_law`); it reproduces both
published rows and shows its exponent (multiplier area ~ width^1.8-2, the textbook square law).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache

from hwsim.arch.components import ClockScaling, Device, MemoryKind
from hwsim.ppa.tables import Sourced, lookup, param, table
from hwsim.workload.ops import DType

NODES = tuple(int(r["node_nm"]) for r in table("scaling"))


# ---- node and device scaling ------------------------------------------------------------------------
@lru_cache(maxsize=None)
def node_scaling(node_nm: int) -> tuple[Sourced, Sourced]:
    """(area factor, energy factor) from 45 nm to ``node_nm``, each with its source and basis."""
    try:
        r = lookup("scaling", node_nm=node_nm)
    except KeyError:
        raise KeyError(f"node {node_nm} nm has no scaling row; nodes are {', '.join(map(str, NODES))}") from None
    src = f"{r['source']}: 45->{node_nm} nm" + (f" ({r['note']})" if r["basis"] != "published" else "")
    return (Sourced(float(r["area_factor"]), "x", src, r["basis"]),
            Sourced(float(r["energy_factor"]), "x", src, r["basis"]))


def node_factors(node_nm: int) -> tuple[float, float, str]:
    """(area factor, energy factor, source) from 45 nm to ``node_nm`` (v1 signature).

    >>> node_factors(7)[:2]
    (0.059, 0.0943)
    """
    a, e = node_scaling(node_nm)
    return a.value, e.value, f"{a.source} [{a.basis}]: area x{a.value}, energy x{e.value}"


@dataclass(frozen=True)
class DeviceFactors:
    """Multipliers on logic area, logic power (dynamic and leakage) and maximum frequency, against FinFET."""

    device: Device
    area: float
    power: float
    freq: float
    freq_iso_area: float
    basis: str
    source: str


@lru_cache(maxsize=None)
def device_scaling(dev: Device) -> DeviceFactors:
    r = lookup("devices", device=dev.value)
    return DeviceFactors(dev, float(r["area_factor"]), float(r["power_factor"]), float(r["freq_factor"]),
                         float(r["freq_factor_iso_area"]), r["basis"], f"{dev.value}: {r['source']}; {r['note']}")


def device_factors(dev: Device) -> tuple[float, float, float, str]:
    """(area, energy, max-frequency) multipliers for ``dev`` and their source (v1 signature).

    >>> device_factors(Device.FFET)[:3]
    (0.767, 0.881, 1.25)
    """
    d = device_scaling(dev)
    return d.area, d.power, d.freq, d.source


def logic_area_factor(dev: Device, clock_scaling: ClockScaling = ClockScaling.FIXED) -> float:
    """Logic area multiplier: the device's area gain, except ``device_iso_area`` (same core area by definition)."""
    return 1.0 if clock_scaling == ClockScaling.DEVICE_ISO_AREA else device_scaling(dev).area


def clock_factor(dev: Device, clock_scaling: ClockScaling) -> float:
    """Clock multiplier for ``clock_scaling``: 1 (fixed), the same-utilisation gain, or the same-area gain."""
    d = device_scaling(dev)
    return {ClockScaling.FIXED: 1.0, ClockScaling.DEVICE: d.freq, ClockScaling.DEVICE_ISO_AREA: d.freq_iso_area}[
        clock_scaling]


def apply_clock_scaling(arch):
    """The arch with its clock multiplied by :func:`clock_factor` (itself when ``clock_scaling`` is fixed).

    The spec's ``clock`` is the FinFET/CFET design's clock; ``tech.clock_scaling: device`` lets a sweep over
    ``tech.device`` show the device's frequency gain.
    """
    f = clock_factor(arch.tech.device, arch.tech.clock_scaling)
    return arch if f == 1.0 else arch.model_copy(update={"clock_hz": arch.clock_hz * f})


# ---- arithmetic ---------------------------------------------------------------------------------------
def power_law(v_a: float, w_a: float, v_b: float, w_b: float, w: float) -> tuple[float, float]:
    """Value at width ``w`` of the power law through (w_a, v_a) and (w_b, v_b), and its exponent.

    >>> round(power_law(0.2, 8, 3.1, 32, 16)[0], 4)
    0.7874
    """
    p = math.log(v_b / v_a) / math.log(w_b / w_a)
    return v_a * (w / w_a) ** p, p


def _arith(op: str, dtype: DType) -> dict[str, str]:
    return lookup("arithmetic", op=op, format=dtype.value)


@lru_cache(maxsize=4096)
def unit_op(op: str, dtype: DType, what: str, node_nm: int = 45) -> Sourced:
    """Energy (J, ``what='energy'``) or area (mm^2, ``what='area'``) of one ``op`` ('mult' | 'add') at
    ``dtype`` on ``node_nm``, before device factors.

    MX block-scaled formats (OCP MX v1.0) multiply their element format and, once per block of 32 products,
    add the two operands' 8-bit E8M0 scales: an INT8 add / 32 per MAC (derived).
    """
    if dtype.block_scale and op == "mult":
        block, _ = dtype.block_scale
        m, a = unit_op("mult", dtype.element, what, node_nm), unit_op("add", DType.INT8, what, node_nm)
        return Sourced(m.value + a.value / block, m.unit, f"{dtype.value}: [{m.source}] + INT8 add / {block} [{a.source}] "
                       "(shared-scale add per MX block)", _mix(m.basis, a.basis, "derived"))
    r = _arith(op, dtype.element if dtype.block_scale else dtype)
    a, e = node_scaling(node_nm)
    f = e if what == "energy" else a
    v = float(r["energy_pj"]) * 1e-12 if what == "energy" else float(r["area_um2"]) * 1e-6
    src = f"{op} {r['format']} {float(r['energy_pj' if what == 'energy' else 'area_um2']):g} " \
          f"{'pJ' if what == 'energy' else 'um^2'} @45 nm [{r['basis']}: {r['source']}] x {f.value} (node {node_nm})"
    return Sourced(v * f.value, "J" if what == "energy" else "mm^2", src, _mix(r["basis"], f.basis))


def _mix(*bases: str) -> str:
    order = ("extrapolated", "fitted", "derived", "published")
    return next(b for b in order if b in bases)


def register_bit(what: str, node_nm: int = 45) -> Sourced:
    """Energy per bit-access (J) or area per bit (mm^2) of a pipeline register (Aladdin 40 nm, node-scaled)."""
    r = lookup("arithmetic", op="register", format="bit")
    a, e = node_scaling(node_nm)
    f = e if what == "energy" else a
    v = float(r["energy_pj"]) * 1e-12 if what == "energy" else float(r["area_um2"]) * 1e-6
    return Sourced(v * f.value, "J/bit" if what == "energy" else "mm^2/bit",
                   f"register {what} per bit [{r['source']}; {r['note']}] x {f.value}", _mix(r["basis"], f.basis))


def mac_energy(dtype: DType, acc: DType, node_nm: int = 45, device: Device = Device.FINFET) -> Sourced:
    """Energy of one multiply-accumulate (J): multiplier at ``dtype`` + adder at ``acc``, x device power.

    >>> round(mac_energy(DType.INT8, DType.INT32).value * 1e12, 3)   # Horowitz: 0.2 + 0.1 pJ
    0.3
    """
    m, a, d = unit_op("mult", dtype, "energy", node_nm), unit_op("add", acc, "energy", node_nm), device_scaling(device)
    return Sourced((m.value + a.value) * d.power, "J", f"MAC {dtype.value}/{acc.value}: [{m.source}] + [{a.source}]"
                   f"; device power x{d.power} ({d.device.value})", _mix(m.basis, a.basis, d.basis))


def alu_energy(dtype: DType, node_nm: int = 45, device: Device = Device.FINFET) -> Sourced:
    """Energy of one vector-lane op (J): the mean of a multiply and an add at ``dtype``."""
    t = dtype
    m, a, d = unit_op("mult", t, "energy", node_nm), unit_op("add", t, "energy", node_nm), device_scaling(device)
    return Sourced((m.value + a.value) / 2 * d.power, "J", f"ALU op {t.value}: mean of [{m.source}] and "
                   f"[{a.source}]; device power x{d.power}", _mix(m.basis, a.basis, d.basis))


def logic_area(cells_mm2: float, node_nm: int, device: Device, clock_scaling: ClockScaling = ClockScaling.FIXED,
               note: str = "") -> Sourced:
    """Placed area (mm^2) of logic whose cells (multipliers, adders, registers) add to ``cells_mm2`` at the
    node: x layout overhead (CACTI's chip x macro layout overhead) x the device's logic-area factor."""
    lo, fa = param("logic.layout_overhead"), logic_area_factor(device, clock_scaling)
    return Sourced(cells_mm2 * lo.value * fa, "mm^2", f"{note}; x layout overhead {lo.value} [{lo.source}]; "
                   f"x device area {fa} ({device.value}, clock_scaling {clock_scaling.value})", "derived")


def pe_area_mm2(dtype: DType, acc: DType, node_nm: int = 45, device: Device = Device.FINFET,
                double_buffered: bool = True, clock_scaling: ClockScaling = ClockScaling.FIXED) -> Sourced:
    """Placed area of one MAC processing element (mm^2): multiplier + adder + pipeline registers.

    Registers: the moving operand and the stationary operand (``dtype`` bits each), the stationary operand's
    shadow copy when ``double_buffered`` (TPU v1: "holds one 64 KiB tile of weights plus one for double
    buffering", Jouppi et al. 2017 Sec. 2), and the partial sum (``acc`` bits).
    """
    m, a = unit_op("mult", dtype, "area", node_nm), unit_op("add", acc, "area", node_nm)
    bits = (3 if double_buffered else 2) * dtype.bits + acc.bits
    reg = register_bit("area", node_nm)
    cells = m.value + a.value + bits * reg.value
    return logic_area(cells, node_nm, device, clock_scaling,
                      f"PE {dtype.value}/{acc.value}: [{m.source}] + [{a.source}] + {bits} register bits x "
                      f"{reg.value * 1e6:.3g} um^2")


def alu_area_mm2(dtype: DType, node_nm: int = 45, device: Device = Device.FINFET,
                 clock_scaling: ClockScaling = ClockScaling.FIXED) -> Sourced:
    """Placed area of one vector lane (mm^2): multiplier + adder at ``dtype`` + 3 operand registers."""
    m, a = unit_op("mult", dtype, "area", node_nm), unit_op("add", dtype, "area", node_nm)
    reg = register_bit("area", node_nm)
    cells = m.value + a.value + 3 * dtype.bits * reg.value
    return logic_area(cells, node_nm, device, clock_scaling,
                      f"lane {dtype.value}: [{m.source}] + [{a.source}] + {3 * dtype.bits} register bits")


def logic_leakage_fraction() -> Sourced:
    """Leakage power of logic as a fraction of its dynamic power at full activity (Aladdin adder ratio)."""
    return param("logic.leakage_fraction")


# ---- off-chip memory, wires, NoC ------------------------------------------------------------------------
def _dram(kind: MemoryKind) -> dict[str, str]:
    try:
        return lookup("dram", kind=kind.value)
    except KeyError:
        raise KeyError(f"no DRAM row for {kind.value!r} in dram.csv") from None


def dram_energy_per_bit(kind: MemoryKind) -> Sourced:
    """Access energy per bit moved (J/bit) of off-chip memory of ``kind`` (independent of the logic node).

    >>> dram_energy_per_bit(MemoryKind.DDR3).value
    2e-11
    """
    r = _dram(kind)
    return Sourced(float(r["energy_pj_per_bit"]) * 1e-12, "J/bit", f"{kind.value}: {r['source']}; {r['note']}",
                   r["basis"])


def dram_unit_bandwidth(kind: MemoryKind) -> float:
    """Peak bytes/s of one PHY unit (a 1024-bit HBM stack, a 32-bit DDR/LPDDR/GDDR channel) at JEDEC pin rate."""
    r = _dram(kind)
    return float(r["pin_gbps"]) * 1e9 * int(r["unit_bits"]) / 8


def dram_phy_area_mm2(kind: MemoryKind, bandwidth_bytes_per_s: float) -> Sourced:
    """Memory-controller PHY area on the logic die (mm^2): units = ceil(bandwidth / unit bandwidth), each
    ``phy_mm2_per_unit`` (LLMCompass; PHYs do not scale with the logic node). Its basis is the row's
    ``phy_basis``: published for the kinds LLMCompass gives (DDR5, HBM2e), derived for those reusing them.

    >>> dram_phy_area_mm2(MemoryKind.HBM3, 3.35e12).value   # 5 HBM3 stacks (H100)
    52.25
    """
    r = _dram(kind)
    units = max(1, math.ceil(bandwidth_bytes_per_s / dram_unit_bandwidth(kind) - 1e-9))
    per = float(r["phy_mm2_per_unit"])
    return Sourced(units * per, "mm^2", f"{units} x {r['unit_bits']}-bit {kind.value} PHY x {per} mm^2 "
                   f"({r['source']})", r["phy_basis"])


def wire_energy_per_bit_mm() -> Sourced:
    """On-chip wire energy (J per bit per mm), node-independent."""
    p = param("wire.energy_per_bit_mm")
    return replace(p, value=p.value * 1e-12, unit="J/(bit mm)")


def noc_energy_per_bit_hop(node_nm: int = 45, device: Device = Device.FINFET) -> Sourced:
    """Router + link energy per bit per hop (J), from a 45 nm mesh prototype, scaled by node and device."""
    p, (_, e), d = param("noc.energy_per_bit_hop", 45), node_scaling(node_nm), device_scaling(device)
    return Sourced(p.value * 1e-12 * e.value * d.power, "J/bit", f"{p.source} x node energy {e.value} x device "
                   f"power {d.power}", _mix(p.basis, e.basis, d.basis))


# v1 API: SRAM functions live in hwsim.ppa.sram
from hwsim.ppa.sram import sram_area_mm2, sram_energy_per_bit, sram_leakage_w  # noqa: E402,F401
