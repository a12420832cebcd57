"""Speculative decoding (Leviathan et al. ICML 2023; Chen et al. 2023): a small draft model proposes ``k``
tokens, the target model checks them in one forward pass over ``k + 1`` positions.

With each drafted token accepted independently with probability ``a``, the expected number of tokens a
target step yields is (Leviathan et al. 2023, Eq. 1)::

    E[tokens] = (1 - a^(k+1)) / (1 - a)        (k + 1 when a = 1)

One step costs ``k`` draft decode steps plus one target verification; plain decoding costs one target decode
step per token, so the speedup is ``E[tokens] x t_plain / (k t_draft + t_verify)``. Leviathan et al.'s own
estimate, ``(1 - a^(k+1)) / ((1 - a)(k c + 1))`` with ``c = t_draft / t_plain``, assumes the verification costs
one plain step; we cost it as the block graph it is (``k + 1`` query positions over the cache), so both are
reported. Each model step is ``layers x block + LM head`` (the ``d_model x vocab`` output projection, which
is a large share of a small drafter: 24.6 M of Llama-160M's parameters).

Shapes: plain decode attends ``kv_len`` keys (the new token included); the draft decodes at the same context;
verification is a chunked prefill of ``k + 1`` tokens after ``kv_len - 1`` cached ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from hwsim.errors import SpecError
from hwsim.workload.blocks import build_block
from hwsim.workload.graph import Workload, graph_from_ops
from hwsim.workload.models import ModelSpec
from hwsim.workload.ops import Op, OpKind, TensorRole, TensorSpec


def expected_tokens(acceptance: float, k: int) -> float:
    """Expected tokens per target step.

    >>> round(expected_tokens(0.7, 4), 5)    # (1 - 0.7^5) / 0.3
    2.7731
    >>> expected_tokens(1.0, 4)
    5.0
    """
    if acceptance >= 1.0:
        return float(k + 1)
    return (1.0 - acceptance ** (k + 1)) / (1.0 - acceptance)


def leviathan_speedup(acceptance: float, k: int, cost_ratio: float) -> float:
    """Leviathan et al.'s expected walltime improvement, ``E[tokens] / (k c + 1)``."""
    return expected_tokens(acceptance, k) / (k * cost_ratio + 1.0)


def lm_head(model: ModelSpec, tokens: int) -> Workload | None:
    """The output projection ``[tokens, d_model] x [d_model, vocab]`` as a one-op workload (None if no vocab)."""
    if not model.vocab:
        return None
    p = model.precision
    op = Op("lm_head", OpKind.GEMM, {"B": 1, "M": tokens, "K": model.d_model, "N": model.vocab},
            (TensorSpec("h_final", (tokens, model.d_model), p.activations),
             TensorSpec("lm_head.weight", (model.d_model, model.vocab), p.weights, TensorRole.WEIGHT)),
            (TensorSpec("logits", (tokens, model.vocab), p.activations),),
            p.weights if p.weights.bits >= p.activations.bits else p.activations, p.accumulators)
    return Workload(f"{model.name}/lm_head", graph_from_ops([op]), {"model": model.name, "tokens": tokens})


@dataclass(frozen=True)
class SpecDecPlan:
    """The workloads one speculative step and one plain step consist of (each model step: block x layers + head)."""

    k: int
    acceptance: float
    draft_block: Workload
    draft_head: Workload | None
    verify_block: Workload
    verify_head: Workload | None
    plain_block: Workload
    plain_head: Workload | None


def plan(target: ModelSpec, draft: ModelSpec, k: int, acceptance: float, batch: int = 1, kv_len: int = 2048,
         fused_attention: bool = False) -> SpecDecPlan:
    """Build the draft, verification and plain-decode workloads; raises SpecError on bad arguments."""
    if not isinstance(k, int) or k < 1:
        raise SpecError("<arguments>", "k", f"draft length must be a positive integer, got {k!r}")
    if not 0.0 <= acceptance <= 1.0:
        raise SpecError("<arguments>", "acceptance", f"must be in [0, 1], got {acceptance!r}")
    if target.vocab and draft.vocab and target.vocab != draft.vocab:
        raise SpecError(draft.name, "vocab", f"draft vocabulary {draft.vocab} differs from the target's "
                        f"{target.vocab}; speculative decoding needs a shared tokenizer")
    for m in (target, draft):
        if m.block.value != "decoder":
            raise SpecError(m.name, "block", f"speculative decoding needs decoder models, not {m.block.value}")
    kw = {"fused_attention": fused_attention}
    return SpecDecPlan(
        k, acceptance,
        build_block(draft, "decode", batch, kv_len=kv_len, **kw), lm_head(draft, batch),
        build_block(target, "prefill", batch, seq=k + 1, past_len=kv_len - 1, **kw), lm_head(target, batch * (k + 1)),
        build_block(target, "decode", batch, kv_len=kv_len, **kw), lm_head(target, batch))


@dataclass(frozen=True)
class SpecDecResult:
    """Per-step and per-token costs of speculative vs plain decoding on one architecture (seconds, joules)."""

    arch: str
    target: str
    draft: str
    k: int
    acceptance: float
    expected_tokens: float
    draft_step_s: float
    draft_step_j: float
    verify_s: float
    verify_j: float
    plain_s: float
    plain_j: float

    @property
    def step_s(self) -> float:
        """One speculative step: k draft steps + one verification."""
        return self.k * self.draft_step_s + self.verify_s

    @property
    def step_j(self) -> float:
        return self.k * self.draft_step_j + self.verify_j

    @property
    def s_per_token(self) -> float:
        return self.step_s / self.expected_tokens

    @property
    def j_per_token(self) -> float:
        return self.step_j / self.expected_tokens

    @property
    def speedup(self) -> float:
        """Plain time per token over speculative time per token."""
        return self.plain_s / self.s_per_token

    @property
    def energy_ratio(self) -> float:
        """Speculative energy per token over plain energy per token (> 1: speculation costs energy)."""
        return self.j_per_token / self.plain_j

    @property
    def leviathan_speedup(self) -> float:
        return leviathan_speedup(self.acceptance, self.k, self.draft_step_s / self.plain_s)

    def to_dict(self) -> dict:
        d = {f: getattr(self, f) for f in self.__dataclass_fields__}
        d.update({p: getattr(self, p) for p in ("step_s", "step_j", "s_per_token", "j_per_token", "speedup",
                                                 "energy_ratio", "leviathan_speedup")})
        return d
