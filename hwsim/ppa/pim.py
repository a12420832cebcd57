"""PPA of PIM units (kind ``pim``): joules per bank bit read, MAC-unit area, peak dynamic power.

Registered with :mod:`hwsim.ppa.energy` and :mod:`hwsim.ppa.area`, so no other module needs to know the kind.

Energy per bit a MAC unit reads from its bank (reference/tech_tables.csv, O'Connor et al. MICRO 2017 HBM2
breakdown as encoded in AttAcc's ``src/config.py``, tech_tables.md s.4):

* bank-level PIM (a MAC unit per bank or bank pair): cell ACT/PRE 0.11 + cell RD/WR 0.44 = 0.55 pJ/bit;
* bank-group-level PIM: + column decoder to BG mux 1.01 = 1.56 pJ/bit.

The data never crosses the TSVs and interposer (0.5 + 0.3 pJ/bit) or the BG-to-GIO path (1.23), which is
where PIM saves against a host read (3.59 pJ/bit). PIM MACs are priced as logic MACs at the arch's node
(mac energy of tech.py); DRAM-process logic is slower and larger, which is not modelled (docs/heterogeneous.md).
"""

from __future__ import annotations

from hwsim.arch.spec import ArchSpec
from hwsim.ppa import tech
from hwsim.ppa.area import register_unit_area
from hwsim.ppa.energy import default_action_energy, register_action_energy, register_peak_power
from hwsim.ppa.tables import param
from hwsim.workload.ops import DType


def bank_pj_per_bit() -> tech.Sourced:
    """Energy per bit a bank-level MAC unit reads (pJ/bit): ACT/PRE + cell RD/WR.

    >>> bank_pj_per_bit().value
    0.55
    """
    return param("pim.bank_energy_per_bit")


def bank_group_pj_per_bit() -> tech.Sourced:
    """Energy per bit a bank-group-level MAC unit reads (pJ/bit): bank level + column decoder to BG mux.

    >>> bank_group_pj_per_bit().value
    1.56
    """
    return param("pim.bank_group_energy_per_bit")


@register_action_energy("pim")
def _pim_action(action: str, unit: str, arch: ArchSpec) -> float:
    """``pim_bank.*`` / ``pim_bg.*``: joules per bit a MAC unit reads from its bank; MACs as logic MACs."""
    if action.startswith("pim_bank"):
        return bank_pj_per_bit().value * 1e-12
    if action.startswith("pim_bg"):
        return bank_group_pj_per_bit().value * 1e-12
    return default_action_energy(action, unit, arch)


def _peak_macs_per_s(name: str, arch: ArchSpec) -> tuple[float, DType]:
    from hwsim.engines.pim import pim_device  # the engine owns the preset resolution

    u = arch.units[name]
    org, t = pim_device(u)
    units = org.channels * org.mac_units_per_channel
    widest = max(u.precisions, key=lambda p: p.bits)
    return units * org.mac_lanes * t.clock_hz / t.tCCD_PIM, widest


@register_peak_power("pim")
def _pim_power(name: str, arch: ArchSpec) -> float:
    """MAC units at full rate: every unit's lanes once per ``tCCD_PIM``."""
    rate, dt = _peak_macs_per_s(name, arch)
    acc = DType.FP32 if dt.is_float else DType.INT32
    return rate * tech.mac_energy(dt, acc, arch.tech.node_nm, arch.tech.device).value


@register_unit_area("pim")
def _pim_area(name: str, arch: ArchSpec) -> dict[str, float]:
    """MAC lanes (multiplier + adder + registers) of every bank's unit, at the arch node: silicon on the DRAM
    dies, reported as its own component ``<unit>`` so a die-area reader can leave it out."""
    from hwsim.engines.pim import pim_device

    u = arch.units[name]
    org, _ = pim_device(u)
    widest = max(u.precisions, key=lambda p: p.bits)
    acc = DType.FP32 if widest.is_float else DType.INT32
    lanes = org.channels * org.mac_units_per_channel * org.mac_lanes
    return {name: lanes * tech.pe_area_mm2(widest, acc, arch.tech.node_nm, arch.tech.device).value}
