"""PIM units: GEMV-shaped GEMMs (decode attention, batch-1 projections) on DRAM banks with MAC units.

A GEMM qualifies when its matrix operand lives in DRAM (weights or the KV cache) and each group multiplies it
by at most ``max_vectors`` vectors (``M`` rows). The matrix of a group is ``rows = N`` by ``cols = K``
(``y = W^T x``; the KV cache is laid out so that a score GEMV reads K rows and a context GEMV reads V^T rows,
as NeuPIMs stores them). Anything else is refused (:class:`~hwsim.errors.UnsupportedOpError`).

Placement over channels (NeuPIMs keeps a request's KV cache in one channel and balances requests over channels,
``configs/README.md`` "pim_ch_idx"): with ``placement: sequence`` a channel runs the GEMVs of
``ceil(sequences / channels)`` sequences (all their heads), with ``placement: head`` of
``ceil(groups / channels)`` (sequence, head) pairs; a single matrix (``B = 1``, weights) is split by rows over
all channels. The GEMVs of a channel run one after another; channels run in parallel.

Time of one GEMV on one channel follows the Newton/NeuPIMs data layout (``pim_layout.gemv_steps``: rows dealt
to banks, columns cut into row-sized chunks): at analytical fidelity the closed form
``pim_equations.gemv_equations``, at cycle fidelity the command-level simulator ``pim_sim.simulate_gemv``
(docs/pim.md has both).

Host contention: the PIM op reports the external-bus cycles it needs (vector writes into the channel's
global buffer, result reads; at cycle fidelity at least the share of host bandwidth the simulator sees it take)
as ``memory_cycles`` of the PIM's memory level, so the event scheduler shares that bus with the host's
traffic; in blocked mode (no dual row buffer, or a mapping option ``blocked``) it
claims the level exclusively (``extra["exclusive_levels"]``): host accesses wait while it runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from hwsim.arch.components import PimMode, PimUnit
from hwsim.engines.analytical import home_level, level_cycles
from hwsim.engines.base import Engine, register_engine
from hwsim.engines.pim_equations import gemv_equations
from hwsim.engines.pim_layout import gemv_steps
from hwsim.engines.pim_timing import PRESETS, DramTiming, PimOrganization
from hwsim.errors import MappingError, UnsupportedOpError
from hwsim.ppa import pim as _pim_ppa  # noqa: F401  (registers the PIM kind's area, power and energies)
from hwsim.result import Bound, CostResult, Fidelity
from hwsim.workload.ops import Op, OpKind, TensorRole


def pim_device(u: PimUnit) -> tuple[PimOrganization, DramTiming]:
    """The unit's organisation and timing: its preset with the spec's overrides applied.

    >>> from hwsim.arch.components import PimUnit
    >>> org, t = pim_device(PimUnit(precisions=["fp16"], count=2, dual_row_buffer=False, timing={"tRCD": 20}))
    >>> org.channels, org.dual_row_buffer, t.tRCD
    (64, False, 20)
    """
    org, timing = PRESETS[u.preset]
    channels = (u.channels or org.channels) * u.count
    dual = org.dual_row_buffer if u.dual_row_buffer is None else u.dual_row_buffer
    org = replace(org, channels=channels, dual_row_buffer=dual)
    if u.timing:
        timing = replace(timing, **u.timing)
    return org, timing


@dataclass(frozen=True)
class GemvShape:
    """What one GEMM-as-GEMVs asks of the PIM: ``groups`` matrices of ``rows x cols``, each times ``vectors``."""

    groups: int
    vectors: int
    rows: int
    cols: int
    dtype_bytes: int
    sequences: int


def gemv_shape(op: Op, u: PimUnit) -> GemvShape:
    """Read a GEMM as GEMVs, or refuse it (not a GEMM, too many vectors, matrix not in DRAM, format)."""
    if op.kind != OpKind.GEMM:
        raise UnsupportedOpError(f"PIM runs GEMV-shaped GEMMs, not {op.kind.value}")
    if op.dtype not in u.precisions:
        raise UnsupportedOpError(f"PIM MACs compute {', '.join(p.value for p in u.precisions)}, not {op.dtype.value}")
    d = op.dims
    if "rows" in d:
        raise UnsupportedOpError("grouped GEMMs with uneven rows (MoE experts) are not GEMVs")
    groups, m, k, n = d.get("B", 1), d["M"], d["K"], d["N"]
    if m > u.max_vectors:
        raise UnsupportedOpError(f"{m} rows per group is a GEMM, not a GEMV (max_vectors {u.max_vectors})")
    mats = [t for t in op.inputs if t.role in (TensorRole.KV_CACHE, TensorRole.WEIGHT)
            and not t.name.endswith(".bias")]
    if not mats:
        raise UnsupportedOpError("no operand lives in DRAM (weights or KV cache) for the banks to compute on")
    if sum(t.role == TensorRole.ACTIVATION for t in op.inputs) > 1:
        raise UnsupportedOpError("part of the matrix is a fresh activation, not in the banks (chunked prefill)")
    mat = mats[0]
    if mat.dtype.bits % 8:
        raise UnsupportedOpError(f"sub-byte matrix format {mat.dtype.value} is not laid out for PIM")
    seqs = mat.shape[0] if mat.role == TensorRole.KV_CACHE and len(mat.shape) == 4 else groups
    return GemvShape(groups, m, n, k, mat.dtype.bits // 8, seqs)


@dataclass(frozen=True)
class ChannelLoad:
    """How the GEMVs spread over channels: per busy channel, ``gemvs`` slices of ``rows`` rows."""

    gemvs: int
    rows: int
    channels_used: int


def channel_load(s: GemvShape, channels: int, placement: str) -> ChannelLoad:
    """Deal the GEMVs to channels (module docstring).

    >>> channel_load(GemvShape(groups=640, vectors=1, rows=1024, cols=128, dtype_bytes=2, sequences=64), 32,
    ...              "sequence")   # 64 sequences x 10 heads: 2 sequences per channel
    ChannelLoad(gemvs=20, rows=1024, channels_used=32)
    """
    if s.groups == 1:
        return ChannelLoad(1, math.ceil(s.rows / channels), min(channels, s.rows))
    if placement == "sequence":
        per_seq = math.ceil(s.groups / s.sequences)
        return ChannelLoad(math.ceil(s.sequences / channels) * per_seq, s.rows, min(channels, s.sequences))
    return ChannelLoad(math.ceil(s.groups / channels), s.rows, min(channels, s.groups))


def _host_traffic(op: Op, unit: str, arch, level: str, result_bytes: float, vector_bytes: float):
    """Reads/writes by level: PIM results read and vectors written over the memory's bus; the op's activations
    from / to their home levels elsewhere (the vector comes from, the output goes to, on-chip memory)."""
    reads: dict[str, dict[str, float]] = {level: {"pim_results": float(result_bytes)}}
    writes: dict[str, dict[str, float]] = {level: {"pim_vectors": float(vector_bytes)}}
    for x, side, operand in ([(x, reads, "ifmap") for x in op.inputs if x.role == TensorRole.ACTIVATION]
                             + [(x, writes, "ofmap") for x in op.outputs]):
        lv = home_level(x, unit, arch).name
        if lv != level:
            side.setdefault(lv, {})[operand] = side.get(lv, {}).get(operand, 0.0) + x.bytes
    return reads, writes


@dataclass(frozen=True)
class GemvCost:
    """One GEMV slice on one channel: DRAM cycles, MAC-command cycles, bank bytes read, bus column accesses."""

    cycles: float
    mac_cycles: float
    bank_bytes: float
    vec_writes: int
    res_reads: int
    steps: int
    fidelity: Fidelity
    host_share: float = 0.0


def gemv_cost(rows: int, cols: int, vectors: int, dtype_bytes: int, org: PimOrganization, t: DramTiming,
              mode: PimMode, fidelity: Fidelity) -> GemvCost:
    """Cost one GEMV slice held by one channel with the command-level PIM model (docs/pim.md).

    Analytical: :func:`~hwsim.engines.pim_equations.gemv_equations` (closed form, within a few % of the
    simulator). Cycle: :func:`~hwsim.engines.pim_sim.simulate_gemv`, plus a second run with the host streaming
    reads at full rate during the GEMV, whose lost host bandwidth is ``host_share`` (the fraction of the bus
    the PIM takes from the host in dual-row-buffer mode; the event scheduler uses it).

    >>> from hwsim.engines.pim_timing import HBM2_NEUPIMS as O, HBM2_NEUPIMS_TIMING as T
    >>> c = gemv_cost(1024, 128, 1, 2, O, T, PimMode.ALL_BANK, Fidelity.ANALYTICAL)   # one K-cache head
    >>> c.steps, c.vec_writes, c.res_reads, c.bank_bytes == 1024 * 128 * 2
    (8, 4, 32, True)
    """
    from hwsim.engines.pim_sim import simulate_gemv  # Numba; imported only when a cycle cost is asked for

    steps = gemv_steps(rows, cols, dtype_bytes, org, mode.value, vectors)
    vec, res = int(steps.vec_writes.sum()), int(steps.res_reads.sum())
    bank_bytes = float(steps.bank_columns.sum() * org.banks_per_channel * org.column_bytes)
    macs_per_step = steps.mac_cmds * (t.tCCD_PIM if mode == PimMode.ALL_BANK else max(1, t.tCCD_S))
    mac = float(macs_per_step.sum())
    if fidelity != Fidelity.CYCLE:
        e = gemv_equations(rows, cols, dtype_bytes, org, t, mode=mode.value, batch=vectors, channels=1)
        return GemvCost(float(e.cycles), mac, bank_bytes, vec, res, steps.n_steps, Fidelity.ANALYTICAL)
    alone = simulate_gemv(rows, cols, dtype_bytes, org, t, mode=mode.value, batch=vectors, channels=1)
    share = 0.0
    if org.dual_row_buffer:
        peak = org.column_bytes / t.col_gap_s  # host bytes per cycle of one channel
        host = simulate_gemv(rows, cols, dtype_bytes, org, t, mode=mode.value, batch=vectors, channels=1,
                             host_bytes=int(peak * alone.pim_cycles))
        window = max(host.pim_cycles, 1)
        served = min(host.actions.host_reads * org.column_bytes, peak * window)
        share = max(0.0, 1.0 - served / (peak * window))
    return GemvCost(float(alone.pim_cycles), mac, bank_bytes, vec, res, steps.n_steps, Fidelity.CYCLE, share)


def _blocked_option(options, unit: str) -> bool:
    """The mapping's ``blocked`` option (the PIM engine's only one), checked: true or false."""
    unknown = sorted(set(options) - {"blocked"})
    value = options.get("blocked", False)
    if unknown or not isinstance(value, bool):
        what = f"unknown option(s) {', '.join(unknown)}" if unknown else f"options.blocked {value!r} is not a boolean"
        raise MappingError(f"mapping rule for PIM unit {unit}: {what} (allowed: blocked: true | false)")
    return value


@register_engine
class PimEngine(Engine):
    """PIM GEMV timing (closed form or command-level simulation, docs/pim.md) and its energy actions."""

    kind = "pim"
    op_kinds = frozenset({OpKind.GEMM})
    name = "pim"
    fidelities = (Fidelity.ANALYTICAL, Fidelity.CYCLE)

    def cost(self, op, unit, arch, mapping, fidelity):
        u: PimUnit = arch.units[unit]
        s = gemv_shape(op, u)
        org, t = pim_device(u)
        blocked = not org.dual_row_buffer or _blocked_option(mapping.options, unit)
        if blocked:
            org = replace(org, dual_row_buffer=False)
        load = channel_load(s, org.channels, u.placement)
        g = gemv_cost(load.rows, s.cols, s.vectors, s.dtype_bytes, org, t, u.mode, fidelity)
        seconds = load.gemvs * g.cycles / t.clock_hz
        cycles = seconds * arch.clock_hz
        level = u.memory or arch.dram.name
        per_cmd = org.column_bytes * load.gemvs * load.channels_used
        reads, writes = _host_traffic(op, unit, arch, level, g.res_reads * per_cmd, g.vec_writes * per_cmd)
        moved = {lv: sum(reads.get(lv, {}).values()) + sum(writes.get(lv, {}).values())
                 for lv in set(reads) | set(writes)}
        mem = level_cycles(moved, arch)
        if g.host_share > 0:  # measured share of the host bus, as bus cycles over the op
            mem[level] = max(mem.get(level, 0.0), g.host_share * load.channels_used / org.channels * cycles)
        compute = load.gemvs * g.mac_cycles / t.clock_hz * arch.clock_hz
        peak_macs = org.channels * org.mac_units_per_channel * org.mac_lanes * t.clock_hz / t.tCCD_PIM
        bits = g.bank_bytes * 8 * load.gemvs * load.channels_used
        per_bg = org.banks_per_mac_unit == org.banks_per_group and org.banks_per_group > 2
        extra = {"dram_bytes": (g.res_reads + g.vec_writes) * per_cmd, "pim_bank_bytes": bits / 8,
                 "channels_used": load.channels_used, "gemvs_per_channel": load.gemvs,
                 "steps_per_gemv": g.steps, "dram_cycles": load.gemvs * g.cycles, "blocked": blocked}
        if blocked:
            extra["exclusive_levels"] = (level,)
        model = "pim_sim.simulate_gemv" if g.fidelity == Fidelity.CYCLE else "pim_equations.gemv_equations"
        return CostResult(
            op=op.name, kind=op.kind.value, unit=unit, engine=self.name, fidelity=g.fidelity,
            flops=op.flops, cycles=cycles, latency_s=seconds, compute_cycles=compute, memory_cycles=mem,
            stall_cycles=max(cycles - compute, 0.0), reads=reads, writes=writes,
            actions={f"mac.{op.dtype.value}.{op.acc_dtype.value}": op.macs,
                     f"{'pim_bg' if per_bg else 'pim_bank'}.bits": bits},
            utilization=op.macs / (peak_macs * seconds) if seconds else 0.0, bound=Bound.MEMORY,
            notes=(f"PIM {u.preset} {u.mode.value}, {'blocked' if blocked else 'dual row buffer'}: "
                   f"{load.gemvs} GEMV(s) of {load.rows}x{s.cols} x{s.vectors} on each of {load.channels_used} "
                   f"channel(s), {g.steps} row steps each; {model}",),
            extra=extra)


__all__ = ["pim_device", "GemvShape", "gemv_shape", "GemvCost", "gemv_cost", "ChannelLoad", "channel_load",
           "PimEngine"]
