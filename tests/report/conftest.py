"""Report fixtures: a real run's JSON, a synthetic sweep results directory (report_fixtures.py), a validation
CSV."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hwsim import api
from report_fixtures import sweep_points, write_sweep_dir


@pytest.fixture(scope="session")
def run_doc() -> dict:
    return api.run().to_dict()


@pytest.fixture(scope="session")
def run_json(tmp_path_factory, run_doc) -> Path:
    p = tmp_path_factory.mktemp("run") / "run.json"
    p.write_text(json.dumps(run_doc))
    return p


@pytest.fixture(scope="session")
def sweep_dir(tmp_path_factory) -> Path:
    return write_sweep_dir(tmp_path_factory.mktemp("sweep") / "results", sweep_points())


@pytest.fixture(scope="session")
def validation_csv(tmp_path_factory) -> Path:
    """The shipped H100 calibration rows with seconds > 0 and a made-up prediction: 1.2x measured for GEMMs,
    0.9x otherwise (so MAPE is known: 20% on gemm rows, 10% on the rest)."""
    src = Path(api.__file__).parent / "data" / "calibration" / "h100_calibration.csv"
    f = pd.read_csv(src)
    f = f[(f["seconds"] > 0) & (f["kind"] != "idle")].reset_index(drop=True)
    f["pred_seconds"] = np.where(f["kind"] == "gemm", 1.2, 0.9) * f["seconds"]
    p = tmp_path_factory.mktemp("val") / "val.csv"
    f.to_csv(p, index=False)
    return p


@pytest.fixture(scope="session")
def built(run_doc, sweep_dir, validation_csv):
    """Built reports (not written) of the three input kinds, by kind name."""
    from hwsim.report import build_report, load_input
    from hwsim.report.inputs import load_run

    return {"run": build_report(load_run(run_doc, "run.json")), "sweep": build_report(load_input(sweep_dir)),
            "validation": build_report(load_input(validation_csv))}


@pytest.fixture(scope="session")
def run_report(tmp_path_factory, built):
    """(out_dir, files) of the default run's report, written once."""
    from hwsim.report import save_report

    out = tmp_path_factory.mktemp("run_report")
    return out, save_report(built["run"], out, command=["test"])


@pytest.fixture(scope="session")
def sweep_report(tmp_path_factory, built):
    from hwsim.report import save_report

    out = tmp_path_factory.mktemp("sweep_report")
    return out, save_report(built["sweep"], out, command=["test"])
