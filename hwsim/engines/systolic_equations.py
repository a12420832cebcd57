"""Closed-form equations of the systolic fold schedule: what the analytical engine calls.

Same inputs and the same :class:`SystolicSimResult` as :func:`hwsim.engines.systolic_sim.simulate_gemm`
(fidelity ``"analytical"``). Fold counts, compute cycles, SRAM counts and DRAM traffic equal the
simulator's exactly (physical mode; compute cycles and SRAM counts also in compat mode). Stalls are
estimated per phase (the first column of folds, which loads the reused operands, and the rest) instead
of per fold, so total cycles agree with the simulator within a few percent (tests: <= 5 %).

Notation: ``Sr, Sc, T = fold_dims``; ``n_r = ceil(Sr/R)``, ``n_c = ceil(Sc/C)``; ``r_l, c_l`` the
last fold's used rows/cols; ``L`` the fold length (``T+R+C-2`` os, ``T+2R+C-2`` ws/is); words unless
a name says bytes. See docs/systolic.md for the derivation.
"""

from __future__ import annotations

import math

from hwsim.engines.systolic_kernels import DF_IS, DF_OS, DF_WS, fold_dims, fold_len
from hwsim.engines.systolic_result import CountingMode, Dataflow, SystolicSimResult, per_operand

KIB = 1024


def fold_counts(m: int, k: int, n: int, rows: int, cols: int, dataflow: str) -> tuple[int, int]:
    """(row folds, column folds) = (ceil(Sr/R), ceil(Sc/C)).

    >>> fold_counts(512, 4096, 4096, 128, 128, "ws")
    (32, 32)
    """
    sr, sc, _ = fold_dims(Dataflow.parse(dataflow).code, m, k, n)
    return -(-sr // rows), -(-sc // cols)


def compute_cycles(m: int, k: int, n: int, rows: int, cols: int, dataflow: str) -> int:
    """SCALE-Sim's compute cycles: ``n_r * n_c * L - 1``.

    >>> compute_cycles(512, 4096, 4096, 128, 128, "os")   # 4*32*(4096+128+128-2) - 1
    556799
    """
    df = Dataflow.parse(dataflow).code
    _, _, t = fold_dims(df, m, k, n)
    nr, nc = fold_counts(m, k, n, rows, cols, dataflow)
    return nr * nc * fold_len(df, t, rows, cols) - 1


def _traffic(df, sr, sc, t, R, C, caps):
    """Per-phase words (phase A = first fold column, B = the rest): loads, write-backs, read-backs."""
    nr, nc = -(-sr // R), -(-sc // C)
    c0, cl = min(C, sc), sc - (nc - 1) * C
    r0 = min(R, sr)
    if_total, fl_total = (sr * t, t * sc) if df == DF_OS else ((t * sr, sr * sc) if df == DF_WS else (sr * sc, sr * t))
    cap_if, cap_fl, cap_of = caps

    def cyclic(total, cap):            # tiles by fr, reused by every column fold
        return total, (0 if total <= cap else (nc - 1) * total)

    def once(total):                   # each (fr, fc) tile used once; the first column holds sr * c0
        return sr * c0, total - sr * c0

    if df == DF_OS:
        a_if = cyclic(if_total, cap_if)
        g = (lambda x: x if (fl_total <= cap_fl or x <= cap_fl // 2) else nr * x)
        a_fl = (g(t * c0), (nc - 2) * g(t * C) + g(t * cl) if nc > 1 else 0)
        w = (sr * c0, sr * (sc - c0))
        back = (0, 0)
        first_fold = r0 * t + t * c0
        rl = sr - (nr - 1) * R
        prev = ((R if nr > 2 else r0) * cl, 1 if nc > 1 else 0) if nr > 1 else (rl * C, 0 if nc == 2 else 1)
        free = [(rl * cl, 1 if nc > 1 else 0), prev if nr * nc > 1 else (0, 0)]
        last_w = free
    else:
        a_if = cyclic(if_total, cap_if) if df == DF_WS else once(if_total)
        a_fl = once(fl_total) if df == DF_WS else cyclic(fl_total, cap_fl)
        keep = (lambda p: p <= cap_of // 2 or sc * t <= cap_of)
        col = (lambda p: (p, 0) if keep(p) else (nr * p, (nr - 1) * p))
        wa, ba = col(t * c0)
        wf, bf = col(t * C)
        wl, bl = col(t * cl)
        rest_w, rest_b = ((nc - 2) * wf + wl, (nc - 2) * bf + bl) if nc > 1 else (0, 0)
        w, back = (wa, rest_w), (ba, rest_b)
        first_fold = (t * r0 if df == DF_WS else r0 * c0) + (r0 * c0 if df == DF_WS else r0 * t)
        last_phase = 1 if nc > 1 else 0
        free = [(t * cl, last_phase)]                 # last fold's write-back
        if not keep(t * cl) and nr > 1:               # spilled: fold n-2's write, last read-back
            free += [(t * cl, last_phase), (t * cl, last_phase)]
        if nc > 1 and (keep(t * C) or nr == 1):      # column nc-2's write is due at fold n or later
            free += [(t * C, 0 if nc == 2 else 1)]
        last_w = free
    return a_if, a_fl, w, back, first_fold, last_w


# ``last_w`` = [(words, phase)] that nothing waits for (last write-backs, last read-back): the channel
# may finish them after the last fold (epilogue).
def systolic_equations(m: int, k: int, n: int, *, rows: int, cols: int, dataflow: str,
                       ifmap_sram_bytes: int = 64 * KIB, filter_sram_bytes: int = 64 * KIB,
                       ofmap_sram_bytes: int = 64 * KIB, word_bytes: int = 1,
                       dram_bw_bytes_per_cycle: float | None = None) -> SystolicSimResult:
    """Closed-form twin of ``simulate_gemm(..., mode="physical")`` (same parameters and units).

    >>> r = systolic_equations(512, 4096, 4096, rows=128, cols=128, dataflow="ws")
    >>> r.compute_cycles, r.dram_reads["ifmap"], r.dram_writes["ofmap"]
    (915455, 67108864, 67108864)
    """
    df = Dataflow.parse(dataflow)
    sr, sc, t = fold_dims(df.code, m, k, n)
    nr, nc = -(-sr // rows), -(-sc // cols)
    flen = fold_len(df.code, t, rows, cols)
    caps = tuple(b // word_bytes for b in (ifmap_sram_bytes, filter_sram_bytes, ofmap_sram_bytes))
    a_if, a_fl, w, back, first_fold, last_w = _traffic(df.code, sr, sc, t, rows, cols, caps)
    dram_if, dram_fl, dram_w, dram_b = sum(a_if), sum(a_fl), sum(w), sum(back)
    cc = nr * nc * flen - 1
    bw = dram_bw_bytes_per_cycle
    phase_bytes = [(a_if[i] + a_fl[i] + w[i] + back[i]) * word_bytes for i in (0, 1)]
    phase_bytes[0] -= first_fold * word_bytes                  # prologue: before the first fold
    for words, phase in last_w:                                # nothing waits for these
        phase_bytes[phase] -= words * word_bytes
    phase_cycles = [nr * flen - (0 if nc > 1 else 1), (nc - 1) * nr * flen - (1 if nc > 1 else 0)]
    stall = pro = epi = 0
    if bw is not None:
        stall = sum(max(0, math.ceil(b / bw) - c) for b, c in zip(phase_bytes, phase_cycles) if c > 0 or b > 0)
        pro = math.ceil(first_fold * word_bytes / bw)
        tail = sum(words for words, _ in last_w) * word_bytes
        epi = max(math.ceil(last_w[0][0] * word_bytes / bw), math.ceil(tail / bw) - flen + 1)
    if df is Dataflow.OS:
        of_sram_w = of_sram_r = sr * sc
    else:
        of_sram_w, of_sram_r = nr * sc * t + dram_b, (nr - 1) * sc * t + dram_w
    arr_if = sr * sc if df is Dataflow.IS else t * sr * nc
    arr_fl = sr * sc if df is Dataflow.WS else (t * sr * nc if df is Dataflow.IS else t * sc * nr)
    total = cc + stall
    span = flen + (0 if df is Dataflow.OS else cols - 1)
    dram_bytes = (dram_if + dram_fl + dram_w + dram_b) * word_bytes
    return SystolicSimResult(
        m=m, k=k, n=n, rows=rows, cols=cols, dataflow=df.value, mode=CountingMode.PHYSICAL.value,
        fidelity="analytical", word_bytes=word_bytes, dram_bw_bytes_per_cycle=bw, row_folds=nr, col_folds=nc,
        compute_cycles=cc, stall_cycles=stall, total_cycles=total, total_cycles_incl_prefetch=total + pro + epi,
        macs=m * k * n, utilization=m * k * n / (max(total, 1) * rows * cols),
        mapping_efficiency=sr * sc / (nr * nc * rows * cols),
        compute_utilization=sr * sc * t / (nr * nc * rows * cols * span),
        sram_reads=per_operand(arr_if, arr_fl, of_sram_r), sram_writes=per_operand(dram_if, dram_fl, of_sram_w),
        dram_reads=per_operand(dram_if, dram_fl, dram_b), dram_writes=per_operand(ofmap=dram_w),
        peak_dram_bw_bytes_per_cycle=max(b / max(c, 1) for b, c in zip(phase_bytes, phase_cycles)),
        avg_dram_bw_bytes_per_cycle=dram_bytes / max(total, 1),
        notes=("analytical: closed-form fold equations (docs/systolic.md)",
               "stalls and peak bandwidth per phase (first fold column, rest), not per fold"))
