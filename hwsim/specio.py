"""Reading spec files: YAML/JSON parsing, ``--set`` overrides, and pydantic errors turned into one line.

Shared by every loader (arch, model, mapping, sweep space) so that all bad input reads the same way:
``<file>: <field.path>: <what is wrong> (allowed: ...)``.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Iterable, TypeVar, Union, get_args, get_origin

import pydantic
import yaml

from hwsim.errors import SpecError

M = TypeVar("M", bound=pydantic.BaseModel)


def display_path(path: str | Path) -> str:
    """A path as the user should read it: relative to the working directory when inside it."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


def read_mapping(path: str | Path) -> dict[str, Any]:
    """Parse a YAML or JSON file whose top level is a mapping."""
    p = Path(display_path(path))
    try:
        text = p.read_text()
    except FileNotFoundError:
        raise SpecError(str(p), "", "file not found") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as e:
        raise SpecError(str(p), "", f"cannot read file ({e.__class__.__name__})") from None
    try:
        data = json.loads(text) if p.suffix == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise SpecError(str(p), "", f"malformed {'JSON' if p.suffix == '.json' else 'YAML'}: {where}{problem}") from None
    if not isinstance(data, dict):
        raise SpecError(str(p), "", f"top level must be a mapping, got {type(data).__name__}")
    return data


def apply_overrides(data: dict[str, Any], overrides: Iterable[str], file: str) -> dict[str, Any]:
    """Apply ``a.b.c=value`` overrides (value parsed as YAML) to a nested mapping; returns a new dict.

    >>> apply_overrides({"units": {"mxu": {"rows": 128}}}, ["units.mxu.rows=64"], "x.yaml")
    {'units': {'mxu': {'rows': 64}}}
    """
    out = json.loads(json.dumps(data, default=str)) if data else {}
    for item in overrides:
        if "=" not in item:
            raise SpecError(file, item, "override must look like path.to.field=value")
        path, raw = item.split("=", 1)
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
        set_path(out, path.strip(), value, file)
    return out


def set_path(data: dict[str, Any], dotted: str, value: Any, file: str) -> None:
    """Set ``data[a][b][c] = value`` for ``dotted == "a.b.c"``; list items by index (``memories.0.capacity``)."""
    keys = dotted.split(".")
    node: Any = data
    for i, key in enumerate(keys[:-1]):
        node = _child(node, key, ".".join(keys[: i + 1]), file, create=True)
    last = keys[-1]
    if isinstance(node, list):
        node[_index(node, last, dotted, file)] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise SpecError(file, dotted, f"cannot set a field inside a {type(node).__name__}")


def _child(node: Any, key: str, where: str, file: str, create: bool) -> Any:
    if isinstance(node, list):
        return node[_index(node, key, where, file)]
    if isinstance(node, dict):
        if key not in node:
            if not create:
                raise SpecError(file, where, "no such field")
            node[key] = {}
        return node[key]
    raise SpecError(file, where, f"cannot descend into a {type(node).__name__}")


def _index(node: list, key: str, where: str, file: str) -> int:
    # list items may be addressed by index or by their "name" field
    if key.isdigit() and int(key) < len(node):
        return int(key)
    for i, item in enumerate(node):
        if isinstance(item, dict) and item.get("name") == key:
            return i
    raise SpecError(file, where, f"no list item {key!r}", allowed=f"0..{len(node) - 1} or an item's name")


def validate(model: type[M], data: dict[str, Any], file: str) -> M:
    """Validate ``data`` against a pydantic model; the first error becomes a one-line SpecError."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as e:
        raise spec_error(file, e, data, model) from None


def spec_error(file: str, e: pydantic.ValidationError, data: Any = None, model: type | None = None) -> SpecError:
    err = e.errors()[0]
    if err.get("type") == "union_tag_not_found" and data is not None:
        return _untagged_entry(file, err, data)
    if err.get("type") == "union_tag_invalid":  # e.g. units.mxu.kind: systolc
        ctx = err.get("ctx") or {}
        tag = str(ctx.get("discriminator", "kind")).strip("'")
        where = _written_loc([str(x) for x in err.get("loc", ())], data) + [tag]
        return SpecError(file, ".".join(where), f"not an allowed value (got {ctx.get('tag')!r})",
                         allowed=str(ctx.get("expected_tags")))
    loc = _written_loc([str(x) for x in err.get("loc", ())], data)
    msg = err.get("msg", "invalid value")
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if err.get("type") == "extra_forbidden":
        msg = "unknown field"
        fields = _fields_at(model, [str(x) for x in err.get("loc", ())][:-1])
        if fields:
            return SpecError(file, ".".join(loc), msg, allowed=", ".join(fields))
    elif err.get("type") == "missing":
        msg = "missing required field"
    elif err.get("type") == "model_type":  # not "instance of <internal class name>"
        msg = "Input should be a mapping of fields"
    inp = err.get("input")
    if err.get("type") not in ("missing", "extra_forbidden") and not isinstance(inp, (dict, list)):
        msg = f"{msg} (got {inp!r})"
    allowed = None
    ctx = err.get("ctx") or {}
    if "expected" in ctx:
        allowed = str(ctx["expected"])
        if msg.startswith("Input should be "):  # pydantic's message repeats the allowed list: keep "(got ...)"
            got = msg.find(" (got ")
            msg = "not an allowed value" + (msg[got:] if got >= 0 else "")
    return SpecError(file, ".".join(loc), msg, allowed)


def _fields_at(model: Any, loc: list[str]) -> tuple[str, ...]:
    """The field names (as a file may spell them: aliases first) of the pydantic model that pydantic's raw error
    location ``loc`` (union tags included) points into; () where that cannot be told."""
    t = _strip(model)
    for x in loc:
        if get_origin(t) in (Union, UnionType):  # a tagged union: this step is the tag
            t = next((m for m in get_args(t) if x in _tags(m)), None)
        elif isinstance(t, type) and issubclass(t, pydantic.BaseModel):
            f = next((f for n, f in t.model_fields.items() if x in _names(n, f)), None)
            t = f.annotation if f is not None else None
        elif get_origin(t) in (tuple, list, dict):
            t = get_args(t)[-1 if get_origin(t) is dict else 0]
        else:
            return ()
        t = _strip(t)
    if not (isinstance(t, type) and issubclass(t, pydantic.BaseModel)):
        return ()
    # plus keys a model's before-validator rewrites into its fields (ParamSpec's ``range`` shorthand)
    return tuple(_names(n, f)[0] for n, f in t.model_fields.items()) + tuple(getattr(t, "shorthand_keys", ()))


def _strip(t: Any) -> Any:
    """``Annotated[X, ...]`` -> X and ``X | None`` -> X; other unions stay."""
    while True:
        if get_origin(t) is Annotated:
            t = get_args(t)[0]
        elif get_origin(t) in (Union, UnionType) and len(args := [a for a in get_args(t) if a is not type(None)]) == 1:
            t = args[0]
        else:
            return t


def _tags(member: Any) -> tuple[str, ...]:
    """The ``kind`` values a member of a tagged union answers to (its ``Literal`` annotation)."""
    f = member.model_fields.get("kind") if isinstance(member, type) and issubclass(member, pydantic.BaseModel) else None
    return tuple(str(getattr(a, "value", a)) for a in get_args(f.annotation)) if f is not None else ()


def _names(name: str, f: Any) -> tuple[str, ...]:
    """A field's spellings: its validation aliases (AliasChoices or a plain alias), then its name."""
    va = f.validation_alias
    aliases = (va,) if isinstance(va, str) else tuple(c for c in getattr(va, "choices", ()) if isinstance(c, str))
    return aliases + (name,) if name not in aliases else aliases


def _written_loc(loc: list[str], data: Any) -> list[str]:
    """pydantic's error location as the file spells it: without the steps pydantic inserts for validators
    (``function-after``) and for tagged unions (``units.mxu.systolic.rows`` -> ``units.mxu.rows``). A union's tag
    is the step that is not a key of the data at that point but the entry's ``kind``, so a unit *named* like a
    kind keeps its name (``units.pim.pim.mode`` -> ``units.pim.mode``) and a new unit kind needs no edit here."""
    out, node = [], data
    for x in loc:
        if x.startswith("function-"):
            continue
        if isinstance(node, dict) and x not in node and node.get("kind") == x:
            continue
        out.append(x)
        if isinstance(node, dict):
            node = node.get(x)
        elif isinstance(node, (list, tuple)) and x.isdigit() and int(x) < len(node):
            node = node[int(x)]
        else:
            node = None
    return out


def _untagged_entry(file: str, err: dict, data: Any) -> SpecError:
    """An entry of a tagged collection without its tag: usually a misspelt name (``--set units.npu.rows=64``
    on an arch whose array is ``mxu``), so name the entries that exist."""
    loc = [str(x) for x in err.get("loc", ())]
    tag = str((err.get("ctx") or {}).get("discriminator", "kind")).strip("'")
    parent = data
    for key in loc[:-1]:
        parent = parent.get(key) if isinstance(parent, dict) else None
    names = sorted(k for k, v in parent.items() if isinstance(v, dict) and tag in v) if isinstance(parent, dict) else []
    if names:  # one of several named entries (units): most likely a misspelt name
        return SpecError(file, ".".join(loc), f"no such entry, and a new entry must give its '{tag}'",
                         allowed=", ".join(names))
    return SpecError(file, ".".join(loc + [tag]), "missing required field")
