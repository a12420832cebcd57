"""Fused attention on a GPU: FlashAttention-style prefill and split-KV decode (docs/gpu.md, "Attention").

Prefill (``Lq`` > the decode tile): one CTA per (sequence, head, block of ``Bq`` queries) walks the key/value
blocks of ``Bkv`` keys it can see (all of them, or up to the diagonal when causal: block ``i`` of a causal
prompt after ``past`` cached tokens sees ``past + (i+1) Bq`` keys, so the diagonal block is computed whole).
Each (query block, key block) pair costs ``max(2 Bq Bkv D / MMA rate, Bq Bkv / softmax rate)``: FlashAttention-3
and cuDNN's sm90 kernel overlap the softmax of one warpgroup with the matmuls of another, so the slower of the
two sets the pace (the exponential unit bounds head dim 64, the tensor cores head dim 128). CTAs are scheduled
longest first onto the SMs (LPT); a CTA also spends ``attn_cta_fixed_s`` outside its main loop (loading its
query block and the first key block before the pipeline fills, the final rescale and the write of O), and
the call ``attn_fixed_s`` (cuDNN's launch and prologue). Q, K, V are read from HBM once and O written once; K/V blocks are re-read
from L2 by every query block.

Decode (one query per sequence, or a few): bandwidth-bound over the KV cache. The kernel pads the queries to an
MMA tile of ``decode_q_tile`` rows and splits the keys of each (sequence, head) into ``s`` chunks so that the grid
fills the SMs; a reduce kernel then merges the partial softmaxes. ``s`` follows FlashAttention-2's heuristic
(``num_splits_heuristic`` in flash_api.cpp: the fewest splits whose wave efficiency is within 85 % of the best).
"""

from __future__ import annotations

import heapq
import math

from hwsim.engines.gpu_kernel import KernelCost, finish
from hwsim.engines.gpu_params import GpuParams
from hwsim.workload.ops import FLOPS_PER_ELEMENT, DType

MAX_SPLITS = 128
LPT_EXACT_LIMIT = 200_000  # CTAs up to which the longest-first schedule is simulated exactly


def kv_blocks_per_q_block(lq: int, lkv: int, bq: int, bkv: int, causal: bool) -> list[int]:
    """Key blocks each query block visits (the diagonal block counted whole).

    >>> kv_blocks_per_q_block(512, 512, 128, 128, True)
    [1, 2, 3, 4]
    >>> kv_blocks_per_q_block(256, 1024, 128, 128, False)
    [8, 8]
    """
    past = lkv - lq
    out = []
    for i in range(math.ceil(lq / bq)):
        keys = min(lkv, past + (i + 1) * bq) if causal else lkv
        out.append(math.ceil(keys / bkv))
    return out


def lpt_makespan(works: list[float], copies: int, sms: int) -> float:
    """Makespan of ``copies`` x ``works`` jobs (durations) on ``sms`` machines, longest first.

    >>> lpt_makespan([1, 2, 3, 4], 1, 2)   # {4, 1} and {3, 2}
    5.0
    >>> lpt_makespan([2], 264, 132)        # two full waves
    4.0
    """
    total = sum(works) * copies
    if len(works) * copies > LPT_EXACT_LIMIT:
        return max(total / sms, max(works))
    jobs = sorted(works, reverse=True)
    loads = [0.0] * min(sms, len(works) * copies)
    heapq.heapify(loads)
    for w in jobs:  # each distinct length appears `copies` times, longest first
        for _ in range(copies):
            heapq.heappush(loads, heapq.heappop(loads) + w)
    return max(loads)


def fa2_num_splits(batch_heads: int, sms: int, blocks: int, max_splits: int = MAX_SPLITS) -> int:
    """FlashAttention-2's split-KV heuristic: fewest splits within 85 % of the best wave efficiency.

    >>> fa2_num_splits(32, 132, 256)    # one sequence, 32 heads, 32k keys
    4
    >>> fa2_num_splits(1024, 132, 64)   # enough (sequence, head) pairs already
    1
    """
    if batch_heads >= 0.8 * sms:
        return 1
    limit = min(max_splits, sms, blocks)
    eff = [0.0] + [(batch_heads * s / sms) / math.ceil(batch_heads * s / sms) for s in range(1, limit + 1)]
    best = max(eff)
    return next(s for s in range(1, limit + 1) if eff[s] >= 0.85 * best)


def prefill_kernel(gp: GpuParams, b: int, h: int, kvh: int, lq: int, lkv: int, d: int, dtype: DType, e: float,
                   causal: bool, acc: DType, e_kv: float | None = None) -> KernelCost:
    """Flash-attention forward over a prompt (module docstring); ``e`` bytes per element of Q and O, ``e_kv``
    of K and V as stored (default ``e``; a quantised K/V with its scales is narrower)."""
    e_kv = e if e_kv is None else e_kv
    bq, bkv = int(gp["attn_q_tile"]), int(gp["attn_kv_tile"])
    works = kv_blocks_per_q_block(lq, lkv, bq, bkv, causal)
    pairs = b * h * sum(works)
    peak = gp.tensor_flops_per_sm[dtype] / 2.0 * gp.clock_hz * gp["attn_efficiency"]
    t_pair = max(2.0 * bq * bkv * d / peak, bq * bkv / (gp["softmax_per_clk"] * gp.clock_hz))
    compute = lpt_makespan([gp["attn_cta_fixed_s"] + w * t_pair for w in works], b * h, gp.sms)
    hbm = 2 * b * h * lq * d * e + 2 * b * kvh * lkv * d * e_kv
    l2 = b * h * len(works) * 2 * bq * d * e + pairs * 2 * bkv * d * e_kv
    return finish(gp, f"flash prefill {bq}x{bkv}", compute, hbm, l2, mac_action=f"mac.{dtype.value}.{acc.value}",
                  macs=2.0 * pairs * bq * bkv * d, alu_action=f"alu.{acc.value}",
                  fixed_s=gp["kernel_fixed_s"] + gp["attn_fixed_s"],
                  alu_ops=FLOPS_PER_ELEMENT["softmax"] * pairs * bq * bkv,
                  extra={"ctas": b * h * len(works), "pairs": pairs})


def decode_kernel(gp: GpuParams, b: int, h: int, kvh: int, lq: int, lkv: int, d: int, dtype: DType, e: float,
                  acc: DType, warm: bool = False, e_kv: float | None = None) -> KernelCost:
    """Split-KV decode attention (module docstring); ``e_kv``: bytes per cached K/V element as stored (default
    ``e``), so a quantised KV cache moves its own bytes."""
    e_kv = e if e_kv is None else e_kv
    bq, bkv = int(gp["decode_q_tile"]), int(gp["attn_kv_tile"])
    blocks = math.ceil(lkv / bkv)
    s = fa2_num_splits(b * h, gp.sms, blocks)
    ctas = b * h * math.ceil(lq / bq) * s
    padded = b * h * math.ceil(lq / bq) * bq * lkv * d * 2.0
    peak = gp.tensor_flops_per_sm[dtype] / 2.0 * gp.clock_hz * gp["attn_efficiency"]
    compute = padded / (peak * min(gp.sms, ctas))
    kv = 2 * b * kvh * lkv * d * e_kv
    qo = 2 * b * h * lq * d * e
    l2 = b * h * 2 * lkv * d * e_kv + qo + (2 * b * h * lq * s * (d + 2) * 4.0 if s > 1 else 0.0)
    bw = float(gp.grid_bw(ctas, gp.hbm_bw * gp["decode_efficiency"]))
    kernels = 2 if s > 1 else 1
    fixed = gp["kernel_fixed_s"] * kernels + (gp["decode_fixed_s"] if s > 1 else 0.0)
    return finish(gp, f"flash decode split {s}", compute, 0.0 if warm else kv + qo, l2,
                  mac_action=f"mac.{dtype.value}.{acc.value}", macs=padded, alu_action=f"alu.{acc.value}",
                  alu_ops=FLOPS_PER_ELEMENT["softmax"] * b * h * lq * lkv, kernels=kernels, fixed_s=fixed,
                  hbm_bw=bw, extra={"ctas": ctas, "splits": s})
