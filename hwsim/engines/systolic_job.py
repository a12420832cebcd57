"""From an op on a systolic unit to the simulator's arguments, and from its result to a ``CostResult``.

Both systolic engines (analytical: :func:`systolic_equations`; cycle: :func:`simulate_gemm` /
:func:`simulate_conv`) go through :func:`job_for` and :func:`to_cost`, so they differ only in how the fold
schedule's stalls are found. Rules (docs/systolic.md, "Arch specs on the simulator"):

* **Arrays and folds.** ``rows x cols``, ``count`` arrays sharing the folds round-robin, the unit's
  ``fold_pipelining``; the mapping's dataflow, else the unit's.
* **SRAMs.** The unit's ``ifmap_buffer/filter_buffer/ofmap_buffer`` (per array, pooled over ``count``) when
  all three are given; otherwise each gets a third of the on-chip share the residency rule leaves for tiles,
  ``(1 - ACTIVATION_RESIDENCY_FRACTION) x capacity / 3`` of the outermost on-chip level the unit uses.
* **Bytes.** Element bytes from the tensors' formats (``TensorSpec.element_bytes``: scales and sparse
  metadata included) for ifmap, filter and output; partial sums in the accumulator format.
* **DRAM.** Off-chip bandwidth / clock, in bytes per cycle. Operands whose home (analytical.py residency rule)
  is on chip are fetched without the DRAM channel; when the array reads them from that very level (no local
  buffers) they move nowhere.
* **Rate.** A format the PEs run at ``rate`` MACs/cycle (< 1) stretches every cycle: the schedule is run in
  units of ``1/rate`` cycles (bandwidth per such unit ``bw / rate``), then scaled back.
* **Batched GEMMs** (``B`` > 1: attention per head, MoE experts per group) are ``groups``; CONV2D ops are
  lowered as SCALE-Sim does (``conv_as_gemm``).
* **Loop order.** The simulator walks SCALE-Sim's fold order, which refetches a large ifmap for every column
  fold; splitting M (or N) into chunks run as more groups is the other loop order (ifmap read once, weights
  once per chunk). ``mapping.tiles`` fixes the chunks, else the least-traffic chunking by the equations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

from hwsim.engines.analytical import ACTIVATION_RESIDENCY_FRACTION, home_level, level_cycles, roofline
from hwsim.errors import UnsupportedOpError
from hwsim.result import CostResult, Fidelity
from hwsim.workload.ops import FrozenDict, Op, OpKind, TensorRole, conv_as_gemm

if TYPE_CHECKING:
    from hwsim.arch.spec import ArchSpec
    from hwsim.engines.systolic_result import SystolicSimResult
    from hwsim.mapping.types import OpMapping


CHUNK_GAIN = 0.95   # chunk only for > 5 % less DRAM traffic (a smaller gain is within the stall estimate's error)


@dataclass(frozen=True)
class SystolicJob:
    """Simulator arguments for one op (``sim_kwargs``) plus what :func:`to_cost` needs to place the traffic."""

    m: int
    k: int
    n: int
    conv_dims: Mapping[str, int] | None
    sim_kwargs: Mapping
    rate: float
    stage: str                                   # the level the array reads operands from
    homes: Mapping[str, tuple[tuple[str, float], ...]]   # operand -> (home level, share of its bytes)
    bias: tuple[tuple[str, float], ...]          # (home level, bytes)
    chunking: str = ""                           # how M/N were split into independent GEMMs, if they were


def gemm_dims(op: Op) -> tuple[int, int, int, int]:
    """(groups, M, K, N) of a matmul-like op as the array sees it."""
    if op.kind == OpKind.GEMM:
        d = op.dims
        return d.get("B", 1), d["M"], d["K"], d["N"]
    if op.kind == OpKind.CONV2D:
        return (1, *conv_as_gemm(op.dims))
    raise UnsupportedOpError(f"{op.kind.value} is not a GEMM the array can fold (fused attention reaches arrays "
                             "lowered to two GEMMs and a softmax: hwsim/mapping/flash.py)")


def _operands(op: Op):
    """(A, W, out) tensors: W is the weight / KV-cache side, A the streamed activations."""
    ins = [t for t in op.inputs if not t.name.endswith(".bias")]
    w = [t for t in ins if t.role != TensorRole.ACTIVATION] or ins[1:]
    a = [t for t in ins if t not in w]
    return a, w, list(op.outputs)


def _homes(tensors, unit, arch) -> tuple[tuple[str, float], ...]:
    size = sum(t.bytes for t in tensors) or 1
    return tuple((home_level(t, unit, arch).name, t.bytes / size) for t in tensors)


def operand_buffers(unit: str, arch: "ArchSpec") -> tuple[tuple[float, float, float], str]:
    """((ifmap, filter, ofmap) SRAM bytes, the level the array reads operands from) of ``unit`` (module
    docstring, "SRAMs"): its local buffers pooled over ``count``, else a third each of the on-chip tile share.

    >>> from hwsim.arch.loader import load_arch
    >>> operand_buffers("mxu", load_arch("npu_128"))[0][0] == 0.5 * 32 * 2**20 / 3
    True
    """
    u = arch.units[unit]
    levels = arch.on_chip_for(unit)
    bufs = tuple(getattr(u, f"{o}_buffer", None) for o in ("ifmap", "filter", "ofmap"))
    if None not in bufs:
        return tuple(b * u.count for b in bufs), f"{unit}.buffers"
    share = (1 - ACTIVATION_RESIDENCY_FRACTION) * levels[-1].capacity / 3 if levels else 1.0
    return (max(share, 1.0),) * 3, (levels[0].name if levels else arch.dram.name)


def job_for(op: Op, unit: str, arch: "ArchSpec", mapping: "OpMapping") -> SystolicJob:
    """Apply the module's rules to one op on ``arch.units[unit]``; refuses ops the array cannot run."""
    u = arch.units[unit]
    if op.dtype not in u.precisions:
        raise UnsupportedOpError(f"{unit} computes {', '.join(p.value for p in u.precisions)}, not {op.dtype.value}")
    groups, m, k, n = gemm_dims(op)
    a, w, out = _operands(op)
    eb = {"ifmap": a[0].element_bytes if a else op.dtype.bytes, "filter": w[0].element_bytes if w else op.dtype.bytes,
          "ofmap": out[0].element_bytes, "psum": float(op.acc_dtype.bytes)}
    homes = {"ifmap": _homes(a, unit, arch), "filter": _homes(w, unit, arch), "ofmap": _homes(out, unit, arch)}
    by_name = {lv.name: lv for lv in arch.memories}
    on_chip = tuple(o for o, h in homes.items() if h and all(not by_name[lv].off_chip for lv, _ in h))
    sram, stage = operand_buffers(unit, arch)
    rate = u.mac_rate(op.dtype)
    kwargs = dict(rows=u.rows, cols=u.cols, dataflow=(mapping.dataflow or u.dataflow).value,
                  ifmap_sram_bytes=sram[0], filter_sram_bytes=sram[1], ofmap_sram_bytes=sram[2],
                  dram_bw_bytes_per_cycle=arch.dram.bandwidth / arch.clock_hz / rate, groups=groups,
                  arrays=u.count, fold_pipelining=u.fold_pipelining, operand_bytes=eb, on_chip=on_chip)
    bias = tuple((home_level(t, unit, arch).name, float(t.bytes)) for t in op.inputs if t.name.endswith(".bias"))
    if op.kind == OpKind.CONV2D:
        return SystolicJob(m, k, n, FrozenDict(op.dims), FrozenDict(kwargs), rate, stage, FrozenDict(homes), bias)
    mt, nt, how = _chunks(m, k, n, groups, kwargs, mapping.tiles)
    kwargs["groups"] = groups * -(-m // mt) * -(-n // nt)
    return SystolicJob(mt, k, nt, None, FrozenDict(kwargs), rate, stage, FrozenDict(homes), bias, how)


def _chunks(m: int, k: int, n: int, groups: int, kwargs: dict, tiles: Mapping[str, int]) -> tuple[int, int, str]:
    """Split M (or N) into equal chunks run as independent GEMMs: each chunk's ifmap (weights) may then stay in
    its SRAM while the weights (ifmap) are fetched once per chunk, the other loop order of the tiled GEMM.
    ``mapping.tiles`` ``{"M": .., "N": ..}`` fixes the chunks; otherwise the fewest cycles by the fold
    equations' least DRAM traffic among M or N halved repeatedly down to the array's rows/cols, taken only if it
    saves more than ``1 - CHUNK_GAIN`` of the traffic (the simulator runs the same chunks)."""
    from hwsim.engines.systolic_equations import systolic_equations

    if tiles:
        mt, nt = min(tiles.get("M", m), m), min(tiles.get("N", n), n)
        return mt, nt, f"chunks M{mt} x N{nt} (mapping tiles)"
    cands = [(m, n)]
    for dim, floor in ((0, kwargs["rows"]), (1, kwargs["cols"])):
        size, c = (m, n)[dim], 2
        while -(-size // c) >= floor and c <= size:
            t = -(-size // c)
            cands.append((t, n) if dim == 0 else (m, t))
            c *= 2

    def dram_bytes(mt_nt):
        mt, nt = mt_nt
        g = groups * -(-m // mt) * -(-n // nt)
        return systolic_equations(mt, k, nt, **{**kwargs, "groups": g}).dram_bytes

    base = dram_bytes((m, n))
    eb, on_chip = kwargs["operand_bytes"], kwargs["on_chip"]
    words = {"ifmap": m * k, "filter": k * n, "ofmap": m * n}
    compulsory = groups * sum(words[o] * eb[o] for o in words if o not in on_chip)
    if base <= compulsory * (1 + 1e-12):  # already every operand moved once: no split can do better
        return m, n, ""
    by_bytes = {c: dram_bytes(c) for c in cands[1:]}
    by_bytes[(m, n)] = base
    mt, nt = min(cands, key=lambda c: (by_bytes[c], -c[0] * c[1]))
    if by_bytes[(mt, nt)] > CHUNK_GAIN * by_bytes[(m, n)]:
        return m, n, ""
    return mt, nt, f"chunks M{mt} x N{nt} (least DRAM traffic)"


def _add(d: dict, level: str, operand: str, nbytes: float) -> None:
    if nbytes:
        d.setdefault(level, {})
        d[level][operand] = d[level].get(operand, 0.0) + float(nbytes)


def to_cost(job: SystolicJob, r: "SystolicSimResult", op: Op, unit: str, arch: "ArchSpec", engine: str,
            fidelity: Fidelity, notes: tuple[str, ...]) -> CostResult:
    """Place ``r``'s traffic on the memory levels, and take cycles = the schedule's span (prefetch and drain
    included) / rate, floored by every level's bytes / bandwidth."""
    reads: dict[str, dict[str, float]] = {}
    writes: dict[str, dict[str, float]] = {}
    rb, wb, sr, sw = r.dram_reads_bytes, r.dram_writes_bytes, r.sram_reads_bytes, r.sram_writes_bytes
    for operand in ("ifmap", "filter", "ofmap"):
        for level, share in job.homes[operand]:
            if level != job.stage:   # backing-store transfers; none when the array reads the home level itself
                _add(reads, level, operand, rb[operand] * share)
                _add(writes, level, operand, wb[operand] * share)
                if operand != "ofmap":
                    _add(writes, job.stage, operand, sw[operand] * share)    # fills of the staging SRAM
        _add(reads, job.stage, operand, sr[operand])                          # array feed (ofmap: accumulate, drain)
    _add(writes, job.stage, "ofmap", sw["ofmap"])
    for level, nbytes in job.bias:
        _add(reads, level, "bias", nbytes)
    moved = {lv: sum(reads.get(lv, {}).values()) + sum(writes.get(lv, {}).values())
             for lv in sorted(set(reads) | set(writes)) if not lv.endswith(".buffers")}
    mem = level_cycles(moved, arch)
    compute = r.compute_cycles / job.rate
    span = r.total_cycles_incl_prefetch / job.rate
    cycles = max(span, max(mem.values(), default=0.0))
    bound = roofline(compute, mem)[1]
    u = arch.units[unit]
    dram = arch.dram.name
    return CostResult(
        op=op.name, kind=op.kind.value, unit=unit, engine=engine, fidelity=fidelity, flops=op.flops,
        cycles=cycles, latency_s=cycles / arch.clock_hz, compute_cycles=compute, memory_cycles=mem,
        stall_cycles=cycles - compute, reads=reads, writes=writes,
        actions={f"mac.{op.dtype.value}.{op.acc_dtype.value}": op.macs},
        utilization=op.macs / (u.pes * job.rate * cycles) if cycles > 0 else 0.0, bound=bound,
        notes=notes + ((job.chunking,) if job.chunking else ()) + (f"{r.dataflow} dataflow, {r.folds} folds on {r.arrays} array(s) "
                       f"({'pipelined' if r.fold_pipelining else 'serial'}), SRAMs "
                       f"{'/'.join(f'{x / 1024:.0f}' for x in (job.sim_kwargs['ifmap_sram_bytes'], job.sim_kwargs['filter_sram_bytes'], job.sim_kwargs['ofmap_sram_bytes']))} KiB",),
        extra={"dram_bytes": sum(reads.get(dram, {}).values()) + sum(writes.get(dram, {}).values()),
               "folds": r.folds, "stall_cycles_dram": r.stall_cycles / job.rate,
               "peak_dram_bw_bytes_per_cycle": r.peak_dram_bw_bytes_per_cycle * job.rate})
