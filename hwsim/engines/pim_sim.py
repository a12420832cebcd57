"""Public API of the command-level PIM model: GEMV (and attention decode) on PIM-enabled DRAM.

``simulate_gemv`` lays the matrix out over channels and banks (:mod:`hwsim.engines.pim_layout`), runs the
Numba command scheduler once per distinct channel load (:mod:`hwsim.engines.pim_kernels`), and returns
one frozen :class:`PimSimResult`: cycles, command counts, row hits and misses, bandwidths, host-request
latency, and the *actions* the energy model prices (activations, column accesses by kind, MACs, I/O
bits). Energy per action is applied later by the PPA layer; nothing here knows a pJ value.

Examples
--------
>>> from hwsim.engines.pim_timing import HBM2_NEUPIMS, HBM2_NEUPIMS_TIMING
>>> r = simulate_gemv(1024, 1024, 2, HBM2_NEUPIMS, HBM2_NEUPIMS_TIMING)
>>> r.cycles, r.actions.macs, r.actions.bank_activations
(366, 1048576, 2048)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hwsim.engines.pim_kernels import simulate_channel
from hwsim.engines.pim_layout import (GemvSteps, HostPattern, PimMode, gemv_steps, host_requests,
                                      split_rows)
from hwsim.engines.pim_params import STAT_NAMES, pack_params
from hwsim.engines.pim_timing import DramTiming, PimOrganization

__all__ = ["PimActions", "PimSimResult", "simulate_gemv"]


@dataclass(frozen=True)
class PimActions:
    """Energy-relevant action counts over all channels (the PPA layer prices them).

    Attributes
    ----------
    act_commands, bank_activations : int
        ACT commands issued, and banks they opened (a gang ACT opens several).
    precharge_commands, refresh_commands : int
        PRE/PREA commands (including the PREA before a refresh) and all-bank REF commands.
    host_reads, host_writes : int
        Host column accesses of ``column_bytes`` each.
    pim_mac_commands : int
        MAC column commands (all-bank commands count once).
    pim_bank_column_accesses : int
        Bank column reads feeding MAC units (a bank-level action: ``column_bytes`` each).
    gbuf_writes, result_reads : int
        Global-buffer vector writes and MAC-result reads over the data bus, ``column_bytes`` each.
    macs : int
        Useful multiply-accumulates, ``rows * cols * batch``.
    mac_lane_ops : int
        Element MACs issued, including padding of partly filled columns and idle banks.
    pim_internal_bits : int
        Bits moved from banks to MAC units, bits.
    io_bits : int
        Bits over the external data bus (host, global-buffer writes, result reads), bits.
    """

    act_commands: int
    bank_activations: int
    precharge_commands: int
    refresh_commands: int
    host_reads: int
    host_writes: int
    pim_mac_commands: int
    pim_bank_column_accesses: int
    gbuf_writes: int
    result_reads: int
    macs: int
    mac_lane_ops: int
    pim_internal_bits: int
    io_bits: int


@dataclass(frozen=True)
class PimSimResult:
    """Outcome of one command-level PIM simulation (all times are of the slowest channel).

    Attributes
    ----------
    cycles, seconds : int, float
        Until the last command's effect ends (PIM and host), DRAM cycles and seconds.
    pim_cycles, host_cycles : int
        Cycle the GEMV result is available; cycle the last host request completes (0 if none).
    mode : PimMode
        All-bank or per-bank MAC commands.
    dual_row_buffer : bool
        Whether host and PIM had separate row buffers.
    channels : int
        Channels the matrix and the host traffic were spread over.
    actions : PimActions
        Counts for the energy model.
    pim_row_hits, pim_row_misses : int
        Bank column accesses that found their row open, and bank activations PIM needed.
    host_row_hits, host_row_misses, host_row_conflicts : int
        Host requests whose first command was a column, an ACT, or a PRE of another row.
    pim_conflict_precharges : int
        PREs PIM issued to close host rows (blocked mode).
    matrix_bytes, host_bytes : int
        Matrix bytes held in DRAM; host bytes actually simulated (whole column requests), bytes.
    internal_bandwidth_Bps : float
        Bank-to-MAC bytes per second over the GEMV (``pim_cycles``), B/s.
    host_bandwidth_Bps : float
        Host bytes per second until the last host completion, B/s (0 if no host traffic).
    host_latency_mean_s, host_latency_max_s : float
        Arrival-to-data latency of host requests, seconds (0 if none).
    """

    cycles: int
    seconds: float
    pim_cycles: int
    host_cycles: int
    mode: PimMode
    dual_row_buffer: bool
    channels: int
    actions: PimActions
    pim_row_hits: int
    pim_row_misses: int
    host_row_hits: int
    host_row_misses: int
    host_row_conflicts: int
    pim_conflict_precharges: int
    matrix_bytes: int
    host_bytes: int
    internal_bandwidth_Bps: float
    host_bandwidth_Bps: float
    host_latency_mean_s: float
    host_latency_max_s: float


_EMPTY = GemvSteps(*(np.zeros(0, dtype=np.int64),) * 4, useful_bytes=0)


def _channel_loads(rows: int, channels: int, host_req: int) -> list[tuple[int, int]]:
    """(matrix rows, channel count) per distinct channel load; idle channels still carry host traffic."""
    loads = split_rows(rows, channels)
    idle = channels - sum(n for _, n in loads)
    return loads + ([(0, idle)] if idle and host_req else [])


def _run_channel(rows_ch, cols, dtype_bytes, org, timing, mode, batch, host):
    steps = gemv_steps(rows_ch, cols, dtype_bytes, org, mode, batch) if rows_ch else _EMPTY
    params = pack_params(org, timing, per_bank=mode is PimMode.PER_BANK)
    stats, done = simulate_channel(params, steps.vec_writes, steps.mac_cmds, steps.res_reads,
                                   host.bank, host.row, host.is_write, host.arrival)
    stats = dict(zip(STAT_NAMES, (int(x) for x in stats)))
    if stats["end_cycle"] < 0:
        raise RuntimeError(f"PIM scheduler made no progress across refreshes (rows_ch={rows_ch}, cols={cols}, "
                           f"mode={mode.value}): tREFI {timing.tREFI} leaves too little time after "
                           f"tRFC {timing.tRFC} to open rows and issue a column command")
    bank_cols = int(steps.bank_columns.sum()) * org.banks_per_channel
    return stats, done - host.arrival, bank_cols


def _validate(rows, cols, dtype_bytes, batch, host_bytes, channels, org, timing):
    for name, value in (("rows", rows), ("cols", cols), ("dtype_bytes", dtype_bytes), ("batch", batch)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    if host_bytes < 0:
        raise ValueError(f"host_bytes must be >= 0, got {host_bytes}")
    if not 1 <= channels <= org.channels:
        raise ValueError(f"channels must be in 1..{org.channels} for {org.name}, got {channels}")
    if timing.tRFC + timing.tRP >= timing.tREFI:
        raise ValueError(f"tRFC {timing.tRFC} + tRP {timing.tRP} must be below tREFI {timing.tREFI}")


def simulate_gemv(rows: int, cols: int, dtype_bytes: int, org: PimOrganization, timing: DramTiming, *,
                  mode: PimMode | str = "all_bank", batch: int = 1, host_bytes: int = 0,
                  host_pattern: HostPattern | str = "stream", host_write_fraction: float = 0.0,
                  host_interval_cycles: int = 0, channels: int | None = None, seed: int = 0) -> PimSimResult:
    """Simulate ``y = W x`` for a ``rows x cols`` matrix resident in PIM DRAM, command by command.

    Parameters
    ----------
    rows, cols : int
        Matrix shape, elements (``rows`` outputs, ``cols`` inputs).
    dtype_bytes : int
        Bytes per element (2 for FP16/BF16).
    org, timing : PimOrganization, DramTiming
        Device (see :mod:`hwsim.engines.pim_timing` presets).
    mode : {"all_bank", "per_bank"}
        MAC commands drive all MAC units of a channel at once, or one bank.
    batch : int
        Vectors applied to the same matrix; each opened row is reused ``batch`` times.
    host_bytes : int
        Host normal traffic competing for the same banks, bytes over all channels (rounded up to whole
        ``column_bytes`` requests per channel).
    host_pattern : {"stream", "random"}
        Host address pattern.
    host_write_fraction : float
        Fraction of host requests that are writes.
    host_interval_cycles : int
        Cycles between host request arrivals in each channel (0: all arrive at cycle 0).
    channels : int, optional
        Channels the matrix is spread over (default: all of ``org``).
    seed : int
        Seed of the random host pattern.

    Returns
    -------
    PimSimResult
    """
    mode, channels = PimMode(mode), org.channels if channels is None else channels
    _validate(rows, cols, dtype_bytes, batch, host_bytes, channels, org, timing)
    req_ch = math.ceil(host_bytes / org.column_bytes / channels) if host_bytes else 0
    host = host_requests(req_ch, org, host_pattern, host_write_fraction, host_interval_cycles, seed)
    total = dict.fromkeys(STAT_NAMES, 0)
    peak = dict(end_cycle=0, pim_done_cycle=0, host_done_cycle=0)
    bank_cols, lat_sum, lat_max, n_lat = 0, 0, 0, 0
    for rows_ch, count in _channel_loads(rows, channels, req_ch):
        stats, latency, cols_ch = _run_channel(rows_ch, cols, dtype_bytes, org, timing, mode, batch, host)
        for name in STAT_NAMES:
            total[name] += stats[name] * count
        for name in peak:
            peak[name] = max(peak[name], stats[name])
        bank_cols += cols_ch * count
        if latency.size:
            lat_sum, n_lat = lat_sum + int(latency.sum()) * count, n_lat + latency.size * count
            lat_max = max(lat_max, int(latency.max()))
    return _result(rows, cols, dtype_bytes, batch, org, timing, mode, channels, total, peak, bank_cols,
                   (lat_sum, lat_max, n_lat))


def _result(rows, cols, dtype_bytes, batch, org, timing, mode, channels, total, peak, bank_cols, lat):
    io_cols = total["host_reads"] + total["host_writes"] + total["gbuf_writes"] + total["result_reads"]
    actions = PimActions(
        act_commands=total["act_cmds"], bank_activations=total["bank_activations"],
        precharge_commands=total["pre_cmds"], refresh_commands=total["ref_cmds"],
        host_reads=total["host_reads"], host_writes=total["host_writes"],
        pim_mac_commands=total["pim_mac_cmds"], pim_bank_column_accesses=bank_cols,
        gbuf_writes=total["gbuf_writes"], result_reads=total["result_reads"], macs=rows * cols * batch,
        mac_lane_ops=bank_cols * org.column_bytes // dtype_bytes,
        pim_internal_bits=bank_cols * org.column_bytes * 8, io_bits=io_cols * org.column_bytes * 8)
    tck, host_n = timing.tCK_s, total["host_reads"] + total["host_writes"]
    host_bytes = host_n * org.column_bytes
    return PimSimResult(
        cycles=peak["end_cycle"], seconds=peak["end_cycle"] * tck, pim_cycles=peak["pim_done_cycle"],
        host_cycles=peak["host_done_cycle"], mode=mode, dual_row_buffer=org.dual_row_buffer,
        channels=channels, actions=actions,
        pim_row_hits=max(0, bank_cols - total["pim_bank_activations"]),
        pim_row_misses=total["pim_bank_activations"], host_row_hits=total["host_row_hits"],
        host_row_misses=total["host_row_misses"], host_row_conflicts=total["host_row_conflicts"],
        pim_conflict_precharges=total["pim_conflict_pres"], matrix_bytes=rows * cols * dtype_bytes,
        host_bytes=host_bytes,
        internal_bandwidth_Bps=bank_cols * org.column_bytes / (peak["pim_done_cycle"] * tck),
        host_bandwidth_Bps=host_bytes / (peak["host_done_cycle"] * tck) if host_n else 0.0,
        host_latency_mean_s=lat[0] / lat[2] * tck if lat[2] else 0.0,
        host_latency_max_s=lat[1] * tck)
