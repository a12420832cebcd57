"""Weight sparsity: compressed K, stored bytes with index metadata, and the dense fallback."""

import pytest

from hwsim import api
from hwsim.workload import build_block, load_model
from hwsim.workload.ops import TensorRole


def weight(op):
    return [t for t in op.inputs if t.role == TensorRole.WEIGHT][0]


def test_two_four_hand_count():
    """2:4 on Llama-2-7B qkv_proj [4096 x 12288]: K' = 2048, 16 + 2 index bits per kept weight,
    half the MACs; the activation input is still read in full."""
    wl = build_block(load_model("llama2_7b", ["weight_sparsity={pattern: nm, n: 2, m: 4}"]), "decode", 1, kv_len=64)
    q = wl.op("qkv_proj")
    assert q.dims["K"] == 2048 and q.flops == 2 * 2048 * 12288
    assert weight(q).bytes == 2048 * 12288 * 18 // 8
    assert q.inputs[0].shape == (1, 4096)
    assert weight(q.attrs["dense_op"]).bytes == 4096 * 12288 * 2
    assert wl.op("attn_score").attrs.get("sparsity") is None        # attention untouched


def test_block_and_unstructured_metadata():
    """block 32x32 at 0.5: one 32-bit index per kept block = 32/1024 bits per kept weight;
    unstructured 0.3: a 1-bit bitmap over all weights = 1/0.3 bits per kept weight, K' = ceil(0.3 x 4096)."""
    b = build_block(load_model("llama2_7b", ["weight_sparsity={pattern: block, density: 0.5, block_size: 32}"]),
                    "prefill", 1, 16).op("down")
    assert b.dims["K"] == 5504 and weight(b).bytes == pytest.approx(5504 * 4096 * (16 + 32 / 1024) / 8, abs=1)
    u = build_block(load_model("llama2_7b", ["weight_sparsity={pattern: unstructured, density: 0.3}"]),
                    "prefill", 1, 16).op("o_proj")
    assert u.dims["K"] == 1229
    assert weight(u).bytes == pytest.approx(1229 * 4096 * (16 + 1 / 0.3) / 8, abs=1)


def test_layers_globs_select_gemms():
    wl = build_block(load_model("llama2_7b", ["weight_sparsity={pattern: nm, n: 2, m: 4, layers: [down]}"]),
                     "decode", 1, kv_len=64)
    assert wl.op("down").dims["K"] == 5504 and wl.op("gate_up").dims["K"] == 4096


def test_capable_unit_skips_and_pays_its_metadata():
    """On a unit with 2:4 support (h100.yaml declares it) the decode GEMV reads the compressed weights (DRAM bytes
    drop to ~18/32); without support it costs exactly the dense GEMM; a unit's metadata_bits replace the format's."""
    ov = ["workload.weight_sparsity={pattern: nm, n: 2, m: 4}"]
    dense = api.run("h100", "llama2_7b", "decode", kv_len=256)
    nohw = api.run("h100", "llama2_7b", "decode", kv_len=256, overrides=ov + ["units.gpu.sparsity.weight_nm=[]"])
    hw = api.run("h100", "llama2_7b", "decode", kv_len=256, overrides=ov + ["units.gpu.sparsity.weight_nm=[[2,4]]"])
    meta4 = api.run("h100", "llama2_7b", "decode", kv_len=256,
                    overrides=ov + ["units.gpu.sparsity.weight_nm=[[2,4]]", "units.gpu.sparsity.metadata_bits=4"])
    d, n, h, m4 = (r.cost("gate_up") for r in (dense, nohw, hw, meta4))
    assert n.latency_s == d.latency_s and n.extra["dram_bytes"] == d.extra["dram_bytes"]
    w = 4096 * 22016
    assert h.extra["dram_bytes"] - (d.extra["dram_bytes"] - 2 * w) == pytest.approx(w / 2 * 18 / 8, abs=2)
    assert m4.extra["dram_bytes"] - h.extra["dram_bytes"] == pytest.approx(w / 2 * 2 / 8, abs=2)
    assert h.flops == d.flops / 2 and h.extra["executed_flops"] == d.flops / 2
    assert n.flops == d.flops / 2 and n.extra["executed_flops"] == d.flops       # dense work, same useful flops
    assert hw.latency_s < 0.7 * dense.latency_s


def test_bad_pattern():
    from hwsim.errors import SpecError
    with pytest.raises(SpecError, match="needs n <= m"):
        load_model("llama2_7b", ["weight_sparsity={pattern: nm, n: 4, m: 2}"])
    with pytest.raises(SpecError, match="needs density"):
        load_model("llama2_7b", ["weight_sparsity={pattern: block}"])


def test_layers_matching_nothing_is_an_error_naming_the_block_layers():
    """A typo in ``layers`` (or a block whose linear layers have other names: Mamba) would silently leave the block
    dense; it is a SpecError that lists the linear layers the block has."""
    from hwsim.errors import SpecError
    with pytest.raises(SpecError, match=r"weight_sparsity.layers: no linear layer of this block matches qkv "
                                        r"\(allowed: qkv_proj, o_proj, gate_up, down\)"):
        build_block(load_model("llama2_7b", ["weight_sparsity={pattern: nm, n: 2, m: 4, layers: [qkv]}"]), "decode", 1)
    with pytest.raises(SpecError, match="allowed: in_proj, x_proj, dt_proj, out_proj"):
        build_block(load_model("mamba_130m", ["weight_sparsity={pattern: nm, n: 2, m: 4}"]), "decode", 1)
    # Mamba's own names work: in_proj [768 x 3072] at 2:4 keeps K' = 384
    m = load_model("mamba_130m", ["weight_sparsity={pattern: nm, n: 2, m: 4, layers: [in_proj, out_proj]}"])
    wl = build_block(m, "decode", 1)
    assert wl.op("in_proj").flops == 2 * 384 * 3072 and wl.op("out_proj").dims["K"] == 768
    assert wl.op("x_proj").dims["K"] == 1536


def test_unit_nm_patterns_are_checked():
    from hwsim.arch.loader import load_arch
    from hwsim.errors import SpecError
    with pytest.raises(SpecError, match=r"units.gpu.sparsity.weight_nm: each N:M pattern needs 0 < n <= m.*got \[4, 2\]"):
        load_arch("h100", ["units.gpu.sparsity.weight_nm=[[4, 2]]"])
    assert load_arch("h100").units["gpu"].sparsity.weight_nm == ((2, 4),)
