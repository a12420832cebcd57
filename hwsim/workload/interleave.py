"""Sub-batch interleaving (NeuPIMs): one decode step's graph as several sub-batches pipelined over layers.

NeuPIMs splits a decode batch into two sub-batches so that while the NPU runs one sub-batch's GEMMs (QKV
generation, projection, FFN) the PIM runs the other's attention GEMVs (casys-kaist/NeuPIMs
``src/StageProgram.cc``: stages A-F alternate ``QKVgen#1 | QKVgen#2 + MHA#1 | Pj/FFNs/QKVgen#1 + MHA#2 | ...``;
the repository README enables it for batches of 256 or more).

:func:`interleave` builds that as one graph: the ops of each sub-batch block, replicated for ``layers``
layers, renamed ``l<k>.sb<s>.<op>`` (``attrs["base_op"]`` keeps the block name, which mapping rules match), with
each sub-batch's layer ``k`` finished before its layer ``k + 1`` starts (ordering edges from the block's sinks to
its sources). Sub-batches share no edges: what overlaps is decided by the event scheduler
(:func:`hwsim.schedule.event_schedule` with ``order="ready"``), not by a fixed stage table.
"""

from __future__ import annotations


from dataclasses import replace
from typing import Sequence

import networkx as nx

from hwsim.errors import SpecError
from hwsim.workload.blocks import build_block
from hwsim.workload.graph import Workload
from hwsim.workload.models import ModelSpec


def split_batch(batch: int, parts: int) -> list[int]:
    """Near-equal sub-batch sizes, largest first.

    >>> split_batch(10, 2), split_batch(7, 3)
    ([5, 5], [3, 2, 2])
    """
    if parts < 1 or batch < parts:
        raise SpecError("<arguments>", "sub_batches", f"cannot split batch {batch} into {parts} sub-batches",
                        allowed=f"1..{batch}")
    q, r = divmod(batch, parts)
    return [q + 1] * r + [q] * (parts - r)


def interleave(blocks: Sequence[Workload], layers: int | None = None) -> Workload:
    """One graph holding every sub-batch block for ``layers`` consecutive layers.

    Parameters
    ----------
    blocks : sequence of Workload
        One block per sub-batch (same model and phase; batch sizes may differ).
    layers : int, optional
        Layers to unroll (default: all of the model's). Must divide the model's layer count; the result's
        ``layers`` is the quotient, so per-model totals stay ``block x layers``.

    Examples
    --------
    >>> from hwsim.workload import load_model
    >>> m = load_model("gpt2")
    >>> wl = interleave([build_block(m, "decode", 2, kv_len=64)] * 2, layers=3)
    >>> len(wl), wl.layers, wl.ops()[0].name
    (78, 4, 'l0.sb0.attn_norm')
    """
    if not blocks:
        raise ValueError("interleave needs at least one sub-batch block")
    total = blocks[0].layers
    layers = total if layers is None else layers
    if layers < 1 or total % layers:
        raise SpecError("<arguments>", "layers", f"{layers} layers do not divide the model's {total}",
                        allowed=", ".join(str(d) for d in range(1, total + 1) if total % d == 0))
    g = nx.DiGraph()
    wk, ws = len(str(layers - 1)), len(str(len(blocks) - 1))
    for s, block in enumerate(blocks):
        sources = [n for n in block.graph if block.graph.in_degree(n) == 0]
        sinks = [n for n in block.graph if block.graph.out_degree(n) == 0]
        for k in range(layers):
            name = (lambda n, k=k: f"l{k:0{wk}d}.sb{s:0{ws}d}.{n}")
            for n in block.graph:
                op = block.op(n)
                g.add_node(name(n), op=replace(op, name=name(n), attrs={**op.attrs, "base_op": n, "sub_batch": s,
                                                                          "layer": k}))
            for u, v, data in block.graph.edges(data=True):
                g.add_edge(name(u), name(v), tensors=data["tensors"])
            if k:
                prev = (lambda n, k=k: f"l{k - 1:0{wk}d}.sb{s:0{ws}d}.{n}")
                g.add_edges_from(((prev(a), name(b)) for a in sinks for b in sources), tensors=())
    params = dict(blocks[0].params)
    params.update(batch=sum(int(b.params.get("batch") or 0) for b in blocks), sub_batches=len(blocks),
                  sub_batch_sizes=tuple(b.params.get("batch") for b in blocks), layers_unrolled=layers)
    return Workload(f"{blocks[0].name} ({len(blocks)} sub-batches x {layers} layers)", g, params,
                    layers=total // layers)


def interleaved_decode(model: ModelSpec, batch: int, kv_len: int, sub_batches: int = 2, layers: int | None = None,
                       **block_kw) -> Workload:
    """A decode step of ``batch`` sequences as ``sub_batches`` interleaved sub-batches (:func:`interleave`).

    >>> from hwsim.workload import load_model
    >>> wl = interleaved_decode(load_model("gpt2"), batch=8, kv_len=128, layers=1)
    >>> wl.params["sub_batch_sizes"], wl.op("l0.sb1.attn_score").dims["B"]
    ((4, 4), 48)
    """
    sizes = split_batch(batch, sub_batches)
    blocks = {b: build_block(model, "decode", b, kv_len=kv_len, **block_kw) for b in set(sizes)}
    return interleave([blocks[b] for b in sizes], layers)


__all__ = ["split_batch", "interleave", "interleaved_decode"]

