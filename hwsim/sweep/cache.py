"""A memo of op costs that a sweep shares across design points.

:func:`hwsim.engines.base.cost_op` is a pure function of the op, the unit it runs on, the arch and the op's
mapping. Within one arch the greedy mapper costs every op on every unit and ``evaluate`` then costs the
chosen one again; across a sweep most points change only some units or memories. :class:`CostCache` is a
drop-in for ``cost_op`` (``evaluate(..., coster=cache)``) that answers repeated questions from a memo.

What the key holds, and why that is enough: an engine costs an op from the op (keyed by identity: the
sweep keeps one graph per workload assignment, and the memo holds the op so its id stays unique), *its own* unit, the memory
hierarchy, the clock, the interconnect and the arch's fitted energies (the calibrated GPU engine's power
floor reads them); technology enters only in the PPA stage (DESIGN.md). So the key is the op (by identity), the
unit's spec, the memories, the clock, the interconnect, ``energy``, and the mapping's dataflow, tiles and
engine options, but not the other units, ``tech``, the name or the description: a sweep over ``tech.node`` or
over one unit reuses every other cost. Refusals
(UnsupportedOpError) are remembered too. ``tests/sweep/test_cache.py`` checks that cached and uncached
evaluation agree bit for bit on every shipped arch while those excluded fields change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hwsim.engines.base import cost_op
from hwsim.errors import UnsupportedOpError
from hwsim.result import CostResult, Fidelity

if TYPE_CHECKING:
    from hwsim.arch.spec import ArchSpec
    from hwsim.mapping.types import OpMapping
    from hwsim.workload.ops import Op


class CostCache:
    """``cost_op`` with a bounded memo (cleared when it holds ``max_entries``).

    >>> from hwsim.arch.loader import load_arch
    >>> from hwsim.workload import build_block, load_model
    >>> from hwsim.api import evaluate
    >>> wl, arch = build_block(load_model("gpt2"), "decode", 1, kv_len=128), load_arch("npu_128")
    >>> cache = CostCache()
    >>> evaluate(wl, arch, coster=cache).latency_s == evaluate(wl, arch).latency_s
    True
    >>> cache.hits > 0
    True
    """

    def __init__(self, max_entries: int = 8192):
        self.max_entries = max_entries
        self.hits = self.misses = 0
        self._memo: dict[tuple, tuple["Op", CostResult | UnsupportedOpError]] = {}
        self._arch_keys: dict[int, tuple["ArchSpec", dict[str, tuple]]] = {}

    def unit_key(self, arch: "ArchSpec", unit: str) -> tuple:
        """What of ``arch`` an op's cost on ``unit`` may depend on (see the module docstring)."""
        entry = self._arch_keys.get(id(arch))
        if entry is None or entry[0] is not arch:  # hold the arch so its id cannot be reused meanwhile
            if len(self._arch_keys) > 1024:
                self._arch_keys.clear()
            # everything an engine may read besides the unit itself: memories, clock, interconnect and the
            # fitted energies (the calibrated GPU engine sets its power floor from them)
            shared = (repr(arch.memories), arch.clock_hz, repr(arch.interconnect), repr(arch.energy))
            entry = self._arch_keys[id(arch)] = (arch, {u: (repr(spec),) + shared for u, spec in arch.units.items()})
        return entry[1][unit]

    def __call__(self, op: "Op", unit: str, arch: "ArchSpec", mapping: "OpMapping", fidelity: Fidelity) -> CostResult:
        key = (id(op), unit, self.unit_key(arch, unit), mapping.dataflow, tuple(sorted(mapping.tiles.items())),
               repr(getattr(mapping, "options", None)), fidelity)
        entry = self._memo.get(key)
        if entry is not None and entry[0] is op:
            self.hits += 1
            hit = entry[1]
        else:
            self.misses += 1
            try:
                hit = cost_op(op, unit, arch, mapping, fidelity)
            except UnsupportedOpError as e:
                # keep the message only: the exception's traceback would hold this frame, whose locals hold
                # the exception (a reference cycle per refusal, which the cyclic GC then keeps re-scanning)
                hit = UnsupportedOpError(*e.args)
            if len(self._memo) >= self.max_entries:
                self._memo.clear()
            self._memo[key] = (op, hit)  # holding the op keeps its id from being reused while cached
        if isinstance(hit, UnsupportedOpError):
            raise UnsupportedOpError(*hit.args) from None
        return hit
