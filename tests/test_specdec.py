"""Speculative decoding: the expected-tokens formula, the step's workloads, speedup and the CLI."""

import json

import pytest
from click.testing import CliRunner

from hwsim import api
from hwsim.cli import main
from hwsim.errors import SpecError
from hwsim.workload import load_model
from hwsim.workload.speculative import expected_tokens, plan


def test_expected_tokens():
    """Leviathan et al. Eq. 1: (1 - a^(k+1)) / (1 - a); a = 0 gives the target's own token, a = 1 all k + 1."""
    assert expected_tokens(0.7, 4) == pytest.approx((1 - 0.7 ** 5) / 0.3)
    assert expected_tokens(0.0, 4) == 1.0 and expected_tokens(1.0, 4) == 5.0
    assert expected_tokens(0.5, 1) == pytest.approx(1.5)


def test_plan_shapes():
    """Verification: k + 1 = 5 queries after kv_len - 1 cached keys; LM heads 768 x 32000 and 4096 x 32000."""
    p = plan(load_model("llama2_7b"), load_model("llama_160m"), 4, 0.7, batch=2, kv_len=1024)
    v = p.verify_block
    assert (v.params["phase"], v.params["seq"], v.params["past_len"]) == ("prefill", 5, 1023)
    assert v.op("attn_score").dims["N"] == 1024 + 4
    assert p.draft_block.params["kv_len"] == 1024 and p.draft_block.layers == 12
    assert p.draft_head.op("lm_head").flops == 2 * 2 * 768 * 32000
    assert p.verify_head.op("lm_head").flops == 2 * 10 * 4096 * 32000


def test_speedup_is_consistent():
    r = api.speculative("h100", "llama2_7b", "llama_160m", k=4, acceptance=0.8, kv_len=1024)
    assert r.step_s == pytest.approx(4 * r.draft_step_s + r.verify_s)
    assert r.speedup == pytest.approx(r.expected_tokens * r.plain_s / r.step_s)
    assert 1.0 < r.speedup < r.expected_tokens
    assert r.verify_s >= r.plain_s                      # 5 positions cost at least one
    low = api.speculative("h100", "llama2_7b", "llama_160m", k=4, acceptance=0.0, kv_len=1024)
    assert low.speedup < 1.0                            # nothing accepted: pure overhead


def test_bad_arguments():
    with pytest.raises(SpecError, match="shared tokenizer"):
        api.speculative(draft="llama3_8b")
    with pytest.raises(SpecError, match="acceptance"):
        api.speculative(acceptance=1.5)
    with pytest.raises(SpecError, match="decoder"):
        api.speculative(draft="mamba_130m", draft_overrides=["vocab=32000"])


def test_cli_specdec():
    res = CliRunner().invoke(main, ["specdec", "--arch", "h100", "--k", "3", "--acceptance", "0.6"])
    assert res.exit_code == 0, res.output
    assert "expected tokens per target step: (1 - a^(k+1)) / (1 - a) = 2.1760" in res.output
    assert "speedup over plain decoding" in res.output
    res = CliRunner().invoke(main, ["specdec", "--format", "json"])
    d = json.loads(res.output)
    assert d["k"] == 4 and d["speedup"] > 1
    res = CliRunner().invoke(main, ["specdec", "--draft", "llama3_8b"])
    assert res.exit_code == 2 and res.output.count("\n") == 1 and "shared tokenizer" in res.output


def test_cli_specdec_grid():
    """Repeated --k / --acceptance: one row per k, one column per acceptance, each cell the speedup and energy
    ratio that api.speculative gives for that pair; at a = 0 the draft is pure cost (speedup < 1)."""
    args = ["specdec", "--arch", "npu_128", "--k", "2", "--k", "4", "--acceptance", "0", "--acceptance", "0.8"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    rows = [ln.split() for ln in res.output.splitlines() if ln[:1] in ("2", "4")]
    for row, k in zip(rows, (2, 4)):
        for cell, a in zip((row[1:3], row[3:5]), (0.0, 0.8)):
            r = api.speculative("npu_128", k=k, acceptance=a)
            assert cell == [f"{r.speedup:.2f}x", f"({r.energy_ratio:.2f}x)"]
    assert float(rows[0][1][:-1]) < 1 < float(rows[0][3][:-1])
    js = CliRunner().invoke(main, args + ["--format", "json"])
    assert [(d["k"], d["acceptance"]) for d in json.loads(js.output)] == [(2, 0.0), (2, 0.8), (4, 0.0), (4, 0.8)]
