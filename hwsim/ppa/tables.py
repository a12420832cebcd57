"""The technology data files (``hwsim/data/tech/*.csv``) and the :class:`Sourced` value type.

Every row of every table carries a ``basis`` and a ``source``:

- ``published``: copied from the cited paper, datasheet, tool or teardown;
- ``derived``: arithmetic on published rows, stated in ``source``/``note`` (interpolation included);
- ``fitted``: a least-squares fit to tabulated data (the CACTI capacity fits, made at run time);
- ``extrapolated``: beyond the range of the underlying data (5 and 3 nm node factors).

The files are read once and validated: a row without a source or with an unknown basis is an error
(:class:`~hwsim.errors.SpecError` naming the file and row), so a table edit cannot silently lose provenance.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from hwsim.errors import SpecError

TECH_DIR = Path(__file__).resolve().parents[1] / "data" / "tech"
REFERENCE_DIR = Path(__file__).resolve().parents[1] / "data" / "reference"
BASES = ("published", "derived", "fitted", "extrapolated")
TABLES = ("arithmetic", "scaling", "devices", "dram", "params")


@dataclass(frozen=True)
class Sourced:
    """A number with its unit, where it came from, and how (``basis``, one of :data:`BASES` or a mix).

    >>> s = Sourced(0.3e-12, "J", "Horowitz 2014", "published")
    >>> float(s)
    3e-13
    """

    value: float
    unit: str
    source: str
    basis: str = "derived"

    def __float__(self) -> float:
        return self.value


@lru_cache(maxsize=None)
def table(name: str) -> tuple[dict[str, str], ...]:
    """Rows of ``hwsim/data/tech/<name>.csv`` as dicts, each checked for ``basis`` and ``source``.

    >>> table("scaling")[0]["node_nm"]
    '45'
    """
    if name not in TABLES:
        raise KeyError(f"no technology table {name!r}; tables are {', '.join(TABLES)}")
    path = TECH_DIR / f"{name}.csv"
    with open(path, newline="") as fh:
        rows = tuple(csv.DictReader(fh))
    for i, r in enumerate(rows, start=2):
        for col in ["basis"] + [c for c in r if c.endswith("_basis")]:  # e.g. dram.csv's phy_basis
            if r.get(col) not in BASES:
                raise SpecError(str(path), f"row {i}.{col}", f"got {r.get(col)!r}", allowed=", ".join(BASES))
        if not (r.get("source") or "").strip():
            raise SpecError(str(path), f"row {i}.source", "every row must name its source")
    return rows


@lru_cache(maxsize=4096)
def lookup(name: str, **match: object) -> dict[str, str]:
    """The one row of table ``name`` whose columns equal ``match`` (compared as strings)."""
    hits = [r for r in table(name) if all(r[k] == str(v) for k, v in match.items())]
    if len(hits) != 1:
        raise KeyError(f"{name}.csv: {len(hits)} rows match {match}")
    return hits[0]


@lru_cache(maxsize=1024)
def param(quantity: str, node_nm: int = 0) -> Sourced:
    """A scalar from ``params.csv`` (``node_nm`` 0 for node-independent rows)."""
    r = lookup("params", quantity=quantity, node_nm=node_nm)
    return Sourced(float(r["value"]), r["unit"], f"{r['source']}; {r['note']}".strip("; "), r["basis"])


def param_nodes(quantity: str) -> dict[int, Sourced]:
    """All rows of ``quantity`` in ``params.csv`` by node (e.g. the SRAM bitcell per node)."""
    return {int(r["node_nm"]): param(quantity, int(r["node_nm"]))
            for r in table("params") if r["quantity"] == quantity}


@lru_cache(maxsize=1)
def reference_rows() -> dict[tuple[str, str], float]:
    """Numeric rows of ``hwsim/data/reference/tech_tables.csv`` keyed by (quantity, node)."""
    out: dict[tuple[str, str], float] = {}
    with open(REFERENCE_DIR / "tech_tables.csv", newline="") as fh:
        for r in csv.DictReader(fh):
            try:
                out[(r["quantity"], r["node"])] = float(r["value"])
            except ValueError:
                continue  # 'not found' rows
    return out
