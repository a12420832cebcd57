"""Tidy tables a report shows and writes as CSV: per-op costs, energy and area shares, sweep fronts,
parity statistics. Pure functions of a run's JSON document or a points frame; SI units in column names.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

SWEEP_FIXED = {"point_id", "block", "error", "pruned", "bound", "latency_s", "energy_j", "area_mm2", "flops",
               "dram_bytes", "utilization"}


def levels(run: dict) -> list[str]:
    """Memory levels innermost first: from ``arch_summary`` when present, else as the ops name them."""
    mem = (run.get("arch_summary") or {}).get("memories") or {}
    if mem:
        return list(mem)
    seen: list[str] = []
    for op in run["ops"]:
        seen += [lv for lv in op.get("bytes", {}) if lv not in seen]
    return seen


def off_chip_level(run: dict) -> str | None:
    """The outermost memory level (the spec's last level is off-chip)."""
    lv = levels(run)
    return lv[-1] if lv else None


def ops_frame(run: dict) -> pd.DataFrame:
    """One row per op, in the block's order.

    Columns: ``op, kind, unit, bound, flops, seconds, compute_s, stall_s, energy_j, energy_j.<component>,
    utilization, bytes.<level>, dram_bytes, achieved_flops_s``. ``compute_s`` is the share of the op's time its
    compute pipeline needs (``seconds x compute_cycles / cycles``); ``stall_s`` the rest (waiting on memory or
    overhead). ``attrs["arch_summary"]`` and ``attrs["levels"]`` travel with the frame for the roofline.

    Examples
    --------
    >>> run = {"ops": [{"name": "mm", "kind": "gemm", "unit": "mxu", "flops": 8.0, "seconds": 4.0,
    ...                 "cycles": 4, "compute_cycles": 1, "energy_j": 2.0, "bytes": {"hbm": 2.0}}]}
    >>> f = ops_frame(run)
    >>> float(f.compute_s[0]), float(f.stall_s[0]), float(f.achieved_flops_s[0]), float(f.dram_bytes[0])
    (1.0, 3.0, 2.0, 2.0)
    """
    lvls = levels(run)
    rows = []
    for op in run["ops"]:
        cycles = float(op.get("cycles") or 0.0)
        frac = min(float(op.get("compute_cycles", cycles)) / cycles, 1.0) if cycles > 0 else 1.0
        sec = float(op["seconds"])
        row: dict[str, Any] = {"op": op["name"], "kind": op.get("kind", ""), "unit": op["unit"],
                               "bound": op.get("bound", ""), "flops": float(op["flops"]), "seconds": sec,
                               "compute_s": sec * frac, "stall_s": sec * (1.0 - frac),
                               "energy_j": float(op["energy_j"]), "utilization": float(op.get("utilization", 0.0))}
        row.update({f"energy_j.{k}": float(v) for k, v in (op.get("energy_j_by_component") or {}).items()})
        row.update({f"bytes.{lv}": float(op.get("bytes", {}).get(lv, 0.0)) for lv in lvls})
        row["dram_bytes"] = row.get(f"bytes.{lvls[-1]}", 0.0) if lvls else 0.0
        row["achieved_flops_s"] = row["flops"] / sec if sec > 0 else 0.0
        rows.append(row)
    f = pd.DataFrame(rows)
    f = f.fillna({c: 0.0 for c in f.columns if c.startswith("energy_j.")})
    f.attrs["arch_summary"] = run.get("arch_summary") or {}
    f.attrs["levels"] = lvls
    return f


# Ops of an interleaved step are named l<k>.sb<s>.<op> (layer k, sub-batch s; hwsim/workload/interleave.py).
REPLICA_PREFIX = re.compile(r"^l\d+\.(?:sb\d+\.)?")
# More ops than this in a run (a NeuPIMs step unrolls 40 layers x 2 sub-batches: 1,040 ops) and the per-op
# figures show the replicas of each block op summed (one bar per op stays readable up to about this many).
MAX_OPS_DRAWN = 40


def base_op(name: str) -> str:
    """The block op a replicated op stands for: ``base_op("l07.sb1.qkv_proj") == "qkv_proj"``."""
    return REPLICA_PREFIX.sub("", name)


def sum_replicas(ops: pd.DataFrame) -> pd.DataFrame:
    """``ops_frame`` with the replicas of each block op on each unit (``l<k>.sb<s>.<op>``) summed into one row
    named ``<op>``, in order of first appearance: flops, times, energies and bytes add up; ``utilization`` is
    the time-weighted mean and ``bound`` the longest replica's. A sum of ops obeys every roofline its parts
    obey (sum bytes <= bandwidth x sum seconds when each does), so the grouped points stay valid.

    Examples
    --------
    >>> f = ops_frame({"ops": [{"name": f"l{k}.sb{b}.mm", "unit": "u", "flops": 4.0, "seconds": 1.0 + k,
    ...                         "energy_j": 1.0, "utilization": 0.5 * k} for k in (0, 1) for b in (0, 1)]})
    >>> g = sum_replicas(f)
    >>> g.op.tolist(), float(g.seconds[0]), float(g.flops[0]), float(g.achieved_flops_s[0]), float(g.utilization[0])
    (['mm'], 6.0, 16.0, 2.6666666666666665, 0.3333333333333333)
    """
    f = ops.assign(op=[base_op(n) for n in ops["op"]], _w=ops["utilization"] * ops["seconds"])
    add = [c for c in f.columns if c in ("flops", "seconds", "compute_s", "stall_s", "energy_j", "dram_bytes", "_w")
           or c.startswith(("energy_j.", "bytes."))]
    keys = ["op", "unit"]
    g = f.groupby(keys, sort=False)
    out = g[add].sum().reset_index()
    first = f.loc[g["seconds"].idxmax(), keys + ["kind", "bound"]]
    out = out.merge(first, on=keys, how="left")
    out["utilization"] = np.where(out["seconds"] > 0, out["_w"] / out["seconds"].where(out["seconds"] > 0, 1.0), 0.0)
    out["achieved_flops_s"] = np.where(out["seconds"] > 0, out["flops"] / out["seconds"].where(out["seconds"] > 0, 1.0),
                                       0.0)
    out = out.drop(columns="_w")[[c for c in ops.columns]]
    out.attrs.update(ops.attrs)
    return out


def ops_to_draw(ops: pd.DataFrame) -> pd.DataFrame:
    """What per-op figures draw: every op, or past :data:`MAX_OPS_DRAWN` ops the replicas of each block op
    summed (:func:`sum_replicas`)."""
    return ops if len(ops) <= MAX_OPS_DRAWN else sum_replicas(ops)


def _shares(values: dict[str, float], key: str, unit_col: str) -> pd.DataFrame:
    total = sum(values.values()) or 1.0
    f = pd.DataFrame([{key: k, unit_col: float(v), "share": float(v) / total} for k, v in values.items()])
    return f.sort_values(unit_col, ascending=False, ignore_index=True)


def energy_frame(run: dict) -> pd.DataFrame:
    """Block energy by component (``component, energy_j, share``), largest first; shares sum to 1."""
    return _shares(dict(run["block"].get("energy_j_by_component") or {}), "component", "energy_j")


def area_frame(run: dict) -> pd.DataFrame:
    """Die area by component (``component, area_mm2, share``), largest first; shares sum to 1."""
    return _shares(dict(run["area_mm2"].get("by_component") or {}), "component", "area_mm2")


def headline_frame(run: dict) -> pd.DataFrame:
    """The block's totals: ``quantity, value, unit`` (latency, energy, the model's layers, area, flops, traffic)."""
    b, m = run["block"], run.get("model") or {}
    sec = float(b["seconds"])
    layers = f"{m.get('layers', 1)} layer" + ("s" if m.get("layers", 1) != 1 else "")
    rows = [("block latency", sec, "s"), ("block energy", b["energy_j"], "J"),
            ("average power", b["energy_j"] / sec if sec else 0.0, "W"),
            ("block flops", b.get("flops", 0.0), "FLOP"),
            ("achieved throughput", b.get("flops", 0.0) / sec if sec else 0.0, "FLOP/s"),
            ("off-chip traffic", b.get("dram_bytes", 0.0), "B"),
            (f"model latency ({layers})", m.get("seconds", sec), "s"),
            (f"model energy ({layers})", m.get("energy_j", b["energy_j"]), "J"),
            ("die area", run["area_mm2"]["total"], "mm^2")]
    return pd.DataFrame(rows, columns=["quantity", "value", "unit"])


# ---- sweeps -------------------------------------------------------------------------------------------
def sweep_params(points: pd.DataFrame, meta: dict | None = None) -> list[str]:
    """Swept parameter columns: ``meta["params"]`` when the sweep's meta.json lists them, else every column
    that is not an output, an id or a per-component breakdown."""
    if meta and meta.get("params"):
        return [c for c in meta["params"] if c in points.columns]
    return [c for c in points.columns
            if c not in SWEEP_FIXED and not c.startswith(("energy_j.", "area_mm2."))]


def ok_points(points: pd.DataFrame) -> pd.DataFrame:
    """Points without an error and with finite positive latency and energy."""
    err = points["error"].isna() | (points["error"].astype("string").fillna("") == "")
    good = err & (points["latency_s"] > 0) & (points["energy_j"] > 0)
    good &= np.isfinite(points["latency_s"]) & np.isfinite(points["energy_j"])
    return points[good].reset_index(drop=True)


def pareto_mask(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """True where no other point is at least as good in both x and y and better in one (both minimised).
    Equal points do not dominate each other, so duplicates of a front point are on the front too (as in
    :mod:`hwsim.sweep.pareto`).

    Examples
    --------
    >>> pareto_mask(np.array([1.0, 2.0, 3.0, 2.0, 1.0]), np.array([3.0, 1.0, 0.5, 2.0, 3.0])).tolist()
    [True, True, True, False, True]
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    mask = np.zeros(len(x), bool)
    best = (np.nan, np.inf)  # the last point kept, in order of x then y
    for i in np.lexsort((y, x)):
        if y[i] < best[1] or (x[i], y[i]) == best:
            mask[i] = True
            best = (x[i], y[i])
    return mask


def pareto_frame(points: pd.DataFrame, params: list[str] | None = None) -> pd.DataFrame:
    """Points on the latency-energy front of their block, sorted by block then latency."""
    ok = ok_points(points)
    keep = np.zeros(len(ok), bool)
    for _, idx in ok.groupby("block", sort=False).indices.items():
        keep[idx] = pareto_mask(ok["latency_s"].to_numpy()[idx], ok["energy_j"].to_numpy()[idx])
    cols = ["block", "point_id", *(params if params is not None else sweep_params(ok)), "latency_s", "energy_j",
            "area_mm2"]
    return ok[keep][cols].sort_values(["block", "latency_s"], ignore_index=True)


def sensitivity_frame(points: pd.DataFrame, param: str, metrics=("latency_s", "energy_j", "area_mm2")
                      ) -> pd.DataFrame:
    """For each block and value of ``param``: median, min and max of each metric over the other parameters."""
    ok = ok_points(points)
    g = ok.groupby(["block", param], sort=True)[list(metrics)]
    out = pd.concat({"median": g.median(), "min": g.min(), "max": g.max()}, axis=1)
    out.columns = [f"{m}.{stat}" for stat, m in out.columns]
    return out.reset_index()


# ---- validation ---------------------------------------------------------------------------------------
def parity_stats(measured: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Error of predictions against measurements (both > 0).

    Returns ``n``, ``mape`` (mean |pred - meas| / meas), ``median_ape``, ``max_ape``,
    ``within_10pct``/``within_25pct`` (fraction of rows), ``log_bias`` (geometric-mean ratio pred/meas).

    Examples
    --------
    >>> s = parity_stats(np.array([1.0, 2.0, 4.0]), np.array([1.1, 2.0, 2.0]))
    >>> round(s["mape"], 4), s["within_10pct"], round(s["max_ape"], 2)
    (0.2, 0.6666666666666666, 0.5)
    """
    m, p = np.asarray(measured, float), np.asarray(predicted, float)
    ape = np.abs(p - m) / m
    return {"n": float(len(m)), "mape": float(ape.mean()), "median_ape": float(np.median(ape)),
            "max_ape": float(ape.max()), "within_10pct": float((ape <= 0.10 + 1e-12).mean()),
            "within_25pct": float((ape <= 0.25 + 1e-12).mean()), "log_bias": float(np.exp(np.log(p / m).mean()))}


def parity_frame(frame: pd.DataFrame, measured: str, predicted: str, group: str | None = None) -> pd.DataFrame:
    """:func:`parity_stats` for all rows and, when ``group`` is a column, for each of its values."""
    rows = [{"group": "all", **parity_stats(frame[measured], frame[predicted])}]
    if group and group in frame.columns:
        for k, sub in frame.groupby(group, sort=True):
            rows.append({"group": str(k), **parity_stats(sub[measured], sub[predicted])})
    return pd.DataFrame(rows)
