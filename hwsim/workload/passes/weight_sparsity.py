"""Weight sparsity: the linear layers' weights keep a fraction of their values.

A unit that skips the zeros runs the GEMM with the reduction dimension compressed to the kept weights,
``K' = ceil(K x kept)`` (kept = N/M for N:M, the density otherwise: N:M hardware compresses along K, as the
Ampere sparse tensor core does, Mishra et al. 2021), reading ``K' x N`` stored values plus the format's index
metadata (:meth:`WeightSparsity.index_bits`); its activations are still read in full. The dense fallback
(``attrs["dense_op"]``) is the original GEMM: zeros stored and multiplied.
"""

from __future__ import annotations

import fnmatch
import math
from dataclasses import replace

from hwsim.workload.ops import Op, OpKind
from hwsim.workload.passes.rewrite import retensor, weight_operand, with_attrs
from hwsim.workload.variant_specs import WeightSparsity


def kept_k(k: int, spec: WeightSparsity) -> int:
    """Compressed reduction length.

    >>> kept_k(4096, WeightSparsity(pattern="nm", n=2, m=4))
    2048
    """
    return max(1, math.ceil(k * spec.kept - 1e-9))


def apply(ops: list[Op], spec: WeightSparsity) -> list[Op]:
    out = []
    for op in ops:
        w = weight_operand(op)
        if op.kind != OpKind.GEMM or w is None or not any(fnmatch.fnmatchcase(op.name, g) for g in spec.layers):
            out.append(op)
            continue
        k = op.dims["K"]
        k2 = kept_k(k, spec)
        shape = w.shape[:-2] + (k2, w.shape[-1])
        sw = replace(w, shape=shape, index_bits=spec.index_bits())
        attrs = with_attrs(op.attrs, sparsity=spec.pattern, dense_op=op,
                           **({"nm": (spec.n, spec.m)} if spec.pattern == "nm" else {}))
        out.append(retensor(replace(op, dims={**op.dims, "K": k2}, attrs=attrs), {w.name: sw}))
    return out
