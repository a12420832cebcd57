"""CLI: exit codes, JSON shape, files written, one-line errors."""

import json
from pathlib import Path

from click.testing import CliRunner

from hwsim.cli import main

ROOT = Path(__file__).resolve().parents[1]


def invoke(*args):
    return CliRunner().invoke(main, list(args), prog_name="hwsim")


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
    blocker = tmp_path / "file"
    blocker.write_text("")
    for out in (tmp_path, blocker / "r.json"):                   # a directory; a path under a plain file
        r = invoke("run", "--out", str(out))
        assert r.exit_code == 2 and r.output.startswith(f"error: {out}: --out: cannot write the output (")
        assert r.output.count("\n") == 1


def test_click_usage_errors_are_one_line_exit_2():
    """Bad option values, unknown options/commands and missing arguments read like every other error."""
    for args, words in [
        (("run", "--batch", "-3"),
         "hwsim run: Invalid value for '--batch': -3 is not in the range x>=1 (see 'hwsim run --help')"),
        (("run", "--phase", "middle"), "'middle' is not one of 'prefill', 'decode'"),
        (("run", "--format", "xml"), "'xml' is not one of 'table', 'csv', 'json'"),
        (("run", "--kv-len", "abc"), "Invalid value for '--kv-len'"),
        (("run", "--bogus"), "No such option '--bogus'"),
        (("runn",), "No such command 'runn'"),
        (("--bogus",), "No such option '--bogus'"),
        (("show", "thing", "x"), "'thing' is not one of 'arch', 'workload', 'mapping'"),
        (("show", "arch"), "Missing argument 'NAME'"),
    ]:
        r = invoke(*args)
        assert r.exit_code == 2, (args, r.output)
        err = r.output
        assert err.startswith("error: ") and words in err and err.count("\n") == 1 and "Usage:" not in err, err
    assert invoke("run", "--help").exit_code == 0


def test_enum_error_lists_allowed_once_and_precision_hint(monkeypatch):
    monkeypatch.chdir(ROOT)  # errors name files relative to the working directory
    r = invoke("run", "--set", "units.mxu.dataflow=xs")
    assert r.exit_code == 2
    assert r.output == ("error: arch_configs/npu_128.yaml: units.mxu.dataflow: not an allowed value (got 'xs') "
                        "(allowed: 'os', 'ws' or 'is')\n")
    r = invoke("run", "--arch", "tpu_v1")          # bf16 Llama on an integer chip: say which fields to change
    assert r.exit_code == 2 and r.output.count("\n") == 1
    assert "act computes int8, int16, int32, fp32, not bf16" in r.output
    assert r.output.rstrip().endswith("--set workload.precision.activations=int8 "
                                      "(allowed on tpu_v1: int8, int16, int32, fp32)")


def test_show_and_run_take_a_hf_config_path(tmp_path):
    cfg = {"model_type": "qwen2", "hidden_size": 2048, "num_attention_heads": 16, "num_key_value_heads": 16,
           "num_hidden_layers": 24, "intermediate_size": 5504, "hidden_act": "silu", "rms_norm_eps": 1e-6,
           "vocab_size": 151936, "max_position_embeddings": 32768, "torch_dtype": "bfloat16"}
    p = tmp_path / "Qwen1.5-1.8B" / "config.json"
    p.parent.mkdir()
    p.write_text(json.dumps(cfg))
    r = invoke("show", "workload", str(p))
    assert r.exit_code == 0 and "qkv_bias: true" in r.output and "kv_heads: 16" in r.output
    r = invoke("run", "--workload", str(p.parent), "--format", "json")
    d = json.loads(r.output)
    qkv = next(o for o in d["ops"] if o["name"] == "qkv_proj")
    assert qkv["flops"] == 2 * 2048 * 6144 and d["model"]["layers"] == 24


def test_readme_default_run_and_error_examples_are_real(monkeypatch):
    """The README pastes `hwsim run`'s whole output and three error lines: they must be what hwsim prints today
    (a model change that moves a number fails here: paste the new output)."""
    monkeypatch.chdir(ROOT)
    readme = (ROOT / "README.md").read_text()
    pasted = readme.split("```\n$ hwsim run\n", 1)[1].split("```", 1)[0]
    out = invoke("run").output
    assert [ln.rstrip() for ln in pasted.splitlines()] == [ln.rstrip() for ln in out.splitlines()]
    for cmd in ("run --set units.mxu.rows=-1", "run --set units.mxu.dataflow=xs", "run --batch 0"):
        shown = readme.split(f"$ hwsim {cmd}\n", 1)[1].splitlines()[0]
        r = invoke(*cmd.split())
        assert r.exit_code == 2 and r.output == shown + "\n", (shown, r.output)
