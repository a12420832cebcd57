"""Flat integer encodings shared by the PIM kernel and its pure-Python twin.

The kernel takes one ``int64`` parameter vector and returns one ``int64`` statistics vector; the index of
each entry is a module constant below, so the kernel, the twin and ``pim_sim`` name the same slots.

>>> from hwsim.engines.pim_timing import HBM2_NEUPIMS, HBM2_NEUPIMS_TIMING
>>> p = pack_params(HBM2_NEUPIMS, HBM2_NEUPIMS_TIMING, per_bank=False)
>>> int(p[P_TFAW]), int(p[P_DUAL]), int(p[P_GANG_WEIGHT])
(30, 1, 4)
"""

from __future__ import annotations

import numpy as np

from hwsim.engines.pim_timing import DramTiming, PimOrganization

# --- parameter vector ---------------------------------------------------------------------------
P_RANKS, P_BANK_GROUPS, P_BANKS_PER_GROUP, P_GANG_BANKS, P_GANG_WEIGHT = 0, 1, 2, 3, 4
P_DUAL, P_PER_BANK, P_QUEUE = 5, 6, 7
P_TRCD, P_TRCDWR, P_TRP, P_TRAS, P_TCCD_S, P_TCCD_L, P_TRRD_S, P_TRRD_L = 8, 9, 10, 11, 12, 13, 14, 15
P_TFAW, P_TRFC, P_TREFI, P_TWR, P_TRTP, P_TWTR_S, P_TWTR_L = 16, 17, 18, 19, 20, 21, 22
P_CL, P_CWL, P_TRTRS, P_BURST, P_TCCD_PIM = 23, 24, 25, 26, 27
N_PARAMS = 28

# --- statistics vector --------------------------------------------------------------------------
S_ACT_CMDS, S_BANK_ACTS, S_PRE_CMDS, S_REF_CMDS, S_REF_PRE_CMDS = 0, 1, 2, 3, 4
S_HOST_RD, S_HOST_WR, S_HOST_HIT, S_HOST_MISS, S_HOST_CONFLICT = 5, 6, 7, 8, 9
S_PIM_ACT_CMDS, S_PIM_BANK_ACTS, S_PIM_PRE_CMDS, S_PIM_CONFLICT_PRE = 10, 11, 12, 13
S_PIM_MAC, S_GBUF_WR, S_RES_RD = 14, 15, 16
S_PIM_DONE_T, S_HOST_DONE_T, S_END_T, S_PIM_START_T = 17, 18, 19, 20
N_STATS = 21

STAT_NAMES = ("act_cmds", "bank_activations", "pre_cmds", "ref_cmds", "ref_pre_cmds", "host_reads",
              "host_writes", "host_row_hits", "host_row_misses", "host_row_conflicts", "pim_act_cmds",
              "pim_bank_activations", "pim_pre_cmds", "pim_conflict_pres", "pim_mac_cmds",
              "gbuf_writes", "result_reads", "pim_done_cycle", "host_done_cycle", "end_cycle",
              "pim_start_cycle")

INF = 1 << 62  # "never" in cycle arithmetic


def pack_params(org: PimOrganization, timing: DramTiming, per_bank: bool) -> np.ndarray:
    """Encode organisation, timing and mode as the kernel's ``int64`` parameter vector."""
    p = np.zeros(N_PARAMS, dtype=np.int64)
    p[P_RANKS], p[P_BANK_GROUPS], p[P_BANKS_PER_GROUP] = org.ranks, org.bank_groups, org.banks_per_group
    p[P_GANG_BANKS], p[P_GANG_WEIGHT] = org.gang_act_banks, org.gang_act_faw_weight
    p[P_DUAL], p[P_PER_BANK], p[P_QUEUE] = int(org.dual_row_buffer), int(per_bank), org.host_queue_depth
    t = timing
    for idx, value in ((P_TRCD, t.tRCD), (P_TRCDWR, t.tRCDWR), (P_TRP, t.tRP), (P_TRAS, t.tRAS),
                       (P_TCCD_S, t.tCCD_S), (P_TCCD_L, t.tCCD_L), (P_TRRD_S, t.tRRD_S),
                       (P_TRRD_L, t.tRRD_L), (P_TFAW, t.tFAW), (P_TRFC, t.tRFC), (P_TREFI, t.tREFI),
                       (P_TWR, t.tWR), (P_TRTP, t.tRTP), (P_TWTR_S, t.tWTR_S), (P_TWTR_L, t.tWTR_L),
                       (P_CL, t.CL), (P_CWL, t.CWL), (P_TRTRS, t.tRTRS), (P_BURST, t.burst_cycles),
                       (P_TCCD_PIM, t.tCCD_PIM)):
        p[idx] = value
    return p
