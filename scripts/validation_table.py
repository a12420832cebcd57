"""Print the PPA validation table (docs/validation.md) from hwsim.ppa.validation: published value, hwsim's
value, error, tolerance and whether the test holds it. Run: ``python scripts/validation_table.py``."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's hwsim
from hwsim.api import ppa_checks as all_checks  # noqa: E402


def main() -> None:
    print("| chip | check | published | hwsim | error | tolerance | status | source |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for c in all_checks():
        tol = ("hwsim <= published" if c.kind == "le" else "reported only" if c.kind == "info"
               else f"+/- {c.tolerance:g} {c.unit}")
        status = {True: "pass", False: "FAIL", None: "reported"}[c.passed]
        print(f"| {c.chip} | {c.quantity} | {c.published:g} {c.unit} | {c.hwsim:.4g} {c.unit} | "
              f"{100 * c.error:+.1f} % | {tol} | {status} | {c.source} |")


if __name__ == "__main__":
    main()
