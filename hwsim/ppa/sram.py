"""SRAM read/write energy, leakage and area as functions of capacity, banking, port width, node and cell.

Data: CACTI 7 runs (ITRS-HP, one bank, 64- and 512-bit ports, 8 KB-32 MB, 45/32/22 nm) in
``hwsim/data/reference/tech_tables.csv``. Model (docs/ppa.md, "SRAM"):

- **fits**: for each node, port width and quantity, a least-squares power law ``q = exp(a) C^b`` in bank
  capacity ``C`` (bytes); port widths between 64 and 512 bits interpolate log-linearly in log2(width);
- **nodes**: 45 nm uses its fits; 28 nm interpolates the 32 and 22 nm fits geometrically (weight 0.4 on
  22 nm); 16/7/5/3 nm take the 22 nm fit x the Stillmaker-Baas energy ratio e(n)/e(22) (energy, leakage);
- **area**: CACTI's periphery with a *published* bitcell: ``area = bits x cell(n) / eta``, where
  ``eta = bits x 146 F^2 / A_CACTI`` is the CACTI array efficiency of the bank (its cell is 146 F^2). CACTI's
  ITRS cell is smaller than shipped cells (28 nm: 0.115 vs 0.16 um^2), the gap the brief asked to close;
- **banks**: a bank holds ``capacity / banks``; an access also drives a wire from the bank to the port,
  half the side of the whole array: ``E_wire x sqrt(A_total) / 2`` (wire energy per bit-mm, params.csv);
- **cell**: ``hp`` (the runs), ``lop``, ``lstp`` scale leakage and dynamic energy by CACTI's device
  tables (params.csv).

The device (FinFET/FFET...) does not change SRAM numbers: no sourced factor exists (docs/ppa.md, "Devices").
"""

from __future__ import annotations

import math
from functools import lru_cache

from hwsim.arch.components import Device, SramCell
from hwsim.ppa.tables import Sourced, param, param_nodes, reference_rows

CACTI_NODES = (45, 32, 22)
CACTI_KB = (8, 32, 128, 512, 2048, 8192, 32768)
WIDTHS = (64, 512)
_QUANTITY = {"read": "read energy per bit", "write": "write energy per bit", "area": "macro area",
             "leakage": "leakage"}
_UNIT = {"read": 1e-12, "write": 1e-12, "area": 1.0, "leakage": 1e-3}  # pJ/bit, mm^2, mW -> SI
CACTI = "CACTI 7 runs (tech_tables.csv, ITRS-HP, 1 bank)"


def _label(kb: int) -> str:
    return f"{kb // 1024}MB" if kb >= 1024 else f"{kb}KB"


@lru_cache(maxsize=None)
def cacti_fit(quantity: str, width: int, node_nm: int) -> tuple[float, float, float]:
    """Least-squares ``ln q = a + b ln C`` over the 7 CACTI capacities; returns (a, b, max relative residual)."""
    rows = reference_rows()
    xs = [math.log(kb * 1024) for kb in CACTI_KB]
    ys = [math.log(rows[(f"SRAM {_QUANTITY[quantity]} ({_label(kb)}, {width}b port)", f"{node_nm}nm")])
          for kb in CACTI_KB]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    a = my - b * mx
    worst = max(abs(math.exp(y - a - b * x) - 1) for x, y in zip(xs, ys))
    return a, b, worst


@lru_cache(maxsize=65536)
def _at_node_c(quantity: str, bank_bytes: float, access_bits: int, node_c: int) -> float:
    """CACTI fit at a CACTI node, interpolated between the 64b and 512b port fits (SI units)."""
    lo, hi = (math.exp(a + b * math.log(bank_bytes)) for a, b, _ in
              (cacti_fit(quantity, w, node_c) for w in WIDTHS))
    t = min(max((math.log2(max(access_bits, 1)) - 6) / 3, 0.0), 1.0)
    return math.exp(math.log(lo) * (1 - t) + math.log(hi) * t) * _UNIT[quantity]


def _cacti_at(quantity: str, bank_bytes: float, access_bits: int, node_nm: int) -> tuple[float, str]:
    """CACTI-fit value carried to ``node_nm`` (energy/leakage rule; area uses :func:`sram_area_mm2`)."""
    from hwsim.ppa.tech import node_scaling

    if node_nm in CACTI_NODES:
        return _at_node_c(quantity, bank_bytes, access_bits, node_nm), f"{CACTI} {node_nm} nm fit"
    if 22 < node_nm < 32:
        t = (32 - node_nm) / 10
        v32, v22 = (_at_node_c(quantity, bank_bytes, access_bits, n) for n in (32, 22))
        return v32 ** (1 - t) * v22 ** t, f"{CACTI}: 32 and 22 nm fits interpolated geometrically (t={t:.2f})"
    if node_nm < 22:
        r = node_scaling(node_nm)[1].value / node_scaling(22)[1].value
        return (_at_node_c(quantity, bank_bytes, access_bits, 22) * r,
                f"{CACTI} 22 nm fit x Stillmaker-Baas energy e({node_nm})/e(22) = {r:.4f}")
    raise KeyError(f"no SRAM model for {node_nm} nm")


def _bank(capacity_bytes: float, banks: int) -> float:
    """Bytes per bank, floored at 1 KiB: the power-law fits are not carried more than 8x below the smallest
    CACTI run (8 KB); a smaller bank is costed as a 1 KiB one (basis ``extrapolated``)."""
    return max(capacity_bytes / max(banks, 1), 1024.0)


def _basis(bank: float) -> str:
    return "fitted" if CACTI_KB[0] * 1024 <= bank <= CACTI_KB[-1] * 1024 else "extrapolated"


def _cell(kind: str, cell: SramCell) -> Sourced:
    return param(f"sram.cell_{kind}.{cell.value}")


def sram_energy_per_bit(capacity_bytes: float, banks: int = 1, access_bits: int = 64, write: bool = False,
                        node_nm: int = 45, device: Device = Device.FINFET,
                        cell: SramCell = SramCell.HP) -> Sourced:
    """Read (or write) energy per bit (J/bit) of an SRAM of ``capacity_bytes`` split into ``banks``.

    ``device`` is accepted for the v1 signature and ignored (no sourced SRAM device factor).

    >>> e = sram_energy_per_bit(8 * 1024, access_bits=64)   # CACTI 45 nm: 0.083 pJ/bit, fit within 30 %
    >>> 0.06e-12 < e.value < 0.11e-12
    True
    """
    bank = _bank(capacity_bytes, banks)
    q = "write" if write else "read"
    e, src = _cacti_at(q, bank, access_bits, node_nm)
    c = _cell("dynamic", cell)
    wire, wsrc = 0.0, ""
    if banks > 1:
        from hwsim.ppa.tech import wire_energy_per_bit_mm

        side = math.sqrt(sram_area_mm2(capacity_bytes, banks, node_nm, device, access_bits).value)
        w = wire_energy_per_bit_mm()
        wire, wsrc = w.value * side / 2, f" + wire {w.value * 1e12:g} pJ/bit/mm x {side / 2:.2f} mm (half the array side)"
    return Sourced(e * c.value + wire, "J/bit", f"{src} ({q}, bank {bank / 1024:.0f} KiB, {access_bits}b) x "
                   f"{cell.value} cell {c.value}{wsrc}", _basis(bank))


def eta(bank_bytes: float, access_bits: int, node_c: int) -> float:
    """CACTI array efficiency of one bank: bits x CACTI cell (146 F^2) / CACTI macro area."""
    f2 = param("sram.cacti_cell").value * (node_c * 1e-6) ** 2  # mm^2
    return bank_bytes * 8 * f2 / _at_node_c("area", bank_bytes, access_bits, node_c)


def _eta_at(bank: float, access_bits: int, node_nm: int) -> tuple[float, str]:
    if node_nm in CACTI_NODES:
        return eta(bank, access_bits, node_nm), f"CACTI {node_nm} nm array efficiency"
    if 22 < node_nm < 32:
        t = (32 - node_nm) / 10
        return (eta(bank, access_bits, 32) ** (1 - t) * eta(bank, access_bits, 22) ** t,
                "CACTI 32/22 nm array efficiency, interpolated")
    return eta(bank, access_bits, 22), "CACTI 22 nm array efficiency"


def sram_area_mm2(capacity_bytes: float, banks: int = 1, node_nm: int = 45, device: Device = Device.FINFET,
                  access_bits: int = 64) -> Sourced:
    """Macro area (mm^2): banks x bank bits x published bitcell / CACTI array efficiency of the bank.

    >>> a = sram_area_mm2(2 ** 20, node_nm=45)    # CACTI 45 nm 1 MiB, 64b port: about 3.1 mm^2
    >>> 2.5 < a.value < 3.6
    True
    """
    bank = _bank(capacity_bytes, banks)
    cells = param_nodes("sram.bitcell")
    if node_nm not in cells:
        raise KeyError(f"no SRAM bitcell for {node_nm} nm; nodes are {', '.join(map(str, sorted(cells)))}")
    c = cells[node_nm]
    e, esrc = _eta_at(bank, access_bits, node_nm)
    area = banks * bank * 8 * c.value * 1e-6 / e
    return Sourced(area, "mm^2", f"{banks} x {bank / 1024:.0f} KiB x 8 bit x cell {c.value} um^2 [{c.source}] / "
                   f"{esrc} {e:.3f}", "derived" if _basis(bank) == "fitted" else "extrapolated")


def sram_leakage_w(capacity_bytes: float, banks: int = 1, node_nm: int = 45, device: Device = Device.FINFET,
                   cell: SramCell = SramCell.HP, access_bits: int = 64) -> Sourced:
    """Leakage power (W): the CACTI ITRS-HP leakage per bank x banks, carried to the node, x the cell factor."""
    bank = _bank(capacity_bytes, banks)
    p, src = _cacti_at("leakage", bank, access_bits, node_nm)
    c = _cell("leakage", cell)
    return Sourced(p * banks * c.value, "W", f"{src} (leakage, {banks} x {bank / 1024:.0f} KiB) x {cell.value} "
                   f"cell {c.value} [{c.source}]", _basis(bank))
