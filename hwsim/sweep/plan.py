"""A sweep plan: the base specs, the space, the blocks and the constraints, checked once before any point runs.

Each swept path is routed to the spec it edits (as ``hwsim run --set`` does, :func:`hwsim.api.split_overrides`):
``workload.<block param>`` (batch, phase, seq, kv_len, ...) to the block, any other ``workload.<field>`` to
the model, everything else to the arch. A path that names no field of the base spec is a SpecError here;
a value the spec rejects (``units.mxu.rows: 0``) only marks its points with an error.

Constraints are split by what they read: parameters only (checked while points are listed), parameters and
area (checked after the arch is built, before the blocks run), or other outputs (checked on each row).
The plan is plain data (pickles to process-pool and Dask workers) and has an identity hash that resume
checks, so results are never mixed with those of another sweep.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from hwsim.api import BLOCK_PARAMS
from hwsim.arch.loader import arch_from_dict, arch_path
from hwsim.errors import SpecError
from hwsim.mapping.mapper import load_policy
from hwsim.mapping.types import MappingPolicy
from hwsim.ppa.area import area_breakdown
from hwsim.specio import display_path, read_mapping, set_path, validate
from hwsim.sweep.constraints import Constraint, parse_constraint
from hwsim.sweep.space import BlockSpec, SpaceSpec, check_grid, load_space, value_text
from hwsim.workload.models import ModelSpec, read_model_data

OUTPUTS = ("latency_s", "energy_j", "area_mm2", "flops", "dram_bytes", "utilization", "bound")
AREA_OUTPUTS = ("area_mm2",)
_PATH_ERRORS = ("unknown field", "no list item", "cannot descend", "cannot set")


@dataclass(frozen=True)
class BlockDef:
    """A block of the sweep: which model, the build_block arguments, and its label in the results."""

    model: str
    params: dict[str, Any]
    name: str | None = None

    def label(self, model_name: str, phase: str) -> str:
        return self.name or f"{model_name}/{phase}"


@dataclass(frozen=True)
class SweepPlan:
    """Everything a worker needs to evaluate points (plain data; see module docstring)."""

    space: SpaceSpec
    space_file: str
    arch_label: str
    arch_data: dict[str, Any]
    models: dict[str, tuple[dict[str, Any], str]]
    blocks: tuple[BlockDef, ...]
    engine: str
    mapping: MappingPolicy
    targets: dict[str, tuple[str, str]]   # swept path -> ("arch" | "model" | "block", path inside it)
    input_constraints: tuple[Constraint, ...] = ()
    arch_constraints: tuple[Constraint, ...] = ()
    output_constraints: tuple[Constraint, ...] = ()
    key: str = field(default="")

    @property
    def names(self) -> tuple[str, ...]:
        return self.space.names

    def columns(self, assignment: dict[str, Any]) -> dict[str, Any]:
        """A point's parameter values as result columns (and as constraints see them): a structured value
        (mapping, list, null) as its YAML text, :func:`hwsim.sweep.space.value_text`."""
        return {k: value_text(v) if k in self.struct_params else v for k, v in assignment.items()}

    @property
    def struct_params(self) -> frozenset[str]:
        return frozenset(n for n, p in self.space.params.items() if p.kind == "struct")

    def identity(self) -> dict[str, Any]:
        """What must match for ``--resume`` to continue these results."""
        return {"arch": self.arch_label, "arch_data": _digest(self.arch_data),
                "models": {k: _digest(v[0]) for k, v in self.models.items()},
                "blocks": [[b.model, b.params, b.name] for b in self.blocks], "engine": self.engine,
                "mapping": _digest(self.mapping.model_dump(mode="json")),
                "space": _digest(self.space.model_dump(mode="json"))}


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def build_plan(arch: str | Path, workload: str | Path, space: str | Path | dict | SpaceSpec, *,
               blocks: list[dict] | None = None, engine: str = "analytical", mapping: str | None = None) -> SweepPlan:
    """Load the base specs and the space, route and check every swept path, sort the constraints."""
    if isinstance(space, SpaceSpec):
        spec, space_file = space, "<space>"
    else:
        space_file = "<space>" if isinstance(space, dict) else display_path(space)
        spec = load_space(space, space_file)
    check_grid(spec, space_file)
    if engine not in ("analytical", "cycle", "roofline"):
        raise SpecError("<arguments>", "engine", f"unknown engine {engine!r}", allowed="analytical, cycle, roofline")
    p = arch_path(arch)
    arch_label, arch_data = display_path(p), read_mapping(p)
    base_arch = arch_from_dict(arch_data, arch_label)
    block_specs = _block_specs(spec, blocks, space_file)
    models = {}
    for b in block_specs:
        name = str(b.workload or workload)
        if name not in models:
            models[name] = read_model_data(name)
    targets = {path: _route(path) for path in spec.names}
    defs = _block_defs(block_specs, str(workload), models, targets, space_file)
    plan = SweepPlan(spec, space_file, arch_label, arch_data, models, defs, engine, load_policy(mapping), targets)
    for path, (kind, inner) in targets.items():
        _check_path(plan, path, kind, inner)
    pre, arch_c, post = _sort_constraints(spec, space_file, area_breakdown(base_arch))
    plan = SweepPlan(**{**plan.__dict__, "input_constraints": pre, "arch_constraints": arch_c,
                        "output_constraints": post})
    object.__setattr__(plan, "key", _digest(plan.identity()))
    return plan


def set_swept(data: dict[str, Any], path: str, value: Any, file: str) -> None:
    """``set_path`` for a swept path, where a ``*`` part stands for every key (or list item) at that level
    (``units.*.sparsity.attention_block``: the field of every unit). A copy of a structured value is set, so
    points never share (and cannot alter) one another's sections. A ``*`` that matches nothing is a
    SpecError naming the path."""
    if "*" not in path.split("."):
        set_path(data, path, copy.deepcopy(value), file)
        return
    head, _, rest = path.partition(".*")
    node: Any = data
    for key in head.split("."):
        node = node.get(key) if isinstance(node, dict) else None
    keys = list(node) if isinstance(node, dict) else [str(i) for i in range(len(node))] \
        if isinstance(node, list) else []
    if not keys:
        raise SpecError(file, head + ".*", "cannot set a field inside a missing or empty section (* matched nothing)")
    for k in keys:
        set_swept(data, f"{head}.{k}{rest}", value, file)


def _route(path: str) -> tuple[str, str]:
    if path.startswith("workload."):
        inner = path[len("workload."):]
        return ("block" if inner in BLOCK_PARAMS else "model", inner)
    return ("arch", path)


def _block_specs(spec: SpaceSpec, blocks: list[dict] | None, file: str) -> tuple[BlockSpec, ...]:
    if spec.blocks and blocks:
        raise SpecError(file, "blocks", "blocks are given both in the space and on the command line; give one")
    if spec.blocks:
        return spec.blocks
    out = tuple(validate(BlockSpec, b, "<arguments>") for b in (blocks or [{}]))
    return out


def _block_defs(specs, workload: str, models, targets, file: str) -> tuple[BlockDef, ...]:
    defs, labels = [], set()
    swept_phase = any(t == ("block", "phase") for t in targets.values())
    for i, b in enumerate(specs):
        name = str(b.workload or workload)
        mname = validate(ModelSpec, models[name][0], models[name][1]).name
        params = {"phase": b.phase, "batch": b.batch, "seq": b.seq, "kv_len": b.kv_len, "past_len": b.past_len,
                  "fused_attention": b.fused_attention}
        d = BlockDef(name, params, b.name)
        label = d.label(mname, "<phase>" if swept_phase else b.phase)
        if label in labels:
            raise SpecError(file, f"blocks.{i}", f"two blocks are labelled {label!r}", allowed="give each a name")
        labels.add(label)
        defs.append(d)
    return tuple(defs)


def _check_path(plan: SweepPlan, path: str, kind: str, inner: str) -> None:
    """A swept path must name a field of its spec: walk it through the base spec (:func:`_unknown_part`),
    then try the parameter's first value on the base spec. The error lists what the path could name."""
    p = plan.space.params[path]
    value = p.draw(0.0)
    if kind == "block":
        return
    if kind == "arch":
        bases = [(arch_from_dict(plan.arch_data, plan.arch_label), plan.arch_data, "arch")]
    else:
        bases = [(validate(ModelSpec, d, f), d, "model") for d, f in plan.models.values()]
    bad = next((b for spec, raw, root in bases if (b := _unknown_part(spec, raw, inner.split("."), root))), None)
    if bad is not None and bad.entry:  # units.npu, memories.nope: nothing the loader could map
        raise bad.error(plan.space_file, path, kind)
    try:
        if kind == "arch":
            data = json.loads(json.dumps(plan.arch_data, default=str))
            set_swept(data, inner, value, plan.arch_label)
            arch_from_dict(data, plan.arch_label)
        else:
            for data0, file in plan.models.values():
                data = json.loads(json.dumps(data0, default=str))
                set_swept(data, inner, value, file)
                validate(ModelSpec, data, file)
    except SpecError as e:
        if any(e.message.startswith(w) for w in _PATH_ERRORS) and e.field.startswith(inner.split(".")[0]) \
                or "matched nothing" in e.message:
            if bad is not None:
                raise bad.error(plan.space_file, path, kind) from None
            raise SpecError(plan.space_file, f"params.{path}", f"not a field of the {kind} spec ({e})") from None


@dataclass(frozen=True)
class _Unknown:
    """The first part of a swept path that names nothing in the base spec, and what it could name."""

    where: str
    part: str
    allowed: tuple[str, ...]
    entry: bool  # a missing entry of a collection of parts (units.npu), not an unknown field name

    def error(self, file: str, path: str, kind: str) -> SpecError:
        what = f"{self.where} has no {'entry' if self.entry else 'field'} {self.part!r}"
        stem = self.part.rsplit("_", 1)[0]
        if not self.entry and "_" in self.part and stem in self.allowed:  # capacity_kib: units go in the value
            what += f"; sweep {stem!r} with values that carry their unit (8MiB, 1.6TB/s, 1GHz)"
        return SpecError(file, f"params.{path}", f"not a field of the {kind} spec: {what}",
                         allowed=", ".join(self.allowed))


def _unknown_part(node: Any, raw: Any, parts: list[str], where: str) -> _Unknown | None:
    """Walk ``parts`` through a validated base spec (``raw``: its YAML data). A part must be a field of the
    model there (or a key of its YAML, such as ``clock`` or ``tech.node``, which the loader maps), an entry
    of a collection of parts (``units.mxu``, ``memories.sram`` or its index) or ``*``; beyond a leaf or a
    free-form mapping the spec's own validation decides. None when nothing is unknown."""
    for i, part in enumerate(parts):
        if isinstance(node, BaseModel):
            fields = type(node).model_fields
            if part not in fields:
                keys = raw if isinstance(raw, dict) else {}
                if part in keys:
                    return None
                extra = BLOCK_PARAMS if where == "model" else ()
                return _Unknown(where, part, tuple(extra) + tuple(sorted(set(fields) | set(keys))), False)
            node, raw = getattr(node, part), raw.get(part) if isinstance(raw, dict) else None
        else:
            items = _named_parts(node)
            if items is None:
                return None
            if part == "*":
                return next((b for name, item in items.items()
                             if (b := _unknown_part(item, _raw_item(raw, name), parts[i + 1:], f"{where}.{name}"))),
                            None)
            if part.isdigit() and int(part) < len(items):
                part = list(items)[int(part)]
            if part not in items:
                return _Unknown(where, part, tuple(items), True)
            node, raw = items[part], _raw_item(raw, part)
        where = f"{where}.{part}" if where not in ("arch", "model") else part
    return None


def _named_parts(node: Any) -> dict[str, BaseModel] | None:
    """``units`` (name -> unit) or ``memories`` (items with a name) as name -> part; None for anything else."""
    if isinstance(node, dict) and node and all(isinstance(v, BaseModel) for v in node.values()):
        return node
    if isinstance(node, (tuple, list)) and node and all(isinstance(v, BaseModel) and hasattr(v, "name")
                                                        for v in node):
        return {v.name: v for v in node}
    return None


def _raw_item(raw: Any, name: str) -> Any:
    if isinstance(raw, dict):
        return raw.get(name)
    if isinstance(raw, list):
        return next((x for x in raw if isinstance(x, dict) and x.get("name") == name), None)
    return None


def _sort_constraints(spec: SpaceSpec, file: str, area: dict[str, float]):
    params = set(spec.names)
    area_names = set(AREA_OUTPUTS) | {f"area_mm2.{c}" for c in area}
    pre, arch_c, post = [], [], []
    for i, text in enumerate(spec.constraints):
        c = parse_constraint(text, file, f"constraints.{i}")
        names = set(c.names)
        unknown = [n for n in names - params - area_names
                   if n not in OUTPUTS and not n.startswith("energy_j.")]
        if unknown:
            raise SpecError(file, f"constraints.{i}", f"{text!r} names {unknown[0]!r}, which is neither a swept "
                            "parameter nor an output", allowed=", ".join(sorted(params) + list(OUTPUTS)))
        (pre if names <= params else arch_c if names <= params | area_names else post).append(c)
    return tuple(pre), tuple(arch_c), tuple(post)
