"""Shared fixtures: shipped specs loaded once per session."""

import pytest

from hwsim.arch.loader import load_arch
from hwsim.workload.models import load_model


@pytest.fixture(scope="session")
def llama7b():
    return load_model("llama2_7b")


@pytest.fixture(scope="session")
def npu():
    return load_arch("npu_128")
