"""Synthetic inputs for report tests: a sweep results directory following the sweep contract
(space.yaml, meta.json, chunks/part-*.parquet). Its numbers are closed forms so the front is known by hand."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd

ROWS = (32, 64, 128, 256)
BWS = (0.4e12, 0.8e12, 1.6e12)


def sweep_points() -> pd.DataFrame:
    """24 points (2 blocks x 4 rows x 3 bandwidths) + 1 failed point (+ 1 pruned row and 1 duplicate row).

    latency_s = s * (1e-3 * 32 / rows + 1e-4 * 0.8e12 / bw), energy_j = s * (1e-4 * rows / 32 + 2e-4 * bw / 0.8e12),
    area_mm2 = 10 + rows^2 / 1000 + bw / 1e11, with s = 1 (decode) or 4 (prefill). Both terms of each cost move
    in opposite directions with rows and bw, so every point trades latency for energy differently."""
    rows = []
    for (block, s), r, bw in itertools.product((("decode", 1.0), ("prefill", 4.0)), ROWS, BWS):
        lat = s * (1e-3 * 32 / r + 1e-4 * 0.8e12 / bw)
        en = s * (1e-4 * r / 32 + 2e-4 * bw / 0.8e12)
        rows.append({"point_id": f"{block}-{r}-{bw:.0e}", "block": block, "units.mxu.rows": r,
                     "memories.hbm.bandwidth": bw, "latency_s": lat, "energy_j": en,
                     "energy_j.dram.hbm": 0.7 * en, "energy_j.compute.mxu": 0.3 * en,
                     "area_mm2": 10 + r * r / 1000 + bw / 1e11, "area_mm2.mxu": r * r / 1000,
                     "flops": 1e9 * s, "dram_bytes": 1e8 * s, "utilization": 0.5, "bound": "memory", "error": None})
    rows.append({"point_id": "decode-bad", "block": "decode", "units.mxu.rows": 512, "memories.hbm.bandwidth": 0.8e12,
                 "latency_s": np.nan, "energy_j": np.nan, "area_mm2": np.nan, "bound": None,
                 "error": "units.mxu.rows: 512 rows do not fit the die"})
    f = pd.DataFrame(rows)
    f["pruned"] = None
    # a row a constraint pruned, and a row written twice (a resumed sweep): neither may reach a report
    pruned = {**rows[0], "point_id": "decode-pruned", "pruned": "area_mm2 <= 100", "latency_s": 1e-9,
              "energy_j": 1e-9}
    return pd.concat([f, pd.DataFrame([pruned]), f.iloc[[1]]], ignore_index=True)


def write_sweep_dir(path: Path, points: pd.DataFrame, meta: dict | None = None, chunks: int = 2) -> Path:
    """A results directory following the sweep contract: space.yaml, meta.json, chunks/part-*.parquet."""
    (path / "chunks").mkdir(parents=True, exist_ok=True)
    (path / "space.yaml").write_text("params:\n  units.mxu.rows: [32, 64, 128, 256]\n"
                                     "  memories.hbm.bandwidth: [0.4TB/s, 0.8TB/s, 1.6TB/s]\n")
    meta = meta or {"arch": "npu_128", "workloads": ["llama2_7b"], "engine": "analytical", "n_points": 13,
                    "created": "2026-11-23T00:00:00+00:00", "params": ["units.mxu.rows", "memories.hbm.bandwidth"]}
    (path / "meta.json").write_text(json.dumps(meta))
    for i, part in enumerate(np.array_split(np.arange(len(points)), chunks)):
        points.iloc[part].to_parquet(path / "chunks" / f"part-{i:04d}.parquet", index=False)
    return path
