"""The shipped variant spaces (arch_configs/spaces/variants_*.yaml) and scripts/variant_effects.py."""

import runpy
from pathlib import Path

import pytest

from hwsim import api
from hwsim.sweep.plan import build_plan

ROOT = Path(__file__).resolve().parents[2]
SPACES = sorted((ROOT / "arch_configs" / "spaces").glob("variants_*.yaml"))


# the two architectures each space is run on in the README ("Variant sweeps")
ARCHS = {"variants_formats": ("npu_128", "mobile_npu")}


@pytest.mark.parametrize("which", [0, 1])
@pytest.mark.parametrize("space", SPACES, ids=lambda p: p.stem)
def test_every_variant_space_plans_on_both_archs(space, which):
    """Every swept path (``*`` unit switches included) names a field of both base specs."""
    arch = ARCHS.get(space.stem, ("npu_128", "h100"))[which]
    plan = build_plan(arch, "llama2_7b", space, blocks=None if "blocks" in space.read_text() else [{}])
    assert plan.names and len(SPACES) == 6


def test_formats_space_computes_in_each_format(tmp_path):
    """variants_formats.yaml on npu_128, decode at 256 keys: every row runs (the arrays have every format); the
    GEMMs compute in the swept format and each 8-bit format reads the same bytes, MXFP4 4.25/8.25 of MXFP8's
    weight bytes (32-element blocks with an 8-bit scale); SageAttention2's QK^T runs in int4."""
    mod = runpy.run_path(str(ROOT / "scripts" / "variant_effects.py"))
    api.sweep("npu_128", "llama2_7b", ROOT / "arch_configs/spaces/variants_formats.yaml", tmp_path, jobs=1,
              progress=False, blocks=[{"phase": "decode", "kv_len": 256}])
    (params, df), = mod["load"]([str(tmp_path)]).items()
    assert df["error"].isna().all() and len(df) == 9
    text = mod["table"](params, df)
    assert "every row: units.mxu.precisions = [fp16, int8, int4, fp8" in text and "precisions  " not in text
    # DRAM bytes of the block: 202,375,168 linear-layer weights (4096 x (12288 + 4096 + 22016) + 11008 x 4096)
    # at the format's bits (MX: + 8 / 32), the fp16 K and V caches (256 x 4096 x 2 B each), 32,768 B of the rest
    by = df.set_index("workload.quantization")["dram_bytes"]
    w, rest = 202_375_168, 2 * 256 * 4096 * 2 + 32_768
    for q, bits in [("null", 16), ("{weights: {format: int8}, activations: {format: int8}}", 8),
                    ("{weights: {format: fp8_e5m2}, activations: {format: fp8_e5m2}}", 8),
                    ("{weights: {format: mxfp8}, activations: {format: mxfp8}}", 8.25),
                    ("{weights: {format: mxfp6}, activations: {format: mxfp6}}", 6.25),
                    ("{weights: {format: mxfp4}, activations: {format: mxfp4}}", 4.25)]:
        assert by[q] == w * bits / 8 + rest
    r = api.run("npu_128", "llama2_7b", "decode", kv_len=256, overrides=[
        "units.mxu.precisions=[fp16, int4, fp8, mxfp8, mxfp4]", "workload.precision.activations=fp16",
        "workload.precision.weights=fp16", "workload.precision.kv_cache=fp16",
        "workload.quantization={weights: {format: mxfp4}, activations: {format: mxfp4}}"])
    assert r.cost("gate_up").actions == {"mac.mxfp4.fp32": 4096 * 22016}


def test_variant_table_ratios(tmp_path):
    """Skipping 10 % of the layers per token runs every op of a one-token decode step with probability 0.9, so
    the block's latency and energy are 0.9 of the baseline row (the space's first values: no skipping), on
    both archs; prefill is untouched (skipping applies to decode by default)."""
    mod = runpy.run_path(str(ROOT / "scripts" / "variant_effects.py"))
    dirs = []
    for arch in ("npu_128", "h100"):
        dirs.append(tmp_path / arch)
        api.sweep(arch, "llama2_7b", ROOT / "arch_configs/spaces/variants_skip.yaml", dirs[-1], jobs=1, progress=False,
                  blocks=[{"phase": "decode", "kv_len": 512}, {"phase": "prefill", "seq": 64}])
    (params, df), = mod["load"]([str(d) for d in dirs]).items()
    assert params == ("workload.skip",) and list(df["arch"].unique()) == ["npu_128", "h100"]
    layer = df[df["workload.skip"] == "{layer_fraction: 0.1}"].set_index(["arch", "block"])
    for arch in ("npu_128", "h100"):
        assert layer.loc[(arch, "llama2_7b/decode"), "latency_x"] == pytest.approx(0.9, rel=1e-12)
        assert layer.loc[(arch, "llama2_7b/decode"), "energy_x"] == pytest.approx(0.9, rel=1e-12)
        assert layer.loc[(arch, "llama2_7b/prefill"), "latency_x"] == 1.0
    text = mod["table"](params, df)
    assert text.splitlines()[2].startswith("null ") and "(0.90)" in text and "area (no swept value" in text
