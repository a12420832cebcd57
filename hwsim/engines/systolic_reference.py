"""Pure-Python twin of :mod:`hwsim.engines.systolic_compat` (SCALE-Sim replay): the living specification.

Written for clarity, not speed (tinygrad's ``ops_python.py`` idea). The compat twin builds, fold by
fold, the padded and skewed demand matrices exactly as SCALE-Sim v3 describes them (``-1`` = no
request), then feeds them row by row (one row = one cycle) to two small classes that model SCALE-Sim's
stall-free (``InterfaceBandwidth: CALC``) memory: :class:`SetWindowReadBuffer` for ifmap/filter and
:class:`DrainWriteBuffer` for ofmap. The kernel computes the same numbers by index arithmetic over
valid entries only; tests (hypothesis) assert that both agree field by field.

Units: cycles, words (one word = one operand element; bytes are applied by the caller).
"""

from __future__ import annotations

import math

from hwsim.engines.systolic_compat import N_COMPAT_FLOATS, N_COMPAT_INTS
from hwsim.engines.systolic_equations import DF_IS, DF_OS, DF_WS, fold_dims, fold_len

NULL = -1      # no request in this slot (padding, skew)
OUTSIDE = -2   # a request slot whose element lies outside the ifmap: counted as a read, never fetched


class ConvGeometry:
    """Address maps of SCALE-Sim's lowered convolution (HWC ifmap, filters as K x N, no padding).

    A GEMM ``x[M,K] @ W[K,N]`` is the convolution ``H=M, W=K, C=1, R=1, S=K, F=N, stride=1``.
    """

    def __init__(self, h: int, w: int, c: int, r: int, s: int, f: int, stride: int, oh: int, ow: int):
        self.h, self.w, self.c, self.r, self.s, self.f, self.stride = h, w, c, r, s, f, stride
        self.oh, self.ow = oh, ow
        self.m = oh * ow
        self.k = r * s * c
        self.n = f

    def ifmap_addr(self, p: int, j: int) -> int:
        """Word address of im2col element (pixel ``p``, window position ``j``); OUTSIDE past the edge."""
        orow, ocol = divmod(p, self.ow)
        c_row, rest = divmod(j, self.s * self.c)
        c_col, ch = divmod(rest, self.c)
        y, x = orow * self.stride + c_row, ocol * self.stride + c_col
        if y >= self.h or x >= self.w:
            return OUTSIDE
        return (y * self.w + x) * self.c + ch

    def filter_addr(self, j: int, n: int) -> int:
        return n * self.k + j


def _skew(rows: list[list[int]]) -> list[list[int]]:
    """Delay column ``c`` by ``c`` rows (systolic fill): output has ``len(rows) + width - 1`` rows."""
    width = len(rows[0])
    out = [[NULL] * width for _ in range(len(rows) + width - 1)]
    for i, row in enumerate(rows):
        for c, v in enumerate(row):
            out[i + c][c] = v
    return out


def _blank(n_rows: int, width: int) -> list[list[int]]:
    return [[NULL] * width for _ in range(n_rows)]


def _block(n_rows: int, width: int, value) -> list[list[int]]:
    """``n_rows x width`` matrix with ``value(i, c)``, where ``value`` returns NULL outside the data."""
    return [[value(i, c) for c in range(width)] for i in range(n_rows)]


def fold_demands(df: int, g: ConvGeometry, rows: int, cols: int, fr: int, fc: int):
    """Ifmap, filter and ofmap demand matrices of fold ``(fr, fc)`` (lists of rows, NULL-padded)."""
    sr, sc, t = fold_dims(df, g.m, g.k, g.n)
    ru, cu = min(rows, sr - fr * rows), min(cols, sc - fc * cols)
    R, C = rows, cols
    if df == DF_OS:  # rows <- ofmap pixels, cols <- filters, time <- window
        ifm = _skew(_block(t, R, lambda u, r: g.ifmap_addr(fr * R + r, u) if r < ru else NULL)
                    + _blank(C - 1, R))
        fil = _skew(_block(t, C, lambda u, c: g.filter_addr(u, fc * C + c) if c < cu else NULL)
                    + _blank(R - 1, C))
        out = _skew(_blank(t - 1, C) + _block(R, C, lambda i, c: 1 if (R - 1 - i) < ru and c < cu else NULL))
    elif df == DF_WS:  # rows <- window, cols <- filters, time <- ofmap pixels
        ifm = _skew(_blank(R, R) + _block(t, R, lambda u, r: g.ifmap_addr(u, fr * R + r) if r < ru else NULL)
                    + _blank(C - 1, R))
        fil = _block(R, C, lambda i, c: g.filter_addr(fr * R + R - 1 - i, fc * C + c)
                     if (R - 1 - i) < ru and c < cu else NULL) + _blank(R + C + t - 2, C)
        out = _skew(_blank(2 * R - 1, C) + _block(t, C, lambda u, c: 1 if c < cu else NULL))
    else:  # IS: rows <- window, cols <- ofmap pixels, time <- filters
        ifm = _block(R, C, lambda i, c: g.ifmap_addr(fc * C + c, fr * R + R - 1 - i)
                     if (R - 1 - i) < ru and c < cu else NULL) + _blank(R + C + t - 2, C)
        fil = _skew(_blank(R, R) + _block(t, R, lambda u, r: g.filter_addr(fr * R + r, u) if r < ru else NULL)
                    + _blank(C - 1, R))
        out = _skew(_blank(2 * R - 1, C) + _block(t, C, lambda u, c: 1 if c < cu else NULL))
    assert len(ifm) == len(fil) == len(out) == fold_len(df, t, R, C)
    return ifm, fil, out


class SetWindowReadBuffer:
    """SCALE-Sim's estimate-bandwidth read buffer (CALC mode), restated.

    The buffer is 100 *sets* of ``floor(words / 100)`` words; the first 50 form the active window.
    A requested word hits if it sits in a completed set inside the window; otherwise it joins the set
    being filled (once). When the window's last set completes, the window jumps 50 sets ahead and is
    empty again, so words fetched earlier miss and are fetched again: each insertion is one DRAM read.
    DRAM activity is timed as SCALE-Sim times it: prefetch rows at 10 words/cycle ending one cycle
    before the first request (latency 1), then one prefetch per window jump.
    """

    def __init__(self, words: int, default_bw: int = 10):
        self.per_set = words // 100
        self.window = 50          # active sets = prefetch sets = 0.5 * 100
        self.bw = default_bw
        self.sets: list[set] = []
        self.current: set = set()
        self.start, self.end = 0, self.window - 1
        self.active_done = False
        self.last_start, self.last_end = -2, -1
        self.first_cycle: int | None = None
        self.dram_reads = 0
        self.trace: list[int] = []  # response cycles of prefetch rows (first, last)

    def request(self, addr: int, cycle: int) -> None:
        if self.first_cycle is None:
            self.first_cycle = cycle
        window_sets = self.sets[self.start:min(len(self.sets), self.end + 1)]
        if any(addr in s for s in window_sets) or addr in self.current:
            return
        self.current.add(addr)
        self.dram_reads += 1
        if len(self.current) == self.per_set:
            self.sets.append(self.current)
            self.current = set()
            if len(self.sets) == self.end + 1:
                self._jump(cycle)

    def _record(self, first: int, last: int) -> None:
        self.trace = [self.trace[0] if self.trace else first + 1, last + 1]

    def _jump(self, cycle: int) -> None:
        if not self.active_done:
            self.last_end = self.first_cycle - 2
            self.last_start = self.last_end - math.ceil(self.window * self.per_set / self.bw) + 1
            self.active_done = True
        self._record(self.last_start, self.last_end)
        self.start += self.window
        self.end += self.window
        self.last_start, self.last_end = self.last_end + 1, cycle

    def finish(self) -> tuple[int, int]:
        """Last prefetch; returns the DRAM (start, stop) cycles SCALE-Sim reports."""
        n_sets = len(self.sets) + (1 if self.current else 0)
        if not self.active_done:
            end = -2
            self._record(end - math.ceil(n_sets * self.per_set / self.bw) + 1, end)
        else:
            self._record(self.last_start, self.last_end)
        return self.trace[0], self.trace[1]


class DrainWriteBuffer:
    """SCALE-Sim's ofmap write buffer: lines of ``bw`` words drained half a buffer at a time."""

    def __init__(self, words: int, bw: int):
        self.total, self.bw = words, bw
        self.drain_size = words - math.ceil(words * 0.5)
        self.free = words
        self.lines: list[int] = []   # valid words per line, in write order
        self.fill = 0                # words in the line being filled
        self.drained_lines = 0
        self.drain_end = 0
        self.dram_writes = 0
        self.cycles: list[int] = []

    def _close_line(self) -> None:
        if self.fill:
            self.lines.append(self.fill)
            self.fill = 0

    def _drain(self, start_cycle: int) -> int:
        n = min(math.ceil(self.drain_size / self.bw), len(self.lines) - self.drained_lines)
        chunk = self.lines[self.drained_lines:self.drained_lines + n]
        words = (n - 1) * self.bw + chunk[-1]   # SCALE-Sim only discounts empty slots of the last line
        self.dram_writes += words
        self.free += words
        self.drained_lines += n
        self.cycles += [start_cycle, start_cycle + n - 1]
        return start_cycle + n - 1

    def write_row(self, n_words: int, cycle: int) -> int:
        """Store one cycle's outputs; returns the cycle the row completes (> cycle means stall)."""
        now = cycle
        for _ in range(n_words):
            self.fill += 1
            self.free -= 1
            if self.fill == self.bw:
                self._close_line()
            if now < self.drain_end:
                if self.free <= 0:
                    now = self.drain_end
            elif self.free < self.total - self.drain_size:
                self._close_line()
                self.drain_end = self._drain(now)
        return now

    def finish(self, cycle: int) -> tuple[int, int]:
        self._close_line()
        while self.drained_lines < len(self.lines):
            cycle = self._drain(cycle) + 1
        return min(self.cycles), max(self.cycles)


def compat_walk_reference(df, g: ConvGeometry, rows, cols, ifmap_words, filter_words, ofmap_words):
    """SCALE-Sim v3 CALC-mode run of one layer; same (ints, floats) layout as ``compat_walk``."""
    sr, sc, t = fold_dims(df, g.m, g.k, g.n)
    ifb, flb = SetWindowReadBuffer(ifmap_words), SetWindowReadBuffer(filter_words)
    ofb = DrainWriteBuffer(ofmap_words, cols)
    ints, floats = [0] * N_COMPAT_INTS, [0.0] * N_COMPAT_FLOATS
    seen = {"if": [], "fl": [], "of": []}
    row_id, stalls, last_out = 0, 0, 0
    for fc in range(math.ceil(sc / cols)):
        for fr in range(math.ceil(sr / rows)):
            ifm, fil, out = fold_demands(df, g, rows, cols, fr, fc)
            ru, cu = min(rows, sr - fr * rows), min(cols, sc - fc * cols)
            floats[0] += ru * cu / (rows * cols)
            span = fold_len(df, t, rows, cols) + (0 if df == DF_OS else cols - 1)
            floats[1] += ru * cu * t / (rows * cols * span)
            for a_row, f_row, o_row in zip(ifm, fil, out):
                cycle = row_id + stalls
                for key, buf, row in (("if", ifb, a_row), ("fl", flb, f_row)):
                    issued = [a for a in row if a >= 0]
                    for a in issued:
                        buf.request(a, cycle)
                    if issued:
                        seen[key].append(cycle + 1)
                    ints[2 if key == "if" else 3] += sum(1 for a in row if a != NULL)
                n_out = sum(1 for v in o_row if v != NULL)
                last_out = ofb.write_row(n_out, cycle)
                if n_out:
                    seen["of"].append(last_out)
                ints[4] += n_out
                stalls += last_out - cycle
                row_id += 1
            ints[20] += 1
    ints[0], ints[1] = last_out, stalls
    ints[8:14] = [seen["if"][0], seen["if"][-1], seen["fl"][0], seen["fl"][-1], seen["of"][0], seen["of"][-1]]
    ints[14:16], ints[16:18] = ifb.finish(), flb.finish()
    ints[18:20] = ofb.finish(last_out)
    ints[5], ints[6], ints[7] = ifb.dram_reads, flb.dram_reads, ofb.dram_writes
    return ints, floats
