"""``hwsim sweep`` and ``hwsim pareto``: exit codes, files written, one-line errors."""

import pandas as pd
import yaml
from click.testing import CliRunner

from hwsim.cli import main
from hwsim.sweep.store import read_results


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_sweep_then_pareto(small_space_file, tmp_path):
    out = tmp_path / "r"
    r = invoke("sweep", "--space", small_space_file, "--out", out, "--jobs", 1, "--quiet")
    assert r.exit_code == 0, r.output
    assert "12 points (12 computed now, 0 already done); 24 rows written, 8 with errors, 2 pruned" in r.output
    assert sorted(p.name for p in out.iterdir()) == ["chunks", "meta.json", "space.yaml"]
    r = invoke("pareto", out, "--objectives", "latency,energy,area")
    assert r.exit_code == 0, r.output
    front = pd.read_csv(out / "pareto.csv")
    assert r.output.splitlines()[0] == f"{len(front)} non-dominated of 14 rows (latency_s, energy_j, area_mm2)"
    df = read_results(out)
    for block, g in df[df["error"].isna()].groupby("block"):   # every front row is undominated in its block
        f = front[front["block"] == block]
        assert len(f) >= 1
        for _, p in f.iterrows():
            beats = ((g["latency_s"] <= p["latency_s"]) & (g["energy_j"] <= p["energy_j"])
                     & (g["area_mm2"] <= p["area_mm2"]) & ((g["latency_s"] < p["latency_s"])
                     | (g["energy_j"] < p["energy_j"]) | (g["area_mm2"] < p["area_mm2"])))
            assert not beats.any()
    r = invoke("pareto", out, "--objectives", "latency", "--block", "llama2_7b/decode", "--out", tmp_path / "f.csv")
    assert r.exit_code == 0 and len(pd.read_csv(tmp_path / "f.csv")) >= 1


def test_phases_on_the_command_line(tmp_path):
    space = tmp_path / "s.yaml"
    space.write_text(yaml.safe_dump({"params": {"units.mxu.rows": [64, 128]}}))
    r = invoke("sweep", "--space", space, "--out", tmp_path / "r", "--phase", "prefill", "--phase", "decode",
               "--seq", 64, "--kv-len", 256, "--jobs", 1, "--quiet")
    assert r.exit_code == 0, r.output
    df = read_results(tmp_path / "r")
    assert sorted(set(df["block"])) == ["llama2_7b/decode", "llama2_7b/prefill"] and len(df) == 4


def test_fused_attention_on_the_command_line(tmp_path):
    """--fused-attention builds the --phase blocks with one attention op, as `hwsim run --fused-attention`."""
    import json
    from hwsim import api
    space = tmp_path / "s.yaml"
    space.write_text(yaml.safe_dump({"params": {"units.gpu.sms": [132]}}))
    r = invoke("sweep", "--arch", "h100", "--space", space, "--out", tmp_path / "r", "--kv-len", 4096,
               "--fused-attention", "--jobs", 1, "--quiet")
    assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "r" / "meta.json").read_text())["blocks"][0]["fused_attention"] is True
    run = api.run("h100", "llama2_7b", "decode", 1, kv_len=4096, fused_attention=True)
    assert read_results(tmp_path / "r")["latency_s"].tolist() == [run.latency_s]


def test_errors_are_one_line_exit_2(small_space_file, tmp_path):
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("params: [x\n")
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(yaml.safe_dump({"params": {"units.mxu.rows": [64]}, "constraints": ["open('f') == 1"]}))
    done = tmp_path / "done"
    assert invoke("sweep", "--space", small_space_file, "--out", done, "--jobs", 1, "--quiet").exit_code == 0
    for args, words in [
        (("sweep", "--space", tmp_path / "missing.yaml", "--out", tmp_path / "x"), "file not found"),
        (("sweep", "--space", bad_yaml, "--out", tmp_path / "x"), "malformed YAML"),
        (("sweep", "--space", unknown, "--out", tmp_path / "x"), "calls something other than"),
        (("sweep", "--space", small_space_file, "--out", tmp_path / "x", "--phase", "decode"), "both in the space"),
        (("sweep", "--space", small_space_file, "--out", tmp_path / "x", "--arch", "nope"), "unknown architecture"),
        (("sweep", "--space", small_space_file, "--out", done), "already holds sweep results"),
        (("sweep", "--space", small_space_file, "--out", done, "--resume", "--engine", "roofline"), "engine differs"),
        (("sweep", "--space", small_space_file, "--out", tmp_path / "x", "--scheduler", "tcp://h:1"),
         "--scheduler needs --executor dask"),
        (("sweep", "--space", small_space_file, "--out", tmp_path / "y", "--executor", "dask", "--scheduler",
          "nonsense"), "cannot reach the Dask scheduler nonsense: missing port number"),
        (("sweep", "--space", small_space_file, "--out", bad_yaml), "cannot create the results directory"),
        (("pareto", tmp_path / "nowhere"), "not a sweep results directory"),
        (("pareto", done, "--objectives", "speed"), "no column 'speed'"),
        (("pareto", done, "--block", "gpt2/decode"), "no block 'gpt2/decode'"),
        (("pareto", done, "--objectives", "latency,bound"), "not a numeric column 'bound'"),
        (("pareto", done, "--out", bad_yaml / "front.csv"), "cannot write the front to"),
        (("pareto", bad_yaml), "meta.json: missing: not a sweep results directory"),
    ]:
        r = invoke(*args)
        assert r.exit_code == 2, (args, r.output)
        err = r.output.strip()
        assert err.startswith("error:") and words in err and "Traceback" not in err and "\n" not in err, err
    assert not (tmp_path / "x").exists()  # refused before the results directory is made


def test_resume_of_a_finished_sweep_computes_nothing(small_space_file, tmp_path):
    out = tmp_path / "r"
    invoke("sweep", "--space", small_space_file, "--out", out, "--jobs", 1, "--quiet")
    r = invoke("sweep", "--space", small_space_file, "--out", out, "--jobs", 1, "--quiet", "--resume")
    assert r.exit_code == 0 and "(0 computed now, 12 already done)" in r.output


def test_pareto_of_a_sweep_whose_every_point_failed_says_why(tmp_path):
    space = tmp_path / "s.yaml"
    space.write_text(yaml.safe_dump({"params": {"units.mxu.rows": [0, -1]}}))   # rows must be > 0
    assert invoke("sweep", "--space", space, "--out", tmp_path / "r", "--jobs", 1, "--quiet").exit_code == 0
    r = invoke("pareto", tmp_path / "r")
    assert r.exit_code == 0 and r.output.splitlines()[:2] == [
        "0 non-dominated of 0 rows (latency_s, energy_j, area_mm2)",
        "(no row without an error; first error: arch_configs/npu_128.yaml: units.mxu.rows: Input should be "
        "greater than 0 (got -1))"]
