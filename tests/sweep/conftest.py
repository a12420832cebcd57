"""Fixtures of the sweep tests."""

import pytest

from sweep_cases import SMALL_SPACE


@pytest.fixture
def small_space_file(tmp_path):
    import yaml

    p = tmp_path / "space.yaml"
    p.write_text(yaml.safe_dump(SMALL_SPACE, sort_keys=False))
    return p
