"""Workloads: model specs, op vocabulary, and one block's op graph per phase."""

from hwsim.workload.blocks import Phase, build_block
from hwsim.workload import mamba, mobilenet  # noqa: F401  (register the non-transformer block builders)
from hwsim.workload.graph import Workload
from hwsim.workload.models import ModelSpec, load_model, shipped_models
from hwsim.workload.ops import DType, Op, OpGroup, OpKind, TensorRole, TensorSpec

__all__ = ["Phase", "build_block", "Workload", "ModelSpec", "load_model", "shipped_models", "DType", "Op",
           "OpGroup", "OpKind", "TensorRole", "TensorSpec"]
