"""SCALE-Sim v3 inputs and outputs: ``.cfg`` and topology CSV parsing, and its report CSVs.

Pure functions over plain frozen dataclasses; the ``hwsim scalesim`` CLI is a thin wrapper over
:func:`parse_config`, :func:`parse_topology`, :func:`run_layers` and :func:`write_reports`.

Formats (as SCALE-Sim 3.0.0 reads them):

* topology rows end with a comma: SCALE-Sim drops the last comma-separated field of every row;
* GEMM topology: ``Layer, M, N, K,`` (note the order), mapped to the conv ``H=M, W=K, R=1, S=K,
  C=1, F=N, stride=1``;
* conv topology: ``name, IFMAP H, IFMAP W, Filter H, Filter W, Channels, Num Filter, Stride,``; a layer
  whose name contains ``DP`` (depthwise) expands to one single-channel layer per channel.
"""

from __future__ import annotations

import configparser
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from hwsim.errors import SpecError

COMPUTE_COLUMNS = ("Total Cycles (incl. prefetch)", "Total Cycles", "Stall Cycles", "Overall Util %",
                   "Mapping Efficiency %", "Compute Util %")
BANDWIDTH_COLUMNS = ("Avg IFMAP SRAM BW", "Avg FILTER SRAM BW", "Avg OFMAP SRAM BW", "Avg IFMAP DRAM BW",
                     "Avg FILTER DRAM BW", "Avg OFMAP DRAM BW")
DETAILED_COLUMNS = tuple(f"{level} {op} {what}" for level in ("SRAM", "DRAM")
                         for op, rw in (("IFMAP", "Reads"), ("Filter", "Reads"),
                                        ("OFMAP", "Writes"))
                         for what in ("Start Cycle", "Stop Cycle", rw))
REPORTS = {"COMPUTE_REPORT.csv": COMPUTE_COLUMNS, "BANDWIDTH_REPORT.csv": BANDWIDTH_COLUMNS,
           "DETAILED_ACCESS_REPORT.csv": DETAILED_COLUMNS}


@dataclass(frozen=True)
class ScaleSimConfig:
    """The fields of a SCALE-Sim ``.cfg`` that change results (sizes in KiB, as the file writes them)."""

    run_name: str
    array_rows: int
    array_cols: int
    ifmap_sram_kib: int
    filter_sram_kib: int
    ofmap_sram_kib: int
    dataflow: str
    bandwidth_mode: str                 # "CALC" (stall-free, bandwidth estimated) or "USER"
    bandwidths_words_per_cycle: tuple[int, ...] = ()
    sparsity_support: bool = False
    source: str = ""                    # the .cfg path, for error messages


@dataclass(frozen=True)
class ScaleSimLayer:
    """One topology row, in SCALE-Sim's conv terms (a GEMM row is already converted)."""

    name: str
    ifmap_h: int
    ifmap_w: int
    filter_h: int
    filter_w: int
    channels: int
    num_filters: int
    stride: int
    gemm: bool = False

    @property
    def conv_dims(self) -> dict[str, int]:
        return {"B": 1, "H": self.ifmap_h, "W": self.ifmap_w, "C": self.channels, "R": self.filter_h,
                "S": self.filter_w, "F": self.num_filters, "stride": self.stride}

    @property
    def mkn(self) -> tuple[int, int, int]:
        """(M, K, N) of a GEMM row."""
        return self.ifmap_h, self.ifmap_w, self.num_filters


def parse_config(path: str | Path) -> ScaleSimConfig:
    """Read a SCALE-Sim ``.cfg``; raises :class:`SpecError` naming the file and field."""
    cp = configparser.ConfigParser()
    try:
        cp.read_string(_read(path))
    except configparser.Error as e:
        raise SpecError(str(path), "", f"not a SCALE-Sim .cfg: {str(e).splitlines()[0]}") from None

    def get(section: str, key: str) -> str:
        try:
            return cp.get(section, key).strip()
        except (configparser.NoSectionError, configparser.NoOptionError):
            raise SpecError(str(path), f"{section}.{key}", "missing") from None

    def integer(section: str, key: str) -> int:
        raw = get(section, key)
        try:
            value = int(raw)
        except ValueError:
            raise SpecError(str(path), f"{section}.{key}", f"not an integer: {raw!r}") from None
        if value < 1:
            raise SpecError(str(path), f"{section}.{key}", f"must be >= 1, got {value}")
        return value

    arch = "architecture_presets"
    df = get(arch, "Dataflow")
    if df not in ("os", "ws", "is"):
        raise SpecError(str(path), f"{arch}.Dataflow", f"unknown dataflow {df!r}", "os, ws, is")
    mode = get("run_presets", "InterfaceBandwidth")
    if mode not in ("CALC", "USER"):
        raise SpecError(str(path), "run_presets.InterfaceBandwidth", f"got {mode!r}", "CALC, USER")
    try:
        bws = tuple(int(x) for x in get(arch, "Bandwidth").split(",")) if mode == "USER" else ()
    except ValueError:
        raise SpecError(str(path), f"{arch}.Bandwidth", f"not integers: {get(arch, 'Bandwidth')!r}") from None
    if any(b < 1 for b in bws):
        raise SpecError(str(path), f"{arch}.Bandwidth", f"words/cycle must be >= 1, got {get(arch, 'Bandwidth')!r}")
    sparse = cp.has_section("sparsity") and get("sparsity", "SparsitySupport").lower() == "true"
    return ScaleSimConfig(run_name=get("general", "run_name"), array_rows=integer(arch, "ArrayHeight"),
                          array_cols=integer(arch, "ArrayWidth"), ifmap_sram_kib=integer(arch, "IfmapSramSzkB"),
                          filter_sram_kib=integer(arch, "FilterSramSzkB"),
                          ofmap_sram_kib=integer(arch, "OfmapSramSzkB"), dataflow=df, bandwidth_mode=mode,
                          bandwidths_words_per_cycle=bws, sparsity_support=sparse, source=str(path))


def _read(path: str | Path) -> str:
    try:
        return Path(path).read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise SpecError(str(path), "", f"cannot read: {getattr(e, 'strerror', None) or e}") from None


def _fields(path: str | Path) -> Iterable[tuple[int, list[str]]]:
    """Data rows of a topology CSV, each without its last field (SCALE-Sim's trailing-comma rule)."""
    for lineno, row in enumerate(_read(path).splitlines(), start=1):
        if lineno == 1 or not row.strip():
            continue
        yield lineno, [x.strip() for x in row.strip().split(",")[:-1]]


def _positive(path, where: str, **values: int) -> None:
    for name, v in values.items():
        if v < 1:
            raise SpecError(str(path), where, f"{name} must be >= 1, got {v}")


def parse_topology(path: str | Path, gemm: bool = False) -> tuple[ScaleSimLayer, ...]:
    """Read a SCALE-Sim topology CSV (conv form, or GEMM ``Layer, M, N, K,`` form with ``gemm``)."""
    layers = []
    for lineno, f in _fields(path):
        where = f"line {lineno}"
        try:
            if gemm:
                if len(f) < 4:
                    raise SpecError(str(path), where, f"need 'name, M, N, K,' (each row ends with a comma), got {f!r}")
                if len(f) > 4 and ":" not in f[4]:   # SCALE-Sim's optional 5th field is a sparsity ratio N:M
                    raise SpecError(str(path), where, f"field 5 {f[4]!r} is not a sparsity ratio N:M; a conv "
                                    "topology? (drop --gemm)", "name, M, N, K, [N:M,]")
                m, n, k = int(f[1]), int(f[2]), int(f[3])
                _positive(path, where, M=m, N=n, K=k)
                layers.append(ScaleSimLayer(f[0], m, k, 1, k, 1, n, 1, gemm=True))
                continue
            if len(f) < 8:
                raise SpecError(str(path), where, f"need 8 fields and a trailing comma, got {f!r}"
                                + (" (a GEMM topology? add --gemm)" if len(f) == 4 else ""))
            h, w, fh, fw, c, nf, s = (int(x) for x in f[1:8])
            _positive(path, where, ifmap_h=h, ifmap_w=w, filter_h=fh, filter_w=fw, channels=c, filters=nf, stride=s)
        except ValueError as err:
            raise SpecError(str(path), where, f"not an integer: {err}") from None
        if fh > h or fw > w:
            raise SpecError(str(path), where, f"filter {fh}x{fw} larger than ifmap {h}x{w}")
        copies = c if "DP" in f[0] else 1
        for i in range(copies):
            name = f"{f[0]}Channel_{i}" if "DP" in f[0] else f[0]
            layers.append(ScaleSimLayer(name, h, w, fh, fw, 1 if "DP" in f[0] else c, nf, s))
    if not layers:
        raise SpecError(str(path), "", "no layers (a header line, then one row per layer ending with a comma)")
    return tuple(layers)


def compat_report(ints: Sequence[int], floats: Sequence[float], num_compute: int, rows: int, cols: int,
                  is_os: bool) -> dict[str, float]:
    """SCALE-Sim's report values from :func:`~hwsim.engines.systolic_kernels.compat_walk` output.

    Same arithmetic, in the same order, as SCALE-Sim's ``single_layer_sim.calc_report_data``, so the
    floats are bit-identical. Start/stop cycles are floats because SCALE-Sim keeps them in float
    arrays; its ofmap SRAM write count adds ``rows + cols`` per fold under ``os`` (reproduced).
    """
    folds = ints[20]
    total = ints[0] or 1   # a 1x1x1 GEMM on a 1x1 array ends at cycle 0 (SCALE-Sim divides by zero)
    cyc = [float(x) for x in ints[8:20]]
    of_writes = ints[4] + (folds * (rows + cols) if is_os else 0)
    counts = (ints[2], ints[3], of_writes, ints[5], ints[6], ints[7])
    values = [int(cyc[11] - min(cyc[6], cyc[8])), ints[0], ints[1],
              (num_compute * 100) / (total * rows * cols), floats[0] / folds * 100, floats[1] / folds * 100]
    values += [x / total for x in counts[:3]]
    values += [counts[3 + i] / (cyc[7 + 2 * i] - cyc[6 + 2 * i] + 1) for i in range(3)]
    for i in range(6):
        values += [cyc[2 * i], cyc[2 * i + 1], counts[i]]
    return dict(zip(COMPUTE_COLUMNS + BANDWIDTH_COLUMNS + DETAILED_COLUMNS, values))


def report_row(result) -> dict[str, float]:
    """Report columns of one :class:`SystolicSimResult`: SCALE-Sim's own in compat mode; in physical
    mode the compute and bandwidth columns from the physical counts (averages over total cycles)."""
    if result.scalesim_report is not None:
        return dict(result.scalesim_report)
    t = max(result.total_cycles, 1)
    sram = (result.sram_reads["ifmap"], result.sram_reads["filter"], result.sram_writes["ofmap"])
    dram = (result.dram_reads["ifmap"], result.dram_reads["filter"],
            result.dram_writes["ofmap"] + result.dram_reads["ofmap"])
    values = [result.total_cycles_incl_prefetch, t, result.stall_cycles, result.utilization * 100,
              result.mapping_efficiency * 100, result.compute_utilization * 100]
    values += [x / t for x in sram] + [x / t for x in dram]
    return dict(zip(COMPUTE_COLUMNS + BANDWIDTH_COLUMNS, values))


def format_report(name: str, rows: Sequence[dict[str, float]]) -> str:
    """One report CSV as SCALE-Sim writes it: ``LayerID, <cols>,`` then ``<id>, <values>,``."""
    cols = REPORTS[name]
    lines = ["LayerID, " + ", ".join(cols) + ","]
    lines += [f"{i}, " + ", ".join(str(r[c]) for c in cols) + "," for i, r in enumerate(rows)]
    return "\n".join(lines) + "\n"


def write_reports(results: Sequence, out_dir: str | Path) -> list[Path]:
    """Write COMPUTE/BANDWIDTH (and, when every layer has them, DETAILED_ACCESS) reports."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = [report_row(r) for r in results]
    written = []
    for name, cols in REPORTS.items():
        if all(c in r for r in rows for c in cols):
            (out / name).write_text(format_report(name, rows))
            written.append(out / name)
    return written


def run_layers(config: ScaleSimConfig, layers: Sequence[ScaleSimLayer], mode: str = "scalesim_compat",
               word_bytes: int = 1, dram_bw_bytes_per_cycle: float | None = None) -> list:
    """Simulate every layer of a topology under a SCALE-Sim config (sizes: KiB -> bytes).

    Physical mode with ``InterfaceBandwidth: USER`` takes the DRAM bandwidth from the config's first
    ``Bandwidth`` value (words/cycle x ``word_bytes``) unless ``dram_bw_bytes_per_cycle`` is given.
    """
    from hwsim.engines.systolic_sim import simulate_conv, simulate_gemm

    if config.bandwidth_mode != "CALC" and mode == "scalesim_compat":
        raise SpecError(config.source or config.run_name, "run_presets.InterfaceBandwidth",
                        "scalesim_compat replays CALC only; got USER", "CALC")
    if config.sparsity_support:
        raise SpecError(config.source or config.run_name, "sparsity.SparsitySupport", "sparsity is not modelled", "false")
    if dram_bw_bytes_per_cycle is None and mode == "physical" and config.bandwidth_mode == "USER":
        dram_bw_bytes_per_cycle = config.bandwidths_words_per_cycle[0] * word_bytes
    kw = dict(rows=config.array_rows, cols=config.array_cols, dataflow=config.dataflow,
              ifmap_sram_bytes=config.ifmap_sram_kib * 1024, filter_sram_bytes=config.filter_sram_kib * 1024,
              ofmap_sram_bytes=config.ofmap_sram_kib * 1024, word_bytes=word_bytes,
              dram_bw_bytes_per_cycle=dram_bw_bytes_per_cycle, mode=mode)
    return [simulate_gemm(*layer.mkn, **kw) if layer.gemm else simulate_conv(layer.conv_dims, **kw)
            for layer in layers]
