"""Systolic arrays: two engines over one fold model.

* ``systolic-analytical`` (fidelity analytical, the default for sweeps): the closed-form fold equations of
  :mod:`hwsim.engines.systolic_equations`.
* ``systolic-cycle`` (fidelity cycle, higher priority, ``hwsim run --engine cycle``): the Numba fold-walk
  simulator of :mod:`hwsim.engines.systolic_sim` (physical mode), stalls found step by step.

Both take their arguments from :func:`hwsim.engines.systolic_job.job_for` (arch spec -> arrays, SRAMs, bytes,
bandwidth, residency) and build the ``CostResult`` with :func:`~hwsim.engines.systolic_job.to_cost`, so their
compute cycles, SRAM and DRAM counts are equal and only the stall estimate differs (tests: <= 5 % in total
cycles over a grid of LLM shapes, arrays and bandwidths). Compute cycles of one ``[M,K] x [K,N]`` GEMM are
SCALE-Sim v3's, ``folds x L - 1``, or with ``fold_pipelining`` ``L + (folds - 1) x max(T, R) - 1``, the
folds of all groups dealt round-robin to ``count`` arrays (docs/systolic.md).
"""

from __future__ import annotations

from hwsim.workload.ops import OpKind
from hwsim.engines.base import Engine, register_engine
from hwsim.engines.systolic_equations import conv_ifmap_words, systolic_equations
from hwsim.engines.systolic_job import SystolicJob, gemm_dims, job_for, to_cost
from hwsim.result import Fidelity

__all__ = ["SystolicEngine", "SystolicCycleEngine", "gemm_dims"]


class _SystolicFolds(Engine):
    """Shared path: op -> :class:`SystolicJob` -> fold model (``_model``) -> ``CostResult``."""

    kind = "systolic"
    op_kinds = frozenset({OpKind.GEMM, OpKind.CONV2D})
    how = ""

    def cost(self, op, unit, arch, mapping, fidelity):
        job = job_for(op, unit, arch, mapping)
        return to_cost(job, self._model(job), op, unit, arch, self.name, self.fidelities[0], (self.how,))

    def _model(self, job: SystolicJob):
        raise NotImplementedError


@register_engine
class SystolicEngine(_SystolicFolds):
    """Analytical cost of matmul-like ops on a systolic array: closed-form fold equations."""

    name = "systolic-analytical"
    fidelities = (Fidelity.ANALYTICAL,)
    priority = 0
    how = "compute = fold equations; stalls per phase (closed form)"

    def _model(self, job):
        distinct = conv_ifmap_words(job.conv_dims) if job.conv_dims else None
        return systolic_equations(job.m, job.k, job.n, ifmap_distinct_words=distinct, **job.sim_kwargs)


@register_engine
class SystolicCycleEngine(_SystolicFolds):
    """Cycle-level cost: the fold-walk simulator with double-buffered SRAMs and a DRAM channel."""

    name = "systolic-cycle"
    fidelities = (Fidelity.CYCLE,)
    priority = 10
    how = "compute = fold equations; stalls by the fold-walk simulator (physical mode)"

    def _model(self, job):
        from hwsim.engines.systolic_sim import simulate_conv, simulate_gemm   # Numba: imported on first use

        if job.conv_dims is not None:
            return simulate_conv(job.conv_dims, **job.sim_kwargs)
        return simulate_gemm(job.m, job.k, job.n, **job.sim_kwargs)
