"""GPU-like tensor engines (SMs with tensor cores), at two fidelities behind one interface.

* ``TensorEngineRoofline`` (roofline fidelity, the foundation's model): every op is one kernel that reads its
  inputs from and writes its outputs to off-chip memory, runs at the dense tensor-core peak for matmul-like
  ops or the CUDA-core fp32 rate for the rest, and pays the per-launch overhead.
* ``TensorEngineCalibrated`` (analytical fidelity, preferred): the kernels PyTorch eager launches for the op,
  each costed by CTA tiles and waves (gpu_gemm), FlashAttention tiling or split-KV decode (gpu_attention), or
  as a memory-bound kernel (gpu_vector), under the board's power cap (gpu_kernel), with constants from the
  arch's ``params`` and ``energy`` blocks (gpu_params; equations and sources in docs/gpu.md).
"""

from __future__ import annotations

import math

from hwsim.arch.components import TensorEngine
from hwsim.engines.analytical import level_cycles, roofline
from hwsim.engines.base import Engine, register_engine
from hwsim.engines.gpu_attention import decode_kernel, prefill_kernel
from hwsim.engines.gpu_gemm import gemm_kernel
from hwsim.engines.gpu_kernel import KernelCost
from hwsim.engines.gpu_params import SM_ACTIVE, GpuParams, gpu_params
from hwsim.engines.gpu_vector import vector_kernels
from hwsim.errors import UnsupportedOpError
from hwsim.result import CostResult, Fidelity
from hwsim.workload.ops import OpGroup, OpKind, conv_as_gemm


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


# ---- calibrated GPU model (docs/gpu.md) ------------------------------------------------------------------
def _footprint(op) -> float:
    return float(sum(t.bytes for t in op.inputs) + sum(t.bytes for t in op.outputs))


def _gemm(gp: GpuParams, op, warm: bool) -> KernelCost:
    d = op.dims
    if op.kind == OpKind.CONV2D:
        m, k, n = conv_as_gemm(d)
        groups = 1
    else:
        groups, m, k, n = d.get("B", 1), d["M"], d["K"], d["N"]
        if "rows" in d:  # grouped GEMM with unequal groups: the mean rows per group
            m = max(1, math.ceil(d["rows"] / max(groups, 1)))
    # bytes per element as the kernel streams them: tensor bytes (scales and sparse metadata included) over the
    # kernel's elements, so HBM traffic equals the tensors' (an N:M kernel reads all of x for a K/2 GEMM)
    w_side = [t for t in op.inputs[1:] if not t.name.endswith(".bias")]
    ea = op.inputs[0].bytes / max(groups * m * k, 1)
    ew = sum(t.bytes for t in w_side) / max(groups * k * n, 1) if w_side else op.inputs[0].element_bytes
    eo = op.outputs[0].bytes / max(groups * m * n, 1)
    widths = (op.inputs[0].dtype.storage_bits / 8, (w_side or op.inputs)[0].dtype.storage_bits / 8,
              op.outputs[0].dtype.storage_bits / 8)  # row strides: stored elements, not scales or indices
    try:
        return gemm_kernel(gp, m, k, n, groups, op.dtype, ea, ew, eo, op.acc_dtype, warm, widths)
    except KeyError:
        raise UnsupportedOpError(f"{gp.unit} has no GEMM kernel for {op.dtype.value}") from None


def _attention(gp: GpuParams, op, warm: bool) -> KernelCost:
    if op.dtype not in gp.tensor_flops_per_sm:
        raise UnsupportedOpError(f"{gp.unit} has no tensor-core attention kernel for {op.dtype.value}")
    d = op.dims
    e = op.inputs[0].dtype.bytes
    kvh = d.get("KVH", d["H"])
    # bytes per K/V element as stored (the cache's format with its scales; the inputs after q)
    e_kv = sum(t.bytes for t in op.inputs[1:]) / max(sum(t.elements for t in op.inputs[1:]), 1)
    args = (gp, d["B"], d["H"], kvh, d["Lq"], d["Lkv"], d["D"], op.dtype, e)
    if d["Lq"] <= gp["decode_q_tile"]:
        return decode_kernel(*args, op.acc_dtype, warm, e_kv=e_kv)
    return prefill_kernel(*args, bool(op.attrs.get("causal", False)), op.acc_dtype, e_kv=e_kv)


_HOST = {OpKind.GEMM: "host_gemm_s", OpKind.CONV2D: "host_gemm_s", OpKind.ATTENTION: "host_attention_s",
         OpKind.COPY: "host_copy_s"}
_KERNEL_MODEL = {OpKind.GEMM: _gemm, OpKind.CONV2D: _gemm, OpKind.ATTENTION: _attention}


@register_engine
class TensorEngineCalibrated(Engine):
    """SMs with tensor cores: tiles, waves, L2/HBM traffic, power cap, launch and host overheads.

    ``latency_s`` is the GPU time of the op's kernels (what a CUDA graph replays); ``extra["host_s"]`` is the
    host time PyTorch eager spends dispatching them, which :func:`hwsim.validation.eager.eager_seconds`
    pipelines against the GPU time. An op whose ``attrs["warm_l2"]`` is true runs in a benchmark loop over
    the same tensors, so if its working set fits in L2 it is served from there.
    """

    kind = "tensor_engine"
    name = "tensor-engine-calibrated"
    fidelities = (Fidelity.ANALYTICAL,)
    priority = 10

    def cost(self, op, unit, arch, mapping, fidelity):
        gp = gpu_params(arch, unit)
        warm = bool(op.attrs.get("warm_l2", False)) and _footprint(op) <= gp["l2_resident_fraction"] * gp.l2_bytes
        if op.attrs.get("fn") == "dequant":
            return _to_cost(op, unit, arch, gp, _fused_dequant(gp, op), 0.0)
        model = _KERNEL_MODEL.get(op.kind)
        k = model(gp, op, warm) if model is not None else vector_kernels(gp, op, warm)
        host = gp[_HOST.get(op.kind, "host_vector_s")] * (1 if op.kind in _HOST else k.kernels)
        return _to_cost(op, unit, arch, gp, k, host)


def _fused_dequant(gp: GpuParams, op) -> KernelCost:
    """Weight dequantisation inside a W4A16-style GEMM kernel (Marlin, FineQuant): no launch and no traffic of
    its own; its ALU work runs on the CUDA cores at the fitted SIMT efficiency. It is charged after the GEMM
    (no overlap credited), an upper bound on what the fused kernel pays."""
    rate = gp.simt_flops_per_sm * gp.sms * gp.clock_hz * gp["simt_efficiency"]
    t = op.flops / rate
    return KernelCost(f"dequant fused into {op.attrs.get('for_op', 'its GEMM')}", t, t, 0.0, 0.0, 0.0, 0.0,
                      alu_ops=op.flops, kernels=0, alu_action=f"alu.{op.dtype.value}", body_s=t)


def _split(total: float, writes: float) -> tuple[dict, dict]:
    w = min(total, writes)
    return {"in": total - w}, {"out": w}


def _to_cost(op, unit, arch, gp: GpuParams, k: KernelCost, host_s: float) -> CostResult:
    clock = arch.clock_hz
    out_b = float(sum(t.bytes for t in op.outputs))
    reads, writes = {}, {}
    for level, nbytes in ((gp.hbm_level, k.hbm_bytes), (gp.l2_level, k.l2_bytes)):
        if nbytes > 0:
            reads[level], writes[level] = _split(nbytes, out_b)
    # SM-active seconds are an action only where the arch has a fitted power for them (ArchSpec.energy)
    sm = (SM_ACTIVE, k.sm_active_s) if SM_ACTIVE in gp.action_j else ("", 0.0)
    actions = {a: c for a, c in ((k.mac_action, k.macs), (k.alu_action, k.alu_ops), sm) if a and c
               and (a in gp.action_j or not a.startswith(("sm.", "ce.")))}
    peak = (gp.tensor_flops_per_sm.get(op.dtype, gp.simt_flops_per_sm) if op.kind in OpGroup.MATMUL_LIKE
            else gp.simt_flops_per_sm) * gp.sms * clock
    return CostResult(
        op=op.name, kind=op.kind.value, unit=unit, engine=TensorEngineCalibrated.name,
        fidelity=Fidelity.ANALYTICAL, flops=op.flops, cycles=k.seconds * clock, latency_s=k.seconds,
        compute_cycles=k.compute_s * clock,
        memory_cycles={lv: c for lv, c in ((gp.hbm_level, k.hbm_bytes / gp.hbm_bw * clock),
                                           (gp.l2_level, k.l2_bytes / gp.l2_bw * clock)) if c > 0},
        stall_cycles=max(k.seconds - k.compute_s, 0.0) * clock, reads=reads, writes=writes, actions=actions,
        utilization=op.flops / (peak * k.seconds) if k.seconds else 0.0, bound=k.bound,
        notes=(f"calibrated GPU model: {k.label}; {k.kernels} kernel(s); power floor {k.power_s * 1e6:.1f} us",),
        extra={"dram_bytes": k.hbm_bytes, "host_s": host_s, "kernels": k.kernels, "kernel": k.label,
               "power_s": k.power_s, "body_s": k.body_s, "fixed_s": k.fixed_s, "compute_s": k.compute_s,
               "memory_s": k.memory_s, **k.extra})
