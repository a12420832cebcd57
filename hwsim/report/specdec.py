"""Terminal table of a speculative-decoding result (hwsim specdec)."""

from __future__ import annotations

from hwsim.report.text import text_table
from hwsim.units import format_si


def specdec_table(r) -> str:
    """Per-step and per-token costs of speculative vs plain decoding."""
    lines = [f"speculative decoding on {r.arch}: target {r.target}, draft {r.draft}, k {r.k}, "
             f"acceptance {r.acceptance:g}",
             f"expected tokens per target step: (1 - a^(k+1)) / (1 - a) = {r.expected_tokens:.4f}", ""]
    rows = [
        ["draft step (one token)", format_si(r.draft_step_s, "s"), format_si(r.draft_step_j, "J")],
        [f"draft steps (x{r.k})", format_si(r.k * r.draft_step_s, "s"), format_si(r.k * r.draft_step_j, "J")],
        [f"target verify ({r.k + 1} tokens)", format_si(r.verify_s, "s"), format_si(r.verify_j, "J")],
        ["speculative step", format_si(r.step_s, "s"), format_si(r.step_j, "J")],
        ["speculative, per token", format_si(r.s_per_token, "s"), format_si(r.j_per_token, "J")],
        ["plain decode, per token", format_si(r.plain_s, "s"), format_si(r.plain_j, "J")],
    ]
    lines += text_table(["", "latency", "energy"], rows, "lrr")
    lines += ["", f"speedup over plain decoding: {r.speedup:.3f}x (Leviathan et al. estimate with "
                  f"c = {r.draft_step_s / r.plain_s:.4f}: {r.leviathan_speedup:.3f}x)",
              f"energy per token vs plain: {r.energy_ratio:.3f}x"]
    return "\n".join(lines) + "\n"


def specdec_grid_table(results, batch: int, kv_len: int) -> str:
    """Speedup over plain decoding and energy per token vs plain, one row per k, one column per acceptance."""
    r0 = results[0]
    ks = list(dict.fromkeys(r.k for r in results))
    accs = list(dict.fromkeys(r.acceptance for r in results))
    by = {(r.k, r.acceptance): r for r in results}
    lines = [f"speculative decoding on {r0.arch}: target {r0.target}, draft {r0.draft}, batch {batch}, "
             f"kv_len {kv_len}; plain decode {format_si(r0.plain_s, 's')}, {format_si(r0.plain_j, 'J')} per token",
             "speedup over plain decoding (energy per token vs plain)", ""]
    rows = [[str(k)] + [f"{by[k, a].speedup:.2f}x ({by[k, a].energy_ratio:.2f}x)" for a in accs] for k in ks]
    lines += text_table(["k"] + [f"a = {a:g}" for a in accs], rows, "r" * (len(accs) + 1))
    return "\n".join(lines) + "\n"
