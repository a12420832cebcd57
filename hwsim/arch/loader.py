"""YAML -> ArchSpec. The only place arch files are read; errors carry ``file: field.path: message``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from hwsim.arch.spec import ArchSpec
from hwsim.errors import SpecError
from hwsim.specio import apply_overrides, display_path, read_mapping, validate

ARCH_DIR = Path(__file__).resolve().parents[2] / "arch_configs"


def shipped_archs() -> list[str]:
    return sorted(p.stem for p in ARCH_DIR.glob("*.yaml"))


def arch_path(name_or_path: str | Path) -> Path:
    """Resolve a shipped name (``npu_128``) or a path to a YAML file."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists():
        return p
    shipped = ARCH_DIR / f"{name_or_path}.yaml"
    if not shipped.exists():
        raise SpecError(str(name_or_path), "", "unknown architecture", allowed=", ".join(shipped_archs()))
    return shipped


def load_arch(name_or_path: str | Path, overrides: Iterable[str] = ()) -> ArchSpec:
    """Load and validate an architecture; ``overrides`` are ``dotted.path=value`` strings (``--set``).

    >>> arch = load_arch("tpu_v1")
    >>> arch.units["mxu"].rows, arch.clock_hz
    (256, 700000000.0)
    """
    p = arch_path(name_or_path)
    return arch_from_dict(read_mapping(p), display_path(p), overrides)


def arch_from_dict(data: dict[str, Any], file: str = "<arch>", overrides: Iterable[str] = ()) -> ArchSpec:
    data = apply_overrides(data, list(overrides), file) if overrides else data
    return validate(ArchSpec, _normalise(data, file), file)


def _normalise(data: dict[str, Any], file: str) -> dict[str, Any]:
    """Accept a YAML convenience: memories as a mapping name -> fields."""
    data = dict(data)
    mems = data.get("memories")
    if isinstance(mems, dict):
        data["memories"] = [{"name": k, **(v or {})} for k, v in mems.items()]
    units = data.get("units")
    if units is not None and not isinstance(units, dict):
        raise SpecError(file, "units", "must be a mapping of unit name -> fields")
    return data
