"""``hwsim validate``: predictions against a measured file (a ``seconds`` column, optionally ``joules``).

Error of a row: ``predicted / measured - 1``. Mean absolute percentage error (MAPE) per kind and over all timed
rows, energy MAPE over rows with measured joules, the worst rows, and a log-log parity plot. ``idle`` rows are
left out of both means (their time is given, and their power depends on whether a CUDA context was live:
MEASUREMENTS.md); the frame still carries their predicted joules.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hwsim.arch.spec import ArchSpec
from hwsim.errors import SpecError
from hwsim.validation.estimate import estimate_frame, read_ops


@dataclass(frozen=True)
class ValidationReport:
    """Per-row predictions and errors (``frame``) and the summary numbers (fractions, not percent)."""

    arch: str
    data: str
    frame: pd.DataFrame
    mape_by_kind: dict[str, float]
    mape_all: float
    energy_mape: float | None
    energy_rows: int

    def worst(self, n: int = 5) -> pd.DataFrame:
        timed = self.frame[self.frame["kind"] != "idle"]
        return timed.reindex(timed["err"].abs().sort_values(ascending=False).index).head(n)

    def text(self, n_worst: int = 5) -> str:
        lines = [f"{self.data} on {self.arch}: {len(self.frame)} rows",
                 f"{'kind':<14} {'rows':>5} {'MAPE':>8}"]
        counts = self.frame[self.frame["kind"] != "idle"]["kind"].value_counts()
        for k, v in self.mape_by_kind.items():
            lines.append(f"{k:<14} {counts[k]:>5} {100 * v:>7.1f}%")
        lines.append(f"{'all':<14} {int(counts.sum()):>5} {100 * self.mape_all:>7.1f}%")
        if self.energy_mape is not None:
            lines.append(f"{'energy':<14} {self.energy_rows:>5} {100 * self.energy_mape:>7.1f}%")
        lines.append(f"worst {n_worst}:")
        for r in self.worst(n_worst).itertuples():
            lines.append(f"  {r.kind:<13} {r.name:<26} {r.dtype:<5} {r.shape:<18} measured {r.measured_seconds:.3e} s"
                         f"  predicted {r.seconds:.3e} s  ({100 * r.err:+.1f}%)")
        return "\n".join(lines)


def mape(err: pd.Series) -> float:
    """Mean absolute percentage error, as a fraction.

    >>> mape(pd.Series([0.1, -0.3]))
    0.2
    """
    return float(np.abs(err).mean()) if len(err) else float("nan")


def compare(pred: pd.DataFrame, arch: str = "", data: str = "") -> ValidationReport:
    """Errors of an :func:`estimate_frame` result that carries ``measured_seconds`` (and maybe joules)."""
    f = pred.copy()
    f["measured_seconds"] = pd.to_numeric(f["measured_seconds"], errors="coerce")
    f["err"] = f["seconds"] / f["measured_seconds"] - 1.0
    timed = f[(f["kind"] != "idle") & f["err"].notna()]
    by_kind = {k: mape(g["err"]) for k, g in timed.groupby("kind", sort=True)}
    e_mape, e_rows = None, 0
    if "measured_joules" in f.columns:
        f["measured_joules"] = pd.to_numeric(f["measured_joules"], errors="coerce")
        f["energy_err"] = f["joules"] / f["measured_joules"] - 1.0
        rows = f[f["energy_err"].notna() & (f["kind"] != "idle")]
        e_rows = len(rows)
        e_mape = mape(rows["energy_err"]) if e_rows else None
    return ValidationReport(arch, data, f, by_kind, mape(timed["err"]), e_mape, e_rows)


def validate_file(path: str | Path, arch: ArchSpec) -> ValidationReport:
    """Predict every row of a measured CSV and compare (SpecError if it has no ``seconds`` column)."""
    frame = read_ops(path)
    if "seconds" not in frame.columns:
        raise SpecError(str(path), "columns", "no measured 'seconds' column to compare with")
    check_measured(frame, str(path))
    if not (frame["kind"].astype(str).str.strip() != "idle").any():
        raise SpecError(str(path), "", "no timed rows to compare (only idle rows, or none)")
    return compare(estimate_frame(frame, arch, str(path)), arch.name, str(path))


def check_measured(frame: pd.DataFrame, file: str) -> None:
    """SpecError (file, row, column) unless every ``seconds`` is a positive number and every non-empty
    ``joules`` too (rows count from 1 below the header, as in :func:`hwsim.validation.estimate.read_cases`)."""
    for col, required in (("seconds", True), ("joules", False)):
        if col not in frame.columns:
            continue
        text = frame[col].astype(str).str.strip()
        vals = pd.to_numeric(text, errors="coerce")
        bad = ~(np.isfinite(vals) & (vals > 0))
        if not required:
            bad &= text.ne("") & text.str.lower().ne("nan")
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise SpecError(file, f"row {i + 1}: {col}", f"cannot read measured {col} {text.iloc[i]!r}",
                            allowed=f"a number > 0{'' if required else ', or empty'}")


def parity_plot(report: ValidationReport, out: str | Path) -> Path:
    """Log-log predicted vs measured seconds, one marker per kind, with the y = x line and +-20 % band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    f = report.frame[(report.frame["kind"] != "idle") & report.frame["err"].notna()]
    fig, ax = plt.subplots(figsize=(5.5, 5.0))
    for (kind, g), marker in zip(f.groupby("kind", sort=True), "osD^v<>p*h"):
        ax.scatter(g["measured_seconds"], g["seconds"], s=16, marker=marker, alpha=0.8,
                   label=f"{kind} ({100 * report.mape_by_kind[kind]:.1f}%)")
    lo = 0.5 * float(min(f["measured_seconds"].min(), f["seconds"].min()))
    hi = 2.0 * float(max(f["measured_seconds"].max(), f["seconds"].max()))
    xs = np.array([lo, hi])
    ax.plot(xs, xs, "k-", lw=0.8)
    ax.fill_between(xs, xs / 1.2, xs * 1.2, color="0.85", zorder=0, label="±20 %")
    ax.set(xscale="log", yscale="log", xlim=(lo, hi), ylim=(lo, hi), xlabel="measured seconds",
           ylabel="predicted seconds", title=f"{Path(report.data).name} on {report.arch}: "
                                             f"MAPE {100 * report.mape_all:.1f}%")
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120, format="png")  # exactly this path (matplotlib would append .png to a bare name)
    plt.close(fig)
    return out
