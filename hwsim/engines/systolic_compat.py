"""Numba kernels that replay SCALE-Sim v3 (``InterfaceBandwidth: CALC``) cycle by cycle.

:func:`compat_walk` issues the ifmap/filter/ofmap requests of every cycle of every fold (skewed systolic
fill), runs them through restatements of SCALE-Sim's set-window read buffers and its half-buffer drain
write buffer, and returns every count its reports print. The pure-Python twin
:func:`hwsim.engines.systolic_reference.compat_walk_reference` builds SCALE-Sim's demand matrices instead;
tests assert kernel == twin, and the report built from this kernel equals SCALE-Sim's byte for byte
(tests/golden/scalesim). Units: cycles and words.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from hwsim.engines.systolic_kernels import DF_OS, DF_WS, _ifmap_addr, fold_dims, fold_len

N_COMPAT_INTS, N_COMPAT_FLOATS = 21, 2
_NO_CYCLE = -(2**62)


# ---- SCALE-Sim's estimate-bandwidth read buffer: rb = [per_set, window, bw, cur, fill, start, end,
#      active_done, last_start, last_end, first_cycle, seen, reads, trace_first, trace_last, trace_valid]
@njit(cache=True)
def _rb_new(words):
    rb = np.zeros(16, np.int64)
    rb[0], rb[1], rb[2], rb[6], rb[8], rb[9] = words // 100, 50, 10, 49, -2, -1
    return rb


@njit(cache=True)
def _rb_record(rb, first, last):
    if rb[15] == 0:
        rb[13], rb[15] = first + 1, 1
    rb[14] = last + 1


@njit(cache=True)
def _rb_request(rb, set_of, addr, cycle):
    """One read request; returns 1 if issued (addr >= 0), 0 for a null slot."""
    if addr < 0:
        return 0
    if rb[11] == 0:
        rb[10], rb[11] = cycle, 1
    s = set_of[addr]
    if (s >= rb[5] and s < rb[3]) or s == rb[3]:
        return 1
    set_of[addr] = rb[3]
    rb[4] += 1
    rb[12] += 1
    if rb[4] == rb[0]:
        rb[4] = 0
        rb[3] += 1
        if rb[3] == rb[6] + 1:                      # window's last set complete: jump
            if rb[7] == 0:
                rb[9] = rb[10] - 2
                rb[8] = rb[9] - (rb[1] * rb[0] + rb[2] - 1) // rb[2] + 1
                rb[7] = 1
            _rb_record(rb, rb[8], rb[9])
            rb[5] += rb[1]
            rb[6] += rb[1]
            rb[8], rb[9] = rb[9] + 1, cycle
    return 1


@njit(cache=True)
def _rb_finish(rb):
    if rb[7] == 0:
        n_sets = rb[3] + (1 if rb[4] > 0 else 0)
        _rb_record(rb, -2 - (n_sets * rb[0] + rb[2] - 1) // rb[2] + 1, -2)
    else:
        _rb_record(rb, rb[8], rb[9])


# ---- SCALE-Sim's write buffer: wb = [total, drain_size, bw, free, fill, n_lines, drained, drain_end,
#      writes, cyc_min, cyc_max, q_head, q_tail]; partial lines queued in q (line index, words)
@njit(cache=True)
def _wb_new(words, bw):
    wb = np.zeros(13, np.int64)
    wb[0], wb[1], wb[2], wb[3] = words, words - (words + 1) // 2, bw, words
    wb[9], wb[10] = -_NO_CYCLE, _NO_CYCLE
    return wb


@njit(cache=True)
def _wb_close(wb, q):
    if wb[4] > 0:
        if wb[4] < wb[2]:
            if wb[12] - wb[11] >= q.shape[0]:
                raise ValueError("write-buffer partial-line queue overflow")
            q[wb[12] % q.shape[0], 0], q[wb[12] % q.shape[0], 1] = wb[5], wb[4]
            wb[12] += 1
        wb[5] += 1
        wb[4] = 0


@njit(cache=True)
def _wb_drain(wb, q, start):
    n = min((wb[1] + wb[2] - 1) // wb[2], wb[5] - wb[6])
    if n <= 0:
        raise ValueError("write-buffer drain with no lines")
    last, words_last = wb[6] + n - 1, wb[2]
    while wb[12] > wb[11] and q[wb[11] % q.shape[0], 0] <= last:
        if q[wb[11] % q.shape[0], 0] == last:
            words_last = q[wb[11] % q.shape[0], 1]
        wb[11] += 1
    words = (n - 1) * wb[2] + words_last            # only the last line's empty slots are discounted
    wb[8] += words
    wb[3] += words
    wb[6] += n
    wb[9], wb[10] = min(wb[9], start), max(wb[10], start + n - 1)
    return start + n - 1


@njit(cache=True)
def _wb_row(wb, q, n_words, cycle):
    now = cycle
    for _ in range(n_words):
        wb[4] += 1
        wb[3] -= 1
        if wb[4] == wb[2]:
            _wb_close(wb, q)
        if now < wb[7]:
            if wb[3] <= 0:
                now = wb[7]
        elif wb[3] < wb[0] - wb[1]:
            _wb_close(wb, q)
            wb[7] = _wb_drain(wb, q, now)
    return now


@njit(cache=True)
def _span(t, pre, length, used):
    """Columns x of a skewed stream with data at rows pre..pre+length-1: x in [lo, hi]."""
    return max(0, t - pre - length + 1), min(used - 1, t - pre)


@njit(cache=True)
def _fold_requests(df, g, k, R, C, fr, fc, ru, cu, tlen, t, rb_if, so_if, rb_fl, so_fl, cycle):
    """Issue cycle ``t`` of fold (fr, fc).

    Returns (ifmap slots, ifmap requests issued, filter requests, ofmap writes); an ifmap slot whose
    address falls outside the ifmap (SCALE-Sim's partial edge window) is counted but not issued.
    """
    n_if, i_if, n_fl = 0, 0, 0
    if df == DF_OS:
        lo, hi = _span(t, 0, tlen, ru)
        for x in range(lo, hi + 1):
            i_if += _rb_request(rb_if, so_if, _ifmap_addr(g, fr * R + x, t - x), cycle)
        n_if = max(0, hi - lo + 1)
        lo, hi = _span(t, 0, tlen, cu)
        for x in range(lo, hi + 1):
            _rb_request(rb_fl, so_fl, (fc * C + x) * k + t - x, cycle)
        n_fl = max(0, hi - lo + 1)
        lo, hi = max(0, t - tlen - R + 2), min(cu - 1, t - tlen - R + 1 + ru)
        return n_if, i_if, n_fl, max(0, hi - lo + 1)
    if df == DF_WS:
        lo, hi = _span(t, R, tlen, ru)
        for x in range(lo, hi + 1):
            i_if += _rb_request(rb_if, so_if, _ifmap_addr(g, t - x - R, fr * R + x), cycle)
        n_if = max(0, hi - lo + 1)
        if t < R and R - 1 - t < ru:
            for x in range(cu):
                _rb_request(rb_fl, so_fl, (fc * C + x) * k + fr * R + R - 1 - t, cycle)
            n_fl = cu
    else:
        if t < R and R - 1 - t < ru:
            for x in range(cu):
                i_if += _rb_request(rb_if, so_if, _ifmap_addr(g, fc * C + x, fr * R + R - 1 - t), cycle)
            n_if = cu
        lo, hi = _span(t, R, tlen, ru)
        for x in range(lo, hi + 1):
            _rb_request(rb_fl, so_fl, (t - x - R) * k + fr * R + x, cycle)
        n_fl = max(0, hi - lo + 1)
    lo, hi = _span(t, 2 * R - 1, tlen, cu)
    return n_if, i_if, n_fl, max(0, hi - lo + 1)


@njit(cache=True)
def compat_walk(df, h, w, c, fh, fw, f, stride, oh, ow, rows, cols, ifmap_words, filter_words,
                ofmap_words):
    """SCALE-Sim v3 (CALC) cycle walk of one conv/GEMM layer with an ``oh x ow`` ofmap.

    Returns ``(ints, floats)``: ints = [total_cycles, stall_cycles, ifmap/filter SRAM reads, ofmap SRAM
    writes (valid words), ifmap/filter DRAM reads, ofmap DRAM writes, SRAM start/stop cycles (ifmap,
    filter, ofmap), DRAM start/stop cycles (ifmap, filter, ofmap), folds]; floats = [sum of per-fold
    mapping efficiency, sum of per-fold compute utilisation]. Buffer sizes in words.
    """
    m, k = oh * ow, fh * fw * c
    g = np.array([h, w, c, fh, fw, f, stride, ow, oh], np.int64)
    sr, sc, tlen = fold_dims(df, m, k, f)
    rb_if, rb_fl, wb = _rb_new(ifmap_words), _rb_new(filter_words), _wb_new(ofmap_words, cols)
    so_if, so_fl = np.full(h * w * c, -1, np.int64), np.full(k * f, -1, np.int64)
    q = np.zeros((1 << 16, 2), np.int64)
    out, fl = np.zeros(N_COMPAT_INTS, np.int64), np.zeros(N_COMPAT_FLOATS, np.float64)
    out[8:14] = _NO_CYCLE
    flen = fold_len(df, tlen, rows, cols)
    span = flen if df == DF_OS else flen + cols - 1
    row, stalls, last = 0, 0, 0
    for fc in range((sc + cols - 1) // cols):
        for fr in range((sr + rows - 1) // rows):
            ru, cu = min(rows, sr - fr * rows), min(cols, sc - fc * cols)
            fl[0] += ru * cu / (rows * cols)
            fl[1] += ru * cu * tlen / (rows * cols * span)
            for t in range(flen):
                cyc = row + stalls
                n_if, i_if, n_fl, n_of = _fold_requests(df, g, k, rows, cols, fr, fc, ru, cu, tlen, t,
                                                        rb_if, so_if, rb_fl, so_fl, cyc)
                last = _wb_row(wb, q, n_of, cyc)
                out[2] += n_if
                out[3] += n_fl
                out[4] += n_of
                for j, n, at in ((0, i_if, cyc + 1), (1, n_fl, cyc + 1), (2, n_of, last)):
                    if n > 0:
                        if out[8 + 2 * j] == _NO_CYCLE:
                            out[8 + 2 * j] = at
                        out[9 + 2 * j] = at
                stalls += last - cyc
                row += 1
            out[20] += 1
    _rb_finish(rb_if)
    _rb_finish(rb_fl)
    _wb_close(wb, q)
    cyc = last
    while wb[6] < wb[5]:
        cyc = _wb_drain(wb, q, cyc) + 1
    out[0], out[1], out[5], out[6], out[7] = last, stalls, rb_if[12], rb_fl[12], wb[8]
    out[14], out[15], out[16], out[17] = rb_if[13], rb_if[14], rb_fl[13], rb_fl[14]
    out[18], out[19] = wb[9], wb[10]
    return out, fl
