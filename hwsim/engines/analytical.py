"""Closed forms shared by every unit kind: where tensors live, traffic under tiling, and the roofline bound.

Residency rule (a mapping assumption, stated in docs/model.md): weights and the KV cache live off-chip; an
activation tensor lives in the outermost on-chip memory the unit can use when it takes at most
``ACTIVATION_RESIDENCY_FRACTION`` of that memory's capacity (the rest is left for weight and output tiles),
otherwise it makes a round trip through off-chip memory.

GEMM traffic under output tiling (the loop-nest analysis of Timeloop/ZigZag reduced to two loop orders):
with output tiles Mt x Nt and K streamed,

* n-outer order: A is re-read once per column tile, ``A x ceil(N/Nt)`` (once if all of A stays on chip);
  W is read once if its K x Nt block stays on chip, else ``W x ceil(M/Mt)``;
* m-outer order: symmetric.

The tiling with the least bytes from the operands' home levels wins.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hwsim.result import Bound
from hwsim.workload.ops import TensorRole, TensorSpec

if TYPE_CHECKING:
    from hwsim.arch.components import MemoryLevel
    from hwsim.arch.spec import ArchSpec

ACTIVATION_RESIDENCY_FRACTION = 0.5


def home_level(t: TensorSpec, unit: str, arch: "ArchSpec") -> "MemoryLevel":
    """The memory level ``t`` is read from / written to by ``unit`` (see module docstring)."""
    if t.role != TensorRole.ACTIVATION:
        return arch.dram
    on_chip = arch.on_chip_for(unit)
    if on_chip and t.bytes <= ACTIVATION_RESIDENCY_FRACTION * on_chip[-1].capacity:
        return on_chip[-1]
    return arch.dram


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


@dataclass(frozen=True)
class GemmTraffic:
    """Bytes moved from the operands' home levels for one GEMM (all groups), and the tiling chosen."""

    a_bytes: float
    w_bytes: float
    out_bytes: float
    m_tile: int
    n_tile: int
    order: str  # "n_outer" | "m_outer"

    @property
    def total(self) -> float:
        return self.a_bytes + self.w_bytes + self.out_bytes


def _tile_candidates(dim: int, step: int) -> list[int]:
    c, t = {dim}, max(1, step)
    while t < dim:
        c.add(t)
        t *= 2
    return sorted(c)


def gemm_traffic(m: int, k: int, n: int, groups: int, ea: float, ew: float, eo: float, ec: float,
                 cap_a: float, cap_w: float, cap_o: float, shared_cap: float | None,
                 row_step: int = 1, col_step: int = 1) -> GemmTraffic:
    """Least-traffic output tiling of ``groups`` GEMMs [m,k] x [k,n] under buffer capacities (bytes).

    ``ea, ew, eo`` are bytes per element of A, W and the output; ``ec`` of partial sums. With dedicated
    buffers, ``cap_a/cap_w/cap_o`` bound each operand (halved for double buffering of streamed chunks);
    with one shared buffer, ``shared_cap`` bounds their sum. Tiles step in multiples of the array's rows /
    columns.

    >>> t = gemm_traffic(1, 4096, 4096, 1, 2, 2, 2, 4, 0, 0, 0, shared_cap=1 << 20)
    >>> t.w_bytes == 4096 * 4096 * 2   # a GEMV reads its weights exactly once
    True
    """
    a_all, w_all = m * k * ea, k * n * ew
    best: GemmTraffic | None = None
    chunk = max(row_step, 1)
    for mt in _tile_candidates(m, row_step):
        for nt in _tile_candidates(n, col_step):
            out_tile = mt * nt * ec
            for order in ("n_outer", "m_outer"):
                if order == "n_outer":
                    a_res, w_res = a_all, k * nt * ew      # whole A / W column block kept
                else:
                    a_res, w_res = mt * k * ea, w_all      # A row block / whole W kept
                a_stream, w_stream = 2 * mt * chunk * ea, 2 * chunk * nt * ew
                if shared_cap is None:
                    if out_tile > cap_o or a_stream > cap_a or w_stream > cap_w:
                        continue
                    a_keep, w_keep = a_res <= cap_a / 2, w_res <= cap_w / 2
                else:
                    budget = shared_cap - out_tile
                    if budget < a_stream + w_stream:
                        continue
                    # keep the block this order reuses if it fits beside the other operand's stream
                    a_keep = a_res + w_stream <= budget if order == "m_outer" or a_res == a_all else False
                    w_keep = w_res + a_stream <= budget if order == "n_outer" or w_res == w_all else False
                    if a_keep and w_keep and a_res + w_res > budget:
                        a_keep = order == "m_outer"
                        w_keep = not a_keep
                ra = 1 if (a_keep and (order == "m_outer" or a_res == a_all)) else math.ceil(n / nt)
                rw = 1 if (w_keep and (order == "n_outer" or w_res == w_all)) else math.ceil(m / mt)
                cand = GemmTraffic(groups * a_all * ra, groups * w_all * rw, groups * m * n * eo, mt, nt, order)
                if best is None or cand.total < best.total:
                    best = cand
    if best is None:  # nothing fits even a minimal tile: stream everything per fold
        best = GemmTraffic(groups * a_all * math.ceil(n / max(col_step, 1)),
                           groups * w_all * math.ceil(m / max(row_step, 1)), groups * m * n * eo,
                           min(m, row_step), min(n, col_step), "unbuffered")
    return best
