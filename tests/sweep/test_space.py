"""Space expansion: grid products, ranges, constraint pruning, seeded random and Latin-hypercube sampling."""

import numpy as np
import pytest

from hwsim.errors import SpecError
from hwsim.sweep.plan import build_plan
from hwsim.sweep.runner import count_points, feasible_points
from hwsim.sweep.sampling import assignments, lhs_unit
from hwsim.sweep.space import ParamSpec, load_space, point_id


def test_grid_is_the_product_of_the_value_counts():
    """3 rows x 2 cols x 4 nodes = 24 points, each combination once, last parameter fastest."""
    s = load_space({"params": {"units.mxu.rows": [64, 128, 256], "units.mxu.cols": [64, 128],
                               "tech.node": [16, 7, 5, 3]}})
    pts = list(assignments(s))
    assert s.grid_size() == len(pts) == 24
    assert len({tuple(p.values()) for p in pts}) == 24
    assert [p["tech.node"] for p in pts[:4]] == [16, 7, 5, 3] and pts[0]["units.mxu.rows"] == 64


@pytest.mark.parametrize("spec, expected", [
    ({"start": 64, "stop": 256, "step": 64}, (64, 128, 192, 256)),            # inclusive stop
    ({"start": 64, "stop": 250, "step": 64}, (64, 128, 192)),
    ({"start": 32, "stop": 512, "step": 2, "log": True}, (32, 64, 128, 256, 512)),   # step is a ratio
    ({"start": 1, "stop": 1000, "num": 4, "log": True}, (1, 10, 100, 1000)),
    ({"start": 0.0, "stop": 1.0, "num": 3}, (0.0, 0.5, 1.0)),
    ({"range": [1, 4, 1]}, (1, 2, 3, 4)),
    ({"start": "8MiB", "stop": "32MiB", "num": 3}, (8 * 2**20, 20 * 2**20, 32 * 2**20)),  # quantities -> SI
    ({"start": 1, "stop": 3, "num": 5}, (1, 2, 3)),                           # integer rounding de-duplicates
])
def test_ranges_list_their_values(spec, expected):
    assert ParamSpec.model_validate(spec).grid() == pytest.approx(expected)


def test_values_with_quantities_are_si_numbers_and_types_are_kept():
    p = ParamSpec.model_validate(["8MiB", "1GiB"])
    assert p.values == (8 * 2**20, 2**30) and p.kind == "float"
    assert ParamSpec.model_validate([64, 128]).kind == "int"
    assert ParamSpec.model_validate([1, 2.5]).values == (1.0, 2.5)
    assert ParamSpec.model_validate(["finfet", "ffet"]).kind == "str"


@pytest.mark.parametrize("data, words", [
    ({"params": {"a": [1, "x"]}}, "share one type"),
    ({"params": {"a": [1, 1]}}, "distinct"),
    ({"params": {"a": {"start": 1, "stop": 8}}}, "continuous range needs step or num"),
    ({"params": {"a": [1]}, "sampling": "lhs"}, "needs samples"),
    ({"params": {"a": [1]}, "samples": 5}, "samples is for random/lhs"),
    ({"params": {}}, "at least one parameter"),
    ({"params": {"a": {"start": 8, "stop": 1, "num": 2}}}, "start <= stop"),
    ({"params": {"a": [1]}, "sampling": "sobol"}, "sampling"),
    ({"params": {"a": [1]}, "extra": 1},
     "extra: unknown field (allowed: params, sampling, samples, seed, constraints, blocks, description)"),
    ({"params": {"a": {"start": 1, "stop": 8, "stepp": 1}}},
     "params.a.stepp: unknown field (allowed: values, choices, start, stop, step, num, log, integer, range)"),
    ({"params": {"a": [1]}, "blocks": [{"phase": "decode", "kvlen": 8}]},
     "blocks.0.kvlen: unknown field (allowed: workload, phase, batch, seq, kv_len, past_len, fused_attention, name)"),
])
def test_bad_spaces_are_one_line_spec_errors(data, words):
    with pytest.raises(SpecError) as e:
        load_space(data, "s.yaml")
    assert words in str(e.value) and str(e.value).startswith("s.yaml: ") and "\n" not in str(e.value)


def test_parameter_constraints_prune_while_listing():
    """rows x cols in {64,128,256}^2 = 9; rows >= cols keeps the 6 on or below the diagonal;
    rows * cols <= 128 * 128 then drops (256, 128) and (256, 256): 4 remain."""
    space = {"params": {"units.mxu.rows": [64, 128, 256], "units.mxu.cols": [64, 128, 256]},
             "constraints": ["units.mxu.rows >= units.mxu.cols", "units.mxu.rows * units.mxu.cols <= 128 * 128"]}
    plan = build_plan("npu_128", "llama2_7b", space)
    pts = [a for _, a in feasible_points(plan)]
    assert count_points(plan) == len(pts) == 4
    assert {(a["units.mxu.rows"], a["units.mxu.cols"]) for a in pts} == {(64, 64), (128, 64), (128, 128), (256, 64)}


def test_lhs_puts_one_sample_in_every_stratum_of_every_dimension():
    u = lhs_unit(50, 4, np.random.default_rng(3))
    for d in range(4):
        assert sorted(np.floor(u[:, d] * 50).astype(int).tolist()) == list(range(50))


def test_lhs_draws_each_discrete_value_equally_often():
    """20 samples over 4 values: each value owns 5 of the 20 strata, so it is drawn exactly 5 times."""
    s = load_space({"sampling": "lhs", "samples": 20, "seed": 7,
                    "params": {"u.x.a": [1, 2, 3, 4], "u.x.b": {"start": 0.0, "stop": 1.0}}})
    pts = list(assignments(s))
    assert len(pts) == 20
    assert sorted(p["u.x.a"] for p in pts) == [1] * 5 + [2] * 5 + [3] * 5 + [4] * 5
    b = np.array([p["u.x.b"] for p in pts])
    assert sorted(np.floor(b * 20).astype(int).tolist()) == list(range(20))


def test_random_and_lhs_are_seeded_and_unique():
    base = {"params": {"a": [1, 2, 3], "b": {"start": 1, "stop": 1000, "log": True}}, "samples": 300}
    for sampling in ("random", "lhs"):
        s1 = load_space({**base, "sampling": sampling, "seed": 1})
        p1, p2 = list(assignments(s1)), list(assignments(s1))
        p3 = list(assignments(load_space({**base, "sampling": sampling, "seed": 2})))
        assert p1 == p2 and p1 != p3
        keys = [tuple(p.values()) for p in p1]
        assert len(keys) == len(set(keys))                       # repeats are dropped
        assert all(1 <= p["b"] <= 1000 and isinstance(p["b"], int) for p in p1)


def test_point_ids_are_stable_hashes_of_the_assignment():
    a = {"units.mxu.rows": 128, "tech.node": 7}
    assert point_id(a) == point_id(dict(reversed(a.items())))
    assert point_id(a) != point_id({**a, "tech.node": 5})
    assert point_id(a) != point_id({**a, "units.mxu.rows": 128.0})   # the type is part of the value
    assert len(point_id(a)) == 16 and int(point_id(a), 16) >= 0


def test_the_shipped_example_space():
    """README example: 3 x 3 x 3 x 2 x 2 x 2 = 216 combinations; rows >= cols keeps 6 of the 9 shapes: 144."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "arch_configs" / "spaces" / "npu_128_llama_decode_prefill.yaml"
    plan = build_plan("npu_128", "llama2_7b", path)
    assert plan.space.grid_size() == 216 and count_points(plan) == 144
    assert [c.text for c in plan.arch_constraints] == ["area_mm2 <= 100"] and len(plan.blocks) == 2
