"""``hwsim gemm`` and ``hwsim scalesim``: JSON shape and values, SCALE-Sim report round trip, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from hwsim import api
from hwsim.cli import main

GOLDEN = Path(__file__).resolve().parent / "golden" / "scalesim"


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_gemm_json_fields_and_values():
    r = invoke("gemm", "--rows", 8, "--cols", 8, "--dataflow", "ws", "--mkn", "64x64x64", "--ifmap-kib", 4,
               "--dram-bw-bytes-per-cycle", 8, "--word-bytes", 2, "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    for key in ("compute_cycles", "stall_cycles", "total_cycles", "utilization"):
        assert key in d
    for key in ("sram_reads", "sram_writes", "dram_reads", "dram_writes"):
        assert set(d[key]) == {"ifmap", "filter", "ofmap"}
    ref = api.simulate_gemm(64, 64, 64, rows=8, cols=8, dataflow="ws", ifmap_sram_bytes=4096, word_bytes=2,
                            dram_bw_bytes_per_cycle=8)
    assert d["total_cycles"] == ref.total_cycles and d["stall_cycles"] > 0
    # a 4 KiB ifmap SRAM (2048 words) cannot hold the 4096-word ifmap: 8 column folds refetch it
    assert d["dram_reads"]["ifmap"] == 8 * 4096 and d["compute_cycles"] == 64 * (64 + 16 + 8 - 2) - 1


def test_gemm_arrays_and_pipelining_options():
    r = invoke("gemm", "--rows", 128, "--cols", 128, "--dataflow", "ws", "--mkn", "1x4096x4096", "--arrays", 4,
               "--fold-pipelining", "--json")
    d = json.loads(r.output)
    assert d["compute_cycles"] == 383 + 255 * 128 - 1 and d["arrays"] == 4 and d["fold_pipelining"] is True


@pytest.mark.parametrize("args, words", [
    (("--mkn", "512x4096"), "expected MxKxN"),
    (("--mkn", "0x4x4"), "expected MxKxN"),
    (("--mkn", "4x4x4", "--rows", 0), "rows must be a positive integer"),
    (("--mkn", "4x4x4", "--dram-bw-bytes-per-cycle", -1), "must be > 0"),
    (("--mkn", "4x4x4", "--mode", "scalesim_compat", "--arrays", 2), "got arrays"),
    (("--mkn", "4x4x4", "--ifmap-kib", "inf"), "ifmap_sram_bytes must be > 0 and finite, got inf"),
    (("--mkn", "4x4x4", "--mode", "scalesim_compat", "--filter-kib", 0.05), "filter SRAM holds 51 words"),
])
def test_gemm_bad_input_one_line(args, words):
    base = {"--rows": 4, "--cols": 4, "--dataflow": "ws"}
    flat = list(args) + [x for k, v in base.items() if k not in args for x in (k, v)]
    r = invoke("gemm", *flat)
    assert r.exit_code == 2 and r.output.startswith("error:") and words in r.output
    assert r.output.count("\n") == 1 and "Traceback" not in r.output


@pytest.mark.parametrize("run, topology, gemm", [("gemm_small_8x8_ws", "gemm_small.csv", True),
                                                  ("conv_8x8_os", "conv.csv", False)])
def test_scalesim_compat_round_trip_byte_identical(tmp_path, run, topology, gemm):
    """SCALE-Sim's own cfg + topology in, its three reports out, identical to the files SCALE-Sim wrote."""
    args = ["scalesim", "--config", GOLDEN / "cfgs" / f"{run}.cfg", "--topology", GOLDEN / "topologies" / topology,
            "--mode", "scalesim_compat", "--out", tmp_path] + (["--gemm"] if gemm else [])
    r = invoke(*args)
    assert r.exit_code == 0, r.output
    for name in ("COMPUTE_REPORT.csv", "BANDWIDTH_REPORT.csv", "DETAILED_ACCESS_REPORT.csv"):
        assert (tmp_path / name).read_text() == (GOLDEN / run / name).read_text(), name


def test_scalesim_physical_writes_compute_and_bandwidth(tmp_path):
    """Physical mode: the same columns; compute cycles ("Total Cycles" with no stall) equal SCALE-Sim's."""
    r = invoke("scalesim", "--config", GOLDEN / "cfgs" / "gemm_small_8x8_ws.cfg", "--topology",
               GOLDEN / "topologies" / "gemm_small.csv", "--gemm", "--out", tmp_path)
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["BANDWIDTH_REPORT.csv", "COMPUTE_REPORT.csv"]
    ours = (tmp_path / "COMPUTE_REPORT.csv").read_text().splitlines()
    theirs = (GOLDEN / "gemm_small_8x8_ws" / "COMPUTE_REPORT.csv").read_text().splitlines()
    assert ours[0] == theirs[0]
    assert [line.split(",")[2] for line in ours[1:]] == [line.split(",")[2] for line in theirs[1:]]
    assert "g37_19_53" in r.output and "37 x 19 x 53" in r.output


def test_scalesim_bad_files_one_line(tmp_path):
    cfg = GOLDEN / "cfgs" / "gemm_small_8x8_ws.cfg"
    top = GOLDEN / "topologies" / "gemm_small.csv"
    broken = tmp_path / "broken.cfg"
    broken.write_text("ArrayHeight: 8\n")
    no_df = tmp_path / "no_df.cfg"
    no_df.write_text(cfg.read_text().replace("Dataflow : ws", "Dataflow : xs"))
    bad_row = tmp_path / "bad.csv"
    bad_row.write_text("Layer, M, N, K,\ng, 4, 0, 4,\n")
    text_row = tmp_path / "text.csv"
    text_row.write_text("Layer, M, N, K,\ng, 4, four, 4,\n")
    zero_rows = tmp_path / "zero_rows.cfg"
    zero_rows.write_text(cfg.read_text().replace("ArrayHeight:    8", "ArrayHeight: 0"))
    zero_sram = tmp_path / "zero_sram.cfg"
    zero_sram.write_text(cfg.read_text().replace("OfmapSramSzkB:   64", "OfmapSramSzkB: 0"))
    user = tmp_path / "user.cfg"
    user.write_text(cfg.read_text().replace("InterfaceBandwidth: CALC", "InterfaceBandwidth: USER"))
    user0 = tmp_path / "user0.cfg"
    user0.write_text(user.read_text().replace("Bandwidth : 10", "Bandwidth : 0"))
    conv = GOLDEN / "topologies" / "conv.csv"
    for c, t, words in [(tmp_path / "missing.cfg", top, "cannot read"), (broken, top, "not a SCALE-Sim .cfg"),
                        (no_df, top, "Dataflow"), (cfg, bad_row, "line 2: N must be >= 1"),
                        (cfg, text_row, "line 2: not an integer"), (cfg, tmp_path / "none.csv", "cannot read"),
                        (zero_rows, top, "zero_rows.cfg: architecture_presets.ArrayHeight: must be >= 1, got 0"),
                        (zero_sram, top, "zero_sram.cfg: architecture_presets.OfmapSramSzkB: must be >= 1, got 0"),
                        (user0, top, "user0.cfg: architecture_presets.Bandwidth: words/cycle must be >= 1"),
                        (cfg, conv, "conv.csv: line 2: field 5 '3' is not a sparsity ratio N:M; a conv topology?")]:
        r = invoke("scalesim", "--config", c, "--topology", t, "--gemm", "--out", tmp_path / "o")
        assert r.exit_code == 2, (words, r.output)
        assert r.output.startswith("error:") and words in r.output and r.output.count("\n") == 1, r.output
    for args, words in [((cfg, top), "gemm_small.csv: line 2: need 8 fields and a trailing comma, got ['g37_19_53', "
                                     "'37', '53', '19'] (a GEMM topology? add --gemm)"),
                        ((user, top, "--gemm", "--mode", "scalesim_compat"),
                         "user.cfg: run_presets.InterfaceBandwidth: scalesim_compat replays CALC only")]:
        r = invoke("scalesim", "--config", args[0], "--topology", *args[1:], "--out", tmp_path / "o")
        assert r.exit_code == 2, (words, r.output)
        assert r.output.startswith("error:") and words in r.output and r.output.count("\n") == 1, r.output
