"""collect(): sample and decode tasks in chunks on worker processes until each task's stop rule holds.

The main process keeps two chunks per worker in flight, commits every finished chunk to the store
before counting it, gives the next chunk to the task furthest from its stop rule, and sizes chunks so
that one takes about `chunk_seconds` of CPU. A rerun on the same store resumes where it stopped.

>>> import os, tempfile
>>> from qec import Task, collect, StopRule
>>> from qec.store import Store
>>> task = Task.memory("repetition", distance=3, noise="code-capacity", p=0.05, pauli="independent")
>>> with Store(os.path.join(tempfile.mkdtemp(), "r.db")) as store:
...     totals = collect([task], store=store, stop=StopRule(max_shots=20_000), workers=1)
>>> totals[task.task_id].shots
20000
"""

from __future__ import annotations

import concurrent.futures
import math
import multiprocessing
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence

from qec import decoders
from qec.errors import QecInputError
from qec.sampling import ChunkRequest, ChunkResult, run_chunk
from qec.stats import relative_half_width
from qec.store import Store, TaskTotals
from qec.task import Task, chunk_seed

MIN_CHUNK = 256
MAX_CHUNK = 1_000_000


@dataclass(frozen=True)
class StopRule:
    """A task is done when it has `max_shots` shots, or `max_errors` errors, or its 95% interval's
    relative half-width is <= `precision` (each rule optional, but at least shots or errors must bound it)."""

    max_shots: int | None = 1_000_000
    max_errors: int | None = 1000
    precision: float | None = None

    def __post_init__(self):
        if self.max_shots is None and self.max_errors is None:
            raise QecInputError("give --max-shots or --max-errors: without either, sampling never stops")
        for name in ("max_shots", "max_errors"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise QecInputError(f"{name.replace('_', '-')} must be >= 1, got {value}")
        if self.precision is not None and not 0 < self.precision < 1:
            raise QecInputError(f"precision must be a relative half-width in (0, 1), got {self.precision}")

    def progress(self, shots: int, errors: int) -> float:
        """How far a task is towards stopping, in [0, 1]; 1 means done."""
        fractions = [0.0]
        if self.max_shots:
            fractions.append(shots / self.max_shots)
        if self.max_errors:
            fractions.append(errors / self.max_errors)
        if self.precision and errors:
            fractions.append(min(1.0, self.precision / relative_half_width(errors, shots)))
        return min(1.0, max(fractions))

    def shots_still_needed(self, shots: int, errors: int) -> int:
        """An estimate of the shots left before the rule holds (what the next chunks should not overshoot)."""
        if self.progress(shots, errors) >= 1:
            return 0
        estimates = []
        if self.max_shots:
            estimates.append(self.max_shots - shots)
        rate = (errors + 1) / (shots + 1)
        if self.max_errors:
            estimates.append(math.ceil((self.max_errors - errors) / rate))
        if self.precision:
            needed = 1.96**2 * (1 - rate) / (rate * self.precision**2)
            estimates.append(max(1, math.ceil(needed - shots)))
        return max(1, min(estimates))


class Executor(Protocol):
    """What collect() needs from an executor: concurrent.futures-style submit."""

    def submit(self, fn: Callable, *args) -> concurrent.futures.Future: ...


@dataclass
class Progress:
    """A snapshot handed to the progress callback after every committed chunk."""

    tasks_total: int
    tasks_done: int
    shots: int
    errors: int
    shots_per_second: float
    seconds_elapsed: float
    eta_seconds: float | None


@dataclass
class _TaskState:
    task: Task
    shots: int
    errors: int
    next_chunk: int
    chunk_shots: int = MIN_CHUNK
    in_flight_shots: int = 0
    in_flight: int = 0


def collect(tasks: Sequence[Task], *, store: Store, stop: StopRule = StopRule(), workers: int | None = None,
            executor: Any = None, chunk_seconds: float = 1.0, chunk_shots: int | None = None,
            on_progress: Callable[[Progress], None] | None = None) -> dict[str, TaskTotals]:
    """Samples every task until `stop` holds for it, committing each chunk to `store`; returns the totals.

    Args:
        tasks: what to sample; tasks already in the store resume from their stored counts.
        store: the results store; this process is its only writer for the study.
        stop: the per-task stop rule.
        workers: worker processes (default: all cores); with a Dask client, its worker threads.
        executor: a `dask.distributed.Client`, or any concurrent.futures executor; default: a process pool.
        chunk_seconds: the CPU time one chunk should take (chunk sizes adapt to it).
        chunk_shots: a fixed chunk size instead: chunks, seeds and so (with `max_shots`) counts are then
            the same whatever the executor and its timing.
        on_progress: called with a `Progress` after each committed chunk.
    """
    tasks = _unique(tasks)
    check_decoders(tasks)
    store.add_tasks(tasks)
    stored = store.totals(t.task_id for t in tasks)
    states = {t.task_id: _TaskState(t, stored[t.task_id].shots, stored[t.task_id].errors,
                                    stored[t.task_id].next_chunk) for t in tasks}
    pending_states = [s for s in states.values() if stop.progress(s.shots, s.errors) < 1]
    if chunk_shots is not None and chunk_shots < 1:
        raise QecInputError(f"chunk-shots must be >= 1, got {chunk_shots}")
    sizing = _ChunkSizing(chunk_seconds, chunk_shots)
    if pending_states:
        if executor is not None:
            if hasattr(executor, "get_executor"):  # a dask.distributed Client: lost chunks are recomputed by Dask
                workers = workers or max(1, sum(executor.nthreads().values()))
                executor = executor.get_executor(pure=False, retries=2)
            _run(pending_states, store, stop, executor, workers or 2, sizing, on_progress, len(tasks))
        else:
            workers = workers or os.cpu_count() or 1
            context = _process_context()
            with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
                try:
                    _run(pending_states, store, stop, pool, workers, sizing, on_progress, len(tasks))
                except BaseException:
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise
    return store.totals(t.task_id for t in tasks)


def check_decoders(tasks: Sequence[Task]) -> None:
    """Fails with the known names if a task names an unknown decoder: call it before any work or file."""
    for name in {task.decoder for task in tasks}:
        decoders.get(name)


def _process_context() -> multiprocessing.context.BaseContext:
    """fork where it is safe (Linux, this process single-threaded): workers start with every module loaded;
    spawn otherwise."""
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _unique(tasks: Sequence[Task]) -> list[Task]:
    seen: dict[str, Task] = {}
    for task in tasks:
        seen.setdefault(task.task_id, task)
    return list(seen.values())


@dataclass(frozen=True)
class _ChunkSizing:
    seconds: float
    fixed_shots: int | None


def _run(states: list[_TaskState], store: Store, stop: StopRule, executor: Executor, workers: int,
         sizing: _ChunkSizing, on_progress: Callable[[Progress], None] | None, tasks_total: int) -> None:
    """Keeps 2 chunks per worker in flight (one running, one queued) until every task's rule holds."""
    futures: dict[concurrent.futures.Future, _TaskState] = {}
    start = time.monotonic()
    sampled_shots = 0
    while True:
        while len(futures) < 2 * workers:
            state = _furthest_from_done(states, stop)
            if state is None:
                break
            request = _next_request(state, stop, workers, sizing)
            futures[executor.submit(run_chunk, request)] = state
        if not futures:
            return
        done, _ = concurrent.futures.wait(list(futures), return_when=concurrent.futures.FIRST_COMPLETED)
        for future in done:
            state = futures.pop(future)
            result: ChunkResult = future.result()
            state.in_flight -= 1
            state.in_flight_shots -= result.shots
            if store.append(result):
                state.shots += result.shots
                state.errors += result.errors
                sampled_shots += result.shots
            if sizing.fixed_shots is None:
                _adapt_chunk_size(state, result, sizing.seconds)
        if on_progress:
            on_progress(_snapshot(states, stop, tasks_total, sampled_shots, time.monotonic() - start))


def _furthest_from_done(states: list[_TaskState], stop: StopRule) -> _TaskState | None:
    """The task whose counts, with its in-flight shots assumed error-free, are furthest from its stop rule."""
    open_states = [s for s in states if stop.shots_still_needed(s.shots, s.errors) > s.in_flight_shots]
    if not open_states:
        return None
    return min(open_states, key=lambda s: (stop.progress(s.shots + s.in_flight_shots, s.errors), s.in_flight))


def _next_request(state: _TaskState, stop: StopRule, workers: int, sizing: _ChunkSizing) -> ChunkRequest:
    """The task's next chunk; near the end the remaining shots are split so all workers finish together."""
    needed = stop.shots_still_needed(state.shots, state.errors) - state.in_flight_shots
    if sizing.fixed_shots is not None:  # clipped only by max_shots, which does not depend on timing
        shots = sizing.fixed_shots
        if stop.max_shots:
            shots = min(shots, stop.max_shots - state.shots - state.in_flight_shots)
    else:
        shots = min(state.chunk_shots, needed, max(MIN_CHUNK, -(-needed // workers)))
    shots = max(1, shots)
    task = state.task
    request = ChunkRequest(task.task_id, task.circuit_text, task.decoder, task.postselected_detectors,
                           state.next_chunk, shots, chunk_seed(task.task_id, state.next_chunk))
    state.next_chunk += 1
    state.in_flight += 1
    state.in_flight_shots += shots
    return request


def _adapt_chunk_size(state: _TaskState, result: ChunkResult, chunk_seconds: float) -> None:
    """Aims the next chunk at `chunk_seconds`, growing at most 32x (and shrinking at most 4x) at a time."""
    if result.shots < state.chunk_shots // 2:
        return  # a clipped final chunk says little about speed
    per_shot = max(result.seconds, 1e-6) / result.shots
    target = chunk_seconds / per_shot
    state.chunk_shots = int(min(MAX_CHUNK, max(MIN_CHUNK, state.chunk_shots / 4, min(state.chunk_shots * 32, target))))


def _snapshot(states: list[_TaskState], stop: StopRule, tasks_total: int, sampled_shots: int,
              elapsed: float) -> Progress:
    done = sum(stop.progress(s.shots, s.errors) >= 1 for s in states)
    rate = sampled_shots / elapsed if elapsed > 0 else 0.0
    remaining = sum(stop.shots_still_needed(s.shots, s.errors) for s in states)
    return Progress(tasks_total=tasks_total, tasks_done=tasks_total - len(states) + done,
                    shots=sum(s.shots for s in states), errors=sum(s.errors for s in states), shots_per_second=rate,
                    seconds_elapsed=elapsed, eta_seconds=remaining / rate if rate > 0 else None)
