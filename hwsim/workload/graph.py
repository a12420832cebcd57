"""Workload: one block's op graph (a networkx DiGraph) plus what it was built from.

Nodes are op names with attribute ``op`` (:class:`~hwsim.workload.ops.Op`); an edge ``u -> v`` carries the
tensors ``u`` produces and ``v`` consumes (attribute ``tensors``, a tuple: a fused QKV projection hands q and
k to RoPE over one edge). An edge with an empty tuple is an ordering dependency only (the KV-cache append
must land before attention reads the cache). The graph must be a DAG and every edge's tensors must appear
among the producer's outputs and the consumer's inputs with the same shape and dtype.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Mapping

import networkx as nx

from hwsim.workload.ops import FrozenDict, Op, TensorRole, TensorSpec


@dataclass(frozen=True)
class Workload:
    """One block of a model for one phase.

    Attributes
    ----------
    name : str
        ``<model>/<phase>`` label.
    graph : networkx.DiGraph
        Ops as nodes (``graph.nodes[n]["op"]``), tensors on edges (``graph.edges[u, v]["tensors"]``).
    params : mapping
        What the block was built from (model, phase, batch, seq, kv_len, ...); sweep columns come from here.
    layers : int
        How many such blocks the whole model stacks (per-model totals = block x layers).
    """

    name: str
    graph: nx.DiGraph
    params: Mapping[str, object] = field(default_factory=FrozenDict)
    layers: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", FrozenDict(self.params))
        check_graph(self.graph)
        object.__setattr__(self, "_order", tuple(nx.lexicographical_topological_sort(self.graph)))

    # ---- access -------------------------------------------------------------------------------------
    def ops(self) -> list[Op]:
        """Ops in a deterministic topological order (ties broken by name)."""
        return [self.graph.nodes[n]["op"] for n in self._order]  # type: ignore[attr-defined]

    def op(self, name: str) -> Op:
        return self.graph.nodes[name]["op"]

    def __iter__(self) -> Iterator[Op]:
        return iter(self.ops())

    def __len__(self) -> int:
        return self.graph.number_of_nodes()

    def predecessors(self, name: str) -> list[str]:
        return sorted(self.graph.predecessors(name))

    # ---- totals -------------------------------------------------------------------------------------
    @property
    def flops(self) -> float:
        return sum(op.flops for op in self.ops())

    def weights(self) -> dict[str, TensorSpec]:
        """Distinct weight tensors by name (one entry even if several ops read it)."""
        return {t.name: t for op in self.ops() for t in op.inputs if t.role == TensorRole.WEIGHT}

    @property
    def weight_bytes(self) -> int:
        return sum(t.bytes for t in self.weights().values())

    @property
    def parameters(self) -> int:
        """Weight elements the block reads: the layer's parameter count (hand-checkable), except that an MoE
        layer holds only the routed experts this step is expected to hit (all of them once enough tokens route)."""
        return sum(t.elements for t in self.weights().values())


def check_graph(g: nx.DiGraph) -> None:
    """Raise ValueError unless ``g`` is a DAG whose edges carry tensors consistent with their ops."""
    if not nx.is_directed_acyclic_graph(g):
        cycle = nx.find_cycle(g)
        raise ValueError(f"workload graph has a cycle: {cycle}")
    for n, data in g.nodes(data=True):
        if not isinstance(data.get("op"), Op):
            raise ValueError(f"node {n!r} has no 'op' attribute")
        if data["op"].name != n:
            raise ValueError(f"node {n!r} holds op named {data['op'].name!r}")
    for u, v, data in g.edges(data=True):
        tensors: tuple[TensorSpec, ...] | None = data.get("tensors")
        if tensors is None:
            raise ValueError(f"edge {u}->{v} has no 'tensors' attribute")
        for t in tensors:
            if t not in g.nodes[u]["op"].outputs:
                raise ValueError(f"edge {u}->{v}: tensor {t.name} is not an output of {u}")
            if t not in g.nodes[v]["op"].inputs:
                raise ValueError(f"edge {u}->{v}: tensor {t.name} {t.shape} is not an input of {v}")


def graph_from_ops(ops: list[Op], after: list[tuple[str, str]] = ()) -> nx.DiGraph:
    """Build the DAG by matching each input tensor to the op that produced it (by tensor name).

    ``after`` adds ordering-only edges ``(first, then)``.
    """
    g = nx.DiGraph()
    producer: dict[str, str] = {}
    for op in ops:
        if op.name in g:
            raise ValueError(f"duplicate op name {op.name!r}")
        g.add_node(op.name, op=op)
        for t in op.inputs:
            if t.name in producer:
                u = producer[t.name]
                prev = g.edges[u, op.name]["tensors"] if g.has_edge(u, op.name) else ()
                g.add_edge(u, op.name, tensors=prev + (t,))
        for t in op.outputs:
            producer[t.name] = op.name
    for first, then in after:
        if not g.has_edge(first, then):
            g.add_edge(first, then, tensors=())
    return g
