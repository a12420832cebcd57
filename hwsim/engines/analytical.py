"""Closed forms shared by every unit kind: where tensors live, memory-level cycles, and the roofline bound.

Residency rule (a mapping assumption, stated in docs/model.md): weights and the KV cache live off-chip; an
activation tensor lives in the outermost on-chip memory the unit can use when it takes at most
``ACTIVATION_RESIDENCY_FRACTION`` of that memory's capacity (the rest is left for weight and output tiles),
otherwise it makes a round trip through off-chip memory. A tensor marked ``on_chip`` (a fused kernel's
intermediate: FlashAttention's score and probability blocks) lives in that on-chip level whatever its size.

Systolic GEMM traffic (tiles, reuse, spills) is the fold model of ``systolic_equations.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hwsim.result import Bound
from hwsim.workload.ops import TensorRole, TensorSpec

if TYPE_CHECKING:
    from hwsim.arch.components import MemoryLevel
    from hwsim.arch.spec import ArchSpec

ACTIVATION_RESIDENCY_FRACTION = 0.5


def home_level(t: TensorSpec, unit: str, arch: "ArchSpec") -> "MemoryLevel":
    """The memory level ``t`` is read from / written to by ``unit`` (see module docstring)."""
    dram, resident, limit = arch.memo(("home_level", unit), lambda: _homes(unit, arch))
    if t.role != TensorRole.ACTIVATION or resident is None or (t.bytes > limit and not t.on_chip):
        return dram
    return resident


def _homes(unit: str, arch: "ArchSpec"):
    """(off-chip level, the level activations may live in or None, their size limit in bytes) for ``unit``."""
    on_chip = arch.on_chip_for(unit)
    if not on_chip:
        return arch.dram, None, 0.0
    return arch.dram, on_chip[-1], ACTIVATION_RESIDENCY_FRACTION * on_chip[-1].capacity


def level_cycles(bytes_by_level: dict[str, float], arch: "ArchSpec") -> dict[str, float]:
    """Cycles (at the arch clock) each memory level needs to move its bytes at its bandwidth."""
    out = {}
    by_name = {m.name: m for m in arch.memories}
    for name, nbytes in bytes_by_level.items():
        m = by_name.get(name)
        if m is not None and nbytes > 0:
            out[name] = nbytes / (m.bandwidth / arch.clock_hz)
    return out


def roofline(compute_cycles: float, memory_cycles: dict[str, float], overhead_cycles: float = 0.0
             ) -> tuple[float, Bound]:
    """Cycles when compute and every memory level overlap perfectly, plus non-overlapped overhead.

    >>> roofline(100.0, {"dram": 250.0, "sram": 50.0})
    (250.0, <Bound.MEMORY: 'memory'>)
    """
    mem = max(memory_cycles.values(), default=0.0)
    body = max(compute_cycles, mem)
    bound = Bound.MEMORY if mem > compute_cycles else Bound.COMPUTE
    if overhead_cycles > body:
        bound = Bound.OVERHEAD
    return body + overhead_cycles, bound
