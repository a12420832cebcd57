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

from hwsim.errors import SpecError
from hwsim.workload.ops import Op, OpKind
from hwsim.workload.passes.rewrite import retensor, weight_operand, with_attrs
from hwsim.workload.variant_specs import WeightSparsity


def kept_k(k: int, spec: WeightSparsity) -> int:
    """Compressed reduction length.

    >>> kept_k(4096, WeightSparsity(pattern="nm", n=2, m=4))
    2048
    """
    return max(1, math.ceil(k * spec.kept - 1e-9))


def _linear(op: Op) -> bool:
    """A GEMM with a ``[..., K, N]`` weight (a depthwise conv's ``[C, k, k]`` filters are not one)."""
    w = weight_operand(op)
    return op.kind == OpKind.GEMM and w is not None and len(w.shape) >= 2 and w.shape[-2] == op.dims["K"]


def apply(ops: list[Op], spec: WeightSparsity, where: str = "<model spec>") -> list[Op]:
    """Sparsify the weights of the GEMMs named by ``spec.layers``; a SpecError (naming ``where``) if none is."""
    out = []
    gemms = [op.name for op in ops if _linear(op)]
    if not any(fnmatch.fnmatchcase(n, g) for n in gemms for g in spec.layers):
        raise SpecError(where, "weight_sparsity.layers", f"no linear layer of this block matches "
                        f"{', '.join(spec.layers)}", allowed=", ".join(gemms) or "none: this block has no linear layers")
    for op in ops:
        w = weight_operand(op)
        if not _linear(op) or not any(fnmatch.fnmatchcase(op.name, g) for g in spec.layers):
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
