"""Pure-Python twin of :func:`hwsim.engines.systolic_kernels.physical_walk`: the living specification.

Written for clarity, not speed: folds are dicts, steps are dicts, the DRAM channel's background queue is a
dict of bytes by deadline. Tests (hypothesis) assert that kernel and twin agree field by field.
Units: cycles, words, and bytes where a name says so.
"""

from __future__ import annotations

import math

from hwsim.engines.systolic_equations import (DF_IS, DF_OS, DF_WS, TILE_CONSEC, TILE_CYCLIC, TILE_ONCE, fold_len,
                                              fold_period, tile_roles)
from hwsim.engines.systolic_kernels import N_PHYS_INTS


def _fold_loads(role, tiles, new, caps_o, fr, fc, nfr):
    """(words, fetched a column ahead?) of one operand for fold (fr, fc).

    Residency: an operand whose distinct words fit its whole SRAM is fetched once; otherwise a tile reused
    by consecutive folds is kept if it fits half the SRAM (the other half prefetches), and every other use
    refetches the tile.
    """
    tid = fr if role == TILE_CYCLIC else (fc if role == TILE_CONSEC else fc * nfr + fr)
    if sum(new) <= caps_o:
        first = {TILE_ONCE: True, TILE_CYCLIC: fc == 0, TILE_CONSEC: fr == 0}[role]
        return (new[tid] if first else 0), role == TILE_CONSEC
    if role == TILE_CONSEC and tiles[tid] <= caps_o // 2:
        return (tiles[tid] if fr == 0 else 0), True
    return tiles[tid], False


def fold_walk_reference(df, sr, sc, t, rows, cols, tiles, caps, chan, ints):
    """Folds of one GEMM in order ``for fc: for fr:`` as dicts of channel bytes; adds word counts to ``ints``.

    Partial sums (ws, is) stay in the ofmap SRAM when a column's tile ``T x c_used`` fits half of it (or
    the whole ofmap fits); otherwise every fold writes them out and the next reads them back.
    """
    nfr, nfc = math.ceil(sr / rows), math.ceil(sc / cols)
    roles = tile_roles(df)
    folds = []
    for fc in range(nfc):
        for fr in range(nfr):
            ru, cu = min(rows, sr - fr * rows), min(cols, sc - fc * cols)
            f = dict(ahead=0.0, column=0.0, woff=-1)
            for o in (0, 1):
                words, by_column = _fold_loads(roles[o], tiles[2 * o], tiles[2 * o + 1], caps[o], fr, fc, nfr)
                ints[2 + o] += words
                f["column" if by_column else "ahead"] += words * chan[o]
            if df == DF_OS:
                write, final, back = ru * cu, ru * cu, 0
                ints[8] += ru * cu
                ints[9] += ru * cu
            else:
                p = t * cu
                keep = p <= caps[2] // 2 or sc * t <= caps[2]
                write = p if (not keep or fr == nfr - 1) else 0
                final = p if fr == nfr - 1 else 0
                back = p if (not keep and fr > 0) else 0
                f["woff"] = 1 + nfr if keep else -1
                ints[8] += p + back
                ints[9] += (p if fr > 0 else 0) + write
            ints[4] += back
            ints[5] += write
            ints[6] += ru * cu if df == DF_IS else t * ru
            ints[7] += ru * cu if df == DF_WS else (t * ru if df == DF_IS else t * cu)
            f["back"], f["write"] = back * chan[3], final * chan[2] + (write - final) * chan[3]
            folds.append(f)
    folds[0]["ahead"] += folds[0]["column"]
    folds[0]["column"] = 0.0
    return folds


def steps_reference(folds, nfr, groups, arrays):
    """Deal ``groups`` copies of ``folds`` round-robin to ``arrays`` arrays (see ``_steps``)."""
    n = len(folds)
    ns = math.ceil(n * groups / arrays)
    steps = [dict(ahead=0.0, back=0.0) for _ in range(ns)]
    writes, columns = [], []               # (queue step, deadline step, bytes)
    for q in range(n * groups):
        f, s = folds[q % n], q // arrays
        steps[s]["ahead"] += f["ahead"]
        steps[s]["back"] += f["back"]
        if f["write"] > 0:
            due = s + 2 if f["woff"] < 0 else max(s + 2, (q + f["woff"]) // arrays)
            writes.append((s + 1, min(ns, due), f["write"]))
        if f["column"] > 0:
            if (q - nfr) // arrays == s:
                steps[s]["ahead"] += f["column"]
            else:
                columns.append(((q - nfr) // arrays, s, f["column"]))
    return steps, writes, columns


def schedule_reference(steps, cycles, writes, columns, bw):
    """(stall, prologue, epilogue) cycles: urgent FIFO loads, background transfers by deadline."""
    pending: dict[int, float] = {}         # deadline step -> bytes

    def serve(budget):
        for d in sorted(pending):
            if pending[d] > 0:
                if budget <= 0:
                    break
                step = min(budget, pending[d])
                pending[d] -= step
                budget -= step
                if pending[d] > 1e-9:
                    break
                pending[d] = 0.0

    urgent, start, end = 0.0, 0, 0
    for s in range(len(steps)):
        if s > 0:
            ready = max(end, math.ceil(urgent - 1e-9))
            busy = max(0.0, min(ready, urgent) - start)
            serve((ready - start - busy) * bw)
            due = sum(pending[d] for d in sorted(pending) if d <= s)
            if due > 0:
                ready += math.ceil(due / bw - 1e-9)
                serve(due)
            start = ready
            for q, d, b in writes:
                if q == s:
                    pending[d] = pending.get(d, 0.0) + b
        urgent = max(urgent, start) + steps[s]["back"] / bw
        if s + 1 < len(steps):
            urgent = max(urgent, start) + steps[s + 1]["ahead"] / bw
        for q, d, b in columns:
            if q == s:
                pending[d] = pending.get(d, 0.0) + b
        end = start + cycles[s]
    rest = sum(b for q, _, b in writes if q >= len(steps))
    rest += sum(pending[d] for d in sorted(pending))
    tail = max(urgent, end) + rest / bw
    return end - sum(cycles), math.ceil(steps[0]["ahead"] / bw), math.ceil(tail - end - 1e-9)


def physical_walk_reference(df, sr, sc, t, rows, cols, if_tile, if_new, fl_tile, fl_new, caps, chan, bw,
                            groups=1, arrays=1, pipelined=False):
    """The physical model (see ``physical_walk``); returns (ints, floats)."""
    ints = [0] * N_PHYS_INTS
    folds = fold_walk_reference(df, sr, sc, t, rows, cols, (if_tile, if_new, fl_tile, fl_new), caps, chan, ints)
    ints[2:10] = [x * groups for x in ints[2:10]]
    ints[10] = len(folds) * groups
    steps, writes, columns = steps_reference(folds, math.ceil(sr / rows), groups, arrays)
    cycles = [fold_len(df, t, rows, cols)] + [fold_period(df, t, rows, cols, pipelined)] * (len(steps) - 1)
    cycles[-1] -= 1
    ints[0] = sum(cycles)
    if bw > 0:
        ints[1], ints[11], ints[12] = schedule_reference(steps, cycles, writes, columns, bw)
    total = sum(s["ahead"] + s["back"] for s in steps) + sum(b for *_, b in writes + columns)
    return ints, [_peak_reference(steps, cycles, writes, columns, total), float(total)]


def _peak_reference(steps, cycles, writes, columns, total):
    """Least bandwidth with zero stalls (bisection; stalls never grow with bandwidth)."""
    if schedule_reference(steps, cycles, writes, columns, 1e-3)[0] == 0:
        return 0.0
    lo, hi = 0.0, max(1.0, float(total))
    for _ in range(200):
        if hi - lo <= 1e-9 * hi:
            break
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if schedule_reference(steps, cycles, writes, columns, mid)[0] == 0 else (mid, hi)
    return hi
