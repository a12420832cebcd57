"""The Numba PIM kernel equals its pure-Python twin, and both keep the DRAM rules (hypothesis).

Random small devices (1-2 ranks, 1-3 bank groups, 1-4 banks per group, any gang size that tiles the
bank groups), random timings, random step counts and random host streams, in both MAC modes, blocked and
dual row buffer. Runs unchanged with ``NUMBA_DISABLE_JIT=1`` (the kernel then runs as Python).
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hwsim.engines.pim_kernels import simulate_channel as kernel_channel
from hwsim.engines.pim_params import (S_END_T, S_GBUF_WR, S_HOST_RD, S_HOST_WR, S_PIM_MAC, S_RES_RD,
                                      pack_params)
from hwsim.engines.pim_reference import simulate_channel as twin_channel
from hwsim.engines.pim_timing import DramTiming, MacPlacement, PimOrganization


@st.composite
def devices(draw):
    """A small PimOrganization and DramTiming with every field drawn."""
    ranks, groups, per_group = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.sampled_from([1, 2, 4]))
    per_rank = groups * per_group
    gangs = [g for g in range(1, per_rank + 1)
             if per_rank % g == 0 and (g % per_group == 0 or per_group % g == 0)]
    org = PimOrganization(
        name="random", channels=1, ranks=ranks, bank_groups=groups, banks_per_group=per_group,
        row_bytes=64, column_bytes=16, mac_lanes=8, placement=MacPlacement.BANK,
        gang_act_banks=draw(st.sampled_from(gangs)), gang_act_faw_weight=draw(st.integers(0, 4)),
        dual_row_buffer=draw(st.booleans()), host_queue_depth=draw(st.integers(1, 8)))
    small = lambda lo, hi: draw(st.integers(lo, hi))  # noqa: E731
    t_rp, t_rfc = small(1, 6), small(1, 30)
    timing = DramTiming(
        clock_hz=1e9, tRCD=small(1, 6), tRCDWR=small(1, 6), tRP=t_rp, tRAS=small(1, 10), tCCD_S=small(1, 3),
        tCCD_L=small(1, 4), tRRD_S=small(0, 3), tRRD_L=small(0, 4), tFAW=small(0, 20), tRFC=t_rfc,
        tREFI=t_rfc + t_rp + small(300, 600), tWR=small(0, 4), tRTP=small(0, 3), tWTR_S=small(0, 3),
        tWTR_L=small(0, 3), CL=small(1, 5), CWL=small(1, 4), tRTRS=small(0, 2), burst_cycles=small(1, 3),
        tCCD_PIM=small(1, 3))
    return org, timing


@st.composite
def workloads(draw, banks):
    """Step counts and a host request stream for a channel of ``banks`` banks."""
    n_steps, n_host = draw(st.integers(0, 4)), draw(st.integers(0, 25))
    ints = lambda lo, hi, n: np.array(draw(st.lists(st.integers(lo, hi), min_size=n, max_size=n)),  # noqa: E731
                                      dtype=np.int64)
    steps = ints(0, 3, n_steps), ints(1, 6, n_steps), ints(0, 2, n_steps)
    host = (ints(0, banks - 1, n_host), 100 + ints(0, 3, n_host), ints(0, 1, n_host),
            np.cumsum(ints(0, 12, n_host)))
    return steps, host


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_kernel_equals_twin(data):
    org, timing = data.draw(devices())
    per_bank = data.draw(st.booleans())
    steps, host = data.draw(workloads(org.banks_per_channel))
    params = pack_params(org, timing, per_bank)
    k_stats, k_done = kernel_channel(params, *steps, *host)
    t_stats, t_done = twin_channel(params, *steps, *host)
    assert list(k_stats) == list(t_stats)
    assert list(k_done) == list(t_done)
    assert k_stats[S_END_T] >= 0, "scheduler stalled"


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_rules_hold_on_the_command_log(data):
    """One command per cycle; <= 4 weighted ACTs per rank in any tFAW window; every request served once."""
    org, timing = data.draw(devices())
    per_bank = data.draw(st.booleans())
    (vec, mac, res), host = data.draw(workloads(org.banks_per_channel))
    log: list = []
    stats, done = twin_channel(pack_params(org, timing, per_bank), vec, mac, res, *host, log=log)
    times = [t for t, *_ in log]
    assert times == sorted(times) and len(set(times)) == len(times)
    per_rank = org.bank_groups * org.banks_per_group
    acts = [(t, lo // per_rank, (1 if (who == "host" or per_bank) else org.gang_act_faw_weight))
            for t, who, c, lo, _ in log if c == "ACT"]
    if timing.tFAW:
        for t0, rank, _ in acts:
            window = sum(w for t, r, w in acts if r == rank and t0 <= t < t0 + timing.tFAW)
            assert window <= 4
    assert stats[S_HOST_RD] + stats[S_HOST_WR] == len(host[0])
    assert all(d >= a for d, a in zip(done, host[3]))
    banks = org.banks_per_channel if per_bank else 1
    assert (stats[S_PIM_MAC], stats[S_GBUF_WR], stats[S_RES_RD]) == (
        int(mac.sum()) * banks, int(vec.sum()), int(res.sum()))
