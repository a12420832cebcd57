"""Every figure by name, for ``scripts/plot_*.py`` and :func:`hwsim.api.plot`: which inputs it takes, the
frame it draws, its default size and its options. One figure into one file (PDF, SVG, PNG, PGF, EPS: the
output's extension decides), sized for a paper.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import matplotlib as mpl
import pandas as pd
from matplotlib.figure import Figure

from hwsim.errors import HwsimError, SpecError
from hwsim.report import figures as F
from hwsim.report import tables as T
from hwsim.report.build import RC
from hwsim.report.inputs import InputKind, ReportInput, load_input


def _block(inp: ReportInput) -> dict[str, Any]:
    b = inp.run["block"]
    return {"block": (b.get("flops", 0.0), b.get("dram_bytes", 0.0), b["seconds"])}


def _sensitivity(frame: pd.DataFrame, fig: Figure, param: str | None = None, metric: str | None = None,
                 units: dict | None = None, labels: dict | None = None) -> None:
    params = T.sweep_params(frame)
    param = param or (params[0] if params else None)
    if param not in frame.columns:
        raise SpecError("--param", "", f"{param!r} is not a swept parameter", allowed=", ".join(params))
    metrics = [metric] if metric else ["latency_s", "energy_j", "area_mm2"]
    for ax, m in zip(fig.subplots(1, len(metrics), squeeze=False)[0], metrics):
        F.sensitivity(frame, ax, param=param, metric=m, unit=(units or {}).get(param, ""),
                      labels=(labels or {}).get(param))


@dataclass(frozen=True)
class Entry:
    """A figure: the input kind it needs, how to get its frame and extra keywords, how to draw it."""

    help: str
    kind: InputKind
    frame: Callable[[ReportInput], pd.DataFrame]
    draw: Callable[..., Any]
    size_in: tuple[float, float]
    options: tuple[tuple[str, dict], ...] = ()  # (flag, argparse keywords) for scripts
    extra: Callable[[ReportInput], dict] = lambda inp: {}
    whole_figure: bool = False  # draw(frame, fig, **opts) instead of draw(frame, ax, **opts)


_ops = lambda inp: T.ops_to_draw(T.ops_frame(inp.run))  # noqa: E731  (replicas summed past MAX_OPS_DRAWN)


def _sched(inp: ReportInput) -> pd.DataFrame:
    f = pd.DataFrame(inp.run.get("schedule") or [], columns=["op", "unit", "start_s", "end_s"])
    return f.assign(op=[T.base_op(n) for n in f["op"]]) if len(inp.run["ops"]) > T.MAX_OPS_DRAWN else f
CATALOG: dict[str, Entry] = {
    "latency_by_op": Entry("per-op latency, compute and stall stacked", InputKind.RUN, _ops, F.latency_by_op,
                           (7, 4.5)),
    "energy_by_op": Entry("per-op energy stacked by component", InputKind.RUN, _ops, F.energy_by_op, (7, 4.5)),
    "block_shares": Entry("shares of latency and energy by op and component", InputKind.RUN, _ops,
                          F.block_shares, (7, 2.6)),
    "roofline": Entry("hierarchical roofline of the arch with every op placed", InputKind.RUN, _ops, F.roofline,
                      (7, 4.5), (("--no-legend", {"dest": "legend", "action": "store_false", "default": None,
                                                  "help": "no legend (ops stay labelled on the plot)"}),),
                      extra=_block),
    "timeline": Entry("schedule (Gantt) of the block's ops on their units", InputKind.RUN, _sched, F.timeline,
                      (7, 2.2)),
    "area_breakdown": Entry("die area by component", InputKind.RUN, lambda inp: T.area_frame(inp.run),
                            F.area_breakdown, (6, 3)),
    "pareto": Entry("sweep: latency vs energy coloured by area, front highlighted", InputKind.SWEEP,
                    lambda inp: inp.frame, F.pareto_scatter, (6, 4.5),
                    tuple((f"--{o}", {"help": f"column for {o} [{d}]"}) for o, d in
                          (("x", "latency_s"), ("y", "energy_j"), ("color", "area_mm2")))),
    "sensitivity": Entry("sweep: latency, energy and area against one swept parameter", InputKind.SWEEP,
                         lambda inp: inp.frame, _sensitivity, (10, 3.2),
                         (("--param", {"help": "swept parameter (dotted path) [the first]"}),
                          ("--metric", {"help": "one of latency_s, energy_j, area_mm2, ... [all three]"})),
                         extra=lambda inp: {"units": inp.value_units, "labels": inp.value_labels},
                         whole_figure=True),
    "parity": Entry("validation: predicted vs measured, log-log", InputKind.VALIDATION, lambda inp: inp.frame,
                    F.parity, (4.5, 4.5), (("--group", {"help": "column that colours the points [kind]"}),),
                    extra=lambda inp: {"measured": inp.meta["measured"], "predicted": inp.meta["predicted"]}),
}


NO_STAMP = {"png": {"Software": None}, "pdf": {"CreationDate": None}, "svg": {"Date": None}}


def plot(name: str, source: str | Path, output: str | Path, *, width_in: float | None = None,
         height_in: float | None = None, dpi: float = 300, title: str | None = None, font_size: float = 9,
         measured: str | None = None, predicted: str | None = None, **options: Any) -> Path:
    """Draw figure ``name`` of ``source`` (run JSON, sweep directory, validation CSV) into ``output``."""
    if name not in CATALOG:
        raise SpecError("<figure>", "", f"unknown figure {name!r}", allowed=", ".join(CATALOG))
    e = CATALOG[name]
    inp = load_input(source, measured=measured, predicted=predicted)
    if inp.kind is not e.kind:
        raise SpecError(str(source), "", f"is a {inp.kind.value} input; {name} needs a {e.kind.value} input")
    kw = {**e.extra(inp), **{k: v for k, v in options.items() if v is not None}}
    frame = e.frame(inp)
    _check_options(frame, str(source), {k: v for k, v in options.items() if k in COLUMN_OPTIONS and v is not None})
    w = e.size_in[0] if width_in is None else width_in
    h = e.size_in[1] if height_in is None else height_in
    for flag, v in (("--width", w), ("--height", h), ("--dpi", dpi), ("--font-size", font_size)):
        if not v > 0:
            raise SpecError(flag, "", f"must be a positive number, got {v}")
    out = Path(output)
    fmt = out.suffix.lower().lstrip(".")
    formats = sorted(Figure().canvas.get_supported_filetypes())
    if fmt not in formats:
        raise SpecError(str(out), "", f"cannot tell the format from the extension {out.suffix or '(none)'!r}",
                        allowed=", ".join(f".{f}" for f in formats))
    with mpl.rc_context({**RC, "font.size": font_size}):
        fig = Figure(figsize=(w, h), layout="constrained")
        if e.whole_figure:
            e.draw(frame, fig, **kw)
        else:
            ax = e.draw(frame, fig.subplots(), **kw)
            if title is not None:
                ax.set_title(title)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            fig.savefig(out, dpi=dpi, metadata=NO_STAMP.get(fmt))
        except OSError as err:
            raise SpecError(str(out), "", f"cannot write the figure ({err.strerror}: {err.filename})") from None
    return out


# options that name a column of the figure's frame: --x/--y/--color (pareto), --metric (sensitivity),
# --group (parity); a typo is an error naming the columns there are, not a KeyError or a silent default
COLUMN_OPTIONS = ("x", "y", "color", "metric", "group")


def _check_options(frame: pd.DataFrame, source: str, options: dict[str, str]) -> None:
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])
               and not pd.api.types.is_bool_dtype(frame[c])]
    for k, col in options.items():
        allowed = list(frame.columns) if k == "group" else numeric
        if col not in allowed:
            raise SpecError(source, f"--{k}", f"{col!r} is not a {'' if k == 'group' else 'numeric '}column of the "
                            "input", allowed=", ".join(map(str, allowed)))


def script_main(name: str, doc: str, argv: list[str] | None = None) -> int:
    """The command line of ``scripts/plot_<name>.py``: parse, :func:`plot`, print the path; errors are one
    line and exit status 2."""
    e = CATALOG[name]
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", help={InputKind.RUN: "a run's JSON (hwsim run --format json --out run.json)",
                                  InputKind.SWEEP: "a sweep results directory (or a points .parquet)",
                                  InputKind.VALIDATION: "a CSV with measured and predicted seconds"}[e.kind])
    p.add_argument("-o", "--output", default=f"{name}.pdf", help="file to write; its extension picks the format "
                   "(pdf, svg, png, pgf, eps) [%(default)s]")
    p.add_argument("--width", type=float, help=f"inches [{e.size_in[0]}]")
    p.add_argument("--height", type=float, help=f"inches [{e.size_in[1]}]")
    p.add_argument("--dpi", type=float, default=300, help="for raster formats [%(default)s]")
    p.add_argument("--font-size", type=float, default=9, help="points [%(default)s]")
    if not e.whole_figure:
        p.add_argument("--title", help="replace the title ('' for none)")
    if e.kind is InputKind.VALIDATION:
        p.add_argument("--measured", help="column of measured seconds [seconds]")
        p.add_argument("--predicted", help="column of predicted seconds [pred_seconds]")
    for flag, kw in e.options:
        p.add_argument(flag, **kw)
    a = vars(p.parse_args(argv))
    try:
        out = plot(name, a.pop("input"), a.pop("output"), width_in=a.pop("width"), height_in=a.pop("height"),
                   dpi=a.pop("dpi"), font_size=a.pop("font_size"), title=a.pop("title", None), **a)
    except HwsimError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {out}")
    return 0
