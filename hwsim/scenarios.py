"""Whole-model scenarios built from blocks: a batched decode step, a chunked prefill.

A block (:func:`hwsim.workload.build_block`) costs one layer; a scenario says how many blocks of which shapes a
request needs and adds them up:

* :func:`decode_step`: one token for each of ``batch`` sequences through every layer of one device's shard
  (``layers x block``, or the event simulation of interleaved sub-batches over all layers);
* :func:`chunked_prefill`: a prompt cut into fixed-size chunks (mllm-NPU: the NPU runs static graphs, so every
  chunk has the same shape and the last is padded), chunk ``k`` attending to the ``k x chunk`` cached tokens
  before it; the prompt's time is the sum over chunks of ``layers x block(past_len = k x chunk)``.

Both report which unit bounds the result: the unit busy longest, and how its time splits between compute- and
memory-bound ops.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from hwsim.arch.spec import ArchSpec
from hwsim.errors import SpecError
from hwsim.result import RunResult
from hwsim.workload.blocks import build_block
from hwsim.workload.interleave import interleaved_decode
from hwsim.workload.models import ModelSpec


def shard(model: ModelSpec, tp: int = 1, pp: int = 1) -> ModelSpec:
    """One device's part of ``model`` under Megatron tensor parallelism ``tp`` and pipeline parallelism ``pp``.

    Heads, K/V heads and the FFN width split ``tp`` ways (column-parallel QKV/up, row-parallel o/down, so
    ``d_model`` stays); layers split ``pp`` ways. The all-reduce after o_proj and down is not costed.

    >>> from hwsim.workload import load_model
    >>> s = shard(load_model("gpt3_13b"), tp=4)
    >>> s.heads, s.head_dim, s.ffn_dim, s.d_model, s.layers
    (10, 128, 5120, 5120, 40)
    """
    for what, n, by in (("heads", model.heads, tp), ("kv_heads", model.kv_heads, tp),
                        ("ffn_dim", model.ffn_dim, tp), ("layers", model.layers, pp)):
        if n % by:
            raise SpecError(model.name, what, f"{n} does not split {by} ways")
    return model.model_copy(update={"heads": model.heads // tp, "kv_heads": model.kv_heads // tp,
                                    "ffn_dim": model.ffn_dim // tp, "layers": model.layers // pp,
                                    "name": f"{model.name}/tp{tp}pp{pp}" if tp * pp > 1 else model.name})


def _limit(c) -> str:
    """What bounds one op: ``compute``, ``overhead`` or ``memory:<level>`` (the level needing most cycles)."""
    if c.bound.value != "memory" or not c.memory_cycles:
        return c.bound.value
    return "memory:" + max(c.memory_cycles, key=c.memory_cycles.get)


@dataclass(frozen=True)
class Bottleneck:
    """The unit busy longest and how its busy time splits by what bounds its ops (seconds): ``compute``,
    ``overhead`` or ``memory:<level>``."""

    unit: str
    busy_s: float
    share: float
    by_bound_s: dict[str, float]

    @property
    def bound(self) -> str:
        """What most of the unit's time is bound by (``compute``, ``memory:<level>``, ``overhead``)."""
        return max(self.by_bound_s, key=self.by_bound_s.get)

    def to_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "busy_s": self.busy_s, "share_of_time": self.share, "bound": self.bound,
                "by_bound_s": dict(self.by_bound_s)}


def bottleneck(results: list[tuple[RunResult, float]]) -> Bottleneck:
    """The busiest unit over ``(result, weight)`` pairs (weight = how many times the block runs)."""
    busy: dict[str, float] = {}
    bounds: dict[str, dict[str, float]] = {}
    total = 0.0
    for r, w in results:
        total += r.latency_s * w
        for c in r.costs:
            busy[c.unit] = busy.get(c.unit, 0.0) + c.latency_s * w
            b = bounds.setdefault(c.unit, {})
            b[_limit(c)] = b.get(_limit(c), 0.0) + c.latency_s * w
    unit = max(busy, key=busy.get)
    return Bottleneck(unit, busy[unit], busy[unit] / total if total else 0.0, bounds[unit])


@dataclass(frozen=True)
class DecodeStep:
    """One decode step of ``batch`` sequences through all layers of a device's shard."""

    seconds: float
    batch: int
    kv_len: int
    sub_batches: int
    result: RunResult = field(repr=False)
    bottleneck: Bottleneck = field(repr=False)

    @property
    def tokens_per_s(self) -> float:
        return self.batch / self.seconds


def decode_step(model: ModelSpec, arch: ArchSpec, *, batch: int, kv_len: int, mapping: Any = None,
                sub_batches: int = 1, layers: int | None = None, engine: str = "analytical") -> DecodeStep:
    """Cost one decode step (every layer once, one new token per sequence).

    ``sub_batches`` = 1: one block, list-scheduled, times the layer count. ``sub_batches`` > 1: the sub-batches
    are interleaved over ``layers`` unrolled layers (default all) and event-simulated in ready order.

    >>> from hwsim.api import load_arch, load_model
    >>> s = decode_step(load_model("gpt2"), load_arch("npu_128"), batch=4, kv_len=128)
    >>> round(s.seconds / s.result.latency_s)
    12
    """
    from hwsim.api import evaluate

    if sub_batches > 1:
        wl = interleaved_decode(model, batch, kv_len, sub_batches, layers)
        r = evaluate(wl, arch, mapping=mapping, engine=engine, schedule="event", order="ready")
    else:
        wl = build_block(model, "decode", batch, kv_len=kv_len)
        r = evaluate(wl, arch, mapping=mapping, engine=engine)
    return DecodeStep(r.latency_s * r.layers, batch, kv_len, sub_batches, r, bottleneck([(r, r.layers)]))


@dataclass(frozen=True)
class Prefill:
    """A prompt prefilled in fixed-size chunks through every layer."""

    prompt_len: int
    chunk: int
    chunks: int
    seconds: float
    chunk_seconds: tuple[float, ...]
    bottleneck: Bottleneck

    @property
    def tokens_per_s(self) -> float:
        """Prompt tokens (padding excluded) per second."""
        return self.prompt_len / self.seconds


def chunked_prefill(model: ModelSpec, arch: ArchSpec, *, prompt_len: int, chunk: int, mapping: Any = None,
                    engine: str = "analytical") -> Prefill:
    """Prefill ``prompt_len`` tokens in ``ceil(prompt_len / chunk)`` chunks of ``chunk`` tokens (last one padded).

    >>> from hwsim.api import load_arch, load_model
    >>> p = chunked_prefill(load_model("gpt2"), load_arch("npu_128"), prompt_len=300, chunk=128)
    >>> p.chunks, len(p.chunk_seconds), p.chunk_seconds[2] > p.chunk_seconds[0]
    (3, 3, True)
    """
    from hwsim.api import evaluate

    if prompt_len < 1 or chunk < 1:
        raise SpecError("<arguments>", "prompt_len/chunk", f"must be positive, got {prompt_len}, {chunk}")
    n = math.ceil(prompt_len / chunk)
    runs = [evaluate(build_block(model, "prefill", 1, seq=chunk, past_len=k * chunk), arch, mapping=mapping,
                     engine=engine) for k in range(n)]
    per_chunk = tuple(r.latency_s * r.layers for r in runs)
    return Prefill(prompt_len, chunk, n, sum(per_chunk), per_chunk, bottleneck([(r, r.layers) for r in runs]))


__all__ = ["shard", "Bottleneck", "bottleneck", "DecodeStep", "decode_step", "Prefill", "chunked_prefill"]
