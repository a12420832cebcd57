"""Golden parity with SCALE-Sim v3 (tests/golden/scalesim, regenerated only by
scripts/gen_scalesim_golden.py): every report CSV is reproduced byte for byte in scalesim_compat mode,
and compute cycles equal SCALE-Sim's in physical mode too (GEMM layers, and conv layers whose
``(H - R) % stride == 0``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from numba import config

from hwsim.engines.scalesim_io import (REPORTS, format_report, parse_config, parse_topology, report_row,
                                       run_layers)

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "scalesim"
RUNS = json.loads((GOLDEN / "manifest.json").read_text())["runs"]
# Without JIT (NUMBA_DISABLE_JIT=1) the compat walk is pure Python: keep the small runs only.
SLOW = {r["run_name"] for r in RUNS if config.DISABLE_JIT and "large" in r["run_name"]}


def _run(run: dict, mode: str):
    cfg = parse_config(GOLDEN / "cfgs" / f"{run['run_name']}.cfg")
    layers = parse_topology(GOLDEN / "topologies" / run["topology"], gemm=run["gemm"])
    return cfg, layers, run_layers(cfg, layers, mode=mode)


@pytest.mark.parametrize("run", RUNS, ids=[r["run_name"] for r in RUNS])
def test_reports_byte_identical(run):
    if run["run_name"] in SLOW:
        pytest.skip("large SCALE-Sim run: JIT disabled")
    _, _, results = _run(run, "scalesim_compat")
    rows = [report_row(r) for r in results]
    for name in REPORTS:
        assert format_report(name, rows) == (GOLDEN / run["run_name"] / name).read_text(), name


@pytest.mark.parametrize("run", RUNS, ids=[r["run_name"] for r in RUNS])
def test_physical_compute_cycles_equal_scalesim(run):
    cfg, layers, results = _run(run, "physical")
    golden = (GOLDEN / run["run_name"] / "COMPUTE_REPORT.csv").read_text().splitlines()[1:]
    for layer, res, line in zip(layers, results, golden):
        scalesim_total = int(line.split(",")[2])
        h, fh, s = layer.ifmap_h, layer.filter_h, layer.stride
        if (h - fh) % s == 0 and (layer.ifmap_w - layer.filter_w) % s == 0:
            assert res.compute_cycles == scalesim_total, layer.name
        assert res.stall_cycles == 0
