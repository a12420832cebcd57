"""scripts/plot_*.py: one per catalogued figure, each with --help, each writing the file it is asked for."""

from __future__ import annotations

import contextlib
import io
import runpy
import sys
from pathlib import Path

import pytest
from PIL import Image

from hwsim.report.catalog import CATALOG

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def run_script(name: str, *args: str) -> tuple[int, str, str]:
    """Run scripts/plot_<name>.py in this process (as `python scripts/... args`); (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = [f"plot_{name}.py", *args]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                runpy.run_path(str(SCRIPTS / f"plot_{name}.py"), run_name="__main__")
                code = 0
            except SystemExit as e:
                code = e.code or 0
    finally:
        sys.argv = argv
    return code, out.getvalue(), err.getvalue()


def test_one_script_per_figure():
    assert {p.stem[len("plot_"):] for p in SCRIPTS.glob("plot_*.py")} == set(CATALOG)


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_help(name):
    code, out, _ = run_script(name, "--help")
    assert code == 0 and "usage:" in out and "examples:" in out and "--output" in out


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_writes_png_of_the_asked_size(name, tmp_path, run_json, sweep_dir, validation_csv):
    """3.5 x 2.5 in at 120 dpi -> 420 x 300 px, for every figure on the input kind it takes."""
    src = {"run": run_json, "sweep": sweep_dir, "validation": validation_csv}[CATALOG[name].kind.value]
    out = tmp_path / f"{name}.png"
    code, stdout, err = run_script(name, str(src), "-o", str(out), "--width", "3.5", "--height", "2.5",
                                   "--dpi", "120")
    assert code == 0, err
    assert stdout.strip() == f"wrote {out}"
    assert Image.open(out).size == (420, 300)


def test_pdf_and_options(tmp_path, sweep_dir):
    out = tmp_path / "s.pdf"
    code, _, err = run_script("sensitivity", str(sweep_dir), "--param", "memories.hbm.bandwidth", "--metric",
                              "energy_j", "-o", str(out))
    assert code == 0, err
    assert out.read_bytes().startswith(b"%PDF")


def test_wrong_input_kind_is_one_line(tmp_path, run_json):
    code, _, err = run_script("pareto", str(run_json), "-o", str(tmp_path / "x.pdf"))
    assert code == 2 and err.count("\n") == 1 and "is a run input; pareto needs a sweep input" in err


def test_unknown_param(tmp_path, sweep_dir):
    code, _, err = run_script("sensitivity", str(sweep_dir), "--param", "nope", "-o", str(tmp_path / "x.pdf"))
    assert code == 2 and "'nope' is not a swept parameter" in err and "units.mxu.rows" in err


@pytest.mark.parametrize("name, args, message", [
    ("pareto", ["--color", "block"], "--color: 'block' is not a numeric column of the input (allowed: "
                                     "units.mxu.rows, memories.hbm.bandwidth, latency_s,"),
    ("sensitivity", ["--metric", "latency"], "--metric: 'latency' is not a numeric column"),
    ("parity", ["--group", "knd"], "--group: 'knd' is not a column of the input (allowed: kind,"),
    ("roofline", ["--width", "0"], "error: --width: must be a positive number, got 0.0"),
    ("roofline", ["--dpi", "-1"], "error: --dpi: must be a positive number, got -1.0"),
    ("timeline", ["-o", "{tmp}/t.xyz"], "t.xyz: cannot tell the format from the extension '.xyz' (allowed: "),
    ("area_breakdown", ["-o", "{tmp}/file/a.png"], "a.png: cannot write the figure (File exists: "),
])
def test_bad_options_are_one_line(name, args, message, tmp_path, run_json, sweep_dir, validation_csv):
    """A typo in a column option, a non-positive size, an unknown format or an unwritable path: one line,
    exit status 2 (no KeyError from pandas, no matplotlib traceback, no silent default)."""
    (tmp_path / "file").write_text("x")
    src = {"run": run_json, "sweep": sweep_dir, "validation": validation_csv}[CATALOG[name].kind.value]
    args = [a.format(tmp=tmp_path) for a in args]
    code, _, err = run_script(name, str(src), *(args if "-o" in args else [*args, "-o", str(tmp_path / "x.png")]))
    assert code == 2 and err.count("\n") == 1 and message in err, err
