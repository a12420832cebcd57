"""Matplotlib figures, each a pure function ``(frame, ax, **options) -> ax``: no pyplot state, no files.

Frames come from :mod:`hwsim.report.tables` (``ops_frame``, ``area_frame``, sweep points, validation rows);
the functions only draw what the frame holds, so a user can call them on their own axes for a paper.

>>> from matplotlib.figure import Figure
>>> import pandas as pd
>>> ax = area_breakdown(pd.DataFrame({"component": ["mxu", "sram"], "area_mm2": [3.0, 1.0],
...                                   "share": [0.75, 0.25]}), Figure().subplots())
>>> [float(p.get_width()) for p in ax.patches]
[3.0, 1.0]
"""

from __future__ import annotations

from typing import Sequence

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.ticker import EngFormatter

from hwsim.report.labels import eng, value_label
from hwsim.report.tables import ok_points, pareto_mask
from hwsim.units import format_si

COMPONENT_FAMILIES = {"compute": "Blues", "sram": "Greens", "dram": "Oranges", "phy": "Oranges", "noc": "Purples",
                      "interconnect": "Purples", "leakage": "Greys", "static": "Greys", "control": "Greys"}
LEVEL_MARKERS = ("o", "s", "^", "D", "v", "P")
LINE_STYLES = ("-", "--", ":", "-.")


def op_colors(ops: Sequence[str]) -> dict[str, tuple]:
    """One colour per op, stable in block order (tab20, cycling)."""
    cmap = mpl.colormaps["tab20"]
    return {op: cmap(i % 20) for i, op in enumerate(dict.fromkeys(ops))}


def component_colors(components: Sequence[str]) -> dict[str, tuple]:
    """Colours by component family (``compute.*`` blues, ``sram.*`` greens, ``dram.*`` oranges, leakage grey)."""
    fams: dict[str, list[str]] = {}
    for c in dict.fromkeys(components):
        fams.setdefault(c.split(".")[0], []).append(c)
    out, spare = {}, iter(mpl.colormaps["Set2"].colors)
    for fam, names in fams.items():
        cmap = COMPONENT_FAMILIES.get(fam)
        for i, n in enumerate(names):
            out[n] = mpl.colormaps[cmap](0.75 - 0.4 * i / max(len(names), 2)) if cmap else next(spare, (0.5,) * 3)
    return out


def _energy_columns(frame: pd.DataFrame) -> list[str]:
    cols = [c for c in frame.columns if c.startswith("energy_j.")]
    return sorted(cols, key=lambda c: -frame[c].sum())


def _label_bars(ax: Axes, y, totals, unit: str) -> None:
    for yi, t in zip(y, totals):
        ax.annotate(format_si(float(t), unit), (t, yi), xytext=(3, 0), textcoords="offset points",
                    va="center", fontsize=7)
    ax.set_xlim(0, max(totals) * 1.18 if len(totals) and max(totals) > 0 else 1)


def latency_by_op(frame: pd.DataFrame, ax: Axes) -> Axes:
    """Per-op latency (``ops_frame``): compute time and time stalled on memory or overhead, stacked."""
    y = np.arange(len(frame))[::-1]
    ax.barh(y, frame["compute_s"], color="#4c72b0", label="compute")
    ax.barh(y, frame["stall_s"], left=frame["compute_s"], color="#dd8452", label="stalled (memory / overhead)")
    ax.set_yticks(y, [f"{o}  [{u}]" for o, u in zip(frame["op"], frame["unit"])], fontsize=8)
    _label_bars(ax, y, frame["seconds"].to_numpy(), "s")
    ax.xaxis.set_major_formatter(EngFormatter(unit="s"))
    ax.set_xlabel("latency")
    ax.set_title("latency by op")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    return ax


def energy_by_op(frame: pd.DataFrame, ax: Axes) -> Axes:
    """Per-op energy (``ops_frame``) stacked by component (``energy_j.<component>`` columns)."""
    y = np.arange(len(frame))[::-1]
    cols = _energy_columns(frame)
    colors = component_colors([c[len("energy_j."):] for c in cols])
    left = np.zeros(len(frame))
    for c in cols:
        name = c[len("energy_j."):]
        ax.barh(y, frame[c], left=left, color=colors[name], label=name)
        left += frame[c].to_numpy()
    ax.set_yticks(y, list(frame["op"]), fontsize=8)
    _label_bars(ax, y, frame["energy_j"].to_numpy(), "J")
    ax.xaxis.set_major_formatter(EngFormatter(unit="J"))
    ax.set_xlabel("energy")
    ax.set_title("energy by op and component")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    return ax


def _share_bar(ax: Axes, y: float, values: dict[str, float], colors: dict[str, tuple]) -> None:
    total = sum(values.values()) or 1.0
    left = 0.0
    for name, v in values.items():
        w = v / total
        ax.barh(y, w, left=left, color=colors[name], edgecolor="white", linewidth=0.5)
        if w >= 0.06:
            ax.text(left + w / 2, y, f"{name}\n{100 * w:.0f}%", ha="center", va="center", fontsize=7)
        left += w


def block_shares(frame: pd.DataFrame, ax: Axes) -> Axes:
    """Shares of the block's latency by op, energy by op and energy by component, as 100% stacked bars.

    Latency shares are of the summed op times (ops may overlap in the schedule)."""
    ocol = op_colors(frame["op"])
    cols = _energy_columns(frame)
    comps = {c[len("energy_j."):]: float(frame[c].sum()) for c in cols}
    _share_bar(ax, 2, dict(zip(frame["op"], frame["seconds"])), ocol)
    _share_bar(ax, 1, dict(zip(frame["op"], frame["energy_j"])), ocol)
    _share_bar(ax, 0, comps, component_colors(list(comps)))
    ax.set_yticks([2, 1, 0], ["latency\nby op", "energy\nby op", "energy by\ncomponent"], fontsize=8)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(mpl.ticker.PercentFormatter(1.0))
    ax.set_title("where the block's time and energy go")
    return ax


def area_breakdown(frame: pd.DataFrame, ax: Axes) -> Axes:
    """Die area by component (``area_frame``), largest on top, with mm^2 and share."""
    y = np.arange(len(frame))[::-1]
    colors = component_colors(list(frame["component"]))
    ax.barh(y, frame["area_mm2"], color=[colors[c] for c in frame["component"]])
    ax.set_yticks(y, list(frame["component"]), fontsize=8)
    for yi, a, s in zip(y, frame["area_mm2"], frame["share"]):
        ax.annotate(f"{a:.2f} mm$^2$ ({100 * s:.1f}%)", (a, yi), xytext=(3, 0), textcoords="offset points",
                    va="center", fontsize=7)
    ax.set_xlim(0, frame["area_mm2"].max() * 1.35)
    ax.set_xlabel("area (mm$^2$)")
    ax.set_title(f"area by component, {frame['area_mm2'].sum():.1f} mm$^2$ in all")
    return ax


def timeline(frame: pd.DataFrame, ax: Axes) -> Axes:
    """Gantt chart of the schedule: one row per unit, one bar per op (``op, unit, start_s, end_s``)."""
    units = list(dict.fromkeys(frame["unit"]))
    colors = op_colors(frame["op"])
    edge = 0.4 if len(frame) <= 100 else 0.0  # white gaps between many thin bars would hide the bars
    for _, r in frame.iterrows():
        ax.barh(units.index(r["unit"]), r["end_s"] - r["start_s"], left=r["start_s"], color=colors[r["op"]],
                edgecolor="white", linewidth=edge)
    ax.set_yticks(range(len(units)), units)
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(EngFormatter(unit="s"))
    ax.set_xlabel("time from block start")
    ax.set_title("schedule")
    return ax


def _ceilings(arch: dict) -> list[tuple[str, float]]:
    """(label, FLOP/s) per unit and distinct peak, the formats sharing a peak named together."""
    out = []
    for unit, u in (arch.get("units") or {}).items():
        by_peak: dict[float, list[str]] = {}
        for d, peak in (u.get("peak_flops_s") or {}).items():
            by_peak.setdefault(float(peak), []).append(d)
        out += [(f"{unit} {'/'.join(ds)}", p) for p, ds in sorted(by_peak.items(), reverse=True)]
    return out


def _label_clusters(ax: Axes, pts: pd.DataFrame, level: str, dx: float = 0.3, dy: float = 0.15) -> None:
    """Name the ops at their points against ``level``; an op within ``dx`` decades of intensity and ``dy``
    decades of throughput of an already-labelled op joins that label (so labels do not overprint). Call once
    the x limits are set: labels near the right edge put one name a line, so they stay inside the axes."""
    lx = np.log10(pts["flops"] / pts[f"bytes.{level}"]).to_numpy()
    ly = np.log10(pts["achieved_flops_s"]).to_numpy()
    groups: list[list[int]] = []
    for i in np.argsort(lx, kind="stable"):
        home = next((g for g in groups if abs(lx[g[0]] - lx[i]) < dx and abs(ly[g[0]] - ly[i]) < dy), None)
        home.append(i) if home is not None else groups.append([i])
    right_end = np.log10(ax.get_xlim()[1]) - 1.2  # labels of points this near the right edge: one name a line
    for idx in groups:
        names = [pts["op"].iloc[i] for i in idx]
        wrap = lx[idx[0]] > right_end
        sep = ",\n" if wrap else ", "
        text = sep.join(names) if len(names) <= 3 else f"{sep.join(names[:3])} +{len(names) - 3}"
        ax.annotate(text, (10 ** lx[idx[0]], 10 ** ly[idx[0]]), xytext=(6, -6) if wrap else (6, -10),
                    textcoords="offset points", va="top" if wrap else "baseline", fontsize=6.5, color="0.2")


def roofline(frame: pd.DataFrame, ax: Axes, *, arch: dict | None = None, block: tuple[float, float, float] | None
             = None, legend: bool = True) -> Axes:
    """Hierarchical roofline: each op at its arithmetic intensity against every memory level and its achieved
    throughput; ceilings are the units' peak flop rates, slopes the levels' bandwidths.

    Parameters
    ----------
    frame : DataFrame
        ``ops_frame``: ``op, flops, seconds, achieved_flops_s, bytes.<level>``.
    arch : dict, optional
        ``arch_summary`` (default ``frame.attrs["arch_summary"]``).
    block : (flops, off-chip bytes, seconds), optional
        Adds the whole block as a star.
    legend : bool
        Ops, levels and the block in a legend right of the axes (off for narrow figures: ops stay labelled).

    Notes
    -----
    Intensity against level L is ``flops / bytes moved at L`` (Williams, Waterman, Patterson, CACM 2009; one
    point per level as in Yang, Kurth, Williams, "Hierarchical Roofline Analysis", CCPE 2020). Ops without
    flops (copies) have no intensity and are listed under the plot instead.
    """
    arch = arch if arch is not None else frame.attrs.get("arch_summary", {})
    mems = arch.get("memories") or {}
    lvls = [c[len("bytes."):] for c in frame.columns if c.startswith("bytes.")]
    lvls = [lv for lv in mems if lv in lvls] + [lv for lv in lvls if lv not in mems]
    colors = op_colors(frame["op"])
    pts = frame[(frame["flops"] > 0) & (frame["seconds"] > 0)]
    xs, ys = [], []
    for li, lv in enumerate(lvls):
        sub = pts[pts[f"bytes.{lv}"] > 0]
        xs += list(sub["flops"] / sub[f"bytes.{lv}"])
        ys += list(sub["achieved_flops_s"])
        ax.scatter(sub["flops"] / sub[f"bytes.{lv}"], sub["achieved_flops_s"], c=[colors[o] for o in sub["op"]],
                   marker=LEVEL_MARKERS[li % 6], s=36, edgecolors="black", linewidths=0.4, zorder=3)
    has_block = bool(block and block[1] > 0 and block[2] > 0)
    if has_block:
        xs.append(block[0] / block[1])
        ys.append(block[0] / block[2])
        ax.scatter([block[0] / block[1]], [block[0] / block[2]], marker="*", s=260, c="gold", edgecolors="black",
                   zorder=2.5, alpha=0.8)
    _roofs(ax, arch, lvls, xs, ys)
    if lvls:
        _label_clusters(ax, pts[pts[f"bytes.{lvls[-1]}"] > 0], lvls[-1])
    if legend:
        _roofline_legend(ax, list(pts["op"]), colors, lvls, mems, has_block)
    skipped = list(dict.fromkeys(frame.loc[frame["flops"] <= 0, "op"]))
    if skipped:
        more = f" +{len(skipped) - 4} more" if len(skipped) > 5 else ""
        ax.text(0.01, 0.01, "not shown (no flops): " + ", ".join(skipped[:4] if more else skipped) + more,
                transform=ax.transAxes, fontsize=7, color="0.3")
    return ax


def _ceiling_side(p: float, lo: float, hi: float, xs: list[float], ys: list[float]) -> str:
    """Which end of the ceiling at ``p`` FLOP/s its label goes: the right unless more plotted points sit near
    the label there (within 2.5 decades of the end and 0.35 decades of the line) than at the left (on the
    H100 the tf32 and fp32 labels ran under the GEMMs' points)."""
    x, y = np.log10(np.asarray(xs, float)), np.log10(np.asarray(ys, float))
    near = np.abs(y - np.log10(p)) < 0.35
    right = int((near & (x > np.log10(hi) - 2.5)).sum())
    left = int((near & (x < np.log10(lo) + 2.5)).sum())
    return "left" if left < right else "right"


def _roofs(ax: Axes, arch: dict, lvls: list[str], xs: list[float], ys: list[float]) -> None:
    """Bandwidth slopes (one line style per level) up to the highest peak, peak ceilings, log axes whose
    range holds every point (``xs``, ``ys``: every plotted point) and every ridge point."""
    mems = arch.get("memories") or {}
    ceil = _ceilings(arch)
    peaks = [p for _, p in ceil] or [max(ys + [1.0])]
    ridges = [p / float(mems[lv]["bandwidth_bytes_s"]) for p in peaks for lv in lvls if lv in mems]
    lo, hi = min(xs + ridges + [1.0]) / 4, max(xs + ridges + [1.0]) * 4
    xx = np.geomspace(lo, hi, 200)
    for i, lv in enumerate(lvls):
        if lv in mems:
            ax.plot(xx, np.minimum(float(mems[lv]["bandwidth_bytes_s"]) * xx, max(peaks)), color="0.25", lw=1.0,
                    ls=LINE_STYLES[i % 4])
    for label, p in ceil:
        ax.axhline(p, color="firebrick", lw=0.8, alpha=0.8)
        side = _ceiling_side(p, lo, hi, xs, ys)
        ax.annotate(f"{label}: {eng(p, 'FLOP/s')}", (hi if side == "right" else lo, p), ha=side, va="bottom",
                    fontsize=7, color="firebrick", xytext=(-2 if side == "right" else 2, 1), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(min(ys + [max(peaks) / 1e3]) / 4, max(peaks) * 3)
    ax.yaxis.set_major_formatter(EngFormatter(unit="FLOP/s"))
    ax.set_xlabel("arithmetic intensity (FLOP/B at each level)")
    ax.set_ylabel("achieved throughput")
    ax.set_title("roofline")


MAX_LEGEND_OPS = 30  # a taller legend than the axes squeezes them to nothing; the ops stay labelled at their points


def _roofline_legend(ax: Axes, ops: list[str], colors: dict, lvls: list[str], mems: dict, block: bool) -> None:
    ops = list(dict.fromkeys(ops))
    handles = [Line2D([], [], marker="o", ls="", color=colors[o], markeredgecolor="black", label=o)
               for o in (ops if len(ops) <= MAX_LEGEND_OPS else ())]
    handles += [Line2D([], [], marker=LEVEL_MARKERS[i % 6], ls=LINE_STYLES[i % 4], color="0.25",
                       label=f"vs {lv}" + (f": {eng(float(mems[lv]['bandwidth_bytes_s']), 'B/s')}"
                                           if lv in mems else "")) for i, lv in enumerate(lvls)]
    if block:
        handles.append(Line2D([], [], marker="*", ls="", color="gold", markeredgecolor="black", markersize=11,
                              label="block vs off-chip"))
    ax.legend(handles=handles, fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)


# ---- sweeps -------------------------------------------------------------------------------------------
METRICS = {"latency_s": ("latency", "s"), "energy_j": ("energy", "J"), "area_mm2": ("area", "mm²"),
           "flops": ("flops", "FLOP"), "dram_bytes": ("off-chip traffic", "B"), "utilization": ("utilization", "")}


def _axis_format(ax: Axes, axis: str, values, unit: str, log: bool | None = None) -> None:
    """Engineering-prefixed ticks; a log scale when ``log`` or, if None, when ``values`` span >= 10x, labelled
    at 1, 2 and 5 per decade up to 3 decades and at powers of ten beyond (wider spans' labels would touch)."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v) & (v > 0)]
    a = ax.xaxis if axis == "x" else ax.yaxis
    if log or (log is None and len(v) and v.max() / v.min() >= 10):
        (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
        decades = np.log10(v.max() / v.min()) if len(v) else 0.0
        a.set_major_locator(mpl.ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0) if decades <= 3 else (1.0,)))
        a.set_minor_formatter(mpl.ticker.NullFormatter())
    a.set_major_formatter(EngFormatter(unit=unit))


def pareto_scatter(frame: pd.DataFrame, ax: Axes, *, x: str = "latency_s", y: str = "energy_j",
                   color: str = "area_mm2") -> Axes:
    """Sweep points (the results contract's columns), ``x`` against ``y`` coloured by ``color``; each block's
    front (no point better in both) is ringed in red and joined by a step line. Failed points are counted."""
    ok = ok_points(frame)
    blocks = list(dict.fromkeys(ok["block"]))
    norm = mpl.colors.Normalize(ok[color].min(), ok[color].max())
    on_front = 0
    for i, b in enumerate(blocks):
        sub = ok[ok["block"] == b]
        sc = ax.scatter(sub[x], sub[y], c=sub[color], cmap="viridis", norm=norm, s=18, alpha=0.85,
                        marker=LEVEL_MARKERS[i % 6], linewidths=0)
        m = pareto_mask(sub[x].to_numpy(), sub[y].to_numpy())
        on_front += int(m.sum())
        front = sub[m].sort_values(x)
        ax.step(front[x], front[y], where="post", color="firebrick", lw=1.0, zorder=2)
        ax.scatter(front[x], front[y], s=60, facecolors="none", edgecolors="firebrick", linewidths=1.2, zorder=3)
    if blocks:
        ax.figure.colorbar(sc, ax=ax, label=f"{METRICS.get(color, (color, ''))[0]} ({METRICS.get(color, ('', ''))[1]})")
    for axis, col in (("x", x), ("y", y)):
        name, unit = METRICS.get(col, (col, ""))
        _axis_format(ax, axis, ok[col], unit)
        getattr(ax, f"set_{axis}label")(name)
    failed = len(frame) - len(ok)
    ax.set_title(f"{len(ok)} points, {on_front} on the front" + (f", {failed} failed" if failed else ""))
    if len(blocks) > 1:
        ax.legend(handles=[Line2D([], [], marker=LEVEL_MARKERS[i % 6], ls="", color="0.35", label=b)
                           for i, b in enumerate(blocks)], fontsize=7, frameon=False)
    return ax


def _param_axis(ax: Axes, values: np.ndarray, unit: str = "", labels: dict | None = None) -> None:
    """x axis for a numeric parameter: log2 for powers of two, log10 for other positive values spread >= 4x
    (a swept range that wide is nearly always geometric: 0.4, 0.8, 1.6, 3.2 TB/s on a linear axis put the first
    two labels on top of each other), ticks at the values themselves (as :func:`value_label` writes them) when
    there are few."""
    pos = len(values) > 1 and values.min() > 0
    wide = pos and values.max() / values.min() >= 4
    if wide and np.all(np.log2(values) == np.round(np.log2(values))):
        ax.set_xscale("log", base=2)
    elif wide:
        ax.set_xscale("log")
    if len(values) <= 8:
        ax.set_xticks(values, [value_label(v, unit, labels) for v in values])
        ax.xaxis.set_minor_locator(mpl.ticker.NullLocator())
    elif unit:
        ax.xaxis.set_major_formatter(EngFormatter(unit=unit))


def sensitivity(frame: pd.DataFrame, ax: Axes, *, param: str, metric: str = "latency_s", unit: str = "",
                labels: dict | None = None) -> Axes:
    """``metric`` against one swept ``param``: the median over the other parameters, shaded from min to max,
    one line per block. Numeric parameters get a numeric (log when spread >= 4x) axis, others categories.
    ``unit`` and ``labels`` (value -> text, e.g. ``{8388608.0: "8MiB"}`` from the space file,
    :func:`hwsim.sweep.space.written_values`) label the parameter's ticks."""
    ok = ok_points(frame)
    numeric = pd.api.types.is_numeric_dtype(ok[param]) and not pd.api.types.is_bool_dtype(ok[param])
    cats = sorted(ok[param].dropna().unique(), key=str) if not numeric else []
    for i, (b, sub) in enumerate(ok.groupby("block", sort=False)):
        g = sub.groupby(param)[metric].agg(["median", "min", "max"])
        g = g.sort_index() if numeric else g.reindex([c for c in cats if c in g.index])
        xv = g.index.to_numpy(float) if numeric else np.array([cats.index(c) for c in g.index], float)
        color = mpl.colormaps["tab10"](i % 10)
        ax.plot(xv, g["median"], marker="o", color=color, label=str(b))
        ax.fill_between(xv, g["min"], g["max"], color=color, alpha=0.18, lw=0)
    if numeric:
        _param_axis(ax, np.unique(ok[param].to_numpy(float)), unit, labels)
    else:
        ax.set_xticks(range(len(cats)), [str(c) for c in cats])
    name, unit = METRICS.get(metric, (metric, ""))
    _axis_format(ax, "y", ok[metric], unit)
    ax.set_xlabel(param)
    ax.set_ylabel(name)
    ax.set_title(f"{name} vs {param}", fontsize=9)
    if ok["block"].nunique() > 1:
        ax.legend(fontsize=7, frameon=False)
    return ax


# ---- validation ---------------------------------------------------------------------------------------
def parity_plot(measured, predicted, ax: Axes, *, measured_label: str = "measured", predicted_label: str =
                "predicted", unit: str = "s", groups=None, band: float = 0.25) -> Axes:
    """Predicted against measured on log-log axes, with the y = x line, a +-``band`` corridor and the mean
    absolute percentage error; ``groups`` (one label per row) colours the points."""
    m, p = np.asarray(measured, float), np.asarray(predicted, float)
    labels = np.asarray(groups if groups is not None else [""] * len(m), dtype=object)
    for i, g in enumerate(dict.fromkeys(labels)):
        sel = labels == g
        ax.scatter(m[sel], p[sel], s=16, alpha=0.8, color=mpl.colormaps["tab10"](i % 10), label=g or None,
                   edgecolors="none")
    lo, hi = min(m.min(), p.min()) / 1.5, max(m.max(), p.max()) * 1.5
    xx = np.array([lo, hi])
    ax.plot(xx, xx, color="black", lw=1, label="y = x")
    for f in (1 - band, 1 + band):
        ax.plot(xx, xx * f, color="0.4", lw=0.8, ls="--")
    for axis in ("x", "y"):
        _axis_format(ax, axis, [lo, hi], unit, log=True)
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")
    ax.set_xlabel(measured_label)
    ax.set_ylabel(predicted_label)
    ape = np.abs(p - m) / m
    ax.set_title(f"n = {len(m)}, MAPE {100 * ape.mean():.1f}%, {100 * (ape <= band).mean():.0f}% within "
                 f"±{100 * band:.0f}%", fontsize=9)
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    return ax


def parity(frame: pd.DataFrame, ax: Axes, *, measured: str = "seconds", predicted: str = "pred_seconds",
           group: str | None = "kind") -> Axes:
    """:func:`parity_plot` of two columns of a validation frame, coloured by ``group`` when it is a column."""
    groups = frame[group].astype(str).to_numpy() if group and group in frame.columns else None
    return parity_plot(frame[measured], frame[predicted], ax, measured_label=f"measured ({measured})",
                       predicted_label=f"predicted ({predicted})", groups=groups)
