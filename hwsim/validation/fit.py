"""Fitting the GPU model's physical constants to measured rows (used by scripts/fit_h100.py).

Protocol (docs/gpu.md, "Calibration"): the constants are fitted in groups, each to the rows that determine it
(:data:`GROUPS`), by least squares on ``log(predicted / measured)`` with a soft-L1 loss, cycling over the groups
until they settle (power-cap and per-kernel terms couple them). Fit rows: h100_calibration.csv minus
:data:`HELD_OUT`, plus h100_microbench.csv (GPU-only time from CUDA-graph replay, and NVML energy). Nothing is
fitted per shape: every constant is a bandwidth, an efficiency, a rate, an overhead or an energy per action.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from hwsim.arch.loader import arch_from_dict
from hwsim.arch.spec import ArchSpec
from hwsim.validation.cases import Case, single_op_workload, parse_case
from hwsim.validation.estimate import predict_case
from hwsim.workload.ops import DType, Op, OpKind, TensorRole, TensorSpec

# Calibration rows kept out of every fit, to measure the error on unseen shapes of the fitted kinds.
HELD_OUT = frozenset({
    *(("gemm", f"{m}x{kn}") for kn in ("768x2304", "768x768", "768x3072", "3072x768", "8192x10240", "8192x8192",
                                        "8192x57344", "28672x8192") for m in (32, 2048)),
    ("gemm", "4096x4096x4096"), ("attn_prefill", "8x32x2048x128"), ("attn_prefill", "1x12x512x64"),
    ("attn_decode", "1x32x8192x128"), ("copy", "536870912"), ("block_decode", "B1_L512"),
})
HELD_OUT_DTYPES = {("gemm", "4096x4096x4096"): ("bf16", "int8")}


def is_held_out(kind: str, dtype: str, shape: str) -> bool:
    key = (kind, shape)
    return key in HELD_OUT and dtype in HELD_OUT_DTYPES.get(key, (dtype,))


@dataclass(frozen=True)
class FitRow:
    """One residual: a case, which prediction it checks (seconds | gpu_s | joules) and the measurement."""

    case: Case
    target: str
    measured: float
    source: str
    weight: float = 1.0


@dataclass(frozen=True)
class Param:
    """A fitted constant: its place in the arch YAML (a key path), bounds, and the group that fits it."""

    path: tuple[str, ...]
    lo: float
    hi: float

    @property
    def name(self) -> str:
        return ".".join(self.path[-2:]) if self.path[0] == "energy" else self.path[-1]


def _p(*path: str, lo: float, hi: float) -> Param:
    return Param(tuple(path), lo, hi)


def gp(key: str, lo: float, hi: float) -> Param:
    return _p("units", "gpu", "params", key, lo=lo, hi=hi)


def ej(action: str, lo: float, hi: float) -> Param:
    return _p("energy", "action_j", action, lo=lo, hi=hi)


# ---- micro-benchmark rows that are not in the case vocabulary ----------------------------------------------
def _vec(name: str, kind: OpKind, fn: str, shape: tuple[int, ...], n_in: int, strided: bool = False,
         weight: int = 0) -> Case:
    dt = DType.BF16
    ins = [TensorSpec(f"in{i}", shape, dt, TensorRole.ACTIVATION) for i in range(n_in)]
    if weight:
        ins.append(TensorSpec("w", (weight,), dt, TensorRole.WEIGHT))
    rows = shape[0] if len(shape) > 1 else 1
    op = Op(name, kind, {"rows": rows, "cols": math.prod(shape) // rows}, tuple(ins),
            (TensorSpec("out", shape, dt, TensorRole.ACTIVATION),), dt, DType.FP32,
            {"fn": fn, "warm_l2": True, "strided": strided})
    return Case(name, name, "bf16", "x".join(map(str, shape)), single_op_workload(op))


def micro_case(kind: str, name: str, dtype: str, shape: str) -> Case | None:
    """A row of h100_microbench.csv as a case (None for the idle row)."""
    dims = tuple(int(x) for x in str(shape).split("x")) if kind != "idle" else ()
    if kind == "add":
        return _vec("add", OpKind.ELEMENTWISE, "add", dims, 2)
    if kind == "silu":
        return _vec("silu", OpKind.ELEMENTWISE, "silu", dims, 1, strided=name == "silu_chunk")
    if kind == "mul":
        return _vec("mul", OpKind.ELEMENTWISE, "mul", dims, 2, strided=True)
    if kind == "rmsnorm":
        return _vec("rmsnorm", OpKind.NORM, "rmsnorm", dims, 1, weight=dims[-1])
    if kind == "idle":
        return None
    return parse_case(kind, name, dtype, shape)


def calibration_rows(frame: pd.DataFrame, source: str, held_out: bool) -> list[FitRow]:
    """Time (and energy) rows of a calibration-format file; ``held_out`` selects the held-out or the fit rows."""
    out = []
    for i, r in enumerate(frame.itertuples(index=False)):
        if r.kind == "idle" or is_held_out(r.kind, str(r.dtype), str(r.shape)) != held_out:
            continue
        case = parse_case(r.kind, r.name, r.dtype, r.shape)
        out.append(FitRow(case, "seconds", float(r.seconds), f"{source}:{i + 1}"))
        if isinstance(r.joules, float) and r.joules == r.joules:
            out.append(FitRow(case, "joules", float(r.joules), f"{source}:{i + 1}", 2.0))
    return out


def microbench_rows(frame: pd.DataFrame, source: str) -> list[FitRow]:
    """GPU time (graph replay) and energy rows of h100_microbench.csv."""
    out = []
    for i, r in enumerate(frame.itertuples(index=False)):
        case = micro_case(r.kind, r.name, str(r.dtype), str(r.shape))
        if case is None:
            continue
        if r.graph_seconds == r.graph_seconds:
            out.append(FitRow(case, "gpu_s", float(r.graph_seconds), f"{source}:{i + 1}"))
        if r.joules == r.joules:
            out.append(FitRow(case, "joules", float(r.joules), f"{source}:{i + 1}", 2.0))
    return out


# ---- the fit ------------------------------------------------------------------------------------------------
def _node(data, path: tuple):
    node = data
    for k in path:
        node = node[int(k)] if isinstance(node, list) else node.setdefault(k, {})
    return node


def set_values(base: dict, params: list[Param], x) -> dict:
    """A copy of the arch dict with ``params`` set to ``x``."""
    data = copy.deepcopy(base)
    for p, v in zip(params, x):
        _node(data, p.path[:-1])[p.path[-1]] = float(v)
    return data


def apply(base: dict, params: list[Param], x) -> ArchSpec:
    return arch_from_dict(set_values(base, params, x), "<fit>")


def get(base: dict, p: Param) -> float:
    from hwsim.units import parse_quantity

    v = _node(base, p.path[:-1])[p.path[-1]]
    return float(parse_quantity(v, "B/s")) if isinstance(v, str) else float(v)


def residuals(arch: ArchSpec, rows: list[FitRow]) -> np.ndarray:
    out = np.empty(len(rows))
    for i, r in enumerate(rows):
        pred = predict_case(r.case, arch)[r.target]
        out[i] = r.weight * math.log(max(pred, 1e-15) / r.measured)
    return out


def fit_group(base: dict, params: list[Param], rows: list[FitRow]) -> dict:
    """Least squares over one group's params on its rows; returns the updated base dict."""
    from scipy.optimize import least_squares

    x0 = np.array([min(max(get(base, p), p.lo * 1.0001), p.hi * 0.9999) for p in params])
    scale = np.abs(x0) + 1e-30
    res = least_squares(lambda z: residuals(apply(base, params, z * scale), rows), x0 / scale,
                        bounds=(np.array([p.lo for p in params]) / scale, np.array([p.hi for p in params]) / scale),
                        loss="soft_l1", f_scale=0.1, diff_step=1e-3, max_nfev=200)
    return set_values(base, params, res.x * scale)


RowFilter = Callable[[FitRow], bool]


def run_fit(base: dict, groups: list[tuple[str, list[Param], RowFilter]], rows: list[FitRow], rounds: int = 3,
            log: Callable[[str], None] = lambda s: None) -> dict:
    """Cycle over the groups ``rounds`` times; each group fits its params on the rows its filter keeps."""
    for rnd in range(rounds):
        for name, params, keep in groups:
            sel = [r for r in rows if keep(r)]
            if sel:
                base = fit_group(base, params, sel)
                log(f"round {rnd + 1} group {name}: {len(sel)} rows, "
                    + ", ".join(f"{p.name}={get(base, p):.4g}" for p in params))
    return base
