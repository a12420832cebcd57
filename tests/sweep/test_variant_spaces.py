"""The shipped variant spaces (arch_configs/spaces/variants_*.yaml) and scripts/variant_effects.py."""

import runpy
from pathlib import Path

import pytest

from hwsim import api
from hwsim.sweep.plan import build_plan

ROOT = Path(__file__).resolve().parents[2]
SPACES = sorted((ROOT / "arch_configs" / "spaces").glob("variants_*.yaml"))


@pytest.mark.parametrize("arch", ["npu_128", "h100"])
@pytest.mark.parametrize("space", SPACES, ids=lambda p: p.stem)
def test_every_variant_space_plans_on_both_archs(space, arch):
    """Every swept path (``*`` unit switches included) names a field of both base specs."""
    plan = build_plan(arch, "llama2_7b", space, blocks=None if "blocks" in space.read_text() else [{}])
    assert plan.names and len(SPACES) == 5


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
