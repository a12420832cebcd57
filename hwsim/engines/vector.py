"""Vector units: element-wise ops, norms, softmax, top-k and copies, costed as streaming kernels.

Compute cycles = flops / (lanes x flops per lane per cycle x count); every input is read once from its home
level and every output written once (the op streams, so there is no reuse to model). Copies (the KV-cache
append) have no arithmetic and are bounded by the memories they touch.
"""

from __future__ import annotations

import math

from hwsim.arch.components import VectorUnit
from hwsim.engines.analytical import home_level, level_cycles, roofline
from hwsim.engines.base import Engine, register_engine
from hwsim.errors import UnsupportedOpError
from hwsim.result import CostResult, Fidelity
from hwsim.workload.ops import Op, OpGroup


def stream_traffic(op: Op, unit: str, arch) -> tuple[dict, dict]:
    """Reads and writes (bytes) per home level for a streaming op: inputs once, outputs once."""
    reads: dict[str, dict[str, float]] = {}
    writes: dict[str, dict[str, float]] = {}
    for t in op.inputs:
        lv = home_level(t, unit, arch).name
        reads.setdefault(lv, {})
        reads[lv][t.role.value] = reads[lv].get(t.role.value, 0.0) + t.bytes
    for t in op.outputs:
        lv = home_level(t, unit, arch).name
        writes.setdefault(lv, {})
        writes[lv][t.role.value] = writes[lv].get(t.role.value, 0.0) + t.bytes
    return reads, writes


@register_engine
class VectorEngine(Engine):
    kind = "vector"
    op_kinds = OpGroup.VECTOR | OpGroup.DATA_MOVEMENT
    name = "vector-analytical"
    fidelities = (Fidelity.ANALYTICAL,)

    def cost(self, op, unit, arch, mapping, fidelity):
        u: VectorUnit = arch.units[unit]
        if op.kind not in OpGroup.VECTOR | OpGroup.DATA_MOVEMENT:
            raise UnsupportedOpError(f"vector unit runs element-wise/norm/softmax/copy ops, not {op.kind.value}")
        if op.kind not in OpGroup.DATA_MOVEMENT and op.dtype not in u.precisions:
            raise UnsupportedOpError(f"{unit} computes {', '.join(p.value for p in u.precisions)}, "
                                     f"not {op.dtype.value}")
        peak = u.lanes * u.flops_per_lane_per_cycle * u.count
        compute = math.ceil(op.flops / peak) if op.flops else 0.0
        reads, writes = stream_traffic(op, unit, arch)
        moved = {lv: sum(reads.get(lv, {}).values()) + sum(writes.get(lv, {}).values())
                 for lv in sorted(set(reads) | set(writes))}
        mem = level_cycles(moved, arch)
        cycles, bound = roofline(compute, mem)
        dram = arch.dram.name
        return CostResult(
            op=op.name, kind=op.kind.value, unit=unit, engine=self.name, fidelity=Fidelity.ANALYTICAL,
            flops=op.flops, cycles=cycles, latency_s=cycles / arch.clock_hz, compute_cycles=compute,
            memory_cycles=mem, stall_cycles=max(cycles - compute, 0.0), reads=reads, writes=writes,
            actions={f"alu.{op.dtype.value}": op.flops} if op.flops else {},
            utilization=op.flops / (peak * cycles) if cycles else 0.0, bound=bound,
            notes=(f"streaming kernel on {u.lanes} lanes x {u.count}",),
            extra={"dram_bytes": moved.get(dram, 0.0)})
