"""Where batches of points run: in this process, a local process pool, or a Dask distributed cluster.

Every executor takes the plan and an iterator of batches (lists of ``(point_id, assignment)``) and yields
``(batch, rows)`` as batches finish, in any order, keeping only a few batches in flight (2 per worker) so
memory stays flat however long the sweep. The plan is sent to each worker once; workers keep their caches
(:mod:`hwsim.sweep.points`) between batches.

Interrupting (Ctrl-C): pool workers ignore SIGINT; the executor cancels batches not started, lets the running
ones finish and yields them (so they are saved), then re-raises KeyboardInterrupt. A worker that dies (killed,
out of memory) ends a local sweep with :class:`WorkerDied`; a Dask cluster re-runs its batches elsewhere.
Pool workers exit by themselves when the sweep process disappears (SIGKILL), rather than linger.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Iterable, Iterator

from hwsim.errors import HwsimError
from hwsim.sweep.plan import SweepPlan
from hwsim.sweep.points import evaluate_batch

Batch = list[tuple[str, dict[str, Any]]]
Rows = list[dict[str, Any]]


CONNECT_TIMEOUT = "10s"  # how long to wait for a Dask scheduler to answer


class WorkerDied(HwsimError):
    """A worker process ended before returning its batch; finished chunks are kept (use --resume)."""


def run_batches(plan: SweepPlan, batches: Iterable[Batch], *, executor: str = "local", jobs: int = 1,
                scheduler: str | None = None) -> Iterator[tuple[Batch, Rows]]:
    """Evaluate batches with the chosen executor; yields ``(batch, rows)`` as they complete."""
    check_executor(executor, scheduler)
    if executor == "dask":
        return _dask(plan, batches, jobs, scheduler)
    if jobs <= 1:
        return ((b, evaluate_batch(plan, b)) for b in batches)
    return _pool(plan, batches, jobs)


def check_executor(executor: str, scheduler: str | None) -> None:
    """HwsimError unless ``executor`` is local or dask, and a scheduler address comes only with dask."""
    if executor not in ("local", "dask"):
        raise HwsimError(f"unknown executor {executor!r} (allowed: local, dask)")
    if scheduler and executor != "dask":
        raise HwsimError("--scheduler needs --executor dask")


# ---- local process pool -----------------------------------------------------------------------------------
_PLAN: SweepPlan | None = None


def _watch(sweep_pid: int) -> None:
    """Exit when the sweep process is gone. (Pool workers otherwise wait forever on their task queue: they
    hold its write end themselves, and under forkserver also the server's liveness pipe.)"""
    while True:
        time.sleep(0.5)
        try:
            os.kill(sweep_pid, 0)
            with open(f"/proc/{sweep_pid}/stat") as fh:  # a killed sweep not yet reaped is a zombie
                if fh.read().rsplit(")", 1)[1].split()[0] == "Z":
                    os._exit(1)
        except ProcessLookupError:
            os._exit(1)
        except OSError:  # no /proc (not Linux): the kill probe alone decides
            pass


def _init_worker(plan: SweepPlan, sweep_pid: int) -> None:
    global _PLAN
    _PLAN = plan
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch, args=(sweep_pid,), daemon=True).start()


def _pool_task(batch: Batch) -> Rows:
    assert _PLAN is not None
    return evaluate_batch(_PLAN, batch)


def _pool(plan: SweepPlan, batches: Iterable[Batch], jobs: int) -> Iterator[tuple[Batch, Rows]]:
    import multiprocessing as mp

    ctx = mp.get_context("forkserver")  # no fork of a threaded parent; the server imports hwsim once
    ctx.set_forkserver_preload(["hwsim.sweep.executors"])
    _start_forkserver_ignoring_sigint()
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init_worker,
                               initargs=(plan, os.getpid()))
    it = iter(batches)
    inflight: dict = {}
    try:
        try:
            with _sigint_held():  # these submits start the workers (see _sigint_held)
                for b in _take(it, 2 * jobs):
                    inflight[pool.submit(_pool_task, b)] = b
            while inflight:
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                for f in done:
                    b = inflight.pop(f)
                    yield b, f.result()
                    for nb in _take(it, 1):
                        inflight[pool.submit(_pool_task, nb)] = nb
        except BrokenProcessPool:
            raise WorkerDied("a sweep worker process died (killed or out of memory); finished points are saved, "
                             "rerun with --resume") from None
        except KeyboardInterrupt:
            for f in inflight:
                f.cancel()
            for f, b in inflight.items():
                if not f.cancelled():
                    try:
                        yield b, f.result()
                    except BrokenProcessPool:
                        break
            raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


@contextlib.contextmanager
def _sigint_held() -> Iterator[None]:
    """Hold Ctrl-C back while worker processes are started, then raise KeyboardInterrupt. A start cut short
    after the new worker was sent its pickled queues, but before the pool recorded it, leaves a worker the
    pool does not know: it reads its queue lock after the sweep has exited and prints a FileNotFoundError
    traceback. Holding lasts at most until the fork server has imported hwsim (seconds, once a sweep)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    got: list[int] = []
    old = signal.signal(signal.SIGINT, lambda signum, frame: got.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
    if got:
        raise KeyboardInterrupt


def _start_forkserver_ignoring_sigint() -> None:
    """Start the fork server (and resource tracker) with SIGINT ignored, a disposition they inherit. The
    server only ignores Ctrl-C itself after importing hwsim, which takes seconds; a Ctrl-C in that time,
    sent to the whole process group, would print its KeyboardInterrupt traceback under the sweep's
    one-line "interrupted" message. The window in which this process ignores SIGINT is the spawn only."""
    from multiprocessing import forkserver

    if threading.current_thread() is not threading.main_thread():
        forkserver.ensure_running()
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, old)


def _take(it: Iterator[Batch], n: int) -> list[Batch]:
    out = []
    for _ in range(n):
        b = next(it, None)
        if b is None:
            break
        out.append(b)
    return out


# ---- Dask distributed ---------------------------------------------------------------------------------------
def _dask(plan: SweepPlan, batches: Iterable[Batch], jobs: int, scheduler: str | None
          ) -> Iterator[tuple[Batch, Rows]]:
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    try:
        if scheduler:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        else:
            cluster = LocalCluster(n_workers=max(jobs, 1), threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.ERROR)
            client = Client(cluster)
    except (OSError, TimeoutError, ValueError) as e:  # ValueError: a malformed address ("missing port number")
        raise HwsimError(f"cannot reach the Dask scheduler {scheduler or '(local cluster)'}: {e}") from None
    try:
        slots = max(1, sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values()))
        plan_f = client.scatter(plan, broadcast=True, hash=False)
        it = iter(batches)
        inflight = {}
        ac = as_completed()
        for b in _take(it, 2 * slots):
            f = client.submit(evaluate_batch, plan_f, b, pure=False)
            inflight[f.key] = b
            ac.add(f)
        for f in ac:
            b = inflight.pop(f.key)
            yield b, f.result()
            for nb in _take(it, 1):
                nf = client.submit(evaluate_batch, plan_f, nb, pure=False)
                inflight[nf.key] = nb
                ac.add(nf)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
