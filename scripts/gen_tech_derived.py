"""Regenerate the derived rows of hwsim/data/tech/arithmetic.csv from its published rows.

Rule (hwsim.ppa.tech.power_law): a power law in width through the two published rows of the same operation
and family (integers: 8 and 32 bits; floats: fp16 and fp32 significands, 11 and 24 bits incl. the hidden
bit). Run: ``python scripts/gen_tech_derived.py`` (rewrites the file in place; review the diff).
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's hwsim, not an installed one
from hwsim.api import power_law  # noqa: E402

PATH = Path(__file__).resolve().parents[1] / "hwsim" / "data" / "tech" / "arithmetic.csv"
ANCHORS = {("mult", False): ("int8", "int32"), ("add", False): ("int8", "int32"),
           ("mult", True): ("fp16", "fp32"), ("add", True): ("fp16", "fp32")}
FLOATS = {"fp16", "fp32", "bf16", "fp8", "fp8_e5m2", "tf32", "fp6_e2m3", "fp6_e3m2", "fp4"}


def derive(rows: list[dict]) -> list[dict]:
    by = {(r["op"], r["format"]): r for r in rows}
    for r in rows:
        if r["basis"] != "derived" or r["op"] not in ("mult", "add"):
            continue
        fam = r["format"] in FLOATS
        lo, hi = (by[(r["op"], f)] for f in ANCHORS[(r["op"], fam)])
        w = float(r["width_bits"])
        exps = []
        for col in ("energy_pj", "area_um2"):
            v, p = power_law(float(lo[col]), float(lo["width_bits"]), float(hi[col]), float(hi["width_bits"]), w)
            r[col] = f"{v:.4g}"
            exps.append(p)
        kind = "significand width" if fam else "width"
        r["source"] = (f"power law in {kind} through the {lo['format']} and {hi['format']} rows "
                       f"(energy exponent {exps[0]:.3f}, area exponent {exps[1]:.3f})")
    return rows


def main() -> None:
    with open(PATH, newline="") as fh:
        reader = csv.DictReader(fh)
        fields, rows = reader.fieldnames, list(reader)
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    w.writerows(derive(rows))
    PATH.write_text(out.getvalue())
    print(f"wrote {PATH}")


if __name__ == "__main__":
    main()
