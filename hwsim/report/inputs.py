"""What a report can be made from: a run's JSON, a sweep's results directory, or a validation CSV.

Each input is checked at the boundary and becomes a frozen :class:`ReportInput`; bad input is a
:class:`~hwsim.errors.SpecError` naming the file, the field and what is allowed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Callable

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from hwsim.errors import SpecError
from hwsim.specio import validate

RUN_KEYS = ("arch", "workload", "ops", "block", "area_mm2")
SWEEP_OUTPUTS = ("latency_s", "energy_j", "area_mm2")
PRED_COLUMNS = ("pred_seconds", "predicted_seconds", "predicted_s", "pred_s", "estimate_seconds", "est_seconds")


# ---- the parts of a run's JSON a report reads (RunResult.to_dict()); other keys pass through unchecked ----
Amount = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class _Part(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class _OpRow(_Part):
    name: str
    unit: str
    flops: Amount
    seconds: Amount
    energy_j: Amount
    cycles: Amount | None = None
    compute_cycles: Amount | None = None
    utilization: Amount = 0.0
    bytes: dict[str, Amount] = {}
    energy_j_by_component: dict[str, Amount] = {}
    notes: list[str] = []


class _Block(_Part):
    seconds: Amount
    energy_j: Amount
    energy_j_by_component: dict[str, Amount] = {}
    flops: Amount = 0.0
    dram_bytes: Amount = 0.0


class _Area(_Part):
    total: Amount
    by_component: dict[str, Amount]


class _Slot(_Part):
    op: str
    unit: str
    start_s: Amount
    end_s: Amount


class _Model(_Part):
    layers: int = Field(1, ge=1)
    seconds: Amount | None = None
    energy_j: Amount | None = None


class _UnitSummary(_Part):
    peak_flops_s: dict[str, Amount] = {}


class _MemorySummary(_Part):
    bandwidth_bytes_s: Annotated[float, Field(gt=0, allow_inf_nan=False)]


class _ArchSummary(_Part):
    units: dict[str, _UnitSummary] = {}
    memories: dict[str, _MemorySummary] = {}


class RunDoc(_Part):
    """What a report needs of ``hwsim run --format json``: checked once here so that a hand-edited or truncated
    JSON is a one-line error naming the field (``ops.3.seconds``), never a traceback in a figure."""

    arch: str
    workload: str
    ops: list[_OpRow] = Field(min_length=1)
    block: _Block
    area_mm2: _Area
    schedule: list[_Slot] = []
    model: _Model | None = None
    params: dict[str, Any] = {}
    notes: list[str] = []
    arch_summary: _ArchSummary | None = None


class InputKind(str, Enum):
    RUN = "run"
    SWEEP = "sweep"
    VALIDATION = "validation"


@dataclass(frozen=True)
class ReportInput:
    """One loaded input.

    Attributes
    ----------
    kind : InputKind
    source : str
        Where it came from (a path, or ``<stdin>``).
    run : dict or None
        The run's JSON document (kind RUN).
    frame : DataFrame or None
        Sweep points (kind SWEEP) or validation rows (kind VALIDATION).
    meta : dict
        Sweep ``meta.json``; for validation ``{"measured": col, "predicted": col}``.
    notes : tuple of str
        What the loader had to assume or fill in.
    value_labels, value_units : dict
        Sweeps: each swept quantity as the space file wrote it (``{"memories.sram.capacity": {8388608.0:
        "8MiB"}}``) and its unit (``{"memories.sram.capacity": "B"}``), from the results' ``space.yaml``
        (:func:`hwsim.sweep.space.written_values`); empty when there is none.
    """

    kind: InputKind
    source: str
    run: dict | None = None
    frame: pd.DataFrame | None = None
    meta: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    value_labels: dict = field(default_factory=dict)
    value_units: dict = field(default_factory=dict)


def read_sweep_points(results_dir: Path) -> pd.DataFrame:
    """All points of a sweep results directory, one row per point and block, as the sweep reads them back
    (:func:`hwsim.sweep.store.read_results`: chunks unified, pruned rows and repeats left out, sorted by
    ``point_id, block``)."""
    from hwsim.sweep.store import read_results

    return read_results(results_dir)


def load_input(path: str | Path, *, measured: str | None = None, predicted: str | None = None) -> ReportInput:
    """Load a run JSON, a sweep results directory, or a validation CSV, telling them apart by their shape.

    Parameters
    ----------
    path : str or Path
    measured, predicted : str, optional
        Validation CSV columns; defaults ``seconds`` and the first of :data:`PRED_COLUMNS` present.
    """
    p = Path(path)
    if not p.exists():
        raise SpecError(str(p), "", "no such file or directory",
                        allowed="a run JSON (hwsim run --format json), a sweep results directory, or a CSV")
    if p.is_dir():
        return _load_sweep(p)
    loaders: dict[str, Callable[[Path], ReportInput]] = {
        ".json": lambda q: load_run(_read_json(q), str(q)),
        ".csv": lambda q: load_validation(_read_csv(q), str(q), measured=measured, predicted=predicted),
        ".parquet": lambda q: _sweep_from_frame(pd.read_parquet(q), str(q), {}),
    }
    if p.suffix.lower() not in loaders:
        raise SpecError(str(p), "", f"cannot tell what {p.suffix or 'this file'} holds",
                        allowed=".json (run), .csv (validation), .parquet or a directory (sweep)")
    return loaders[p.suffix.lower()](p)


def _read_json(p: Path) -> Any:
    try:
        return json.loads(p.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise SpecError(str(p), "", f"not valid JSON ({e})") from None


def _read_csv(p: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(p)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise SpecError(str(p), "", f"not a readable CSV ({str(e).splitlines()[0]})") from None


def load_run(doc: Any, source: str) -> ReportInput:
    """Check a run's JSON document (``RunResult.to_dict()``) and fill in ``arch_summary`` when absent."""
    if not isinstance(doc, dict):
        raise SpecError(source, "", "expected a JSON object from `hwsim run --format json`")
    missing = [k for k in RUN_KEYS if k not in doc]
    if missing:
        raise SpecError(source, missing[0], "missing", allowed="the output of `hwsim run --format json`")
    if not isinstance(doc["ops"], list) or not doc["ops"]:
        raise SpecError(source, "ops", "must be a non-empty list of op rows")
    validate(RunDoc, doc, source)
    notes: tuple[str, ...] = ()
    if not doc.get("arch_summary"):
        summary, notes = _recompute_summary(doc["arch"])
        doc = {**doc, "arch_summary": summary}
    return ReportInput(InputKind.RUN, source, run=doc, notes=notes)


def _recompute_summary(arch_name: str) -> tuple[dict, tuple[str, ...]]:
    from hwsim.arch.loader import load_arch
    from hwsim.arch.summary import arch_summary
    from hwsim.errors import HwsimError

    try:
        s = arch_summary(load_arch(arch_name))
    except HwsimError:
        return {}, (f"the JSON has no arch_summary and arch {arch_name!r} is not a shipped spec: no roofline",)
    return s, (f"arch_summary recomputed from the shipped spec {arch_name!r} (any --set overrides of the run "
               "are not reflected in the roofline ceilings)",)


def _load_sweep(d: Path) -> ReportInput:
    if not (d / "chunks").is_dir():
        raise SpecError(str(d), "chunks", "a sweep results directory needs chunks/part-*.parquet",
                        allowed="the --out directory of `hwsim sweep`")
    meta = _read_json(d / "meta.json") if (d / "meta.json").exists() else {}
    try:
        frame = read_sweep_points(d)
    except (OSError, ValueError, NotImplementedError) as e:
        raise SpecError(str(d / "chunks"), "", f"cannot read the parquet chunks ({str(e).splitlines()[0]})") from None
    inp = _sweep_from_frame(frame, str(d), meta if isinstance(meta, dict) else {})
    return replace(inp, **_written_values(d / "space.yaml"))


def _written_values(space_yaml: Path) -> dict:
    """``value_labels`` and ``value_units`` from a results directory's copy of the space file (labels only:
    a copy that cannot be read leaves the values as numbers)."""
    import yaml

    from hwsim.sweep.space import written_values

    try:
        data = yaml.safe_load(space_yaml.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    labels, units = written_values(data.get("params") if isinstance(data, dict) else None)
    return {"value_labels": labels, "value_units": units}


def _sweep_from_frame(frame: pd.DataFrame, source: str, meta: dict) -> ReportInput:
    if frame.empty:
        raise SpecError(source, "", "the sweep has no points yet")
    missing = [c for c in ("point_id", *SWEEP_OUTPUTS) if c not in frame.columns]
    if missing:
        raise SpecError(source, missing[0], "missing column", allowed="point_id, block, <params>, latency_s, "
                        "energy_j, area_mm2, ... (the sweep results contract)")
    frame = frame.copy()
    if "block" not in frame.columns:
        frame["block"] = "block"
    if "error" not in frame.columns:
        frame["error"] = None
    return ReportInput(InputKind.SWEEP, source, frame=frame, meta=meta)


def load_validation(frame: pd.DataFrame, source: str, *, measured: str | None = None,
                    predicted: str | None = None) -> ReportInput:
    """Check a validation CSV: a measured and a predicted column of positive seconds. Rows where either is
    empty (a kernel the estimator does not cover, an idle row) are left out and counted in the notes."""
    measured = measured or "seconds"
    predicted = predicted or next((c for c in PRED_COLUMNS if c in frame.columns), None)
    if predicted is None:
        raise SpecError(source, "", "no predicted column", allowed=", ".join(PRED_COLUMNS) + " or --predicted COL")
    notes: tuple[str, ...] = ()
    for col in (measured, predicted):
        if col not in frame.columns:
            raise SpecError(source, col, "no such column", allowed=", ".join(map(str, frame.columns)))
        vals = pd.to_numeric(frame[col], errors="coerce")
        bad = frame.index[~(vals > 0) & frame[col].notna()]
        if len(bad):
            raise SpecError(source, f"{col}[row {bad[0] + 2}]", f"must be a positive number, got {frame[col][bad[0]]}")
    empty = frame[measured].isna() | frame[predicted].isna()
    if empty.all():
        raise SpecError(source, predicted, f"no row has both {measured} and {predicted}")
    if empty.any():
        notes = (f"{int(empty.sum())} of {len(frame)} rows have no {measured} or no {predicted} and are left out",)
        frame = frame[~empty].reset_index(drop=True)
    frame = frame.assign(**{measured: frame[measured].astype(float), predicted: frame[predicted].astype(float)})
    return ReportInput(InputKind.VALIDATION, source, frame=frame, meta={"measured": measured, "predicted": predicted},
                       notes=notes)
