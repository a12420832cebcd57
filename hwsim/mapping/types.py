"""Mapping types: OpMapping (one op), Mapping (a block), MappingPolicy (rules a mapper follows)."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping as MappingT

from pydantic import BaseModel, ConfigDict, Field

from hwsim.arch.components import Dataflow
from hwsim.workload.ops import FrozenDict, Op, OpGroup, OpKind


@dataclass(frozen=True)
class OpMapping:
    """Where and how one op runs.

    ``tiles`` optionally fixes tile sizes per dimension (``{"M": 128, "N": 256}``); engines pick their own
    when it is empty. ``dataflow`` overrides the unit's default for systolic arrays. ``options`` are
    engine-specific choices the mapping makes (e.g. ``{"blocked": True}``: run a PIM in blocked mode).
    """

    op: str
    unit: str
    dataflow: Dataflow | None = None
    tiles: MappingT[str, int] = field(default_factory=FrozenDict)
    notes: tuple[str, ...] = ()
    options: MappingT[str, Any] = field(default_factory=FrozenDict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tiles", FrozenDict(self.tiles))
        object.__setattr__(self, "options", FrozenDict(self.options))


@dataclass(frozen=True)
class Mapping:
    """All ops of a block: op name -> OpMapping."""

    ops: MappingT[str, OpMapping]

    def __post_init__(self) -> None:
        object.__setattr__(self, "ops", FrozenDict(self.ops))

    def __getitem__(self, op: str) -> OpMapping:
        return self.ops[op]

    def units_used(self) -> list[str]:
        return sorted({m.unit for m in self.ops.values()})


_GROUPS = {"matmul_like": OpGroup.MATMUL_LIKE, "vector": OpGroup.VECTOR, "data_movement": OpGroup.DATA_MOVEMENT,
           "all": OpGroup.ALL}


class MappingRule(BaseModel):
    """Send matching ops to ``unit``. Matches by op-name glob, op kind, op group and/or phase (all must hold).

    ``gemv_only`` matches only matrix-vector products (M == 1 per group), e.g. decode attention on PIM.
    The glob is matched against ``op.attrs["base_op"]`` when present (ops replicated per sub-batch and layer
    by :func:`hwsim.workload.interleave.interleave` keep their block name there).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    unit: str
    ops: str | None = Field(None, description="glob on op names, e.g. 'attn_*'")
    kind: OpKind | None = None
    group: Literal["matmul_like", "vector", "data_movement", "all"] | None = Field(
        None, description="op group (keys of _GROUPS)")
    phase: Literal["prefill", "decode"] | None = Field(None, description="workload.blocks.Phase values")
    gemv_only: bool = False
    dataflow: Dataflow | None = None
    tiles: dict[str, int] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict, description="engine options, e.g. {blocked: true}")

    def matches(self, op: Op, phase: str | None) -> bool:
        if self.ops is not None and not fnmatch.fnmatchcase(op.attrs.get("base_op", op.name), self.ops):
            return False
        if self.kind is not None and op.kind != self.kind:
            return False
        if self.group is not None and op.kind not in _GROUPS[self.group]:
            return False
        if self.phase is not None and phase != self.phase:
            return False
        if self.gemv_only and not (op.kind == OpKind.GEMM and op.dims.get("M") == 1):
            return False
        return True


class MappingPolicy(BaseModel):
    """Ordered rules (first match wins); unmatched ops go to the fastest unit that accepts them (greedy)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str = "auto"
    description: str = ""
    rules: tuple[MappingRule, ...] = ()
    fallback: Literal["fastest", "error"] = Field("fastest", description="'fastest' (greedy over units) or 'error'")

    def rule_for(self, op: Op, phase: str | None) -> MappingRule | None:
        for r in self.rules:
            if r.matches(op, phase):
                return r
        return None


def policy_from_dict(data: dict[str, Any]) -> MappingPolicy:
    return MappingPolicy.model_validate(data)
