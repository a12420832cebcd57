"""Closed-form estimate of a PIM GEMV (no host traffic): the analytical twin of ``simulate_gemv``.

Per step (one DRAM row index in every bank) of one channel, with ``gap_s = max(burst, tCCD_S)``,
``gap_l = max(burst, tCCD_L)``, ``v``/``c``/``r`` the vector writes, MAC commands and result reads of the
step (:func:`hwsim.engines.pim_layout.gemv_steps`):

**all-bank mode** (``n_g`` gangs, ``g_r = n_g / ranks`` per rank, tFAW weight ``w``)::

    w_1   = max(p' + 1, r'_L + gap_s, r'_L + CL + burst + tRTRS - CWL)     first vector write
    a_0   = max(w_1 + v gap_s, p' + tRP)                                  first gang ACT
    a_L   = a_0 + max((g_r - 1) d_act + ranks - 1, n_g - 1)              last gang ACT
    d_act = max(tRRD_S, ceil(tFAW / m)),  m = 1 + floor((4 - w) / w)     (tRRD_S alone if w = 0)
    m_L   = max(a_L + tRCD, w_1 + v gap_s) + (c - 1) tCCD_PIM             last MAC
    r_L   = m_L + r gap_s                                                 last result read
    p     = max(m_L + tRTP, a_L + tRAS, r_L + 1)                          PREA

(primes are the previous step's values). **per-bank mode** replaces the gang ACTs and the MAC train by
``tRCD + max(T_col, T_act + c gap_s)`` with ``T_col = max(nb c gap_s, B c gap_l)`` (column slots, then
one bank group's ``B`` banks) and ``T_act = (nb / ranks - 1) max(tRRD_S, tFAW / 4)``, and the PRE of the
last bank (``+ tRTP + 1``) precedes the result reads. The GEMV ends when the last result read returns,
``r_L + CL + burst``. Refresh adds ``(tRFC + tRP + reopen) / tREFI`` of the time, ``reopen`` being the ACT
phase plus ``tRCD`` that PIM repeats after a refresh closed its rows: ``n_ref = base // (tREFI - cost)`` refreshes
of ``cost = tRFC + tRP + reopen`` cycles each.

>>> from hwsim.engines.pim_timing import HBM2_NEUPIMS, HBM2_NEUPIMS_TIMING
>>> gemv_equations(1024, 1024, 2, HBM2_NEUPIMS, HBM2_NEUPIMS_TIMING).cycles
368
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hwsim.engines.pim_layout import GemvSteps, PimMode, gemv_steps, split_rows
from hwsim.engines.pim_timing import DramTiming, PimOrganization

__all__ = ["PimEquationResult", "gemv_equations"]

_NEG = -(1 << 40)


@dataclass(frozen=True)
class PimEquationResult:
    """Analytical GEMV estimate (slowest channel; counts over all channels).

    Attributes
    ----------
    cycles, seconds : int, float
        GEMV latency, DRAM cycles and seconds.
    steps : int
        Steps (DRAM rows per bank) of the slowest channel.
    act_commands, pim_mac_commands : int
        PIM ACT commands and MAC commands (without refresh re-opens).
    internal_bandwidth_Bps : float
        Bank-to-MAC bytes per second, B/s.
    refresh_overhead : float
        Fraction of time added for refresh (``cycles / base - 1``).
    """

    cycles: int
    seconds: float
    steps: int
    act_commands: int
    pim_mac_commands: int
    internal_bandwidth_Bps: float
    refresh_overhead: float


def _act_span(org: PimOrganization, t: DramTiming) -> tuple[int, int]:
    """(ACT-phase span from first to last gang ACT, gang ACT commands) of one all-bank step."""
    n_g = org.banks_per_channel // org.gang_act_banks
    g_r, w = n_g // org.ranks, org.gang_act_faw_weight
    rrd = t.tRRD_S if org.gang_act_banks <= org.banks_per_group else t.tRRD_L
    d_act = rrd if (w == 0 or t.tFAW == 0) else max(rrd, math.ceil(t.tFAW / (1 + (4 - w) // w)))
    return max((g_r - 1) * d_act + org.ranks - 1, n_g - 1), n_g


def _all_bank_cycles(steps: GemvSteps, org: PimOrganization, t: DramTiming) -> int:
    gap_s = t.col_gap_s
    span, _ = _act_span(org, t)
    p = r_last = m_last = _NEG
    for v, c, r in zip(steps.vec_writes.tolist(), steps.mac_cmds.tolist(), steps.res_reads.tolist()):
        w1 = max(p + 1, r_last + gap_s, r_last + t.CL + t.burst_cycles + t.tRTRS - t.CWL, 0)
        a_last = max(w1 + v * gap_s, p + t.tRP) + span
        m_last = max(a_last + t.tRCD, w1 + v * gap_s) + (c - 1) * t.tCCD_PIM
        r_last = m_last + r * gap_s
        p = max(m_last + t.tRTP, a_last + t.tRAS, r_last + 1)
    return r_last + t.CL + t.burst_cycles


def _per_bank_cycles(steps: GemvSteps, org: PimOrganization, t: DramTiming) -> int:
    gap_s, gap_l, nb = t.col_gap_s, t.col_gap_l, org.banks_per_channel
    t_act = (nb // org.ranks - 1) * max(t.tRRD_S, t.tFAW / 4)
    p = r_last = _NEG
    for v, c, r in zip(steps.vec_writes.tolist(), steps.mac_cmds.tolist(), steps.res_reads.tolist()):
        w1 = max(p + 1, r_last + gap_s, r_last + t.CL + t.burst_cycles + t.tRTRS - t.CWL, 0)
        a0 = max(w1 + v * gap_s, p + t.tRP)
        t_col = max(nb * c * gap_s, org.banks_per_group * c * gap_l)
        m_last = a0 + t.tRCD + max(t_col, t_act + c * gap_s)
        p = m_last + t.tRTP
        r_last = p + r * gap_s
    return math.ceil(r_last + t.CL + t.burst_cycles)


def gemv_equations(rows: int, cols: int, dtype_bytes: int, org: PimOrganization, timing: DramTiming, *,
                   mode: PimMode | str = "all_bank", batch: int = 1,
                   channels: int | None = None) -> PimEquationResult:
    """Closed-form latency of ``y = W x`` on PIM DRAM (same layout and rules as :func:`simulate_gemv`).

    Parameters
    ----------
    rows, cols, dtype_bytes : int
        Matrix shape (elements) and bytes per element.
    org, timing : PimOrganization, DramTiming
        Device.
    mode : {"all_bank", "per_bank"}
        MAC command mode.
    batch : int
        Vectors applied to the matrix.
    channels : int, optional
        Channels the matrix is spread over (default all).

    Returns
    -------
    PimEquationResult
    """
    mode, channels = PimMode(mode), org.channels if channels is None else channels
    rows_ch = split_rows(rows, channels)[0][0]
    steps = gemv_steps(rows_ch, cols, dtype_bytes, org, mode, batch)
    if mode is PimMode.ALL_BANK:
        base, reopen = _all_bank_cycles(steps, org, timing), _act_span(org, timing)[0] + timing.tRCD
    else:
        base, reopen = _per_bank_cycles(steps, org, timing), timing.tRCD
    cost = timing.tRFC + timing.tRP + reopen
    cycles = int(base + (base // max(1, timing.tREFI - cost)) * cost)
    per_step_acts = _act_span(org, timing)[1] if mode is PimMode.ALL_BANK else org.banks_per_channel
    acts = macs = bank_cols = 0
    for r, n in split_rows(rows, channels):
        s = gemv_steps(r, cols, dtype_bytes, org, mode, batch)
        per_cmd = org.banks_per_channel if mode is PimMode.PER_BANK else 1  # per-bank counts are per bank
        acts, macs = acts + per_step_acts * s.n_steps * n, macs + int(s.mac_cmds.sum()) * per_cmd * n
        bank_cols += int(s.bank_columns.sum()) * n
    bank_bytes = bank_cols * org.banks_per_channel * org.column_bytes
    return PimEquationResult(cycles=cycles, seconds=cycles * timing.tCK_s, steps=steps.n_steps,
                             act_commands=acts, pim_mac_commands=macs,
                             internal_bandwidth_Bps=bank_bytes / (cycles * timing.tCK_s),
                             refresh_overhead=cycles / base - 1.0)
