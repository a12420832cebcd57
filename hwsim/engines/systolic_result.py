"""The one result type of the systolic simulator and of its closed-form equations.

Both fidelities (``simulate_gemm``/``simulate_conv`` and ``systolic_equations``) return
:class:`SystolicSimResult`, so one can be checked against the other field by field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Mapping

from hwsim.engines.systolic_kernels import DF_IS, DF_OS, DF_WS
from hwsim.workload.ops import FrozenDict

OPERANDS = ("ifmap", "filter", "ofmap")


class Dataflow(str, Enum):
    """Which operand stays in the PEs: output (``os``), weight (``ws``) or input (``is``)."""

    OS = "os"
    WS = "ws"
    IS = "is"

    @property
    def code(self) -> int:
        return {Dataflow.OS: DF_OS, Dataflow.WS: DF_WS, Dataflow.IS: DF_IS}[self]

    @classmethod
    def parse(cls, text: "str | Dataflow") -> "Dataflow":
        try:
            return cls(str(getattr(text, "value", text)).lower())
        except ValueError:
            raise ValueError(f"unknown dataflow {text!r}; allowed: os, ws, is") from None


class CountingMode(str, Enum):
    """``physical`` (default): reuse-aware double-buffered tiles. ``scalesim_compat``: SCALE-Sim v3."""

    PHYSICAL = "physical"
    SCALESIM_COMPAT = "scalesim_compat"

    @classmethod
    def parse(cls, text: "str | CountingMode") -> "CountingMode":
        try:
            return cls(str(getattr(text, "value", text)))
        except ValueError:
            raise ValueError(f"unknown mode {text!r}; allowed: physical, scalesim_compat") from None


def per_operand(ifmap: int = 0, filter: int = 0, ofmap: int = 0) -> FrozenDict:  # noqa: A002
    return FrozenDict({"ifmap": int(ifmap), "filter": int(filter), "ofmap": int(ofmap)})


def _bytes(words: Mapping[str, int], word_bytes: int) -> FrozenDict:
    return FrozenDict({k: int(v) * word_bytes for k, v in words.items()})


@dataclass(frozen=True)
class SystolicSimResult:
    """Cycles and memory traffic of one GEMM/conv layer on an ``rows x cols`` systolic array.

    Attributes
    ----------
    m, k, n : int
        Lowered GEMM (ofmap pixels, window, filters) that was simulated.
    compute_cycles : int
        Cycles of the fold schedule with no memory stall (SCALE-Sim's formula, see docs/systolic.md).
    stall_cycles : int
        Cycles the array waits for DRAM between folds (0 with ``dram_bw_bytes_per_cycle=None``).
    total_cycles : int
        ``compute_cycles + stall_cycles``: first fold's start to last fold's end (SCALE-Sim "Total Cycles").
    total_cycles_incl_prefetch : int
        Adds the first tiles' fetch and the last outputs' drain (SCALE-Sim "Total Cycles (incl. prefetch)").
    utilization : float
        MACs / (total_cycles * rows * cols), 0..1.
    mapping_efficiency, compute_utilization : float
        Mean over folds of used PEs / all PEs, and of SCALE-Sim's per-fold compute utilisation, 0..1.
    sram_reads, sram_writes, dram_reads, dram_writes : mapping of operand -> words
        Keys ``ifmap``, ``filter``, ``ofmap``; ``*_bytes`` are the same in bytes.
    peak_dram_bw_bytes_per_cycle : float
        DRAM bandwidth at and above which there are no stalls (physical); SCALE-Sim's summed average
        DRAM bandwidths (compat: SCALE-Sim reports no peak).
    avg_dram_bw_bytes_per_cycle : float
        All DRAM bytes / total_cycles.
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
    word_bytes: int
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

    @property
    def folds(self) -> int:
        return self.row_folds * self.col_folds

    @property
    def sram_reads_bytes(self) -> FrozenDict:
        return _bytes(self.sram_reads, self.word_bytes)

    @property
    def sram_writes_bytes(self) -> FrozenDict:
        return _bytes(self.sram_writes, self.word_bytes)

    @property
    def dram_reads_bytes(self) -> FrozenDict:
        return _bytes(self.dram_reads, self.word_bytes)

    @property
    def dram_writes_bytes(self) -> FrozenDict:
        return _bytes(self.dram_writes, self.word_bytes)

    @property
    def dram_bytes(self) -> int:
        return (sum(self.dram_reads.values()) + sum(self.dram_writes.values())) * self.word_bytes

    def to_dict(self) -> dict:
        """Plain JSON-ready dict (per-operand maps as dicts, byte variants included)."""
        out = {}
        for name in self.__dataclass_fields__:
            v = getattr(self, name)
            out[name] = dict(v) if isinstance(v, Mapping) else (list(v) if isinstance(v, tuple) else v)
        for name in ("sram_reads", "sram_writes", "dram_reads", "dram_writes"):
            out[f"{name}_bytes"] = dict(getattr(self, f"{name}_bytes"))
        out["folds"] = self.folds
        return out
