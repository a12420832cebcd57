"""Engines cost ops on units; importing this package registers the built-in ones."""

from hwsim.engines import pim, systolic, tensor_engine, vector  # noqa: F401  (registration side effect)
from hwsim.engines.base import Engine, cost_op, engines_for, register_engine, registered_kinds

__all__ = ["Engine", "cost_op", "engines_for", "register_engine", "registered_kinds"]
