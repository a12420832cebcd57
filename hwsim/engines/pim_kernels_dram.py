"""Numba kernels, part 1: DRAM state of one channel as arrays, and the timing rule of every command.

The pure-Python twin is :mod:`hwsim.engines.pim_reference_dram` (read it first: it is the spec). State:

* ``bk[F, k, b]``: per bank ``b`` and row buffer ``k``, field ``F`` in (``OPEN``, ``ACT_T``, ``NEXT_ACT``,
  ``NEXT_PRE``);
* ``rk[r, 0:4]``: tFAW ring of rank ``r`` (most recent first); ``rk[r, 4 + g]``: last ACT to bank group ``g``;
* ``cb[rank * G + g]``: last non-all-bank column command to that bank group;
* ``sc``: channel scalars (``BUS_FREE`` ... ``END_T``); ``stats``: counters (``pim_params.S_*``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from hwsim.engines.pim_params import (
    INF, N_STATS, P_BANK_GROUPS, P_BANKS_PER_GROUP, P_BURST, P_CL, P_CWL, P_DUAL, P_RANKS, P_TCCD_L,
    P_TCCD_PIM, P_TCCD_S, P_TFAW, P_TRAS, P_TRCD, P_TRCDWR, P_TREFI, P_TRFC, P_TRP, P_TRRD_L, P_TRRD_S,
    P_TRTP, P_TRTRS, P_TWR, P_TWTR_L, P_TWTR_S, S_ACT_CMDS, S_BANK_ACTS, S_PRE_CMDS, S_REF_CMDS,
    S_REF_PRE_CMDS)
from hwsim.engines.pim_reference_dram import AB_MAC, GBUF_WR, HOST_RD, HOST_WR, PB_MAC, RES_RD

OPEN, ACT_T, NEXT_ACT, NEXT_PRE = 0, 1, 2, 3
BUS_FREE, LAST_COL, LAST_PIM_MAC, LAST_RD, LAST_WR, LAST_WR_BG, REF_DUE, END_T = 0, 1, 2, 3, 4, 5, 6, 7
N_SCALARS = 8


@njit(cache=True)
def new_state(p):
    """Fresh channel state ``(bk, rk, cb, sc, stats)`` for parameter vector ``p``."""
    ranks, groups = p[P_RANKS], p[P_BANK_GROUPS]
    nb, nbuf = ranks * groups * p[P_BANKS_PER_GROUP], 2 if p[P_DUAL] else 1
    bk = np.zeros((4, nbuf, nb), dtype=np.int64)
    bk[OPEN, :, :] = -1
    bk[ACT_T, :, :] = -INF
    rk = np.full((ranks, 4 + groups), -INF, dtype=np.int64)
    cb = np.full(ranks * groups, -INF, dtype=np.int64)
    sc = np.full(N_SCALARS, -INF, dtype=np.int64)
    sc[BUS_FREE], sc[LAST_WR_BG], sc[REF_DUE], sc[END_T] = 0, -1, p[P_TREFI], 0
    return bk, rk, cb, sc, np.zeros(N_STATS, dtype=np.int64)


@njit(cache=True)
def act_time(p, bk, rk, sc, k, lo, hi, w):
    """Earliest cycle an ACT may open banks ``lo..hi-1`` (one rank) of buffer ``k``, weight ``w``."""
    groups, per_group = p[P_BANK_GROUPS], p[P_BANKS_PER_GROUP]
    t = sc[BUS_FREE]
    for b in range(lo, hi):
        t = max(t, bk[NEXT_ACT, k, b])
    rank, g_lo, g_hi = lo // (groups * per_group), (lo // per_group) % groups, ((hi - 1) // per_group) % groups
    for h in range(groups):
        gap = p[P_TRRD_L] if g_lo <= h <= g_hi else p[P_TRRD_S]
        t = max(t, rk[rank, 4 + h] + gap)
    if p[P_TFAW] > 0 and w > 0:
        t = max(t, rk[rank, 4 - w] + p[P_TFAW])
    return t


@njit(cache=True)
def issue_act(p, bk, rk, sc, stats, t, k, lo, hi, w, row):
    """Issue an ACT of banks ``lo..hi-1`` of buffer ``k`` at cycle ``t``."""
    groups, per_group = p[P_BANK_GROUPS], p[P_BANKS_PER_GROUP]
    rank, g_lo, g_hi = lo // (groups * per_group), (lo // per_group) % groups, ((hi - 1) // per_group) % groups
    for b in range(lo, hi):
        bk[OPEN, k, b], bk[ACT_T, k, b], bk[NEXT_PRE, k, b] = row, t, t + p[P_TRAS]
    for h in range(g_lo, g_hi + 1):
        rk[rank, 4 + h] = t
    for _ in range(w):
        for i in range(3, 0, -1):
            rk[rank, i] = rk[rank, i - 1]
        rk[rank, 0] = t
    bus(sc, t, t + 1)
    stats[S_ACT_CMDS] += 1
    stats[S_BANK_ACTS] += hi - lo


@njit(cache=True)
def pre_time(bk, sc, k, lo, hi, keep):
    """Earliest cycle a PRE may close the open banks of ``lo..hi-1`` whose row is not ``keep``."""
    t = sc[BUS_FREE]
    for b in range(lo, hi):
        r = bk[OPEN, k, b]
        if r != -1 and r != keep:
            t = max(t, bk[NEXT_PRE, k, b])
    return t


@njit(cache=True)
def issue_pre(p, bk, sc, stats, t, k, lo, hi, keep):
    """Issue a PRE at cycle ``t`` (closes the banks :func:`pre_time` waited for)."""
    for b in range(lo, hi):
        r = bk[OPEN, k, b]
        if r != -1 and r != keep:
            bk[OPEN, k, b] = -1
            bk[NEXT_ACT, k, b] = max(bk[NEXT_ACT, k, b], t + p[P_TRP])
    bus(sc, t, t + 1)
    stats[S_PRE_CMDS] += 1


@njit(cache=True)
def col_time(p, bk, cb, sc, kind, k, b):
    """Earliest cycle of a column command of ``kind`` (bank ``b`` of buffer ``k`` where it has one)."""
    per_group = p[P_BANKS_PER_GROUP]
    gap_s, gap_l = max(p[P_BURST], p[P_TCCD_S]), max(p[P_BURST], p[P_TCCD_L])
    t = sc[BUS_FREE]
    if kind == HOST_RD or kind == HOST_WR or kind == PB_MAC:
        rcd = p[P_TRCDWR] if kind == HOST_WR else p[P_TRCD]
        t = max(t, bk[ACT_T, k, b] + rcd, cb[b // per_group] + gap_l)
    if kind == AB_MAC:
        for bb in range(bk.shape[2]):
            t = max(t, bk[ACT_T, k, bb] + p[P_TRCD])
        t = max(t, sc[LAST_PIM_MAC] + p[P_TCCD_PIM], sc[LAST_COL] + gap_s)
    else:
        t = max(t, sc[LAST_COL] + gap_s, sc[LAST_PIM_MAC] + gap_s)
    if kind == HOST_RD or kind == RES_RD:
        same_bg = kind == HOST_RD and sc[LAST_WR_BG] == b // per_group
        t = max(t, sc[LAST_WR] + p[P_CWL] + p[P_BURST] + (p[P_TWTR_L] if same_bg else p[P_TWTR_S]))
    if kind == HOST_WR or kind == GBUF_WR:
        t = max(t, sc[LAST_RD] + p[P_CL] + p[P_BURST] + p[P_TRTRS] - p[P_CWL])
    return t


@njit(cache=True)
def issue_col(p, bk, cb, sc, t, kind, k, b):
    """Issue a column command at cycle ``t``; returns the cycle its transfer (or MAC) completes."""
    per_group = p[P_BANKS_PER_GROUP]
    if kind == AB_MAC:
        for bb in range(bk.shape[2]):
            bk[NEXT_PRE, k, bb] = max(bk[NEXT_PRE, k, bb], t + p[P_TRTP])
        sc[LAST_PIM_MAC] = t
        return bus(sc, t, t + p[P_TCCD_PIM])
    sc[LAST_COL] = t
    if kind == HOST_RD or kind == HOST_WR or kind == PB_MAC:
        cb[b // per_group] = t
        recover = p[P_CWL] + p[P_BURST] + p[P_TWR] if kind == HOST_WR else p[P_TRTP]
        bk[NEXT_PRE, k, b] = max(bk[NEXT_PRE, k, b], t + recover)
    if kind == HOST_RD or kind == RES_RD:
        sc[LAST_RD] = t
        return bus(sc, t, t + p[P_CL] + p[P_BURST])
    if kind == HOST_WR or kind == GBUF_WR:
        sc[LAST_WR] = t
        sc[LAST_WR_BG] = b // per_group if kind == HOST_WR else -1
        return bus(sc, t, t + p[P_CWL] + p[P_BURST])
    return bus(sc, t, t + p[P_BURST])


@njit(cache=True)
def bus(sc, t, done):
    """Occupy the command bus at ``t``; record ``done`` as a candidate end cycle; return ``done``."""
    sc[BUS_FREE] = t + 1
    sc[END_T] = max(sc[END_T], done)
    return done


@njit(cache=True)
def any_open(bk, k):
    """Is any row open in buffer ``k``?"""
    for b in range(bk.shape[2]):
        if bk[OPEN, k, b] != -1:
            return True
    return False


@njit(cache=True)
def refresh(p, bk, sc, stats):
    """All-bank refresh: PREA if any row is open, REF once every bank may be activated, then tRFC."""
    t = max(sc[REF_DUE], sc[BUS_FREE])
    opened = False
    for k in range(bk.shape[1]):
        for b in range(bk.shape[2]):
            if bk[OPEN, k, b] != -1:
                opened = True
                t = max(t, bk[NEXT_PRE, k, b])
    if opened:
        for k in range(bk.shape[1]):
            for b in range(bk.shape[2]):
                if bk[OPEN, k, b] != -1:
                    bk[OPEN, k, b] = -1
                    bk[NEXT_ACT, k, b] = max(bk[NEXT_ACT, k, b], t + p[P_TRP])
        sc[BUS_FREE] = t + 1
        stats[S_PRE_CMDS] += 1
        stats[S_REF_PRE_CMDS] += 1
    t = max(t, sc[BUS_FREE])
    t = max(t, bk[NEXT_ACT].max())
    for k in range(bk.shape[1]):
        for b in range(bk.shape[2]):
            bk[NEXT_ACT, k, b] = max(bk[NEXT_ACT, k, b], t + p[P_TRFC])
    sc[BUS_FREE] = t + 1
    stats[S_REF_CMDS] += 1
    sc[REF_DUE] += p[P_TREFI]
