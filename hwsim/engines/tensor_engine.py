"""GPU-like tensor engines (SMs with tensor cores): first-order roofline per kernel.

Every op is one kernel: it reads its inputs from and writes its outputs to off-chip memory (eager
execution, no fusion across ops), runs at the dense tensor-core peak for matmul-like ops or the CUDA-core
fp32 rate for the rest, and pays the per-launch overhead. This is the foundation's model; the calibrated
model (CTA tiles, waves, L2, achievable bandwidth) refines it behind the same interface.
"""

from __future__ import annotations

from hwsim.arch.components import TensorEngine
from hwsim.engines.analytical import level_cycles, roofline
from hwsim.engines.base import Engine, register_engine
from hwsim.errors import UnsupportedOpError
from hwsim.result import CostResult, Fidelity
from hwsim.workload.ops import OpGroup


@register_engine
class TensorEngineRoofline(Engine):
    kind = "tensor_engine"
    name = "tensor-engine-roofline"
    fidelities = (Fidelity.ROOFLINE,)
    priority = -10  # a calibrated engine for this kind outranks it

    def cost(self, op, unit, arch, mapping, fidelity):
        u: TensorEngine = arch.units[unit]
        if op.kind in OpGroup.MATMUL_LIKE:
            if op.dtype not in u.tensor_flops_per_sm_per_cycle:
                raise UnsupportedOpError(f"{unit} has no tensor-core peak for {op.dtype.value}")
            peak = u.tensor_flops_per_sm_per_cycle[op.dtype] * u.sms
            action = f"mac.{op.dtype.value}.{op.acc_dtype.value}"
            count = op.macs
        else:
            peak = u.vector_flops_per_sm_per_cycle * u.sms
            action, count = f"alu.{op.dtype.value}", op.flops
        compute = op.flops / peak if op.flops else 0.0
        dram = arch.dram.name
        reads = {dram: {"in": float(sum(t.bytes for t in op.inputs))}}
        writes = {dram: {"out": float(sum(t.bytes for t in op.outputs))}}
        mem = level_cycles({dram: reads[dram]["in"] + writes[dram]["out"]}, arch)
        overhead = u.launch_overhead * arch.clock_hz
        cycles, bound = roofline(compute, mem, overhead)
        return CostResult(
            op=op.name, kind=op.kind.value, unit=unit, engine=self.name, fidelity=Fidelity.ROOFLINE,
            flops=op.flops, cycles=cycles, latency_s=cycles / arch.clock_hz, compute_cycles=compute,
            memory_cycles=mem, stall_cycles=max(cycles - compute, 0.0), reads=reads, writes=writes,
            actions={action: count} if count else {}, utilization=op.flops / (peak * cycles) if cycles else 0.0,
            bound=bound, notes=("roofline: dense peak, compulsory off-chip traffic, launch overhead",),
            extra={"dram_bytes": reads[dram]["in"] + writes[dram]["out"]})
