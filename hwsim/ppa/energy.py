"""Energy: the engines' action counts x per-action energy, plus leakage x time.

Components (keys of ``energy_j``): ``compute.<unit>`` (MACs and vector ops), ``sram.<level>`` (on-chip
memories and a unit's local buffers ``<unit>.buffers``), ``dram.<level>`` (off-chip), ``leakage``.
Per-action energies come from :mod:`hwsim.ppa.tech` at the arch's node and device, each with its source.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from hwsim.arch.components import MemoryKind
from hwsim.arch.spec import ArchSpec
from hwsim.ppa import tech
from hwsim.result import CostResult
from hwsim.workload.ops import DType


@dataclass(frozen=True)
class Geometry:
    """What the SRAM energy fit needs to know about a memory level."""

    kind: MemoryKind
    capacity: float
    banks: int
    access_bits: int


def level_geometry(arch: ArchSpec, level: str) -> Geometry:
    """Resolve a level name: an arch memory, or ``<unit>.buffers`` (the unit's local ifmap+filter+ofmap SRAMs)."""
    for m in arch.memories:
        if m.name == level:
            return Geometry(m.kind, m.capacity, m.banks, m.access_bits)
    if level.endswith(".buffers"):
        u = arch.units[level[: -len(".buffers")]]
        caps = [c for c in (getattr(u, "ifmap_buffer", None), getattr(u, "filter_buffer", None),
                            getattr(u, "ofmap_buffer", None)) if c]
        # three separate buffers: energy per bit follows the mean buffer size
        return Geometry(MemoryKind.SRAM, sum(caps) / max(len(caps), 1), 1, 64)
    raise KeyError(f"unknown memory level {level!r}")


@lru_cache(maxsize=4096)
def _sram_pj(arch_key: int, capacity: float, banks: int, bits: int, write: bool, node: int, device) -> float:
    return tech.sram_energy_per_bit(capacity, banks, bits, write, node, device).value


_ACTION_ENERGY: dict[str, Callable[[str, ArchSpec], float]] = {}


def register_action_energy(prefix: str):
    """Decorator: joules of actions named ``<prefix>.<rest>`` (a new hardware model prices its own actions)."""
    def deco(fn):
        _ACTION_ENERGY[prefix] = fn
        return fn
    return deco


def _action_energy(action: str, arch: ArchSpec) -> float:
    if arch.energy is not None and action in arch.energy.action_j:
        return arch.energy.action_j[action]
    kind, _, rest = action.partition(".")
    if kind in _ACTION_ENERGY:
        return _ACTION_ENERGY[kind](action, arch)
    node, dev = arch.tech.node_nm, arch.tech.device
    if kind == "mac":
        dt, _, acc = rest.partition(".")
        return tech.mac_energy(DType(dt), DType(acc or "fp32"), node, dev).value
    if kind == "alu":
        return tech.alu_energy(DType(rest), node, dev).value
    raise KeyError(f"no energy model for action {action!r}")


def dynamic_energy(cost: CostResult, arch: ArchSpec) -> dict[str, float]:
    """Dynamic joules of one op by component (no leakage)."""
    out: dict[str, float] = {}
    comp = f"compute.{cost.unit}"
    for action, count in cost.actions.items():
        out[comp] = out.get(comp, 0.0) + count * _action_energy(action, arch)
    for level in sorted(set(cost.reads) | set(cost.writes)):
        rd = sum(cost.reads.get(level, {}).values()) * 8
        wr = sum(cost.writes.get(level, {}).values()) * 8
        g = level_geometry(arch, level)
        if arch.energy is not None and level in arch.energy.bit_j:
            key = f"{'dram' if g.kind.off_chip else 'sram'}.{level}"
            e = (rd + wr) * arch.energy.bit_j[level]
        elif g.kind.off_chip:
            key = f"dram.{level}"
            e = (rd + wr) * tech.dram_energy_per_bit(g.kind).value
        else:
            key = f"sram.{level}"
            n, d = arch.tech.node_nm, arch.tech.device
            e = rd * _sram_pj(0, g.capacity, g.banks, g.access_bits, False, n, d) + \
                wr * _sram_pj(0, g.capacity, g.banks, g.access_bits, True, n, d)
        out[key] = out.get(key, 0.0) + e
    return out


def leakage_power_w(arch: ArchSpec) -> dict[str, float]:
    """Static power by component (W): SRAM leakage from the CACTI fit; logic leakage as a fraction of its
    full-activity dynamic power (Aladdin adder ratio, see tech.logic_leakage_fraction)."""
    n, d = arch.tech.node_nm, arch.tech.device
    out: dict[str, float] = {}
    for m in arch.memories:
        if not m.off_chip:
            out[f"sram.{m.name}"] = tech.sram_leakage_w(m.capacity, m.banks, n, d).value
    frac = tech.logic_leakage_fraction().value
    for name, u in arch.units.items():
        buffers = [c for c in (getattr(u, "ifmap_buffer", None), getattr(u, "filter_buffer", None),
                               getattr(u, "ofmap_buffer", None)) if c]
        if buffers:
            out[f"sram.{name}.buffers"] = sum(tech.sram_leakage_w(c, 1, n, d).value for c in buffers)
        out[f"compute.{name}"] = frac * peak_dynamic_power_w(name, arch)
    return out


_PEAK_POWER: dict[str, Callable[[str, ArchSpec], float]] = {}


def register_peak_power(kind: str):
    """Decorator: full-activity dynamic power (W) of a unit kind, used for its logic leakage."""
    def deco(fn):
        _PEAK_POWER[kind] = fn
        return fn
    return deco


def peak_dynamic_power_w(unit: str, arch: ArchSpec) -> float:
    """Dynamic power of a unit's datapath at full activity, widest precision (W)."""
    kind = arch.units[unit].kind
    if kind not in _PEAK_POWER:
        raise KeyError(f"no power model registered for unit kind {kind!r}")
    return _PEAK_POWER[kind](unit, arch)


def _widest(u) -> tuple[DType, DType]:
    w = max(u.precisions, key=lambda p: p.bits)
    return w, (DType.FP32 if w.is_float else DType.INT32)


@register_peak_power("systolic")
def _systolic_power(unit: str, arch: ArchSpec) -> float:
    u = arch.units[unit]
    return u.pes * tech.mac_energy(*_widest(u), arch.tech.node_nm, arch.tech.device).value * arch.clock_hz


@register_peak_power("vector")
def _vector_power(unit: str, arch: ArchSpec) -> float:
    u = arch.units[unit]
    e = tech.alu_energy(_widest(u)[0], arch.tech.node_nm, arch.tech.device).value
    return u.lanes * u.count * u.flops_per_lane_per_cycle * e * arch.clock_hz


@register_peak_power("tensor_engine")
def _tensor_engine_power(unit: str, arch: ArchSpec) -> float:
    u = arch.units[unit]
    macs = max(u.tensor_flops_per_sm_per_cycle.values()) / 2 * u.sms
    return macs * tech.mac_energy(DType.FP8, DType.FP32, arch.tech.node_nm, arch.tech.device).value * arch.clock_hz


def attach_energy(costs: list[CostResult], arch: ArchSpec, makespan_s: float) -> tuple[list[CostResult], dict]:
    """Add dynamic + a leakage share to every op; return the new costs and the block's energy by component.

    Leakage of the whole chip over the block's makespan is shared among ops in proportion to their latency,
    so the ops' energies sum exactly to the block's (a conservation law the tests check).
    """
    if arch.energy is not None and arch.energy.static_power_w is not None:
        p_leak = arch.energy.static_power_w
    else:
        p_leak = sum(leakage_power_w(arch).values())
    leak_total = p_leak * makespan_s
    busy = sum(c.latency_s for c in costs) or 1.0
    out, block = [], {}
    for c in costs:
        e = dynamic_energy(c, arch)
        e["leakage"] = leak_total * c.latency_s / busy
        for k, v in e.items():
            block[k] = block.get(k, 0.0) + v
        out.append(c.with_energy(e))
    return out, block
