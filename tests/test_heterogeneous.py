"""Heterogeneous execution: shipped mapping policies, list/event agreement, NeuPIMs ordering, scenarios."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from hwsim.api import chunked_prefill, decode_step, evaluate, load_arch, load_model, shard
from hwsim.cli import main
from hwsim.errors import SpecError
from hwsim.mapping.mapper import load_policy, map_workload
from hwsim.schedule import demands
from hwsim.workload import build_block
from hwsim.workload.interleave import interleaved_decode

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
FP16 = ["precision.weights=fp16", "precision.activations=fp16", "precision.kv_cache=fp16"]


@pytest.fixture(scope="module")
def gpt3_shard():
    return shard(load_model("gpt3_13b"), tp=4)


def _units(wl, arch, policy):
    m = map_workload(wl, load_arch(arch), load_policy(policy))
    return {name: om.unit for name, om in m.ops.items()}, m


def test_neupims_policy_puts_attention_gemvs_on_pim(gpt3_shard):
    wl = build_block(gpt3_shard, "decode", 32, kv_len=256)
    units, m = _units(wl, "neupims", "neupims")
    assert units == {"attn_norm": "vpu", "qkv_proj": "sa", "kv_append": "vpu", "attn_score": "pim",
                     "softmax": "vpu", "attn_context": "pim", "o_proj": "sa", "attn_residual": "vpu",
                     "ffn_norm": "vpu", "up": "sa", "act": "vpu", "down": "sa", "ffn_residual": "vpu"}
    assert not m["attn_score"].options
    _, blocked = _units(wl, "neupims", "pim_blocked")
    assert blocked["attn_score"].options == {"blocked": True} and not blocked["qkv_proj"].options


def test_neupims_policy_keeps_prefill_attention_on_the_arrays(gpt3_shard):
    """The PIM rules are decode-only: prefill score/context GEMMs go to the systolic arrays."""
    units, _ = _units(build_block(gpt3_shard, "prefill", 1, seq=128), "neupims", "neupims")
    assert units["attn_score"] == units["attn_context"] == "sa"


def test_baseline_policies(gpt3_shard):
    wl = build_block(gpt3_shard, "decode", 32, kv_len=256)
    npu, _ = _units(wl, "neupims_npu_only", "npu_only")
    assert {op for op, u in npu.items() if u == "sa"} == {"qkv_proj", "attn_score", "attn_context", "o_proj",
                                                          "up", "down"}
    npu_on_neupims, _ = _units(wl, "neupims", "npu_only")
    assert "pim" not in npu_on_neupims.values()
    gpu, _ = _units(wl, "a100", "gpu_only")
    assert set(gpu.values()) == {"gpu"}


@pytest.mark.parametrize("rule,message", [
    ("{ops: attn_score, phase: decoding, unit: pim}", "rules.0.phase: not an allowed value \\(got 'decoding'\\) \\(allowed: 'prefill' or 'decode'\\)"),
    ("{group: matmul, unit: sa}", "rules.0.group: not an allowed value \\(got 'matmul'\\) \\(allowed: 'matmul_like', 'vector'"),
    ("{ops: attn_score, unit: pim, colour: red}", "rules.0.colour: unknown field"),
])
def test_bad_policy_fields_are_one_line_errors(tmp_path, rule, message):
    """A misspelt phase used to make its rule never match (so the PIM silently went unused), a misspelt
    group raised KeyError; both now name the file, the rule and what is allowed."""
    p = tmp_path / "policy.yaml"
    p.write_text(f"name: p\nrules:\n  - {rule}\n")
    with pytest.raises(SpecError, match=message) as e:
        load_policy(p)
    assert str(e.value).startswith(str(p)) and "\n" not in str(e.value)
    p.write_text("name: p\nfallback: greedy\nrules: []\n")
    with pytest.raises(SpecError, match=r"fallback: not an allowed value \(got 'greedy'\) \(allowed: 'fastest' or 'error'\)"):
        load_policy(p)


def test_policy_rules_match_interleaved_ops_by_block_name(gpt3_shard):
    wl = interleaved_decode(gpt3_shard, 8, 128, 2, layers=2)
    units, _ = _units(wl, "neupims", "neupims")
    assert units["l1.sb1.attn_score"] == "pim" and units["l0.sb0.qkv_proj"] == "sa"


def _oversubscribed(result):
    """Levels some instant of the list timeline asks more than its bandwidth of (sum of overlapping demands)."""
    costs = {c.op: c for c in result.costs}
    over = set()
    for s in result.schedule:  # the demand just after each op starts
        live = [x for x in result.schedule if x.start_s <= s.start_s < x.end_s]
        for lv in {lv for x in live for lv in demands(costs[x.op])}:
            if sum(demands(costs[x.op]).get(lv, 0.0) for x in live) > 1.0:
                over.add(lv)
    return over


@pytest.mark.parametrize("arch,model,phase,policy,extra", [
    ("npu_128", "llama2_7b", "decode", None, []), ("npu_128", "mixtral_8x7b", "decode", None, []),
    ("npu_128", "llama2_7b", "prefill", None, []), ("neupims", "gpt3_13b", "decode", "neupims", FP16),
    ("neupims", "gpt3_13b", "decode", "pim_blocked", FP16), ("npu_128", "gpt2", "prefill", None, []),
])
def test_event_equals_list_exactly_where_nothing_contends(arch, model, phase, policy, extra):
    """Where no instant of the list timeline oversubscribes a memory, the simpy schedule (program order)
    reproduces it exactly: same timeline, makespan and energy. Where it does (prefill: kv_append on the
    vector unit overlaps attn_score on the arrays, both streaming through the SRAM), the event schedule
    stretches the overlapping ops and can only end later."""
    wl = build_block(load_model(model, extra), phase, 4, seq=128 if phase == "prefill" else None,
                     kv_len=256 if phase == "decode" else None)
    a = evaluate(wl, load_arch(arch), mapping=policy)
    b = evaluate(wl, load_arch(arch), mapping=policy, schedule="event")
    if not _oversubscribed(a):
        assert a.schedule == b.schedule and a.latency_s == b.latency_s and a.energy_j == b.energy_j
    else:
        assert phase == "prefill" and b.latency_s > a.latency_s and a.schedule != b.schedule


def test_throughput_ordering_neupims_naive_npu_only():
    """A GPT-3 7B shard (tp 4) at batch 512, kv_len 256, 4 layers unrolled: NeuPIMs (dual row buffer, two
    sub-batches) > naive NPU+PIM (blocked, one batch) > NPU-only (attention GEMVs on the arrays); and the
    blocked PIM gains less from interleaving than the dual-row-buffer one."""
    m = shard(load_model("gpt3_7b"), tp=4)
    kw = dict(batch=512, kv_len=256)
    neupims = decode_step(m, load_arch("neupims"), mapping="neupims", sub_batches=2, layers=4, **kw)
    naive = decode_step(m, load_arch("neupims"), mapping="pim_blocked", **kw)
    blocked_sb = decode_step(m, load_arch("neupims"), mapping="pim_blocked", sub_batches=2, layers=4, **kw)
    npu = decode_step(m, load_arch("neupims_npu_only"), mapping="npu_only", **kw)
    assert neupims.tokens_per_s > naive.tokens_per_s > npu.tokens_per_s
    assert neupims.tokens_per_s > blocked_sb.tokens_per_s
    assert npu.bottleneck.unit == "sa" and npu.bottleneck.bound == "memory:hbm"


def test_decode_step_is_layers_times_block(gpt3_shard):
    s = decode_step(gpt3_shard, load_arch("neupims"), batch=16, kv_len=128, mapping="neupims")
    assert s.seconds == s.result.latency_s * 40 and s.tokens_per_s == 16 / s.seconds


def test_chunked_prefill_sums_chunks():
    """3 chunks of 128 for a 300-token prompt: chunk k attends to k x 128 cached tokens; the total is the sum of
    layers x block over chunks; tokens/s counts the 300 prompt tokens, not the padding."""
    m, a = load_model("gpt2"), load_arch("npu_128")
    p = chunked_prefill(m, a, prompt_len=300, chunk=128)
    blocks = [evaluate(build_block(m, "prefill", 1, seq=128, past_len=k * 128), a).latency_s * 12 for k in range(3)]
    assert p.chunk_seconds == tuple(blocks) and p.seconds == sum(blocks)
    assert p.tokens_per_s == 300 / p.seconds


def test_mobile_scenario_is_reproducible():
    """scripts/mobile_prefill.py's numbers: Qwen1.5-1.8B W8A8 on mobile_npu, 1024-token prompt in 256-token
    chunks. Recomputed twice they agree bit for bit, exceed mllm-NPU's 1,000 tokens/s, and are bounded by the
    arrays waiting on the shared SRAM (their operand feed and int32 partial sums cross it)."""
    m = load_model("qwen1.5_1.8b", ["precision.weights=int8", "precision.activations=int8",
                                     "precision.kv_cache=int8", "precision.accumulators=int32"])
    a = load_arch("mobile_npu")
    p, q = (chunked_prefill(m, a, prompt_len=1024, chunk=256) for _ in range(2))
    assert p == q
    assert p.tokens_per_s == pytest.approx(1332.07, rel=1e-3) and p.tokens_per_s > 1000
    assert (p.bottleneck.unit, p.bottleneck.bound) == ("mxu", "memory:sram")


def test_cli_schedule_and_sub_batches():
    r = CliRunner().invoke(main, ["run", "--arch", "neupims", "--workload", "gpt3_7b", "--mapping", "neupims",
                                  "--batch", "8", "--kv-len", "128", "--sub-batches", "2", "--format", "json",
                                  "--set", "workload.layers=2"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["params"]["sub_batches"] == 2 and "schedule: event (ready order)" in out["notes"]
    assert len(out["schedule"]) == 2 * 2 * 13
    for args, err in ((["--sub-batches", "2", "--batch", "1"], "cannot split batch 1 into 2 sub-batches"),
                      (["--mapping", "nosuch"], "unknown mapping policy"),
                      (["--set", "units.pim.timing.tRP=-2"], "units.pim: tRP must be an int >= 0")):
        r = CliRunner().invoke(main, ["run", "--arch", "neupims", "--workload", "gpt3_7b", "--kv-len", "64", *args])
        assert r.exit_code == 2 and r.output.count("\n") == 1 and err in r.output, r.output
    bad = CliRunner().invoke(main, ["run", "--phase", "prefill", "--sub-batches", "2"])
    assert bad.exit_code == 2 and bad.output.count("\n") == 1 and "sub-batch interleaving is for decode" in bad.output


@pytest.mark.parametrize("script,args,message", [
    ("reproduce_neupims.py", ["--models", "gpt5"], "error: gpt5: unknown workload"),
    ("reproduce_neupims.py", ["--batches", "64,x"], "argument --batches: '64,x' is not a comma-separated list"),
    ("reproduce_neupims.py", ["--kv-lens", "0"], "argument --kv-lens: '0': every value must be an integer >= 1"),
    ("mobile_prefill.py", ["--chunk", "0"], "error: <arguments>: prompt_len/chunk: must be positive"),
])
def test_scripts_bad_arguments_exit_2_without_traceback(script, args, message):
    r = subprocess.run([sys.executable, str(SCRIPTS / script), *args], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(SCRIPTS.parent)}, timeout=300)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_reproduce_neupims_json_ratios_come_from_the_throughputs():
    """scripts/reproduce_neupims.py --json on two Llama-2-7B points (4 layers unrolled for interleaving): every
    ratio is NeuPIMs' tokens/s over the baseline's, batch 256 interleaves two sub-batches and batch 64 does not
    (NeuPIMs' README rule), so at batch 64 NeuPIMs equals the naive system exactly; the summary's geometric
    means are those of the points' ratios."""
    r = subprocess.run([sys.executable, str(SCRIPTS / "reproduce_neupims.py"), "--json", "--models", "llama2_7b",
                        "--batches", "64,256", "--kv-lens", "256", "--layers", "4"], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(SCRIPTS.parent)}, timeout=300)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    small, big = out["points"]
    assert (small["sub_batches"], big["sub_batches"]) == (1, 2) and small["fits"] and big["fits"]
    for p in out["points"]:
        t = p["tokens_per_s"]
        assert p["ratios"] == {b: t["neupims"] / t[b] for b in ("gpu_only", "npu_only", "naive")}
    assert small["tokens_per_s"]["neupims"] == small["tokens_per_s"]["naive"]
    assert big["tokens_per_s"]["neupims_one_batch"] == big["tokens_per_s"]["naive"]
    gm = (small["ratios"]["npu_only"] * big["ratios"]["npu_only"]) ** 0.5
    assert out["summary"]["npu_only"]["geomean_fitting"] == pytest.approx(gm, rel=1e-12)
    assert out["summary"]["npu_only"]["geomean_fitting_sub_batched"] == pytest.approx(big["ratios"]["npu_only"])
    assert out["paper"] == {"gpu_only": 3.0, "npu_only": 2.4, "naive": 1.6} and not out["interrupted"]
