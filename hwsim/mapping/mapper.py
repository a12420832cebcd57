"""Mappers: place every op of a workload on a unit (policy rules first, then the fastest unit that accepts it).

A rule that names a unit which refuses the op is an error (the user asked for it); an op no unit accepts is
a MappingError naming the op and every unit's reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from hwsim.arch.spec import ArchSpec
from hwsim.engines.base import cost_op
from hwsim.errors import MappingError, SpecError, UnsupportedOpError
from hwsim.mapping.types import Mapping, MappingPolicy, OpMapping
from hwsim.result import CostResult, Fidelity
from hwsim.specio import display_path, read_mapping, validate
from hwsim.workload.graph import Workload
from hwsim.workload.ops import Op

POLICY_DIR = Path(__file__).resolve().parents[2] / "arch_configs" / "mappings"


def shipped_policies() -> list[str]:
    return ["auto"] + sorted(p.stem for p in POLICY_DIR.glob("*.yaml"))


def load_policy(name_or_path: str | Path | None) -> MappingPolicy:
    """``None``/``"auto"``: greedy; a shipped policy name; or a YAML path."""
    if name_or_path in (None, "auto"):
        return MappingPolicy()
    p = Path(name_or_path)
    if not (p.suffix in (".yaml", ".yml") or p.exists()):
        p = POLICY_DIR / f"{name_or_path}.yaml"
        if not p.exists():
            raise SpecError(str(name_or_path), "", "unknown mapping policy", allowed=", ".join(shipped_policies()))
    return validate(MappingPolicy, read_mapping(p), display_path(p))


def map_workload(workload: Workload, arch: ArchSpec, policy: MappingPolicy | None = None, *,
                 coster: Callable[..., CostResult] = cost_op) -> Mapping:
    """Choose a unit (and dataflow/tiles if a rule gives them) for every op.

    ``coster`` stands in for :func:`~hwsim.engines.base.cost_op` (a sweep passes a memo of it).

    >>> from hwsim.workload import build_block, load_model
    >>> from hwsim.arch.loader import load_arch
    >>> m = map_workload(build_block(load_model("gpt2"), "decode", 1, kv_len=128), load_arch("npu_128"))
    >>> m["qkv_proj"].unit, m["softmax"].unit
    ('mxu', 'vpu')
    """
    policy = policy or MappingPolicy()
    phase = workload.params.get("phase")
    out = {}
    for op in workload.ops():
        rule = policy.rule_for(op, phase)
        if rule is not None:
            if rule.unit not in arch.units:
                raise SpecError(policy.name, f"rules.{policy.rules.index(rule)}.unit", f"unknown unit {rule.unit!r}",
                                allowed=", ".join(arch.units))
            om = OpMapping(op.name, rule.unit, rule.dataflow, rule.tiles, (f"policy {policy.name}",), rule.options)
            _check(op, om, arch, coster)
            out[op.name] = om
        elif policy.fallback == "error":
            raise MappingError(f"policy {policy.name} has no rule for op {op.name} ({op.kind.value})")
        else:
            out[op.name] = _fastest(op, arch, coster)
    return Mapping(out)


def _check(op: Op, om: OpMapping, arch: ArchSpec, coster: Callable[..., CostResult] = cost_op) -> None:
    try:
        coster(op, om.unit, arch, om, Fidelity.ANALYTICAL)
    except UnsupportedOpError as e:
        raise MappingError(f"mapping puts {op.name} on {om.unit}, which refuses it: {e}") from None


def _fastest(op: Op, arch: ArchSpec, coster: Callable[..., CostResult] = cost_op) -> OpMapping:
    best, best_s, reasons = None, float("inf"), []
    for name in arch.units:
        om = OpMapping(op.name, name, notes=("greedy: fastest accepting unit",))
        try:
            c = coster(op, name, arch, om, Fidelity.ANALYTICAL)
        except UnsupportedOpError as e:
            reasons.append(str(e))
            continue
        if c.latency_s < best_s:
            best, best_s = om, c.latency_s
    if best is None:
        raise MappingError(f"no unit of {arch.name} can run op {op.name} ({op.kind.value}, {op.dtype.value}): "
                           + "; ".join(reasons) + _precision_hint(op, arch))
    return best


def _precision_hint(op: Op, arch: ArchSpec) -> str:
    """When no unit computes the op's format at all: which workload fields set it and what the arch computes."""
    formats = list(dict.fromkeys(p.value for u in arch.units.values() for p in u.precisions))
    if op.dtype.value in formats:
        return ""
    return (f"; the op's format comes from the workload's precision.activations (GEMMs: the wider of it and "
            f"precision.weights): set them, e.g. --set workload.precision.activations={formats[0]} "
            f"(allowed on {arch.name}: {', '.join(formats)})")
