"""Running a sweep: list the points, skip those already on disk, evaluate the rest, stream rows to Parquet.

Points are listed lazily (:func:`feasible_points`) and handed to the executor in batches; each finished batch
is written at once as one chunk, so the sweep process holds only the batches in flight and the set of done
ids, and a kill loses at most those batches.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from hwsim.errors import HwsimError
from hwsim.sweep.executors import WorkerDied, check_executor, run_batches
from hwsim.sweep.plan import SweepPlan
from hwsim.sweep.progress import Progress, format_rate
from hwsim.sweep.sampling import assignments
from hwsim.sweep.space import point_id
from hwsim.sweep.store import ResultsStore


class SweepInterrupted(HwsimError):
    """Ctrl-C: the finished chunks are on disk; ``--resume`` continues."""


@dataclass(frozen=True)
class SweepSummary:
    """What a run did: points in the space, skipped (already on disk), computed now, rows by outcome."""

    out: Path
    n_points: int
    skipped: int
    computed: int
    rows: int
    errors: int
    pruned: int
    elapsed_s: float

    @property
    def points_per_s(self) -> float:
        return self.computed / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def line(self) -> str:
        return (f"sweep: {self.n_points:,} points ({self.computed:,} computed now, {self.skipped:,} already done); "
                f"{self.rows:,} rows written, {self.errors:,} with errors, {self.pruned:,} pruned by constraints; "
                f"{self.elapsed_s:.1f} s ({format_rate(self.points_per_s)} points/s) -> {self.out}")


def feasible_points(plan: SweepPlan) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(point_id, assignment)`` of every point that passes the parameter-only constraints, in order."""
    for a in assignments(plan.space):
        if not plan.input_constraints or all(c(plan.columns(a)) for c in plan.input_constraints):
            yield point_id(a), a


def count_points(plan: SweepPlan) -> int:
    if plan.space.sampling == "grid" and not plan.input_constraints:
        return plan.space.grid_size()
    return sum(1 for _ in feasible_points(plan))


def auto_batch(todo: int, jobs: int) -> int:
    """Points per batch (= per chunk): about 8 batches per worker, between 16 and 500 points."""
    return int(min(500, max(16, math.ceil(todo / (max(jobs, 1) * 8)))))


def run_sweep(plan: SweepPlan, out: str | Path, *, space_text: str, version: str, executor: str = "local",
              jobs: int = 1, scheduler: str | None = None, resume: bool = False, progress: Progress | bool = True,
              batch_points: int | None = None) -> SweepSummary:
    """Evaluate every point of ``plan`` not yet in ``out``; see :func:`hwsim.api.sweep`."""
    t0 = time.monotonic()
    check_executor(executor, scheduler)  # before the results directory is made
    n = count_points(plan)
    store = ResultsStore.open(out, plan, space_text, n, resume, version)
    done = store.done_ids() if resume else set()
    todo_iter = ((pid, a) for pid, a in feasible_points(plan) if pid not in done)
    skipped = len(done)
    size = batch_points or auto_batch(n - skipped, jobs)
    batches = iter(lambda: list(itertools.islice(todo_iter, size)), [])
    bar = progress if isinstance(progress, Progress) else Progress(n, skipped, enabled=bool(progress))
    computed = rows = errors = pruned = 0

    def status(complete: bool) -> dict[str, Any]:
        return {"complete": complete, "points_done": skipped + computed, "rows_written_this_run": rows,
                "errors_this_run": errors, "pruned_this_run": pruned}

    try:
        for batch, batch_rows in run_batches(plan, batches, executor=executor, jobs=jobs, scheduler=scheduler):
            store.write_chunk(batch_rows)
            computed += len(batch)
            rows += len(batch_rows)
            errors += sum(r.get("error") is not None for r in batch_rows)
            pruned += sum(r.get("pruned") is not None for r in batch_rows)
            bar.update(len(batch))
    except KeyboardInterrupt:
        store.finish(status(False))
        bar.close()
        raise SweepInterrupted(f"interrupted after {skipped + computed:,} of {n:,} points; they are saved in "
                               f"{out}: rerun with --resume to finish") from None
    except WorkerDied:
        store.finish(status(False))
        raise
    bar.close()
    store.finish(status(True))
    return SweepSummary(Path(out), n, skipped, computed, rows, errors, pruned, time.monotonic() - t0)
