"""Numba kernels of the systolic-array simulator: stateless functions of ints and arrays.

Two walks over the folds of an ``R x C`` array running a lowered GEMM (ofmap pixels x window x
filters, SCALE-Sim's lowering; a GEMM is the 1-pixel-wide convolution ``H=M, W=K, R=1, S=K, C=1``):

* :func:`compat_walk` replays SCALE-Sim v3 in ``InterfaceBandwidth: CALC`` mode cycle by cycle: the
  ifmap/filter/ofmap requests of every cycle (skewed systolic fill), its set-window read buffers and its
  half-buffer drain write buffer. Every count it returns equals SCALE-Sim's report.
* :func:`physical_walk` walks the same folds at fold granularity with double-buffered tiles: what each
  fold must fetch (tile residency), what it writes back (partial sums spilled or kept), and the DRAM
  channel serving the next fold's reads and the previous fold's writes during each fold's compute.

The pure-Python twins in :mod:`hwsim.engines.systolic_reference` are the specification; tests assert
kernel == twin. Units: cycles and words, except ``physical_walk``'s bandwidth (bytes/cycle).
"""

from __future__ import annotations

import numpy as np
from numba import njit

DF_OS, DF_WS, DF_IS = 0, 1, 2
TILE_ONCE, TILE_CYCLIC, TILE_CONSEC = 0, 1, 2   # each tile used once / by fr, all fc / by fc, all fr
N_COMPAT_INTS, N_COMPAT_FLOATS, N_PHYS_INTS, N_PHYS_FLOATS = 21, 2, 13, 2
_NO_CYCLE = -(2**62)


@njit(cache=True)
def fold_dims(df, m, k, n):
    """(Sr, Sc, T): what maps to array rows, to array columns, and to time (SCALE-Sim's naming)."""
    if df == DF_OS:
        return m, n, k
    if df == DF_WS:
        return k, n, m
    return k, m, n


@njit(cache=True)
def fold_len(df, t, rows, cols):
    """Demand rows (cycles) of one fold: ``T+R+C-2`` (os) or ``T+2R+C-2`` (ws, is)."""
    return t + rows + cols - 2 if df == DF_OS else t + 2 * rows + cols - 2


@njit(cache=True)
def tile_roles(df):
    """Reuse pattern of the (ifmap, filter) tiles under the fold order ``for fc: for fr:``."""
    if df == DF_OS:
        return TILE_CYCLIC, TILE_CONSEC
    if df == DF_WS:
        return TILE_CYCLIC, TILE_ONCE
    return TILE_ONCE, TILE_CYCLIC


@njit(cache=True)
def ofmap_dims(h, w, fh, fw, stride, scalesim):
    """Ofmap (rows, cols): ``(H-R)//s + 1``, or SCALE-Sim's ``ceil((H-R+s)/s)`` when ``scalesim``."""
    if scalesim:
        return (h - fh + 2 * stride - 1) // stride, (w - fw + 2 * stride - 1) // stride
    return (h - fh) // stride + 1, (w - fw) // stride + 1


@njit(cache=True)
def _ifmap_addr(g, p, j):
    """Word address of im2col element (pixel p, window j); -1 outside the ifmap (SCALE-Sim's edge).

    g = [h, w, c, fh, fw, f, stride, ow, oh]; HWC layout, images stacked (batch), no padding.
    """
    orow, ocol = p // g[7], p % g[7]
    img, orow = orow // g[8], orow % g[8]
    c_row, rest = j // (g[4] * g[2]), j % (g[4] * g[2])
    y, x = orow * g[6] + c_row, ocol * g[6] + rest // g[2]
    if y >= g[0] or x >= g[1]:
        return -1
    return ((img * g[0] + y) * g[1] + x) * g[2] + rest % g[2]


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


@njit(cache=True)
def _loads(role, tiles, new, whole_fits, half, fr, fc, nfr):
    """(words fetched one fold ahead, words of a column tile fetched a column ahead) for fold (fr, fc)."""
    tid = fr if role == TILE_CYCLIC else (fc if role == TILE_CONSEC else fc * nfr + fr)
    if whole_fits:
        first = role == TILE_ONCE or (role == TILE_CYCLIC and fc == 0) or (role == TILE_CONSEC and fr == 0)
        words = new[tid] if first else 0
        return (0, words) if role == TILE_CONSEC else (words, 0)
    if role == TILE_CONSEC and tiles[tid] <= half:
        return 0, (tiles[tid] if fr == 0 else 0)
    return tiles[tid], 0


@njit(cache=True)
def _bg_serve(dl, by, nq, budget):
    """Serve ``budget`` bytes of background transfers, earliest deadline first; returns queue length."""
    while budget > 0 and nq > 0:
        i = 0
        for q in range(1, nq):
            if dl[q] < dl[i]:
                i = q
        step = min(budget, by[i])
        by[i] -= step
        budget -= step
        if by[i] <= 1e-9:
            dl[i], by[i] = dl[nq - 1], by[nq - 1]
            nq -= 1
    return nq


@njit(cache=True)
def _schedule(ahead, column, back, wr, wdl, cy, nfr, bw):
    """DRAM channel at ``bw`` bytes/cycle; returns (stall, prologue, epilogue) cycles.

    Urgent, first come first served: at the start of fold j, fold j's partial-sum read-back (``back``,
    streamed in while it computes) and fold j+1's loads (``ahead``); fold j+1 waits for them.
    Background, earliest deadline first in the urgent queue's idle time: fold j-1's write-back, due
    before fold ``wdl[j-1]`` (the next fold to reuse its buffer half), and, on a column's first fold,
    the next column's tile, due at that column's first fold. A fold first waits for what is due.
    """
    n = cy.shape[0]
    pro = np.int64(np.ceil((ahead[0] + column[0]) / bw))
    dl, by = np.zeros(16, np.int64), np.zeros(16, np.float64)
    urgent, nq, s, e = 0.0, 0, 0, 0
    for j in range(n):
        if j > 0:
            ready = max(e, np.int64(np.ceil(urgent - 1e-9)))
            busy = max(0.0, min(float(ready), urgent) - s)      # urgent work in [s_{j-1}, ready]
            nq = _bg_serve(dl, by, nq, (ready - s - busy) * bw)
            due = 0.0
            for q in range(nq):
                if dl[q] <= j:
                    due += by[q]
            if due > 0:                                          # wait for what this fold needs
                ready += np.int64(np.ceil(due / bw - 1e-9))
                nq = _bg_serve(dl, by, nq, due)
            s = ready
            if wr[j - 1] > 0:
                dl[nq], by[nq] = wdl[j - 1], wr[j - 1]
                nq += 1
        urgent = max(urgent, s) + back[j] / bw
        if j + 1 < n:
            urgent = max(urgent, s) + ahead[j + 1] / bw
        if j % nfr == 0 and j + nfr < n and column[j + nfr] > 0:
            dl[nq], by[nq] = j + nfr, column[j + nfr]
            nq += 1
        e = s + cy[j]
    tail = max(urgent, e) + (by[:nq].sum() + wr[n - 1]) / bw
    return e - cy.sum(), pro, np.int64(np.ceil(tail - e - 1e-9))


@njit(cache=True)
def _peak_bw(ahead, column, back, wr, wdl, cy, nfr):
    """Least bandwidth (bytes/cycle) with zero stalls, by bisection (stalls never grow with bw)."""
    hi = max(1.0, (ahead.sum() + column.sum() + back.sum() + wr.sum()) * 1.0)
    if _schedule(ahead, column, back, wr, wdl, cy, nfr, 1e-3)[0] == 0:
        return 0.0
    lo = 0.0
    for _ in range(200):
        if hi - lo <= 1e-9 * hi:
            break
        mid = 0.5 * (lo + hi)
        if _schedule(ahead, column, back, wr, wdl, cy, nfr, mid)[0] == 0:
            hi = mid
        else:
            lo = mid
    return hi


@njit(cache=True)
def physical_walk(df, sr, sc, t, rows, cols, if_tile, if_new, fl_tile, fl_new, cap_if, cap_fl, cap_of,
                  word_bytes, bw):
    """Double-buffered fold walk; ``bw`` in bytes/cycle (<= 0: unlimited), capacities in words.

    Returns ``(ints, floats)``: ints = [compute_cycles, stall_cycles, DRAM reads ifmap/filter/ofmap,
    DRAM writes ofmap, SRAM array reads ifmap/filter, ofmap SRAM writes, ofmap SRAM reads, folds,
    prologue cycles, epilogue cycles]; floats = [peak DRAM bytes/cycle for zero stalls, DRAM bytes].
    """
    nfr, nfc = (sr + rows - 1) // rows, (sc + cols - 1) // cols
    r_if, r_fl = tile_roles(df)
    fit_if, fit_fl = if_new.sum() <= cap_if, fl_new.sum() <= cap_fl
    out, fl = np.zeros(N_PHYS_INTS, np.int64), np.zeros(N_PHYS_FLOATS, np.float64)
    n = nfr * nfc
    ahead, column, back_b = np.zeros(n, np.float64), np.zeros(n, np.float64), np.zeros(n, np.float64)
    wr, cy, wdl = np.zeros(n, np.float64), np.zeros(n, np.int64), np.zeros(n, np.int64)
    i = 0
    for fc in range(nfc):
        for fr in range(nfr):
            ru, cu = min(rows, sr - fr * rows), min(cols, sc - fc * cols)
            a_now, a_col = _loads(r_if, if_tile, if_new, fit_if, cap_if // 2, fr, fc, nfr)
            b_now, b_col = _loads(r_fl, fl_tile, fl_new, fit_fl, cap_fl // 2, fr, fc, nfr)
            wdl[i] = i + 2                                 # the fold after next reuses this half
            if df == DF_OS:
                wout, back = ru * cu, 0
                out[8] += ru * cu
                out[9] += ru * cu
            else:
                p = t * cu
                keep = p <= cap_of // 2 or sc * t <= cap_of
                wout = p if (not keep or fr == nfr - 1) else 0
                back = p if (not keep and fr > 0) else 0
                if keep:
                    wdl[i] = i + 1 + nfr                       # a kept tile's half: column after next
                out[8] += p + back
                out[9] += (p if fr > 0 else 0) + wout
            out[2] += a_now + a_col
            out[3] += b_now + b_col
            out[4] += back
            out[5] += wout
            out[6] += ru * cu if df == DF_IS else t * ru
            out[7] += ru * cu if df == DF_WS else (t * ru if df == DF_IS else t * cu)
            ahead[i], column[i] = (a_now + b_now) * word_bytes, (a_col + b_col) * word_bytes
            back_b[i] = back * word_bytes
            wr[i], cy[i] = wout * word_bytes, fold_len(df, t, rows, cols)
            i += 1
    cy[n - 1] -= 1
    out[0], out[10] = cy.sum(), n
    if bw > 0:
        out[1], out[11], out[12] = _schedule(ahead, column, back_b, wr, wdl, cy, nfr, bw)
    fl[0] = _peak_bw(ahead, column, back_b, wr, wdl, cy, nfr)
    fl[1] = ahead.sum() + column.sum() + back_b.sum() + wr.sum()
    return out, fl


@njit(cache=True)
def ifmap_tile_words(df, b, h, w, c, fh, fw, stride, oh, ow, rows, cols):
    """Distinct ifmap words per tile, and words first touched by each tile (fold order), for a conv.

    ``b`` images of ``h x w x c``; ofmap ``oh x ow`` per image.

    Tiles: os/ws index by fr (pixel rows or window rows of the fold), is by ``fc * n_fr + fr``.
    """
    m, k = b * oh * ow, fh * fw * c
    g = np.array([h, w, c, fh, fw, 0, stride, ow, oh], np.int64)
    sr, sc, _ = fold_dims(df, m, k, 1)
    nfr, nfc = (sr + rows - 1) // rows, (sc + cols - 1) // cols
    n_tiles = nfc * nfr if df == DF_IS else nfr
    words, new = np.zeros(n_tiles, np.int64), np.zeros(n_tiles, np.int64)
    stamp, seen = np.full(b * h * w * c, -1, np.int64), np.zeros(b * h * w * c, np.bool_)
    for tid in range(n_tiles):
        fr, fc = tid % nfr, tid // nfr
        if df == DF_OS:
            p0, p1, j0, j1 = fr * rows, min(m, fr * rows + rows), 0, k
        elif df == DF_WS:
            p0, p1, j0, j1 = 0, m, fr * rows, min(k, fr * rows + rows)
        else:
            p0, p1, j0, j1 = fc * cols, min(m, fc * cols + cols), fr * rows, min(k, fr * rows + rows)
        for p in range(p0, p1):
            for j in range(j0, j1):
                a = _ifmap_addr(g, p, j)
                if a >= 0 and stamp[a] != tid:
                    stamp[a] = tid
                    words[tid] += 1
                    if not seen[a]:
                        seen[a] = True
                        new[tid] += 1
    return words, new
