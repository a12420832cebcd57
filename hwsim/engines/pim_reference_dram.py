"""Pure-Python twin, part 1: the DRAM state of one channel and the timing rule of every command.

This is the readable spec of ``pim_kernels_dram``; :mod:`hwsim.engines.pim_reference` drives it. Times are
cycles; ``-INF`` means "never happened", so ``-INF + gap`` never constrains anything.
"""

from __future__ import annotations

from bisect import bisect_right

from hwsim.engines.pim_params import (
    INF, N_STATS, P_BANK_GROUPS, P_BANKS_PER_GROUP, P_BURST, P_CL, P_CWL, P_DUAL, P_GANG_BANKS,
    P_GANG_WEIGHT, P_PER_BANK, P_QUEUE, P_RANKS, P_TCCD_L, P_TCCD_PIM, P_TCCD_S, P_TFAW, P_TRAS,
    P_TRCD, P_TRCDWR, P_TREFI, P_TRFC, P_TRP, P_TRRD_L, P_TRRD_S, P_TRTP, P_TRTRS, P_TWR, P_TWTR_L,
    P_TWTR_S, S_ACT_CMDS, S_BANK_ACTS, S_END_T, S_GBUF_WR, S_HOST_CONFLICT, S_HOST_DONE_T, S_HOST_HIT,
    S_HOST_MISS, S_HOST_RD, S_HOST_WR, S_PIM_ACT_CMDS, S_PIM_BANK_ACTS, S_PIM_CONFLICT_PRE, S_PIM_DONE_T,
    S_PIM_MAC, S_PIM_PRE_CMDS, S_PIM_START_T, S_PRE_CMDS, S_REF_CMDS, S_REF_PRE_CMDS, S_RES_RD)

# column-command kinds
HOST_RD, HOST_WR, PB_MAC, AB_MAC, GBUF_WR, RES_RD = 0, 1, 2, 3, 4, 5
# agent actions
A_ACT, A_PRE, A_COL = 0, 1, 2
# PIM phases
VEC, ROW, RES, PRE, DONE = 0, 1, 2, 3, 4


class Dram:
    """Bank, rank and bus state of one channel, and the timing rules of every command."""

    def __init__(self, p):
        self.p = [int(x) for x in p]
        self.G, self.B = self.p[P_BANK_GROUPS], self.p[P_BANKS_PER_GROUP]
        self.nb = self.p[P_RANKS] * self.G * self.B
        nbuf = 2 if self.p[P_DUAL] else 1
        self.open_row = [[-1] * self.nb for _ in range(nbuf)]
        self.act_t = [[-INF] * self.nb for _ in range(nbuf)]
        self.next_act = [[0] * self.nb for _ in range(nbuf)]
        self.next_pre = [[0] * self.nb for _ in range(nbuf)]
        self.faw = [[-INF] * 4 for _ in range(self.p[P_RANKS])]          # most recent first
        self.last_act_bg = [[-INF] * self.G for _ in range(self.p[P_RANKS])]
        self.last_col_bg = [-INF] * (self.p[P_RANKS] * self.G)
        self.bus_free, self.last_col, self.last_pim_mac = 0, -INF, -INF
        self.last_rd, self.last_wr, self.last_wr_bg = -INF, -INF, -1
        self.ref_due, self.end_t = self.p[P_TREFI], 0
        self.stats = [0] * N_STATS
        self.log, self.who = None, ""  # optional command log: (cycle, agent, command, lo, hi)
        p = self.p
        self.gap_s, self.gap_l = max(p[P_BURST], p[P_TCCD_S]), max(p[P_BURST], p[P_TCCD_L])

    # ACT opens banks lo..hi-1 (one rank) in buffer k; a gang ACT fills ``w`` tFAW slots.
    def act_time(self, k, lo, hi, w):
        p, t = self.p, self.bus_free
        for b in range(lo, hi):
            t = max(t, self.next_act[k][b])
        rank, g_lo, g_hi = lo // (self.G * self.B), (lo // self.B) % self.G, ((hi - 1) // self.B) % self.G
        for h in range(self.G):
            t = max(t, self.last_act_bg[rank][h] + (p[P_TRRD_L] if g_lo <= h <= g_hi else p[P_TRRD_S]))
        if p[P_TFAW] > 0 and w > 0:
            t = max(t, self.faw[rank][4 - w] + p[P_TFAW])
        return t

    def issue_act(self, t, k, lo, hi, w, row):
        rank, g_lo, g_hi = lo // (self.G * self.B), (lo // self.B) % self.G, ((hi - 1) // self.B) % self.G
        for b in range(lo, hi):
            self.open_row[k][b], self.act_t[k][b], self.next_pre[k][b] = row, t, t + self.p[P_TRAS]
        for h in range(g_lo, g_hi + 1):
            self.last_act_bg[rank][h] = t
        for _ in range(w):
            self.faw[rank] = [t] + self.faw[rank][:3]
        self._record(t, "ACT", lo, hi)
        self._bus(t, t + 1)
        self.stats[S_ACT_CMDS] += 1
        self.stats[S_BANK_ACTS] += hi - lo

    # PRE closes the open banks of lo..hi-1 in buffer k whose row is not ``keep``.
    def pre_time(self, k, lo, hi, keep):
        t = self.bus_free
        for b in range(lo, hi):
            if self.open_row[k][b] not in (-1, keep):
                t = max(t, self.next_pre[k][b])
        return t

    def issue_pre(self, t, k, lo, hi, keep):
        for b in range(lo, hi):
            if self.open_row[k][b] not in (-1, keep):
                self.open_row[k][b] = -1
                self.next_act[k][b] = max(self.next_act[k][b], t + self.p[P_TRP])
        self._record(t, "PRE", lo, hi)
        self._bus(t, t + 1)
        self.stats[S_PRE_CMDS] += 1

    def col_time(self, kind, k, b):
        p, t = self.p, self.bus_free
        if kind in (HOST_RD, HOST_WR, PB_MAC):
            rcd = p[P_TRCDWR] if kind == HOST_WR else p[P_TRCD]
            t = max(t, self.act_t[k][b] + rcd, self.last_col_bg[b // self.B] + self.gap_l)
        if kind == AB_MAC:
            for bb in range(self.nb):
                t = max(t, self.act_t[k][bb] + p[P_TRCD])
            t = max(t, self.last_pim_mac + p[P_TCCD_PIM], self.last_col + self.gap_s)
        else:
            t = max(t, self.last_col + self.gap_s, self.last_pim_mac + self.gap_s)
        if kind in (HOST_RD, RES_RD):
            same_bg = kind == HOST_RD and self.last_wr_bg == b // self.B
            t = max(t, self.last_wr + p[P_CWL] + p[P_BURST] + (p[P_TWTR_L] if same_bg else p[P_TWTR_S]))
        if kind in (HOST_WR, GBUF_WR):
            t = max(t, self.last_rd + p[P_CL] + p[P_BURST] + p[P_TRTRS] - p[P_CWL])
        return t

    def issue_col(self, t, kind, k, b):
        """Issue a column command; returns the cycle its data transfer (or MAC) completes."""
        p = self.p
        self._record(t, ("RD", "WR", "MAC1", "MAC", "GWR", "RES")[kind], b, b + 1)
        if kind == AB_MAC:
            for bb in range(self.nb):
                self.next_pre[k][bb] = max(self.next_pre[k][bb], t + p[P_TRTP])
            self.last_pim_mac = t
            return self._bus(t, t + p[P_TCCD_PIM])
        self.last_col = t
        if kind in (HOST_RD, HOST_WR, PB_MAC):
            self.last_col_bg[b // self.B] = t
            recover = p[P_CWL] + p[P_BURST] + p[P_TWR] if kind == HOST_WR else p[P_TRTP]
            self.next_pre[k][b] = max(self.next_pre[k][b], t + recover)
        if kind in (HOST_RD, RES_RD):
            self.last_rd = t
            return self._bus(t, t + p[P_CL] + p[P_BURST])
        if kind in (HOST_WR, GBUF_WR):
            self.last_wr, self.last_wr_bg = t, (b // self.B if kind == HOST_WR else -1)
            return self._bus(t, t + p[P_CWL] + p[P_BURST])
        return self._bus(t, t + p[P_BURST])

    def _record(self, t, command, lo, hi):
        if self.log is not None:
            self.log.append((t, self.who, command, lo, hi))

    def _bus(self, t, done):
        self.bus_free = t + 1
        self.end_t = max(self.end_t, done)
        return done

    def any_open(self, k):
        return any(r != -1 for r in self.open_row[k])

    def refresh(self):
        """All-bank refresh: PREA if any row is open, REF once every bank may be activated, tRFC."""
        p, t = self.p, max(self.ref_due, self.bus_free)
        opened = [(k, b) for k in range(len(self.open_row)) for b in range(self.nb) if self.open_row[k][b] != -1]
        for k, b in opened:
            t = max(t, self.next_pre[k][b])
        if opened:
            for k, b in opened:
                self.open_row[k][b] = -1
                self.next_act[k][b] = max(self.next_act[k][b], t + p[P_TRP])
            self.who = "ref"
            self._record(t, "PREA", 0, self.nb)
            self.bus_free = t + 1
            self.stats[S_PRE_CMDS] += 1
            self.stats[S_REF_PRE_CMDS] += 1
        t = max(t, self.bus_free)
        for row in self.next_act:
            t = max(t, max(row))
        for row in self.next_act:
            for b in range(self.nb):
                row[b] = max(row[b], t + p[P_TRFC])
        self.who = "ref"
        self._record(t, "REF", 0, self.nb)
        self.bus_free = t + 1
        self.stats[S_REF_CMDS] += 1
        self.ref_due += p[P_TREFI]
