"""Numba kernels of the systolic-array simulator's physical mode: stateless functions of ints and arrays.

:func:`physical_walk` walks the folds of an ``R x C`` array running a lowered GEMM (ofmap pixels x window
x filters, SCALE-Sim's lowering; a GEMM is the 1-pixel-wide convolution ``H=M, W=K, R=1, S=K, C=1``) at
fold granularity with double-buffered tiles: what each fold must fetch (tile residency), what it writes
back (partial sums spilled or kept), then deals the folds of ``groups`` such GEMMs round-robin to
``arrays`` arrays (a *step* = the folds that run at once) and runs one DRAM channel serving the next
step's reads and the previous step's writes while a step computes (:func:`_schedule`).

The fold geometry (:func:`fold_dims`, :func:`fold_len`, :func:`fold_period`, :func:`tile_roles`) is
compiled from :mod:`hwsim.engines.systolic_equations`, the one source of truth. The pure-Python twin
:mod:`hwsim.engines.systolic_physical_reference` is the specification; tests assert kernel == twin.
SCALE-Sim's cycle-exact replay lives in :mod:`hwsim.engines.systolic_compat`. Units: cycles and words,
except channel bytes per word (``chan``) and bandwidth (bytes/cycle).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from hwsim.engines import systolic_equations as eq
from hwsim.engines.systolic_equations import DF_IS, DF_OS, DF_WS, TILE_CONSEC, TILE_CYCLIC, TILE_ONCE  # noqa: F401

N_PHYS_INTS, N_PHYS_FLOATS = 13, 2
fold_dims = njit(cache=True)(eq.fold_dims)
fold_len = njit(cache=True)(eq.fold_len)
fold_period = njit(cache=True)(eq.fold_period)
tile_roles = njit(cache=True)(eq.tile_roles)


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
def _fold_transfers(df, sr, sc, t, rows, cols, if_tile, if_new, fl_tile, fl_new, cap_if, cap_fl, cap_of, chan, out):
    """Per fold of one GEMM, in fold order: channel bytes fetched one fold ahead, fetched a column ahead,
    read back while it computes, written after it, and the write's deadline (``-1``: the array's fold after
    next reuses the buffer half; else the fold offset of the column after next). Adds word counts to ``out``.
    """
    nfr, nfc = (sr + rows - 1) // rows, (sc + cols - 1) // cols
    r_if, r_fl = tile_roles(df)
    fit_if, fit_fl = if_new.sum() <= cap_if, fl_new.sum() <= cap_fl
    n = nfr * nfc
    ahead, column, back_b, wr = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    woff = np.full(n, -1, np.int64)
    i = 0
    for fc in range(nfc):
        for fr in range(nfr):
            ru, cu = min(rows, sr - fr * rows), min(cols, sc - fc * cols)
            a_now, a_col = _loads(r_if, if_tile, if_new, fit_if, cap_if // 2, fr, fc, nfr)
            b_now, b_col = _loads(r_fl, fl_tile, fl_new, fit_fl, cap_fl // 2, fr, fc, nfr)
            if df == DF_OS:
                wout, wfinal, back = ru * cu, ru * cu, 0
                out[8] += ru * cu
                out[9] += ru * cu
            else:
                p = t * cu
                keep = p <= cap_of // 2 or sc * t <= cap_of
                wout = p if (not keep or fr == nfr - 1) else 0
                wfinal = p if fr == nfr - 1 else 0
                back = p if (not keep and fr > 0) else 0
                if keep:
                    woff[i] = 1 + nfr                      # a kept tile's half: column after next
                out[8] += p + back
                out[9] += (p if fr > 0 else 0) + wout
            out[2] += a_now + a_col
            out[3] += b_now + b_col
            out[4] += back
            out[5] += wout
            out[6] += ru * cu if df == DF_IS else t * ru
            out[7] += ru * cu if df == DF_WS else (t * ru if df == DF_IS else t * cu)
            ahead[i], column[i] = a_now * chan[0] + b_now * chan[1], a_col * chan[0] + b_col * chan[1]
            back_b[i], wr[i] = back * chan[3], wfinal * chan[2] + (wout - wfinal) * chan[3]
            i += 1
    ahead[0] += column[0]                                  # the first column's tiles: before fold 0
    column[0] = 0.0
    return ahead, column, back_b, wr, woff


@njit(cache=True)
def _steps(ahead, column, back, wr, woff, nfr, groups, arrays):
    """Deal ``groups`` copies of the fold sequence to ``arrays`` arrays: step ``s`` runs folds
    ``s*arrays .. s*arrays + arrays - 1``. Returns per-step urgent loads and read-backs, and the background
    items (queue step, deadline step, bytes) of write-backs and column tiles, in queue order."""
    n = ahead.shape[0]
    nq = n * groups
    ns = (nq + arrays - 1) // arrays
    a_s, b_s = np.zeros(ns), np.zeros(ns)
    wq, wd, wb = np.zeros(nq, np.int64), np.zeros(nq, np.int64), np.zeros(nq)
    cq, cd, cb = np.zeros(nq, np.int64), np.zeros(nq, np.int64), np.zeros(nq)
    nw, nc = 0, 0
    for q in range(nq):
        j, s = q % n, q // arrays
        a_s[s] += ahead[j]
        b_s[s] += back[j]
        if wr[j] > 0:
            wq[nw], wb[nw] = s + 1, wr[j]
            wd[nw] = min(ns, s + 2 if woff[j] < 0 else max(s + 2, (q + woff[j]) // arrays))
            nw += 1
        if column[j] > 0:
            qs = (q - nfr) // arrays
            if qs == s:                                    # same step: an urgent load of this step
                a_s[s] += column[j]
            else:
                cq[nc], cd[nc], cb[nc] = qs, s, column[j]
                nc += 1
    return a_s, b_s, wq[:nw], wd[:nw], wb[:nw], cq[:nc], cd[:nc], cb[:nc]


@njit(cache=True)
def _serve(pend, lo, hi, budget):
    """Serve ``budget`` bytes of background transfers, earliest deadline first (``pend`` = bytes by
    deadline step); returns the first deadline still pending (``hi + 1`` when none)."""
    d = lo
    while d <= hi:
        if pend[d] > 0:
            if budget <= 0:
                break
            step = min(budget, pend[d])
            pend[d] -= step
            budget -= step
            if pend[d] > 1e-9:
                break
            pend[d] = 0.0
        d += 1
    return d


@njit(cache=True)
def _schedule(a_s, b_s, cy, wq, wd, wb, cq, cd, cb, bw):
    """DRAM channel at ``bw`` bytes/cycle; returns (stall, prologue, epilogue) cycles.

    Urgent, first come first served: at the start of step s, its partial-sum read-backs (streamed in while
    it computes) and step s+1's loads; step s+1 waits for them. Background, earliest deadline first in
    the urgent queue's idle time: write-backs (queued the step after they are produced, due before the
    step that reuses their buffer half) and the next column's tiles (queued at the previous column's first
    step, due at their own). A step first waits for what is due.
    """
    ns = cy.shape[0]
    pend = np.zeros(ns + 1)
    lo, hi, iw, ic = ns + 1, -1, 0, 0
    urgent, s0, e = 0.0, 0, 0
    for s in range(ns):
        if s > 0:
            ready = max(e, np.int64(np.ceil(urgent - 1e-9)))
            busy = max(0.0, min(float(ready), urgent) - s0)    # urgent work in [start of s-1, ready]
            lo = _serve(pend, lo, hi, (ready - s0 - busy) * bw)
            due = 0.0
            for d in range(lo, min(s, hi) + 1):
                due += pend[d]
            if due > 0:                                        # wait for what this step needs
                ready += np.int64(np.ceil(due / bw - 1e-9))
                lo = _serve(pend, lo, hi, due)
            s0 = ready
            while iw < wq.shape[0] and wq[iw] == s:
                pend[wd[iw]] += wb[iw]
                lo, hi = min(lo, wd[iw]), max(hi, wd[iw])
                iw += 1
        urgent = max(urgent, s0) + b_s[s] / bw
        if s + 1 < ns:
            urgent = max(urgent, s0) + a_s[s + 1] / bw
        while ic < cq.shape[0] and cq[ic] == s:
            pend[cd[ic]] += cb[ic]
            lo, hi = min(lo, cd[ic]), max(hi, cd[ic])
            ic += 1
        e = s0 + cy[s]
    rest = wb[iw:].sum()
    for d in range(max(lo, 0), hi + 1):
        rest += pend[d]
    tail = max(urgent, e) + rest / bw
    return e - cy.sum(), np.int64(np.ceil(a_s[0] / bw)), np.int64(np.ceil(tail - e - 1e-9))


@njit(cache=True)
def _peak_bw(a_s, b_s, cy, wq, wd, wb, cq, cd, cb):
    """Least bandwidth (bytes/cycle) with zero stalls, by bisection (stalls never grow with bw)."""
    hi = max(1.0, a_s.sum() + b_s.sum() + wb.sum() + cb.sum())
    if _schedule(a_s, b_s, cy, wq, wd, wb, cq, cd, cb, 1e-3)[0] == 0:
        return 0.0
    lo = 0.0
    for _ in range(200):
        if hi - lo <= 1e-9 * hi:
            break
        mid = 0.5 * (lo + hi)
        if _schedule(a_s, b_s, cy, wq, wd, wb, cq, cd, cb, mid)[0] == 0:
            hi = mid
        else:
            lo = mid
    return hi


@njit(cache=True)
def physical_walk(df, sr, sc, t, rows, cols, if_tile, if_new, fl_tile, fl_new, cap_if, cap_fl, cap_of, chan,
                  bw, groups, arrays, pipelined):
    """Double-buffered fold walk of ``groups`` GEMMs on ``arrays`` arrays; capacities in words, ``chan``
    = channel bytes per word of (ifmap, filter, ofmap, psum) (0: the operand lives on chip), ``bw`` in
    bytes/cycle (<= 0: unlimited).

    Returns ``(ints, floats)``: ints = [compute_cycles, stall_cycles, DRAM reads ifmap/filter/ofmap,
    DRAM writes ofmap, SRAM array reads ifmap/filter, ofmap SRAM writes, ofmap SRAM reads, folds,
    prologue cycles, epilogue cycles]; floats = [peak channel bytes/cycle for zero stalls, channel bytes].
    """
    out, fl = np.zeros(N_PHYS_INTS, np.int64), np.zeros(N_PHYS_FLOATS, np.float64)
    ahead, column, back, wr, woff = _fold_transfers(df, sr, sc, t, rows, cols, if_tile, if_new, fl_tile, fl_new,
                                                    cap_if, cap_fl, cap_of, chan, out)
    nfr = (sr + rows - 1) // rows
    out[2:10] *= groups
    out[10] = ahead.shape[0] * groups
    a_s, b_s, wq, wd, wb, cq, cd, cb = _steps(ahead, column, back, wr, woff, nfr, groups, arrays)
    cy = np.full(a_s.shape[0], fold_period(df, t, rows, cols, pipelined), np.int64)
    cy[0] = fold_len(df, t, rows, cols)
    cy[-1] -= 1
    out[0] = cy.sum()
    if bw > 0:
        out[1], out[11], out[12] = _schedule(a_s, b_s, cy, wq, wd, wb, cq, cd, cb, bw)
    fl[0] = _peak_bw(a_s, b_s, cy, wq, wd, wb, cq, cd, cb)
    fl[1] = a_s.sum() + b_s.sum() + wb.sum() + cb.sum()
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
