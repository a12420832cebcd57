"""Fused attention on an NPU: lowered to score GEMM, softmax and context GEMM with FlashAttention traffic
(hwsim/mapping/flash.py)."""

import math

import pytest

from hwsim.api import evaluate
from hwsim.arch.loader import load_arch
from hwsim.arch.spec import ArchSpec
from hwsim.errors import MappingError
from hwsim.mapping.flash import lower_attention, query_block
from hwsim.validation.cases import attention_op, single_op_workload
from hwsim.workload import build_block, load_model
from hwsim.workload.ops import DType

MiB = 2**20
PARTS = ("attention.score", "attention.softmax", "attention.context")


def _dram(r, op):
    return r.cost(op).extra["dram_bytes"]


def test_query_block_on_npu_128_by_hand():
    """npu_128: 32 MiB SRAM, no local buffers, so each operand buffer is a third of the tile share (the half the
    residency rule leaves): M = 0.5 x 32 MiB / 3 = 5,592,405.33 B. bf16 Q (2 B), fp32 accumulator (4 B), fp32
    max and sum (8 B per row), one K and one V tile of 128 keys (the array's columns) x D = 128 in bf16:
    Bq = floor((5,592,405.33 - 2 x 128 x 128 x 2) / (128 x (2 + 4) + 8)) = floor(5,526,869.33 / 776) = 7122."""
    assert query_block(128, 2, 4, 2, 128, 0.5 * 32 * MiB / 3) == 7122


def test_dram_bytes_by_hand_on_npu_128():
    """Batch 1, 16 heads, L = 8192, D = 128, bf16, causal prefill on npu_128.

    Q, K, V, O are each 16 x 8192 x 128 x 2 B = 32 MiB, over the 16 MiB (half the SRAM) an activation may keep
    on chip, so all four live in HBM. Bq = 7122 (above), so the 8192 query rows of a head make
    ceil(8192 / 7122) = 2 blocks of 4096 and K and V are each read twice:
    score reads Q + 2 K = 96 MiB, context reads 2 V = 64 MiB and writes O = 32 MiB; S and P: 0 B of HBM.
    """
    wl = single_op_workload(attention_op(1, 16, 8192, 8192, 128, DType.BF16, True))
    arch = load_arch("npu_128")
    low = lower_attention(wl, arch)
    assert [op.name for op in low.ops()] == list(PARTS)
    score = low.op("attention.score")
    assert (score.attrs["query_block"], score.attrs["kv_passes"], score.dims["M"]) == (7122, 2, 4096)
    r = evaluate(wl, arch)
    assert _dram(r, "attention.score") == 96 * MiB
    assert r.cost("attention.score").reads["hbm"] == {"ifmap": 32 * MiB, "filter": 64 * MiB}
    assert _dram(r, "attention.softmax") == 0
    assert r.cost("attention.context").reads["hbm"] == {"filter": 64 * MiB}
    assert r.cost("attention.context").writes["hbm"] == {"ofmap": 32 * MiB}
    # S and P never touch HBM, but their SRAM writes and reads are counted (they cost energy)
    s_bytes = 16 * 8192 * 8192 * 2
    assert all("ofmap" not in r.cost(n).writes.get("hbm", {}) for n in PARTS[:2])
    assert r.cost("attention.softmax").reads == {"sram": {"activation": s_bytes}}
    assert r.cost("attention.softmax").writes == {"sram": {"activation": s_bytes}}
    assert r.cost("attention.softmax").energy_j["sram.sram"] > 0


def test_smaller_sram_means_more_passes_over_k_and_v():
    """SRAM 1 MiB: M = 0.5 x 1 MiB / 3 = 174,762.67 B, Bq = floor((174,762.67 - 65,536) / 776) = 140;
    n = ceil(8192 / 140) = 59 blocks of ceil(8192 / 59) = 139 rows (59 x 139 = 8201: 9 padding rows).
    HBM: Q 16 x 8201 x 128 x 2 B (padded rows read), K 59 times, V 59 times, O once."""
    wl = single_op_workload(attention_op(1, 16, 8192, 8192, 128, DType.BF16, True))
    r = evaluate(wl, load_arch("npu_128", ["memories.0.capacity=1MiB"]))
    kv = 16 * 8192 * 128 * 2
    assert r.cost("attention.score").reads["hbm"] == {"ifmap": 16 * 8201 * 128 * 2, "filter": 59 * kv}
    assert r.cost("attention.context").reads["hbm"] == {"filter": 59 * kv}
    assert math.ceil(8192 / 140) == 59


@pytest.mark.parametrize("model,seq", [("llama2_7b", 8192), ("llama3_8b", 4096), ("gpt2", 1024)])
def test_flops_and_compulsory_bytes_are_conserved(model, seq):
    """The two GEMMs do the fused op's useful flops (``4 B H Lq Lkv D x density``, causal density included);
    the softmax adds the unfused graph's 5 flops per score (the fused op's count has only the two matmuls), so
    the lowered block does the unfused block's flops. The tensors the three ops move off chip are the fused
    op's (S and P are on-chip intermediates), so their compulsory bytes add up to its ``min_bytes``."""
    try:
        m = load_model(model)
    except Exception:
        pytest.skip(f"{model} not shipped")
    wl = build_block(m, "prefill", 2, seq=seq, fused_attention=True)
    fused = wl.op("attention")
    low = lower_attention(wl, load_arch("npu_128"))
    parts = [low.op(n) for n in PARTS]
    unfused = build_block(m, "prefill", 2, seq=seq)
    assert parts[0].flops + parts[2].flops == pytest.approx(fused.flops, rel=1e-12)
    assert parts[1].flops == unfused.op("softmax").flops
    assert fused.density < 1 and low.flops == pytest.approx(unfused.flops, rel=1e-12)
    off_chip = {t.name: t.bytes for op in parts for t in op.tensors() if not t.on_chip}
    assert sum(off_chip.values()) == fused.min_bytes
    assert all(op.attrs["lowered_from"] == "attention" for op in parts)


def test_long_prefill_fused_beats_unfused_and_short_is_the_same():
    """seq 8192: S (32 heads x 8192^2 x 2 B = 4 GiB) round-trips HBM unfused; fused keeps it on chip.
    seq 512: S (16 MiB) already stays on chip unfused, and one query block covers the sequence: equal."""
    arch, m = load_arch("npu_128"), load_model("llama2_7b")
    for seq, lat_ratio in ((8192, 0.95), (512, None)):
        un, fu = (evaluate(build_block(m, "prefill", 1, seq=seq, fused_attention=f), arch) for f in (False, True))
        dram = [sum(c.extra["dram_bytes"] for c in r.costs) for r in (un, fu)]
        if lat_ratio:
            assert dram[1] < 0.5 * dram[0] and fu.latency_s < lat_ratio * un.latency_s
        else:
            assert dram[1] == pytest.approx(dram[0], rel=0.03)
            assert fu.latency_s == pytest.approx(un.latency_s, rel=0.03)


def test_cycle_engine_runs_the_lowered_gemms():
    wl = single_op_workload(attention_op(1, 16, 8192, 8192, 128, DType.BF16, True))
    arch = load_arch("npu_128")
    a, c = evaluate(wl, arch), evaluate(wl, arch, engine="cycle")
    assert c.cost("attention.score").engine == "systolic-cycle"
    for n in PARTS:
        assert c.cost(n).extra["dram_bytes"] == a.cost(n).extra["dram_bytes"]
    assert c.latency_s == pytest.approx(a.latency_s, rel=0.05)


def test_gpu_keeps_the_fused_op():
    wl = build_block(load_model("llama2_7b"), "prefill", 1, seq=2048, fused_attention=True)
    assert lower_attention(wl, load_arch("h100")) is wl
    assert evaluate(wl, load_arch("h100")).cost("attention").kind == "attention"


def test_no_vector_unit_keeps_the_error():
    npu = load_arch("npu_128")
    data = npu.model_dump(mode="json")
    data["units"] = {"mxu": data["units"]["mxu"]}
    arch = ArchSpec.model_validate(data)
    wl = single_op_workload(attention_op(1, 8, 1024, 1024, 128, DType.BF16, True))
    assert lower_attention(wl, arch) is wl
    with pytest.raises(MappingError, match="no unit of npu_128 can run op attention"):
        evaluate(wl, arch)
