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

Time of one GEMV on one channel follows the Newton/NeuPIMs data layout (``gemv_steps``: rows dealt to banks,
columns cut into row-sized chunks) with the closed form of :func:`gemv_step_cycles` per opened row. The
command-level simulator of the ``pim`` branch (``pim_sim.simulate_gemv``) replaces the closed form at cycle
fidelity once it lands; until then cycle requests fall back to this analytical model (noted per op).

Host contention: the PIM op reports the external-bus cycles it needs (vector writes into the channel's
global buffer, result reads) as ``memory_cycles`` of the PIM's memory level, so the event scheduler shares
that bus with the host's traffic; in blocked mode (no dual row buffer, or a mapping option ``blocked``) it
claims the level exclusively (``extra["exclusive_levels"]``): host accesses wait while it runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from hwsim.arch.components import PimMode, PimUnit
from hwsim.engines.analytical import home_level, level_cycles
from hwsim.engines.base import Engine, register_engine
from hwsim.engines.pim_timing import PRESETS, DramTiming, PimOrganization
from hwsim.errors import UnsupportedOpError
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
    mat = mats[0]
    if mat.dtype.bits % 8:
        raise UnsupportedOpError(f"sub-byte matrix format {mat.dtype.value} is not laid out for PIM")
    seqs = mat.shape[0] if mat.role == TensorRole.KV_CACHE and len(mat.shape) == 4 else groups
    return GemvShape(groups, m, n, k, mat.dtype.bits // 8, seqs)


@dataclass(frozen=True)
class GemvTime:
    """Closed-form time and command counts of one GEMV slice on one channel (DRAM cycles and commands)."""

    cycles: float
    steps: int
    mac_cycles: float
    gang_acts: int
    bank_activations: int
    mac_cmds: int
    bank_columns: int
    vec_writes: int
    res_reads: int


def gemv_step_cycles(columns: int, vectors: int, res_reads: int, org: PimOrganization, t: DramTiming,
                     mode: PimMode) -> tuple[float, float]:
    """(cycles, MAC-phase cycles) of one step: open one row in every bank, MAC its columns, read results, close.

    All-bank mode: gang ACTs (``gang_act_banks`` banks each) fill a rank, one per ``max(tRRD_S, tFAW x w/4)``
    (``w`` = tFAW slots a gang ACT takes; NewtonSim G_ACT -> G_ACT = tFAW), ranks interleaved on the command bus;
    MACs start ``tRCD`` after the last ACT and issue every ``tCCD_PIM`` (times the banks sharing a MAC unit);
    precharge no earlier than ``tRAS`` after the ACT; result reads (``burst_cycles`` each) overlap ``tRP``.
    Per-bank mode: one ACT per bank (tRRD_S / four per tFAW) and one MAC command per bank column at the
    command-bus rate ``max(1, tCCD_S)``.

    >>> from hwsim.engines.pim_timing import HBM2_NEUPIMS as O, HBM2_NEUPIMS_TIMING as T
    >>> gemv_step_cycles(16, 1, 4, O, T, PimMode.ALL_BANK)   # 3 x 30 + 1 + 14 + 16 x 2, then max(14, 8)
    (151.0, 32.0)
    """
    per_rank = org.bank_groups * org.banks_per_group
    if mode == PimMode.ALL_BANK:
        acts = per_rank // org.gang_act_banks
        gap = max(t.tRRD_S, math.ceil(t.tFAW * org.gang_act_faw_weight / 4))
        mac = columns * vectors * org.banks_per_mac_unit * t.tCCD_PIM
    else:
        acts = per_rank
        gap = max(t.tRRD_S, math.ceil(t.tFAW / 4))
        mac = per_rank * org.ranks * columns * vectors * max(1, t.tCCD_S)
    act_span = (acts - 1) * gap + (org.ranks - 1)
    open_ = max(act_span + t.tRCD + mac, t.tRAS)
    return float(open_ + max(t.tRP, res_reads * t.burst_cycles)), float(mac)


def gemv_closed_form(rows: int, cols: int, vectors: int, dtype_bytes: int, org: PimOrganization, t: DramTiming,
                     mode: PimMode) -> GemvTime:
    """One ``rows x cols`` GEMV slice on one channel, Newton/NeuPIMs layout.

    Matrix rows are dealt to the channel's banks (``ceil(rows / banks)`` each); columns are cut into chunks of
    ``width = min(cols, row_bytes / dtype_bytes)`` elements; a DRAM row packs ``row_elems // width`` row
    segments. Each chunk writes its vector slice into the global buffer (``ceil(width x bytes / column_bytes)``
    column writes per vector) and walks its DRAM rows (steps); refresh stretches the total by
    ``tREFI / (tREFI - tRFC)``.

    >>> from hwsim.engines.pim_timing import HBM2_NEUPIMS as O, HBM2_NEUPIMS_TIMING as T
    >>> g = gemv_closed_form(1024, 128, 1, 2, O, T, PimMode.ALL_BANK)   # one K-cache head, 1024 keys
    >>> g.steps, g.mac_cmds, g.res_reads, g.vec_writes
    (8, 128, 32, 4)
    """
    nb = org.banks_per_channel
    row_elems = org.row_bytes // dtype_bytes
    width = min(cols, row_elems)
    segs = row_elems // width
    per_bank = math.ceil(rows / nb)
    dram_rows = math.ceil(per_bank / segs)
    cycles = mac_total = 0.0
    steps = mac_cmds = bank_cols = vec = res = 0
    for c in range(math.ceil(cols / width)):
        w_c = min(width, cols - c * width)
        v = math.ceil(w_c * dtype_bytes / org.column_bytes) * vectors
        vec += v
        cycles += v * t.burst_cycles
        for j in range(dram_rows):
            s_j = min(segs, per_bank - j * segs)
            columns = math.ceil(s_j * w_c * dtype_bytes / org.column_bytes)
            r = math.ceil(nb * s_j * dtype_bytes / org.column_bytes) * vectors
            step, mac = gemv_step_cycles(columns, vectors, r, org, t, mode)
            cycles += step
            mac_total += mac
            steps += 1
            res += r
            bank_cols += columns * vectors * nb
            mac_cmds += columns * vectors * (org.banks_per_mac_unit if mode == PimMode.ALL_BANK else nb)
    refresh = t.tREFI / (t.tREFI - t.tRFC)
    gangs = org.ranks * (org.bank_groups * org.banks_per_group) // org.gang_act_banks
    acts = steps * (gangs if mode == PimMode.ALL_BANK else nb)
    return GemvTime(cycles * refresh, steps, mac_total, acts, steps * nb, mac_cmds, bank_cols, vec, res)


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


@register_engine
class PimEngine(Engine):
    """Closed-form PIM GEMV timing (Newton/NeuPIMs layout) and its energy actions."""

    kind = "pim"
    name = "pim-analytical"
    fidelities = (Fidelity.ANALYTICAL,)

    def cost(self, op, unit, arch, mapping, fidelity):
        u: PimUnit = arch.units[unit]
        s = gemv_shape(op, u)
        org, t = pim_device(u)
        load = channel_load(s, org.channels, u.placement)
        g = gemv_closed_form(load.rows, s.cols, s.vectors, s.dtype_bytes, org, t, u.mode)
        seconds = load.gemvs * g.cycles / t.clock_hz
        cycles = seconds * arch.clock_hz
        level = u.memory or arch.dram.name
        per_cmd = org.column_bytes * load.gemvs * load.channels_used
        reads, writes = _host_traffic(op, unit, arch, level, g.res_reads * per_cmd, g.vec_writes * per_cmd)
        moved = {lv: sum(reads.get(lv, {}).values()) + sum(writes.get(lv, {}).values())
                 for lv in set(reads) | set(writes)}
        mem = level_cycles(moved, arch)
        compute = load.gemvs * g.mac_cycles / t.clock_hz * arch.clock_hz
        peak_macs = org.channels * org.mac_units_per_channel * org.mac_lanes * t.clock_hz / t.tCCD_PIM
        blocked = not org.dual_row_buffer or bool(mapping.options.get("blocked", False))
        bits = float(g.bank_columns * org.column_bytes * 8 * load.gemvs * load.channels_used)
        bg = "pim_bg" if org.banks_per_mac_unit == org.banks_per_group and org.banks_per_group > 2 else "pim_bank"
        extra = {"dram_bytes": (g.res_reads + g.vec_writes) * per_cmd, "pim_bank_bytes": bits / 8, "channels_used": load.channels_used,
                 "gemvs_per_channel": load.gemvs, "steps_per_gemv": g.steps, "dram_cycles": load.gemvs * g.cycles,
                 "bank_activations": g.bank_activations * load.gemvs * load.channels_used,
                 "mac_cmds": g.mac_cmds * load.gemvs * load.channels_used, "blocked": blocked}
        if blocked:
            extra["exclusive_levels"] = (level,)
        return CostResult(
            op=op.name, kind=op.kind.value, unit=unit, engine=self.name, fidelity=Fidelity.ANALYTICAL,
            flops=op.flops, cycles=cycles, latency_s=seconds, compute_cycles=compute, memory_cycles=mem,
            stall_cycles=max(cycles - compute, 0.0), reads=reads, writes=writes,
            actions={f"mac.{op.dtype.value}.{op.acc_dtype.value}": op.macs, f"{bg}.bits": bits},
            utilization=op.macs / (peak_macs * seconds) if seconds else 0.0, bound=Bound.MEMORY,
            notes=(f"PIM {u.preset} {u.mode.value}, {'blocked' if blocked else 'dual row buffer'}: "
                   f"{load.gemvs} GEMV(s) of {load.rows}x{s.cols} x{s.vectors} on each of {load.channels_used} "
                   f"channel(s), {g.steps} row steps each; closed form (engines/pim.py)",),
            extra=extra)


__all__ = ["pim_device", "GemvShape", "gemv_shape", "GemvTime", "gemv_step_cycles", "gemv_closed_form",
           "ChannelLoad", "channel_load", "PimEngine"]
