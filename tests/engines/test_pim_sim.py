"""Specs of the command-level PIM model: hand-derived timelines, then behaviour on the cited presets.

The tiny device used by the hand-derived cases (``TINY``/``TT``) has one channel, one rank and a single
bank unless said otherwise; rows are 64 B, columns 16 B, FP16 elements. Its timing, in cycles:
tRCD 3, tRP 2, tRAS 5, tCCD_S 1, tCCD_L 2, tRRD_S 1, tRRD_L 2, tFAW off, tWR 2, tRTP 1, tWTR_S 1,
CL 2, CWL 1, tRTRS 1, burst 1, tCCD_PIM 2, tREFI 10000 (no refresh) unless replaced.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from hwsim.engines.pim_equations import gemv_equations
from hwsim.engines.pim_layout import gemv_steps, host_requests
from hwsim.engines.pim_kernels import simulate_channel as kernel_channel
from hwsim.engines.pim_params import STAT_NAMES, pack_params
from hwsim.engines.pim_reference import simulate_channel as reference_channel
from hwsim.engines.pim_sim import simulate_gemv
from hwsim.engines.pim_timing import (HBM2_NEUPIMS, HBM2_NEUPIMS_TIMING, HBM2_NEWTON, DramTiming,
                                      MacPlacement, PimOrganization, peak_external_bandwidth_Bps,
                                      peak_internal_bandwidth_Bps)

TT = DramTiming(clock_hz=1e9, tRCD=3, tRCDWR=3, tRP=2, tRAS=5, tCCD_S=1, tCCD_L=2, tRRD_S=1, tRRD_L=2,
                tFAW=0, tRFC=20, tREFI=10000, tWR=2, tRTP=1, tWTR_S=1, tWTR_L=2, CL=2, CWL=1, tRTRS=1,
                burst_cycles=1, tCCD_PIM=2)
TINY = PimOrganization(name="tiny", channels=1, ranks=1, bank_groups=1, banks_per_group=1, row_bytes=64,
                       column_bytes=16, mac_lanes=8, placement=MacPlacement.BANK, gang_act_banks=1,
                       gang_act_faw_weight=1, dual_row_buffer=False)
NONE = np.zeros(0, dtype=np.int64)


def _a(*xs):
    return np.array(xs, dtype=np.int64)


def _twin(org, timing, vec, mac, res, per_bank=False, host=(NONE, NONE, NONE, NONE)):
    """Run the pure-Python twin with a command log; returns (stats by name, log, host done cycles)."""
    log: list = []
    stats, done = reference_channel(pack_params(org, timing, per_bank), vec, mac, res, *host, log=log)
    return dict(zip(STAT_NAMES, stats)), log, done


def test_one_bank_two_rows_timeline():
    """A 2 x 32 FP16 GEMV on one bank: 2 DRAM rows (steps), 4 columns each, vector written once.

    Layout: 32 elements = 64 B = one row, so row i of W is DRAM row i; columns = 64 / 16 = 4; the vector
    (64 B) is 4 global-buffer writes before step 0; one 16-B result read per step.
    Step 0: GWR at 0, 1, 2, 3 (one column slot each); ACT at 4 (bus); MACs at 4+tRCD = 7, then every
    tCCD_PIM: 9, 11, 13; RES at 13 + gap_s = 14 (data back at 14 + CL + burst = 17); PRE at
    max(ACT + tRAS = 9, MAC + tRTP = 14, bus 15) = 15.
    Step 1: ACT at PRE + tRP = 17; MACs 20, 22, 24, 26; RES 27 (done 30); PRE 28.
    """
    stats, log, _ = _twin(TINY, TT, _a(4, 0), _a(4, 4), _a(1, 1))
    assert [(t, c) for t, _, c, _, _ in log] == [
        (0, "GWR"), (1, "GWR"), (2, "GWR"), (3, "GWR"), (4, "ACT"), (7, "MAC"), (9, "MAC"), (11, "MAC"),
        (13, "MAC"), (14, "RES"), (15, "PRE"), (17, "ACT"), (20, "MAC"), (22, "MAC"), (24, "MAC"),
        (26, "MAC"), (27, "RES"), (28, "PRE")]
    assert stats["pim_done_cycle"] == 30
    steps = gemv_steps(2, 32, 2, TINY, "all_bank")
    assert steps.vec_writes.tolist() == [4, 0] and steps.mac_cmds.tolist() == [4, 4]
    result = simulate_gemv(2, 32, 2, TINY, TT)  # the Numba kernel through the public API
    assert (result.pim_cycles, result.actions.bank_activations, result.pim_row_hits) == (30, 2, 6)


def test_refresh_closes_the_row_and_costs_trfc():
    """tREFI = 12, tRFC = 4, one step of 4 MACs.

    GWR 0..3, ACT 4, MACs 7, 9, 11; the MAC due at 13 is past tREFI = 12, so refresh first:
    PREA at max(12, MAC 11 + tRTP) = 12, REF at PREA + tRP = 14, rows usable again at REF + tRFC = 18.
    PIM re-opens its row: ACT 18, last MAC 21, RES 22 (done 25), PRE 23. Without the refresh the last
    MAC is at 13 and the GEMV ends at 17; with it the last MAC is at 12 + tRP + tRFC + tRCD = 21.
    """
    stats, log, _ = _twin(TINY, replace(TT, tREFI=12, tRFC=4), _a(4), _a(4), _a(1))
    assert [(t, who, c) for t, who, c, _, _ in log][8:] == [
        (12, "ref", "PREA"), (14, "ref", "REF"), (18, "pim", "ACT"), (21, "pim", "MAC"),
        (22, "pim", "RES"), (23, "pim", "PRE")]
    assert (stats["pim_done_cycle"], stats["ref_cmds"], stats["pim_act_cmds"]) == (25, 1, 2)
    assert _twin(TINY, TT, _a(4), _a(4), _a(1))[0]["pim_done_cycle"] == 17


def test_refresh_count_follows_trefi():
    """Long GEMV on the NeuPIMs preset: one REF per tREFI elapsed (+-1 at the ends)."""
    r = simulate_gemv(4096, 4096, 2, HBM2_NEUPIMS, HBM2_NEUPIMS_TIMING, mode="per_bank", channels=1)
    expected = r.cycles / HBM2_NEUPIMS_TIMING.tREFI
    assert abs(r.actions.refresh_commands - expected) <= 1


def test_tfaw_allows_four_activations():
    """Per-bank mode on 8 banks (2 bank groups x 4), tFAW = 20, tRRD_S = tRRD_L = 1, 2 MACs per bank.

    ACT b0 at 0, b1 at 1, b2 at 2; at 3 b0's first MAC (tRCD met) ties with ACT b3 and the lower bank
    wins, so b3 opens at 4. The fifth ACT must wait for the window of the first: 0 + tFAW = 20; then
    b5 at 1 + 20 = 21, b6 at 2 + 20 = 22, b7 at 4 + 20 = 24.
    """
    org = replace(TINY, bank_groups=2, banks_per_group=4)
    _, log, _ = _twin(org, replace(TT, tFAW=20, tRRD_L=1), _a(0), _a(2), _a(1), per_bank=True)
    assert [t for t, _, c, _, _ in log if c == "ACT"] == [0, 1, 2, 4, 20, 21, 22, 24]


def test_gang_act_fills_the_faw_window_neupims():
    """NeuPIMs G_ACT opens a bank group (4 banks) and costs a whole tFAW window (weight 4).

    32 banks = 2 ranks x 4 gangs; ranks alternate on the bus: rank 0 at 0, 30, 60, 90 and rank 1 at
    1, 31, 61, 91. First MAC at 91 + tRCD = 105, 16 MACs 2 apart (last 135), result read at 137,
    data back at 137 + CL 14 + burst 2 = 153.
    """
    stats, log, _ = _twin(HBM2_NEUPIMS, HBM2_NEUPIMS_TIMING, _a(0), _a(16), _a(1))
    assert [t for t, _, c, _, _ in log if c == "ACT"] == [0, 1, 30, 31, 60, 61, 90, 91]
    assert stats["pim_done_cycle"] == 153
    weighted = [t for t, _, c, lo, _ in log if c == "ACT" and lo < 16]  # rank 0: each fills the window
    assert all(b - a >= HBM2_NEUPIMS_TIMING.tFAW for a, b in zip(weighted, weighted[1:]))


@pytest.mark.parametrize("groups, banks, timeline", [
    (2, 1, [(0, "ACT", 0), (1, "ACT", 1), (3, "RD", 0), (4, "RD", 1), (5, "RD", 0), (6, "RD", 1)]),
    (1, 2, [(0, "ACT", 0), (2, "ACT", 1), (3, "RD", 0), (5, "RD", 0), (7, "RD", 1), (9, "RD", 1)]),
])
def test_host_reads_tccd_and_trrd_short_and_long(groups, banks, timeline):
    """Four host reads arriving at 0 (row 5 of bank 0 twice, then of bank 1 twice); no PIM work.
    tRRD_S 1, tRRD_L 2, tCCD_S 1 (gap_s 1), tCCD_L 2 (gap_l 2), tRCD 3.

    Two bank groups of one bank: ACT b0 at 0, ACT b1 at 0 + tRRD_S = 1; RD b0 at 0 + tRCD = 3; then b1's
    RD is legal at max(1 + tRCD, 3 + gap_s) = 4 before b0's row hit at 3 + gap_l = 5; b1's hit at 4 + gap_l
    = 6. Data at RD + CL 2 + burst 1: 6, 8, 7, 9 (requests in arrival order).
    One bank group of two banks: ACT b1 waits tRRD_L (2); every RD is in the same group, gap_l apart:
    3, then b0's hit and b1's first RD tie at 5 (the oldest goes), then 7, 9. Data at 6, 8, 10, 12.
    """
    org = replace(TINY, bank_groups=groups, banks_per_group=banks)
    host = (_a(0, 0, 1, 1), _a(5, 5, 5, 5), _a(0, 0, 0, 0), _a(0, 0, 0, 0))
    stats, log, done = _twin(org, TT, NONE, NONE, NONE, host=host)
    assert [(t, c, lo) for t, _, c, lo, _ in log] == timeline
    assert list(done) == ([6, 8, 7, 9] if groups == 2 else [6, 8, 10, 12])
    assert (stats["host_row_misses"], stats["host_row_hits"]) == (2, 2)
    k_stats, k_done = kernel_channel(pack_params(org, TT, False), NONE, NONE, NONE, *host)  # the Numba kernel
    assert list(k_done) == list(done) and dict(zip(STAT_NAMES, k_stats)) == stats


def test_blocked_mode_timeline_with_one_host_read():
    """Blocked (one row buffer): one host read of row 99 arrives at 0, PIM has 1 step of 2 MACs.

    The step's gate drains requests that arrived by PIM's last command (cycle 0): host ACT 0, RD at
    0 + tRCD = 3 (data at 6). PIM must close the host row: PRE at max(ACT + tRAS, RD + tRTP) = 5,
    ACT 7, MACs 10, 12, RES 13 (done 16), PRE 14.
    """
    host = (_a(0), _a(99), _a(0), _a(0))
    stats, log, done = _twin(TINY, TT, _a(0), _a(2), _a(1), host=host)
    assert [(t, who, c) for t, who, c, _, _ in log] == [
        (0, "host", "ACT"), (3, "host", "RD"), (5, "pim", "PRE"), (7, "pim", "ACT"), (10, "pim", "MAC"),
        (12, "pim", "MAC"), (13, "pim", "RES"), (14, "pim", "PRE")]
    assert (stats["pim_done_cycle"], stats["pim_conflict_pres"], list(done)) == (16, 1, [6])


def test_dual_row_buffer_timeline_with_one_host_read():
    """Same traffic with dual row buffers: host and PIM share the command bus and the column slots.

    PIM ACT 0 (wins the tie); host ACT at tRRD_L = 2; PIM MACs at tRCD = 3 and 5; the host RD (ready
    at ACT + tRCD = 5) ties PIM's MAC at 5, then PIM's RES at 6 (MAC + gap_s) and PIM's PRE at 7
    (bus), losing each tie; it issues at 8 (data at 8 + CL + burst = 11). PIM is done at 6 + 3 = 9.
    """
    host = (_a(0), _a(99), _a(0), _a(0))
    stats, log, done = _twin(replace(TINY, dual_row_buffer=True), TT, _a(0), _a(2), _a(1), host=host)
    assert [(t, who, c) for t, who, c, _, _ in log] == [
        (0, "pim", "ACT"), (2, "host", "ACT"), (3, "pim", "MAC"), (5, "pim", "MAC"), (6, "pim", "RES"),
        (7, "pim", "PRE"), (8, "host", "RD")]
    assert (stats["pim_done_cycle"], stats["pim_conflict_pres"], list(done)) == (9, 0, [11])


def test_blocked_mode_never_interleaves_host_into_a_step():
    """Newton (blocked): no host command between a PIM step's first ACT and its PREA."""
    steps = gemv_steps(96, 1024, 2, HBM2_NEWTON, "all_bank")
    h = host_requests(400, HBM2_NEWTON, "random", 0.25, interval_cycles=7, seed=3)
    stats, log, _ = _twin(HBM2_NEWTON, HBM2_NEUPIMS_TIMING, steps.vec_writes, steps.mac_cmds,
                          steps.res_reads, host=(h.bank, h.row, h.is_write, h.arrival))
    holding = False
    for _, who, command, lo, hi in log:
        if who == "pim" and command == "ACT":
            holding = True
        elif who == "pim" and command == "PRE" and (lo, hi) == (0, HBM2_NEWTON.banks_per_channel):
            holding = False
        assert not (holding and who == "host")
    assert stats["pim_conflict_pres"] > 0 and stats["host_reads"] + stats["host_writes"] == 400


def test_dual_row_buffer_beats_blocked_under_host_traffic():
    """Same GEMV and host stream: dual row buffers finish PIM sooner and serve the host faster."""
    kw = dict(host_bytes=32 * 64 * 512, host_interval_cycles=8, host_pattern="stream")
    alone = simulate_gemv(4096, 4096, 2, HBM2_NEUPIMS, HBM2_NEUPIMS_TIMING)
    dual = simulate_gemv(4096, 4096, 2, HBM2_NEUPIMS, HBM2_NEUPIMS_TIMING, **kw)
    blocked = simulate_gemv(4096, 4096, 2, HBM2_NEWTON, HBM2_NEUPIMS_TIMING, **kw)
    assert alone.pim_cycles <= dual.pim_cycles < blocked.pim_cycles
    assert dual.host_latency_mean_s < blocked.host_latency_mean_s
    assert dual.pim_conflict_precharges == 0 < blocked.pim_conflict_precharges
    assert dual.host_bytes == blocked.host_bytes == kw["host_bytes"]


def test_all_bank_beats_per_bank_by_bank_parallelism():
    """With rows reused (batch 32) ACT overhead is amortised: the speed-up nears banks x gap_s / tCCD_PIM.

    NeuPIMs: 32 banks per channel, gap_s = 2, tCCD_PIM = 2, so the column-bound ratio is 32; per-vector
    result reads and gang ACTs keep all-bank mode a little short of it.
    """
    t = HBM2_NEUPIMS_TIMING
    ab = simulate_gemv(32768, 512, 2, HBM2_NEUPIMS, t, batch=32)
    pb = simulate_gemv(32768, 512, 2, HBM2_NEUPIMS, t, batch=32, mode="per_bank")
    ideal = HBM2_NEUPIMS.banks_per_channel * t.col_gap_s / t.tCCD_PIM
    assert 0.75 * ideal <= pb.pim_cycles / ab.pim_cycles <= ideal
    single = simulate_gemv(4096, 4096, 2, HBM2_NEUPIMS, t)  # batch 1: tFAW-bound gang ACTs dominate
    assert single.pim_cycles < simulate_gemv(4096, 4096, 2, HBM2_NEUPIMS, t, mode="per_bank").pim_cycles


def test_internal_bandwidth_rises_with_row_reuse_towards_peak():
    """Longer MAC trains per opened row raise the bank-to-MAC bandwidth; it never exceeds the peak.

    The asymptote is below the peak: each vector adds one result read per step and its global-buffer
    writes, which also grow with the batch.
    """
    peak = peak_internal_bandwidth_Bps(HBM2_NEUPIMS, HBM2_NEUPIMS_TIMING)
    bw = [simulate_gemv(32768, 512, 2, HBM2_NEUPIMS, HBM2_NEUPIMS_TIMING, batch=b).internal_bandwidth_Bps
          for b in (1, 4, 16, 64)]
    assert bw == sorted(bw) and 0.75 * peak <= bw[-1] <= peak


@pytest.mark.parametrize("rows, cols, batch", [(2048, 4096, 1), (1024, 512, 3), (32 * 32 * 4, 256, 2)])
def test_mac_bytes_equal_matrix_bytes_when_the_layout_divides(rows, cols, batch):
    """Conservation: bytes read by MAC commands == matrix bytes x batch; lane ops == MACs."""
    r = simulate_gemv(rows, cols, 2, HBM2_NEUPIMS, HBM2_NEUPIMS_TIMING, batch=batch)
    assert r.actions.pim_internal_bits // 8 == r.matrix_bytes * batch
    assert r.actions.mac_lane_ops == r.actions.macs == rows * cols * batch


@pytest.mark.parametrize("rows, cols", [(1, 1), (33, 77), (1000, 3000), (5, 4096)])
def test_mac_bytes_cover_the_matrix_otherwise(rows, cols):
    """Padding only adds: issued lane ops >= useful MACs; every result and vector element moves."""
    r = simulate_gemv(rows, cols, 2, HBM2_NEUPIMS, HBM2_NEUPIMS_TIMING)
    assert r.actions.mac_lane_ops >= r.actions.macs == rows * cols
    assert r.actions.gbuf_writes * HBM2_NEUPIMS.column_bytes >= cols * 2 * min(rows, HBM2_NEUPIMS.channels)
    assert r.pim_cycles >= r.actions.pim_mac_commands / r.channels * HBM2_NEUPIMS_TIMING.tCCD_PIM


def test_host_only_stream_and_random_bandwidth():
    """Host traffic alone: streaming hits open rows and nears the external peak; random pays PRE + ACT."""
    peak = peak_external_bandwidth_Bps(HBM2_NEUPIMS, HBM2_NEUPIMS_TIMING) / HBM2_NEUPIMS.channels
    kw = dict(host_bytes=64 * 4096, channels=1)
    stream = simulate_gemv(1, 1, 2, HBM2_NEUPIMS, HBM2_NEUPIMS_TIMING, **kw)
    rand = simulate_gemv(1, 1, 2, HBM2_NEUPIMS, HBM2_NEUPIMS_TIMING, host_pattern="random", **kw)
    assert stream.host_bandwidth_Bps >= 0.85 * peak
    assert stream.host_row_hits >= 0.9 * 4096 and rand.host_row_hits < 0.1 * 4096
    assert rand.host_bandwidth_Bps < 0.75 * stream.host_bandwidth_Bps


@pytest.mark.parametrize("preset", ["HBM2_NEUPIMS", "HBM2_PIM_AQUABOLT", "GDDR6_AIM"])
@pytest.mark.parametrize("mode", ["all_bank", "per_bank"])
def test_equations_match_simulator_within_5_percent(preset, mode):
    """The closed form of pim_equations stays within 5% of the command-level simulator (no host)."""
    from hwsim.engines.pim_timing import PRESETS
    org, timing = PRESETS[preset]
    for rows, cols, batch in [(64, 128, 1), (1000, 1000, 1), (4096, 4096, 1), (4096, 1000, 4)]:
        sim = simulate_gemv(rows, cols, 2, org, timing, mode=mode, batch=batch)
        eq = gemv_equations(rows, cols, 2, org, timing, mode=mode, batch=batch)
        assert abs(eq.cycles / sim.pim_cycles - 1) <= 0.05, (rows, cols, batch, eq.cycles, sim.pim_cycles)
        assert eq.pim_mac_commands == sim.actions.pim_mac_commands


def test_errors_name_the_value_and_the_limit():
    with pytest.raises(ValueError, match="rows must be an int >= 1, got 0"):
        simulate_gemv(0, 8, 2, HBM2_NEUPIMS, HBM2_NEUPIMS_TIMING)
    with pytest.raises(ValueError, match=r"channels must be in 1\.\.32 .* got 33"):
        simulate_gemv(8, 8, 2, HBM2_NEUPIMS, HBM2_NEUPIMS_TIMING, channels=33)
    with pytest.raises(ValueError, match="'diagonal' is not a valid PimMode"):
        simulate_gemv(8, 8, 2, HBM2_NEUPIMS, HBM2_NEUPIMS_TIMING, mode="diagonal")


def test_refresh_livelock_is_reported():
    """tREFI 23 with tRFC 20: after REF + tRFC the row opens but tRCD pushes the MAC past the next
    refresh, forever. The scheduler stops after MAX_IDLE_REFRESHES refreshes without a column command."""
    with pytest.raises(RuntimeError, match="no progress across refreshes"):
        simulate_gemv(2, 32, 2, TINY, replace(TT, tRFC=20, tREFI=23))
