"""``hwsim estimate``: predict seconds and joules for measured-case rows (kind, name, dtype, shape).

Every row is read first (:func:`read_cases`), so a bad row stops the run before any work with one line naming
the file, the row and the field. Output rows keep the input's order and columns; ``seconds`` and ``joules`` are
the predictions (input columns of those names are kept as ``measured_seconds`` / ``measured_joules``).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from hwsim.api import evaluate
from hwsim.arch.spec import ArchSpec
from hwsim.errors import SpecError
from hwsim.validation.cases import Case, parse_case
from hwsim.validation.eager import board_energy_j, eager_time

COLUMNS = ("kind", "name", "dtype", "shape")


def read_ops(path: str | Path) -> pd.DataFrame:
    """Read an ops CSV (columns kind,name,dtype,shape; more are kept); SpecError if unreadable."""
    p = Path(path)
    try:
        with warnings.catch_warnings():
            # a row with more fields than the header: pandas would shift the columns or drop fields silently
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(p, dtype={"kind": str, "name": str, "dtype": str, "shape": str},
                                keep_default_na=False, index_col=False)
    except FileNotFoundError:
        raise SpecError(str(p), "", "file not found") from None
    except (IsADirectoryError, PermissionError) as e:
        raise SpecError(str(p), "", f"cannot read file ({e.strerror})") from None
    except pd.errors.ParserWarning:
        raise SpecError(str(p), "", "not a readable CSV (a row has more fields than the header)") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise SpecError(str(p), "", f"not a readable CSV ({str(e).splitlines()[0]})") from None
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise SpecError(str(p), "columns", f"missing {', '.join(missing)}", allowed=", ".join(COLUMNS) + " (+ any)")
    return frame


def read_cases(frame: pd.DataFrame, file: str = "<ops>") -> list[Case]:
    """Parse every row (row numbers count data rows from 1, as a spreadsheet below its header would)."""
    return [parse_case(r.kind, r.name, r.dtype, r.shape, file, i + 1)
            for i, r in enumerate(frame[list(COLUMNS)].itertuples(index=False))]


def predict_case(case: Case, arch: ArchSpec) -> dict:
    """Seconds, joules and the host/GPU split of one case on ``arch``."""
    if case.workload is None:
        static = arch.energy.static_power_w if arch.energy is not None and arch.energy.static_power_w else 0.0
        return {"seconds": case.idle_s, "joules": static * case.idle_s, "host_s": 0.0, "gpu_s": 0.0}
    run = evaluate(case.workload, arch)
    t = eager_time(run, arch, case.in_module)
    return {"seconds": t.seconds, "joules": board_energy_j(run, arch, t.seconds), "host_s": t.host_s,
            "gpu_s": t.gpu_s}


def estimate_frame(frame: pd.DataFrame, arch: ArchSpec, file: str = "<ops>", detail: bool = False) -> pd.DataFrame:
    """Predictions for every row of ``frame``, in order (module docstring). ``detail`` adds host_s and gpu_s."""
    cases = read_cases(frame, file)
    preds = [predict_case(c, arch) for c in cases]
    out = frame.rename(columns={c: f"measured_{c}" for c in ("seconds", "joules") if c in frame.columns}).copy()
    keys = ("seconds", "joules", "host_s", "gpu_s") if detail else ("seconds", "joules")
    for k in keys:
        out[k] = [p[k] for p in preds]
    return out
