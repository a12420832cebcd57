"""Design-space sweeps: spaces (grid / random / LHS, constraints), executors (local pool, Dask), a resumable
Parquet results store, and Pareto fronts. The entry point is :func:`hwsim.api.sweep`."""

from hwsim.sweep.pareto import pareto_front
from hwsim.sweep.space import SpaceSpec, load_space, point_id
from hwsim.sweep.store import read_results

__all__ = ["SpaceSpec", "load_space", "point_id", "read_results", "pareto_front"]
