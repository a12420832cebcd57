"""Area by component and the die total (mm^2), from the technology tables at the arch's node and device.

Components:

- ``<unit>``: the datapath (MAC PEs with their pipeline registers, vector lanes, tensor cores), placed logic
  (cells x layout overhead x device area factor, :func:`hwsim.ppa.tech.logic_area`);
- ``<unit>.buffers``: a unit's local SRAMs, except those that *are* an arch memory level
  (``buffer_levels``), which are counted once under ``sram.<level>``;
- ``sram.<level>``: on-chip memories (:func:`hwsim.ppa.sram.sram_area_mm2`);
- ``phy.<level>``: the off-chip memory PHY on the logic die;
- ``control_io``: the arch's overhead fraction ``f`` of the die, ``f / (1 - f) x sum(parts)``, so it is
  exactly ``f`` of the total.

A unit kind brings its own area model with :func:`register_unit_area` (PIM does), never a kind check here.
"""

from __future__ import annotations

from typing import Callable

from hwsim.arch.spec import ArchSpec
from hwsim.ppa import sram, tech
from hwsim.workload.ops import DType


def acc_dtype(d: DType) -> DType:
    """Accumulator format of a MAC datapath: fp32 for floats, int32 for integers."""
    return DType.FP32 if d.is_float else DType.INT32


def datapath_dtype(u) -> DType:
    """The format a unit's multipliers are built for: the costliest (by 45 nm multiplier area) of the formats
    it runs at full rate (a systolic array running int16 at 1/4 rate, as TPU v1 does, has int8 multipliers)."""
    full = [p for p in u.precisions if getattr(u, "mac_rate", lambda _p: 1.0)(p) >= 1.0] or list(u.precisions)
    return max(full, key=lambda p: tech.unit_op("mult", p, "area").value)


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


def _t(arch: ArchSpec):
    return arch.tech.node_nm, arch.tech.device, arch.tech.clock_scaling


def local_buffers(u) -> dict[str, float]:
    """A unit's own SRAM buffers by operand (ifmap/filter/ofmap -> bytes), without those aliased to a level."""
    aliased = getattr(u, "buffer_levels", {}) or {}
    return {k: c for k in ("ifmap", "filter", "ofmap")
            if (c := getattr(u, f"{k}_buffer", None)) and k not in aliased}


@register_unit_area("systolic")
def _systolic_area(name: str, arch: ArchSpec) -> dict[str, float]:
    u = arch.units[name]
    n, d, cs = _t(arch)
    dt = datapath_dtype(u)
    pe = tech.pe_area_mm2(dt, acc_dtype(dt), n, d, double_buffered=u.fold_pipelining, clock_scaling=cs)
    out = {name: u.pes * pe.value}
    bufs = local_buffers(u)
    if bufs:
        out[f"{name}.buffers"] = u.count * sum(sram.sram_area_mm2(c, 1, n, d).value for c in bufs.values())
    return out


@register_unit_area("vector")
def _vector_area(name: str, arch: ArchSpec) -> dict[str, float]:
    u = arch.units[name]
    n, d, cs = _t(arch)
    return {name: u.lanes * u.count * tech.alu_area_mm2(datapath_dtype(u), n, d, cs).value}


@register_unit_area("tensor_engine")
def _tensor_engine_area(name: str, arch: ArchSpec) -> dict[str, float]:
    """Tensor-core MACs at the 16-bit rate (fp8/int8 reuse the datapath at 2x) plus shared memory."""
    u = arch.units[name]
    n, d, cs = _t(arch)
    macs = u.tensor_flops_per_sm_per_cycle.get(DType.BF16, max(u.tensor_flops_per_sm_per_cycle.values())) / 2
    pe = tech.pe_area_mm2(DType.BF16, DType.FP32, n, d, double_buffered=False, clock_scaling=cs)
    return {name: u.sms * macs * pe.value,
            f"{name}.smem": u.sms * sram.sram_area_mm2(u.smem_per_sm, 1, n, d).value}


def area_breakdown(arch: ArchSpec) -> dict[str, float]:
    """Area (mm^2) per component, including the control/IO share.

    >>> from hwsim.arch.loader import load_arch
    >>> a = area_breakdown(load_arch("npu_128"))
    >>> round(a["control_io"] / sum(a.values()), 3)
    0.12
    """
    n, d, _ = _t(arch)
    out: dict[str, float] = {}
    for name in arch.units:
        out.update(unit_area_mm2(name, arch))
    for m in arch.memories:
        if m.off_chip:
            out[f"phy.{m.name}"] = tech.dram_phy_area_mm2(m.kind, m.bandwidth).value
        else:
            out[f"sram.{m.name}"] = sram.sram_area_mm2(m.capacity, m.banks, n, d, m.access_bits).value
    f = arch.control_overhead_fraction
    out["control_io"] = f / (1 - f) * sum(out.values())
    return out


def area_sources(arch: ArchSpec) -> dict[str, str]:
    """Where each area component's number comes from (one line per component, for reports)."""
    n, d, cs = _t(arch)
    src: dict[str, str] = {}
    for name, u in arch.units.items():
        src[name] = f"{u.kind} datapath at {datapath_dtype(u).value}, node {n} nm, {d.value}; docs/ppa.md 'Area'"
    for m in arch.memories:
        src[f"{'phy' if m.off_chip else 'sram'}.{m.name}"] = (
            tech.dram_phy_area_mm2(m.kind, m.bandwidth).source if m.off_chip
            else sram.sram_area_mm2(m.capacity, m.banks, n, d, m.access_bits).source)
    src["control_io"] = f"control_overhead_fraction {arch.control_overhead_fraction} of the die"
    return src
