"""Hardware parts as frozen pydantic models: compute units, memory levels, interconnect, technology.

Every field says its unit in its name or description; quantities may be written with prefixes in YAML
(``capacity: 24MiB``, ``bandwidth: 34GB/s``) and are stored in SI. A new unit kind is one class here plus
its entry in ``Unit`` (spec.py) and an engine registered for its ``kind`` (DESIGN.md, "Adding a hardware
model").
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from hwsim.units import QuantityError, parse_quantity
from hwsim.workload.ops import DType


def _q(base: str):
    def conv(v: Any) -> Any:
        if v is None:
            return v
        try:
            return parse_quantity(v, base)
        except QuantityError as e:
            raise ValueError(str(e)) from None
    return BeforeValidator(conv)


# Lower bounds keep every derived cycle count finite: a byte, a byte per second, a hertz.
Bytes = Annotated[float, _q("B"), Field(ge=1)]
BytesPerS = Annotated[float, _q("B/s"), Field(ge=1)]
Hertz = Annotated[float, _q("Hz"), Field(ge=1)]
Seconds = Annotated[float, _q("s"), Field(ge=0)]


class Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)


class Dataflow(str, Enum):
    """Which operand stays in the PEs: output (os), weight (ws) or input (is) stationary (SCALE-Sim's names)."""

    OS = "os"
    WS = "ws"
    IS = "is"


def _dtypes(v: Any) -> Any:
    if isinstance(v, str):
        v = [v]
    if isinstance(v, (list, tuple)):
        return [DType.parse(x) if isinstance(x, str) else x for x in v]
    return v


def yaml_key_wins(data: Any, key: str, field: str) -> Any:
    """For a field stored under another name than its YAML key (``clock`` -> ``clock_hz``, ``tech.node`` ->
    ``node_nm``; both accepted through ``AliasChoices(key, field)``, so errors name the key the file used): a
    resolved spec (``hwsim show``) spells the stored name, and an override of the YAML key on it wins."""
    if isinstance(data, dict) and key in data and field in data:
        data = {k: v for k, v in data.items() if k != field}
    return data


class SparsitySupport(Part):
    """Which zero patterns a unit skips; an op whose pattern it cannot skip runs dense (zeros computed and
    stored). See docs/variants.md and hwsim/engines/lowering.py, which applies this to every engine."""

    attention_block: bool = Field(False, description="skips masked-out (query-block, key-block) tiles of "
                                  "block-sparse, sliding-window and streaming attention")
    weight_nm: tuple[tuple[int, int], ...] = Field((), description="N:M weight patterns it runs compressed, "
                                                   "e.g. [[2, 4]] (Ampere/Hopper sparse tensor cores)")
    weight_block: bool = Field(False, description="skips all-zero weight blocks (block-structured pruning)")
    weight_unstructured: bool = Field(False, description="skips individual zero weights")
    metadata_bits: float | None = Field(None, ge=0, description="index bits it stores per kept weight; "
                                        "default: the format's own (2:4 -> 2, bitmap -> 1/density, block -> "
                                        "32 per block)")

    @field_validator("weight_nm")
    @classmethod
    def _n_le_m(cls, v: tuple) -> tuple:
        for n, m in v:
            if not 0 < n <= m:
                raise ValueError(f"each N:M pattern needs 0 < n <= m, e.g. [2, 4]; got [{n}, {m}]")
        return v

    def skips_weights(self, pattern: str, n: int = 0, m: int = 0) -> bool:
        """True if the unit runs weight sparsity ``pattern`` ("nm", "block", "unstructured") compressed."""
        if pattern == "nm":
            return (n, m) in self.weight_nm
        return {"block": self.weight_block, "unstructured": self.weight_unstructured}.get(pattern, False)


class ComputeUnit(Part):
    """Common fields: which formats the unit computes and how many of it the chip has."""

    precisions: tuple[DType, ...] = Field(description="compute formats the unit supports")
    count: int = Field(1, gt=0, description="identical instances working together on one op")
    sparsity: SparsitySupport = Field(SparsitySupport(), description="zero patterns the unit skips")

    @field_validator("precisions", mode="before")
    @classmethod
    def _parse_precisions(cls, v: Any) -> Any:
        return _dtypes(v)

    @field_validator("precisions")
    @classmethod
    def _nonempty(cls, v: tuple) -> tuple:
        if not v:
            raise ValueError("must list at least one precision")
        return v

    def peak_flops_s(self, dtype: DType, clock_hz: float) -> float | None:
        """Dense peak FLOP/s of all ``count`` instances in ``dtype`` at the arch clock ``clock_hz`` (None: the
        kind does not say). Used by reports (roofline ceilings); engines keep their own closed forms."""
        return None


class SystolicArray(ComputeUnit):
    """R x C array of MAC PEs (TPU MXU, SCALE-Sim). ``count`` arrays split an op's output tiles."""

    kind: Literal["systolic"] = "systolic"
    rows: int = Field(gt=0, description="PE rows (R)")
    cols: int = Field(gt=0, description="PE columns (C)")
    dataflow: Dataflow = Dataflow.WS
    macs_per_pe_per_cycle: dict[DType, float] = Field(
        default_factory=dict,
        description="throughput per PE per cycle by format (default 1.0 for every listed precision); "
                    "TPU v1 runs 16-bit operands at 1/4 rate (Jouppi et al. 2017, Sec. 2)")
    fold_pipelining: bool = Field(
        True, description="double-buffer the stationary operand so the next fold loads while this one computes "
                          "(TPU v1 weight FIFO); false reproduces SCALE-Sim v3's serial folds")
    ifmap_buffer: Bytes | None = Field(None, description="double-buffered input SRAM local to the array, bytes")
    filter_buffer: Bytes | None = Field(None, description="double-buffered weight SRAM/FIFO, bytes")
    ofmap_buffer: Bytes | None = Field(None, description="output/accumulator SRAM, bytes")
    buffer_levels: dict[Literal["ifmap", "filter", "ofmap"], str] = Field(
        default_factory=dict,
        description="local buffers that are physically one of the arch's on-chip memory levels (TPU v1: the "
                    "Unified Buffer feeds the array directly, so ifmap -> ub); the PPA model counts their area "
                    "and leakage once, under that level, and charges their accesses at that level's geometry")

    @field_validator("macs_per_pe_per_cycle", mode="before")
    @classmethod
    def _parse_rate_keys(cls, v: Any) -> Any:
        return {DType.parse(k) if isinstance(k, str) else k: r for k, r in (v or {}).items()}

    def mac_rate(self, dtype: DType) -> float:
        """MACs per PE per cycle for ``dtype`` (1.0 unless the spec says otherwise)."""
        return float(self.macs_per_pe_per_cycle.get(dtype, 1.0))

    @property
    def pes(self) -> int:
        return self.rows * self.cols * self.count

    def peak_flops_s(self, dtype: DType, clock_hz: float) -> float:
        """2 flops per MAC x PEs x MAC rate x clock (the peak the systolic engine divides by)."""
        return 2.0 * self.pes * self.mac_rate(dtype) * clock_hz


class VectorUnit(ComputeUnit):
    """SIMD lanes for element-wise ops, norms, softmax (the TPU's activation unit, an NPU's vector core)."""

    kind: Literal["vector"] = "vector"
    lanes: int = Field(gt=0, description="parallel ALUs")
    flops_per_lane_per_cycle: float = Field(1.0, gt=0, description="ops each lane completes per cycle")

    def peak_flops_s(self, dtype: DType, clock_hz: float) -> float:
        """lanes x flops per lane x count x clock, whatever the format (the vector engine's peak)."""
        return float(self.lanes * self.flops_per_lane_per_cycle * self.count) * clock_hz


class TensorEngine(ComputeUnit):
    """GPU-like streaming multiprocessors with tensor cores (H100, A100).

    Peaks are dense (no 2:4 sparsity) and per SM per clock; ``tensor_flops_per_sm_per_cycle`` holds
    2 x MACs. CUDA-core fp32 is ``vector_flops_per_sm_per_cycle``.
    """

    kind: Literal["tensor_engine"] = "tensor_engine"
    sms: int = Field(gt=0, description="streaming multiprocessors")
    tensor_flops_per_sm_per_cycle: dict[DType, float] = Field(description="dense tensor-core flops/SM/cycle")
    vector_flops_per_sm_per_cycle: float = Field(gt=0, description="CUDA-core fp32 flops/SM/cycle (FMA = 2)")
    smem_per_sm: Bytes = Field(description="shared memory per SM, bytes")
    launch_overhead: Seconds = Field(0.0, description="host-side time per kernel launch, s")
    params: dict[str, float] = Field(default_factory=dict,
                                     description="engine-specific fitted parameters, each documented in the YAML")

    @field_validator("tensor_flops_per_sm_per_cycle", mode="before")
    @classmethod
    def _parse_peak_keys(cls, v: Any) -> Any:
        return {DType.parse(k) if isinstance(k, str) else k: r for k, r in (v or {}).items()}

    def peak_flops_s(self, dtype: DType, clock_hz: float) -> float:
        """Tensor-core peak in ``dtype`` x SMs x clock, or the CUDA-core peak for formats without tensor cores."""
        per_sm = self.tensor_flops_per_sm_per_cycle.get(dtype, self.vector_flops_per_sm_per_cycle)
        return float(per_sm * self.sms) * clock_hz


class PimMode(str, Enum):
    """How PIM MAC commands address banks: all MAC units of a channel in lockstep, or one bank per command."""

    ALL_BANK = "all_bank"
    PER_BANK = "per_bank"


class PimUnit(ComputeUnit):
    """GEMV-capable DRAM (HBM-PIM / AiM / NeuPIMs style): a MAC unit per bank (or bank pair / bank group).

    The organisation and timing come from a preset in :mod:`hwsim.engines.pim_timing` (``PRESETS``, each
    value cited there); ``channels``, ``dual_row_buffer`` and ``timing`` override it. ``count`` devices of the
    preset work side by side (their channels add up).
    """

    kind: Literal["pim"] = "pim"
    preset: str = Field("HBM2_NEUPIMS", description="organisation + timing preset name (pim_timing.PRESETS)")
    memory: str | None = Field(None, description="the arch memory level whose banks compute (default: the "
                                                 "off-chip level); host traffic to it competes with PIM")
    mode: PimMode = PimMode.ALL_BANK
    dual_row_buffer: bool | None = Field(None, description="a second row buffer per bank lets host accesses "
                                                           "proceed during PIM (NeuPIMs); None: the preset's")
    channels: int | None = Field(None, gt=0, description="channels per device (None: the preset's)")
    timing: dict[str, int] = Field(default_factory=dict,
                                   description="DramTiming fields to override, in DRAM command-clock cycles")
    max_vectors: int = Field(8, gt=0, description="vectors one opened row serves (GQA query heads per K/V "
                                                  "head); matmuls with more rows per group are refused")
    placement: Literal["sequence", "head"] = Field(
        "sequence", description="what one channel holds whole: a sequence's KV cache (NeuPIMs' request-to-"
                                "channel mapping) or one (sequence, head) matrix")

    @model_validator(mode="after")
    def _known_preset(self) -> "PimUnit":
        from dataclasses import fields

        from hwsim.engines.pim_timing import PRESETS, DramTiming

        if self.preset not in PRESETS:
            raise ValueError(f"unknown PIM preset {self.preset!r}; allowed: {', '.join(PRESETS)}")
        known = {f.name for f in fields(DramTiming)} - {"clock_hz", "source"}
        bad = sorted(set(self.timing) - known)
        if bad:
            raise ValueError(f"unknown timing field(s) {', '.join(bad)}; allowed: {', '.join(sorted(known))}")
        from hwsim.engines.pim import pim_device

        _, t = pim_device(self)  # DramTiming / PimOrganization check their own values (one-line ValueError)
        if t.tRFC + t.tRP >= t.tREFI:
            raise ValueError(f"timing: tRFC {t.tRFC} + tRP {t.tRP} must be below tREFI {t.tREFI} (a refresh "
                             "must leave time to open a row)")
        return self

    def peak_flops_s(self, dtype: DType, clock_hz: float) -> float:
        """All-bank MAC peak at the DRAM's own clock (``pim_timing.peak_pim_flops``; ``clock_hz`` unused)."""
        from hwsim.engines.pim import pim_device
        from hwsim.engines.pim_timing import peak_pim_flops

        org, timing = pim_device(self)
        return peak_pim_flops(org, timing, dtype_bytes=dtype.bytes)


class MemoryKind(str, Enum):
    REGFILE = "regfile"
    SRAM = "sram"
    DDR3 = "ddr3"
    DDR4 = "ddr4"
    DDR5 = "ddr5"
    LPDDR4X = "lpddr4x"
    LPDDR5 = "lpddr5"
    LPDDR5X = "lpddr5x"
    GDDR6 = "gddr6"
    HBM2 = "hbm2"
    HBM2E = "hbm2e"
    HBM3 = "hbm3"
    HBM3E = "hbm3e"

    @property
    def off_chip(self) -> bool:
        return self not in (MemoryKind.REGFILE, MemoryKind.SRAM)


class MemoryLevel(Part):
    """One level of the memory hierarchy. The spec lists levels innermost first; the last is off-chip."""

    name: str
    kind: MemoryKind
    capacity: Bytes = Field(description="bytes")
    bandwidth: BytesPerS = Field(description="sustained bytes/s, reads + writes together")
    ports: int = Field(1, gt=0, description="independent read/write ports (informational for the cycle model)")
    banks: int = Field(1, gt=0, description="banks the capacity is split into (sets per-access energy); default "
                       "one macro, as in the CACTI runs the SRAM fit comes from (reference/tech_tables.csv: 1 bank)")
    access_bits: int = Field(64, gt=0, description="width of one access, bits (sets per-bit energy); default 64, "
                             "the narrower of the two port widths of the CACTI runs (64b, 512b; tech_tables.csv)")
    shared_by: tuple[str, ...] = Field((), description="unit names that use this level (empty: all units)")

    @property
    def off_chip(self) -> bool:
        return self.kind.off_chip

    def serves(self, unit: str) -> bool:
        return not self.shared_by or unit in self.shared_by


class Interconnect(Part):
    """On-chip network between units and memories (energy per bit-hop comes from the tech tables)."""

    kind: Literal["bus", "mesh", "crossbar"] = "bus"
    avg_hops: float = Field(1.0, ge=0, description="mean hops a byte travels between a memory and a unit; default "
                            "1: a bus, or a unit beside its memory (no published hop count for a generic NPU)")


class Device(str, Enum):
    """Transistor architecture; factors vs FinFET are in hwsim/ppa/tech.py with their sources."""

    FINFET = "finfet"
    GAA = "gaa"          # nanosheet
    CFET = "cfet"        # complementary FET (stacked n/p)
    FFET = "ffet"        # Flip FET, single-sided signals
    FFET_DUAL = "ffet_dual"  # Flip FET, dual-sided signals


class SramCell(str, Enum):
    """SRAM device flavour for leakage and dynamic energy (CACTI's ITRS device types; factors in
    hwsim/data/tech/params.csv)."""

    HP = "hp"        # high performance (the CACTI runs' cells)
    LOP = "lop"      # low operating power
    LSTP = "lstp"    # low standby power


class ClockScaling(str, Enum):
    """Whether ``device`` changes the clock: ``fixed`` keeps the spec's clock; ``device`` multiplies it by the
    device's frequency gain at the same utilisation (and takes its smaller area); ``device_iso_area`` by the
    gain at the same core area (logic area unchanged). Factors in hwsim/data/tech/devices.csv."""

    FIXED = "fixed"
    DEVICE = "device"
    DEVICE_ISO_AREA = "device_iso_area"


class TechSpec(Part):
    """Process node (nm) and device; energies and areas scale from 45 nm tables (Stillmaker-Baas)."""

    node_nm: int = Field(45, validation_alias=AliasChoices("node", "node_nm"),
                         description="process node in nm (spec field `node`): 45, 28, 16, 7, 5 or 3")
    device: Device = Device.FINFET
    sram_cell: SramCell = Field(SramCell.HP, description="SRAM device flavour: hp, lop or lstp")
    clock_scaling: ClockScaling = Field(ClockScaling.FIXED,
                                        description="fixed | device | device_iso_area (see ClockScaling)")

    @model_validator(mode="before")
    @classmethod
    def _node_wins(cls, data: Any) -> Any:
        return yaml_key_wins(data, "node", "node_nm")

    @field_validator("node_nm", mode="before")
    @classmethod
    def _node_text(cls, v: Any) -> Any:
        """'28nm', '28 nm' and '28' all read as 28; anything else is refused with the allowed nodes."""
        if isinstance(v, str):
            text = v.strip().lower().removesuffix("nm").strip()
            if not text.isdigit():
                raise ValueError(f"cannot read {v!r} as a process node in nm; allowed: 45, 28, 16, 7, 5, 3")
            return int(text)
        return v

    @field_validator("node_nm")
    @classmethod
    def _known_node(cls, v: int) -> int:
        if v not in (45, 28, 16, 7, 5, 3):
            raise ValueError(f"node {v} nm has no scaling data; allowed: 45, 28, 16, 7, 5, 3")
        return v


class EnergyCalibration(Part):
    """Measured or fitted energies that replace the technology tables for one chip (e.g. an H100 fitted to
    NVML readings). Every value must say where it came from in ``source``."""

    source: str = Field(description="the data and rows the values were fitted to, or the datasheet")
    static_power_w: float | None = Field(None, ge=0, description="power drawn whenever the chip is busy, "
                                         "independent of activity (replaces the leakage model), W")
    action_j: dict[str, float] = Field(default_factory=dict,
                                       description="J per action, keys as in CostResult.actions "
                                                   "(e.g. 'mac.bf16.fp32', 'alu.bf16')")
    bit_j: dict[str, float] = Field(default_factory=dict, description="J per bit moved, by memory level name")
