"""`hwsim area` and `hwsim tech`: exit codes, JSON shape, one-line errors; `hwsim run` prints both breakdowns."""

import json

import pytest
from click.testing import CliRunner

from hwsim.cli import main
from hwsim.ppa.tables import BASES


def invoke(*args):
    return CliRunner().invoke(main, list(args))


def test_area_table_lists_components_and_total():
    r = invoke("area", "--arch", "tpu_v1")
    assert r.exit_code == 0, r.output
    for word in ("sram.ub", "mxu", "mxu.buffers", "phy.ddr3", "control_io", "total"):
        assert word in r.output


def test_area_json_totals_add_up():
    r = invoke("area", "--arch", "npu_128", "--format", "json", "--set", "tech.node=3")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["area_mm2"]["total"] == pytest.approx(sum(d["area_mm2"]["by_component"].values()))
    assert d["arch"] == "npu_128"


def test_area_csv_to_file(tmp_path):
    out = tmp_path / "a.csv"
    r = invoke("area", "--arch", "h100", "--format", "csv", "--out", str(out))
    assert r.exit_code == 0 and out.read_text().startswith("component,mm2,share")


@pytest.mark.parametrize("args,words", [
    (("area", "--arch", "nope"), "unknown architecture"),
    (("area", "--set", "tech.device=tfet"), "tech.device"),
    (("area", "--set", "tech.node=10"), "allowed: 45, 28, 16, 7, 5, 3"),
    (("area", "--set", "tech.sram_cell=ulp"), "tech.sram_cell"),
])
def test_area_errors_are_one_line_exit_2(args, words):
    r = invoke(*args)
    assert r.exit_code == 2, r.output
    err = r.output.strip()
    assert err.startswith("error:") and words in err and "\n" not in err and "Traceback" not in err


def test_tech_json_rows_carry_basis_and_source():
    r = invoke("tech", "--node", "7", "--device", "ffet", "--format", "json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert all(row["basis"] in BASES and row["source"] for row in rows)
    by = {row["quantity"]: row for row in rows}
    assert by["device logic power factor"]["value"] == 0.881
    assert by["MAC int8/int32 energy"]["value"] == pytest.approx(0.3 * 0.0943 * 0.881)


def test_tech_table_and_bad_choice():
    r = invoke("tech", "--node", "3", "--clock-scaling", "device", "--device", "ffet_dual")
    assert r.exit_code == 0 and "extrapolated" in r.output and "device clock factor (device)" in r.output
    assert invoke("tech", "--node", "10").exit_code == 2


def test_run_prints_energy_and_area_by_component():
    r = invoke("run", "--arch", "npu_128")
    assert r.exit_code == 0
    for word in ("energy by component", "dram.hbm", "sram.sram", "compute.mxu", "leakage", "noc",
                 "area by component", "phy.hbm"):
        assert word in r.output
