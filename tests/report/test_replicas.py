"""Runs with many ops (an interleaved decode step unrolls layers x sub-batches: ``l<k>.sb<s>.<op>``): the
per-op figures and table sum each block op's replicas, conserving every total, so the report stays readable."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from hwsim import api
from hwsim.report import build_report
from hwsim.report import figures as F
from hwsim.report import tables as T
from hwsim.report.inputs import load_run


@pytest.fixture(scope="module")
def step() -> dict:
    """GPT-2 decode, batch 4 in 2 sub-batches, all 12 layers unrolled on npu_128: 12 x 2 x 13 = 312 ops."""
    return api.run("npu_128", "gpt2", "decode", 4, sub_batches=2).to_dict()


def test_replicas_are_summed_and_totals_conserved(step):
    ops = T.ops_frame(step)
    assert len(ops) == 312 > T.MAX_OPS_DRAWN
    g = T.ops_to_draw(ops)
    assert g["op"].tolist() == [o["name"] for o in api.run("npu_128", "gpt2", "decode", 2).to_dict()["ops"]]
    for col in ("flops", "seconds", "compute_s", "stall_s", "energy_j", *[c for c in ops if c.startswith("bytes.")]):
        assert g[col].sum() == pytest.approx(ops[col].sum(), rel=1e-12), col
    qkv = ops[ops["op"].str.endswith(".qkv_proj")]
    row = g.set_index("op").loc["qkv_proj"]
    assert len(qkv) == 24 and row["seconds"] == pytest.approx(qkv["seconds"].sum())
    assert row["achieved_flops_s"] == pytest.approx(qkv["flops"].sum() / qkv["seconds"].sum())
    # a sum of ops under a roof stays under it: sum(bytes) <= bandwidth x sum(seconds) at every level
    for lv, m in step["arch_summary"]["memories"].items():
        assert np.all(g[f"bytes.{lv}"] <= m["bandwidth_bytes_s"] * g["seconds"] * (1 + 1e-9)), lv


def test_report_of_a_step_stays_readable(step):
    """13 bars, not 312: the per-op figures keep the height of a one-block report, the table has 13 rows and
    says why, and the ops CSV still has every op."""
    rep = build_report(load_run(step, "step.json"))
    figs = {f.name: f for f in rep.figures}
    for name in ("latency_by_op", "energy_by_op"):
        assert Image.open(io.BytesIO(figs[name].png)).size == (900, round((1.2 + 0.28 * 13) * 100))
        assert "The run has 312 ops" in figs[name].caption
    ops = next(t for t in rep.tables if t.name == "ops")
    assert len(ops.display) == 13 and len(ops.data) == 312
    assert "summed (13 rows)" in ops.caption
    prose = rep.sections[0].paragraphs[0]
    assert "The longest op is `" in prose and "`l" not in prose


def test_roofline_legend_and_timeline_with_many_ops(step):
    """Past 30 ops the roofline legend lists only the levels and the block (a 312-entry legend squeezed the
    axes to nothing); a timeline of hundreds of bars draws them without white edges."""
    from matplotlib.figure import Figure

    ops = T.ops_frame(step)
    b = step["block"]
    ax = F.roofline(ops, Figure().subplots(), block=(b["flops"], b["dram_bytes"], b["seconds"]))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(labels) == len(step["arch_summary"]["memories"]) + 1
    skipped = next(t.get_text() for t in ax.texts if t.get_text().startswith("not shown"))
    assert skipped.endswith("+20 more")  # 24 kv_append replicas: four named
    ax = F.timeline(pd.DataFrame(step["schedule"]), Figure().subplots())
    assert len(ax.patches) == 312 and all(p.get_linewidth() == 0 for p in ax.patches)
