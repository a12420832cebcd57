"""The shipped report plans: what a run, a sweep and a validation report show, in reading order.

Prose is generated from the numbers (largest op, dominant component, ridge points) and every figure says in
its caption what it plots; the numbers themselves come from the input, never from here.
"""

from __future__ import annotations

import pandas as pd

from hwsim.report import figures as F
from hwsim.report import tables as T
from hwsim.report.build import FigureOut, Report, Section, TableOut, one_axes, register_plan, render_figure
from hwsim.report.inputs import InputKind, ReportInput
from hwsim.units import format_si


def display(frame: pd.DataFrame, units: dict[str, str]) -> pd.DataFrame:
    """Format columns for people: SI prefixes with ``units[col]``, ``%`` for shares, ``x`` for ratios,
    ``count`` for integers; other float columns to 4 significant digits (a prefix from 10^4 up, empty for
    NaN), other columns as they are."""
    out = frame.copy()
    for col in frame.columns:
        if col not in units and pd.api.types.is_float_dtype(frame[col]):
            out[col] = ["" if pd.isna(v) else F.value_label(v) if abs(v) >= 1e4 else f"{v:.4g}" for v in frame[col]]
    for col, unit in units.items():
        if col not in out.columns:
            continue
        if unit == "%":
            out[col] = [f"{100 * v:.1f}%" for v in frame[col]]
        elif unit == "x":
            out[col] = [f"{v:.3g}x" for v in frame[col]]
        elif unit == "count":
            out[col] = [f"{int(v)}" for v in frame[col]]
        else:
            out[col] = [format_si(float(v), unit) for v in frame[col]]
    return out.astype(str)


def _table(name: str, caption: str, data: pd.DataFrame, units: dict[str, str]) -> TableOut:
    return TableOut(name, caption, data, display(data, units))


# ---- run ----------------------------------------------------------------------------------------------
OP_UNITS = {"flops": "FLOP", "dram_bytes": "B", "seconds": "s", "compute_s": "s", "stall_s": "s", "energy_j": "J",
            "achieved_flops_s": "FLOP/s", "utilization": "%"}


def _run_prose(run: dict, ops: pd.DataFrame, energy: pd.DataFrame) -> tuple[str, ...]:
    drawn = T.ops_to_draw(ops)  # the longest op of a 1,040-op step is the longest block op, summed over replicas
    top = drawn.loc[drawn["seconds"].idxmax()]
    op_sum = ops["seconds"].sum() or 1.0
    bounds = ops["bound"].value_counts()
    comp = energy.iloc[0] if len(energy) else None
    lines = [f"The block takes {format_si(run['block']['seconds'], 's')} and {format_si(run['block']['energy_j'], 'J')}. "
             f"The longest op is `{top['op']}` on `{top['unit']}` ({format_si(top['seconds'], 's')}, "
             f"{100 * top['seconds'] / op_sum:.0f}% of the summed op time, {top['bound']}-bound). "
             + ", ".join(f"{n} of {len(ops)} ops are {b}-bound" for b, n in bounds.items()) + "."]
    if comp is not None:
        lines.append(f"The largest energy component is `{comp['component']}` ({100 * comp['share']:.1f}% of the "
                     "block's energy).")
    return tuple(lines)


def _ridge_prose(arch: dict, off_chip: str | None) -> str:
    mems = arch.get("memories") or {}
    if not off_chip or off_chip not in mems:
        return "The arch summary names no memory bandwidths, so no ridge points can be given."
    bw = mems[off_chip]["bandwidth_bytes_s"]
    parts = [f"{label} {p / bw:.0f} FLOP/B" for label, p in F._ceilings(arch)]
    return (f"Ridge points against `{off_chip}` ({format_si(bw, 'B/s')}): " + "; ".join(parts) + ". An op left of "
            "its unit's ridge cannot reach the unit's peak whatever the mapping; one below its ceiling and right "
            "of the ridge loses time to fill, drain or fold quantisation.")


def _drawn_ops(ops: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The ops the per-op figures draw, and what a caption adds: every op, or, past ``T.MAX_OPS_DRAWN`` ops,
    the replicas of each block op summed over layers and sub-batches (a figure of 1,040 bars is unreadable)."""
    drawn = T.ops_to_draw(ops)
    if len(drawn) == len(ops):
        return ops, ""
    return drawn, (f" The run has {len(ops)} ops; the replicas of each block op (`l<layer>.sb<sub-batch>.<op>`) "
                   f"are summed ({len(drawn)} rows).")


def _run_figures(run: dict, ops: pd.DataFrame, area: pd.DataFrame) -> dict[str, FigureOut]:
    b, arch = run["block"], run.get("arch_summary") or {}
    sched = pd.DataFrame(run.get("schedule") or [], columns=["op", "unit", "start_s", "end_s"])
    ops, summed = _drawn_ops(ops)
    if summed:
        sched = sched.assign(op=[T.base_op(n) for n in sched["op"]])
    op_h = 1.2 + 0.28 * len(ops)
    figs = {
        "shares": render_figure("block_shares", "Shares of the block's summed op time by op, its energy by op, "
                                "and its energy by component." + summed, one_axes(F.block_shares, ops), 9, 2.8),
        "latency": render_figure("latency_by_op", "Latency of each op, split into compute time and time stalled "
                                 "on memory or overhead; [unit] is where the op ran." + summed,
                                 one_axes(F.latency_by_op, ops), 9, op_h),
        "energy": render_figure("energy_by_op", "Energy of each op, stacked by component (leakage is each op's "
                                "share of the block's static energy)." + summed, one_axes(F.energy_by_op, ops), 9,
                                op_h),
        "area": render_figure("area_breakdown", "Die area by component.", one_axes(F.area_breakdown, area),
                              9, 1.2 + 0.3 * len(area)),
    }
    if arch.get("units"):
        figs["roofline"] = render_figure(
            "roofline", "Each op at its arithmetic intensity against each memory level (marker) and its achieved "
            "throughput (colour = op); red lines are the units' peak flop rates, grey lines the levels' "
            "bandwidths; the star is the whole block against off-chip memory." + summed,
            one_axes(F.roofline, ops, arch=arch, block=(b.get("flops", 0.0), b.get("dram_bytes", 0.0), b["seconds"])),
            9, 5.5)
    if len(sched):
        figs["timeline"] = render_figure("timeline", "When each op ran on its unit (colours as in the roofline).",
                                         one_axes(F.timeline, sched), 9, 1.0 + 0.45 * sched["unit"].nunique())
    return figs


def _headline(run: dict) -> tuple[tuple[str, str], ...]:
    head = T.headline_frame(run)
    return tuple((q, f"{v:.2f} mm²" if u == "mm^2" else format_si(float(v), u))
                 for q, v, u in zip(head["quantity"], head["value"], head["unit"]))


@register_plan(InputKind.RUN)
def run_report(inp: ReportInput) -> Report:
    run = inp.run
    ops, energy, area = T.ops_frame(run), T.energy_frame(run), T.area_frame(run)
    arch = run.get("arch_summary") or {}
    figs = _run_figures(run, ops, area)
    op_cols = ["op", "kind", "unit", "bound", "flops", "dram_bytes", "seconds", "compute_s", "stall_s", "energy_j",
               "achieved_flops_s", "utilization"]
    drawn, summed = _drawn_ops(ops)
    t_ops = TableOut("ops", "Per-op costs (CSV: every column, SI units)." + summed, ops,
                     display(drawn, OP_UNITS)[op_cols])
    t_energy = _table("energy_by_component", "Block energy by component.", energy, {"energy_j": "J", "share": "%"})
    t_area = TableOut("area_by_component", "Die area by component.", area,
                      area.assign(area_mm2=[f"{a:.2f}" for a in area["area_mm2"]],
                                  share=[f"{100 * s:.1f}%" for s in area["share"]]).astype(str))
    ridge = _ridge_prose(arch, T.off_chip_level(run)) if arch.get("units") else \
        "No arch summary: the roofline is left out (see the notes)."
    op_notes = sorted({f"`{op['name']}`: {nt}" for op in run["ops"] for nt in op.get("notes", [])})
    sections = (
        Section("Where the time and energy go", _run_prose(run, ops, energy), (figs["shares"],)),
        Section("Latency by op", (), (figs["latency"],) + ((figs["timeline"],) if "timeline" in figs else ()),
                (t_ops,)),
        Section("Energy by op and component", (), (figs["energy"],), (t_energy,)),
        Section("Roofline", (ridge,), (figs["roofline"],) if "roofline" in figs else ()),
        Section("Area", (), (figs["area"],), (t_area,)),
        Section("Where the numbers come from", tuple(run.get("notes", [])) + tuple(op_notes), bullets=True),
    )
    p = {k: v for k, v in (run.get("params") or {}).items() if v not in (None, 0, "") and k != "model"}
    subtitle = (", ".join(f"{k} {v}" for k, v in p.items()) + f"; engine {run.get('engine', '?')}; "
                f"inputs hash {run.get('inputs_hash', '?')}")
    return Report(f"{run['workload']} on {run['arch']}", subtitle, _headline(run), sections, inp.notes, inp)


# ---- sweep --------------------------------------------------------------------------------------------
SWEEP_UNITS = {"latency_s": "s", "energy_j": "J", "area_mm2": "mm²"}


def _sensitivity_draw(inp: ReportInput, param: str):
    def draw(fig):
        for ax, metric in zip(fig.subplots(1, 3), ("latency_s", "energy_j", "area_mm2")):
            F.sensitivity(inp.frame, ax, param=param, metric=metric, **_written(inp, param))
    return draw


def _written(inp: ReportInput, param: str) -> dict:
    """The unit and the space file's own spelling of a swept parameter's values (``8MiB``, ``819.2GB/s``)."""
    return {"unit": inp.value_units.get(param, ""), "labels": inp.value_labels.get(param)}


def _param_table(name: str, caption: str, data: pd.DataFrame, units: dict[str, str], inp: ReportInput,
                 params: list[str]) -> TableOut:
    """A sweep table whose swept-parameter cells read as the space file wrote them, with their units."""
    t = _table(name, caption, data, units)
    disp = t.display.assign(**{p: [F.value_label(v, **_written(inp, p)) for v in data[p]] for p in params
                               if p in data.columns})
    return TableOut(t.name, t.caption, t.data, disp)


@register_plan(InputKind.SWEEP)
def sweep_report(inp: ReportInput) -> Report:
    pts, meta = inp.frame, inp.meta
    ok = T.ok_points(pts)
    params = T.sweep_params(pts, meta)
    front = T.pareto_frame(pts, params)
    sections = [Section(
        "Latency against energy",
        (f"{len(ok)} of {len(pts)} points evaluated without error; {len(front)} are on the latency-energy front of "
         "their block (no other point is both faster and more frugal).",),
        (render_figure("pareto", "Every point's block latency against its energy, coloured by die area; the "
                       "front is ringed in red.", one_axes(F.pareto_scatter, pts), 8, 5.5),),
        (_param_table("pareto_front", "The front, fastest first.", front, SWEEP_UNITS, inp, params),))]
    for prm in params:
        if ok[prm].nunique() < 2:
            continue
        sens = T.sensitivity_frame(pts, prm)
        sections.append(Section(
            f"Sensitivity to {prm}", (),
            (render_figure(f"sensitivity_{prm}", f"Latency, energy and area against {prm}: the median over the "
                           "other parameters, shaded from their min to their max.",
                           _sensitivity_draw(inp, prm), 11, 3.4),),
            (_param_table(f"sensitivity_{prm}", f"Median, min and max per value of {prm}.", sens,
                          {c: SWEEP_UNITS[c.split(".")[0]] for c in sens.columns if c.split(".")[0] in SWEEP_UNITS},
                          inp, [prm]),)))
    failed = pts[~pts["point_id"].isin(ok["point_id"])]
    if len(failed):
        errs = failed["error"].astype("string").fillna("non-positive latency or energy").value_counts()
        t = errs.rename_axis("error").reset_index(name="points")
        sections.append(Section("Failed points", (f"{len(failed)} points have no result.",), (),
                                (TableOut("errors", "Errors and how many points each.", t, t.astype(str)),)))
    headline = [("points", f"{len(ok)} ok / {len(pts)}"), ("swept", ", ".join(params) or "nothing"),
                ("on the front", str(len(front)))]
    for block, sub in list(ok.groupby("block", sort=False))[:4]:
        tag = f" ({block})" if ok["block"].nunique() > 1 else ""
        best_l, best_e = sub.loc[sub["latency_s"].idxmin()], sub.loc[sub["energy_j"].idxmin()]
        headline += [(f"fastest{tag}", f"{format_si(best_l['latency_s'], 's')} ({best_l['point_id']})"),
                     (f"least energy{tag}", f"{format_si(best_e['energy_j'], 'J')} ({best_e['point_id']})")]
    wl = meta.get("workload") or meta.get("workloads") or sorted(ok["block"].unique())
    title = f"Sweep of {meta.get('arch', 'an architecture')} over {wl if isinstance(wl, str) else ', '.join(map(str, wl))}"
    subtitle = f"engine {meta.get('engine', '?')}; created {meta.get('created', '?')}; {inp.source}"
    return Report(title, subtitle, tuple(headline), tuple(sections), inp.notes, inp)


# ---- validation ---------------------------------------------------------------------------------------
def _worst_table(worst: pd.DataFrame, units: dict[str, str]) -> TableOut:
    """The worst rows: the CSV keeps every column, the page leaves out those empty in every row shown."""
    shown = worst.dropna(axis=1, how="all")
    return TableOut("worst_rows", "The ten rows predicted worst.", worst, display(shown, units))


@register_plan(InputKind.VALIDATION)
def validation_report(inp: ReportInput) -> Report:
    rows, mcol, pcol = inp.frame, inp.meta["measured"], inp.meta["predicted"]
    group = "kind" if "kind" in rows.columns else None
    stats = T.parity_frame(rows, mcol, pcol, group)
    ape = (rows[pcol] - rows[mcol]).abs() / rows[mcol]
    worst = rows.assign(ape=ape).sort_values("ape", ascending=False).head(10)
    pct = {c: "%" for c in ("mape", "median_ape", "max_ape", "within_10pct", "within_25pct", "ape")}
    pct.update(n="count", log_bias="x")
    s = stats.iloc[0]
    sections = (Section(
        "Predicted against measured",
        (f"{int(s['n'])} rows; mean absolute percentage error {100 * s['mape']:.1f}%, median "
         f"{100 * s['median_ape']:.1f}%; predictions are {s['log_bias']:.2f}x the measurements on geometric "
         "average.",),
        (render_figure("parity", f"`{pcol}` against `{mcol}` on log-log axes; the dashed lines are ±25%.",
                       one_axes(F.parity, rows, measured=mcol, predicted=pcol, group=group), 6.5, 6),),
        (_table("parity_stats", "Error statistics, all rows and by kind.", stats, pct),
         _worst_table(worst, {mcol: "s", pcol: "s", "ape": "%"}))),)
    headline = (("rows", str(int(s["n"]))), ("MAPE", f"{100 * s['mape']:.1f}%"),
                ("within ±25%", f"{100 * s['within_25pct']:.0f}%"), ("bias (pred/meas)", f"{s['log_bias']:.2f}x"))
    return Report(f"Validation: {pcol} vs {mcol}", inp.source, headline, sections, inp.notes, inp)
