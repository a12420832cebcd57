"""Attention decode on PIM: the two GEMVs of one (sequence, KV head), as NeuPIMs maps them.

For one decode step of one sequence and one KV head with ``L`` cached tokens and head size ``d``:

* **QK^T**: ``scores[L] = K[L x d] @ q[d]``: a GEMV with ``rows = L`` (tokens dealt round-robin to banks,
  several keys packed per DRAM row) and ``cols = d``;
* **SV**: ``out[d] = V^T[d x L] @ p[L]``: V is stored transposed, so ``rows = d`` and ``cols = L``.

Softmax runs off-PIM between the two, so the PIM time of the pair is the sum. With grouped-query
attention the ``g`` query heads sharing a KV head reuse each opened row: ``batch = g``. By default a head
occupies one channel (NeuPIMs spreads heads and sequences over channels, which run in parallel).

>>> attention_gemv_shapes(seq_len=2048, head_dim=128)
((2048, 128), (128, 2048))
>>> from hwsim.engines.pim_timing import HBM2_NEUPIMS, HBM2_NEUPIMS_TIMING
>>> r = simulate_attention_decode(2048, 128, 2, HBM2_NEUPIMS, HBM2_NEUPIMS_TIMING)
>>> r.cycles == r.qk.cycles + r.sv.cycles, r.qk.matrix_bytes
(True, 524288)
"""

from __future__ import annotations

from dataclasses import dataclass

from hwsim.engines.pim_equations import PimEquationResult, gemv_equations
from hwsim.engines.pim_layout import PimMode
from hwsim.engines.pim_sim import PimSimResult, simulate_gemv
from hwsim.engines.pim_timing import DramTiming, PimOrganization

__all__ = ["attention_gemv_shapes", "AttentionPimResult", "simulate_attention_decode",
           "attention_decode_equations"]


def attention_gemv_shapes(seq_len: int, head_dim: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """``((rows, cols) of QK^T, (rows, cols) of SV)`` for one (sequence, KV head), elements."""
    if seq_len < 1 or head_dim < 1:
        raise ValueError(f"seq_len and head_dim must be >= 1, got {seq_len}, {head_dim}")
    return (seq_len, head_dim), (head_dim, seq_len)


@dataclass(frozen=True)
class AttentionPimResult:
    """PIM cost of one (sequence, KV head) decode step.

    Attributes
    ----------
    qk, sv : PimSimResult or PimEquationResult
        The score GEMV and the value GEMV.
    cycles, seconds : int, float
        Sum of the two (softmax is off-PIM in between), DRAM cycles and seconds.
    """

    qk: PimSimResult | PimEquationResult
    sv: PimSimResult | PimEquationResult
    cycles: int
    seconds: float


def simulate_attention_decode(seq_len: int, head_dim: int, dtype_bytes: int, org: PimOrganization,
                              timing: DramTiming, *, queries_per_kv_head: int = 1,
                              mode: PimMode | str = "all_bank", channels: int = 1,
                              **host: object) -> AttentionPimResult:
    """Command-level PIM cost of QK^T and SV for one (sequence, KV head).

    Parameters
    ----------
    seq_len, head_dim : int
        Cached tokens ``L`` and head size ``d``.
    dtype_bytes : int
        Bytes per KV element.
    org, timing : PimOrganization, DramTiming
        Device.
    queries_per_kv_head : int
        Query heads per KV head (GQA group size), applied as ``batch``.
    mode : {"all_bank", "per_bank"}
        MAC command mode.
    channels : int
        Channels holding this head's K and V.
    **host
        Host-traffic keywords of :func:`simulate_gemv` (``host_bytes``, ``host_pattern``, ...), applied to
        each of the two GEMVs.

    Returns
    -------
    AttentionPimResult
    """
    (qr, qc), (sr, sc) = attention_gemv_shapes(seq_len, head_dim)
    kw = dict(mode=mode, batch=queries_per_kv_head, channels=channels, **host)
    qk = simulate_gemv(qr, qc, dtype_bytes, org, timing, **kw)
    sv = simulate_gemv(sr, sc, dtype_bytes, org, timing, **kw)
    return AttentionPimResult(qk, sv, qk.cycles + sv.cycles, qk.seconds + sv.seconds)


def attention_decode_equations(seq_len: int, head_dim: int, dtype_bytes: int, org: PimOrganization,
                               timing: DramTiming, *, queries_per_kv_head: int = 1,
                               mode: PimMode | str = "all_bank", channels: int = 1) -> AttentionPimResult:
    """Closed-form counterpart of :func:`simulate_attention_decode` (no host traffic)."""
    (qr, qc), (sr, sc) = attention_gemv_shapes(seq_len, head_dim)
    kw = dict(mode=mode, batch=queries_per_kv_head, channels=channels)
    qk = gemv_equations(qr, qc, dtype_bytes, org, timing, **kw)
    sv = gemv_equations(sr, sc, dtype_bytes, org, timing, **kw)
    return AttentionPimResult(qk, sv, qk.cycles + sv.cycles, qk.seconds + sv.seconds)
