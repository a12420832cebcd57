"""hwsim estimate / validate: CLI behaviour, the block-composition rule, and accuracy targets on unseen data.

Accuracy targets (issue: GEMM <= 10 %, attention <= 15 %, whole blocks <= 10 %, energy <= 20 % mean absolute
error on data the model was not fitted to) are checked on the calibration rows held out of the fit
(hwsim.validation.fit.HELD_OUT) and on the hold-out file's device-bound rows. Host-bound rows (the GPU waits for
PyTorch's launches) measure the host CPU of that day, which varied 1.5x between measuring days (MEASUREMENTS.md);
they are reported by scripts/fit_h100.py and docs/validation.md, not asserted here.
"""

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from hwsim.api import estimate, evaluate
from hwsim.arch.loader import arch_from_dict, load_arch
from hwsim.cli import main
from hwsim.specio import read_mapping
from hwsim.validation.cases import llama7b_block
from hwsim.validation.eager import eager_time
from hwsim.validation.estimate import read_cases
from hwsim.validation.fit import is_held_out
from hwsim.validation.validate import compare
from hwsim.workload.blocks import build_block

DATA = Path(__file__).resolve().parents[1] / "hwsim" / "data" / "calibration"
OVERLAPS = {("gemm", "bf16", s) for s in ("1x768x2304", "1x768x3072", "1x3072x768", "4096x4096x4096",
                                          "1x4096x4096", "512x4096x4096")}


def invoke(*args):
    return CliRunner().invoke(main, list(args))


def assert_one_line_error(r, words):
    err = r.output.strip()
    assert r.exit_code == 2 and err.startswith("error:") and words in err and "\n" not in err, err


@pytest.fixture(scope="module")
def h100():
    return load_arch("h100")


def _errors(frame: pd.DataFrame, arch) -> pd.DataFrame:
    p = estimate(frame, arch, detail=True)
    p = p[p["kind"] != "idle"].copy()
    p["err"] = (p["seconds"] / p["measured_seconds"].astype(float) - 1).abs()
    p["group"] = p["kind"].str.split("_").str[0].replace({"attn": "attention"})
    return p


# ---- CLI -----------------------------------------------------------------------------------------------------
def test_estimate_keeps_rows_and_order(tmp_path):
    ops = tmp_path / "ops.csv"
    ops.write_text("kind,name,dtype,shape\nblock_decode,llama7b_block,bf16,B1_L512\ngemm,g,fp8,512x4096x4096\n"
                   "idle,idle_2s,,\nattn_prefill,a,bf16,1x8x256x64\ncopy,c,bf16,1048576\ngemm,g,fp32,16x768x3072\n")
    out = tmp_path / "pred.csv"
    r = invoke("estimate", "--arch", "h100", "--ops", str(ops), "--out", str(out))
    assert r.exit_code == 0, r.output
    pred = pd.read_csv(out, keep_default_na=False)
    src = pd.read_csv(ops, keep_default_na=False)
    assert list(pred.columns) == list(src.columns) + ["seconds", "joules"]
    assert pred[["kind", "shape"]].astype(str).values.tolist() == src[["kind", "shape"]].astype(str).values.tolist()
    assert (pred["seconds"] > 0).all() and (pred["joules"] > 0).all()
    idle = pred[pred["kind"] == "idle"].iloc[0]
    assert idle["seconds"] == 2.0 and idle["joules"] == pytest.approx(2.0 * load_arch("h100").energy.static_power_w)


def test_measured_columns_are_kept_apart(tmp_path):
    out = tmp_path / "p.csv"
    r = invoke("estimate", "--ops", str(DATA / "h100_calibration.csv"), "--out", str(out))
    assert r.exit_code == 0, r.output
    pred = pd.read_csv(out)
    assert {"measured_seconds", "measured_joules", "seconds", "joules"} <= set(pred.columns) and len(pred) == 83


@pytest.mark.parametrize("row, words", [
    ("gemm,g,bf16,12x4", "row 1: shape"),
    ("gemm,g,bf16,0x4x4", "row 1: shape"),
    ("gemm,g,int4,8x8x8", "row 1: dtype"),
    ("attn_decode,a,bf16,1x2x3", "BxHxLxD"),
    ("conv,c,bf16,1", "unknown kind"),
    ("block_decode,llama70b_block,bf16,B1_L512", "unknown block"),
    ("block_prefill,llama7b_block,bf16,B1_L512", "B<batch>_T<tokens>"),
    ("idle,i,,soon", "idle duration"),
])
def test_bad_rows_are_one_line_exit_2(tmp_path, row, words):
    ops = tmp_path / "ops.csv"
    ops.write_text("kind,name,dtype,shape\n" + row + "\n")
    assert_one_line_error(invoke("estimate", "--ops", str(ops), "--out", str(tmp_path / "o.csv")), words)
    assert not (tmp_path / "o.csv").exists()


def test_copy_row_by_hand(h100):
    """copy_4096MB (2^31 bf16 elements, read + write = 2^33 B) is one copy-engine transfer: 2^33 B over the
    achievable HBM bandwidth (3.35 TB/s x hbm_efficiency) plus kernel_fixed_s; its energy is static power x
    time + 8 bits x 2^33 B x bit_j.hbm + 2^33 x ce.bytes (no SM-active power: the SMs stay idle). The
    calibration file measured 2.8415 ms and 1.0275 J."""
    p = h100.units["gpu"].params
    nbytes = 2.0 ** 33
    t = nbytes / (3.35e12 * p["hbm_efficiency"]) + p["kernel_fixed_s"]
    e = h100.energy
    j = e.static_power_w * t + 8 * nbytes * e.bit_j["hbm"] + nbytes * e.action_j["ce.bytes"]
    row = pd.DataFrame([{"kind": "copy", "name": "copy_4096MB", "dtype": "bf16", "shape": str(2 ** 31)}])
    pred = estimate(row, h100)
    assert pred["seconds"][0] == pytest.approx(t, rel=1e-9) and pred["joules"][0] == pytest.approx(j, rel=1e-9)
    assert pred["seconds"][0] == pytest.approx(2.8415e-3, rel=0.01) and pred["joules"][0] == pytest.approx(1.0275, rel=0.01)


def test_unreadable_paths_are_one_line_exit_2(tmp_path):
    ops = tmp_path / "ops.csv"
    ops.write_text("kind,name,dtype,shape\ncopy,c,bf16,1024\n")
    cases = [(("estimate", "--ops", str(tmp_path), "--out", str(tmp_path / "o.csv")), "cannot read file"),
             (("estimate", "--ops", str(ops), "--out", str(tmp_path)), "cannot write"),
             (("validate", "--data", str(DATA / "h100_calibration.csv"), "--plot", str(tmp_path / "p.svg")),
              "a path ending in .png")]
    extra = tmp_path / "extra.csv"
    extra.write_text("kind,name,dtype,shape\ngemm,g,bf16,8x8x8,1,2\n")
    cases.append((("estimate", "--ops", str(extra), "--out", str(tmp_path / "o.csv")), "more fields than the header"))
    for args, words in cases:
        r = invoke(*args)
        err = r.output.strip().splitlines()[-1]
        assert r.exit_code == 2 and err.startswith("error:") and words in err, (args, r.output)


@pytest.mark.parametrize("rows, words", [
    ("seconds\ngemm,g,bf16,8x8x8,abc", "row 1: seconds: cannot read measured seconds 'abc'"),
    ("seconds\ngemm,g,bf16,8x8x8,1e-5\ngemm,g,bf16,8x8x8,-1", "row 2: seconds"),
    ("seconds\ngemm,g,bf16,8x8x8,0", "row 1: seconds"),
    ("seconds\ngemm,g,bf16,8x8x8,", "row 1: seconds"),
    ("seconds,joules\ngemm,g,bf16,8x8x8,1e-5,\ngemm,g,bf16,8x8x8,1e-5,lots", "row 2: joules"),
    ("seconds", "no timed rows"),
    ("seconds\nidle,idle_2s,,,2.0", "no timed rows"),
])
def test_validate_bad_measurements_exit_2(tmp_path, rows, words):
    data = tmp_path / "m.csv"
    data.write_text("kind,name,dtype,shape," + rows + "\n")
    png = tmp_path / "p.png"
    assert_one_line_error(invoke("validate", "--data", str(data), "--plot", str(png)), words)
    assert not png.exists()


def test_missing_file_or_columns_exit_2(tmp_path):
    r = invoke("estimate", "--ops", str(tmp_path / "none.csv"), "--out", str(tmp_path / "o.csv"))
    assert r.exit_code == 2 and "file not found" in r.output
    bad = tmp_path / "bad.csv"
    bad.write_text("kind,shape\ngemm,1x1x1\n")
    r = invoke("estimate", "--ops", str(bad), "--out", str(tmp_path / "o.csv"))
    assert r.exit_code == 2 and "missing name, dtype" in r.output
    r = invoke("validate", "--data", str(bad))
    assert r.exit_code == 2


def test_validate_prints_mape_and_writes_parity_plot(tmp_path):
    png = tmp_path / "parity.png"
    r = invoke("validate", "--arch", "h100", "--data", str(DATA / "h100_calibration.csv"), "--plot", str(png))
    assert r.exit_code == 0, r.output
    for word in ("gemm", "attn_prefill", "attn_decode", "block_prefill", "copy", "all", "energy", "worst 5"):
        assert word in r.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the printed means are the plain mean of |predicted / measured - 1| over the timed rows (idle left out)
    cal = pd.read_csv(DATA / "h100_calibration.csv")
    p = estimate(cal, "h100")
    timed = p[p["kind"] != "idle"]
    err = (timed["seconds"] / timed["measured_seconds"] - 1).abs()
    assert f"all               82 {100 * err.mean():>7.1f}%" in r.output
    copy = err[timed["kind"] == "copy"]
    assert len(copy) == 3 and f"copy               3 {100 * copy.mean():>7.1f}%" in r.output
    assert 0.0 < copy.mean() < 0.05  # copy rows: bytes / achievable HBM bandwidth, within 5 % of the measurements
    no_seconds = tmp_path / "ops.csv"
    no_seconds.write_text("kind,name,dtype,shape\ncopy,c,bf16,1024\n")
    r = invoke("validate", "--data", str(no_seconds))
    assert r.exit_code == 2 and "seconds" in r.output


# ---- the block-composition rule --------------------------------------------------------------------------------
def test_block_is_composed_from_its_ops(h100):
    """A block row's prediction is max(host pipeline, GPU) over build_block's ops, nothing fitted to blocks: the
    llama7b block has exactly the measured module's ops (no RoPE, fused SDPA, no KV append)."""
    (case,) = read_cases(pd.DataFrame([{"kind": "block_decode", "name": "llama7b_block", "dtype": "bf16",
                                        "shape": "B16_L2048"}]))
    wl = build_block(llama7b_block(), "decode", 16, kv_len=2048, fused_attention=True, kv_append=False)
    assert [o.name for o in case.workload.ops()] == [o.name for o in wl.ops()]
    assert sorted(o.name for o in wl.ops()) == sorted(["attn_norm", "qkv_proj", "attention", "o_proj", "attn_residual",
                                                      "ffn_norm", "gate_up", "act", "down", "ffn_residual"])
    run = evaluate(wl, h100)
    host = sum(c.extra["host_s"] + h100.units["gpu"].params["host_module_s"] for c in run.costs)
    free = sum(c.extra["body_s"] + c.extra["fixed_s"] for c in run.costs)
    capped = sum(c.extra["power_s"] + c.extra["fixed_s"] for c in run.costs)
    assert eager_time(run, h100, in_module=True).seconds == pytest.approx(max(host, free, capped))
    pred = estimate(pd.DataFrame([vars(case) | {"workload": None}])[["kind", "name", "dtype", "shape"]], h100)
    assert pred["seconds"][0] == pytest.approx(max(host, free, capped))


def test_block_follows_its_gemms(h100):
    """Slowing the GEMM path (tensor efficiency halved) slows a compute-bound prefill block: it is composed."""
    base = read_mapping(Path(__file__).resolve().parents[1] / "arch_configs" / "h100.yaml")
    base["units"]["gpu"]["params"]["tc_efficiency"] = 0.3
    slow = arch_from_dict(base, "<slow>")
    row = pd.DataFrame([{"kind": "block_prefill", "name": "llama7b_block", "dtype": "bf16", "shape": "B4_T2048"}])
    assert estimate(row, slow)["seconds"][0] > 1.5 * estimate(row, h100)["seconds"][0]


# ---- accuracy on data the model was not fitted to ---------------------------------------------------------------
def test_targets_on_held_out_calibration_rows(h100):
    cal = pd.read_csv(DATA / "h100_calibration.csv")
    held = cal[cal.apply(lambda r: is_held_out(r["kind"], str(r["dtype"]), str(r["shape"])), axis=1)]
    e = _errors(held, h100).groupby("group")["err"].mean()
    assert e["gemm"] <= 0.10 and e["attention"] <= 0.15, e.to_dict()


def test_targets_on_device_bound_holdout_rows(h100):
    hold = pd.read_csv(DATA / "h100_holdout.csv")
    hold = hold[~hold.apply(lambda r: (r["kind"], str(r["dtype"]), str(r["shape"])) in OVERLAPS, axis=1)]
    p = _errors(hold, h100)
    e = p[p["gpu_s"] > p["host_s"]].groupby("group")["err"].mean()
    assert e["gemm"] <= 0.10 and e["attention"] <= 0.15 and e["block"] <= 0.10, e.to_dict()


def test_energy_within_20_percent(h100):
    for name in ("h100_calibration.csv", "h100_holdout.csv"):
        rep = compare(estimate(pd.read_csv(DATA / name), h100), "h100", name)
        assert rep.energy_rows >= 2 and rep.energy_mape <= 0.20, (name, rep.energy_mape)
        per_row = rep.frame.loc[rep.frame["kind"] != "idle", "energy_err"].dropna()
        assert (per_row.abs() <= 0.25).all(), per_row.to_dict()  # issue 5: each GEMM / block within 25 %


def _fit_script():
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "scripts" / "fit_h100.py"
    spec = importlib.util.spec_from_file_location("fit_h100", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_h200_yaml_is_h100_yaml_with_datasheet_changes():
    """h200.yaml is exactly what scripts/fit_h100.py generates from h100.yaml (name, HBM3e 141 GB at 4.8 TB/s,
    L2 60 MB): a hand edit of h100.yaml that is not carried over shows up here."""
    fit = _fit_script()
    assert fit.h200_text(fit.H100.read_text()) == fit.H200.read_text()
    h100, h200 = load_arch("h100"), load_arch("h200")
    assert h200.dram.bandwidth == 4.8e12 and h200.memories[0].capacity == 60e6 and h200.dram.capacity == 141e9
    assert h200.units["gpu"] == h100.units["gpu"] and h200.clock_hz == h100.clock_hz


def test_a100_carries_the_current_h100_fit(h100):
    """a100.yaml: A100 datasheet figures, the H100's fitted params unchanged, the H100's per-action and per-bit
    energies unchanged, static and SM-active power scaled by the TDP ratio 400/700, and the L2 bandwidth scaled by
    SMs x clock (108 x 1.41 GHz / 132 x 1.98 GHz)."""
    a100 = load_arch("a100")
    pa, ph = a100.units["gpu"].params, h100.units["gpu"].params
    assert pa["power_cap_w"] == 400 and {k: v for k, v in pa.items() if k != "power_cap_w"} == \
        {k: v for k, v in ph.items() if k != "power_cap_w"}
    ea, eh = a100.energy, h100.energy
    assert ea.static_power_w == pytest.approx(eh.static_power_w * 400 / 700, rel=1e-3)
    assert ea.action_j["sm.active_s"] == pytest.approx(eh.action_j["sm.active_s"] * 400 / 700, rel=1e-3)
    assert {k: v for k, v in ea.action_j.items() if k != "sm.active_s"} == \
        {k: v for k, v in eh.action_j.items() if k != "sm.active_s" and "fp8" not in k}
    assert ea.bit_j == eh.bit_j
    assert a100.memories[0].bandwidth == pytest.approx(h100.memories[0].bandwidth * 108 * 1.41 / (132 * 1.98), rel=0.01)
    assert a100.units["gpu"].sms == 108 and a100.dram.bandwidth == pytest.approx(2.039e12) and a100.clock_hz == 1.41e9


def test_h200_transfer_without_fitting(h100):
    """arch_configs/h200.yaml is h100.yaml with the H200 datasheet's memory, L2 and power: device-bound rows of
    the H200 measurements (never fitted) stay within the targets."""
    h200 = load_arch("h200")
    assert h200.units["gpu"].params == h100.units["gpu"].params and h200.energy == h100.energy
    hold = pd.read_csv(DATA / "h200_holdout.csv")
    p = _errors(hold, h200)
    e = p[p["gpu_s"] > p["host_s"]].groupby("group")["err"].mean()
    assert e["gemm"] <= 0.10 and e["attention"] <= 0.15 and e["block"] <= 0.10, e.to_dict()
