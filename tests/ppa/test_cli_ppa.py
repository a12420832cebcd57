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
    (("area", "--set", "tech.node=10"), "tech.node: node 10 nm has no scaling data; allowed: 45, 28, 16, 7, 5, 3"),
    (("area", "--set", "tech.node=abc"), "tech.node: cannot read 'abc' as a process node in nm; allowed: 45, 28"),
    (("area", "--set", "tech.node=7.5"), "tech.node:"),
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
    # a table row that carries the device factor says so
    assert by["mult int8 energy"]["value"] == pytest.approx(0.2 * 0.0943 * 0.881)
    assert "device power x0.881 (ffet)" in by["mult int8 energy"]["source"]
    assert by["mult int8 cell area"]["value"] == pytest.approx(282 * 0.059)  # cells: no device factor
    # the PHY area's basis is its own: LLMCompass gives DDR5 and HBM2e, the other kinds reuse them
    phy = {q.split()[0]: r["basis"] for q, r in by.items() if " PHY area per " in q}
    assert phy == {"ddr3": "derived", "ddr4": "derived", "ddr5": "published", "lpddr4x": "derived",
                   "lpddr5": "derived", "lpddr5x": "derived", "gddr6": "derived", "hbm2": "derived",
                   "hbm2e": "published", "hbm3": "derived", "hbm3e": "derived"}
    assert by["ddr3 energy per bit"]["basis"] == "published" and by["ddr5 energy per bit"]["basis"] == "derived"


def test_node_reads_with_or_without_nm():
    """`tech.node` is the spec field: 28, '28nm' and '28 nm' are the same node."""
    a = [json.loads(invoke("area", "--arch", "npu_128", "--format", "json", "--set", f"tech.node={v}").output)
         for v in ("28", "28nm", "28 nm")]
    assert a[0] == a[1] == a[2]


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


def test_node_override_on_a_resolved_spec(tmp_path):
    """`hwsim show arch` writes `tech.node_nm`; `--set tech.node=7` on that file is the same die as on the
    shipped spec (the override wins, no 'unknown field')."""
    spec = tmp_path / "tpu.yaml"
    spec.write_text(invoke("show", "arch", "tpu_v1").output)
    a, b = (invoke("area", "--arch", x, "--format", "json", "--set", "tech.node=7") for x in (str(spec), "tpu_v1"))
    assert a.exit_code == b.exit_code == 0, (a.output, b.output)
    assert json.loads(a.output)["area_mm2"] == json.loads(b.output)["area_mm2"]
