"""What each efficient-transformer variant buys: the rows of variant sweeps, side by side per architecture.

Reads `hwsim sweep` results directories (``hwsim.sweep.store.read_results``) of the spaces
``arch_configs/spaces/variants_*.yaml`` run on several architectures, groups them by space, and prints one
table per space: a row per (swept values, block), and per arch the block's latency, energy and area with the
ratio to the baseline row, the point where every parameter takes its first listed value (dense, bf16, no
skipping, no unit support), of the same block and arch. Nothing is computed here; values are per block (one
layer), as the sweep stores them. A row with an error shows the start of its message.

    python scripts/variant_effects.py results/variants/*            # tables
    python scripts/variant_effects.py results/variants/* --format csv
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import pandas as pd

from hwsim.api import format_si, load_space, read_results, text_table, value_text


def _column(p, v) -> object:
    return value_text(v) if p.kind == "struct" else v


def load(dirs: list[str]) -> dict[tuple[str, ...], pd.DataFrame]:
    """Rows of every results directory with ``arch`` and ratio columns, grouped by the swept parameters and
    sorted as the space lists the values (then the blocks as the sweep lists them)."""
    groups: dict[tuple[str, ...], list[pd.DataFrame]] = {}
    for d in dirs:
        meta = json.loads((Path(d) / "meta.json").read_text())
        space = load_space(Path(d) / "space.yaml")
        params = list(meta["params"])
        df = read_results(d).assign(arch=Path(meta["arch"]).stem)
        order = {p: [_column(space.params[p], v) for v in space.params[p].grid()] for p in params}
        base = df[(df[params] == pd.Series({p: order[p][0] for p in params})).all(axis=1)]
        ref = base.set_index("block")[["latency_s", "energy_j"]]
        df["latency_x"] = df["latency_s"] / df["block"].map(ref["latency_s"])
        df["energy_x"] = df["energy_j"] / df["block"].map(ref["energy_j"])
        rank = [df[p].map({v: i for i, v in enumerate(order[p])}) for p in params]
        blocks = list(dict.fromkeys(df["block"]))
        df = df.assign(_rank=list(zip(*rank, df["block"].map(blocks.index)))).sort_values("_rank", kind="stable")
        groups.setdefault(tuple(params), []).append(df.drop(columns="_rank"))
    return {k: pd.concat(v, ignore_index=True) for k, v in groups.items()}


def _error(text: str) -> str:
    m = re.search(r"no unit of \S+ can run op \S+ \((\w+), (\w+)\)", text)
    return f"error: no {m.group(2)} {m.group(1)} unit" if m else "error: " + text[:30]


def _cells(row, area: bool) -> list[str]:
    if isinstance(row["error"], str):
        return [_error(row["error"]), ""] + [""] * area
    return [f"{format_si(row['latency_s'], 's')} ({row['latency_x']:.2f})",
            f"{format_si(row['energy_j'], 'J')} ({row['energy_x']:.2f})"] + [f"{row['area_mm2']:.1f}"] * area


def table(params: tuple[str, ...], df: pd.DataFrame) -> str:
    """One space's rows: swept values and block, then latency (x base), energy (x base) and, where it varies,
    area per arch; an area that no swept value changes, and a parameter with one value, are given once, under
    the table."""
    archs = list(dict.fromkeys(df["arch"]))
    fixed_params = [p for p in params if df[p].nunique(dropna=False) == 1 and len(params) > 1]
    params = tuple(p for p in params if p not in fixed_params)  # a one-value parameter is stated once, below
    keys = list(params) + ["block"]
    fixed = {a: df.loc[(df.arch == a) & df.error.isna(), "area_mm2"].unique() for a in archs}
    fixed = {a: v[0] for a, v in fixed.items() if len(v) == 1}
    head = [p.rsplit(".", 1)[-1] for p in params] + ["block"]  # the field's name (the path is in the space)
    for a in archs:
        head += [f"{a} latency (x)", "energy (x)"] + ["mm2"] * (a not in fixed)
    rows = []
    for key, sub in df.groupby(keys, sort=False):
        by_arch = sub.set_index("arch")
        cells = [str(v) for v in key]
        for a in archs:
            cells += _cells(by_arch.loc[a], a not in fixed) if a in by_arch.index else ["-", "-"]
        rows.append(cells)
    lines = text_table(head, rows, "l" * len(keys) + "r" * (len(head) - len(keys)))
    if fixed:
        lines.append("area (no swept value changes it): " + ", ".join(f"{a} {v:.1f} mm2" for a, v in fixed.items()))
    lines += [f"every row: {p} = {df[p].iloc[0]}" for p in fixed_params]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", nargs="+", help="results directories of hwsim sweep")
    ap.add_argument("--format", choices=["table", "csv"], default="table")
    args = ap.parse_args(argv)
    groups = load(args.results)
    for params, df in groups.items():
        if args.format == "csv":
            cols = ["arch", *params, "block", "latency_s", "energy_j", "area_mm2", "latency_x", "energy_x", "error"]
            sys.stdout.write(df[cols].to_csv(index=False))
        else:
            print(table(params, df) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
