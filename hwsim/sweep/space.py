"""Design spaces: which spec fields a sweep varies, over which values, and which points it keeps.

A space file (YAML) names dotted paths into the arch spec (``units.mxu.rows``, ``memories.sram.capacity``,
``tech.node``) and, with a ``workload.`` prefix, into the model and block (``workload.batch``,
``workload.precision.weights``), each with a list of values or a range::

    sampling: grid            # grid (every combination) | random | lhs (Latin hypercube); seeded
    params:
      units.mxu.rows: [64, 128, 256]
      memories.sram.capacity: {start: 8MiB, stop: 64MiB, num: 4, log: true}
      tech.device: {choices: [finfet, ffet]}
    constraints:
      - units.mxu.rows * units.mxu.cols * units.mxu.count <= 65536
      - area_mm2 <= 400
    blocks:
      - {phase: decode, kv_len: 2048}
      - {phase: prefill, seq: 512}

Quantity strings (``8MiB``, ``1.6TB/s``, ``1GHz``) are read into SI numbers, so result columns are numeric.
A value may also be a whole section (a mapping, a list or null), which replaces the field as a ``--set`` would::

      workload.weight_sparsity: [null, {pattern: nm, n: 2, m: 4}, {pattern: block, density: 0.5}]
      units.*.sparsity.weight_nm: [[], [[2, 4]]]     # ``*``: every unit (arch paths; see plan.py)

Its result column holds the value's YAML flow text (:func:`value_text`).
A point's id is a hash of its assignment (:func:`point_id`), the same on every run and machine.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any, ClassVar, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hwsim.errors import SpecError
from hwsim.specio import display_path, read_mapping, validate
from hwsim.units import QuantityError, parse_quantity

_BASES = ("B", "B/s", "Hz", "s", "J", "W")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _si(v: Any) -> Any:
    """A quantity string as an SI number (``"8MiB"`` -> 8388608.0); anything else unchanged."""
    if not isinstance(v, str):
        return v
    for base in _BASES:
        try:
            return parse_quantity(v, base)
        except QuantityError:
            continue
    return v


def quantity_unit(v: Any) -> str | None:
    """The unit a quantity string is written in (``"8MiB"`` -> ``"B"``, ``"1.6TB/s"`` -> ``"B/s"``); None for
    numbers, bare numeric strings and other strings.

    >>> quantity_unit("8MiB"), quantity_unit("819.2GB/s"), quantity_unit("1GHz"), quantity_unit(64)
    ('B', 'B/s', 'Hz', None)
    """
    if not isinstance(v, str) or not any(c.isalpha() for c in v):
        return None
    for base in _BASES:
        try:
            parse_quantity(v, base)
            return base
        except QuantityError:
            continue
    return None


def written_values(params: Any) -> tuple[dict[str, dict[float, str]], dict[str, str]]:
    """How a space file's ``params`` (its raw YAML, before validation) wrote its quantities, for reports:
    per parameter, each listed quantity string keyed by its SI number (tick labels and table cells as the
    user wrote them), and the unit its quantities are in (for values computed from a range). Parameters
    written as plain numbers, and anything not shaped like a space's params, are left out.

    >>> written_values({"memories.sram.capacity": ["8MiB", "32MiB"], "units.mxu.rows": [64, 128],
    ...                 "memories.hbm.bandwidth": {"start": "0.8TB/s", "stop": "3.2TB/s", "num": 3}})
    ({'memories.sram.capacity': {8388608.0: '8MiB', 33554432.0: '32MiB'}}, {'memories.sram.capacity': 'B', \
'memories.hbm.bandwidth': 'B/s'})
    """
    labels: dict[str, dict[float, str]] = {}
    units: dict[str, str] = {}
    for name, raw in (params.items() if isinstance(params, dict) else ()):
        if isinstance(raw, dict) and "range" in raw:  # {range: {start:, stop:}} or {range: [start, stop]}
            r = raw["range"]
            raw = dict(r) if isinstance(r, dict) else dict(zip(("start", "stop"), r if isinstance(r, list) else []))
        if isinstance(raw, dict):
            listed = raw.get("values", raw.get("choices"))
            raw = listed if listed is not None else [raw.get(k) for k in ("start", "stop")]
            listed = listed is not None
        else:
            listed = True
        raw = raw if isinstance(raw, list) else [raw]
        found = {quantity_unit(v) for v in raw} - {None}
        if len(found) != 1:
            continue
        units[name] = unit = found.pop()
        if listed:
            labels[name] = {parse_quantity(v, unit): v for v in raw if quantity_unit(v) == unit}
    return labels, units


class ParamSpec(_Frozen):
    """One swept field: ``values`` (alias ``choices``), or a range ``start..stop`` by ``step`` or ``num``.

    Ranges include ``stop`` when a step lands on it; ``log`` spaces ``num`` points geometrically (with
    ``step``, it is the ratio). A range with neither step nor num is continuous: only random and lhs
    sampling can draw from it. ``integer`` rounds (default: true when start, stop and step are integers).
    """

    shorthand_keys: ClassVar[tuple[str, ...]] = ("range",)  # read by _shorthand (spec errors list it)
    values: tuple[Any, ...] | None = None
    choices: tuple[Any, ...] | None = None
    start: float | str | None = None
    stop: float | str | None = None
    step: float | None = Field(None, gt=0)
    num: int | None = Field(None, gt=0)
    log: bool = False
    integer: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        if isinstance(v, (list, tuple)):
            return {"values": list(v)}
        if not isinstance(v, dict):
            return {"values": [v]}
        if "range" in v:  # {range: {start:, stop:, ...}} or {range: [start, stop]}
            v = dict(v)
            r = v.pop("range")
            v.update(r if isinstance(r, dict) else dict(zip(("start", "stop", "step"), r)))
        if "start" in v and v.get("integer") is None:  # integer unless a bound or the step is not an int
            bounds = [v.get("start"), v.get("stop")] + ([v["step"]] if v.get("step") is not None else [])
            v = {**v, "integer": all(isinstance(x, int) and not isinstance(x, bool) for x in bounds)}
        return v

    @model_validator(mode="after")
    def _check(self) -> "ParamSpec":
        listed = [x for x in (self.values, self.choices) if x is not None]
        ranged = self.start is not None or self.stop is not None
        if len(listed) + ranged != 1:
            raise ValueError("give exactly one of values, choices or a range (start, stop)")
        if listed:
            vals = [_si(x) for x in listed[0]]
            if not vals:
                raise ValueError("needs at least one value")
            if len({json.dumps(x, sort_keys=True) for x in vals}) != len(vals):
                raise ValueError(f"values must be distinct, got {list(listed[0])}")
            kinds = {_kind(x) for x in vals}
            if not kinds <= {"int", "float", "str", "bool", "struct"}:
                raise ValueError(f"values must be numbers, strings, booleans, mappings, lists or null, "
                                 f"got {list(listed[0])}")
            if "struct" in kinds:  # a whole section per value, e.g. [null, {pattern: nm, n: 2, m: 4}]
                object.__setattr__(self, "values", tuple(vals))
                object.__setattr__(self, "choices", None)
                return self
            if len(kinds - {"int"} if kinds >= {"int", "float"} else kinds) > 1:
                raise ValueError(f"values must share one type, got {list(listed[0])}")
            object.__setattr__(self, "values", tuple(float(x) if "float" in kinds and _kind(x) == "int"
                                                     else x for x in vals))
            object.__setattr__(self, "choices", None)
            return self
        if self.start is None or self.stop is None:
            raise ValueError("a range needs both start and stop")
        lo, hi = _si(self.start), _si(self.stop)
        if not all(isinstance(x, (int, float)) for x in (lo, hi)):
            raise ValueError(f"range bounds must be numbers or quantities, got {self.start!r}, {self.stop!r}")
        if hi < lo or (self.log and lo <= 0):
            raise ValueError(f"need 0 < start <= stop for log ranges, start <= stop otherwise; got {lo}, {hi}")
        object.__setattr__(self, "start", float(lo))
        object.__setattr__(self, "stop", float(hi))
        return self

    @property
    def kind(self) -> str:
        """The type of the parameter's values: "int", "float", "str", "bool", or "struct" when a value is a
        mapping, a list or null (the result column then holds each value's YAML text, :func:`value_text`)."""
        if self.values is None:
            return "int" if self.integer else "float"
        kinds = {_kind(x) for x in self.values}
        if "struct" in kinds:
            return "struct"
        return kinds.pop() if len(kinds) == 1 else "float"

    @property
    def continuous(self) -> bool:
        return self.values is None and self.step is None and self.num is None

    def grid(self) -> tuple[Any, ...]:
        """The discrete values of this parameter, in order (raises ValueError for a continuous range)."""
        if self.values is not None:
            return self.values
        if self.continuous:
            raise ValueError("a continuous range (no step or num) can only be sampled: use random or lhs")
        lo, hi = float(self.start), float(self.stop)  # type: ignore[arg-type]
        if self.num is not None:
            if self.num == 1:
                xs = [lo]
            elif self.log:
                xs = [lo * (hi / lo) ** (i / (self.num - 1)) for i in range(self.num)]
            else:
                xs = [lo + (hi - lo) * i / (self.num - 1) for i in range(self.num)]
        else:
            xs, i, step = [], 0, float(self.step)  # type: ignore[arg-type]
            if self.log and step <= 1:
                raise ValueError(f"a log range's step is a ratio and must exceed 1, got {step}")
            while True:
                x = lo * step ** i if self.log else lo + i * step
                if x > hi * (1 + 1e-12):
                    break
                xs.append(x)
                i += 1
        return tuple(dict.fromkeys(self.cast(x) for x in xs))

    def cast(self, x: float) -> Any:
        """A drawn number as the parameter's type (rounded to an integer when ``integer``)."""
        return int(round(x)) if self.integer else float(x)

    def draw(self, u: float) -> Any:
        """The value at quantile ``u`` in [0, 1): an index into the grid, or a point of the continuous range."""
        if not self.continuous:
            g = self.grid()
            return g[min(int(u * len(g)), len(g) - 1)]
        lo, hi = float(self.start), float(self.stop)  # type: ignore[arg-type]
        x = lo * (hi / lo) ** u if self.log else lo + (hi - lo) * u
        return self.cast(x)


def _kind(x: Any) -> str:
    if isinstance(x, bool):
        return "bool"
    if isinstance(x, int):
        return "int"
    if isinstance(x, float):
        return "float"
    if isinstance(x, str):
        return "str"
    if x is None or isinstance(x, (dict, list, tuple)):
        return "struct"
    return type(x).__name__


def value_text(x: Any) -> str:
    """A structured value as one line of YAML flow text, keys in the order written: the result column's
    value and the label in tables (``{pattern: nm, n: 2, m: 4}``, ``null``, ``[[2, 4]]``).

    >>> value_text({"pattern": "nm", "n": 2, "m": 4}), value_text(None), value_text([[2, 4]])
    ('{pattern: nm, n: 2, m: 4}', 'null', '[[2, 4]]')
    """
    text = yaml.safe_dump(json.loads(json.dumps(x)), default_flow_style=True, sort_keys=False, width=1_000_000)
    return text.removesuffix("\n...\n").strip()


class BlockSpec(_Frozen):
    """One block every design point is evaluated on (one result row per point and block)."""

    workload: str | None = Field(None, description="model name or path (default: the sweep's --workload)")
    phase: Literal["prefill", "decode"] = "decode"
    batch: int = Field(1, gt=0)
    seq: int | None = Field(None, gt=0, description="prefill tokens per sequence")
    kv_len: int | None = Field(None, gt=0, description="decode: keys per sequence (default 2048)")
    past_len: int = Field(0, ge=0)
    fused_attention: bool = False
    name: str | None = Field(None, description="row label (default '<model>/<phase>')")


class SpaceSpec(_Frozen):
    """A whole design space: parameters, sampling, constraints and (optionally) the blocks."""

    params: dict[str, ParamSpec]
    sampling: Literal["grid", "random", "lhs"] = "grid"
    samples: int | None = Field(None, gt=0, description="points drawn by random / lhs sampling")
    seed: int = 0
    constraints: tuple[str, ...] = ()
    blocks: tuple[BlockSpec, ...] = ()
    description: str = ""

    @field_validator("params")
    @classmethod
    def _nonempty(cls, v: dict) -> dict:
        if not v:
            raise ValueError("needs at least one parameter")
        for path in v:
            if not path or any(not part for part in path.split(".")):
                raise ValueError(f"bad dotted path {path!r}")
        return v

    @model_validator(mode="after")
    def _sampling(self) -> "SpaceSpec":
        if self.sampling == "grid":
            if self.samples is not None:
                raise ValueError("samples is for random/lhs sampling; a grid takes every combination")
            for path, p in self.params.items():
                if p.continuous:
                    raise ValueError(f"params.{path}: a continuous range needs step or num on a grid")
        elif self.samples is None:
            raise ValueError(f"{self.sampling} sampling needs samples: N")
        return self

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.params)

    def grid_size(self) -> int:
        """Combinations on the grid (before constraints)."""
        return math.prod(len(p.grid()) for p in self.params.values())


def load_space(path_or_data: str | Path | dict, file: str | None = None) -> SpaceSpec:
    """Read and validate a space file (or a dict); errors name the file and field.

    >>> s = load_space({"params": {"units.mxu.rows": [64, 128], "tech.node": [7, 5, 3]}})
    >>> s.grid_size()
    6
    """
    if isinstance(path_or_data, dict):
        data, file = path_or_data, file or "<space>"
    else:
        data, file = read_mapping(path_or_data), file or display_path(path_or_data)
    return validate(SpaceSpec, data, file)



def point_id(assignment: dict[str, Any]) -> str:
    """Deterministic id of a parameter assignment: 16 hex digits of SHA-256 of its canonical JSON.

    >>> point_id({"b": 2, "a": 1}) == point_id({"a": 1, "b": 2})
    True
    """
    blob = json.dumps(assignment, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def check_grid(space: SpaceSpec, file: str) -> None:
    """Raise SpecError if a parameter's range cannot be listed (e.g. a log step <= 1)."""
    for path, p in space.params.items():
        if not p.continuous:
            try:
                p.grid()
            except ValueError as e:
                raise SpecError(file, f"params.{path}", str(e)) from None
