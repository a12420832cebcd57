"""Constraints are parsed, checked against a short list of allowed syntax, and never run arbitrary code."""

import pickle

import pytest

from hwsim.errors import SpecError
from hwsim.sweep.constraints import ConstraintError, parse_constraint


def test_dotted_names_arithmetic_functions_and_strings():
    c = parse_constraint('bound == "memory" and max(units.mxu.rows, 64) * 2 >= memories.0.capacity / 1e6')
    assert c.names == ("bound", "units.mxu.rows", "memories.0.capacity")
    assert c({"bound": "memory", "units.mxu.rows": 128, "memories.0.capacity": 256e6})
    assert not c({"bound": "memory", "units.mxu.rows": 128, "memories.0.capacity": 257e6})
    assert not c({"bound": "compute", "units.mxu.rows": 128, "memories.0.capacity": 1.0})


def test_a_missing_value_is_a_constraint_error_not_false():
    c = parse_constraint("energy_j.dram.hbm < 1")
    with pytest.raises(ConstraintError, match="energy_j.dram.hbm"):
        c({"energy_j": 1.0})


@pytest.mark.parametrize("text", [
    '__import__("os").system("true") == 0',
    "open('x') == 1",
    "units.mxu.rows.__class__ == 1 or (lambda: 1)() == 1",
    "a[0] < 1",
    "[x for x in range(3)] == 1",
    "units.mxu.rows",            # not a comparison
    "1 < 2",                     # names nothing
    "rows <",                    # does not parse
    "getattr(a, 'b') == 1",
])
def test_anything_beyond_the_allowed_syntax_is_refused(text):
    with pytest.raises(SpecError) as e:
        parse_constraint(text, "space.yaml", "constraints.0")
    assert str(e.value).startswith("space.yaml: constraints.0: ") and "\n" not in str(e.value)


def test_constraints_pickle_for_workers():
    c = pickle.loads(pickle.dumps(parse_constraint("area_mm2 <= 400")))
    assert c({"area_mm2": 400.0}) and not c({"area_mm2": 400.5})
