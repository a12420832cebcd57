"""The results directory of a sweep: Parquet chunks written atomically, a manifest, and resume.

Layout (the results contract that reports build on)::

    RESULTS_DIR/space.yaml              copy of the space file
    RESULTS_DIR/meta.json               manifest: arch, workloads, blocks, engine, n_points, hwsim version,
                                        created, the sweep's identity hash, and a status record
    RESULTS_DIR/chunks/part-NNNNNN.parquet

Columns: ``point_id`` (str), ``block`` (str, e.g. ``llama2_7b/decode``), one column per swept parameter named
by its dotted path exactly as in the space, then ``latency_s``, ``energy_j``, ``energy_j.<component>``,
``area_mm2``, ``area_mm2.<component>``, ``flops``, ``dram_bytes``, ``utilization`` (flop-weighted mean over
ops), ``bound`` (of the op taking most time) and ``error`` (null, or one line). Chunks also hold ``pruned``
(the constraint a row failed, else null); :func:`read_results` drops pruned rows and that column unless asked.

Atomicity: a chunk is written to a hidden temporary file, flushed to disk, then renamed into place
(``os.replace`` is atomic on POSIX), and all rows of a point go into the same chunk. A sweep killed at any
moment leaves only whole chunks; ``--resume`` reads which point ids they hold and computes the rest.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
from pathlib import Path
from typing import Any, Iterable

import pyarrow as pa
import pyarrow.parquet as pq

from hwsim.errors import SpecError
from hwsim.sweep.plan import SweepPlan

FIXED_HEAD = ("point_id", "block")
OUTPUT_ORDER = ("latency_s", "energy_j", "energy_j.*", "area_mm2", "area_mm2.*", "flops", "dram_bytes",
                "utilization", "bound", "error")
_STRING_COLS = ("point_id", "block", "bound", "error", "pruned")
_PA_TYPES = {"int": pa.int64(), "float": pa.float64(), "str": pa.string(), "bool": pa.bool_(),
             "struct": pa.string()}  # struct: YAML text of a mapping/list/null value
_PART = re.compile(r"^part-(\d+)\.parquet$")


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class ResultsStore:
    """Writes chunks into ``out``; create with :meth:`open`."""

    def __init__(self, out: Path, param_types: dict[str, str], meta: dict[str, Any]):
        self.out, self.chunks, self.meta = out, out / "chunks", meta
        self.param_types = param_types
        self._next = 1 + max((int(m.group(1)) for p in self.chunks.glob("part-*.parquet")
                              if (m := _PART.match(p.name))), default=0)

    @classmethod
    def open(cls, out: str | Path, plan: SweepPlan, space_text: str, n_points: int, resume: bool,
             version: str) -> "ResultsStore":
        """Create a results directory, or reopen one for ``resume`` after checking it holds this sweep."""
        out = Path(out)
        meta_path = out / "meta.json"
        types = {n: plan.space.params[n].kind for n in plan.names}
        if any(out.glob("chunks/part-*.parquet")):  # a directory with no rows yet is simply started afresh
            if not resume:
                raise SpecError(str(out), "", "already holds sweep results",
                                allowed="--resume to continue them, or another --out")
            meta = _read_meta(out)
            if meta.get("identity_hash") != plan.key:
                old = meta.get("identity", {})
                diff = next((k for k, v in plan.identity().items() if old.get(k) != v), "inputs")
                raise SpecError(str(meta_path), "identity", f"holds results of a different sweep ({diff} differs); "
                                "resume needs the same arch, workload, blocks, engine, mapping and space")
            for tmp in (out / "chunks").glob(".part-*.tmp"):  # a chunk a killed run did not finish
                tmp.unlink()
            return cls(out, types, meta)
        try:
            (out / "chunks").mkdir(parents=True, exist_ok=True)
        except OSError as e:  # a file in the way, no permission, a read-only file system
            raise SpecError(str(out), "", f"cannot create the results directory: {e.strerror or e}",
                            allowed="a directory path you can write to") from None
        meta = {
            "hwsim_version": version, "created": _now(), "arch": plan.arch_label,
            "workloads": sorted(plan.models), "blocks": [_block_meta(b) for b in plan.blocks],
            "engine": plan.engine, "mapping": plan.mapping.name, "sampling": plan.space.sampling,
            "seed": plan.space.seed, "n_points": n_points, "params": list(plan.names), "param_types": types,
            "constraints": list(plan.space.constraints), "identity_hash": plan.key, "identity": plan.identity(),
            "status": {"complete": False},
        }
        _atomic_write(out / "space.yaml", space_text.encode())
        _atomic_write(meta_path, json.dumps(meta, indent=2).encode())
        return cls(out, types, meta)

    def done_ids(self) -> set[str]:
        """Point ids whose rows are already on disk."""
        done: set[str] = set()
        for p in sorted(self.chunks.glob("part-*.parquet")):
            done.update(pq.read_table(p, columns=["point_id"]).column(0).to_pylist())
        return done

    def write_chunk(self, rows: list[dict[str, Any]]) -> Path:
        """Write rows as the next chunk, atomically (temporary file, fsync, rename)."""
        table = rows_to_table(rows, self.param_types)
        final = self.chunks / f"part-{self._next:06d}.parquet"
        self._next += 1
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
        _atomic_write(final, sink.getvalue().to_pybytes())
        return final

    def finish(self, status: dict[str, Any]) -> None:
        """Record the run's status in meta.json (atomically)."""
        self.meta["status"] = {**status, "updated": _now()}
        _atomic_write(self.out / "meta.json", json.dumps(self.meta, indent=2).encode())


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _block_meta(b) -> dict[str, Any]:
    return {"workload": b.model, **b.params, **({"name": b.name} if b.name else {})}


def _read_meta(out: Path) -> dict[str, Any]:
    try:
        return json.loads((out / "meta.json").read_text())
    except (FileNotFoundError, NotADirectoryError):
        raise SpecError(str(out), "meta.json", "missing: not a sweep results directory") from None
    except OSError as e:
        raise SpecError(str(out / "meta.json"), "", f"cannot read: {e.strerror or e}") from None
    except json.JSONDecodeError as e:
        raise SpecError(str(out / "meta.json"), "", f"malformed JSON: {e.msg}") from None


def rows_to_table(rows: list[dict[str, Any]], param_types: dict[str, str]) -> pa.Table:
    """Rows (dicts) as an Arrow table with the contract's types; component columns as they appear."""
    names: dict[str, None] = {}
    for r in rows:
        names.update(dict.fromkeys(r))
    fields = []
    for n in names:
        if n in param_types:
            t = _PA_TYPES[param_types[n]]
        else:
            t = pa.string() if n in _STRING_COLS else pa.float64()
        fields.append(pa.field(n, t))
    return pa.Table.from_pylist(rows, schema=pa.schema(fields))


def column_order(columns: Iterable[str], params: list[str]) -> list[str]:
    """The contract's column order: head, parameters, outputs (components sorted), error, pruned."""
    cols = list(columns)
    out = [c for c in FIXED_HEAD if c in cols] + [p for p in params if p in cols]
    for item in OUTPUT_ORDER:
        if item.endswith(".*"):
            out += sorted(c for c in cols if c.startswith(item[:-1]))
        elif item in cols:
            out.append(item)
    return out + [c for c in cols if c not in out]


def read_results(out: str | Path, include_pruned: bool = False):
    """All rows of a results directory as one DataFrame sorted by ``point_id, block``.

    Pruned rows (failed a constraint) and the ``pruned`` column are left out unless ``include_pruned``.
    """
    import pandas as pd

    out = Path(out)
    meta = _read_meta(out)
    params = list(meta.get("params", []))
    files = sorted((out / "chunks").glob("part-*.parquet"))
    if files:
        table = pa.concat_tables([pq.read_table(f) for f in files], promote_options="default")
        df = table.to_pandas()
    else:
        df = pd.DataFrame({c: pd.Series(dtype=object) for c in FIXED_HEAD + tuple(params)})
    for c in OUTPUT_ORDER + ("pruned",):
        if not c.endswith(".*") and c not in df.columns:
            df[c] = pd.Series([None] * len(df), dtype=object if c in _STRING_COLS else float)
    df = df.drop_duplicates(subset=["point_id", "block"], keep="first")
    if not include_pruned:
        df = df[df["pruned"].isna()].drop(columns=["pruned"])
    df = df.sort_values(["point_id", "block"], kind="stable").reset_index(drop=True)
    return df[column_order(df.columns, params)]
