"""The GPU model's constants, read once from an ArchSpec: datasheet figures from the spec's fields, fitted ones
from ``TensorEngine.params`` and the energy block (``ArchSpec.energy``).

Every key of ``params`` the model reads is listed in :data:`PARAM_DOCS` with its meaning and unit; the arch
YAML says where each value came from (datasheet or a fit to named rows, see docs/gpu.md). A missing key takes
the default below, which is a neutral value (efficiency 1, overhead 0), never a hidden fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

import numpy as np

from hwsim.errors import SpecError
from hwsim.workload.ops import DType

if TYPE_CHECKING:
    from hwsim.arch.spec import ArchSpec

SM_ACTIVE = "sm.active_s"  # action counted in seconds of SM-kernel time; its energy per action is a power (W)

# key -> (default, meaning). Times in s, rates per SM per clock, bandwidths in B/s, powers in W.
PARAM_DOCS: Mapping[str, tuple[float, str]] = {
    "power_cap_w": (1e9, "board power limit the clock governor holds (W); 1e9 = no cap"),
    "hbm_efficiency": (1.0, "achievable fraction of the HBM datasheet bandwidth"),
    "sm_bandwidth": (1e15, "bytes/s one SM can pull from memory (outstanding requests / latency); a grid of fewer "
                             "CTAs than SMs reaches at most CTAs x this"),
    "l2_resident_fraction": (0.5, "share of the L2 a loop's working set may use and still be served from L2"),
    "smem_bytes_per_clk": (128.0, "shared-memory bandwidth per SM (B/clock): 32 banks x 4 B"),
    "gemm_fixed_s": (0.0, "extra GPU time per GEMM kernel: multi-stage pipeline fill and output epilogue (s)"),
    "tc_efficiency": (1.0, "fraction of the dense tensor-core peak a library GEMM main loop sustains at the max clock"),
    "int8_efficiency": (1.0, "the same for int8 (torch._int_mm's kernel on this GPU)"),
    "simt_efficiency": (1.0, "fraction of the CUDA-core fp32 FMA peak a SIMT GEMM sustains at the max clock"),
    "unaligned_efficiency": (1.0, "tensor-core rate of the fallback kernel when a row stride is not 16-byte aligned"),
    "overlap_exponent": (1e9, "p of the soft maximum (c^p + m^p)^(1/p) of compute and memory time; large = max()"),
    "kernel_fixed_s": (0.0, "GPU time per kernel besides its body: launch latency, prologue, epilogue, tail (s)"),
    "attn_efficiency": (1.0, "tensor-core rate of the flash-attention main loop, as a fraction of the peak"),
    "attn_q_tile": (128.0, "query rows per flash-attention CTA (prefill kernel)"),
    "attn_kv_tile": (128.0, "key/value rows per flash-attention iteration"),
    "attn_cta_fixed_s": (0.0, "time a flash-attention CTA spends outside its main loop: Q load, pipeline fill, epilogue (s)"),
    "attn_fixed_s": (0.0, "extra GPU time per flash-attention prefill call: cuDNN's launch and prologue (s)"),
    "softmax_per_clk": (1e9, "score elements per SM per clock the online softmax (exp, max, sum, rescale) handles"),
    "decode_q_tile": (16.0, "query rows the decode-attention kernel pads one token to (sm80 mma tile)"),
    "decode_efficiency": (1.0, "achievable fraction of HBM bandwidth of the split-KV decode kernel"),
    "decode_fixed_s": (0.0, "extra GPU time of a split-KV decode call: the split reduction kernel (s)"),
    "vector_efficiency": (1.0, "achievable fraction of bandwidth of a vectorised element-wise kernel"),
    "strided_elems_per_clk": (1e9, "elements per SM per clock of PyTorch's non-vectorised kernel on strided views"),
    "norm_efficiency": (1.0, "the same for the RMSNorm/LayerNorm kernel"),
    "norm_fixed_s": (0.0, "extra latency of a norm kernel: row reduction (s)"),
    "host_gemm_s": (0.0, "host time to dispatch one GEMM from a PyTorch eager loop (s)"),
    "host_attention_s": (0.0, "host time to dispatch one SDPA call (s)"),
    "host_vector_s": (0.0, "host time to dispatch one element-wise / norm kernel (s)"),
    "host_copy_s": (0.0, "host time to dispatch one tensor copy (s)"),
    "host_module_s": (0.0, "extra host time per op when it runs inside an nn.Module forward (s)"),
}


@dataclass(frozen=True)
class GpuParams:
    """Everything the GPU kernel models read, in SI units.

    Built by :func:`gpu_params`; ``p`` holds the ``params`` keys (defaults filled in).
    """

    unit: str
    sms: int
    clock_hz: float
    tensor_flops_per_sm: Mapping[DType, float]
    simt_flops_per_sm: float
    hbm_bw: float
    l2_bw: float
    l2_bytes: float
    hbm_level: str
    l2_level: str
    static_power_w: float
    action_j: Mapping[str, float]
    bit_j: Mapping[str, float]
    p: Mapping[str, float]

    def __getitem__(self, key: str) -> float:
        return self.p[key]

    @property
    def sm_active_w(self) -> float:
        """Power the SMs draw while a kernel runs on them, whatever it computes (W): action ``sm.active_s``."""
        return float(self.action_j.get(SM_ACTIVE, 0.0))

    @property
    def power_headroom_w(self) -> float:
        """Power left under the cap for activity-proportional energy (W)."""
        return max(self.p["power_cap_w"] - self.static_power_w - self.sm_active_w, 1e-9)

    def grid_bw(self, ctas, bw: float | None = None):
        """Achievable memory bandwidth of a grid of ``ctas`` CTAs (one per SM): ``min(bw, min(ctas, SMs) x sm_bw)``.
        Works on numpy arrays too."""
        return np.minimum(bw or self.hbm_bw, np.minimum(ctas, self.sms) * self.p["sm_bandwidth"])

    def energy(self, action: str) -> float:
        """J per action (0 when the arch has no fitted value: the power cap then never binds)."""
        return float(self.action_j.get(action, 0.0))

    def bit_energy(self, level: str) -> float:
        return float(self.bit_j.get(level, 0.0))


def gpu_params(arch: "ArchSpec", unit: str) -> GpuParams:
    """Read the GPU model's constants for ``arch.units[unit]`` (a ``tensor_engine``).

    Raises SpecError for a params key the model does not know (a typo must not be silently ignored).
    """
    u = arch.units[unit]
    unknown = sorted(set(u.params) - set(PARAM_DOCS))
    if unknown:
        raise SpecError(arch.name, f"units.{unit}.params", f"unknown keys {unknown}",
                        allowed=", ".join(PARAM_DOCS))
    p = {k: float(u.params.get(k, d)) for k, (d, _) in PARAM_DOCS.items()}
    on_chip = arch.on_chip_for(unit)
    l2 = on_chip[-1] if on_chip else arch.dram
    e = arch.energy
    return GpuParams(
        unit=unit, sms=u.sms, clock_hz=arch.clock_hz, tensor_flops_per_sm=dict(u.tensor_flops_per_sm_per_cycle),
        simt_flops_per_sm=u.vector_flops_per_sm_per_cycle, hbm_bw=arch.dram.bandwidth * p["hbm_efficiency"],
        l2_bw=l2.bandwidth, l2_bytes=l2.capacity if on_chip else 0.0, hbm_level=arch.dram.name, l2_level=l2.name,
        static_power_w=(e.static_power_w or 0.0) if e is not None else 0.0,
        action_j=dict(e.action_j) if e is not None else {}, bit_j=dict(e.bit_j) if e is not None else {}, p=p)
