"""MobileNetV2 inverted residual block (Sandler et al. CVPR 2018, Table 1), mapped as SCALE-Sim maps conv layers.

For ``B`` images of ``H x H`` pixels with ``C`` input channels (``d_model``), expansion ``t``, kernel ``k``,
stride ``s`` and ``C'`` output channels (same padding, so the output is ``ceil(H/s)`` square):

======  =================================================================  =====================================
op      lowering                                                           MACs
======  =================================================================  =====================================
expand  CONV2D 1x1, C -> tC: GEMM M = B H^2, K = C, N = tC (SCALE-Sim)      B H^2 C tC
dw      tC per-channel GEMMs (GEMM B = tC): M = B H'^2, K = k^2, N = 1      B H'^2 tC k^2
project CONV2D 1x1, tC -> C': GEMM M = B H'^2, K = tC, N = C'               B H'^2 tC C'
======  =================================================================  =====================================

A depthwise conv has no reduction across channels, so as SCALE-Sim-style GEMMs it is ``tC`` independent GEMMs
with a reduction of only ``k^2 = 9`` and a single output column: on an ``R x C`` array each fills ``9`` of
``R`` rows and one of ``C`` columns, which is why depthwise layers run at a tiny fraction of an array's peak
(the array must still stream every output pixel through its fill and drain). ReLU6 (2 ops: min, max) follows
expand and dw on the vector unit; project is linear; a residual add joins input and output when ``s = 1`` and
``C = C'``. ``t = 1`` has no expand conv (the network's first bottleneck). BatchNorm is folded into each conv's
weights and bias (inference).
"""

from __future__ import annotations

import math

from hwsim.errors import SpecError
from hwsim.workload.blocks import Phase, _Builder, _wider, register_block
from hwsim.workload.graph import Workload, graph_from_ops
from hwsim.workload.models import BlockType, ModelSpec
from hwsim.workload.ops import Op, OpKind, TensorRole
from hwsim.workload.passes import BlockContext, apply_variants, variant_label

W = TensorRole.WEIGHT
RELU6_FLOPS = 2.0


@register_block(BlockType.INVERTED_RESIDUAL)
def build_inverted_residual(m: ModelSpec, phase: Phase | str, batch: int = 1, seq: int | None = None,
                            kv_len: int | None = None) -> Workload:
    """One inverted residual block on ``batch`` images (a single forward pass: phase ``prefill``)."""
    if Phase(phase) != Phase.PREFILL:
        raise SpecError(m.name, "phase", "a convolution block has no decode phase", allowed="prefill")
    c = m.conv
    cin, h, t, k, s = m.d_model, c.resolution, c.expansion, c.kernel, c.stride
    ce, ho = t * cin, math.ceil(c.resolution / c.stride)
    b = _Builder(m)
    p = m.precision
    mm = _wider(p.weights, p.activations)
    x = b.t("x", (batch, h, h, cin))
    e = x
    if t != 1:
        e = _conv1x1(b, "expand", x, batch, h, cin, ce, mm)
        e = b.vector(OpKind.ELEMENTWISE, "expand_act", "relu6", [e], b.t("expand_act_out", e.shape),
                     flops_per_element=RELU6_FLOPS)
    dw_out = b.t("dw_out", (batch, ho, ho, ce))
    b.add(Op("dw", OpKind.GEMM, {"B": ce, "M": batch * ho * ho, "K": k * k, "N": 1},
             (e, b.t("dw.weight", (ce, k, k), W), b.t("dw.bias", (ce,), W)), (dw_out,), mm, p.accumulators,
             {"conv": "depthwise", "stride": s}))
    a = b.vector(OpKind.ELEMENTWISE, "dw_act", "relu6", [dw_out], b.t("dw_act_out", dw_out.shape),
                 flops_per_element=RELU6_FLOPS)
    y = _conv1x1(b, "project", a, batch, ho, ce, c.out_channels, mm)
    if s == 1 and cin == c.out_channels:
        y = b.add_residual("residual", x, y, "y")
    ops, after = apply_variants(b.ops, b.after, m, BlockContext("prefill", batch, h * h, h * h, 0, False))
    params = {"model": m.name, "phase": "prefill", "batch": batch, "seq": None, "kv_len": None, "past_len": 0,
              "tokens": batch * h * h, "attention": "none"}
    if (label := variant_label(m)) is not None:
        params["variants"] = label
    return Workload(f"{m.name}/prefill", graph_from_ops(ops, after), params, layers=m.layers)


def _conv1x1(b: _Builder, name: str, x, batch: int, h: int, cin: int, cout: int, dtype):
    """A pointwise conv as SCALE-Sim lowers it (CONV2D with a 1x1 filter), bias from the folded BatchNorm."""
    out = b.t(f"{name}_out", (batch, h, h, cout))
    b.add(Op(name, OpKind.CONV2D, {"B": batch, "H": h, "W": h, "C": cin, "R": 1, "S": 1, "F": cout, "stride": 1},
             (x, b.t(f"{name}.weight", (cin, cout), W), b.t(f"{name}.bias", (cout,), W)), (out,), dtype,
             b.m.precision.accumulators))
    return out
