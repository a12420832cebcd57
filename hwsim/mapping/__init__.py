"""Mapping: which unit runs each op, with which dataflow and tiling (kept apart from hardware and workload)."""

from hwsim.mapping.types import Mapping, MappingPolicy, MappingRule, OpMapping
from hwsim.mapping.mapper import map_workload, load_policy

__all__ = ["Mapping", "MappingPolicy", "MappingRule", "OpMapping", "map_workload", "load_policy"]
