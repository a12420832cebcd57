"""Reports: terminal tables (text), and Markdown/HTML pages with figures, tables and a manifest.

``make_report(input, out_dir)`` is what ``hwsim report`` runs: load (``inputs``), build (``plans`` via
``build``), draw (``figures``), tabulate (``tables``), write (``render``) and record (``manifest``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported lazily: `hwsim run` reaches hwsim.report.text without matplotlib
    from hwsim.report.build import Report

__all__ = ["InputKind", "Report", "ReportInput", "build_report", "load_input", "make_report", "save_report"]
_LAZY = {"InputKind": "inputs", "ReportInput": "inputs", "load_input": "inputs", "Report": "build",
         "build_report": "build"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(f"hwsim.report.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'hwsim.report' has no attribute {name!r}")


def make_report(source: str | Path, out_dir: str | Path, *, measured: str | None = None,
                predicted: str | None = None, stdin_text: str | None = None,
                command: list[str] | None = None) -> list[Path]:
    """Write a report of ``source`` (run JSON, sweep directory, validation CSV; ``-`` with ``stdin_text`` for
    a run JSON piped in) to ``out_dir``. Returns the files written, relative to ``out_dir``.

    A run's JSON is copied to ``input.json`` so the directory regenerates itself; ``manifest.json`` says
    what produced everything.
    """
    from hwsim.report.build import build_report
    from hwsim.report.inputs import load_input, load_run

    if str(source) == "-":
        try:
            doc = json.loads(stdin_text or "")
        except json.JSONDecodeError as e:
            from hwsim.errors import SpecError
            raise SpecError("<stdin>", "", f"not valid JSON ({e}); pipe `hwsim run --format json` in") from None
        inp, sha = load_run(doc, "<stdin>"), hashlib.sha256((stdin_text or "").encode()).hexdigest()
    else:
        inp, sha = load_input(source, measured=measured, predicted=predicted), None
    if (measured or predicted) and inp.kind.value != "validation":
        from hwsim.errors import SpecError
        raise SpecError(inp.source, "", f"--measured/--predicted name columns of a validation CSV; this is a "
                        f"{inp.kind.value} input", allowed="a CSV with measured and predicted seconds")
    return save_report(build_report(inp), out_dir, input_sha256=sha, command=command)


def save_report(report: "Report", out_dir: str | Path, *, input_sha256: str | None = None,
                command: list[str] | None = None) -> list[Path]:
    """Write a built report (``report.md``, ``report.html``, figures, tables, ``input.json`` for runs,
    ``manifest.json``) to ``out_dir``; returns the files written, relative to it."""
    from hwsim.report.inputs import InputKind
    from hwsim.report.manifest import _version, created_utc, git_commit, make_manifest
    from hwsim.report.render import write_report

    inp = report.input
    out = Path(out_dir)
    commit = git_commit()
    footer = (f"Made by hwsim {_version('hwsim')}" + (f" (commit {commit[:12]})" if commit else "")
              + f" from {inp.source} on {created_utc()}; manifest.json beside this page lists the inputs.")
    try:
        files = write_report(report, out, footer)
        if inp.kind is InputKind.RUN:
            (out / "input.json").write_text(json.dumps(inp.run, indent=1) + "\n")
            files.append(Path("input.json"))
        manifest = make_manifest(inp, out, files, command, input_sha256)
        (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    except OSError as e:
        from hwsim.errors import SpecError
        raise SpecError(str(out), "", f"--out: cannot write the report here ({e.strerror}: {e.filename})",
                        allowed="a directory that can be created and written") from None
    return files + [Path("manifest.json")]
