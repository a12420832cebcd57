"""Small helpers the passes share: replace tensors by name, and find who produces / consumes a tensor."""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Mapping

from hwsim.workload.ops import FrozenDict, Op, TensorSpec


def retensor(op: Op, new: Mapping[str, TensorSpec] | Callable[[TensorSpec], TensorSpec],
             dense_too: bool = False) -> Op:
    """``op`` with its tensors replaced: by name from a mapping, or through a function of the tensor.

    ``dense_too`` applies a function to the op's dense fallback (``attrs["dense_op"]``) as well, for changes
    that hold whatever the shapes (formats); name maps never touch it (its tensors keep the dense shapes).
    """
    fn = new if callable(new) else (lambda t: new.get(t.name, t))
    ins = tuple(fn(t) for t in op.inputs)
    outs = tuple(fn(t) for t in op.outputs)
    attrs = op.attrs
    if dense_too and callable(new) and "dense_op" in attrs:
        attrs = with_attrs(attrs, dense_op=retensor(attrs["dense_op"], new, True))
    if ins == op.inputs and outs == op.outputs and attrs is op.attrs:
        return op
    return replace(op, inputs=ins, outputs=outs, attrs=attrs)


def with_attrs(attrs: Mapping, **kw) -> FrozenDict:
    """A copy of ``attrs`` with ``kw`` set."""
    return FrozenDict({**attrs, **kw})


def producers(ops: list[Op]) -> dict[str, str]:
    """Tensor name -> name of the op that writes it."""
    return {t.name: op.name for op in ops for t in op.outputs}


def consumers(ops: list[Op]) -> dict[str, list[str]]:
    """Tensor name -> names of the ops that read it."""
    out: dict[str, list[str]] = {}
    for op in ops:
        for t in op.inputs:
            out.setdefault(t.name, []).append(op.name)
    return out


def weight_operand(op: Op) -> TensorSpec | None:
    """The weight tensor of a linear layer / convolution (not its bias), if any."""
    from hwsim.workload.ops import TensorRole

    ws = [t for t in op.inputs if t.role == TensorRole.WEIGHT and not t.name.endswith(".bias")]
    return ws[0] if ws else None
