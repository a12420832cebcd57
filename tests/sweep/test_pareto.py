"""Pareto fronts on hand-made point sets whose fronts are known."""

import numpy as np
import pandas as pd
import pytest

from hwsim.errors import HwsimError
from hwsim.sweep.pareto import non_dominated, pareto_front


def test_two_objectives_by_hand():
    """(1,9) (2,5) (3,6) (4,2) (5,5) (6,1) (7,1): (3,6) loses to (2,5); (5,5) to (4,2); (7,1) to (6,1)."""
    pts = np.array([[1, 9], [2, 5], [3, 6], [4, 2], [5, 5], [6, 1], [7, 1]])
    assert non_dominated(pts).tolist() == [True, True, False, True, False, True, False]


def test_three_objectives_and_ties():
    """A point equal to another on every objective is not dominated by it: both stay. (2,2,2) is beaten by
    (1,2,2), which is better on the first objective and no worse on the others."""
    pts = np.array([[1, 2, 2], [2, 2, 2], [2, 1, 3], [3, 3, 1], [1, 2, 2], [3, 3, 3]])
    assert non_dominated(pts).tolist() == [True, False, True, True, True, False]


def test_front_matches_brute_force_on_random_points():
    rng = np.random.default_rng(0)
    pts = rng.integers(0, 20, size=(300, 3)).astype(float)
    brute = [not any(np.all(q <= p) and np.any(q < p) for q in pts) for p in pts]
    assert non_dominated(pts).tolist() == brute


def test_pareto_front_per_block_with_a_maximised_objective_and_errors_left_out():
    df = pd.DataFrame({
        "point_id": list("abcdef"), "block": ["m/decode"] * 4 + ["m/prefill"] * 2,
        "latency_s": [1.0, 2.0, 3.0, 0.5, 1.0, 2.0], "utilization": [0.5, 0.9, 0.8, None, 0.1, 0.2],
        "error": [None, None, None, None, None, "bad spec"],
    })
    front = pareto_front(df, "latency,utilization:max")
    # decode: a (1.0, 0.5) and b (2.0, 0.9) trade off; c is worse than b on both; d has no utilization
    # prefill: f errored, so e stands alone
    assert front["point_id"].tolist() == ["a", "b", "e"]
    with pytest.raises(HwsimError, match="no column 'nope'"):
        pareto_front(df, "nope")
