"""Structured values (a whole section per value: mappings, lists, null) and ``*`` paths in a space."""

import pytest

from hwsim import api
from hwsim.errors import SpecError
from hwsim.sweep.plan import build_plan
from hwsim.sweep.space import ParamSpec, load_space, point_id, value_text
from hwsim.sweep.store import read_results

NM = {"pattern": "nm", "n": 2, "m": 4}
SPACE = {"params": {"workload.weight_sparsity": [None, NM], "units.*.sparsity.weight_nm": [[], [[2, 4]]]},
         "blocks": [{"phase": "decode", "kv_len": 1024}]}
# Llama-2-7B linear-layer weights per layer: q, k, v, o (4096 x 4096 each) + gate, up, down (4096 x 11008 each)
W = 4 * 4096 * 4096 + 3 * 4096 * 11008


def test_structured_values_are_kept_and_labelled():
    p = ParamSpec.model_validate([None, NM, {"pattern": "block", "density": 0.5}])
    assert p.kind == "struct" and p.values == (None, NM, {"pattern": "block", "density": 0.5})
    assert [value_text(v) for v in p.values] == ["null", "{pattern: nm, n: 2, m: 4}", "{pattern: block, density: 0.5}"]
    assert ParamSpec.model_validate([[], [[2, 4]]]).kind == "struct"
    assert point_id({"a": NM}) != point_id({"a": None})
    with pytest.raises(SpecError, match="distinct"):
        load_space({"params": {"a": [NM, dict(NM)]}}, "s.yaml")


@pytest.fixture(scope="module")
def nm_rows(tmp_path_factory):
    out = tmp_path_factory.mktemp("nm") / "res"
    api.sweep("npu_128", "llama2_7b", SPACE, out, jobs=1, progress=False)
    return read_results(out).set_index(["workload.weight_sparsity", "units.*.sparsity.weight_nm"])


def test_rows_equal_runs_with_the_same_sections(nm_rows):
    """Each row is ``hwsim run --set`` with the section as the value; ``*`` sets the field on every unit."""
    assert len(nm_rows) == 4 and all(isinstance(x, str) for key in nm_rows.index for x in key)
    for (ws, hw), row in nm_rows.iterrows():
        sets = ([f"workload.weight_sparsity={ws}"] if ws != "null" else []) + \
               [f"units.{u}.sparsity.weight_nm={hw}" for u in ("mxu", "vpu")]
        r = api.run("npu_128", "llama2_7b", "decode", 1, kv_len=1024, overrides=sets)
        assert (row["latency_s"], row["energy_j"], row["flops"]) == (r.latency_s, r.energy_total_j, r.flops)


def test_two_four_weights_by_hand(nm_rows):
    """2:4 halves the linear layers' useful flops (2 W -> W, W = 202,375,168 weights); a unit that skips zeros
    reads half the bf16 weights plus a 2-bit index per kept weight, 0.5 x (2 + 0.25) = 1.125 bytes per weight
    instead of 2 (0.875 W bytes fewer); a unit that cannot skip them runs and reads the dense layer."""
    dense = nm_rows.loc[("null", "[]")]
    skip, no_hw = nm_rows.loc[("{pattern: nm, n: 2, m: 4}", "[[2, 4]]")], nm_rows.loc[("{pattern: nm, n: 2, m: 4}", "[]")]
    assert dense["flops"] - skip["flops"] == W and no_hw["flops"] == skip["flops"]
    assert dense["dram_bytes"] - skip["dram_bytes"] == 0.875 * W
    assert no_hw["dram_bytes"] == dense["dram_bytes"] and no_hw["latency_s"] == dense["latency_s"]
    assert skip["latency_s"] < dense["latency_s"]


def test_constraints_see_the_text(tmp_path):
    space = {**SPACE, "constraints": ["workload.weight_sparsity != 'null'"]}
    s = api.sweep("npu_128", "llama2_7b", space, tmp_path / "res", jobs=1, progress=False)
    assert s.n_points == 2 and set(read_results(tmp_path / "res")["workload.weight_sparsity"]) == {value_text(NM)}


@pytest.mark.parametrize("path, words", [
    ("units.*.rowz", "not a field of the arch spec"),              # names no field of the units
    ("units.*.rows", "not a field of the arch spec"),              # not every unit has rows (vpu)
    ("nosuch.*.x", "arch has no field 'nosuch'"),           # the error lists the top-level fields
])
def test_star_paths_are_checked_before_any_point(path, words):
    with pytest.raises(SpecError, match=words) as e:
        build_plan("npu_128", "llama2_7b", {"params": {path: [64, 128]}})
    assert f"params.{path}" in str(e.value)
