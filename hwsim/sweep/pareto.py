"""Pareto fronts: the design points no other point beats on every objective at once.

Point p dominates q when p is no worse than q on every objective and strictly better on at least one
(all objectives minimised; a maximised one is negated). After sorting the points lexicographically by
their objective vectors, no point can be dominated by a later one (it would have to be lexicographically
smaller), so one pass that keeps each point not dominated by the front kept so far is exact
("simple cull", Kung, Luccio & Preparata 1975 give the O(n log n) versions for 2-3 objectives).
Equal objective vectors do not dominate each other: all of them stay on the front.
"""

from __future__ import annotations

import numpy as np

from hwsim.errors import HwsimError

ALIASES = {"latency": "latency_s", "energy": "energy_j", "area": "area_mm2", "dram": "dram_bytes"}


def non_dominated(values: np.ndarray) -> np.ndarray:
    """Boolean mask of the rows of ``values`` (n points x k objectives, minimised) on the Pareto front.

    >>> non_dominated(np.array([[1, 4], [2, 2], [3, 3], [4, 1], [2, 2]])).tolist()
    [True, True, False, True, True]
    """
    v = np.asarray(values, dtype=float)
    n = len(v)
    keep = np.zeros(n, dtype=bool)
    if n == 0:
        return keep
    order = np.lexsort(v.T[::-1])
    front = np.empty_like(v)
    size = 0
    for i in order:
        q = v[i]
        f = front[:size]
        if size and np.any(np.all(f <= q, axis=1) & np.any(f < q, axis=1)):
            continue
        front[size] = q
        size += 1
        keep[i] = True
    return keep


def parse_objectives(text: str | list[str]) -> list[tuple[str, bool]]:
    """``"latency,energy,utilization:max"`` -> ``[("latency_s", False), ("energy_j", False),
    ("utilization", True)]`` (column, maximise)."""
    items = text.split(",") if isinstance(text, str) else list(text)
    out = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        name, _, sense = item.partition(":")
        if sense not in ("", "min", "max"):
            raise HwsimError(f"objective {item!r}: direction must be min or max")
        out.append((ALIASES.get(name, name), sense == "max"))
    if not out:
        raise HwsimError("give at least one objective, e.g. latency,energy,area")
    return out


def pareto_front(df, objectives: str | list[str], by: str | None = "block"):
    """Rows of ``df`` on the Pareto front of ``objectives``, computed separately for each value of ``by``.

    Rows with an error or a missing objective are left out. Returns the rows sorted by ``by`` and the first
    objective.
    """
    import pandas as pd

    objs = parse_objectives(objectives)
    cols = [c for c, _ in objs]
    numeric = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])]
    bad = next((c for c in cols if c not in numeric), None)
    if bad is not None:
        what = "no column" if bad not in df.columns else "not a numeric column"
        raise HwsimError(f"{what} {bad!r} in the results (objectives: latency, energy, area or any of "
                         f"{', '.join(numeric)})")
    ok = df[cols].notna().all(axis=1)
    if "error" in df.columns:
        ok &= df["error"].isna()
    d = df[ok]
    parts = [d] if by is None or by not in d.columns else [g for _, g in d.groupby(by, sort=True)]
    kept = []
    for g in parts:
        vals = np.column_stack([-g[c].to_numpy(float) if mx else g[c].to_numpy(float) for c, mx in objs])
        kept.append(g[non_dominated(vals)])
    front = pd.concat(kept) if kept else d.iloc[:0]
    keys = ([by] if by in front.columns else []) + [cols[0]]
    return front.sort_values(keys, kind="stable").reset_index(drop=True)
