"""Area by component and the die total (mm^2), from the technology tables at the arch's node and device.

Components: ``<unit>`` (datapath: PEs or lanes), ``<unit>.buffers`` (local SRAMs), ``sram.<level>``,
``phy.<level>`` (off-chip memory PHY on the logic die), ``control_io`` (the arch's overhead fraction of the
die: ``overhead = f / (1 - f) x sum(parts)``, so it is exactly ``f`` of the total).
"""

from __future__ import annotations

from typing import Callable

from hwsim.arch.spec import ArchSpec
from hwsim.ppa import tech
from hwsim.workload.ops import DType


def _acc(d: DType) -> DType:
    return DType.FP32 if d.is_float else DType.INT32


_UNIT_AREA: dict[str, Callable[[str, ArchSpec], dict[str, float]]] = {}


def register_unit_area(kind: str):
    """Decorator: the area model of a unit kind (a new hardware model registers its own; no kind checks)."""
    def deco(fn):
        _UNIT_AREA[kind] = fn
        return fn
    return deco


def unit_area_mm2(name: str, arch: ArchSpec) -> dict[str, float]:
    u = arch.units[name]
    if u.kind not in _UNIT_AREA:
        raise KeyError(f"no area model registered for unit kind {u.kind!r}")
    return _UNIT_AREA[u.kind](name, arch)


def _widest(u) -> DType:
    return max(u.precisions, key=lambda p: p.bits)


@register_unit_area("systolic")
def _systolic_area(name: str, arch: ArchSpec) -> dict[str, float]:
    u, n, d = arch.units[name], arch.tech.node_nm, arch.tech.device
    out = {name: u.pes * tech.pe_area_mm2(_widest(u), _acc(_widest(u)), n, d).value}
    bufs = [c for c in (u.ifmap_buffer, u.filter_buffer, u.ofmap_buffer) if c]
    if bufs:
        out[f"{name}.buffers"] = sum(tech.sram_area_mm2(c, 1, n, d).value for c in bufs) * u.count
    return out


@register_unit_area("vector")
def _vector_area(name: str, arch: ArchSpec) -> dict[str, float]:
    u, n, d = arch.units[name], arch.tech.node_nm, arch.tech.device
    return {name: u.lanes * u.count * tech.alu_area_mm2(_widest(u), n, d).value}


@register_unit_area("tensor_engine")
def _tensor_engine_area(name: str, arch: ArchSpec) -> dict[str, float]:
    """Tensor-core MACs at the 16-bit rate (fp8/int8 reuse the datapath at 2x) plus shared memory."""
    u, n, d = arch.units[name], arch.tech.node_nm, arch.tech.device
    macs = u.tensor_flops_per_sm_per_cycle.get(DType.BF16, max(u.tensor_flops_per_sm_per_cycle.values())) / 2
    return {name: u.sms * macs * tech.pe_area_mm2(DType.BF16, DType.FP32, n, d).value,
            f"{name}.smem": u.sms * tech.sram_area_mm2(u.smem_per_sm, 1, n, d).value}


def area_breakdown(arch: ArchSpec) -> dict[str, float]:
    """Area (mm^2) per component, including the control/IO share.

    >>> from hwsim.arch.loader import load_arch
    >>> a = area_breakdown(load_arch("tpu_v1"))
    >>> round(a["control_io"] / sum(a.values()), 3)
    0.12
    """
    n, d = arch.tech.node_nm, arch.tech.device
    out: dict[str, float] = {}
    for name in arch.units:
        out.update(unit_area_mm2(name, arch))
    for m in arch.memories:
        if m.off_chip:
            out[f"phy.{m.name}"] = tech.dram_phy_area_mm2(m.kind, m.bandwidth).value
        else:
            out[f"sram.{m.name}"] = tech.sram_area_mm2(m.capacity, m.banks, n, d).value
    f = arch.control_overhead_fraction
    out["control_io"] = f / (1 - f) * sum(out.values())
    return out
