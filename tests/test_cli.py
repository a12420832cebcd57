"""CLI: exit codes, JSON shape, files written, one-line errors."""

import json

from click.testing import CliRunner

from hwsim.cli import main


def invoke(*args):
    return CliRunner().invoke(main, list(args))


def test_run_default_table():
    r = invoke("run")
    assert r.exit_code == 0, r.output
    assert "llama2_7b/decode on npu_128" in r.output and "area by component" in r.output


def test_run_json_has_ops_block_area():
    r = invoke("run", "--format", "json")
    d = json.loads(r.output)
    assert {"name", "kind", "unit", "flops", "bytes", "cycles", "seconds", "energy_j", "bound"} <= set(d["ops"][0])
    assert {"seconds", "energy_j", "flops"} <= set(d["block"])
    assert d["area_mm2"]["total"] == sum(d["area_mm2"]["by_component"].values())


def test_run_csv_to_file(tmp_path):
    out = tmp_path / "r.csv"
    r = invoke("run", "--workload", "gpt2", "--phase", "prefill", "--seq", "128", "--format", "csv", "--out", str(out))
    assert r.exit_code == 0
    assert out.read_text().startswith("op,kind,unit")


def test_list_and_show():
    r = invoke("list")
    assert r.exit_code == 0 and "tpu_v1" in r.output and "mixtral_8x7b" in r.output
    r = invoke("show", "arch", "tpu_v1")
    assert r.exit_code == 0 and "rows: 256" in r.output
    r = invoke("show", "workload", "llama2_70b")
    assert "kv_heads: 8" in r.output


def test_errors_are_one_line_exit_2(tmp_path):
    for args, words in [
        (("run", "--arch", "nope"), "unknown architecture"),
        (("run", "--workload", "nope"), "unknown workload"),
        (("run", "--set", "units.mxu.rows=-1"), "units.mxu.rows"),
        (("run", "--set", "units.mxu.precisions=[int4]"), "cannot run"),
        (("run", "--workload", "bert_base"), "no decode phase"),
        (("run", "--set", "workload.batch=x"), "must be an integer"),
    ]:
        r = invoke(*args)
        assert r.exit_code == 2, (args, r.output)
        err = r.output.strip()
        assert err.startswith("error:") and words in err and "Traceback" not in err and "\n" not in err, err
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [x\n")
    r = invoke("run", "--arch", str(bad))
    assert r.exit_code == 2 and "malformed YAML" in r.output
    r = invoke("run", "--batch", "-3")
    assert r.exit_code == 2
