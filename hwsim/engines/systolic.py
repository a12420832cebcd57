"""Systolic arrays: analytical fold equations (this module) and the Numba cycle simulation (systolic_sim).

Compute cycles of one [M,K] x [K,N] GEMM on an R x C array follow SCALE-Sim v3, which this project checked
case by case (``docs/systolic.md``, reference/scalesim_v3_howto.md)::

    os: ceil(M/R) * ceil(N/C) * (K + R + C - 2) - 1
    ws: ceil(K/R) * ceil(N/C) * (M + 2R + C - 2) - 1
    is: ceil(K/R) * ceil(M/C) * (N + 2R + C - 2) - 1

Each fold pays the array's fill and drain; fold quantisation (ragged last folds) is in the ceilings. ``count``
identical arrays split the folds; groups (batched GEMMs) run back to back. A format the PEs run at a lower
rate (TPU v1: 16-bit at 1/4) divides the rate. Array operand reads per fold are SCALE-Sim's SRAM accesses:
every PE-row/column feed reads one word per cycle of the streaming phase.
"""

from __future__ import annotations

import math

from hwsim.arch.components import Dataflow, SystolicArray
from hwsim.engines.analytical import gemm_traffic, home_level, level_cycles, roofline
from hwsim.engines.base import Engine, register_engine
from hwsim.errors import UnsupportedOpError
from hwsim.result import CostResult, Fidelity
from hwsim.workload.ops import Op, OpKind, TensorRole, conv_as_gemm


def fold_cycles(m: int, k: int, n: int, rows: int, cols: int, dataflow: Dataflow,
                pipelined: bool = False) -> tuple[int, int]:
    """(folds, compute cycles) of one GEMM on one R x C array.

    ``pipelined=False`` is SCALE-Sim v3 exactly: folds run back to back, each paying its operand load and
    the array's fill/drain. ``pipelined=True`` double-buffers the stationary operand (TPU v1's weight FIFO
    shifts the next tile in while the current one computes, Jouppi et al. 2017 Sec. 2): after the first
    fold, each fold costs ``max(stream length, R)`` cycles. Both agree for a single fold.

    >>> fold_cycles(4, 4, 4, 4, 4, Dataflow.WS)   # one fold: 4 + 2*4 + 4 - 2 = 14 cycles, minus 1
    (1, 13)
    >>> fold_cycles(512, 4096, 4096, 128, 128, Dataflow.WS)
    (1024, 915455)
    >>> fold_cycles(1, 4096, 4096, 128, 128, Dataflow.WS, pipelined=True)  # 383 + 1023 x 128 - 1
    (1024, 131326)
    """
    if dataflow == Dataflow.OS:
        folds, stream, fill = math.ceil(m / rows) * math.ceil(n / cols), k, rows + cols - 2
    elif dataflow == Dataflow.WS:
        folds, stream, fill = math.ceil(k / rows) * math.ceil(n / cols), m, 2 * rows + cols - 2
    else:
        folds, stream, fill = math.ceil(k / rows) * math.ceil(m / cols), n, 2 * rows + cols - 2
    if pipelined:
        return folds, stream + fill + (folds - 1) * max(stream, rows) - 1
    return folds, folds * (stream + fill) - 1


def array_reads(m: int, k: int, n: int, rows: int, cols: int, dataflow: Dataflow) -> dict[str, float]:
    """Words the array reads from / writes to its buffers for one GEMM (useful words, no padding).

    ws: each weight is loaded once; inputs stream once per column fold; partial sums are written once per
    row fold. os: inputs once per column fold, weights once per row fold, outputs written once.
    is: inputs loaded once; weights stream once per column fold of M; partial sums once per row fold of K.
    """
    if dataflow == Dataflow.WS:
        return {"ifmap": m * k * math.ceil(n / cols), "filter": k * n, "ofmap": m * n * math.ceil(k / rows)}
    if dataflow == Dataflow.OS:
        return {"ifmap": m * k * math.ceil(n / cols), "filter": k * n * math.ceil(m / rows), "ofmap": m * n}
    return {"ifmap": m * k, "filter": k * n * math.ceil(m / cols), "ofmap": m * n * math.ceil(k / rows)}


def compute_cycles(groups: int, m: int, k: int, n: int, u: SystolicArray, df: Dataflow, rate: float = 1.0) -> float:
    """Cycles for ``groups`` GEMMs on ``u.count`` arrays: the folds of all groups are dealt round-robin to
    the arrays; ``rate`` < 1 (MACs per PE per cycle of the format) stretches every cycle.

    >>> from hwsim.arch.components import SystolicArray
    >>> u = SystolicArray(rows=4, cols=4, precisions=["int8"], count=2, fold_pipelining=False)
    >>> compute_cycles(1, 4, 8, 4, u, Dataflow.WS)   # 2 folds, one per array: 14 - 1
    13.0
    """
    folds, cyc = fold_cycles(m, k, n, u.rows, u.cols, df, u.fold_pipelining)
    per_array = math.ceil(folds * groups / u.count)
    stream = {Dataflow.OS: k, Dataflow.WS: m, Dataflow.IS: n}[df]
    fill = stream + (u.rows + u.cols - 2 if df == Dataflow.OS else 2 * u.rows + u.cols - 2)
    if u.fold_pipelining:  # one fill, then max(stream, R) per further fold on each array
        cycles = fill + (per_array - 1) * max(stream, u.rows) - 1
    else:
        cycles = per_array * fill - 1
    return float(cycles) / rate


def _steady(m: int, k: int, n: int, rows: int, df: Dataflow) -> int:
    stream = {Dataflow.OS: k, Dataflow.WS: m, Dataflow.IS: n}[df]
    return max(stream, rows)


def gemm_dims(op: Op) -> tuple[int, int, int, int]:
    """(groups, M, K, N) of a matmul-like op as the array sees it."""
    if op.kind == OpKind.GEMM:
        d = op.dims
        return d.get("B", 1), d["M"], d["K"], d["N"]
    if op.kind == OpKind.CONV2D:
        return (1, *conv_as_gemm(op.dims))
    raise UnsupportedOpError(f"{op.kind.value} is not a GEMM the array can fold (fused attention: build the "
                             "block with unfused attention for arrays)")


def _operands(op: Op):
    """(A, W, out) tensors: W is the weight / KV-cache side, A the streamed activations."""
    ins = [t for t in op.inputs if not t.name.endswith(".bias")]
    w = [t for t in ins if t.role != TensorRole.ACTIVATION] or ins[1:]
    a = [t for t in ins if t not in w]
    return a, w, list(op.outputs)


@register_engine
class SystolicEngine(Engine):
    """Analytical cost of matmul-like ops on a systolic array (fold equations + tiled traffic)."""

    kind = "systolic"
    name = "systolic-analytical"
    fidelities = (Fidelity.ANALYTICAL,)
    priority = 0

    def cost(self, op, unit, arch, mapping, fidelity):
        u: SystolicArray = arch.units[unit]
        if op.dtype not in u.precisions:
            raise UnsupportedOpError(f"{unit} computes {', '.join(p.value for p in u.precisions)}, "
                                     f"not {op.dtype.value}")
        groups, m, k, n = gemm_dims(op)
        df = mapping.dataflow or u.dataflow
        compute = compute_cycles(groups, m, k, n, u, df, u.mac_rate(op.dtype))
        return self._finish(op, unit, arch, u, df, groups, m, k, n, compute, Fidelity.ANALYTICAL, ())

    def _finish(self, op, unit, arch, u, df, groups, m, k, n, compute, fidelity, notes) -> CostResult:
        """Traffic per level, memory cycles, the bound and actions: shared with the cycle engine."""
        a, w, out = _operands(op)
        ea = a[0].element_bytes if a else op.dtype.bytes  # element_bytes: scales and sparse metadata included
        ew = w[0].element_bytes if w else op.dtype.bytes
        eo, ec = out[0].dtype.bytes, op.acc_dtype.bytes
        local = u.ifmap_buffer is not None and u.filter_buffer is not None and u.ofmap_buffer is not None
        on_chip = arch.on_chip_for(unit)
        shared = None if local else (on_chip[-1].capacity if on_chip else 0.0)
        t = gemm_traffic(m, k, n, groups, ea, ew, eo, ec, u.ifmap_buffer or 0, u.filter_buffer or 0,
                         u.ofmap_buffer or 0, shared, u.rows, u.cols)
        reads: dict[str, dict[str, float]] = {}
        writes: dict[str, dict[str, float]] = {}

        def add(d, level, operand, nbytes):
            d.setdefault(level, {})
            d[level][operand] = d[level].get(operand, 0.0) + nbytes

        # home levels: A and W (split across their tensors in proportion), outputs
        for tensors, total, operand in ((a, t.a_bytes, "ifmap"), (w, t.w_bytes, "filter")):
            size = sum(x.bytes for x in tensors) or 1
            for x in tensors:
                add(reads, home_level(x, unit, arch).name, operand, total * x.bytes / size)
        for x in out:
            add(writes, home_level(x, unit, arch).name, "ofmap", x.bytes)
        for x in op.inputs:
            if x.name.endswith(".bias"):
                add(reads, home_level(x, unit, arch).name, "bias", x.bytes)
        # operand feed to the array from its staging buffers (local buffers, else the innermost on-chip level)
        feed = {k_: v * groups for k_, v in array_reads(m, k, n, u.rows, u.cols, df).items()}
        stage = f"{unit}.buffers" if local else (on_chip[0].name if on_chip else arch.dram.name)
        add(reads, stage, "ifmap", feed["ifmap"] * ea)
        add(reads, stage, "filter", feed["filter"] * ew)
        add(writes, stage, "ofmap", feed["ofmap"] * ec)
        add(reads, stage, "ofmap", max(feed["ofmap"] - groups * m * n, 0) * ec)
        if local:  # fills of the local buffers from the home levels
            add(writes, stage, "ifmap", t.a_bytes)
            add(writes, stage, "filter", t.w_bytes)
        moved = {lv: sum(reads.get(lv, {}).values()) + sum(writes.get(lv, {}).values())
                 for lv in sorted(set(reads) | set(writes)) if lv != f"{unit}.buffers"}
        mem = level_cycles(moved, arch)
        # the first fold's operands cannot be prefetched behind compute
        first = (min(m, u.rows) * min(k, u.rows) * ea + min(k, u.rows) * min(n, u.cols) * ew)
        startup = first / (arch.dram.bandwidth / arch.clock_hz)
        cycles, bound = roofline(compute, mem, startup)
        peak = u.pes * u.mac_rate(op.dtype)
        util = op.macs / (peak * cycles) if cycles > 0 else 0.0
        dram = arch.dram.name
        return CostResult(
            op=op.name, kind=op.kind.value, unit=unit, engine=self.name, fidelity=fidelity, flops=op.flops,
            cycles=cycles, latency_s=cycles / arch.clock_hz, compute_cycles=compute, memory_cycles=mem,
            stall_cycles=max(cycles - compute, 0.0), reads=reads, writes=writes,
            actions={f"mac.{op.dtype.value}.{op.acc_dtype.value}": op.macs},
            utilization=util, bound=bound,
            notes=notes + (f"{df.value} dataflow, tiles M{t.m_tile} x N{t.n_tile} ({t.order}); "
                           f"compute = SCALE-Sim fold equations",),
            extra={"dram_bytes": sum(reads.get(dram, {}).values()) + sum(writes.get(dram, {}).values()),
                   "folds": groups * (fold_cycles(m, k, n, u.rows, u.cols, df)[0])})
