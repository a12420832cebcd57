"""Closed-form equations of the systolic fold schedule: the one source of truth for fold geometry, fold
counts, compute cycles and SRAM counts, and the analytical engine's model.

The Numba simulator (:mod:`systolic_kernels`) compiles :func:`fold_dims`, :func:`fold_len`,
:func:`fold_period` and :func:`tile_roles` from this module, so both fidelities share them.
:func:`systolic_equations` takes :func:`hwsim.engines.systolic_sim.simulate_gemm`'s arguments and returns
the same :class:`SystolicSimResult` (fidelity ``"analytical"``): fold counts, compute cycles, SRAM counts
and DRAM traffic equal the simulator's (physical mode); stalls are estimated per phase (the first column of
folds, which loads the reused operands, and the rest) instead of per fold, so total cycles agree within a
few percent (tests: <= 5 % on LLM shapes).

Notation: ``Sr, Sc, T = fold_dims``; ``n_r = ceil(Sr/R)``, ``n_c = ceil(Sc/C)``; ``r_l, c_l`` the last
fold's used rows/cols; ``L`` the fold length (``T+R+C-2`` os, ``T+2R+C-2`` ws/is); words unless a name says
bytes. Derivations: docs/systolic.md.
"""

from __future__ import annotations

import math
from typing import Mapping

from hwsim.engines.systolic_result import CountingMode, SystolicSimResult, parse_dataflow, per_operand
from hwsim.engines.systolic_result import operand_bytes as _operand_bytes

KIB = 1024
DF_OS, DF_WS, DF_IS = 0, 1, 2
TILE_ONCE, TILE_CYCLIC, TILE_CONSEC = 0, 1, 2   # each tile used once / by fr, all fc / by fc, all fr


def df_code(dataflow) -> int:
    """Kernel code of a dataflow (``"os"`` -> 0, ``"ws"`` -> 1, ``"is"`` -> 2)."""
    return ("os", "ws", "is").index(parse_dataflow(dataflow).value)


def fold_dims(df, m, k, n):
    """(Sr, Sc, T): what maps to array rows, to array columns, and to time (SCALE-Sim's naming)."""
    if df == DF_OS:
        return m, n, k
    if df == DF_WS:
        return k, n, m
    return k, m, n


def fold_len(df, t, rows, cols):
    """Cycles of one fold alone: ``T+R+C-2`` (os) or ``T+2R+C-2`` (ws, is; R cycles load the stationary)."""
    return t + rows + cols - 2 if df == DF_OS else t + 2 * rows + cols - 2


def fold_period(df, t, rows, cols, pipelined):
    """Cycles each fold after the first adds: ``L`` (serial, SCALE-Sim) or ``max(T, R)`` when the next
    fold's stationary operand shifts in while this one streams (TPU v1 weight FIFO, Jouppi et al. 2017 s.2)."""
    if pipelined:
        return max(t, rows)
    return t + rows + cols - 2 if df == DF_OS else t + 2 * rows + cols - 2   # fold_len (self-contained: Numba)


def tile_roles(df):
    """Reuse pattern of the (ifmap, filter) tiles under the fold order ``for fc: for fr:``."""
    if df == DF_OS:
        return TILE_CYCLIC, TILE_CONSEC
    if df == DF_WS:
        return TILE_CYCLIC, TILE_ONCE
    return TILE_ONCE, TILE_CYCLIC


def fold_counts(m: int, k: int, n: int, rows: int, cols: int, dataflow) -> tuple[int, int]:
    """(row folds, column folds) = (ceil(Sr/R), ceil(Sc/C)) of one GEMM.

    >>> fold_counts(512, 4096, 4096, 128, 128, "ws")
    (32, 32)
    """
    sr, sc, _ = fold_dims(df_code(dataflow), m, k, n)
    return -(-sr // rows), -(-sc // cols)


def compute_cycles(m: int, k: int, n: int, rows: int, cols: int, dataflow, groups: int = 1, arrays: int = 1,
                   fold_pipelining: bool = False) -> int:
    """Stall-free cycles of ``groups`` GEMMs whose folds are dealt round-robin to ``arrays`` arrays.

    Each array runs ``S = ceil(groups * n_r * n_c / arrays)`` folds: ``L + (S - 1) * P - 1`` cycles, with
    ``P = L`` (SCALE-Sim v3: ``S * L - 1``) or ``P = max(T, R)`` with fold pipelining.

    >>> compute_cycles(512, 4096, 4096, 128, 128, "os")   # 4*32*(4096+128+128-2) - 1
    556799
    >>> compute_cycles(1, 4096, 4096, 128, 128, "ws", arrays=4, fold_pipelining=True)  # 383 + 255*128 - 1
    33022
    """
    df = df_code(dataflow)
    _, _, t = fold_dims(df, m, k, n)
    nr, nc = fold_counts(m, k, n, rows, cols, dataflow)
    steps = -(-groups * nr * nc // arrays)
    return fold_len(df, t, rows, cols) + (steps - 1) * fold_period(df, t, rows, cols, fold_pipelining) - 1


def conv_ifmap_words(dims: Mapping[str, int]) -> int:
    """Distinct ifmap words a convolution touches (no padding): ``B x h x w x C`` with ``h = (oh-1) s + R``
    rows when windows overlap or abut (``s <= R``), else ``oh x R`` (likewise columns).

    >>> conv_ifmap_words({"B": 1, "H": 5, "W": 5, "C": 2, "R": 3, "S": 3, "F": 4})
    50
    """
    s = dims.get("stride", 1)
    out = []
    for size, win in ((dims["H"], dims["R"]), (dims["W"], dims["S"])):
        o = (size - win) // s + 1
        out.append((o - 1) * s + win if s <= win else o * win)
    return dims.get("B", 1) * out[0] * out[1] * dims["C"]


def sram_words(sram_bytes: tuple[float, float, float], eb: Mapping[str, float]) -> tuple[int, int, int]:
    """Capacities in elements: ifmap and filter SRAMs in their formats, the ofmap SRAM in partial sums."""
    return (int(sram_bytes[0] // eb["ifmap"]), int(sram_bytes[1] // eb["filter"]),
            int(sram_bytes[2] // eb["psum"]))


def _traffic(df, sr, sc, t, R, C, caps, if_distinct):
    """Per-phase words (A = first fold column, B = the rest): loads, final writes, spills, read-backs.

    Returns (ifmap, filter, final, spill, back) as (A, B) pairs, the first fold's (ifmap, filter) words,
    and the write-backs nothing waits for, as ``(words, phase, key)``.
    """
    nr, nc = -(-sr // R), -(-sc // C)
    c0, cl = min(C, sc), sc - (nc - 1) * C
    r0 = min(R, sr)
    if_total, fl_total = (sr * t, t * sc) if df == DF_OS else ((t * sr, sr * sc) if df == DF_WS else (sr * sc, sr * t))
    cap_if, cap_fl, cap_of = caps

    def cyclic(total, cap, distinct):  # tiles by fr, reused by every column fold
        return (distinct, 0) if distinct <= cap else (total, (nc - 1) * total)

    def once(total):                   # each (fr, fc) tile used once; the first column holds sr * c0
        return sr * c0, total - sr * c0

    if df == DF_OS:
        a_if = cyclic(if_total, cap_if, if_distinct)
        g = (lambda x: x if (fl_total <= cap_fl or x <= cap_fl // 2) else nr * x)
        a_fl = (g(t * c0), (nc - 2) * g(t * C) + g(t * cl) if nc > 1 else 0)
        final, spill, back = (sr * c0, sr * (sc - c0)), (0, 0), (0, 0)
        first = (r0 * t, t * c0)
        rl = sr - (nr - 1) * R
        prev = ((R if nr > 2 else r0) * cl, 1 if nc > 1 else 0) if nr > 1 else (rl * C, 0 if nc == 2 else 1)
        free = [(rl * cl, 1 if nc > 1 else 0, "ofmap")] + ([(*prev, "ofmap")] if nr * nc > 1 else [])
        return a_if, a_fl, final, spill, back, first, free
    a_if = cyclic(if_total, cap_if, if_distinct) if df == DF_WS else once(if_total)
    a_fl = once(fl_total) if df == DF_WS else cyclic(fl_total, cap_fl, fl_total)
    keep = (lambda p: p <= cap_of // 2 or sc * t <= cap_of)
    col = (lambda p: (0, 0) if keep(p) else ((nr - 1) * p, (nr - 1) * p))   # (spilled, read back)
    sa, ba = col(t * c0)
    sf, bf = col(t * C)
    sl, bl = col(t * cl)
    final = (t * c0, t * (sc - c0))
    spill, back = (sa, (nc - 2) * sf + sl if nc > 1 else 0), (ba, (nc - 2) * bf + bl if nc > 1 else 0)
    first = (t * r0, r0 * c0) if df == DF_WS else (r0 * c0, r0 * t)
    last_phase = 1 if nc > 1 else 0
    free = [(t * cl, last_phase, "ofmap")]               # last fold's write-back
    if not keep(t * cl) and nr > 1:                      # spilled: fold n-2's write, last read-back
        free += [(t * cl, last_phase, "psum"), (t * cl, last_phase, "psum")]
    if nc > 1 and (keep(t * C) or nr == 1):              # column nc-2's write is due at fold n or later
        free += [(t * C, 0 if nc == 2 else 1, "ofmap")]
    return a_if, a_fl, final, spill, back, first, free


def _lead_bytes(df, nr, nc, groups, arrays, caps, first, loads, ch, if_distinct, totals):
    """Channel bytes loaded before the first step (its ``arrays`` folds' tiles), split by phase (A, B).

    Per operand, by role: a cyclic tile (by fold row) is new for each of the first ``n_r`` folds and again
    later only if the operand does not fit; a once-used tile is new for every fold; a column tile is new
    once per column when it fits half its SRAM. Every tile is taken the size of the first fold's.
    """
    n = nr * nc
    lead = min(arrays, n)
    la, lb = min(lead, nr), lead - min(lead, nr)
    gl = min(groups, -(-arrays // n))
    out = [0.0, 0.0]
    for o, key in ((0, "ifmap"), (1, "filter")):
        role = tile_roles(df)[o]
        fits = (if_distinct if o == 0 else totals[1]) <= caps[o]
        if role == TILE_CYCLIC:
            a, b = la, (0 if fits else lb)
        elif role == TILE_ONCE:
            a, b = la, lb
        elif fits or first[o] <= caps[o] // 2:
            a, b = 1, -(-lb // nr)
        else:
            a, b = la, lb
        out[0] += gl * min(a * first[o], loads[o][0]) * ch[key]
        out[1] += gl * min(b * first[o], loads[o][1]) * ch[key]
    return out


def _epilogue_writes(df, sr, sc, t, R, C, last_n, free):
    """(written at the end, written earlier) among the write-backs nothing waits for.

    ``free[0]`` is the last fold's write-back; the last step's other ``last_n - 1`` folds add theirs (os: each
    fold's ``R x C`` outputs; ws/is: each further column the step completes, ``T x C``). The rest of ``free``
    was queued earlier and may drain while the last step computes.
    """
    nr, phase = -(-sr // R), free[0][1]
    if df == DF_OS:
        return [free[0]] + [(min(R, sr) * min(C, sc), phase, "ofmap")] * (last_n - 1), (free[1:] if last_n == 1 else [])
    done = min(-(-sc // C), -(-last_n // nr)) - 1          # columns besides the last one
    earlier = [x for x in free[1:] if not (done > 0 and x[2] == "ofmap")]
    return [free[0]] + [(t * min(C, sc), phase, "ofmap")] * done, earlier


def _stalls(phase_bytes, phase_cycles, pro_bytes, end_bytes, earlier_bytes, last_step, bw):
    """(stall, prologue, epilogue) cycles at ``bw`` bytes/cycle from per-phase byte totals: the epilogue
    drains what the last step writes plus what the channel could not drain of earlier writes during it."""
    if bw is None:
        return 0, 0, 0
    stall = sum(max(0, math.ceil(b / bw - c)) for b, c in zip(phase_bytes, phase_cycles) if c > 0 or b > 0)
    epi = math.ceil(end_bytes / bw + max(0.0, earlier_bytes / bw - last_step) - 1e-9)
    return stall, math.ceil(pro_bytes / bw), max(epi, 0)


def _timing(code, geo, groups, arrays, pipelined, caps, traffic, ch, if_distinct, cc, bw):
    """(stall, prologue, epilogue cycles, channel bytes, peak bytes/cycle) from per-phase channel bytes."""
    sr, sc, t, rows, cols = geo
    a_if, a_fl, final, spill, back, first, free = traffic
    nr, nc = -(-sr // rows), -(-sc // cols)
    steps = -(-groups * nr * nc // arrays)
    per_phase = [groups * (a_if[i] * ch["ifmap"] + a_fl[i] * ch["filter"] + final[i] * ch["ofmap"]
                           + (spill[i] + back[i]) * ch["psum"]) for i in (0, 1)]
    pro = _lead_bytes(code, nr, nc, groups, arrays, caps, first, (a_if, a_fl), ch, if_distinct,
                      (sr * t, t * sc) if code == DF_OS else ((t * sr, sr * sc) if code == DF_WS else (sr * sc, sr * t)))
    last_n = groups * nr * nc - (steps - 1) * arrays   # folds of the last step: their write-backs wait for nothing
    at_end, earlier = _epilogue_writes(code, sr, sc, t, rows, cols, last_n, free)
    free_b = [w * ch[key] for w, _, key in at_end + earlier]
    per_phase = [per_phase[0] - pro[0], per_phase[1] - pro[1]]
    for (w, phase, key) in at_end + earlier:
        per_phase[phase] -= w * ch[key]
    phase_cycles = [cc * nr / (nr * nc), cc * (nr * nc - nr) / (nr * nc)]
    # the first fold's fill (L - P cycles longer than a pipelined fold) can only hide the next step's loads
    per_step = per_phase[0] / max(1.0, groups * nr / arrays)
    period = fold_period(code, t, rows, cols, pipelined)
    if bw and per_phase[0] > 0:
        phase_cycles[0] -= max(0.0, fold_len(code, t, rows, cols) - max(period, per_step / bw))
    last_step = (period if steps > 1 else fold_len(code, t, rows, cols)) - 1
    stall, pro_c, epi = _stalls(per_phase, phase_cycles, sum(pro), sum(free_b[:len(at_end)]),
                                sum(free_b[len(at_end):]), last_step, bw)
    chan = sum(per_phase) + sum(pro) + sum(free_b)
    return stall, pro_c, epi, chan, max(b / max(c, 1) for b, c in zip(per_phase, phase_cycles))


def systolic_equations(m: int, k: int, n: int, *, rows: int, cols: int, dataflow: str,
                       ifmap_sram_bytes: float = 64 * KIB, filter_sram_bytes: float = 64 * KIB,
                       ofmap_sram_bytes: float = 64 * KIB, word_bytes: float = 1,
                       dram_bw_bytes_per_cycle: float | None = None, groups: int = 1, arrays: int = 1,
                       fold_pipelining: bool = False, operand_bytes: Mapping[str, float] | None = None,
                       on_chip: tuple[str, ...] = (), ifmap_distinct_words: int | None = None) -> SystolicSimResult:
    """Closed-form twin of ``simulate_gemm(..., mode="physical")`` (same parameters and units).

    ``ifmap_distinct_words`` (convolutions): distinct ifmap words, fetched once when they fit the ifmap SRAM
    (default ``m * k``, a GEMM); when they do not, the im2col words are an upper bound on the refetches.

    >>> r = systolic_equations(512, 4096, 4096, rows=128, cols=128, dataflow="ws")
    >>> r.compute_cycles, r.dram_reads["ifmap"], r.dram_writes["ofmap"]
    (915455, 67108864, 67108864)
    """
    df = parse_dataflow(dataflow)
    code = df_code(df)
    eb = _operand_bytes(word_bytes, operand_bytes)
    sr, sc, t = fold_dims(code, m, k, n)
    nr, nc = -(-sr // rows), -(-sc // cols)
    caps = sram_words((ifmap_sram_bytes, filter_sram_bytes, ofmap_sram_bytes), eb)
    a_if, a_fl, final, spill, back, first, free = _traffic(code, sr, sc, t, rows, cols, caps,
                                                           ifmap_distinct_words or m * k)
    ch = {key: (0.0 if key in on_chip or (key == "psum" and "ofmap" in on_chip) else eb[key]) for key in eb}
    cc = compute_cycles(m, k, n, rows, cols, df, groups, arrays, fold_pipelining)
    traffic = (a_if, a_fl, final, spill, back, first, free)
    stall, pro_c, epi, chan, bw_need = _timing(code, (sr, sc, t, rows, cols), groups, arrays, fold_pipelining, caps,
                                               traffic, ch, ifmap_distinct_words or m * k, cc, dram_bw_bytes_per_cycle)
    dram = [groups * sum(x) for x in (a_if, a_fl, final, spill, back)]
    if df.value == "os":
        of_sram_w = of_sram_r = groups * sr * sc
    else:
        of_sram_w = groups * nr * sc * t + dram[4]
        of_sram_r = groups * (nr - 1) * sc * t + dram[2] + dram[3]
    arr_if = sr * sc if code == DF_IS else t * sr * nc
    arr_fl = sr * sc if code == DF_WS else (t * sr * nc if code == DF_IS else t * sc * nr)
    total = cc + stall
    span = fold_len(code, t, rows, cols) + (0 if code == DF_OS else cols - 1)
    return SystolicSimResult(
        m=m, k=k, n=n, rows=rows, cols=cols, dataflow=df.value, mode=CountingMode.PHYSICAL.value,
        fidelity="analytical", word_bytes=word_bytes, dram_bw_bytes_per_cycle=dram_bw_bytes_per_cycle,
        row_folds=nr, col_folds=nc, compute_cycles=cc, stall_cycles=stall, total_cycles=total,
        total_cycles_incl_prefetch=total + pro_c + epi, macs=groups * m * k * n,
        utilization=groups * m * k * n / (max(total, 1) * rows * cols * arrays),
        mapping_efficiency=sr * sc / (nr * nc * rows * cols),
        compute_utilization=sr * sc * t / (nr * nc * rows * cols * span),
        sram_reads=per_operand(groups * arr_if, groups * arr_fl, of_sram_r),
        sram_writes=per_operand(dram[0], dram[1], of_sram_w),
        dram_reads=per_operand(dram[0], dram[1], dram[4]), dram_writes=per_operand(ofmap=dram[2] + dram[3]),
        peak_dram_bw_bytes_per_cycle=bw_need, avg_dram_bw_bytes_per_cycle=chan / max(total, 1),
        groups=groups, arrays=arrays, fold_pipelining=fold_pipelining, operand_bytes=eb,
        on_chip=tuple(on_chip),
        notes=("analytical: closed-form fold equations (docs/systolic.md)",
               "stalls and peak bandwidth per phase (first fold column, rest), not per fold"))
