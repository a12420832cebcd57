"""Graph passes that turn a foundation block into one of its efficient variants.

``build_block`` builds the dense block's ops, then :func:`apply_variants` runs the passes the model spec asks
for, in a fixed order (each sees what the previous one made): attention sparsity, weight sparsity,
quantization, skipping. A pass maps a list of ops to a new list (ops are frozen; tensors are replaced by name
in every op that touches them, so producer and consumer stay consistent) and may add ordering edges.

Sparse ops carry what a unit that skips the zeros executes (reduced dims, compressed tensors) and, in
``attrs["dense_op"]``, what a unit without that support executes instead (hwsim/engines/lowering.py picks).
"""

from __future__ import annotations

from dataclasses import dataclass

from hwsim.workload.ops import Op


@dataclass(frozen=True)
class BlockContext:
    """What a pass needs to know about the step: phase, sequences, query and key lengths per sequence."""

    phase: str
    batch: int
    lq: int
    lkv: int
    past: int
    decoder: bool

    @property
    def tokens(self) -> int:
        return self.batch * self.lq


def apply_variants(ops: list[Op], after: list[tuple[str, str]], model, ctx: BlockContext
                   ) -> tuple[list[Op], list[tuple[str, str]]]:
    """Run the passes ``model`` asks for; with none set, ``ops`` and ``after`` come back unchanged."""
    from hwsim.workload.passes import attention_sparsity, quantize, skip, weight_sparsity

    after = list(after)
    if model.attention_sparsity is not None:
        ops = attention_sparsity.apply(ops, model, ctx)
    if model.weight_sparsity is not None:
        ops = weight_sparsity.apply(ops, model.weight_sparsity, model.name)
    if model.quantization is not None:
        ops, extra = quantize.apply(ops, model, after)
        after += extra
    if model.skip is not None:
        ops = skip.apply(ops, model.skip, ctx)
    return ops, after


def variant_label(model) -> str | None:
    """A short, stable description of the variants set on ``model`` (a sweep column; None if none)."""
    parts = []
    for name in ("attention_sparsity", "weight_sparsity", "quantization", "skip"):
        v = getattr(model, name)
        if v is not None:
            text = v.model_dump_json(exclude_defaults=True)
            if "kind" in type(v).model_fields and '"kind"' not in text:  # block sparsity is the default kind
                text = f'{{"kind":"{v.kind}"' + ("," + text[1:] if text != "{}" else "}")
            parts.append(f"{name}={text}")
    return "; ".join(parts) or None
