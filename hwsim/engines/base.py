"""Engine protocol and registry: dispatch by the unit's ``kind``, never by isinstance.

An engine costs one op on one unit and returns a :class:`~hwsim.result.CostResult`. Several engines may
register for a kind with priorities (highest first); an engine that cannot cost an op raises
:class:`~hwsim.errors.UnsupportedOpError` and the next is tried. Refusals are logged and recorded in the
result's notes, never swallowed (Accelergy's plug-in fallback; vidur's registry). Out-of-tree engines register
through the entry-point group ``hwsim.engines`` (each entry point is imported once, which registers it).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import replace
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Callable, ClassVar

from hwsim.engines.lowering import account, lower_for_unit
from hwsim.errors import UnsupportedOpError
from hwsim.result import CostResult, Fidelity

if TYPE_CHECKING:
    from hwsim.arch.spec import ArchSpec
    from hwsim.mapping.types import OpMapping
    from hwsim.workload.ops import Op

log = logging.getLogger(__name__)


class Engine(ABC):
    """Costs ops on units of one ``kind``.

    Subclasses set ``kind`` (the unit kind), ``fidelities`` they implement and ``priority`` (higher is tried
    first), and implement :meth:`cost`. Engines are stateless: construct once, call many times.
    """

    kind: ClassVar[str]
    name: ClassVar[str]
    fidelities: ClassVar[tuple[Fidelity, ...]] = (Fidelity.ANALYTICAL,)
    priority: ClassVar[int] = 0
    # op kinds the engine can cost at all (None: any); others are refused before any work is done, which keeps
    # the greedy mapper's "try every unit" cheap
    op_kinds: ClassVar[frozenset | None] = None

    @abstractmethod
    def cost(self, op: "Op", unit: str, arch: "ArchSpec", mapping: "OpMapping", fidelity: Fidelity) -> CostResult:
        """Cost ``op`` on ``arch.units[unit]``; raise UnsupportedOpError to refuse."""


_REGISTRY: dict[str, list[Engine]] = {}
_ENTRY_POINTS_LOADED = False


def register_engine(cls: type[Engine]) -> type[Engine]:
    """Class decorator: register an engine under ``cls.kind`` (kept sorted by priority)."""
    engines = _REGISTRY.setdefault(cls.kind, [])
    engines[:] = [e for e in engines if type(e).__name__ != cls.__name__]
    engines.append(cls())
    engines.sort(key=lambda e: -e.priority)
    return cls


def _load_entry_points() -> None:
    global _ENTRY_POINTS_LOADED
    if _ENTRY_POINTS_LOADED:
        return
    _ENTRY_POINTS_LOADED = True
    import hwsim.engines  # noqa: F401  (built-in engines register on import)

    for ep in entry_points(group="hwsim.engines"):
        try:
            ep.load()
        except Exception as e:  # an out-of-tree plug-in failing must not hide the built-ins
            log.warning("engine entry point %s failed to load: %s", ep.name, e)


def engines_for(kind: str) -> list[Engine]:
    _load_entry_points()
    return list(_REGISTRY.get(kind, []))


def registered_kinds() -> list[str]:
    _load_entry_points()
    return sorted(_REGISTRY)


def cost_op(op: "Op", unit: str, arch: "ArchSpec", mapping: "OpMapping", fidelity: Fidelity) -> CostResult:
    """Cost ``op`` on ``unit`` with the best engine that accepts it.

    Engines are tried by priority; one without the requested fidelity is skipped in favour of one that has
    it, and only if none has it does the engine with the nearest fidelity answer (noted in the result).
    """
    kind = arch.units[unit].kind
    engines = engines_for(kind)
    if not engines:
        raise UnsupportedOpError(f"no engine registered for unit kind {kind!r} (unit {unit})")
    rank = [Fidelity.ROOFLINE, Fidelity.ANALYTICAL, Fidelity.CYCLE]   # fallbacks: the nearest fidelity first
    order = [e for e in engines if fidelity in e.fidelities] + sorted(
        (e for e in engines if fidelity not in e.fidelities),
        key=lambda e: min(abs(rank.index(f) - rank.index(fidelity)) for f in e.fidelities))
    refusals = [f"{e.name}: runs {', '.join(sorted(k.value for k in e.op_kinds))}, not {op.kind.value}"
                for e in order if e.op_kinds is not None and op.kind not in e.op_kinds]
    order = [e for e in order if e.op_kinds is None or op.kind in e.op_kinds]
    if not order:
        raise UnsupportedOpError(f"op {op.name} ({op.kind.value}, {op.dtype.value}) cannot run on {unit}: "
                                 + "; ".join(refusals))
    ran, lowering_notes = lower_for_unit(op, arch.units[unit])  # sparse or dense form (engines/lowering.py)
    for eng in order:
        fid = fidelity if fidelity in eng.fidelities else _best(eng.fidelities)
        try:
            res = eng.cost(ran, unit, arch, mapping, fid)
        except UnsupportedOpError as e:
            log.debug("engine %s refused %s on %s: %s", eng.name, op.name, unit, e)
            refusals.append(f"{eng.name}: {e}")
            continue
        notes = lowering_notes + tuple(f"refused by {r}" for r in refusals)
        if fid != fidelity:
            notes += (f"{fidelity.value} fidelity not available for {kind}; {fid.value} used",)
        res = replace(res, notes=res.notes + notes) if notes else res
        variant = ran is not op or "sparsity" in op.attrs or "executed_fraction" in op.attrs
        return account(res, op, ran) if variant else res
    raise UnsupportedOpError(f"op {op.name} ({op.kind.value}, {op.dtype.value}) cannot run on {unit}: "
                             + "; ".join(refusals))


def _best(fids: tuple[Fidelity, ...]) -> Fidelity:
    rank = [Fidelity.CYCLE, Fidelity.ANALYTICAL, Fidelity.ROOFLINE]
    return next(f for f in rank if f in fids)


EngineFactory = Callable[[], Engine]
