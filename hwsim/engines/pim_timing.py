"""DRAM timing and PIM organisation for the command-level PIM model, with cited presets.

Everything here is in DRAM command-clock cycles (``DramTiming``) or bytes (``PimOrganization``); the
clock is the only quantity in SI (``clock_hz``). Each preset names the file every number comes from;
values that are derived or assumed say so in the comment beside them (docs/pim.md has the full table).

Examples
--------
>>> t = HBM2_NEUPIMS_TIMING
>>> (t.tRCD, t.tRP, t.tFAW, t.tCK_s)
(14, 14, 30, 1e-09)
>>> HBM2_NEUPIMS.banks_per_channel, HBM2_NEUPIMS.mac_units_per_channel
(32, 32)
>>> round(peak_pim_flops(HBM2_PIM_AQUABOLT, HBM2_AQUABOLT_TIMING, dtype_bytes=2) / 1e12, 3)
1.229
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import Enum

__all__ = [
    "DramTiming", "MacPlacement", "PimOrganization", "peak_internal_bandwidth_Bps",
    "peak_external_bandwidth_Bps", "peak_pim_flops", "HBM2_NEUPIMS_TIMING", "HBM2_NEUPIMS",
    "HBM2_NEWTON", "HBM2_AQUABOLT_TIMING", "HBM2_PIM_AQUABOLT", "GDDR6_AIM_TIMING", "GDDR6_AIM",
    "PRESETS",
]


@dataclass(frozen=True)
class DramTiming:
    """JEDEC-style DRAM timing, every field in command-clock cycles except ``clock_hz``.

    Parameters
    ----------
    clock_hz : float
        Command clock (1 / tCK), Hz.
    tRCD, tRCDWR : int
        ACT to read-type column command, ACT to write, cycles.
    tRP, tRAS : int
        PRE to ACT (same bank); ACT to PRE minimum (same bank), cycles.
    tCCD_S, tCCD_L : int
        Column to column, different / same bank group, cycles.
    tRRD_S, tRRD_L : int
        ACT to ACT, different / same bank group (same rank), cycles.
    tFAW : int
        Four-activation window per rank, cycles (0 disables it).
    tRFC, tREFI : int
        All-bank refresh duration and interval, cycles.
    tWR, tRTP : int
        Write recovery (end of write burst to PRE); read to PRE, cycles.
    tWTR_S, tWTR_L : int
        End of write burst to read, different / same bank group, cycles.
    CL, CWL : int
        Read and write latency (command to first data beat), cycles.
    tRTRS : int
        Data-bus turnaround added to read-to-write, cycles.
    burst_cycles : int
        Data-bus occupancy of one column access, cycles (BL/2 for DDR interfaces).
    tCCD_PIM : int
        Minimum spacing of two all-bank PIM MAC column commands, cycles (a property of the PIM design,
        not of JEDEC; see the preset comments).
    source : str
        Where the numbers come from.
    """

    clock_hz: float
    tRCD: int
    tRCDWR: int
    tRP: int
    tRAS: int
    tCCD_S: int
    tCCD_L: int
    tRRD_S: int
    tRRD_L: int
    tFAW: int
    tRFC: int
    tREFI: int
    tWR: int
    tRTP: int
    tWTR_S: int
    tWTR_L: int
    CL: int
    CWL: int
    tRTRS: int
    burst_cycles: int
    tCCD_PIM: int
    source: str = ""

    def __post_init__(self) -> None:
        if not self.clock_hz > 0:
            raise ValueError(f"clock_hz must be > 0, got {self.clock_hz!r}")
        for f in fields(self):
            if f.name in ("clock_hz", "source"):
                continue
            value = getattr(self, f.name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{f.name} must be an int >= 0 cycles, got {value!r}")
        for name in ("burst_cycles", "tCCD_PIM", "tREFI"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1 cycle, got {getattr(self, name)}")

    @property
    def tCK_s(self) -> float:
        """Clock period, seconds."""
        return 1.0 / self.clock_hz

    @property
    def col_gap_s(self) -> int:
        """Column-to-column spacing to another bank group, cycles: ``max(burst, tCCD_S)`` (DRAMsim3)."""
        return max(self.burst_cycles, self.tCCD_S)

    @property
    def col_gap_l(self) -> int:
        """Column-to-column spacing within a bank group, cycles: ``max(burst, tCCD_L)`` (DRAMsim3)."""
        return max(self.burst_cycles, self.tCCD_L)


class MacPlacement(str, Enum):
    """Where the PIM MAC unit sits; ``banks`` is how many banks share one unit (given banks per group)."""

    BANK = "bank"              # one unit per bank (Newton/NeuPIMs, AiM)
    BANK_PAIR = "bank_pair"    # one unit per two banks (Samsung HBM-PIM PCU, even/odd bank)
    BANK_GROUP = "bank_group"  # one unit per bank group

    def banks(self, banks_per_group: int) -> int:
        """Banks served by one MAC unit."""
        return {MacPlacement.BANK: 1, MacPlacement.BANK_PAIR: 2,
                MacPlacement.BANK_GROUP: banks_per_group}[self]


@dataclass(frozen=True)
class PimOrganization:
    """Organisation of a PIM-enabled DRAM: what one channel holds and how its MAC units are wired.

    Parameters
    ----------
    name : str
        Preset name.
    channels : int
        Independent command domains (channels, or pseudo-channels in HBM2 pseudo-channel mode).
    ranks : int
        Ranks per channel (an all-bank PIM command spans every rank of the channel).
    bank_groups : int
        Bank groups per rank.
    banks_per_group : int
        Banks per bank group.
    row_bytes : int
        Bytes in one bank's row (page), bytes.
    column_bytes : int
        Bytes moved by one column access of one bank (bus width x burst length), bytes.
    mac_lanes : int
        Multipliers per MAC unit (descriptive; throughput follows from ``column_bytes`` and ``tCCD_PIM``).
    placement : MacPlacement
        Where the MAC unit sits.
    gang_act_banks : int
        Banks opened by one all-bank-mode ACT command.
    gang_act_faw_weight : int
        tFAW-window slots (0..4) one gang ACT consumes; 4 = it fills the window (NewtonSim G_ACT).
    dual_row_buffer : bool
        Each bank has a second row buffer for PIM, so host accesses proceed during PIM (NeuPIMs).
    host_queue_depth : int
        Host requests the controller may reorder over (FR-FCFS window).
    source : str
        Where the numbers come from.
    """

    name: str
    channels: int
    ranks: int
    bank_groups: int
    banks_per_group: int
    row_bytes: int
    column_bytes: int
    mac_lanes: int
    placement: MacPlacement
    gang_act_banks: int
    gang_act_faw_weight: int
    dual_row_buffer: bool
    host_queue_depth: int = 32
    source: str = ""

    def __post_init__(self) -> None:
        for name in ("channels", "ranks", "bank_groups", "banks_per_group", "row_bytes", "column_bytes",
                     "mac_lanes", "gang_act_banks", "host_queue_depth"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        if self.row_bytes % self.column_bytes:
            raise ValueError(f"row_bytes {self.row_bytes} is not a multiple of column_bytes {self.column_bytes}")
        if not 0 <= self.gang_act_faw_weight <= 4:
            raise ValueError(f"gang_act_faw_weight must be in 0..4, got {self.gang_act_faw_weight}")
        per_rank = self.bank_groups * self.banks_per_group
        if per_rank % self.gang_act_banks or self.gang_act_banks > per_rank:
            raise ValueError(f"gang_act_banks {self.gang_act_banks} must divide the {per_rank} banks of a rank")
        if self.gang_act_banks % self.banks_per_group and self.banks_per_group % self.gang_act_banks:
            raise ValueError(f"gang_act_banks {self.gang_act_banks} must tile bank groups of "
                             f"{self.banks_per_group} banks")
        if self.banks_per_group % self.banks_per_mac_unit:
            raise ValueError(f"{self.placement.value} placement needs banks_per_group divisible by "
                             f"{self.banks_per_mac_unit}, got {self.banks_per_group}")

    @property
    def banks_per_channel(self) -> int:
        """Banks in one channel (all ranks)."""
        return self.ranks * self.bank_groups * self.banks_per_group

    @property
    def banks_per_mac_unit(self) -> int:
        """Banks that share one MAC unit."""
        return self.placement.banks(self.banks_per_group)

    @property
    def mac_units_per_channel(self) -> int:
        """MAC units in one channel."""
        return self.banks_per_channel // self.banks_per_mac_unit

    @property
    def columns_per_row(self) -> int:
        """Column accesses that cover one row."""
        return self.row_bytes // self.column_bytes


def peak_internal_bandwidth_Bps(org: PimOrganization, timing: DramTiming) -> float:
    """Bank-to-MAC bandwidth of all channels in all-bank mode with rows always open, B/s.

    One all-bank MAC command moves ``column_bytes`` into every MAC unit; commands are ``tCCD_PIM`` apart.
    """
    per_cmd = org.mac_units_per_channel * org.column_bytes
    return org.channels * per_cmd * timing.clock_hz / timing.tCCD_PIM


def peak_external_bandwidth_Bps(org: PimOrganization, timing: DramTiming) -> float:
    """Host-visible bandwidth of all channels (one column per ``max(burst, tCCD_S)``), B/s."""
    return org.channels * org.column_bytes * timing.clock_hz / timing.col_gap_s


def peak_pim_flops(org: PimOrganization, timing: DramTiming, dtype_bytes: int) -> float:
    """Peak PIM throughput, FLOP/s (one multiply-add = 2 FLOP), from the internal bandwidth."""
    return 2.0 * peak_internal_bandwidth_Bps(org, timing) / dtype_bytes


# ---------------------------------------------------------------------------------------------------
# Presets. NeuPIMs = casys-kaist/NeuPIMs, files configs/memory_configs/neupims.json and
# extern/NewtonSim/configs/HBM2_8Gb_x128_dualpim.ini (timing identical to umd-memsys/DRAMsim3
# configs/HBM2_8Gb_x128.ini), derived values per extern/NewtonSim/src/{configuration,timing}.cc.
_NEUPIMS_SRC = ("casys-kaist/NeuPIMs configs/memory_configs/neupims.json + extern/NewtonSim/configs/"
                "HBM2_8Gb_x128_dualpim.ini (= DRAMsim3 configs/HBM2_8Gb_x128.ini); NewtonSim "
                "src/configuration.cc, src/timing.cc")

HBM2_NEUPIMS_TIMING = DramTiming(
    clock_hz=1.0e9,      # ini tCK = 1 ns; neupims.json dram_freq = 1000 (MHz)
    tRCD=14, tRCDWR=14,  # ini tRCDRD, tRCDWR
    tRP=14, tRAS=34,     # ini
    tCCD_S=1, tCCD_L=2,  # ini
    tRRD_S=4, tRRD_L=6,  # ini
    tFAW=30,             # ini
    tRFC=260, tREFI=3900,  # ini
    tWR=16,              # ini
    tRTP=5,              # ini gives only tRTP_L/_S; NewtonSim reads "tRTP", default 5 (configuration.cc)
    tWTR_S=6, tWTR_L=8,  # ini
    CL=14, CWL=4,        # ini
    tRTRS=2,             # not in ini; NewtonSim default 2 (configuration.cc)
    burst_cycles=2,      # BL = 4 -> burst_cycle = BL / 2 (configuration.cc, non-GDDR)
    tCCD_PIM=2,          # COMP -> COMP = read_to_read_s = max(burst_cycle, tCCD_S) (timing.cc)
    source=_NEUPIMS_SRC,
)

HBM2_NEUPIMS = PimOrganization(
    name="HBM2_NEUPIMS",
    channels=32,           # neupims.json dram_channels
    ranks=2,               # CalculateSize: 1024 MB channel / (32 MB bank x 16 banks) = 2; dram_banks_per_ch 32
    bank_groups=4, banks_per_group=4,  # ini
    row_bytes=1024,        # 64 columns x 128 bit / 8 (ini); neupims.json dram_page_size
    column_bytes=64,       # bus_width 128 bit x BL 4 / 8; neupims.json dram_req_size
    mac_lanes=16,          # 16 FP16 multipliers per bank (reference/validation_targets.csv, NeuPIMs row)
    placement=MacPlacement.BANK,
    gang_act_banks=4,      # G_ACT opens banks_per_group banks (channel_state.cc UpdateState)
    gang_act_faw_weight=4,  # G_ACT -> G_ACT, same rank = tFAW (timing.cc)
    dual_row_buffer=True,  # ini pim_type = DUAL -> enable_dual_buffer
    host_queue_depth=32,   # ini trans_queue_size
    source=_NEUPIMS_SRC,
)

# Newton-style blocked PIM: same device, single row buffer (newton.json -> HBM2_8Gb_x128_singlepim.ini).
HBM2_NEWTON = PimOrganization(**{**{f.name: getattr(HBM2_NEUPIMS, f.name) for f in fields(HBM2_NEUPIMS)},
                                 "name": "HBM2_NEWTON", "dual_row_buffer": False,
                                 "source": _NEUPIMS_SRC.replace("dualpim", "singlepim")})

# Samsung HBM-PIM (Aquabolt-XL): SAITPublic/PIMSimulator ini/HBM2_samsung_2M_16B_x64.ini (as stored in
# its forks GrayGlacier/PIMSimulator and aymane-eljerari/hbm-pim) and system_hbm.ini.
_AQUABOLT_SRC = ("SAITPublic/PIMSimulator ini/HBM2_samsung_2M_16B_x64.ini + system_hbm.ini; clock and PCU "
                 "rate from reference/validation_targets.csv (ISSCC 2021 HBM-PIM: 300 MHz PCU, 1.2 TFLOPS)")

HBM2_AQUABOLT_TIMING = DramTiming(
    clock_hz=1.2e9,      # derived: 300 MHz PCU (validation target) x tCCD_L 4 (one PCU op per AB command)
    tRCD=14, tRCDWR=10,  # ini tRCDRD, tRCDWR
    tRP=14, tRAS=33,     # ini
    tCCD_S=2, tCCD_L=4,  # ini tCCDS, tCCDL
    tRRD_S=4, tRRD_L=6,  # ini tRRDS, tRRDL
    tFAW=16,             # ini XAW = 4, tXAW = 16
    tRFC=350, tREFI=3900,  # ini (cycles as written; the ini runs at tCK = 1)
    tWR=16,              # ini
    tRTP=5,              # ini tRTPL (the slower of tRTPS 4 / tRTPL 5)
    tWTR_S=4, tWTR_L=9,  # ini tWTRS, tWTRL
    CL=20, CWL=8,        # ini RL, WL
    tRTRS=1,             # ini
    burst_cycles=2,      # BL = 4 on a DDR bus
    tCCD_PIM=4,          # assumption: all-bank column commands reach every bank group, so tCCD_L applies
    source=_AQUABOLT_SRC,
)

HBM2_PIM_AQUABOLT = PimOrganization(
    name="HBM2_PIM_AQUABOLT",
    channels=16,           # system_hbm.ini NUM_CHANS (pseudo-channels of one stack)
    ranks=1,
    bank_groups=4, banks_per_group=4,  # ini NUM_BANK_GROUPS = 4, NUM_BANKS = 16
    row_bytes=1024,        # ini NUM_COLS 128 x DEVICE_WIDTH 64 bit / 8
    column_bytes=32,       # DEVICE_WIDTH 64 bit x BL 4 / 8
    mac_lanes=16,          # 16-wide FP16 SIMD per PCU (validation_targets.csv)
    placement=MacPlacement.BANK_PAIR,  # ini NUM_PIM_BLOCKS = 8 for 16 banks; block p serves banks 2p, 2p+1
    gang_act_banks=16,     # assumption: an all-bank-mode ACT opens the same row in all 16 banks
    gang_act_faw_weight=0,  # assumption: all-bank ACT exempt from tFAW (not verified in PIMSimulator)
    dual_row_buffer=False,
    host_queue_depth=64,   # system_hbm.ini TRANS_QUEUE_DEPTH
    source=_AQUABOLT_SRC,
)

# SK hynix GDDR6-AiM: arkhadem/aim_simulator (Ramulator 2.0 based, CENT ASPLOS 2025)
# src/dram/impl/GDDR6.cpp, preset GDDR6_2000_1250mV_quad with its x16 / 8 Gb table overrides.
_AIM_SRC = ("arkhadem/aim_simulator src/dram/impl/GDDR6.cpp (GDDR6_2000_1250mV_quad, GDDR6_8Gb_x16); "
            "1 TFLOPS / 16 Gb/s/pin from reference/validation_targets.csv (JSSC GDDR6-AiM)")

GDDR6_AIM_TIMING = DramTiming(
    clock_hz=1.0e9,      # tCK_ps = 1e6 / (rate 2000 / 2) = 1000 ps (set_timing_vals)
    tRCD=30, tRCDWR=19,  # nRCDRD, nRCDWR
    tRP=30, tRAS=60,     # nRP, nRAS
    tCCD_S=4, tCCD_L=6,  # nCCDS, nCCDL (as modelled; see docs/pim.md on the host bandwidth this implies)
    tRRD_S=5, tRRD_L=6,  # x16 table at 2000
    tFAW=28,             # x16 table; aim_simulator comments the window out; kept here for single ACTs
    tRFC=360,            # tRFC table, 8 Gb normal refresh, 360 ns
    tREFI=7800,          # tREFI_BASE 7800 ns
    tWR=30, tRTP=4,      # nWR, nRTP
    tWTR_S=9, tWTR_L=11,  # nWTRS, nWTRL
    CL=24, CWL=6,        # nCL, nCWL
    tRTRS=3,             # the "+ 3" in its read-to-write constraint
    burst_cycles=4,      # nBL
    tCCD_PIM=1,          # MAC16 has no CAS-to-CAS constraint with itself: command bus only
    source=_AIM_SRC,
)

GDDR6_AIM = PimOrganization(
    name="GDDR6_AIM",
    channels=2,            # GDDR6_8Gb_x16: 2 channels per device
    ranks=1,
    bank_groups=4, banks_per_group=4,  # GDDR6_8Gb_x16
    row_bytes=2048,        # 1 << 10 columns x 16 bit / 8
    column_bytes=32,       # 256-bit access granularity (AiM GPR = 16 BF16; aim_simulator README)
    mac_lanes=16,          # 16 multipliers per bank (256 bit / 16 bit)
    placement=MacPlacement.BANK,
    gang_act_banks=16,     # ACT16
    gang_act_faw_weight=0,  # ACT16 is constrained by nRRD only
    dual_row_buffer=False,
    host_queue_depth=32,
    source=_AIM_SRC,
)

PRESETS: dict[str, tuple[PimOrganization, DramTiming]] = {
    "HBM2_NEUPIMS": (HBM2_NEUPIMS, HBM2_NEUPIMS_TIMING),
    "HBM2_NEWTON": (HBM2_NEWTON, HBM2_NEUPIMS_TIMING),
    "HBM2_PIM_AQUABOLT": (HBM2_PIM_AQUABOLT, HBM2_AQUABOLT_TIMING),
    "GDDR6_AIM": (GDDR6_AIM, GDDR6_AIM_TIMING),
}
