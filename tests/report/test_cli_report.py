"""`hwsim report`: every input kind, stdin, and one-line errors with exit status 2."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from hwsim.cli import main


def invoke(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input)


def test_report_from_stdin(tmp_path, run_doc):
    """`hwsim run --format json | hwsim report - --out DIR` (the documented example command)."""
    out = tmp_path / "r"
    r = invoke("report", "-", "--out", str(out), input=json.dumps(run_doc))
    assert r.exit_code == 0, r.output
    assert "6 figures (PNG + SVG)" in r.output
    m = json.loads((out / "manifest.json").read_text())
    assert m["input"]["source"] == "<stdin>" and m["command"] == ["hwsim", "report", "-", "--out", str(out)]
    assert (out / "report.html").stat().st_size > 50_000


def test_report_of_a_sweep(tmp_path, sweep_dir):
    r = invoke("report", str(sweep_dir), "--out", str(tmp_path / "s"))
    assert r.exit_code == 0, r.output
    md = (tmp_path / "s" / "report.md").read_text()
    assert "## Sensitivity to units.mxu.rows" in md and "## Failed points" in md
    assert "512 rows do not fit the die" in md


def test_report_of_a_validation_with_named_columns(tmp_path, validation_csv):
    f = pd.read_csv(validation_csv).rename(columns={"seconds": "meas", "pred_seconds": "est"})
    f.to_csv(tmp_path / "v.csv", index=False)
    r = invoke("report", str(tmp_path / "v.csv"), "--out", str(tmp_path / "v"), "--measured", "meas",
               "--predicted", "est")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "v" / "figures" / "parity.png").is_file()
    assert r.output.endswith("report.md, report.html, 1 figure (PNG + SVG), 2 tables (CSV), manifest.json\n")
    stats = pd.read_csv(tmp_path / "v" / "tables" / "parity_stats.csv").set_index("group")
    assert stats.loc["gemm", "mape"] == pytest.approx(0.2)


def test_validation_rows_without_prediction_are_left_out(tmp_path, validation_csv):
    f = pd.read_csv(validation_csv)
    f.loc[[0, 3], "pred_seconds"] = None
    f.to_csv(tmp_path / "v.csv", index=False)
    r = invoke("report", str(tmp_path / "v.csv"), "--out", str(tmp_path / "v"))
    assert r.exit_code == 0, r.output
    md = (tmp_path / "v" / "report.md").read_text()
    assert f"2 of {len(f)} rows have no seconds or no pred_seconds and are left out" in md
    assert f"- **rows**: {len(f) - 2}" in md


def test_old_json_without_arch_summary_is_recomputed(tmp_path, run_doc):
    """A JSON from before arch_summary existed: the shipped spec fills it in, and the report says so."""
    doc = {k: v for k, v in run_doc.items() if k != "arch_summary"}
    (tmp_path / "old.json").write_text(json.dumps(doc))
    r = invoke("report", str(tmp_path / "old.json"), "--out", str(tmp_path / "o"))
    assert r.exit_code == 0, r.output
    assert (tmp_path / "o" / "figures" / "roofline.png").is_file()
    assert "recomputed from the shipped spec 'npu_128'" in (tmp_path / "o" / "report.md").read_text()


def _bad_inputs(tmp_path, run_doc):
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "noops.json").write_text(json.dumps({k: v for k, v in run_doc.items() if k != "ops"}))
    pd.DataFrame({"seconds": [1.0]}).to_csv(tmp_path / "nopred.csv", index=False)
    pd.DataFrame({"seconds": [1.0, -2.0], "pred_seconds": [1.0, 1.0]}).to_csv(tmp_path / "neg.csv", index=False)
    (tmp_path / "emptydir").mkdir()
    (tmp_path / "nometa" / "chunks").mkdir(parents=True)   # chunks but no meta.json: not written by hwsim sweep
    pd.DataFrame({"point_id": ["a"], "latency_s": [1.0]}).to_parquet(tmp_path / "nometa" / "chunks" / "part-000001.parquet")
    (tmp_path / "x.txt").write_text("hi")
    # a hand-edited run JSON: wrong types, negative or non-finite numbers, a section that is not a mapping
    edits = {"strsec.json": ("ops", 0, "seconds", "abc"), "negsec.json": ("ops", 2, "seconds", -1.0),
             "nanj.json": ("ops", 1, "energy_j", float("nan")), "area5.json": ("area_mm2", None, None, 5),
             "noblocksec.json": ("block", None, None, {"energy_j": 1.0}),
             "badslot.json": ("schedule", 0, "end_s", "x"),
             "zerobw.json": ("arch_summary", "memories", "hbm", {"bandwidth_bytes_s": 0})}
    for name, (key, i, field, value) in edits.items():
        doc = json.loads(json.dumps(run_doc))
        if i is None:
            doc[key] = value
        else:
            doc[key][i][field] = value
        (tmp_path / name).write_text(json.dumps(doc))
    return {
        "strsec.json": "ops.0.seconds: Input should be a valid number, unable to parse string as a number "
                       "(got 'abc')",
        "negsec.json": "ops.2.seconds: Input should be greater than or equal to 0 (got -1.0)",
        "nanj.json": "ops.1.energy_j: Input should be a finite number (got nan)",
        "area5.json": "area_mm2: Input should be a mapping of fields (got 5)",
        "noblocksec.json": "block.seconds: missing required field",
        "badslot.json": "schedule.0.end_s: Input should be a valid number",
        "zerobw.json": "arch_summary.memories.hbm.bandwidth_bytes_s: Input should be greater than 0 (got 0)",
        "missing.json": "no such file or directory",
        "bad.json": "not valid JSON",
        "noops.json": "ops: missing",
        "nopred.csv": "no predicted column",
        "neg.csv": "seconds[row 3]: must be a positive number, got -2.0",
        "emptydir": "chunks: a sweep results directory needs chunks/part-*.parquet",
        "nometa": "meta.json: missing: not a sweep results directory",
        "x.txt": "cannot tell what .txt holds",
    }


def test_bad_inputs_are_one_line_errors(tmp_path, run_doc):
    cases = _bad_inputs(tmp_path, run_doc)
    for name, message in cases.items():
        r = invoke("report", str(tmp_path / name), "--out", str(tmp_path / "out"))
        assert r.exit_code == 2, (name, r.output)
        assert r.output.count("\n") == 1 and r.output.startswith("error: ") and message in r.output, r.output
        assert "Traceback" not in r.output


def test_stdin_garbage(tmp_path):
    r = invoke("report", "-", "--out", str(tmp_path / "o"), input="hello")
    assert r.exit_code == 2 and r.output.startswith("error: <stdin>: not valid JSON")


def test_out_is_required(run_json):
    r = invoke("report", str(run_json))
    assert r.exit_code == 2 and "--out" in r.output


def test_unwritable_out_is_one_line(tmp_path, run_json):
    """--out under a file (or anywhere it cannot be created): one line naming the directory, exit 2."""
    (tmp_path / "file").write_text("x")
    r = invoke("report", str(run_json), "--out", str(tmp_path / "file" / "sub"))
    assert r.exit_code == 2 and r.output.count("\n") == 1, r.output
    assert r.output.startswith(f"error: {tmp_path / 'file' / 'sub'}: --out: cannot write the report here "
                               "(Not a directory:")


def test_validation_options_on_other_inputs_are_refused(tmp_path, run_json, sweep_dir):
    """--measured/--predicted mean nothing to a run or a sweep: a typo'd invocation says so instead of
    ignoring them."""
    for src, kind in ((run_json, "run"), (sweep_dir, "sweep")):
        r = invoke("report", str(src), "--out", str(tmp_path / kind), "--measured", "meas")
        assert r.exit_code == 2 and r.output == (f"error: {src}: --measured/--predicted name columns of a "
                                                 f"validation CSV; this is a {kind} input (allowed: a CSV with "
                                                 "measured and predicted seconds)\n"), r.output
