"""End-to-end sweeps in this process: the results contract, rows equal to single-point runs, errors,
constraints, and resume."""

import json

import pandas as pd
import pytest

from hwsim import api
from hwsim.errors import SpecError
from hwsim.sweep.store import read_results

from sweep_cases import SMALL_SPACE


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("small") / "res"
    summary = api.sweep("npu_128", "llama2_7b", SMALL_SPACE, out, jobs=1, progress=False)
    return out, summary


def test_one_row_per_point_and_block_with_the_contract_columns(small):
    out, s = small
    assert (s.n_points, s.computed, s.rows, s.errors, s.pruned) == (12, 12, 24, 8, 2)
    df = read_results(out, include_pruned=True)
    assert len(df) == 24 and df.groupby("point_id").size().eq(2).all()
    assert set(df["block"]) == {"llama2_7b/decode", "llama2_7b/prefill"}
    cols = list(df.columns)
    assert cols[:5] == ["point_id", "block", "units.mxu.rows", "units.mxu.cols", "tech.node"]
    assert cols[5:7] == ["latency_s", "energy_j"] and cols[-4:] == ["utilization", "bound", "error", "pruned"]
    assert {"energy_j.dram.hbm", "energy_j.leakage", "energy_j.compute.mxu", "area_mm2.mxu", "area_mm2.phy.hbm",
            "flops", "dram_bytes"} <= set(cols)
    assert df["units.mxu.rows"].dtype == "int64" and df["latency_s"].dtype == "float64"
    assert list(df["point_id"]) == sorted(df["point_id"])
    meta = json.loads((out / "meta.json").read_text())
    assert meta["n_points"] == 12 and meta["engine"] == "analytical" and meta["status"]["complete"]
    assert meta["params"] == ["units.mxu.rows", "units.mxu.cols", "tech.node"] and meta["hwsim_version"]
    assert "units.mxu.rows" in (out / "space.yaml").read_text()


def test_rows_equal_the_single_point_reference(small):
    """Every evaluated row equals hwsim.api.run with the same overrides, bit for bit (the sweep shares a cost
    memo and block graphs across points; neither may change a number)."""
    df = read_results(small[0])
    ok = df[df["error"].isna()]
    assert len(ok) == 14
    for _, row in ok.iterrows():
        sets = [f"units.mxu.rows={row['units.mxu.rows']}", f"units.mxu.cols={row['units.mxu.cols']}",
                f"tech.node={row['tech.node']}"]
        phase = row["block"].split("/")[1]
        r = api.run("npu_128", "llama2_7b", phase, 1, seq=128 if phase == "prefill" else None, kv_len=1024,
                    overrides=sets)
        assert row["latency_s"] == r.latency_s and row["energy_j"] == r.energy_total_j
        assert row["area_mm2"] == r.area_total_mm2 and row["flops"] == r.flops
        assert all(row[f"energy_j.{k}"] == v for k, v in r.energy_j.items())
        slowest = max(r.costs, key=lambda c: c.latency_s)
        assert row["bound"] == slowest.bound.value
        assert row["utilization"] == pytest.approx(sum(c.flops * c.utilization for c in r.costs) / r.flops)


def test_decode_rows_hold_the_hand_counted_traffic_and_work(small):
    """Llama-2-7B decode block, batch 1, kv_len 1024, bf16 (2 B), on any array shape and node:
    weights 4 x 4096^2 (q, k, v, o) + 3 x 4096 x 11008 (gate, up, down) = 202,375,168 -> 404,750,336 B, read
    once; K and V caches 2 x 1024 x 4096 x 2 B = 16,777,216 B; the two norms' weights 2 x 4096 x 2 B and the new
    token's K, V 2 x 4096 x 2 B = 32,768 B: dram_bytes = 421,560,320. flops: 2 x 202,375,168 for the weights and
    2 x 2 x 1024 x 4096 = 16,777,216 for QK^T and SV, plus the vector ops': two RMSNorms 2 x 4 x 4096, RoPE
    3 x (4096 q + 4096 k), softmax 5 x 32 heads x 1024 keys, two residual adds 2 x 4096, SwiGLU 5 x 11008
    = 284,416;
    total 421,811,968."""
    df = read_results(small[0])
    dec = df[(df["block"] == "llama2_7b/decode") & df["error"].isna()]
    assert len(dec) == 7
    assert (dec["dram_bytes"] == 404_750_336 + 16_777_216 + 32_768).all()
    vector = 2 * 4 * 4096 + 3 * (4096 + 4096) + 5 * 32 * 1024 + 2 * 4096 + 5 * 11008
    assert vector == 284_416 and (dec["flops"] == 404_750_336 + 16_777_216 + vector).all()


def test_invalid_points_carry_a_one_line_error_and_the_sweep_goes_on(small):
    df = read_results(small[0])
    bad = df[df["units.mxu.rows"] == 0]
    assert len(bad) == 8 and bad["latency_s"].isna().all()
    for e in bad["error"]:
        assert "units.mxu.rows" in e and "greater than 0" in e and "\n" not in e
    assert df[df["units.mxu.rows"] > 0]["error"].isna().all()


def test_constraints_on_area_prune_before_the_blocks_run(small):
    df = read_results(small[0], include_pruned=True)
    pruned = df[df["pruned"].notna()]
    assert set(pruned["pruned"]) == {"area_mm2 <= 90"}
    assert (pruned["area_mm2"] > 90).all() and pruned["latency_s"].isna().all()
    assert ((pruned["units.mxu.rows"] == 128) & (pruned["units.mxu.cols"] == 128) & (pruned["tech.node"] == 7)).all()
    assert "pruned" not in read_results(small[0]).columns and len(read_results(small[0])) == 22


def test_output_constraints_prune_rows(tmp_path):
    space = {"params": {"units.mxu.rows": [64, 128], "units.mxu.cols": [64, 128]},
             "constraints": ["latency_s <= 6e-4"]}
    api.sweep("npu_128", "llama2_7b", space, tmp_path / "r", jobs=1, progress=False,
              blocks=[{"phase": "decode", "kv_len": 1024}])
    df = read_results(tmp_path / "r", include_pruned=True)
    assert len(df) == 4
    assert (df["pruned"].notna() == (df["latency_s"] > 6e-4)).all() and df["pruned"].notna().any()


def test_resume_computes_only_what_is_missing_and_equals_a_clean_run(small, tmp_path):
    out = tmp_path / "r"
    api.sweep("npu_128", "llama2_7b", SMALL_SPACE, out, jobs=1, progress=False, batch_points=2)
    chunks = sorted((out / "chunks").glob("part-*.parquet"))
    assert len(chunks) == 6
    for c in chunks[1::2]:                           # lose 3 chunks = 6 points
        c.unlink()
    (out / "chunks" / ".part-000099.parquet.123.tmp").write_bytes(b"half-written")
    s = api.sweep("npu_128", "llama2_7b", SMALL_SPACE, out, jobs=1, progress=False, resume=True)
    assert (s.skipped, s.computed) == (6, 6)
    assert not list((out / "chunks").glob(".*tmp"))
    pd.testing.assert_frame_equal(read_results(out, include_pruned=True), read_results(small[0], include_pruned=True),
                                  check_exact=True)
    again = api.sweep("npu_128", "llama2_7b", SMALL_SPACE, out, jobs=1, progress=False, resume=True)
    assert again.computed == 0


def test_results_are_not_mixed_with_another_sweep(small):
    with pytest.raises(SpecError, match="already holds sweep results"):
        api.sweep("npu_128", "llama2_7b", SMALL_SPACE, small[0], jobs=1, progress=False)
    other = {**SMALL_SPACE, "params": {**SMALL_SPACE["params"], "tech.node": [7, 3]}}
    with pytest.raises(SpecError, match="different sweep"):
        api.sweep("npu_128", "llama2_7b", other, small[0], jobs=1, progress=False, resume=True)
    with pytest.raises(SpecError, match="engine differs"):
        api.sweep("npu_128", "llama2_7b", SMALL_SPACE, small[0], jobs=1, progress=False, resume=True,
                  engine="roofline")


def test_workload_parameters_and_several_models(tmp_path):
    """workload.batch goes to the block, workload.precision.weights to the model; a block may name its model."""
    space = {"params": {"workload.batch": [1, 4], "workload.precision.weights": ["bf16", "int8"]},
             "blocks": [{"phase": "decode", "kv_len": 512}, {"workload": "gpt2", "phase": "decode", "kv_len": 512}]}
    s = api.sweep("npu_128", "llama2_7b", space, tmp_path / "r", jobs=1, progress=False)
    df = read_results(tmp_path / "r")
    assert s.rows == 8 and set(df["block"]) == {"llama2_7b/decode", "gpt2/decode"}
    row = df[(df["block"] == "gpt2/decode") & (df["workload.batch"] == 4)
             & (df["workload.precision.weights"] == "int8")].iloc[0]
    ref = api.run("npu_128", "gpt2", "decode", 4, kv_len=512, overrides=["workload.precision.weights=int8"])
    assert row["latency_s"] == ref.latency_s and row["energy_j"] == ref.energy_total_j


@pytest.mark.parametrize("space, words", [
    ({"params": {"units.mxu.rowz": [1, 2]}}, "params.units.mxu.rowz: not a field of the arch spec"),
    ({"params": {"memories.nope.capacity": [1, 2]}}, "params.memories.nope.capacity: not a field"),
    # the path forms where npu_128 names its parts differently: the error lists what is there
    ({"params": {"units.npu.rows": [64, 128]}}, r"units has no entry 'npu' \(allowed: mxu, vpu\)"),
    ({"params": {"memory.sram.capacity_kib": [8192]}}, r"arch has no field 'memory' \(allowed: .*memories"),
    ({"params": {"memories.sram.capacity_kib": [8192]}},
     r"memories.sram has no field 'capacity_kib'; sweep 'capacity' with values that carry their unit"),
    ({"params": {"units.mxu.sparsity.nope": [True]}}, r"units.mxu.sparsity has no field 'nope' \(allowed: attent"),
    ({"params": {"workload.precision.wieghts": ["int8"]}}, "not a field of the model spec"),
    ({"params": {"units.mxu.rows": [64]}, "constraints": ["rows < 3"]}, "neither a swept parameter nor an output"),
    ({"params": {"units.mxu.rows": [64]}, "blocks": [{"phase": "decode"}, {"phase": "decode"}]}, "two blocks"),
    ({"params": {"workload.phase": ["decode", "prefill"]}, "blocks": [{"phase": "decode"}, {"phase": "prefill"}]},
     "two blocks"),
])
def test_bad_paths_and_constraints_fail_before_any_point_runs(space, words, tmp_path):
    with pytest.raises(SpecError, match=words):
        api.sweep("npu_128", "llama2_7b", space, tmp_path / "r", jobs=1, progress=False)
    assert not (tmp_path / "r").exists()


def test_cycle_engine_sweep_rows_equal_hwsim_run_engine_cycle(tmp_path):
    """--engine cycle in a sweep: the systolic ops go through the cycle-level simulator, and each row equals
    ``hwsim run --engine cycle`` at that point. The 128-row point's cycle latency (506.549 us) is not the
    analytical one (506.112 us; the two engines agree within 5 %, docs/systolic.md), so the sweep really used
    the simulator."""
    space = {"params": {"units.mxu.rows": [64, 128]}, "blocks": [{"phase": "prefill", "seq": 64}]}
    s = api.sweep("npu_128", "llama2_7b", space, tmp_path / "c", engine="cycle", jobs=1, progress=False)
    api.sweep("npu_128", "llama2_7b", space, tmp_path / "a", jobs=1, progress=False)
    cyc, ana = read_results(tmp_path / "c"), read_results(tmp_path / "a")
    assert s.rows == 2 and cyc["error"].isna().all()
    assert json.loads((tmp_path / "c" / "meta.json").read_text())["engine"] == "cycle"
    for _, row in cyc.iterrows():
        r = api.run("npu_128", "llama2_7b", "prefill", 1, seq=64, engine="cycle",
                    overrides=[f"units.mxu.rows={row['units.mxu.rows']}"])
        assert row["latency_s"] == r.latency_s and row["energy_j"] == r.energy_total_j
    assert (cyc["latency_s"] != ana["latency_s"]).any()
