"""The one result type of the systolic simulator and of its closed-form equations.

Both fidelities (``simulate_gemm``/``simulate_conv`` and ``systolic_equations``) return
:class:`SystolicSimResult`, so one can be checked against the other field by field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Mapping

from hwsim.arch.components import Dataflow
from hwsim.errors import HwsimError
from hwsim.workload.ops import FrozenDict

OPERANDS = ("ifmap", "filter", "ofmap")
BYTE_KEYS = ("ifmap", "filter", "ofmap", "psum")   # psum: partial sums in the accumulator format


class SystolicInputError(HwsimError, ValueError):
    """A simulator argument out of range; the message names it, its value and what is allowed."""


def parse_dataflow(text: "str | Dataflow") -> Dataflow:
    """``"ws"``/``Dataflow.WS`` -> ``Dataflow.WS`` (the arch spec's enum; one for the whole project)."""
    try:
        return Dataflow(str(getattr(text, "value", text)).lower())
    except ValueError:
        raise SystolicInputError(f"unknown dataflow {text!r}; allowed: os, ws, is") from None


class CountingMode(str, Enum):
    """``physical`` (default): reuse-aware double-buffered tiles. ``scalesim_compat``: SCALE-Sim v3."""

    PHYSICAL = "physical"
    SCALESIM_COMPAT = "scalesim_compat"

    @classmethod
    def parse(cls, text: "str | CountingMode") -> "CountingMode":
        try:
            return cls(str(getattr(text, "value", text)))
        except ValueError:
            raise SystolicInputError(f"unknown mode {text!r}; allowed: physical, scalesim_compat") from None


def per_operand(ifmap: int = 0, filter: int = 0, ofmap: int = 0) -> FrozenDict:  # noqa: A002
    return FrozenDict({"ifmap": int(ifmap), "filter": int(filter), "ofmap": int(ofmap)})


def operand_bytes(word_bytes: float, given: Mapping[str, float] | None = None) -> FrozenDict:
    """Bytes per element of ifmap, filter, ofmap (final outputs) and psum; ``word_bytes`` where not given."""
    given = dict(given or {})
    unknown = set(given) - set(BYTE_KEYS)
    if unknown:
        raise SystolicInputError(f"operand_bytes: unknown keys {sorted(unknown)}; allowed: {', '.join(BYTE_KEYS)}")
    out = {k: float(given.get(k, word_bytes)) for k in BYTE_KEYS}
    for k, v in out.items():
        if not 0 < v < float("inf"):
            raise SystolicInputError(f"operand_bytes[{k!r}] must be > 0 and finite, got {v!r}")
    return FrozenDict(out)


@dataclass(frozen=True)
class SystolicSimResult:
    """Cycles and memory traffic of one GEMM/conv layer (``groups`` of them) on ``arrays`` R x C arrays.

    Attributes
    ----------
    m, k, n : int
        Lowered GEMM (ofmap pixels, window, filters) of one group.
    groups, arrays : int
        Independent GEMMs of that shape run back to back (a batched GEMM), and identical arrays the folds of
        all groups are dealt to round-robin (sharing the SRAMs and the DRAM channel).
    fold_pipelining : bool
        The next fold's stationary operand loads while the current fold streams: after the first fold each
        costs ``max(T, R)`` cycles instead of the full fold length (docs/systolic.md).
    compute_cycles : int
        Cycles of the fold schedule with no memory stall (SCALE-Sim's formula, see docs/systolic.md).
    stall_cycles : int
        Cycles the arrays wait for DRAM between folds (0 with ``dram_bw_bytes_per_cycle=None``).
    total_cycles : int
        ``compute_cycles + stall_cycles``: first fold's start to last fold's end (SCALE-Sim "Total Cycles").
    total_cycles_incl_prefetch : int
        Adds the first tiles' fetch and the last outputs' drain (SCALE-Sim "Total Cycles (incl. prefetch)").
    utilization : float
        MACs / (total_cycles * rows * cols * arrays), 0..1.
    mapping_efficiency, compute_utilization : float
        Mean over folds of used PEs / all PEs, and of SCALE-Sim's per-fold compute utilisation, 0..1.
    sram_reads, sram_writes, dram_reads, dram_writes : mapping of operand -> words
        Keys ``ifmap``, ``filter``, ``ofmap``; ``*_bytes`` are the same in bytes (``operand_bytes``). DRAM
        here is each operand's backing store; operands listed in ``on_chip`` live on chip and their
        transfers do not use the DRAM channel.
    operand_bytes : mapping
        Bytes per element of ``ifmap``, ``filter``, ``ofmap`` (final outputs) and ``psum`` (partial sums).
    peak_dram_bw_bytes_per_cycle : float
        DRAM bandwidth at and above which there are no stalls (physical); SCALE-Sim's summed average
        DRAM bandwidths (compat: SCALE-Sim reports no peak).
    avg_dram_bw_bytes_per_cycle : float
        DRAM-channel bytes / total_cycles.
    scalesim_report : mapping or None
        Compat mode: every COMPUTE/BANDWIDTH/DETAILED_ACCESS column, keyed by SCALE-Sim's header text.
    """

    m: int
    k: int
    n: int
    rows: int
    cols: int
    dataflow: str
    mode: str
    fidelity: str
    word_bytes: float
    dram_bw_bytes_per_cycle: float | None
    row_folds: int
    col_folds: int
    compute_cycles: int
    stall_cycles: int
    total_cycles: int
    total_cycles_incl_prefetch: int
    macs: int
    utilization: float
    mapping_efficiency: float
    compute_utilization: float
    sram_reads: Mapping[str, int]
    sram_writes: Mapping[str, int]
    dram_reads: Mapping[str, int]
    dram_writes: Mapping[str, int]
    peak_dram_bw_bytes_per_cycle: float
    avg_dram_bw_bytes_per_cycle: float
    scalesim_report: Mapping[str, float] | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    groups: int = 1
    arrays: int = 1
    fold_pipelining: bool = False
    operand_bytes: Mapping[str, float] | None = None
    on_chip: tuple[str, ...] = ()

    @property
    def folds(self) -> int:
        """Folds of all groups (each array runs about ``folds / arrays`` of them)."""
        return self.row_folds * self.col_folds * self.groups

    def _eb(self, key: str) -> float:
        return (self.operand_bytes or {}).get(key, self.word_bytes)

    def _as_bytes(self, words: Mapping[str, int], ofmap_key: str) -> FrozenDict:
        return FrozenDict({"ifmap": words["ifmap"] * self._eb("ifmap"), "filter": words["filter"] * self._eb("filter"),
                           "ofmap": words["ofmap"] * self._eb(ofmap_key)})

    @property
    def sram_reads_bytes(self) -> FrozenDict:
        return self._as_bytes(self.sram_reads, "psum")

    @property
    def sram_writes_bytes(self) -> FrozenDict:
        return self._as_bytes(self.sram_writes, "psum")

    @property
    def dram_reads_bytes(self) -> FrozenDict:
        """Partial sums read back are in the accumulator format."""
        return self._as_bytes(self.dram_reads, "psum")

    @property
    def dram_writes_bytes(self) -> FrozenDict:
        """Final outputs (``groups * m * n`` words) in the output format, spilled partial sums in ``psum``'s."""
        w = self.dram_writes["ofmap"]
        final = min(w, self.groups * self.m * self.n)
        return FrozenDict({"ifmap": 0.0, "filter": 0.0,
                           "ofmap": final * self._eb("ofmap") + (w - final) * self._eb("psum")})

    @property
    def dram_bytes(self) -> float:
        """Bytes over the DRAM channel (operands in ``on_chip`` excluded)."""
        r, w = self.dram_reads_bytes, self.dram_writes_bytes
        return float(sum(r[o] + w[o] for o in OPERANDS if o not in self.on_chip))

    def to_dict(self) -> dict:
        """Plain JSON-ready dict (per-operand maps as dicts, byte variants included)."""
        out = {}
        for name in self.__dataclass_fields__:
            v = getattr(self, name)
            out[name] = dict(v) if isinstance(v, Mapping) else (list(v) if isinstance(v, tuple) else v)
        for name in ("sram_reads", "sram_writes", "dram_reads", "dram_writes"):
            out[f"{name}_bytes"] = dict(getattr(self, f"{name}_bytes"))
        out["folds"] = self.folds
        out["dram_bytes"] = self.dram_bytes
        return out
