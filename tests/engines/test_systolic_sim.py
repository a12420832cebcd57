"""Systolic simulator: hand-derived tiny cases, invariants (hypothesis) and equations == simulator."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from numba import config
from hypothesis import strategies as st

from hwsim.engines.systolic_equations import compute_cycles, systolic_equations
from hwsim.engines.systolic_sim import simulate_conv, simulate_gemm


def test_ws_4x4_single_fold():
    """M=K=N=4 on a 4x4 weight-stationary array: one fold.

    Cycle 0..3: the four weight rows enter (last row first). Cycle 4+u+r: ifmap row u reaches PE row r
    (skew), so the last ifmap word is read at 4+3+3 = 10. Outputs drain after a 2R-1 = 7 cycle prefix:
    output row u of column c leaves at 7+u+c, the last at 7+3+3 = 13. The fold spans M+2R+C-2 = 14
    cycles (0..13) and SCALE-Sim reports the last index, 13. Every operand word is read from SRAM once
    (16 each), fetched from DRAM once, and each output written once: no reuse is possible or needed.
    """
    for mode in ("physical", "scalesim_compat"):
        r = simulate_gemm(4, 4, 4, rows=4, cols=4, dataflow="ws", mode=mode)
        assert (r.compute_cycles, r.stall_cycles, r.total_cycles) == (13, 0, 13)
        assert dict(r.sram_reads)["ifmap"] == dict(r.sram_reads)["filter"] == 16
        assert dict(r.dram_reads) == {"ifmap": 16, "filter": 16, "ofmap": 0}
        assert dict(r.dram_writes) == {"ifmap": 0, "filter": 0, "ofmap": 16}
        assert r.mapping_efficiency == 1.0 and r.utilization == 64 / (13 * 16)


def test_os_4x4_fold_and_scalesim_write_count():
    """Output stationary, M=K=N=4 on 4x4: fold = K+R+C-2 = 10 cycles, reported 9.

    SCALE-Sim's ofmap SRAM write count adds R+C = 8 per fold to the 16 real writes (24): compat keeps
    it, physical counts 16 array writes.
    """
    c = simulate_gemm(4, 4, 4, rows=4, cols=4, dataflow="os", mode="scalesim_compat")
    p = simulate_gemm(4, 4, 4, rows=4, cols=4, dataflow="os")
    assert c.compute_cycles == p.compute_cycles == 9
    assert c.sram_writes["ofmap"] == 24 and p.sram_writes["ofmap"] == 16


def test_ws_partial_sums_spill_and_read_back():
    """WS, M=8, K=8, N=4 on 4x4: two row folds accumulate into one 8x4 partial-sum tile (32 words).

    With 64 KiB the tile stays in the ofmap SRAM: 32 DRAM writes, 0 reads. With a 31-byte ofmap SRAM
    (half = 15 words < 32, whole ofmap 32 > 31) fold 0 writes 32 partial sums and fold 1 reads them
    back and writes 32 finals: 64 writes, 32 reads. SCALE-Sim writes every fold's partial sums
    (64) and never reads them back (0), whatever the SRAM size.
    """
    keep = simulate_gemm(8, 8, 4, rows=4, cols=4, dataflow="ws")
    spill = simulate_gemm(8, 8, 4, rows=4, cols=4, dataflow="ws", ofmap_sram_bytes=31)
    compat = simulate_gemm(8, 8, 4, rows=4, cols=4, dataflow="ws", mode="scalesim_compat")
    assert (keep.dram_writes["ofmap"], keep.dram_reads["ofmap"]) == (32, 0)
    assert (spill.dram_writes["ofmap"], spill.dram_reads["ofmap"]) == (64, 32)
    assert (compat.dram_writes["ofmap"], compat.dram_reads["ofmap"]) == (64, 0)


def test_ifmap_refetch_when_it_does_not_fit():
    """WS, M=64, K=64, N=64 on 8x8 with 2-byte words: the 4096-word ifmap is reused by all 8 column
    folds. A 64 KiB SRAM (32768 words) holds it: 4096 reads. A 4 KiB SRAM (2048 words) does not:
    each of the 8 column folds refetches it, 8 * 4096 = 32768 reads."""
    big = simulate_gemm(64, 64, 64, rows=8, cols=8, dataflow="ws", word_bytes=2)
    small = simulate_gemm(64, 64, 64, rows=8, cols=8, dataflow="ws", word_bytes=2, ifmap_sram_bytes=4096)
    assert big.dram_reads["ifmap"] == 4096 and small.dram_reads["ifmap"] == 32768
    assert small.dram_reads_bytes["ifmap"] == 65536


def test_conv_physical_counts_distinct_ifmap_words():
    """3x3 conv on a 5x5x2 ifmap: im2col holds 9 pixels x 18 = 162 words but only 50 distinct
    ifmap words exist; with everything resident each is fetched once."""
    r = simulate_conv({"H": 5, "W": 5, "C": 2, "R": 3, "S": 3, "F": 4}, rows=4, cols=4, dataflow="os")
    assert (r.m, r.k, r.n) == (9, 18, 4) and r.dram_reads["ifmap"] == 50
    assert r.sram_reads["ifmap"] == 9 * 18 * 1   # one column fold: every im2col word read once


@pytest.mark.parametrize("kwargs, message", [
    (dict(dataflow="xs"), "unknown dataflow"),
    (dict(dataflow="ws", mode="nope"), "unknown mode"),
    (dict(dataflow="ws", dram_bw_bytes_per_cycle=0), "must be > 0"),
    (dict(dataflow="ws", mode="scalesim_compat", dram_bw_bytes_per_cycle=8), "InterfaceBandwidth: CALC"),
    (dict(dataflow="ws", mode="scalesim_compat", arrays=2), "got arrays"),
    (dict(dataflow="ws", on_chip=("bias",)), "unknown operands"),
    (dict(dataflow="ws", word_bytes=0), "word_bytes must be > 0"),
    (dict(dataflow="ws", ifmap_sram_bytes=float("inf")), "ifmap_sram_bytes must be > 0 and finite, got inf"),
    (dict(dataflow="ws", dram_bw_bytes_per_cycle=float("nan")), "dram_bw_bytes_per_cycle must be > 0 and finite"),
    (dict(dataflow="ws", operand_bytes={"psum": float("inf")}), r"operand_bytes\['psum'\] must be > 0 and finite"),
    (dict(dataflow="os", mode="scalesim_compat", filter_sram_bytes=99), "filter SRAM holds 99 words of 1 B; SCALE-Sim "
                                                                          "needs at least 100"),
    (dict(dataflow="is", mode="scalesim_compat", ofmap_sram_bytes=1), "ofmap SRAM holds 1 words of 1 B; SCALE-Sim "
                                                                        "needs at least 2"),
    (dict(dataflow="ws", mode="scalesim_compat", word_bytes=2, ifmap_sram_bytes=199), "ifmap SRAM holds 99 words of 2 B"),
])
def test_errors_name_the_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        simulate_gemm(4, 4, 4, rows=4, cols=4, **kwargs)


def test_conv_dims_missing_keys_named():
    with pytest.raises(ValueError, match="conv dims: missing R, F; need H, W, C, R, S, F"):
        simulate_conv({"H": 5, "W": 5, "C": 2, "S": 3}, rows=4, cols=4, dataflow="os")


@pytest.mark.parametrize("df", ["os", "ws", "is"])
def test_compat_smallest_srams_run(df):
    """100/100/2 words, the least SCALE-Sim's buffers allow (1 word per read-buffer set; a 1-word drain):
    compute cycles stay the formula's, 10 x 14 x (19+4+4-2) - 1 = 3499 (os), 5 x 14 x (37+8+4-2) - 1 = 3289
    (ws), 5 x 10 x (53+8+4-2) - 1 = 3149 (is), and every word still reaches the array."""
    r = simulate_gemm(37, 19, 53, rows=4, cols=4, dataflow=df, mode="scalesim_compat", ifmap_sram_bytes=100,
                      filter_sram_bytes=100, ofmap_sram_bytes=2)
    assert r.compute_cycles == {"os": 3499, "ws": 3289, "is": 3149}[df] == compute_cycles(37, 19, 53, 4, 4, df)
    assert r.dram_reads["ifmap"] >= 37 * 19 and r.dram_reads["filter"] >= 19 * 53 and r.dram_writes["ofmap"] >= 37 * 53


shapes = st.tuples(st.integers(1, 40), st.integers(1, 40), st.integers(1, 40))
arrays = st.tuples(st.integers(1, 9), st.integers(1, 9))
dataflows = st.sampled_from(["os", "ws", "is"])
srams = st.tuples(*(st.integers(8, 4096),) * 3)


schedules = st.fixed_dictionaries({"groups": st.integers(1, 3), "arrays": st.integers(1, 4),
                                    "fold_pipelining": st.booleans()})


@settings(max_examples=150, deadline=None)
@given(shapes, arrays, dataflows, srams, st.floats(0.05, 64), st.floats(1.01, 8), schedules)
def test_more_bandwidth_never_slower(mkn, rc, df, sram, bw, factor, sched):
    kw = dict(rows=rc[0], cols=rc[1], dataflow=df, ifmap_sram_bytes=sram[0], filter_sram_bytes=sram[1],
              ofmap_sram_bytes=sram[2], word_bytes=2, **sched)
    slow = simulate_gemm(*mkn, dram_bw_bytes_per_cycle=bw, **kw)
    fast = simulate_gemm(*mkn, dram_bw_bytes_per_cycle=bw * factor, **kw)
    assert fast.total_cycles <= slow.total_cycles
    assert fast.total_cycles_incl_prefetch <= slow.total_cycles_incl_prefetch


@settings(max_examples=150, deadline=None)
@given(shapes, arrays, dataflows, srams, schedules)
def test_physical_traffic_at_least_compulsory_and_stall_free_at_peak(mkn, rc, df, sram, sched):
    m, k, n = mkn
    g = sched["groups"]
    kw = dict(rows=rc[0], cols=rc[1], dataflow=df, ifmap_sram_bytes=sram[0], filter_sram_bytes=sram[1],
              ofmap_sram_bytes=sram[2], **sched)
    r = simulate_gemm(m, k, n, **kw)
    assert r.dram_reads["ifmap"] >= g * m * k and r.dram_reads["filter"] >= g * k * n
    assert r.dram_writes["ofmap"] >= g * m * n
    assert r.compute_cycles == compute_cycles(m, k, n, rc[0], rc[1], df, **sched)
    if r.peak_dram_bw_bytes_per_cycle > 0:
        at_peak = simulate_gemm(m, k, n, dram_bw_bytes_per_cycle=r.peak_dram_bw_bytes_per_cycle, **kw)
        assert at_peak.stall_cycles == 0
        below = simulate_gemm(m, k, n, dram_bw_bytes_per_cycle=r.peak_dram_bw_bytes_per_cycle * 0.99, **kw)
        assert below.stall_cycles > 0


@settings(max_examples=60, deadline=None)
@given(shapes, arrays, dataflows)
def test_compat_compute_cycles_match_formula(mkn, rc, df):
    r = simulate_gemm(*mkn, rows=rc[0], cols=rc[1], dataflow=df, mode="scalesim_compat")
    assert r.compute_cycles == compute_cycles(*mkn, rc[0], rc[1], df) and r.stall_cycles == 0


EXACT = ("row_folds", "col_folds", "compute_cycles", "sram_reads", "sram_writes", "dram_reads", "dram_writes",
         "mapping_efficiency", "macs")
GRID = list(itertools.product(
    [(512, 4096, 4096), (512, 4096, 12288), (512, 11008, 4096), (2048, 64, 2048), (4096, 1024, 1024)],
    [(32, 32), (128, 128), (16, 64)], ["os", "ws", "is"], [None, 4, 16, 64, 512],
    [(64, 64, 64), (2048, 2048, 2048)]))
if config.DISABLE_JIT:   # pure-Python kernels: keep the few-fold part of the grid
    GRID = [g for g in GRID if g[1] == (128, 128) and g[0][2] <= 4096][::7]


@pytest.mark.parametrize("mkn, rc, df, bw, kib", GRID)
def test_equations_equal_simulator(mkn, rc, df, bw, kib):
    """Counts exactly equal; total cycles within 5 % (stalls per phase vs per fold)."""
    kw = dict(rows=rc[0], cols=rc[1], dataflow=df, ifmap_sram_bytes=kib[0] * 1024,
              filter_sram_bytes=kib[1] * 1024, ofmap_sram_bytes=kib[2] * 1024, word_bytes=2,
              dram_bw_bytes_per_cycle=bw)
    sim, eq = simulate_gemm(*mkn, **kw), systolic_equations(*mkn, **kw)
    for name in EXACT:
        assert getattr(eq, name) == getattr(sim, name), name
    assert abs(eq.total_cycles - sim.total_cycles) <= 0.05 * sim.total_cycles


@pytest.mark.parametrize("mkn, rc, df, bw", list(itertools.product(
    [(300, 250, 200), (37, 19, 53), (64, 64, 64)], [(8, 8), (32, 32)], ["os", "ws", "is"], [4, 16, 64])))
def test_equations_small_shapes_within_25_percent(mkn, rc, df, bw):
    """Few folds make stalls bursty: the per-phase estimate is looser there (docs/systolic.md)."""
    kw = dict(rows=rc[0], cols=rc[1], dataflow=df, word_bytes=2, dram_bw_bytes_per_cycle=bw)
    sim, eq = simulate_gemm(*mkn, **kw), systolic_equations(*mkn, **kw)
    assert eq.dram_reads == sim.dram_reads and eq.compute_cycles == sim.compute_cycles
    assert abs(eq.total_cycles - sim.total_cycles) <= 0.25 * sim.total_cycles
