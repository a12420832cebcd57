"""Pure-Python twin of :func:`hwsim.engines.pim_kernels.simulate_channel`: the living spec.

One channel is simulated command by command. Three agents share it:

* the **PIM sequencer** walks the GEMV steps (one DRAM row index per step). All-bank mode, per step:
  global-buffer writes (``GBUF_WR``), gang ACTs, all-bank MAC column commands, result reads, one PREA.
  Per-bank mode, per step (a *round*): global-buffer writes, then per bank ACT, MACs, PRE (banks
  interleaved greedily, earliest legal command first, lowest bank on ties), then result reads;
* the **host controller** serves column requests FR-FCFS-lite: among the oldest pending request of each
  bank in a window of ``queue_depth`` unfinished requests, it issues the command (PRE, ACT or RD/WR) that
  is legal earliest, oldest first on ties;
* **refresh**: at every ``tREFI`` an all-bank REF closes every row (one PREA if any is open), then waits
  ``tRFC``; a PIM step that loses its rows re-opens them.

Each loop iteration asks both agents for the earliest cycle their next command is legal and issues the
earlier one (PIM wins ties); a command never relaxes a constraint, so issue times never go back.

Row buffers: with ``dual`` each bank has buffer 0 for the host and buffer 1 for PIM, and the two proceed
together, sharing the command bus, the column slots, the data bus and the ACT windows. Without it (blocked
mode) both use buffer 0 and a PIM step holds every bank from its first ACT to its PREA; before each step
the host drains the requests that arrived by the PIM's last command (``boundary``), then PIM precharges
whatever rows the host left open (``pim_conflict_pres``).

>>> import numpy as np
>>> from hwsim.engines.pim_params import pack_params, S_PIM_DONE_T
>>> from hwsim.engines.pim_timing import HBM2_NEUPIMS, HBM2_NEUPIMS_TIMING
>>> p = pack_params(HBM2_NEUPIMS, HBM2_NEUPIMS_TIMING, per_bank=False)
>>> one, none = np.array([1]), np.zeros(0, dtype=np.int64)
>>> stats, _ = simulate_channel(p, one * 0, one * 16, one, none, none, none, none)
>>> stats[S_PIM_DONE_T]
153
"""

from __future__ import annotations

from bisect import bisect_right

from hwsim.engines.pim_params import (
    INF, N_STATS, P_DUAL, P_GANG_BANKS, P_GANG_WEIGHT, P_PER_BANK, P_QUEUE, S_END_T, S_GBUF_WR,
    S_HOST_CONFLICT, S_HOST_DONE_T, S_HOST_HIT, S_HOST_MISS, S_HOST_RD, S_HOST_WR, S_PIM_ACT_CMDS,
    S_PIM_BANK_ACTS, S_PIM_CONFLICT_PRE, S_PIM_DONE_T, S_PIM_MAC, S_PIM_PRE_CMDS, S_PIM_START_T,
    S_RES_RD)
from hwsim.engines.pim_reference_dram import (
    A_ACT, A_COL, A_PRE, AB_MAC, DONE, GBUF_WR, HOST_RD, HOST_WR, PB_MAC, PRE, RES, RES_RD, ROW, VEC,
    Dram)


MAX_IDLE_REFRESHES = 8  # more refreshes than this without one column command: tREFI too short, stop


class Host:
    """FR-FCFS-lite host controller over buffer 0."""

    def __init__(self, dram, bank, row, is_write, arrival):
        self.d, self.n = dram, len(bank)
        self.bank, self.row = [int(x) for x in bank], [int(x) for x in row]
        self.is_write, self.arrival = [int(x) for x in is_write], [int(x) for x in arrival]
        self.done = [False] * self.n
        self.started = [False] * self.n
        self.done_t = [-1] * self.n
        self.first_unfinished = 0

    def count_arrived(self, t):
        """Requests whose arrival is <= t (arrivals are sorted)."""
        return bisect_right(self.arrival, t)

    def _command(self, j):
        d, b, row = self.d, self.bank[j], self.row[j]
        if d.open_row[0][b] == row:
            t, act = d.col_time(HOST_WR if self.is_write[j] else HOST_RD, 0, b), A_COL
        elif d.open_row[0][b] == -1:
            t, act = d.act_time(0, b, b + 1, 1), A_ACT
        else:
            t, act = d.pre_time(0, b, b + 1, -2), A_PRE
        return max(t, self.arrival[j]), act

    def next(self, pim):
        """Earliest legal host command as ``(t, request, action)``; ``t = INF`` if none may issue."""
        if self.first_unfinished >= self.n or not (self.d.p[P_DUAL] or pim.phase == DONE or not pim.holding()):
            return INF, -1, -1
        limit = self.n if (self.d.p[P_DUAL] or pim.phase == DONE) else pim.boundary
        best, choice, seen, count = INF, (-1, -1), set(), 0
        j = self.first_unfinished
        while j < limit and count < self.d.p[P_QUEUE]:
            if not self.done[j]:
                count += 1
                if self.bank[j] not in seen:
                    seen.add(self.bank[j])
                    t, act = self._command(j)
                    if t < best:
                        best, choice = t, (j, act)
            j += 1
        return best, choice[0], choice[1]

    def issue(self, t, j, act):
        d, b, s = self.d, self.bank[j], self.d.stats
        d.who = "host"
        if not self.started[j]:
            self.started[j] = True
            s[{A_COL: S_HOST_HIT, A_ACT: S_HOST_MISS, A_PRE: S_HOST_CONFLICT}[act]] += 1
        if act == A_ACT:
            d.issue_act(t, 0, b, b + 1, 1, self.row[j])
        elif act == A_PRE:
            d.issue_pre(t, 0, b, b + 1, -2)
        else:
            kind = HOST_WR if self.is_write[j] else HOST_RD
            self.done_t[j] = d.issue_col(t, kind, 0, b)
            self.done[j] = True
            s[S_HOST_WR if kind == HOST_WR else S_HOST_RD] += 1
            s[S_HOST_DONE_T] = max(s[S_HOST_DONE_T], self.done_t[j])
            while self.first_unfinished < self.n and self.done[self.first_unfinished]:
                self.first_unfinished += 1


class Pim:
    """PIM sequencer: all-bank (gang ACT, all-bank MAC, PREA) or per-bank (ACT, MAC, PRE per bank)."""

    def __init__(self, dram, vec, mac, res):
        self.d, self.vec, self.mac, self.res = dram, [int(x) for x in vec], [int(x) for x in mac], [int(x) for x in res]
        self.k = 1 if dram.p[P_DUAL] else 0
        self.per_bank = bool(dram.p[P_PER_BANK])
        self.s, self.phase, self.rem = 0, (VEC if self.mac else DONE), (self.vec[0] if self.mac else 0)
        self.bank_rem = [0] * dram.nb
        self.gate, self.boundary, self.last_t, self.started = False, 0, 0, False

    def holding(self):
        """Does PIM hold the banks (blocked mode keeps the host out)?"""
        return self.phase in (RES, PRE) or (self.phase == ROW and not self.gate)

    def _row_command(self):
        """Next command of the ROW phase: (t, action, lo, hi)."""
        d, k, s = self.d, self.k, self.s
        if self.per_bank:
            best = (INF, -1, -1, -1)
            for b in range(d.nb):
                r = d.open_row[k][b]
                if self.bank_rem[b] > 0 and r == s:
                    cand = (d.col_time(PB_MAC, k, b), A_COL, b, b + 1)
                elif self.bank_rem[b] > 0 and r == -1:
                    cand = (d.act_time(k, b, b + 1, 1), A_ACT, b, b + 1)
                elif r != -1:
                    cand = (d.pre_time(k, b, b + 1, -2 if self.bank_rem[b] == 0 else s), A_PRE, b, b + 1)
                else:
                    continue
                if cand[0] < best[0]:
                    best = cand
            return best
        gb, best = d.p[P_GANG_BANKS], (INF, -1, -1, -1)
        for lo in range(0, d.nb, gb):
            rows = d.open_row[k][lo:lo + gb]
            if all(r == s for r in rows):
                continue
            if any(r not in (-1, s) for r in rows):
                cand = (d.pre_time(k, lo, lo + gb, s), A_PRE, lo, lo + gb)
            else:
                cand = (d.act_time(k, lo, lo + gb, d.p[P_GANG_WEIGHT]), A_ACT, lo, lo + gb)
            if cand[0] < best[0]:
                best = cand
        if best[1] >= 0:
            return best
        return d.col_time(AB_MAC, k, -1), A_COL, -1, -1

    def next(self):
        """Earliest legal PIM command as ``(t, action, lo, hi)``; ``t = INF`` if none may issue."""
        if self.phase == VEC:
            return self.d.col_time(GBUF_WR, self.k, -1), A_COL, -1, -1
        if self.phase == ROW:
            return (INF, -1, -1, -1) if self.gate else self._row_command()
        if self.phase == RES:
            return self.d.col_time(RES_RD, self.k, -1), A_COL, -1, -1
        if self.phase == PRE:
            return self.d.pre_time(self.k, 0, self.d.nb, -2), A_PRE, 0, self.d.nb
        return INF, -1, -1, -1

    def issue(self, t, act, lo, hi):
        d, s = self.d, self.d.stats
        d.who = "pim"
        if not self.started:
            self.started, s[S_PIM_START_T] = True, t
        self.last_t = t
        if act == A_ACT:
            d.issue_act(t, self.k, lo, hi, 1 if self.per_bank else d.p[P_GANG_WEIGHT], self.s)
            s[S_PIM_ACT_CMDS] += 1
            s[S_PIM_BANK_ACTS] += hi - lo
            return
        if act == A_PRE:
            keep = -2 if (self.phase == PRE or (self.per_bank and self.bank_rem[lo] == 0)) else self.s
            s[S_PIM_CONFLICT_PRE] += keep != -2
            d.issue_pre(t, self.k, lo, hi, keep)
            s[S_PIM_PRE_CMDS] += 1
            return
        kind = {VEC: GBUF_WR, RES: RES_RD}.get(self.phase, PB_MAC if self.per_bank else AB_MAC)
        s[S_PIM_DONE_T] = max(s[S_PIM_DONE_T], d.issue_col(t, kind, self.k, lo))
        s[{GBUF_WR: S_GBUF_WR, RES_RD: S_RES_RD}.get(kind, S_PIM_MAC)] += 1
        if kind == PB_MAC:
            self.bank_rem[lo] -= 1
        else:
            self.rem -= 1

    def _row_finished(self):
        d, k = self.d, self.k
        if self.per_bank:
            return all(r == 0 for r in self.bank_rem) and all(r == -1 for r in d.open_row[k])
        return self.rem == 0

    def advance(self, host):
        """Take every phase transition that needs no command (also opens the blocked-mode gate)."""
        while True:
            if self.phase == VEC and self.rem == 0:
                self.phase, self.rem = ROW, self.mac[self.s]
                self.bank_rem = [self.mac[self.s]] * self.d.nb
                if not self.d.p[P_DUAL]:
                    self.gate, self.boundary = True, host.count_arrived(self.last_t)
            elif self.phase == ROW and self.gate and host.first_unfinished >= self.boundary:
                self.gate = False
            elif self.phase == ROW and not self.gate and self._row_finished():
                self.phase, self.rem = RES, self.res[self.s]
            elif self.phase == RES and self.rem == 0:
                self.phase = PRE
            elif self.phase == PRE and not self.d.any_open(self.k):
                self.s += 1
                self.phase = VEC if self.s < len(self.mac) else DONE
                self.rem = self.vec[self.s] if self.phase == VEC else 0
            else:
                return


def simulate_channel(params, vec, mac, res, host_bank, host_row, host_write, host_arrival, log=None):
    """Simulate one channel; returns ``(stats, host_done)`` as lists (see ``pim_params`` for slots).

    Parameters
    ----------
    params : sequence of int
        From :func:`hwsim.engines.pim_params.pack_params`.
    vec, mac, res : sequence of int
        Per step: global-buffer writes, MAC commands (all-bank commands, or per bank), result reads.
    host_bank, host_row, host_write, host_arrival : sequence of int
        Host requests sorted by arrival cycle.
    log : list, optional
        If given, every command is appended as ``(cycle, agent, command, lo, hi)``: agent in ``pim``,
        ``host``, ``ref``; command in ACT, PRE, PREA, REF, RD, WR, MAC (all-bank), MAC1 (one bank), GWR
        (global-buffer write), RES (result read); ``lo..hi-1`` the banks (column commands: ``lo`` only).

    Returns
    -------
    stats : list of int
        Counters and cycles, indexed by the ``S_*`` constants; ``stats[S_END_T] == -1`` if it stalled (no
        column command across ``MAX_IDLE_REFRESHES`` refreshes: the work between refreshes cannot fit).
    host_done : list of int
        Completion cycle of each host request.
    """
    dram = Dram(params)
    dram.log = log
    host = Host(dram, host_bank, host_row, host_write, host_arrival)
    pim = Pim(dram, vec, mac, res)
    pim.advance(host)
    idle_refreshes, columns = 0, -1  # livelock guard: refreshes with no column command in between
    while True:
        tp, act, lo, hi = pim.next()
        th, j, hact = host.next(pim)
        t = min(tp, th)
        if t >= INF:
            break
        if t >= dram.ref_due:
            done = sum(dram.stats[i] for i in (S_PIM_MAC, S_GBUF_WR, S_RES_RD, S_HOST_RD, S_HOST_WR))
            idle_refreshes, columns = (idle_refreshes + 1 if done == columns else 0), done
            if idle_refreshes > MAX_IDLE_REFRESHES:
                break
            dram.refresh()
        elif tp <= th:
            pim.issue(tp, act, lo, hi)
        else:
            host.issue(th, j, hact)
        pim.advance(host)
    stalled = pim.phase != DONE or host.first_unfinished < host.n
    dram.stats[S_END_T] = -1 if stalled else dram.end_t
    return list(dram.stats), list(host.done_t)
