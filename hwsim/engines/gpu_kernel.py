"""One GPU kernel's time and activity, and the rules every GPU kernel model shares.

A kernel's time (docs/gpu.md, "Kernel time"):

    t = max( (t_c^p + t_m^p)^(1/p),  E_dyn / (P_cap - P_static) ) + t_fixed

* ``t_c``: compute time at the maximum clock (waves of CTAs x time per CTA);
* ``t_m``: memory time, the slower of HBM traffic / achievable HBM bandwidth and L2<->SM traffic / L2 bandwidth;
* ``p``: how well a kernel overlaps loads with math (fitted; p -> infinity is the ideal roofline max);
* the power floor: a kernel whose dynamic energy per second would exceed the board's power cap runs at the
  clock the governor allows, so it cannot finish faster than its activity energy ``E_dyn`` over the power left
  under the cap once the static power and the SMs' active power are paid (the H100 holds 700 W in every big
  GEMM loop of the calibration data);
* ``t_fixed``: per-kernel launch latency, prologue and epilogue.

Activity counts feed :mod:`hwsim.ppa.energy` through the CostResult: ``macs`` (executed, padding included) under
the action ``mac.<dtype>.<acc>``, element-wise operations under ``alu.<dtype>``, bytes by memory level, and the
seconds the SMs are busy under ``sm.active_s`` (its energy per action is a power: clocks, schedulers and
register files of active SMs; a copy-engine transfer leaves them idle).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hwsim.engines.gpu_params import GpuParams
from hwsim.result import Bound


@dataclass(frozen=True)
class KernelCost:
    """Time and activity of one kernel launch (or of several identical ones summed).

    Attributes
    ----------
    label : str
        What ran, e.g. ``"gemm tile 128x256 split 1"``.
    seconds : float
        GPU time including the fixed per-kernel part.
    compute_s, memory_s, power_s : float
        The three floors: compute at the max clock, memory, and power cap.
    body_s, fixed_s : float
        ``soft_max(compute_s, memory_s)`` and the fixed part: ``seconds = max(body_s, power_s) + fixed_s``.
    hbm_bytes, l2_bytes : float
        Off-chip traffic and L2<->SM traffic, bytes.
    macs : float
        Executed multiply-accumulates (tile padding included).
    alu_ops : float
        Element-wise operations on CUDA cores / SFUs.
    kernels : int
        Launches.
    """

    label: str
    seconds: float
    compute_s: float
    memory_s: float
    power_s: float
    hbm_bytes: float
    l2_bytes: float
    macs: float = 0.0
    alu_ops: float = 0.0
    kernels: int = 1
    mac_action: str = ""
    alu_action: str = ""
    sm_active_s: float = 0.0
    body_s: float = 0.0
    fixed_s: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def bound(self) -> Bound:
        body = max(self.compute_s, self.memory_s, self.power_s)
        if body <= 0.5 * self.seconds:
            return Bound.OVERHEAD
        return Bound.MEMORY if self.memory_s >= max(self.compute_s, self.power_s) else Bound.COMPUTE


def soft_max(a: float, b: float, p: float) -> float:
    """``(a^p + b^p)^(1/p)``: between max(a, b) (p large) and a + b (p = 1).

    >>> soft_max(3.0, 4.0, 2.0)
    5.0
    >>> soft_max(3.0, 4.0, 1e9)
    4.0
    """
    hi = max(a, b)
    if hi <= 0.0:
        return 0.0
    if p >= 1e6:
        return hi
    return hi * ((a / hi) ** p + (b / hi) ** p) ** (1.0 / p)


def dynamic_j(gp: GpuParams, mac_action: str, macs: float, alu_action: str, alu_ops: float,
              hbm_bytes: float, l2_bytes: float) -> float:
    """Dynamic energy (J) of the activity, with the arch's fitted per-action and per-bit energies."""
    return (macs * gp.energy(mac_action) + alu_ops * gp.energy(alu_action)
            + 8.0 * hbm_bytes * gp.bit_energy(gp.hbm_level) + 8.0 * l2_bytes * gp.bit_energy(gp.l2_level))


def finish(gp: GpuParams, label: str, compute_s: float, hbm_bytes: float, l2_bytes: float, *, mac_action: str = "",
           macs: float = 0.0, alu_action: str = "", alu_ops: float = 0.0, kernels: int = 1,
           fixed_s: float | None = None, hbm_bw: float | None = None, extra: dict | None = None,
           on_sms: bool = True) -> KernelCost:
    """Combine the floors of one kernel into its time (module docstring). ``on_sms`` is False for a copy-engine
    transfer, which leaves the SMs idle (no ``sm.active_s`` energy)."""
    memory_s = max(hbm_bytes / (hbm_bw or gp.hbm_bw), l2_bytes / gp.l2_bw)
    body = soft_max(compute_s, memory_s, gp["overlap_exponent"])
    e_dyn = dynamic_j(gp, mac_action, macs, alu_action, alu_ops, hbm_bytes, l2_bytes)
    headroom = gp.power_headroom_w if on_sms else gp.power_headroom_w + gp.sm_active_w  # idle SMs draw no P_SM
    power_s = e_dyn / headroom
    fixed = gp["kernel_fixed_s"] * kernels if fixed_s is None else fixed_s
    t = max(body, power_s) + fixed
    return KernelCost(label, t, compute_s, memory_s, power_s, hbm_bytes, l2_bytes, macs, alu_ops, kernels,
                      mac_action, alu_action, t if on_sms else 0.0, body, fixed, dict(extra or {}))


def combine(label: str, parts: list[KernelCost]) -> KernelCost:
    """Kernels launched one after another: times, traffic and counts add."""
    return KernelCost(label, sum(k.seconds for k in parts), sum(k.compute_s for k in parts),
                      sum(k.memory_s for k in parts), sum(k.power_s for k in parts),
                      sum(k.hbm_bytes for k in parts), sum(k.l2_bytes for k in parts),
                      sum(k.macs for k in parts), sum(k.alu_ops for k in parts), sum(k.kernels for k in parts),
                      next((k.mac_action for k in parts if k.mac_action), ""),
                      next((k.alu_action for k in parts if k.alu_action), ""), sum(k.sm_active_s for k in parts),
                      sum(k.body_s for k in parts), sum(k.fixed_s for k in parts), {"parts": [k.label for k in parts]})
