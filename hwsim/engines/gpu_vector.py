"""Memory-bound GPU kernels: element-wise ops, norms, softmax, top-k and copies, as PyTorch eager runs them.

An op of the graph may launch several kernels in eager mode; :data:`EAGER_LOWERING` says which (the SwiGLU
activation ``silu(gate) * up`` is two kernels, ``silu`` and ``mul``, each reading the halves of the fused
gate/up output through strided views: block_kernels_h100.csv). Each kernel costs (docs/gpu.md, "Vector"):

* ``vector`` (PyTorch's vectorised element-wise kernel): bytes / (HBM bandwidth x ``vector_efficiency``);
* ``strided`` (the non-vectorised kernel PyTorch falls back to on non-contiguous views): the larger of the
  bytes term and elements / (``strided_elems_per_clk`` x SMs x clock): one element per thread per iteration,
  so it is bound by issue rate, not bytes (h100_microbench.csv: silu and mul on chunk halves run at the same
  elements/s although mul moves 1.5x the bytes);
* ``norm`` (one CTA per row, a reduction then a scaled write): bytes / (bandwidth x ``norm_efficiency``)
  plus ``norm_fixed_s``;
* ``copy`` (a contiguous ``copy_`` is a device-to-device memcpy on the copy engine, not on the SMs): bytes
  / HBM bandwidth, no SM traffic; its energy is HBM bits plus ``ce.bytes`` (J per byte through the copy engine);

each plus the per-kernel fixed time. In a benchmark loop whose working set fits in L2 (``warm``), traffic is
served by L2 instead of HBM. An op with ``attrs["strided"]`` reads strided views (a measured micro-benchmark).
"""

from __future__ import annotations

from dataclasses import dataclass

from hwsim.engines.gpu_kernel import KernelCost, combine, finish
from hwsim.engines.gpu_params import GpuParams
from hwsim.workload.ops import Op, OpKind

CE_ACTION = "ce.bytes"  # bytes a copy engine moves (read + write); its energy per action is J/byte


@dataclass(frozen=True)
class KernelSpec:
    """One eager kernel of an op: its path, and its traffic as multiples of the op's output bytes
    (``None``: the op's own input/output bytes)."""

    name: str
    path: str  # vector | strided | norm | copy
    reads: float | None = None
    writes: float | None = None
    strided_if_rows: bool = False


_SINGLE = {"vector": (KernelSpec("elementwise", "vector"),), "norm": (KernelSpec("norm", "norm"),)}
EAGER_LOWERING: dict[str, tuple[KernelSpec, ...]] = {
    "add": _SINGLE["vector"], "mul": _SINGLE["vector"], "relu": _SINGLE["vector"], "gelu": _SINGLE["vector"],
    "silu": _SINGLE["vector"], "rope": _SINGLE["vector"], "copy": _SINGLE["vector"],
    # F.silu(g) * u on the two halves of gate_up's output: silu reads g, mul reads silu(g) and u
    "silu_mul": (KernelSpec("silu", "vector", 1.0, 1.0, True), KernelSpec("mul", "vector", 2.0, 1.0, True)),
    "rmsnorm": _SINGLE["norm"], "layernorm": _SINGLE["norm"], "softmax": _SINGLE["norm"], "topk": _SINGLE["norm"],
}


def _kernel(gp: GpuParams, spec: KernelSpec, op: Op, rows: int, warm: bool) -> KernelCost:
    out_b = float(sum(t.bytes for t in op.outputs))
    rd = spec.reads * out_b if spec.reads is not None else float(sum(t.bytes for t in op.inputs))
    wr = spec.writes * out_b if spec.writes is not None else out_b
    nbytes = rd + wr
    hbm = 0.0 if warm else nbytes
    alu = f"alu.{op.dtype.value}"
    strided = (spec.strided_if_rows and rows > 1) or bool(op.attrs.get("strided", False))
    path = "strided" if strided and spec.path == "vector" else spec.path
    if path == "copy":
        return finish(gp, "copy engine", 0.0, hbm, nbytes if warm else 0.0, on_sms=False, alu_action=CE_ACTION,
                      alu_ops=nbytes)
    if path == "strided":
        elems = out_b / op.outputs[0].dtype.bytes
        compute = elems / (gp["strided_elems_per_clk"] * gp.sms * gp.clock_hz)
        return finish(gp, f"{spec.name} (strided)", compute, hbm, nbytes, alu_action=alu,
                      alu_ops=op.flops / len(_lowering(op)))
    if path == "norm":
        return finish(gp, spec.name, 0.0, hbm, nbytes, alu_action=alu, alu_ops=op.flops,
                      hbm_bw=gp.hbm_bw * gp["norm_efficiency"], fixed_s=gp["kernel_fixed_s"] + gp["norm_fixed_s"])
    return finish(gp, spec.name, 0.0, hbm, nbytes, alu_action=alu, alu_ops=op.flops / len(_lowering(op)),
                  hbm_bw=gp.hbm_bw * gp["vector_efficiency"])


def _lowering(op: Op) -> tuple[KernelSpec, ...]:
    if op.kind == OpKind.COPY:
        return (KernelSpec("copy", "copy"),)
    return EAGER_LOWERING.get(op.attrs.get("fn", op.kind.value), _SINGLE["vector"])


def vector_kernels(gp: GpuParams, op: Op, warm: bool = False) -> KernelCost:
    """The eager kernels of a vector or copy op, summed."""
    rows = op.dims.get("rows", 1)
    parts = [_kernel(gp, s, op, rows, warm) for s in _lowering(op)]
    return parts[0] if len(parts) == 1 else combine(" + ".join(k.label for k in parts), parts)
