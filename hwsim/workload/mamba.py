"""Mamba (selective state-space) block, after Gu & Dao 2023 (arXiv:2312.00752, Fig. 3 and Algorithm 2) and
the reference implementation's kernels (``selective_scan_fn`` / ``selective_state_update`` fuse the dt
softplus and the SiLU(z) gate into the scan).

With ``d_inner = expand x d_model``, ``N = d_state``, ``r = dt_rank``, ``k = d_conv`` and ``T`` tokens:

=============  ======================================================  ==============================
op             computes                                                weights
=============  ======================================================  ==============================
norm           RMSNorm                                                 d
in_proj        GEMM [T, d] x [d, 2 d_inner] -> x, z                    d x 2 d_inner
conv1d         causal depthwise conv, width k (+ bias), per channel    d_inner x k (+ d_inner)
conv_act       SiLU                                                    -
x_proj         GEMM [T, d_inner] x [d_inner, r + 2N] -> dt, B, C        d_inner x (r + 2N)
dt_proj        GEMM [T, r] x [r, d_inner] + bias                       r x d_inner + d_inner
scan           selective scan + D skip + SiLU(z) gate                  A: d_inner x N, D: d_inner
out_proj       GEMM [T, d_inner] x [d_inner, d]                        d_inner x d
residual       add                                                     -
=============  ======================================================  ==============================

Scan operations per (token, channel) (our count of Algorithm 2 with the kernel's fusions): per state
``exp(dt A)`` 2, ``(dt x) B`` 1, ``h = dA h + dBx`` 2, ``y += C h`` 2, i.e. ``7 N``; per channel softplus 3,
``dt x`` 1, ``y += D x`` 2, gate ``y silu(z)`` 5: ``7 N + 11`` (123 for N = 16). The conv is ``2k`` flops per
element (+1 with bias). Decode reads and writes the recurrent state (conv: ``d_inner x (k - 1)``, SSM:
``d_inner x N`` per sequence), which lives off-chip between steps as a KV cache does; there is no KV cache.
Prefill writes the final states.
"""

from __future__ import annotations

import math

from hwsim.workload.blocks import Phase, _Builder, _wider, register_block
from hwsim.workload.graph import Workload, graph_from_ops
from hwsim.workload.models import BlockType, ModelSpec
from hwsim.workload.ops import Op, OpKind, TensorRole
from hwsim.workload.passes import BlockContext, apply_variants, variant_label

W, S = TensorRole.WEIGHT, TensorRole.KV_CACHE
SCAN_FLOPS_PER_STATE = 7.0
SCAN_FLOPS_PER_CHANNEL = 11.0
SILU_FLOPS = 4.0  # exp, add, divide, multiply


def dt_rank(m: ModelSpec) -> int:
    """Mamba's 'auto' rank: ceil(d_model / 16)."""
    return m.ssm.dt_rank or math.ceil(m.d_model / 16)


@register_block(BlockType.MAMBA)
def build_mamba(m: ModelSpec, phase: Phase | str, batch: int = 1, seq: int | None = None,
                kv_len: int | None = None) -> Workload:
    """One Mamba block for ``phase`` (decode: one token per sequence, recurrent state in place of a KV cache)."""
    phase = Phase(phase)
    s = m.ssm
    lq = 1 if phase == Phase.DECODE else (seq or 512)
    T, d, di, n, k, r = batch * lq, m.d_model, s.expand * m.d_model, s.d_state, s.d_conv, dt_rank(m)
    b = _Builder(m)
    p = m.precision
    mm = _wider(p.weights, p.activations)  # linear layers' compute format, as in transformer blocks
    x = b.t("x", (T, d))
    h = b.norm("norm", x, "h")
    xi, z = b.t("x_in", (T, di)), b.t("z", (T, di))
    b.add(Op("in_proj", OpKind.GEMM, {"B": 1, "M": T, "K": d, "N": 2 * di}, (h, b.t("in_proj.weight", (d, 2 * di), W)),
             (xi, z), mm, p.accumulators))
    conv_in = [xi, b.t("conv1d.weight", (di, k), W)] + ([b.t("conv1d.bias", (di,), W)] if s.conv_bias else [])
    conv_out = [b.t("x_conv", (T, di))]
    if phase == Phase.DECODE:
        conv_in.append(b.t("conv_state", (batch, di, k - 1), S))
    conv_out.append(b.t("conv_state_out", (batch, di, k - 1), S))
    b.add(Op("conv1d", OpKind.ELEMENTWISE, {"rows": T, "cols": di}, tuple(conv_in), tuple(conv_out), p.activations,
             p.accumulators, {"fn": "conv1d", "flops_per_element": 2.0 * k + (1.0 if s.conv_bias else 0.0)}))
    xc = b.vector(OpKind.ELEMENTWISE, "conv_act", "silu", [conv_out[0]], b.t("x_act", (T, di)),
                  flops_per_element=SILU_FLOPS)
    dt_low, bb, cc = b.t("dt_low", (T, r)), b.t("B", (T, n)), b.t("C", (T, n))
    b.add(Op("x_proj", OpKind.GEMM, {"B": 1, "M": T, "K": di, "N": r + 2 * n},
             (xc, b.t("x_proj.weight", (di, r + 2 * n), W)), (dt_low, bb, cc), mm, p.accumulators))
    dt = b.t("dt", (T, di))
    b.add(Op("dt_proj", OpKind.GEMM, {"B": 1, "M": T, "K": r, "N": di},
             (dt_low, b.t("dt_proj.weight", (r, di), W), b.t("dt_proj.bias", (di,), W)), (dt,), mm, p.accumulators))
    scan_in = [xc, dt, bb, cc, z, b.t("A_log", (di, n), W), b.t("D", (di,), W)]
    if phase == Phase.DECODE:
        scan_in.append(b.t("ssm_state", (batch, di, n), S))
    y = b.t("y", (T, di))
    b.add(Op("scan", OpKind.ELEMENTWISE, {"rows": T, "cols": di}, tuple(scan_in),
             (y, b.t("ssm_state_out", (batch, di, n), S)), p.activations, p.accumulators,
             {"fn": "selective_scan", "flops_per_element": SCAN_FLOPS_PER_STATE * n + SCAN_FLOPS_PER_CHANNEL}))
    o = b.linear("out_proj", y, di, d, "o")
    b.add_residual("residual", x, o, "y_out")
    ctx = BlockContext(phase.value, batch, lq, lq, 0, True)
    ops, after = apply_variants(b.ops, b.after, m, ctx)
    params = {"model": m.name, "phase": phase.value, "batch": batch, "seq": lq if phase == Phase.PREFILL else None,
              "kv_len": None, "past_len": 0, "tokens": T, "attention": "none"}
    if (label := variant_label(m)) is not None:
        params["variants"] = label
    return Workload(f"{m.name}/{phase.value}", graph_from_ops(ops, after), params, layers=m.layers)

