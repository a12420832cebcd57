"""Arch specs: shipped configs load, bad input gives one line naming file, field and what is allowed."""

from pathlib import Path

import pytest

from hwsim.arch.loader import load_arch, shipped_archs
from hwsim.errors import SpecError
from hwsim.workload.ops import DType


@pytest.mark.parametrize("name", shipped_archs())
def test_shipped_archs_load(name):
    a = load_arch(name)
    assert a.memories[-1].off_chip and a.clock_hz > 0


def test_tpu_v1_figures():
    """Jouppi et al. 2017: 256x256 MACs at 700 MHz = 92 TOPS (2 ops per MAC), 24 MiB UB, 34 GB/s."""
    a = load_arch("tpu_v1")
    u = a.units["mxu"]
    assert 2 * u.pes * a.clock_hz == 2 * 65536 * 700e6 == 91.7504e12
    assert round(2 * u.pes * a.clock_hz / 1e12) == 92
    assert a.memories[0].capacity == 24 * 2**20 and a.dram.bandwidth == 34e9
    assert u.mac_rate(DType.INT16) == 0.25


def _write(tmp_path, text):
    p = tmp_path / "a.yaml"
    p.write_text(text)
    return p


BASE = """
name: t
clock: 1GHz
units:
  mxu: {kind: systolic, rows: 8, cols: 8, precisions: [int8]}
memories:
  - {name: sram, kind: sram, capacity: 1MiB, bandwidth: 100GB/s}
  - {name: dram, kind: ddr4, capacity: 1GiB, bandwidth: 10GB/s}
"""


@pytest.mark.parametrize("edit, field, words", [
    (("rows: 8", "rows: -8"), "units.mxu.rows", "greater than 0"),
    (("kind: systolic", "kind: quantum"), "units.mxu", "quantum"),
    (("precisions: [int8]", "precisions: [int7]"), "units.mxu.precisions", "int7"),
    (("capacity: 1MiB", "capacity: 1 furlong"), "memories.0.capacity", "cannot read"),
    (("clock: 1GHz", "clock: 1GHz\ncolour: red"), "colour", "unknown field"),
    (("kind: ddr4", "kind: sram"), "", "must be off-chip"),
])
def test_bad_specs_name_file_and_field(tmp_path, edit, field, words):
    p = _write(tmp_path, BASE.replace(*edit))
    with pytest.raises(SpecError) as e:
        load_arch(p)
    msg = str(e.value)
    assert msg.startswith(str(p)) and field in msg and words in msg and "\n" not in msg


def test_missing_field_and_malformed_yaml(tmp_path):
    with pytest.raises(SpecError, match="a.yaml: clock: missing required field"):  # the YAML key, not clock_hz
        load_arch(_write(tmp_path, BASE.replace("clock: 1GHz\n", "")))
    with pytest.raises(SpecError, match="malformed YAML: line"):
        load_arch(_write(tmp_path, "name: [unclosed\n"))


def test_unknown_name_lists_allowed():
    with pytest.raises(SpecError, match="allowed: .*npu_128"):
        load_arch("no_such_chip")


@pytest.mark.parametrize("override, message", [
    ("clock=0", "clock: Input should be greater than or equal to 1 (got 0)"),
    ("clock=1GB", "clock: cannot read unit 'GB' in '1GB'"),
    ("tech.node=abc", "tech.node: cannot read 'abc' as a process node in nm; allowed: 45, 28, 16, 7, 5, 3"),
    ("units.mxu.kind=foo", "units.mxu.kind: not an allowed value (got 'foo') (allowed: 'systolic', 'vector', "
                           "'tensor_engine', 'pim')"),
    ("units.mxu.foo=1", "units.mxu.foo: unknown field (allowed: precisions, count, sparsity, kind, rows, cols, "),
    ("tech.nod=3", "tech.nod: unknown field (allowed: node, device, sram_cell, clock_scaling)"),
    ("units.npu.rows=64", "units.npu: no such entry, and a new entry must give its 'kind' (allowed: mxu, vpu)"),
    ("tech.node=10", "tech.node: node 10 nm has no scaling data; allowed: 45, 28, 16, 7, 5, 3"),
])
def test_errors_name_the_yaml_key(override, message, monkeypatch):
    """The spec stores clock_hz and tech.node_nm; the files say clock and tech.node, so the errors do too."""
    monkeypatch.chdir(Path(__file__).resolve().parents[2])  # errors name files relative to the working directory
    with pytest.raises(SpecError) as e:
        load_arch("npu_128", [override])
    assert str(e.value).startswith(f"arch_configs/npu_128.yaml: {message}"), str(e.value)


def test_overrides():
    a = load_arch("npu_128", ["units.mxu.rows=64", "memories.hbm.bandwidth=1TB/s", "tech.node=3"])
    assert a.units["mxu"].rows == 64 and a.dram.bandwidth == 1e12 and a.tech.node_nm == 3
    with pytest.raises(SpecError, match="no list item"):
        load_arch("npu_128", ["memories.l9.capacity=1"])
