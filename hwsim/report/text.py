"""Readable terminal tables of a RunResult (SI prefixes, one row per op, totals, energy and area breakdowns)."""

from __future__ import annotations

from hwsim.result import RunResult
from hwsim.units import format_si


def text_table(headers: list[str], rows: list[list[str]], align: str) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def fmt(cells):
        return "  ".join(c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(cells, widths, align))

    return [fmt(headers), "  ".join("-" * w for w in widths)] + [fmt(r) for r in rows]


def run_table(r: RunResult) -> str:
    p = dict(r.params)
    shape = ", ".join(f"{k} {v}" for k, v in p.items() if v not in (None, 0) and k not in ("model", "tokens"))
    lines = [f"{r.workload} on {r.arch} ({shape}); engine {r.engine}", ""]
    rows = []
    for c in r.costs:
        rows.append([c.op, c.kind, c.unit, format_si(c.flops, "FLOP"), format_si(c.extra.get("dram_bytes", 0), "B"),
                     f"{c.cycles:,.0f}", format_si(c.latency_s, "s"), format_si(c.energy_total_j, "J"),
                     c.bound.value, f"{100 * c.utilization:.1f}%"])
    rows.append(["block", "", "", format_si(r.flops, "FLOP"),
                 format_si(sum(c.extra.get("dram_bytes", 0) for c in r.costs), "B"), "",
                 format_si(r.latency_s, "s"), format_si(r.energy_total_j, "J"), "", ""])
    lines += text_table(["op", "kind", "unit", "flops", "dram", "cycles", "latency", "energy", "bound", "util"],
                    rows, "lllrrrrrlr")
    lines += ["", f"model ({r.layers} layers): {format_si(r.latency_s * r.layers, 's')}, "
                  f"{format_si(r.energy_total_j * r.layers, 'J')}", ""]
    e_rows = [[k, format_si(v, "J"), f"{100 * v / (r.energy_total_j or 1):.1f}%"]
              for k, v in sorted(r.energy_j.items(), key=lambda kv: -kv[1])]
    lines += text_table(["energy by component", "J", "share"], e_rows, "lrr") + [""]
    return "\n".join(lines) + "\n" + area_table(r.area_mm2)


def area_table(area_mm2) -> str:
    """Area by component, largest first, with shares and the die total."""
    total = sum(area_mm2.values()) or 1.0
    rows = [[k, f"{v:.2f}", f"{100 * v / total:.1f}%"] for k, v in sorted(area_mm2.items(), key=lambda kv: -kv[1])]
    rows.append(["total", f"{sum(area_mm2.values()):.2f}", "100.0%"])
    return "\n".join(text_table(["area by component", "mm^2", "share"], rows, "lrr")) + "\n"


def tech_table(rows: list[dict], title: str) -> str:
    """Resolved technology rows: quantity, value, unit, basis, source (sources shortened to one line)."""
    body = [[r["quantity"], f"{r['value']:.4g}", r["unit"], r["basis"], r["source"][:110]] for r in rows]
    return "\n".join([title, ""] + text_table(["quantity", "value", "unit", "basis", "source"], body, "lrlll")) + "\n"
