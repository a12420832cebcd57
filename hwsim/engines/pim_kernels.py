"""Numba kernels, part 2: the PIM sequencer, the host controller and the channel loop.

``simulate_channel`` is the command-level simulator of one PIM channel; its pure-Python twin (the spec,
with the scheduling rules in prose) is :func:`hwsim.engines.pim_reference.simulate_channel`, and the two
must return identical arrays (``tests/engines/test_pim_kernels.py``). Everything is a stateless function
of integer arrays; state lives in arrays created by :func:`new_state` and the agent vectors below.

>>> import numpy as np
>>> from hwsim.engines.pim_params import pack_params, S_PIM_DONE_T
>>> from hwsim.engines.pim_timing import HBM2_NEUPIMS, HBM2_NEUPIMS_TIMING
>>> p = pack_params(HBM2_NEUPIMS, HBM2_NEUPIMS_TIMING, per_bank=False)
>>> one, none = np.ones(1, dtype=np.int64), np.zeros(0, dtype=np.int64)
>>> stats, _ = simulate_channel(p, one * 0, one * 16, one, none, none, none, none)
>>> int(stats[S_PIM_DONE_T])
153
"""

from __future__ import annotations

import numpy as np
from numba import njit

from hwsim.engines.pim_kernels_dram import (
    OPEN, any_open, act_time, col_time, issue_act, issue_col, issue_pre, new_state, pre_time, refresh,
    REF_DUE, END_T)
from hwsim.engines.pim_params import (
    INF, P_DUAL, P_GANG_BANKS, P_GANG_WEIGHT, P_PER_BANK, P_QUEUE, S_END_T, S_GBUF_WR, S_HOST_CONFLICT,
    S_HOST_DONE_T, S_HOST_HIT, S_HOST_MISS, S_HOST_RD, S_HOST_WR, S_PIM_ACT_CMDS, S_PIM_BANK_ACTS,
    S_PIM_CONFLICT_PRE, S_PIM_DONE_T, S_PIM_MAC, S_PIM_PRE_CMDS, S_PIM_START_T, S_RES_RD)
from hwsim.engines.pim_reference import MAX_IDLE_REFRESHES
from hwsim.engines.pim_reference_dram import (
    A_ACT, A_COL, A_PRE, AB_MAC, DONE, GBUF_WR, HOST_RD, HOST_WR, PB_MAC, PRE, RES, RES_RD, ROW, VEC)

# PIM sequencer vector
PS_S, PS_PHASE, PS_REM, PS_GATE, PS_BOUNDARY, PS_LAST_T, PS_STARTED, PS_K, PS_PER_BANK = range(9)
# host controller vector
HS_FIRST, HS_STAMP = 0, 1


@njit(cache=True)
def pim_holding(ps):
    """Does PIM hold the banks (blocked mode keeps the host out)?"""
    ph = ps[PS_PHASE]
    return ph == RES or ph == PRE or (ph == ROW and ps[PS_GATE] == 0)


@njit(cache=True)
def _per_bank_command(p, bk, rk, cb, sc, ps, bank_rem):
    k, s = ps[PS_K], ps[PS_S]
    best_t, best_a, best_lo = INF, -1, -1
    for b in range(bk.shape[2]):
        r = bk[OPEN, k, b]
        if bank_rem[b] > 0 and r == s:
            t, a = col_time(p, bk, cb, sc, PB_MAC, k, b), A_COL
        elif bank_rem[b] > 0 and r == -1:
            t, a = act_time(p, bk, rk, sc, k, b, b + 1, 1), A_ACT
        elif r != -1:
            t, a = pre_time(bk, sc, k, b, b + 1, -2 if bank_rem[b] == 0 else s), A_PRE
        else:
            continue
        if t < best_t:
            best_t, best_a, best_lo = t, a, b
    return best_t, best_a, best_lo, best_lo + 1


@njit(cache=True)
def _all_bank_command(p, bk, rk, cb, sc, ps):
    k, s, gb = ps[PS_K], ps[PS_S], p[P_GANG_BANKS]
    best_t, best_a, best_lo = INF, -1, -1
    for lo in range(0, bk.shape[2], gb):
        all_s, foreign = True, False
        for b in range(lo, lo + gb):
            r = bk[OPEN, k, b]
            all_s = all_s and r == s
            foreign = foreign or (r != -1 and r != s)
        if all_s:
            continue
        if foreign:
            t, a = pre_time(bk, sc, k, lo, lo + gb, s), A_PRE
        else:
            t, a = act_time(p, bk, rk, sc, k, lo, lo + gb, p[P_GANG_WEIGHT]), A_ACT
        if t < best_t:
            best_t, best_a, best_lo = t, a, lo
    if best_a >= 0:
        return best_t, best_a, best_lo, best_lo + gb
    return col_time(p, bk, cb, sc, AB_MAC, k, -1), A_COL, -1, -1


@njit(cache=True)
def pim_next(p, bk, rk, cb, sc, ps, bank_rem):
    """Earliest legal PIM command ``(t, action, lo, hi)``; ``t = INF`` if none may issue."""
    ph, k = ps[PS_PHASE], ps[PS_K]
    if ph == VEC:
        return col_time(p, bk, cb, sc, GBUF_WR, k, -1), A_COL, -1, -1
    if ph == ROW:
        if ps[PS_GATE] != 0:
            return INF, -1, -1, -1
        if ps[PS_PER_BANK] != 0:
            return _per_bank_command(p, bk, rk, cb, sc, ps, bank_rem)
        return _all_bank_command(p, bk, rk, cb, sc, ps)
    if ph == RES:
        return col_time(p, bk, cb, sc, RES_RD, k, -1), A_COL, -1, -1
    if ph == PRE:
        return pre_time(bk, sc, k, 0, bk.shape[2], -2), A_PRE, 0, bk.shape[2]
    return INF, -1, -1, -1


@njit(cache=True)
def pim_issue(p, bk, rk, cb, sc, stats, ps, bank_rem, t, act, lo, hi):
    """Issue the PIM command chosen by :func:`pim_next` at cycle ``t``."""
    k, ph, per_bank = ps[PS_K], ps[PS_PHASE], ps[PS_PER_BANK]
    if ps[PS_STARTED] == 0:
        ps[PS_STARTED], stats[S_PIM_START_T] = 1, t
    ps[PS_LAST_T] = t
    if act == A_ACT:
        issue_act(p, bk, rk, sc, stats, t, k, lo, hi, 1 if per_bank else p[P_GANG_WEIGHT], ps[PS_S])
        stats[S_PIM_ACT_CMDS] += 1
        stats[S_PIM_BANK_ACTS] += hi - lo
        return
    if act == A_PRE:
        keep = -2 if (ph == PRE or (per_bank != 0 and bank_rem[lo] == 0)) else ps[PS_S]
        if keep != -2:
            stats[S_PIM_CONFLICT_PRE] += 1
        issue_pre(p, bk, sc, stats, t, k, lo, hi, keep)
        stats[S_PIM_PRE_CMDS] += 1
        return
    kind = GBUF_WR if ph == VEC else (RES_RD if ph == RES else (PB_MAC if per_bank else AB_MAC))
    stats[S_PIM_DONE_T] = max(stats[S_PIM_DONE_T], issue_col(p, bk, cb, sc, t, kind, k, lo))
    if kind == GBUF_WR:
        stats[S_GBUF_WR] += 1
    elif kind == RES_RD:
        stats[S_RES_RD] += 1
    else:
        stats[S_PIM_MAC] += 1
    if kind == PB_MAC:
        bank_rem[lo] -= 1
    else:
        ps[PS_REM] -= 1


@njit(cache=True)
def _row_finished(bk, ps, bank_rem):
    if ps[PS_PER_BANK] == 0:
        return ps[PS_REM] == 0
    for b in range(bank_rem.shape[0]):
        if bank_rem[b] != 0:
            return False
    return not any_open(bk, ps[PS_K])


@njit(cache=True)
def pim_advance(p, bk, ps, bank_rem, vec, mac, res, hs, arrival):
    """Take every PIM phase transition that needs no command (also opens the blocked-mode gate)."""
    while True:
        ph = ps[PS_PHASE]
        if ph == VEC and ps[PS_REM] == 0:
            ps[PS_PHASE], ps[PS_REM] = ROW, mac[ps[PS_S]]
            bank_rem[:] = mac[ps[PS_S]]
            if p[P_DUAL] == 0:
                ps[PS_GATE], ps[PS_BOUNDARY] = 1, np.searchsorted(arrival, ps[PS_LAST_T], side="right")
        elif ph == ROW and ps[PS_GATE] != 0 and hs[HS_FIRST] >= ps[PS_BOUNDARY]:
            ps[PS_GATE] = 0
        elif ph == ROW and ps[PS_GATE] == 0 and _row_finished(bk, ps, bank_rem):
            ps[PS_PHASE], ps[PS_REM] = RES, res[ps[PS_S]]
        elif ph == RES and ps[PS_REM] == 0:
            ps[PS_PHASE] = PRE
        elif ph == PRE and not any_open(bk, ps[PS_K]):
            ps[PS_S] += 1
            ps[PS_PHASE] = VEC if ps[PS_S] < mac.shape[0] else DONE
            ps[PS_REM] = vec[ps[PS_S]] if ps[PS_PHASE] == VEC else 0
        else:
            return


@njit(cache=True)
def _host_command(p, bk, rk, cb, sc, j, bank, row, is_write, arrival):
    b = bank[j]
    r = bk[OPEN, 0, b]
    if r == row[j]:
        t, a = col_time(p, bk, cb, sc, HOST_WR if is_write[j] != 0 else HOST_RD, 0, b), A_COL
    elif r == -1:
        t, a = act_time(p, bk, rk, sc, 0, b, b + 1, 1), A_ACT
    else:
        t, a = pre_time(bk, sc, 0, b, b + 1, -2), A_PRE
    return max(t, arrival[j]), a


@njit(cache=True)
def host_next(p, bk, rk, cb, sc, ps, hs, done, seen, bank, row, is_write, arrival):
    """Earliest legal host command ``(t, request, action)``; ``t = INF`` if none may issue."""
    n = bank.shape[0]
    free = p[P_DUAL] != 0 or ps[PS_PHASE] == DONE
    if hs[HS_FIRST] >= n or not (free or not pim_holding(ps)):
        return INF, -1, -1
    limit = n if free else ps[PS_BOUNDARY]
    hs[HS_STAMP] += 1
    best_t, best_j, best_a, count = INF, -1, -1, 0
    j = hs[HS_FIRST]
    while j < limit and count < p[P_QUEUE]:
        if done[j] == 0:
            count += 1
            if seen[bank[j]] != hs[HS_STAMP]:
                seen[bank[j]] = hs[HS_STAMP]
                t, a = _host_command(p, bk, rk, cb, sc, j, bank, row, is_write, arrival)
                if t < best_t:
                    best_t, best_j, best_a = t, j, a
        j += 1
    return best_t, best_j, best_a


@njit(cache=True)
def host_issue(p, bk, rk, cb, sc, stats, hs, done, started, done_t, t, j, act, bank, row, is_write):
    """Issue the host command chosen by :func:`host_next` at cycle ``t``."""
    b = bank[j]
    if started[j] == 0:
        started[j] = 1
        stats[S_HOST_HIT if act == A_COL else (S_HOST_MISS if act == A_ACT else S_HOST_CONFLICT)] += 1
    if act == A_ACT:
        issue_act(p, bk, rk, sc, stats, t, 0, b, b + 1, 1, row[j])
    elif act == A_PRE:
        issue_pre(p, bk, sc, stats, t, 0, b, b + 1, -2)
    else:
        kind = HOST_WR if is_write[j] != 0 else HOST_RD
        done_t[j] = issue_col(p, bk, cb, sc, t, kind, 0, b)
        done[j] = 1
        stats[S_HOST_WR if kind == HOST_WR else S_HOST_RD] += 1
        stats[S_HOST_DONE_T] = max(stats[S_HOST_DONE_T], done_t[j])
        while hs[HS_FIRST] < done.shape[0] and done[hs[HS_FIRST]] != 0:
            hs[HS_FIRST] += 1


@njit(cache=True)
def simulate_channel(params, vec, mac, res, host_bank, host_row, host_write, host_arrival):
    """Simulate one PIM channel command by command (see the twin for the rules).

    Parameters
    ----------
    params : int64 array
        From :func:`hwsim.engines.pim_params.pack_params`.
    vec, mac, res : int64 arrays
        Per step: global-buffer writes, MAC commands (all-bank commands, or per bank), result reads.
    host_bank, host_row, host_write, host_arrival : int64 arrays
        Host requests sorted by arrival cycle.

    Returns
    -------
    stats : int64 array
        Counters and cycles, indexed by ``pim_params.S_*``; ``stats[S_END_T] == -1`` if it stalled (see
        ``pim_reference.MAX_IDLE_REFRESHES``).
    host_done : int64 array
        Completion cycle of each host request (-1 if never served).
    """
    p = params
    bk, rk, cb, sc, stats = new_state(p)
    nb, n = bk.shape[2], host_bank.shape[0]
    ps = np.zeros(9, dtype=np.int64)
    ps[PS_PHASE], ps[PS_REM] = (VEC, vec[0]) if mac.shape[0] > 0 else (DONE, 0)
    ps[PS_K], ps[PS_PER_BANK] = 1 if p[P_DUAL] else 0, p[P_PER_BANK]
    bank_rem, seen = np.zeros(nb, dtype=np.int64), np.zeros(nb, dtype=np.int64)
    hs = np.zeros(2, dtype=np.int64)
    done, started, done_t = np.zeros(n, np.int64), np.zeros(n, np.int64), np.full(n, -1, np.int64)
    pim_advance(p, bk, ps, bank_rem, vec, mac, res, hs, host_arrival)
    idle_refreshes, columns = 0, -1
    while True:
        tp, act, lo, hi = pim_next(p, bk, rk, cb, sc, ps, bank_rem)
        th, j, hact = host_next(p, bk, rk, cb, sc, ps, hs, done, seen, host_bank, host_row, host_write,
                                host_arrival)
        t = min(tp, th)
        if t >= INF:
            break
        if t >= sc[REF_DUE]:
            n_col = stats[S_PIM_MAC] + stats[S_GBUF_WR] + stats[S_RES_RD] + stats[S_HOST_RD] + stats[S_HOST_WR]
            idle_refreshes = idle_refreshes + 1 if n_col == columns else 0
            columns = n_col
            if idle_refreshes > MAX_IDLE_REFRESHES:
                break
            refresh(p, bk, sc, stats)
        elif tp <= th:
            pim_issue(p, bk, rk, cb, sc, stats, ps, bank_rem, tp, act, lo, hi)
        else:
            host_issue(p, bk, rk, cb, sc, stats, hs, done, started, done_t, th, j, hact, host_bank,
                       host_row, host_write)
        pim_advance(p, bk, ps, bank_rem, vec, mac, res, hs, host_arrival)
    stalled = ps[PS_PHASE] != DONE or hs[HS_FIRST] < n
    stats[S_END_T] = -1 if stalled else sc[END_T]
    return stats, done_t
