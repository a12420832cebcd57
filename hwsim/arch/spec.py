"""ArchSpec: the root of a hardware description (units + memories + interconnect + technology).

Composition mirrors the silicon (gem5's ``SimpleBoard(processor=, memory=, cache_hierarchy=)``). The spec is
frozen and validated as a whole: names referenced across fields must exist, the last memory must be off-chip.
"""

from __future__ import annotations

from typing import Annotated, Union

from typing import Any, Callable

from pydantic import AliasChoices, Field, PrivateAttr, model_validator

from hwsim.arch.components import (EnergyCalibration, Hertz, Interconnect, MemoryLevel, Part, PimUnit, SystolicArray,
                                   TechSpec, TensorEngine, VectorUnit, yaml_key_wins)

# One line per unit kind (DESIGN.md: "one pydantic component class plus its one-line entry in the union").
Unit = Annotated[Union[SystolicArray, VectorUnit, TensorEngine, PimUnit], Field(discriminator="kind")]


class ArchSpec(Part):
    """A whole accelerator.

    Attributes
    ----------
    name : str
    description : str
        What it models, with sources (shown by ``hwsim show arch``).
    clock_hz : float
        Core clock (units' cycles are at this clock).
    tech : TechSpec
    units : dict of name -> unit
    memories : list of MemoryLevel
        Innermost first; the last one is the off-chip memory.
    interconnect : Interconnect
    """

    name: str
    description: str = ""
    clock_hz: Hertz = Field(validation_alias=AliasChoices("clock", "clock_hz"), description="spec field `clock`")
    tech: TechSpec = TechSpec()
    units: dict[str, Unit]
    memories: tuple[MemoryLevel, ...]
    interconnect: Interconnect = Interconnect()
    energy: EnergyCalibration | None = Field(None, description="fitted/measured energies overriding tech tables")
    control_overhead_fraction: float = Field(
        0.12, ge=0, lt=1,
        description="die share for control, I/O and glue not modelled per part (TPU v1 floorplan: control 2% + "
                    "I/O 10%, Jouppi et al. 2017 Fig. 2)")

    _memo: dict = PrivateAttr(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _clock_wins(cls, data: Any) -> Any:
        return yaml_key_wins(data, "clock", "clock_hz")

    @model_validator(mode="after")
    def _cross_checks(self) -> "ArchSpec":
        if not self.units:
            raise ValueError("needs at least one unit")
        if not self.memories:
            raise ValueError("needs at least one memory level")
        names = [m.name for m in self.memories]
        if len(set(names)) != len(names):
            raise ValueError(f"memory names must be unique, got {names}")
        if not self.memories[-1].off_chip:
            raise ValueError(f"the last memory level ({names[-1]}) must be off-chip (dram/hbm/lpddr...)")
        on_chip = {m.name for m in self.memories if not m.off_chip}
        for name, unit in self.units.items():
            for buf, level in getattr(unit, "buffer_levels", {}).items():
                if level not in on_chip:
                    raise ValueError(f"units.{name}.buffer_levels.{buf}: {level!r} is not an on-chip memory "
                                     f"level; on-chip levels are {', '.join(sorted(on_chip)) or 'none'}")
        for m in self.memories:
            for u in m.shared_by:
                if u not in self.units:
                    raise ValueError(f"memory {m.name}: shared_by names unknown unit {u!r}; units are "
                                     f"{', '.join(self.units)}")
        for name, u in self.units.items():  # units that live in a memory level (PIM) must name a real one
            level = getattr(u, "memory", None)
            if level is not None and level not in names:
                raise ValueError(f"unit {name}: memory {level!r} is not a memory level; levels are {', '.join(names)}")
        return self

    # ---- queries the engines use ---------------------------------------------------------------------
    @property
    def dram(self) -> MemoryLevel:
        """The off-chip memory (the outermost level)."""
        return self.memories[-1]

    def memo(self, key: Any, make: Callable[[], Any]) -> Any:
        """``make()`` computed once per spec instance: derived values of a frozen spec (its area, static
        power, the memory levels of a unit) that every op of every block would otherwise recompute. Copies get a
        fresh memo (see ``__copy__``), and entries never refer back to the spec, so specs stay free of reference
        cycles and are freed by reference counting (a sweep creates thousands)."""
        memo = self.__pydantic_private__["_memo"]  # the slot, not pydantic's (slow) __getattr__
        if key in memo:
            return memo[key]
        value = memo[key] = make()
        return value

    def __copy__(self):
        # model_copy shares private state shallowly: a copy (e.g. with another clock) starts with its own memo
        new = super().__copy__()
        new.__pydantic_private__["_memo"] = {}
        return new

    def __deepcopy__(self, memo=None):
        new = super().__deepcopy__(memo)
        new.__pydantic_private__["_memo"] = {}
        return new

    def levels_for(self, unit: str) -> list[MemoryLevel]:
        """Memory levels ``unit`` reads through, innermost first, ending with off-chip memory."""
        return list(self.memo(("levels_for", unit), lambda: tuple(m for m in self.memories if m.serves(unit))))

    def on_chip_for(self, unit: str) -> list[MemoryLevel]:
        return list(self.memo(("on_chip_for", unit),
                              lambda: tuple(m for m in self.levels_for(unit) if not m.off_chip)))

    @property
    def cycle_s(self) -> float:
        return 1.0 / self.clock_hz
