"""The committed examples in reports/ (see reports/README.md for the command that made each).

For each: the files are untouched by hand (the manifest's hashes), its report.md is what the report code makes
of the committed input today, and the input is what hwsim computes today (a change to a model makes these
fail: re-run the example's command from reports/README.md). Only a few rows are recomputed, to stay fast.
"""

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from hwsim import api
from hwsim.report import make_report
from hwsim.report.manifest import sha256_path
from hwsim.sweep.store import read_results

ROOT = Path(__file__).resolve().parents[2]
REPORTS = ROOT / "reports"
# example -> (input, options of hwsim report)
EXAMPLES = {
    "llama2_7b_decode_npu": ("reports/llama2_7b_decode_npu/input.json", {}),
    "npu_128_sweep": ("reports/npu_128_sweep/results", {}),
    "h100_validation": ("reports/h100_validation/predictions.csv",
                        {"measured": "measured_seconds", "predicted": "seconds"}),
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_committed_example_is_what_its_input_gives(name, tmp_path, monkeypatch):
    """Hashes match the manifest, report.md regenerates from the committed input byte for byte (the page names
    its input by the relative path the command used), same figures; the example stays small."""
    ex = REPORTS / name
    m = json.loads((ex / "manifest.json").read_text())
    for rel, sha in m["files"].items():
        assert hashlib.sha256((ex / rel).read_bytes()).hexdigest() == sha, rel
    source, options = EXAMPLES[name]
    if m["input"]["source"] != "<stdin>":
        assert m["input"]["source"] == source and sha256_path(ROOT / source) == m["input"]["sha256"]
    monkeypatch.chdir(ROOT)
    make_report(source, tmp_path, command=["test"], **options)
    assert (tmp_path / "report.md").read_text() == (ex / "report.md").read_text()
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == sorted(p.name for p in (ex / "figures").iterdir())
    assert sum(p.stat().st_size for p in ex.rglob("*") if p.is_file()) < 1_500_000  # keep the repo small


def test_run_example_is_todays_run():
    """reports/llama2_7b_decode_npu/input.json is `hwsim run --arch npu_128 --workload llama2_7b --phase decode
    --format json` with today's models."""
    doc = json.loads((REPORTS / "llama2_7b_decode_npu" / "input.json").read_text())
    now = json.loads(json.dumps(api.run("npu_128", "llama2_7b", "decode").to_dict()))
    assert doc == now


def test_sweep_example_rows_are_todays_runs():
    """Two rows of reports/npu_128_sweep/results (the fastest decode point and the slowest prefill point) equal
    hwsim.api.run with the same overrides."""
    df = read_results(REPORTS / "npu_128_sweep" / "results")
    assert len(df) == 232 and df["error"].isna().all()
    dec = df[df.block == "llama2_7b/decode"].nsmallest(1, "latency_s")
    pre = df[df.block == "llama2_7b/prefill"].nlargest(1, "latency_s")
    params = json.loads((REPORTS / "npu_128_sweep" / "results" / "meta.json").read_text())["params"]
    for row, phase, kw in ((dec.iloc[0], "decode", {"kv_len": 2048}), (pre.iloc[0], "prefill", {"seq": 512})):
        r = api.run("npu_128", "llama2_7b", phase, 1, overrides=[f"{p}={row[p]}" for p in params], **kw)
        assert (row["latency_s"], row["energy_j"], row["area_mm2"]) == (r.latency_s, r.energy_total_j,
                                                                        r.area_total_mm2)


def test_validation_example_is_todays_estimate(tmp_path):
    """reports/h100_validation/predictions.csv holds today's `hwsim estimate --arch h100` of the hold-out rows
    (idle rows left out)."""
    pred = pd.read_csv(REPORTS / "h100_validation" / "predictions.csv")
    ops = pd.read_csv(ROOT / "hwsim/data/calibration/h100_holdout.csv")
    ops = ops[ops["kind"] != "idle"]
    assert len(pred) == len(ops) == 136
    ops.to_csv(tmp_path / "ops.csv", index=False)
    now = api.estimate(str(tmp_path / "ops.csv"), "h100")
    assert now["seconds"].tolist() == pytest.approx(pred["seconds"].tolist(), rel=1e-12)
    assert now["joules"].tolist() == pytest.approx(pred["joules"].tolist(), rel=1e-12)
