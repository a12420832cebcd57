"""Tables: hand-derived values, conservation laws, and the Pareto front against its definition."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwsim.report import tables as T
from hwsim.report.inputs import load_input



def test_ops_frame_conserves_time_and_energy(run_doc):
    """compute_s + stall_s = seconds per op; components sum to the op's energy; ops sum to the block's energy
    (leakage is shared out to the ops, so the block total is the sum of its ops)."""
    f = T.ops_frame(run_doc)
    assert list(f["op"]) == [o["name"] for o in run_doc["ops"]]
    np.testing.assert_allclose(f["compute_s"] + f["stall_s"], f["seconds"], rtol=1e-12)
    comps = [c for c in f.columns if c.startswith("energy_j.")]
    np.testing.assert_allclose(f[comps].sum(axis=1), f["energy_j"], rtol=1e-9)
    assert f["energy_j"].sum() == pytest.approx(run_doc["block"]["energy_j"], rel=1e-9)
    assert f["dram_bytes"].sum() == pytest.approx(run_doc["block"]["dram_bytes"], rel=1e-9)


def test_ops_frame_qkv_by_hand(run_doc):
    """qkv_proj of Llama-2-7B decode: 4096 x 12288 bf16 weights = 100,663,296 B from HBM and
    2 x 4096 x 12288 = 100,663,296 flops, so its intensity against HBM is exactly 1 FLOP/B; at 819.2 GB/s
    the weights alone take 122.88 us, so it cannot beat 819.2 GFLOP/s."""
    f = T.ops_frame(run_doc).set_index("op")
    q = f.loc["qkv_proj"]
    assert q["flops"] == 2 * 4096 * 12288
    assert q["dram_bytes"] == 4096 * 12288 * 2
    assert q["seconds"] >= 4096 * 12288 * 2 / 819.2e9
    assert q["achieved_flops_s"] <= 819.2e9 * (1 + 1e-12)


def test_shares_sum_to_one(run_doc):
    e, a = T.energy_frame(run_doc), T.area_frame(run_doc)
    assert e["share"].sum() == pytest.approx(1.0)
    assert a["area_mm2"].sum() == pytest.approx(run_doc["area_mm2"]["total"])
    assert list(e["energy_j"]) == sorted(e["energy_j"], reverse=True)


def test_headline(run_doc):
    h = T.headline_frame(run_doc).set_index("quantity")["value"]
    assert h["block latency"] == run_doc["block"]["seconds"]
    assert h["average power"] == pytest.approx(run_doc["block"]["energy_j"] / run_doc["block"]["seconds"])
    assert h["model latency (32 layers)"] == pytest.approx(32 * run_doc["block"]["seconds"])


def _dominated_brute(x, y):
    n = len(x)
    return np.array([any(x[j] <= x[i] and y[j] <= y[i] and (x[j] < x[i] or y[j] < y[i]) for j in range(n))
                     for i in range(n)])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 8), st.integers(1, 8)), min_size=1, max_size=30))
def test_pareto_mask_is_the_definition(pts):
    """On the front iff no other point is <= in both and < in one (equal points do not dominate each other)."""
    x = np.array([p[0] for p in pts], float)
    y = np.array([p[1] for p in pts], float)
    np.testing.assert_array_equal(T.pareto_mask(x, y), ~_dominated_brute(x, y))


def test_sweep_params_and_failed_points(sweep_dir):
    inp = load_input(sweep_dir)
    assert T.sweep_params(inp.frame) == ["units.mxu.rows", "memories.hbm.bandwidth"]
    assert T.sweep_params(inp.frame, {"params": ["memories.hbm.bandwidth", "gone"]}) == ["memories.hbm.bandwidth"]
    ok = T.ok_points(inp.frame)
    assert len(inp.frame) == 25 and len(ok) == 24 and "decode-bad" not in set(ok["point_id"])
    # the pruned row and the row written twice (27 rows on disk, over chunks whose column types differ)
    assert "decode-pruned" not in set(inp.frame["point_id"]) and "pruned" not in inp.frame.columns
    assert not inp.frame.duplicated(["point_id", "block"]).any()


def test_pareto_frame_per_block(sweep_dir):
    pts = load_input(sweep_dir).frame
    front = T.pareto_frame(pts)
    for block, sub in T.ok_points(pts).groupby("block"):
        dom = _dominated_brute(sub["latency_s"].to_numpy(), sub["energy_j"].to_numpy())
        assert set(front[front.block == block]["point_id"]) == set(sub["point_id"][~dom])
    # the fastest point of each block is always on the front
    assert "decode-256-2e+12" in set(front["point_id"])


def test_sensitivity_by_hand(sweep_dir):
    """decode, rows = 32: latency = 1e-3 + 1e-4 x {2, 1, 0.5} over the three bandwidths, so the median is
    1.1 ms, min 1.05 ms, max 1.2 ms; the failed rows = 512 point leaves no row."""
    s = T.sensitivity_frame(load_input(sweep_dir).frame, "units.mxu.rows")
    r = s[(s.block == "decode") & (s["units.mxu.rows"] == 32)].iloc[0]
    assert (r["latency_s.median"], r["latency_s.min"], r["latency_s.max"]) == pytest.approx((1.1e-3, 1.05e-3, 1.2e-3))
    assert 512 not in set(s["units.mxu.rows"])


def test_parity_stats_by_group(validation_csv):
    """The fixture predicts 1.2x for gemm rows, 0.9x otherwise: APE 20% and 10%."""
    f = pd.read_csv(validation_csv)
    stats = T.parity_frame(f, "seconds", "pred_seconds", "kind").set_index("group")
    n_gemm = int((f.kind == "gemm").sum())
    assert stats.loc["gemm", "mape"] == pytest.approx(0.2)
    assert stats.loc["copy", "mape"] == pytest.approx(0.1)
    assert stats.loc["all", "mape"] == pytest.approx((0.2 * n_gemm + 0.1 * (len(f) - n_gemm)) / len(f))
    assert stats.loc["gemm", "log_bias"] == pytest.approx(1.2)
