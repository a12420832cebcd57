"""Hardware parts as frozen pydantic models: compute units, memory levels, interconnect, technology.

Every field says its unit in its name or description; quantities may be written with prefixes in YAML
(``capacity: 24MiB``, ``bandwidth: 34GB/s``) and are stored in SI. A new unit kind is one class here plus
its entry in ``Unit`` (spec.py) and an engine registered for its ``kind`` (DESIGN.md, "Adding a hardware
model").
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

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


Bytes = Annotated[float, _q("B"), Field(gt=0)]
BytesPerS = Annotated[float, _q("B/s"), Field(gt=0)]
Hertz = Annotated[float, _q("Hz"), Field(gt=0)]
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


class ComputeUnit(Part):
    """Common fields: which formats the unit computes and how many of it the chip has."""

    precisions: tuple[DType, ...] = Field(description="compute formats the unit supports")
    count: int = Field(1, gt=0, description="identical instances working together on one op")

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


class VectorUnit(ComputeUnit):
    """SIMD lanes for element-wise ops, norms, softmax (the TPU's activation unit, an NPU's vector core)."""

    kind: Literal["vector"] = "vector"
    lanes: int = Field(gt=0, description="parallel ALUs")
    flops_per_lane_per_cycle: float = Field(1.0, gt=0, description="ops each lane completes per cycle")


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
    banks: int = Field(1, gt=0, description="banks the capacity is split into (sets per-access energy)")
    access_bits: int = Field(64, gt=0, description="width of one access, bits (sets per-bit energy)")
    shared_by: tuple[str, ...] = Field((), description="unit names that use this level (empty: all units)")

    @property
    def off_chip(self) -> bool:
        return self.kind.off_chip

    def serves(self, unit: str) -> bool:
        return not self.shared_by or unit in self.shared_by


class Interconnect(Part):
    """On-chip network between units and memories (energy per bit-hop comes from the tech tables)."""

    kind: Literal["bus", "mesh", "crossbar"] = "bus"
    avg_hops: float = Field(1.0, ge=0, description="mean hops a byte travels between a memory and a unit")


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

    node_nm: int = Field(45, description="45, 28, 16, 7, 5 or 3")
    device: Device = Device.FINFET
    sram_cell: SramCell = Field(SramCell.HP, description="SRAM device flavour: hp, lop or lstp")
    clock_scaling: ClockScaling = Field(ClockScaling.FIXED,
                                        description="fixed | device | device_iso_area (see ClockScaling)")

    @model_validator(mode="before")
    @classmethod
    def _node_alias(cls, data: Any) -> Any:
        if isinstance(data, dict) and "node" in data:
            data = dict(data)
            node = data.pop("node")
            data["node_nm"] = int(str(node).lower().removesuffix("nm")) if isinstance(node, str) else node
        return data

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
