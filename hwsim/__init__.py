"""hwsim: what does this transformer block cost on that hardware? Latency, energy and area per op and block."""

from hwsim.api import evaluate, run, sweep
from hwsim.arch.loader import load_arch
from hwsim.result import CostResult, RunResult
from hwsim.workload import build_block, load_model

load_workload = load_model

__all__ = ["evaluate", "run", "sweep", "load_arch", "load_model", "load_workload", "build_block", "CostResult", "RunResult"]
__version__ = "0.1.0"
