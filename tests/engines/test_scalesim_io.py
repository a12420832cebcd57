"""SCALE-Sim .cfg / topology parsing and report formatting."""

from __future__ import annotations

import pytest

from hwsim.engines.scalesim_io import (DETAILED_COLUMNS, format_report, parse_config, parse_topology,
                                       run_layers, write_reports)
from hwsim.errors import SpecError

CFG = """[general]
run_name = t
[architecture_presets]
ArrayHeight: 8
ArrayWidth: 16
IfmapSramSzkB: 64
FilterSramSzkB: 32
OfmapSramSzkB: 16
IfmapOffset: 0
FilterOffset: 10000000
OfmapOffset: 20000000
Bandwidth : 10
Dataflow : {df}
[sparsity]
SparsitySupport : false
[run_presets]
InterfaceBandwidth: {bw}
"""


def test_config_fields(tmp_path):
    p = tmp_path / "a.cfg"
    p.write_text(CFG.format(df="is", bw="CALC"))
    c = parse_config(p)
    assert (c.array_rows, c.array_cols, c.dataflow, c.bandwidth_mode) == (8, 16, "is", "CALC")
    assert (c.ifmap_sram_kib, c.filter_sram_kib, c.ofmap_sram_kib) == (64, 32, 16)


def test_config_errors_name_file_and_field(tmp_path):
    p = tmp_path / "b.cfg"
    p.write_text(CFG.format(df="xs", bw="CALC"))
    with pytest.raises(SpecError, match=r"b.cfg: architecture_presets.Dataflow: unknown dataflow 'xs'"):
        parse_config(p)


def test_gemm_topology_order_and_trailing_comma(tmp_path):
    """``Layer, M, N, K,``: SCALE-Sim drops the field after the last comma, so a row without the
    trailing comma loses K."""
    p = tmp_path / "g.csv"
    p.write_text("Layer, M, N, K,\nq, 5, 7, 3,\n\n")
    (layer,) = parse_topology(p, gemm=True)
    assert layer.mkn == (5, 3, 7) and layer.gemm
    p.write_text("Layer, M, N, K,\nq, 5, 7, 3\n")
    with pytest.raises(SpecError, match="line 2"):
        parse_topology(p, gemm=True)


def test_gemm_topology_sparsity_field(tmp_path):
    """SCALE-Sim's GEMM rows may carry a 5th field, the N:M sparsity ratio (dense "1:1" by default); a conv
    row read with --gemm has a plain integer there and is refused instead of being read as M=H, N=W, K=R."""
    p = tmp_path / "s.csv"
    p.write_text("Layer, M, N, K,\nq, 5, 7, 3, 1:1,\n")
    assert parse_topology(p, gemm=True)[0].mkn == (5, 3, 7)
    p.write_text("name, H, W, R, S, C, F, stride,\nc1, 8, 8, 3, 3, 4, 16, 2,\n")
    with pytest.raises(SpecError, match=r"s.csv: line 2: field 5 '3' is not a sparsity ratio N:M; a conv topology"):
        parse_topology(p, gemm=True)


def test_config_sizes_must_be_positive(tmp_path):
    p = tmp_path / "z.cfg"
    p.write_text(CFG.format(df="os", bw="CALC").replace("FilterSramSzkB: 32", "FilterSramSzkB: -32"))
    with pytest.raises(SpecError, match=r"z.cfg: architecture_presets.FilterSramSzkB: must be >= 1, got -32"):
        parse_config(p)
    p.write_text(CFG.format(df="os", bw="USER").replace("Bandwidth : 10", "Bandwidth : 0"))
    with pytest.raises(SpecError, match=r"z.cfg: architecture_presets.Bandwidth: words/cycle must be >= 1"):
        parse_config(p)


def test_conv_topology_and_depthwise_expansion(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("name, H, W, R, S, C, F, stride,\nc1, 8, 8, 3, 3, 4, 16, 2,\nDP1, 6, 6, 3, 3, 3, 1, 1,\n")
    layers = parse_topology(p)
    assert [l.name for l in layers] == ["c1", "DP1Channel_0", "DP1Channel_1", "DP1Channel_2"]
    assert layers[0].conv_dims == {"B": 1, "H": 8, "W": 8, "C": 4, "R": 3, "S": 3, "F": 16, "stride": 2}
    assert layers[1].channels == 1


def test_filter_larger_than_ifmap_rejected(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("name, H, W, R, S, C, F, stride,\nc1, 2, 8, 3, 3, 4, 16, 1,\n")
    with pytest.raises(SpecError, match="larger than ifmap"):
        parse_topology(p)


def test_reports_written_with_scalesim_headers(tmp_path):
    cfgp, topo = tmp_path / "a.cfg", tmp_path / "g.csv"
    cfgp.write_text(CFG.format(df="ws", bw="CALC"))
    topo.write_text("Layer, M, N, K,\nq, 20, 30, 40,\n")
    cfg, layers = parse_config(cfgp), parse_topology(topo, gemm=True)
    written = write_reports(run_layers(cfg, layers), tmp_path / "out")
    assert [p.name for p in written] == ["COMPUTE_REPORT.csv", "BANDWIDTH_REPORT.csv", "DETAILED_ACCESS_REPORT.csv"]
    head = (tmp_path / "out" / "COMPUTE_REPORT.csv").read_text().splitlines()[0]
    assert head == ("LayerID, Total Cycles (incl. prefetch), Total Cycles, Stall Cycles, Overall Util %, "
                    "Mapping Efficiency %, Compute Util %,")
    phys = write_reports(run_layers(cfg, layers, mode="physical"), tmp_path / "phys")
    assert [p.name for p in phys] == ["COMPUTE_REPORT.csv", "BANDWIDTH_REPORT.csv"]
    assert len(DETAILED_COLUMNS) == 18


def test_user_bandwidth_refused_in_compat(tmp_path):
    p = tmp_path / "u.cfg"
    p.write_text(CFG.format(df="ws", bw="USER"))
    with pytest.raises(SpecError, match=r"u.cfg: run_presets.InterfaceBandwidth: .*CALC"):
        run_layers(parse_config(p), ())


def test_format_report_layout():
    text = format_report("BANDWIDTH_REPORT.csv", [dict.fromkeys(
        ["Avg IFMAP SRAM BW", "Avg FILTER SRAM BW", "Avg OFMAP SRAM BW", "Avg IFMAP DRAM BW",
         "Avg FILTER DRAM BW", "Avg OFMAP DRAM BW"], 1.5)])
    assert text.splitlines()[1] == "0, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5,"
