"""Public API of the systolic-array simulator: :func:`simulate_gemm` and :func:`simulate_conv`.

Two counting modes share one fold schedule (SCALE-Sim v3's, so compute cycles are identical):

* ``mode="physical"`` (default): double-buffered ifmap/filter/ofmap SRAMs hold tiles; a tile is
  fetched again only when it cannot still be resident, partial sums stay in the ofmap SRAM when they
  fit and are spilled *and read back* when they do not, and a DRAM channel of the given bandwidth
  serves the next fold's reads and the previous fold's writes while a fold computes.
* ``mode="scalesim_compat"``: a cycle-exact replay of SCALE-Sim v3 with ``InterfaceBandwidth: CALC``;
  every SRAM/DRAM count, start/stop cycle and percentage equals its reports (tests/golden/scalesim).

See docs/systolic.md for the equations and the side-by-side differences.
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np

from hwsim.arch.components import Dataflow
from hwsim.engines.scalesim_io import compat_report
from hwsim.engines.systolic_compat import compat_walk
from hwsim.engines.systolic_equations import df_code, fold_dims, fold_len, sram_words, tile_roles
from hwsim.engines.systolic_kernels import ifmap_tile_words, ofmap_dims, physical_walk
from hwsim.engines.systolic_result import (OPERANDS, CountingMode, SystolicInputError, SystolicSimResult,
                                           operand_bytes as _operand_bytes, parse_dataflow, per_operand)
from hwsim.workload.ops import FrozenDict

KIB = 1024


def _check(**values) -> None:
    for name, v in values.items():
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
            raise SystolicInputError(f"{name} must be a positive integer, got {v!r}")


def _check_positive(**values) -> None:
    for name, v in values.items():
        if isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or not 0 < v < math.inf:
            raise SystolicInputError(f"{name} must be > 0 and finite, got {v!r}")


# SCALE-Sim's CALC read buffers (read_buffer_estimate_bw.py) split the ifmap and filter SRAMs into 100 sets of
# floor(words / 100) words, and its write buffer drains half the ofmap SRAM at a time: below these sizes
# SCALE-Sim has no defined behaviour (its .cfg sizes are whole KiB, >= 1024 words, anyway).
COMPAT_MIN_WORDS = {"ifmap": 100, "filter": 100, "ofmap": 2}


def _check_compat_words(words: tuple[int, int, int], word_bytes: float) -> None:
    for (name, least), have in zip(COMPAT_MIN_WORDS.items(), words):
        if have < least:
            raise SystolicInputError(
                f"mode='scalesim_compat': the {name} SRAM holds {have} words of {word_bytes:g} B; SCALE-Sim needs "
                f"at least {least} ({'100 read-buffer sets' if least == 100 else 'a half-buffer drain'})")


def _check_options(bw, mode, groups, arrays, pipelined, op_bytes, on_chip) -> None:
    if bw is not None:
        _check_positive(dram_bw_bytes_per_cycle=bw)
    _check(groups=groups, arrays=arrays)
    bad = set(on_chip) - set(OPERANDS)
    if bad:
        raise SystolicInputError(f"on_chip: unknown operands {sorted(bad)}; allowed: {', '.join(OPERANDS)}")
    if mode is CountingMode.SCALESIM_COMPAT:
        extra = {"dram_bw_bytes_per_cycle": bw, "groups": groups != 1, "arrays": arrays != 1,
                 "fold_pipelining": pipelined, "operand_bytes": op_bytes, "on_chip": tuple(on_chip)}
        used = [k for k, v in extra.items() if v]
        if used:
            raise SystolicInputError(f"mode='scalesim_compat' replays SCALE-Sim v3 (InterfaceBandwidth: CALC, one "
                                     f"array, one GEMM, serial folds, one word size); got {', '.join(used)}")


def simulate_gemm(m: int, k: int, n: int, *, rows: int, cols: int, dataflow: str | Dataflow,
                  ifmap_sram_bytes: float = 64 * KIB, filter_sram_bytes: float = 64 * KIB,
                  ofmap_sram_bytes: float = 64 * KIB, word_bytes: float = 1,
                  dram_bw_bytes_per_cycle: float | None = None, mode: str | CountingMode = "physical",
                  groups: int = 1, arrays: int = 1, fold_pipelining: bool = False,
                  operand_bytes: Mapping[str, float] | None = None, on_chip: tuple[str, ...] = ()
                  ) -> SystolicSimResult:
    """Simulate ``x[M,K] @ W[K,N]`` on a ``rows x cols`` systolic array.

    Parameters
    ----------
    m, k, n : int
        GEMM dimensions (SCALE-Sim topology ``M, N, K``: ofmap rows, filters, window).
    rows, cols : int
        Array height and width in PEs.
    dataflow : {"os", "ws", "is"}
    ifmap_sram_bytes, filter_sram_bytes, ofmap_sram_bytes : float
        Capacity of each double-buffered SRAM in bytes (SCALE-Sim default 64 KiB each), shared by the arrays.
    word_bytes : float
        Bytes per operand element (SCALE-Sim: 1); ``operand_bytes`` overrides it per operand.
    dram_bw_bytes_per_cycle : float or None
        DRAM bandwidth in bytes/cycle; None = SCALE-Sim's CALC (no stalls; the needed bandwidth is
        reported as ``peak_dram_bw_bytes_per_cycle``).
    mode : {"physical", "scalesim_compat"}
    groups : int
        Independent GEMMs of this shape run back to back (attention heads, MoE experts). Physical only.
    arrays : int
        Identical arrays the folds of all groups are dealt to round-robin. Physical only.
    fold_pipelining : bool
        Load the next fold's stationary operand while this one streams: after the first fold, each fold
        costs ``max(T, R)`` cycles. Physical only (SCALE-Sim runs folds serially).
    operand_bytes : mapping, optional
        Bytes per element by ``ifmap``, ``filter``, ``ofmap`` (final outputs) and ``psum`` (partial sums);
        fractional values carry scales and sparse metadata. Physical only.
    on_chip : tuple of {"ifmap", "filter", "ofmap"}
        Operands whose backing store is on chip: their transfers are counted but do not use the DRAM channel
        (an ``ofmap`` on chip takes its partial-sum spills with it). Physical only.

    Returns
    -------
    SystolicSimResult

    Examples
    --------
    >>> r = simulate_gemm(4, 4, 4, rows=4, cols=4, dataflow="ws")
    >>> r.compute_cycles, r.stall_cycles, dict(r.dram_reads)
    (13, 0, {'ifmap': 16, 'filter': 16, 'ofmap': 0})
    >>> r = simulate_gemm(1, 4096, 4096, rows=128, cols=128, dataflow="ws", arrays=4, fold_pipelining=True,
    ...                   word_bytes=2, dram_bw_bytes_per_cycle=819.2)   # 32 MiB of weights / 819.2 B = 40960
    >>> r.compute_cycles, r.total_cycles_incl_prefetch
    (33022, 41355)
    """
    _check(m=m, k=k, n=n)
    return _simulate(parse_dataflow(dataflow), (1, m, k, 1, 1, k, n, 1), (m, 1), (m, 1), rows, cols,
                     (ifmap_sram_bytes, filter_sram_bytes, ofmap_sram_bytes), word_bytes,
                     dram_bw_bytes_per_cycle, CountingMode.parse(mode), True,
                     (groups, arrays, bool(fold_pipelining), operand_bytes, tuple(on_chip)))


def simulate_conv(dims: Mapping[str, int], *, rows: int, cols: int, dataflow: str | Dataflow,
                  ifmap_sram_bytes: float = 64 * KIB, filter_sram_bytes: float = 64 * KIB,
                  ofmap_sram_bytes: float = 64 * KIB, word_bytes: float = 1,
                  dram_bw_bytes_per_cycle: float | None = None, mode: str | CountingMode = "physical",
                  groups: int = 1, arrays: int = 1, fold_pipelining: bool = False,
                  operand_bytes: Mapping[str, float] | None = None, on_chip: tuple[str, ...] = ()
                  ) -> SystolicSimResult:
    """Simulate a convolution lowered as SCALE-Sim does (ofmap pixels x window x filters).

    Parameters
    ----------
    dims : mapping
        ``B`` (optional, 1), ``H, W, C`` (ifmap), ``R, S`` (filter), ``F`` (filters), ``stride``
        (optional, 1): the ``Op.dims`` of a CONV2D op. No padding.
    rows, cols, dataflow, ifmap_sram_bytes, filter_sram_bytes, ofmap_sram_bytes, word_bytes,
    dram_bw_bytes_per_cycle, mode, groups, arrays, fold_pipelining, operand_bytes, on_chip
        As in :func:`simulate_gemm`.

    Notes
    -----
    Physical mode uses :func:`hwsim.workload.ops.conv_as_gemm` (ofmap ``(H-R)//stride + 1``) and
    counts distinct ifmap words per tile. Compat mode uses SCALE-Sim's ``ceil((H-R+stride)/stride)``,
    which adds a partial edge window when ``(H-R) % stride != 0`` (its out-of-range elements are
    counted as SRAM reads but never fetched); it has no batch, so ``B`` must be 1.

    Examples
    --------
    >>> r = simulate_conv({"H": 5, "W": 5, "C": 2, "R": 3, "S": 3, "F": 4}, rows=4, cols=4, dataflow="os")
    >>> (r.m, r.k, r.n), r.dram_reads["ifmap"]
    ((9, 18, 4), 50)
    """
    from hwsim.workload.ops import conv_as_gemm

    missing = [key for key in ("H", "W", "C", "R", "S", "F") if key not in dims]
    if missing:
        raise SystolicInputError(f"conv dims: missing {', '.join(missing)}; need H, W, C, R, S, F (B, stride optional)")
    b, h, w, c = dims.get("B", 1), dims["H"], dims["W"], dims["C"]
    fh, fw, f, stride = dims["R"], dims["S"], dims["F"], dims.get("stride", 1)
    _check(B=b, H=h, W=w, C=c, R=fh, S=fw, F=f, stride=stride)
    if fh > h or fw > w:
        raise SystolicInputError(f"filter {fh}x{fw} larger than ifmap {h}x{w}")
    mode = CountingMode.parse(mode)
    if mode is CountingMode.SCALESIM_COMPAT and b != 1:
        raise SystolicInputError(f"scalesim_compat has no batch dimension; got B={b} (use B=1)")
    assert conv_as_gemm(dims)[0] == b * int(np.prod(ofmap_dims(h, w, fh, fw, stride, False)))
    return _simulate(parse_dataflow(dataflow), (b, h, w, c, fh, fw, f, stride),
                     ofmap_dims(h, w, fh, fw, stride, True), ofmap_dims(h, w, fh, fw, stride, False),
                     rows, cols, (ifmap_sram_bytes, filter_sram_bytes, ofmap_sram_bytes), word_bytes,
                     dram_bw_bytes_per_cycle, mode, False,
                     (groups, arrays, bool(fold_pipelining), operand_bytes, tuple(on_chip)))


def _simulate(df, geo, ofmap_compat, ofmap_phys, rows, cols, sram_bytes, word_bytes, bw, mode, gemm, opts):
    _check(rows=rows, cols=cols)
    _check_positive(word_bytes=word_bytes, ifmap_sram_bytes=sram_bytes[0], filter_sram_bytes=sram_bytes[1],
                    ofmap_sram_bytes=sram_bytes[2])
    _check_options(bw, mode, *opts)
    if mode is CountingMode.SCALESIM_COMPAT:
        words = tuple(int(s // word_bytes) for s in sram_bytes)
        _check_compat_words(words, word_bytes)
        return _compat(df, geo, ofmap_compat, rows, cols, words, word_bytes)
    return _physical(df, geo, ofmap_phys, rows, cols, sram_bytes, word_bytes, bw, gemm, opts)


def _compat(df, geo, ofmap, rows, cols, words, word_bytes) -> SystolicSimResult:
    _, h, w, c, fh, fw, f, stride = geo
    oh, ow = ofmap
    m, k = oh * ow, fh * fw * c
    ints, fl = compat_walk(df_code(df), h, w, c, fh, fw, f, stride, oh, ow, rows, cols, *words)
    ints = [int(x) for x in ints]
    report = compat_report(ints, fl, m * k * f, rows, cols, df is Dataflow.OS)
    folds = ints[20]
    ofmap_sram_writes = int(report["SRAM OFMAP Writes"])
    sr, sc, _ = fold_dims(df_code(df), m, k, f)
    total = ints[0]
    dram_r, dram_w = per_operand(ints[5], ints[6]), per_operand(ofmap=ints[7])
    peak = sum(report[f"Avg {x} DRAM BW"] for x in ("IFMAP", "FILTER", "OFMAP")) * word_bytes
    return SystolicSimResult(
        m=m, k=k, n=f, rows=rows, cols=cols, dataflow=df.value, mode=CountingMode.SCALESIM_COMPAT.value,
        fidelity="cycle", word_bytes=word_bytes, dram_bw_bytes_per_cycle=None,
        row_folds=-(-sr // rows), col_folds=-(-sc // cols), compute_cycles=total - ints[1],
        stall_cycles=ints[1], total_cycles=total,
        total_cycles_incl_prefetch=int(report["Total Cycles (incl. prefetch)"]), macs=m * k * f,
        utilization=report["Overall Util %"] / 100, mapping_efficiency=fl[0] / folds,
        compute_utilization=fl[1] / folds,
        sram_reads=per_operand(ints[2], ints[3]), sram_writes=per_operand(ofmap=ofmap_sram_writes),
        dram_reads=dram_r, dram_writes=dram_w, peak_dram_bw_bytes_per_cycle=peak,
        avg_dram_bw_bytes_per_cycle=(sum(dram_r.values()) + sum(dram_w.values())) * word_bytes / max(total, 1),
        scalesim_report=FrozenDict(report),
        notes=("scalesim_compat: cycle-exact replay of SCALE-Sim v3 InterfaceBandwidth CALC",
               "peak_dram_bw = sum of SCALE-Sim's average DRAM bandwidths (it reports no peak)"))


def tile_words(df: Dataflow, geo, ofmap, rows, cols, gemm: bool):
    """Per-tile ifmap and filter words (distinct, and first-touched) in the physical model's tiling."""
    b, h, w, c, fh, fw, f, stride = geo
    code = df_code(df)
    m, k = b * ofmap[0] * ofmap[1], fh * fw * c
    sr, sc, t = fold_dims(code, m, k, f)
    ru = np.minimum(rows, sr - rows * np.arange(-(-sr // rows)))
    cu = np.minimum(cols, sc - cols * np.arange(-(-sc // cols)))
    by_fold = np.outer(cu, ru).ravel()              # index fc * n_fr + fr
    r_if, r_fl = tile_roles(code)
    if gemm:
        if_tile = {0: by_fold, 1: ru * (k if df is Dataflow.OS else m)}[r_if]
        if_new = if_tile
    else:
        if_tile, if_new = ifmap_tile_words(code, b, h, w, c, fh, fw, stride, ofmap[0], ofmap[1], rows, cols)
    fl_tile = {0: by_fold, 1: ru * f, 2: cu * k}[r_fl]
    return (np.ascontiguousarray(if_tile, np.int64), np.ascontiguousarray(if_new, np.int64),
            np.ascontiguousarray(fl_tile, np.int64), (m, k, f), (sr, sc, t), (len(ru), len(cu)))


def _physical(df, geo, ofmap, rows, cols, sram_bytes, word_bytes, bw, gemm, opts) -> SystolicSimResult:
    groups, arrays, pipelined, op_bytes, on_chip = opts
    eb = _operand_bytes(word_bytes, op_bytes)
    caps = sram_words(sram_bytes, eb)
    chan = np.array([0.0 if (key if key != "psum" else "ofmap") in on_chip else eb[key]
                     for key in ("ifmap", "filter", "ofmap", "psum")])
    if_tile, if_new, fl_tile, (m, k, n), (sr, sc, t), (nfr, nfc) = tile_words(df, geo, ofmap, rows, cols, gemm)
    code = df_code(df)
    ints, fl = physical_walk(code, sr, sc, t, rows, cols, if_tile, if_new, fl_tile, fl_tile, *caps, chan,
                             -1.0 if bw is None else float(bw), groups, arrays, pipelined)
    i = [int(x) for x in ints]
    total = i[0] + i[1]
    folds = nfr * nfc
    span = fold_len(code, t, rows, cols) + (0 if df is Dataflow.OS else cols - 1)
    macs = groups * m * k * n
    return SystolicSimResult(
        m=m, k=k, n=n, rows=rows, cols=cols, dataflow=df.value, mode=CountingMode.PHYSICAL.value,
        fidelity="cycle", word_bytes=word_bytes, dram_bw_bytes_per_cycle=bw, row_folds=nfr, col_folds=nfc,
        compute_cycles=i[0], stall_cycles=i[1], total_cycles=total,
        total_cycles_incl_prefetch=total + i[11] + i[12], macs=macs,
        utilization=macs / (max(total, 1) * rows * cols * arrays),
        mapping_efficiency=sr * sc / (folds * rows * cols),
        compute_utilization=sr * sc * t / (folds * rows * cols * span),
        sram_reads=per_operand(i[6], i[7], i[9]), sram_writes=per_operand(i[2], i[3], i[8]),
        dram_reads=per_operand(i[2], i[3], i[4]), dram_writes=per_operand(ofmap=i[5]),
        peak_dram_bw_bytes_per_cycle=float(fl[0]), avg_dram_bw_bytes_per_cycle=float(fl[1]) / max(total, 1),
        groups=groups, arrays=arrays, fold_pipelining=pipelined, operand_bytes=eb, on_chip=on_chip,
        notes=("physical: fold walk, double-buffered tiles, partial sums kept or spilled+read back",
               "stall-free (dram_bw=None)" if bw is None else
               f"DRAM {bw:g} B/cycle: next step's loads first come first served, write-backs by deadline"))


def jit_cache_stats() -> dict[str, int]:
    """Numba on-disk cache hits and misses of the simulator's entry kernels in this process (a second process
    that finds the cache compiles nothing: misses 0)."""
    fns = [physical_walk, compat_walk]
    stats = [getattr(f, "stats", None) for f in fns]
    return {"cache_hits": sum(sum(x.cache_hits.values()) for x in stats if x is not None),
            "cache_misses": sum(sum(x.cache_misses.values()) for x in stats if x is not None)}
