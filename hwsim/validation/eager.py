"""PyTorch eager on a GPU: the host launch pipeline against the GPU's kernels, and the board's energy.

In eager mode the host dispatches each kernel (``host_s`` per op, from the engine) and runs ahead of the GPU, so
a call repeated back to back (what the measurements time) takes, in steady state,

    t_call = max( sum_ops host_s (+ host_module_s per op inside an nn.Module forward),  sum_ops gpu_s )

The host term is what makes small cases "overhead-bound": block_kernels_h100_summary.csv shows decode B1_L2048 at
412 us eager against 198 us as a CUDA graph, and 193 us of kernels.

The GPU term: the ops run one after another on the one GPU, and the board's power governor averages power over
a window longer than one block (it reacts in milliseconds), so the power cap binds the block as a whole rather
than each kernel: ``sum_gpu = max( sum (body_i + fixed_i), sum (power_i + fixed_i) )`` with each op's unconstrained
time ``body_i``, its power floor ``power_i`` and its fixed time (:mod:`hwsim.engines.gpu_kernel`). A GEMM between
two memory-bound kernels runs at a higher clock than in a loop of itself; for one op this is the op's own time.

Board energy (NVML) of one call: ``static_power_w x t_call + sum of the ops' dynamic energies`` (actions and bits
times the arch's fitted energies, :func:`hwsim.ppa.energy.dynamic_energy`); the GPU idles at static power while
it waits for the host.
"""

from __future__ import annotations

from dataclasses import dataclass

from hwsim.arch.spec import ArchSpec
from hwsim.ppa.energy import dynamic_energy
from hwsim.result import RunResult


@dataclass(frozen=True)
class EagerTime:
    """Seconds of one call in steady state, and its two pipelines."""

    seconds: float
    host_s: float
    gpu_s: float

    @property
    def host_bound(self) -> bool:
        return self.host_s > self.gpu_s


def eager_time(run: RunResult, arch: ArchSpec, in_module: bool = False) -> EagerTime:
    """Steady-state time of one eager call of ``run``'s workload (module docstring).

    >>> from hwsim.api import evaluate
    >>> from hwsim.arch.loader import load_arch
    >>> from hwsim.validation.cases import gemm_op, single_op_workload
    >>> from hwsim.workload.ops import DType
    >>> t = eager_time(evaluate(single_op_workload(gemm_op(1, 768, 768, DType.BF16)), load_arch("h100")), load_arch("h100"))
    >>> t.host_bound
    True
    """
    host = free = capped = 0.0
    for c in run.costs:
        host += float(c.extra.get("host_s", 0.0))
        if in_module:
            host += float(getattr(arch.units[c.unit], "params", {}).get("host_module_s", 0.0))
        if "power_s" in c.extra:
            free += c.extra["body_s"] + c.extra["fixed_s"]
            capped += c.extra["power_s"] + c.extra["fixed_s"]
        else:  # an engine without a power model: its own latency
            free += c.latency_s
            capped += c.latency_s
    gpu = max(free, capped)
    return EagerTime(max(host, gpu), host, gpu)


def board_energy_j(run: RunResult, arch: ArchSpec, seconds: float) -> float:
    """NVML-style board energy of one call lasting ``seconds`` (module docstring)."""
    static = arch.energy.static_power_w if arch.energy is not None and arch.energy.static_power_w else 0.0
    return static * seconds + sum(sum(dynamic_energy(c, arch).values()) for c in run.costs)
