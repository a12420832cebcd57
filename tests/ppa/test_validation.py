"""Checked against real chips (docs/validation.md): every asserted row of hwsim.ppa.validation holds."""

import pytest

from hwsim.ppa.validation import all_checks

CHECKS = all_checks()


@pytest.mark.parametrize("check", [c for c in CHECKS if c.kind != "info"], ids=lambda c: f"{c.chip}: {c.quantity}")
def test_published_figure_within_tolerance(check):
    assert check.passed, (check.quantity, check.published, check.hwsim, check.tolerance)


def test_tpu_v1_headline_numbers():
    """92 TOPS int8 exactly (as published, rounded: 2 x 65536 x 700 MHz = 91.75), die <= 331 mm^2, the Unified
    Buffer about a third and the matrix unit about a quarter of the die (Jouppi et al. 2017)."""
    by = {c.quantity: c for c in CHECKS}
    assert by["peak int8 TOPS (rounded as published)"].hwsim == 92
    assert by["die area"].hwsim <= 331
    assert 0.23 <= by["Unified Buffer share"].hwsim / 100 <= 0.40
    assert 0.18 <= by["Matrix Multiply Unit share"].hwsim / 100 <= 0.30


def test_every_row_cites_its_source():
    assert all(c.source and c.unit for c in CHECKS)
