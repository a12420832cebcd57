"""Technology tables: per-action energy and per-component area at a node, each value with its source.

Base data are 45 nm (Horowitz ISSCC 2014 arithmetic; CACTI 7 SRAM runs) from
``hwsim/data/reference/tech_tables.csv``; other nodes scale by Stillmaker & Baas (2017) factors from the same
file (5 and 3 nm are extrapolated there and flagged so). Every public function returns a :class:`Sourced`
value whose ``source`` names the rows and the arithmetic, so reports can print where each number came from.

Derived values (no primary source for the format) follow one stated rule: a multiplier's energy and area grow
with the square of its mantissa (significand) width, the adder's with its width (Horowitz's table follows
both: 8b->32b mult 0.2->3.1 pJ ~ 16x; 8b->32b add 0.03->0.1 pJ).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from hwsim.arch.components import Device, MemoryKind
from hwsim.workload.ops import DType

TABLE = Path(__file__).resolve().parents[1] / "data" / "reference" / "tech_tables.csv"
HOROWITZ = "Horowitz ISSCC 2014 (45 nm) via tech_tables.csv"
SB = "Stillmaker & Baas 2017 scaling (tech_tables.csv)"
CACTI = "CACTI 7 runs at 45 nm (tech_tables.csv), log-log fit in capacity"


@dataclass(frozen=True)
class Sourced:
    """A number with its unit and where it came from."""

    value: float
    unit: str
    source: str

    def __float__(self) -> float:
        return self.value


@lru_cache(maxsize=1)
def _rows() -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    with open(TABLE, newline="") as fh:
        for r in csv.DictReader(fh):
            try:
                out[(r["quantity"], r["node"])] = float(r["value"])
            except ValueError:
                continue  # 'not found' rows
    return out


def row(quantity: str, node: str = "45nm") -> float:
    return _rows()[(quantity, node)]


# ---- node and device scaling ------------------------------------------------------------------------
def node_factors(node_nm: int) -> tuple[float, float, str]:
    """(area factor, energy factor, source) from 45 nm to ``node_nm``."""
    if node_nm == 45:
        return 1.0, 1.0, "45 nm base"
    n = f"{node_nm}nm"
    a, e = row(f"area scale factor 45nm->{n}", n), row(f"energy scale factor 45nm->{n}", n)
    flag = " (extrapolated beyond the S-B table)" if node_nm in (5, 3) else ""
    return a, e, f"{SB} 45->{node_nm} nm: area x{a}, energy x{e}{flag}"


# Flip FET block-level PPA against CFET with single-sided signals (Lu et al., arXiv:2501.15275): 23.3 % less
# core area, 11.9 % less power at the same utilisation and frequency, 25.0 % higher frequency; dual-sided
# signals add 10.6 % frequency at no power cost. FinFET / GAA / CFET have no published block-level factor in
# the tables, so they are the reference (1.0) and the report says so.
_DEVICE = {
    Device.FINFET: (1.0, 1.0, 1.0, "FinFET: reference device"),
    Device.GAA: (1.0, 1.0, 1.0, "GAA: no block-level factor vs FinFET found (tech_tables.md s.5); reference"),
    Device.CFET: (1.0, 1.0, 1.0, "CFET: no block-level factor vs FinFET found (tech_tables.md s.5); reference"),
    Device.FFET: (0.767, 0.881, 1.25, "FFET vs CFET (Lu et al. arXiv:2501.15275): area -23.3%, power -11.9%, "
                                      "frequency +25.0%"),
    Device.FFET_DUAL: (0.767, 0.881, 1.25 * 1.106, "FFET dual-sided vs CFET (Lu et al.): area -23.3%, power "
                                                   "-11.9%, frequency +25.0% x +10.6%"),
}


def device_factors(device: Device) -> tuple[float, float, float, str]:
    """(area, energy, max-frequency) multipliers for ``device`` and their source."""
    return _DEVICE[device]


# ---- arithmetic --------------------------------------------------------------------------------------
_INT_MULT = {8: ("INT8 mult", True), 32: ("INT32 mult", True)}
_SIGNIFICAND = {DType.FP32: 24, DType.TF32: 11, DType.FP16: 11, DType.BF16: 8, DType.FP8: 4, DType.FP8_E5M2: 3,
                DType.FP6_E2M3: 4, DType.FP6_E3M2: 3, DType.FP4: 2}


def _block_scaled_mult_45(dtype: DType, what: str) -> tuple[float, str]:
    """MX formats: the element multiplier plus, once per block of 32 products, an 8-bit add of the two operands'
    E8M0 scales (OCP MX v1.0 dot product), i.e. INT8 add / 32 per MAC. Derived, same stated rules."""
    block, _ = dtype.block_scale
    m, ms = _mult_45(dtype.element, what)
    a = row(f"INT8 add {what}") / block
    return m + a, f"{ms} + {HOROWITZ}: INT8 add / {block} (shared-scale add per MX block)"


def _mult_45(dtype: DType, what: str) -> tuple[float, str]:
    """Multiplier energy (pJ) or area (um^2) at 45 nm."""
    if dtype.block_scale:
        return _block_scaled_mult_45(dtype, what)
    if dtype in (DType.INT8, DType.INT32):
        return row(f"{dtype.name} mult {what}"), f"{HOROWITZ}: {dtype.name} mult"
    if dtype in (DType.FP16, DType.FP32):
        return row(f"{dtype.name} mult {what}"), f"{HOROWITZ}: {dtype.name} mult"
    if dtype in (DType.INT4, DType.INT16):
        s = (dtype.bits / 8) ** 2
        return row(f"INT8 mult {what}") * s, f"derived: INT8 mult x ({dtype.bits}/8)^2 (width-squared rule)"
    sig = _SIGNIFICAND[dtype]
    s = (sig / 11) ** 2
    return row(f"FP16 mult {what}") * s, f"derived: FP16 mult x ({sig}/11)^2 (significand-squared rule)"


def _add_45(dtype: DType, what: str) -> tuple[float, str]:
    """Adder energy (pJ) or area (um^2) at 45 nm (accumulators are int32 / fp32 / fp16 in practice)."""
    key = {DType.INT8: "INT8", DType.INT16: "INT16", DType.INT32: "INT32", DType.FP16: "FP16", DType.FP32: "FP32"}
    if dtype in key:
        return row(f"{key[dtype]} add {what}"), f"{HOROWITZ}: {key[dtype]} add"
    if dtype == DType.INT4:
        return row(f"INT8 add {what}") * 0.5, "derived: INT8 add x 4/8 (width rule)"
    return row(f"FP16 add {what}"), f"derived: {dtype.value} add taken as FP16 add (16-bit float adder)"


def mac_energy(dtype: DType, acc: DType, node_nm: int = 45, device: Device = Device.FINFET) -> Sourced:
    """Energy of one multiply-accumulate (J): multiplier at ``dtype`` plus adder at ``acc``."""
    m, ms = _mult_45(dtype, "energy")
    a, as_ = _add_45(acc, "energy")
    _, ef, ns = node_factors(node_nm)
    _, pe, _, ds = device_factors(device)
    return Sourced((m + a) * ef * pe * 1e-12, "J", f"MAC {dtype.value}/{acc.value}: [{ms}] + [{as_}]; {ns}; {ds}")


# A systolic PE also holds pipeline registers for its input, weight and partial sum
# (Aladdin register area 5.98 um^2/bit at 40 nm, used as-is for 45 nm).
def pe_area_mm2(dtype: DType, acc: DType, node_nm: int = 45, device: Device = Device.FINFET) -> Sourced:
    """Area of one MAC processing element (mm^2): multiplier + adder + registers (2 operands + accumulator)."""
    m, ms = _mult_45(dtype, "area")
    a, as_ = _add_45(acc, "area")
    reg_bits = 2 * dtype.bits + acc.bits
    reg = reg_bits * row("register area per bit", "40nm")
    af, _, ns = node_factors(node_nm)
    da, _, _, ds = device_factors(device)
    src = (f"PE {dtype.value}/{acc.value}: [{ms}] + [{as_}] + {reg_bits} register bits x Aladdin 5.98 um^2/bit; "
           f"{ns}; {ds}")
    return Sourced((m + a + reg) * af * da * 1e-6, "mm^2", src)


def alu_energy(dtype: DType, node_nm: int = 45, device: Device = Device.FINFET) -> Sourced:
    """Energy of one vector-lane op (J): the mean of a multiply and an add at ``dtype`` (fp32 for int32)."""
    d = DType.FP32 if dtype in (DType.INT32, DType.TF32) else dtype
    m, ms = _mult_45(d, "energy")
    a, as_ = _add_45(d, "energy")
    _, ef, ns = node_factors(node_nm)
    _, pe, _, ds = device_factors(device)
    return Sourced((m + a) / 2 * ef * pe * 1e-12, "J", f"ALU op {d.value}: mean of [{ms}] and [{as_}]; {ns}; {ds}")


def alu_area_mm2(dtype: DType, node_nm: int = 45, device: Device = Device.FINFET) -> Sourced:
    """Area of one vector lane (mm^2): a multiplier + an adder at ``dtype`` (an FMA-capable lane)."""
    m, ms = _mult_45(dtype, "area")
    a, as_ = _add_45(dtype, "area")
    af, _, ns = node_factors(node_nm)
    da, _, _, ds = device_factors(device)
    return Sourced((m + a) * af * da * 1e-6, "mm^2", f"lane {dtype.value}: [{ms}] + [{as_}]; {ns}; {ds}")


# ---- SRAM ----------------------------------------------------------------------------------------------
_CACTI_KB = (8, 32, 128, 512, 2048, 8192, 32768)


def _cacti_label(kb: int) -> str:
    return f"{kb // 1024}MB" if kb >= 1024 else f"{kb}KB"


@lru_cache(maxsize=None)
def _cacti_fit(quantity: str, width: int) -> tuple[float, float]:
    """Least-squares fit log(value) = a + b log(capacity_bytes) over the 45 nm CACTI rows."""
    xs, ys = [], []
    for kb in _CACTI_KB:
        v = row(f"SRAM {quantity} ({_cacti_label(kb)}, {width}b port)", "45nm")
        xs.append(math.log(kb * 1024))
        ys.append(math.log(v))
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return my - b * mx, b


def _sram_45(quantity: str, bank_bytes: float, access_bits: int) -> float:
    """Interpolate the CACTI fit between the 64b and 512b port widths (log-linear in width)."""
    lo, hi = (math.exp(a + b * math.log(bank_bytes)) for a, b in (_cacti_fit(quantity, 64), _cacti_fit(quantity, 512)))
    t = min(max((math.log2(max(access_bits, 1)) - 6) / 3, 0.0), 1.0)
    return math.exp(math.log(lo) * (1 - t) + math.log(hi) * t)


def sram_energy_per_bit(capacity_bytes: float, banks: int = 1, access_bits: int = 64, write: bool = False,
                        node_nm: int = 45, device: Device = Device.FINFET) -> Sourced:
    """Read (or write) energy per bit (J/bit) of an SRAM of ``capacity_bytes`` split into ``banks``."""
    bank = max(capacity_bytes / banks, 1024.0)
    e45 = _sram_45("write energy per bit" if write else "read energy per bit", bank, access_bits)
    _, ef, ns = node_factors(node_nm)
    _, pe, _, ds = device_factors(device)
    return Sourced(e45 * ef * pe * 1e-12, "J/bit",
                   f"{CACTI} ({'write' if write else 'read'}, bank {bank / 1024:.0f} KiB, {access_bits}b); {ns}; {ds}")


def sram_area_mm2(capacity_bytes: float, banks: int = 1, node_nm: int = 45, device: Device = Device.FINFET) -> Sourced:
    """Macro area (mm^2): CACTI 45 nm area of one bank x banks, scaled to the node."""
    bank = max(capacity_bytes / banks, 1024.0)
    a45 = _sram_45("macro area", bank, 64) * banks
    af, _, ns = node_factors(node_nm)
    da, _, _, ds = device_factors(device)
    return Sourced(a45 * af * da, "mm^2", f"{CACTI} (macro area, {banks} bank(s)); {ns}; {ds}")


def sram_leakage_w(capacity_bytes: float, banks: int = 1, node_nm: int = 45, device: Device = Device.FINFET) -> Sourced:
    """Leakage power (W): CACTI 45 nm ITRS-HP leakage per bank x banks, scaled by the energy factor."""
    bank = max(capacity_bytes / banks, 1024.0)
    p45 = _sram_45("leakage", bank, 64) * banks * 1e-3
    _, ef, ns = node_factors(node_nm)
    _, pe, _, ds = device_factors(device)
    return Sourced(p45 * ef * pe, "W", f"{CACTI} (leakage, ITRS-HP cells); {ns} (energy factor); {ds}")


# ---- off-chip memory -----------------------------------------------------------------------------------
def dram_energy_per_bit(kind: MemoryKind) -> Sourced:
    """Access energy per bit moved (J/bit) of off-chip memory of ``kind`` (does not scale with the logic node)."""
    if kind in (MemoryKind.HBM2, MemoryKind.HBM2E, MemoryKind.HBM3, MemoryKind.HBM3E):
        # O'Connor et al. MICRO 2017 breakdown as encoded in AttAcc's config: ACT/PRE 0.11 + RD/WR 0.44 +
        # column->BG mux 1.01 + BG mux->GIO 1.23 + TSV 0.5 + interposer 0.3 = 3.59 pJ/bit (HBM2 baseline).
        src = "O'Connor et al. MICRO 2017 HBM2 breakdown (sum 3.59 pJ/bit, tech_tables.md s.4)"
        if kind != MemoryKind.HBM2:
            src += f"; applied unchanged to {kind.value} (no primary per-bit figure tabulated)"
        return Sourced(3.59e-12, "J/bit", src)
    # Horowitz 45 nm: 640 pJ per 32-bit DRAM read = 20 pJ/bit (DDR3-era off-chip access).
    src = "Horowitz ISSCC 2014: 640 pJ / 32b DRAM read = 20 pJ/bit (DDR3-era)"
    if kind != MemoryKind.DDR3:
        src += f"; applied to {kind.value} for want of a primary per-bit figure"
    return Sourced(20e-12, "J/bit", src)


def dram_phy_area_mm2(kind: MemoryKind, bandwidth_bytes_per_s: float) -> Sourced:
    """Memory-controller PHY area on the logic die (mm^2), from LLMCompass's per-link PHY areas.

    HBM: 10.45 mm^2 per 1024-bit link (HBM2e); links = bandwidth / (1024 bit x 3.2 Gb/s). DDR/LPDDR/GDDR:
    1.45 mm^2 per 32-bit DDR5 channel; channels = bandwidth / (32 bit x 6.4 Gb/s).
    """
    if kind.value.startswith("hbm"):
        links = max(1, math.ceil(bandwidth_bytes_per_s / (1024 * 3.2e9 / 8)))
        return Sourced(links * row("HBM2e PHY area", "7nm-era"), "mm^2",
                       f"LLMCompass HBM2e PHY 10.45 mm^2/1024-bit link x {links} link(s) for the bandwidth")
    ch = max(1, math.ceil(bandwidth_bytes_per_s / (32 * 6.4e9 / 8)))
    return Sourced(ch * row("DDR5 PHY area", ""), "mm^2",
                   f"LLMCompass DDR5 PHY 1.45 mm^2/32-bit channel x {ch} channel(s) for the bandwidth")


def logic_leakage_fraction() -> Sourced:
    """Leakage power of logic as a fraction of its dynamic power at full activity.

    Aladdin's 40 nm 32-bit adder: leakage 0.0024 mW vs 0.21 pJ/op at 1 GHz = 0.21 mW dynamic -> ~1.1 %.
    """
    f = row("INT32 adder leakage", "40nm") / (row("INT32 adder energy", "40nm") * 1.0)  # mW / (pJ x 1 GHz)
    return Sourced(f, "fraction", "Aladdin 40 nm INT32 adder: 0.0024 mW leakage / (0.21 pJ x 1 GHz)")
