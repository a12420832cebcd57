"""Checks of hwsim's PPA against published chip figures (hwsim/data/reference/validation_targets.csv).

Each :class:`Check` holds the published value, hwsim's value, the error and the tolerance the tests hold it
to (``tolerance=None``: reported, not asserted, e.g. a known gap). ``scripts/validation_table.py`` prints them
as the table in docs/validation.md; ``tests/ppa/test_validation.py`` asserts them.
"""

from __future__ import annotations

from dataclasses import dataclass

from hwsim.arch.loader import load_arch
from hwsim.ppa.area import area_breakdown
from hwsim.ppa.energy import static_power_w
from hwsim.workload.ops import DType

JOUPPI = "Jouppi et al. ISCA 2017 (arXiv:1704.04760)"
FLOORPLAN = (f"{JOUPPI} Fig. 2 floorplan: UB 29 %, MXU 24 %, accumulators 6 %, activation 6 %, 2 DDR3 ports x 3 %; "
             "caption: buffers 37 %, compute 30 %, I/O 10 %, control 2 % (block shares via news.mynavi.jp 2017-04-11)")
INT8 = ["workload.precision.weights=int8", "workload.precision.activations=int8",
        "workload.precision.accumulators=int32", "workload.precision.kv_cache=int8"]


@dataclass(frozen=True)
class Check:
    """One published figure against hwsim. ``tolerance`` is absolute, in ``unit``; ``kind``: 'eq' (|error| <=
    tolerance), 'le' (hwsim <= published), or 'info' (reported only)."""

    chip: str
    quantity: str
    published: float
    hwsim: float
    unit: str
    source: str
    kind: str = "eq"
    tolerance: float | None = None

    @property
    def error(self) -> float:
        """Relative error of hwsim against the published value."""
        return self.hwsim / self.published - 1 if self.published else float("nan")

    @property
    def passed(self) -> bool | None:
        if self.kind == "le":
            return self.hwsim <= self.published
        if self.kind == "eq" and self.tolerance is not None:
            return abs(self.hwsim - self.published) <= self.tolerance
        return None


def _shares(area: dict[str, float]) -> dict[str, float]:
    total = sum(area.values())
    return {k: 100 * v / total for k, v in area.items()}


def tpu_v1_area_checks() -> list[Check]:
    """Peak, die bound and floorplan shares of the shipped ``tpu_v1`` config (28 nm, int8 PEs)."""
    arch = load_arch("tpu_v1")
    u = arch.units["mxu"]
    peak = 2 * u.pes * u.mac_rate(DType.INT8) * arch.clock_hz / 1e12
    a = area_breakdown(arch)
    s = _shares(a)
    fp = FLOORPLAN
    return [
        Check("TPU v1", "peak int8 TOPS (rounded as published)", 92, round(peak), "TOPS", f"{JOUPPI} Table 2",
              tolerance=0),
        Check("TPU v1", "peak int8 TOPS (exact: 2 x 65536 x 700 MHz)", 92, peak, "TOPS", f"{JOUPPI} Table 2",
              tolerance=0.5),
        Check("TPU v1", "die area", 331, sum(a.values()), "mm^2",
              f"{JOUPPI} Table 2 note: <= half of Haswell's 662 mm^2", kind="le"),
        Check("TPU v1", "Unified Buffer share", 29, s["sram.ub"], "% of die", fp, tolerance=6),
        Check("TPU v1", "Matrix Multiply Unit share", 24, s["mxu"], "% of die", fp, tolerance=6),
        Check("TPU v1", "accumulators (+ weight FIFO) share", 6, s["mxu.buffers"], "% of die", fp, tolerance=3),
        Check("TPU v1", "buffers share (UB + accumulators + FIFO)", 37, s["sram.ub"] + s["mxu.buffers"],
              "% of die", fp, tolerance=6),
        Check("TPU v1", "compute share (MXU + activation)", 30, s["mxu"] + s["act"], "% of die", fp, tolerance=6),
        Check("TPU v1", "DDR3 ports share", 6, s["phy.ddr3"], "% of die", fp, tolerance=3),
        Check("TPU v1", "activation pipeline share", 6, s["act"], "% of die", fp, kind="info"),
    ]


def tpu_v1_power_checks() -> list[Check]:
    """Sanity rows: measured 28 W idle / 40 W busy per die against hwsim's static power, the MXU's dynamic power
    at full rate, and the on-die dynamic power of a BERT-base FFN matmul (batch 64, seq 512)."""
    from hwsim import api
    from hwsim.ppa.energy import peak_dynamic_power_w

    arch = load_arch("tpu_v1")
    r = api.run("tpu_v1", "bert_base", "prefill", batch=64, seq=512, overrides=INT8)
    c = r.cost("up")
    on_die = sum(v for k, v in c.energy_j.items() if k != "leakage" and not k.startswith("dram.")) / c.latency_s
    src = f"{JOUPPI} Table 2: measured 28 W idle, 40 W busy per die (busy - idle = 12 W)"
    return [
        Check("TPU v1", "static power vs idle power", 28, static_power_w(arch), "W", src, kind="info"),
        Check("TPU v1", "MXU dynamic power at full int8 rate vs busy - idle", 12, peak_dynamic_power_w("mxu", arch),
              "W", src, tolerance=12),
        Check("TPU v1", f"on-die dynamic power, BERT FFN up-proj ({100 * c.utilization:.0f} % MXU util.) vs "
              "busy - idle", 12, on_die, "W", src, kind="info"),
    ]


def sram_density_checks() -> list[Check]:
    """Published SRAM densities against hwsim's macro model (1 bank, 64-bit port)."""
    from hwsim.ppa.sram import sram_area_mm2

    mib = 2 ** 20 / 8  # bytes per Mib
    n3 = 8 / sram_area_mm2(2 ** 20, 1, 3).value
    wiki = "WikiChip 'IEDM 2022: Did we just witness the death of SRAM?' (TSMC IEDM 2022)"
    return [
        Check("TSMC N3E", "HD SRAM density (bitcell + assist)", 31.8, n3, "Mib/mm^2",
              f"{wiki}: N3E ~31.8 Mib/mm^2 with the same assist overhead as N5", tolerance=0.25 * 31.8),
        Check("TSMC N7", "256 Mib SRAM test chip area (whole die, bound)", 42.64,
              sram_area_mm2(256 * mib, 64, 7).value, "mm^2",
              "Chang et al. ISSCC 2017 12.1 via WikiChip '7 nm lithography process': 42.64 mm^2 die", kind="le"),
        Check("TSMC 16FF", "128 Mib SRAM test chip area (whole die, bound)", 42.6,
              sram_area_mm2(128 * mib, 32, 16).value, "mm^2",
              "Chen et al. JSSC 2015 via WikiChip '16 nm lithography process': 42.6 mm^2 die", kind="le"),
    ]


def all_checks() -> list[Check]:
    return tpu_v1_area_checks() + tpu_v1_power_checks() + sram_density_checks()
