"""Energy: the engines' action counts x per-action energy, plus leakage x time.

Components (keys of ``energy_j``):

- ``compute.<unit>``: MACs and vector ops (:func:`action_energy`, per unit kind);
- ``sram.<level>``: on-chip memories, ``sram.<unit>.buffers`` a unit's own local buffers (per operand:
  ifmap/filter/ofmap traffic is charged at that buffer's size; a buffer that *is* a level, per
  ``buffer_levels``, is charged to that level);
- ``dram.<level>``: off-chip memory;
- ``noc``: every byte at a shared level (not a unit's own buffers) crosses ``interconnect.avg_hops`` hops;
- ``leakage``: static power x the block's makespan, shared among ops by latency.

Per-action energies come from :mod:`hwsim.ppa.tech` / :mod:`hwsim.ppa.sram` at the arch's node, device and
SRAM cell; ``ArchSpec.energy`` (fitted or measured values) overrides them action by action and level by level.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from hwsim.arch.components import MemoryKind
from hwsim.arch.spec import ArchSpec
from hwsim.ppa import sram, tech
from hwsim.ppa.area import acc_dtype, datapath_dtype, local_buffers
from hwsim.result import CostResult
from hwsim.workload.ops import DType


@dataclass(frozen=True)
class Geometry:
    """What the SRAM energy model needs to know about a memory (``key``: the energy component it feeds)."""

    kind: MemoryKind
    capacity: float
    banks: int
    access_bits: int
    key: str


def _level(arch: ArchSpec, name: str) -> Geometry:
    for m in arch.memories:
        if m.name == name:
            return Geometry(m.kind, m.capacity, m.banks, m.access_bits,
                            f"{'dram' if m.off_chip else 'sram'}.{m.name}")
    raise KeyError(f"unknown memory level {name!r}")


def level_geometry(arch: ArchSpec, level: str, operand: str | None = None) -> Geometry:
    """Resolve a level name: an arch memory, or ``<unit>.buffers`` for one ``operand`` (ifmap/filter/ofmap).

    A buffer aliased to a level (``buffer_levels``) resolves to that level; an operand without a buffer of its
    own (e.g. ``bias``) is charged at the mean size of the unit's own buffers, or, when every buffer is aliased,
    at the first aliased level.
    """
    if not level.endswith(".buffers"):
        return _level(arch, level)
    unit = level[: -len(".buffers")]
    u = arch.units[unit]
    aliased = getattr(u, "buffer_levels", {}) or {}
    if operand in aliased:
        return _level(arch, aliased[operand])
    own = local_buffers(u)
    if not own:
        if aliased:
            return _level(arch, next(iter(aliased.values())))
        raise KeyError(f"unit {unit!r} has no local buffers (ifmap/filter/ofmap_buffer) for {level!r}")
    cap = own.get(operand) or sum(own.values()) / len(own)
    return Geometry(MemoryKind.SRAM, cap, 1, 64, f"sram.{level}")


@lru_cache(maxsize=8192)
def _sram_j(capacity: float, banks: int, bits: int, write: bool, node: int, cell) -> float:
    return sram.sram_energy_per_bit(capacity, banks, bits, write, node, cell=cell).value


# ---- compute actions, per unit kind ---------------------------------------------------------------------
_ACTION: dict[str, Callable[[str, str, ArchSpec], float]] = {}


def register_action_energy(kind: str):
    """Decorator: joules of one action (``mac.<dtype>.<acc>``, ``alu.<dtype>``...) on a unit of ``kind``;
    kinds without one use :func:`default_action_energy`."""
    def deco(fn):
        _ACTION[kind] = fn
        return fn
    return deco


def default_action_energy(action: str, unit: str, arch: ArchSpec) -> float:
    """Technology-table energy of an action: a MAC is multiplier + adder, an ALU op the mean of the two."""
    kind, _, rest = action.partition(".")
    n, d = arch.tech.node_nm, arch.tech.device
    if kind == "mac":
        dt, _, acc = rest.partition(".")
        return tech.mac_energy(DType(dt), DType(acc or "fp32"), n, d).value
    if kind == "alu":
        return tech.alu_energy(DType(rest), n, d).value
    raise KeyError(f"no energy model for action {action!r}")


@register_action_energy("systolic")
def _systolic_action(action: str, unit: str, arch: ArchSpec) -> float:
    """A systolic MAC also writes the PE pipeline registers it passes data through: the moving operand(s) and
    the partial sum (ws/is: one operand + acc bits; os: both operands + acc bits), Aladdin energy per bit."""
    e = default_action_energy(action, unit, arch)
    kind, _, rest = action.partition(".")
    if kind != "mac":
        return e
    dt, _, acc = rest.partition(".")
    moving = 2 if arch.units[unit].dataflow.value == "os" else 1
    bits = moving * DType(dt).bits + DType(acc or "fp32").bits
    reg = tech.register_bit("energy", arch.tech.node_nm).value * tech.device_scaling(arch.tech.device).power
    return e + bits * reg


def action_energy(action: str, unit: str, arch: ArchSpec) -> float:
    """Joules of one ``action`` on ``unit``: the arch's fitted value if it has one, else the unit kind's model."""
    if arch.energy is not None and action in arch.energy.action_j:
        return arch.energy.action_j[action]
    return arch.memo(("action_energy", action, unit),
                     lambda: _ACTION.get(arch.units[unit].kind, default_action_energy)(action, unit, arch))


# ---- per op -------------------------------------------------------------------------------------------
def _memory_energy(level: str, operand: str, nbytes: float, write: bool, arch: ArchSpec) -> tuple[str, float]:
    key, per_bit = arch.memo(("bit_energy", level, operand, write), lambda: _bit_energy(level, operand, write, arch))
    return key, nbytes * 8 * per_bit


def _bit_energy(level: str, operand: str, write: bool, arch: ArchSpec) -> tuple[str, float]:
    """(energy component, J per bit) of moving a bit of ``operand`` at ``level``."""
    g = level_geometry(arch, level, operand)
    name = g.key.split(".", 1)[1]
    if arch.energy is not None and name in arch.energy.bit_j:
        return g.key, arch.energy.bit_j[name]
    if g.kind.off_chip:
        return g.key, tech.dram_energy_per_bit(g.kind).value
    return g.key, _sram_j(g.capacity, g.banks, g.access_bits, write, arch.tech.node_nm, arch.tech.sram_cell)


def _noc_bits(level: str, nbytes: float, arch: ArchSpec) -> float:
    """Bits that cross the interconnect: traffic at shared levels without a fitted per-bit energy."""
    if level.endswith(".buffers") or (arch.energy is not None and level in arch.energy.bit_j):
        return 0.0
    return nbytes * 8


def dynamic_energy(cost: CostResult, arch: ArchSpec) -> dict[str, float]:
    """Dynamic joules of one op by component (no leakage)."""
    out: dict[str, float] = {}

    def add(key: str, j: float) -> None:
        out[key] = out.get(key, 0.0) + j

    for action, count in cost.actions.items():
        add(f"compute.{cost.unit}", count * action_energy(action, cost.unit, arch))
    noc_bits = 0.0
    for traffic, write in ((cost.reads, False), (cost.writes, True)):
        for level, by_operand in traffic.items():
            for operand, nbytes in by_operand.items():
                add(*_memory_energy(level, operand, nbytes, write, arch))
                noc_bits += _noc_bits(level, nbytes, arch)
    if noc_bits and arch.interconnect.avg_hops > 0:
        hop = tech.noc_energy_per_bit_hop(arch.tech.node_nm, arch.tech.device).value
        add("noc", noc_bits * arch.interconnect.avg_hops * hop)
    return out


# ---- static power -------------------------------------------------------------------------------------
def leakage_power_w(arch: ArchSpec) -> dict[str, float]:
    """Static power by component (W): SRAM leakage from the CACTI fits at the arch's cell type; logic leakage
    as a fraction of its full-activity dynamic power (Aladdin adder ratio, tech.logic_leakage_fraction)."""
    n, d, c = arch.tech.node_nm, arch.tech.device, arch.tech.sram_cell
    out: dict[str, float] = {}
    for m in arch.memories:
        if not m.off_chip:
            out[f"sram.{m.name}"] = sram.sram_leakage_w(m.capacity, m.banks, n, d, c, m.access_bits).value
    frac = tech.logic_leakage_fraction().value
    for name, u in arch.units.items():
        bufs = local_buffers(u)
        if bufs:
            out[f"sram.{name}.buffers"] = u.count * sum(sram.sram_leakage_w(b, 1, n, d, c).value
                                                        for b in bufs.values())
        out[f"compute.{name}"] = frac * peak_dynamic_power_w(name, arch)
    return out


def static_power_w(arch: ArchSpec) -> float:
    """Chip static power (W): the arch's measured/fitted value if given, else the sum of the leakage model."""
    if arch.energy is not None and arch.energy.static_power_w is not None:
        return arch.energy.static_power_w
    return arch.memo("static_power_w", lambda: sum(leakage_power_w(arch).values()))


_PEAK_POWER: dict[str, Callable[[str, ArchSpec], float]] = {}


def register_peak_power(kind: str):
    """Decorator: full-activity dynamic power (W) of a unit kind, used for its logic leakage."""
    def deco(fn):
        _PEAK_POWER[kind] = fn
        return fn
    return deco


def peak_dynamic_power_w(unit: str, arch: ArchSpec) -> float:
    """Dynamic power of a unit's datapath at full activity in its datapath format (W)."""
    kind = arch.units[unit].kind
    if kind not in _PEAK_POWER:
        raise KeyError(f"no power model registered for unit kind {kind!r}")
    return _PEAK_POWER[kind](unit, arch)


@register_peak_power("systolic")
def _systolic_power(unit: str, arch: ArchSpec) -> float:
    u = arch.units[unit]
    dt = datapath_dtype(u)
    return u.pes * action_energy(f"mac.{dt.value}.{acc_dtype(dt).value}", unit, arch) * arch.clock_hz


@register_peak_power("vector")
def _vector_power(unit: str, arch: ArchSpec) -> float:
    u = arch.units[unit]
    e = action_energy(f"alu.{datapath_dtype(u).value}", unit, arch)
    return u.lanes * u.count * u.flops_per_lane_per_cycle * e * arch.clock_hz


@register_peak_power("tensor_engine")
def _tensor_engine_power(unit: str, arch: ArchSpec) -> float:
    u = arch.units[unit]
    macs = max(u.tensor_flops_per_sm_per_cycle.values()) / 2 * u.sms
    return macs * action_energy("mac.fp8.fp32", unit, arch) * arch.clock_hz


def attach_energy(costs: list[CostResult], arch: ArchSpec, makespan_s: float) -> tuple[list[CostResult], dict]:
    """Add dynamic + a leakage share to every op; return the new costs and the block's energy by component.

    Static power over the block's makespan is shared among ops in proportion to their latency, so the ops'
    energies sum exactly to the block's (a conservation law the tests check).
    """
    leak_total = static_power_w(arch) * makespan_s
    busy = sum(c.latency_s for c in costs) or 1.0
    out, block = [], {}
    for c in costs:
        e = dynamic_energy(c, arch)
        e["leakage"] = leak_total * c.latency_s / busy
        for k, v in e.items():
            block[k] = block.get(k, 0.0) + v
        out.append(c.with_energy(e))
    return out, block
