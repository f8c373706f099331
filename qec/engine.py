"""collect(): sample and decode tasks in chunks on worker processes until each task's stop rule holds.

The main process keeps two chunks per worker in flight, commits every finished chunk to the store
before counting it, gives the next chunk to the task furthest from its stop rule, and sizes chunks so
that one takes about `chunk_seconds` of CPU. A rerun on the same store resumes where it stopped.

After each commit it re-reads the task's totals from the store, so two commands sampling the same tasks
into one store at once stop together, within one chunk per worker of the stop rule. The local pool's
workers ignore Ctrl-C (the main process stops them) and exit when the main process dies, by any signal.

>>> import os, tempfile
>>> from qec import Task, collect, StopRule
>>> from qec.store import Store
>>> from qec.parts import memory_task
>>> task = memory_task("repetition", distance=3, noise="code-capacity", p=0.05, pauli="independent")
>>> with Store(os.path.join(tempfile.mkdtemp(), "r.db")) as store:
...     totals = collect([task], store=store, stop=StopRule(max_shots=20_000), workers=1)
>>> totals[task.task_id].counts.shots
20000
"""

from __future__ import annotations

import concurrent.futures
import ctypes
import math
import multiprocessing
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping, Protocol, Sequence

import sinter

from qec.arguments import callable_or_none, instance_or_none, instances, number, plain
from qec.decoders import DecoderSpec, gives_gap
from qec.determinism import check_deterministic
from qec.errors import Interrupted, QecInputError
from qec.parts import decoders_with_gap
from qec.sampling import ChunkRequest, run_chunk
from qec.stats import relative_half_width
from qec.store import Store
from qec.task import ChunkResult, Task, TaskTotals, chunk_seed
from qec.validation import MAX_COUNT

MIN_CHUNK = 256
MAX_CHUNK = 1_000_000
MIN_PRECISION = 1e-6  # a 95% relative half-width of 1e-6 takes ~4e12 errors: far beyond any study
WORKERS_PER_CORE = 4  # the most worker processes per core that still make sense (and fit in memory)
# When another command stores a chunk this one was also sampling, this one moves its next chunk indices this
# far up, away from the indices the other is working through (gaps in chunk indices are harmless).
_INDEX_JUMP = 1 << 32
_CHEAP_REFRESH_SECONDS = 0.005  # re-reading a task's counts from the store after every commit while it is this fast
_REFRESH_SHARE = 0.05  # and otherwise at most this share of the main process's time
_INTERRUPT_POLL_SECONDS = 0.1  # how late Ctrl-C may be taken while the main loop waits for a chunk


@dataclass(frozen=True)
class StopRule:
    """A task is done when it has `max_shots` shots, or `max_errors` errors, or its 95% interval's
    relative half-width is <= `precision` (each rule optional, but at least shots or errors must bound it)."""

    max_shots: int | None = 1_000_000
    max_errors: int | None = 2000
    precision: float | None = None

    def __post_init__(self):
        for name in ("max_shots", "max_errors", "precision"):  # NumPy scalars taken as the Python ones they hold
            object.__setattr__(self, name, plain(getattr(self, name)))
        if self.max_shots is None and self.max_errors is None:
            raise QecInputError("max_shots=None and max_errors=None: sampling would never stop; bound one of them")
        for name in ("max_shots", "max_errors"):
            value = getattr(self, name)
            if value is not None and not (
                isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_COUNT
            ):
                raise QecInputError(f"{name}={value!r} is not allowed: use an integer from 1 to 2^63 - 1")
        if self.precision is not None and not (
            isinstance(self.precision, (int, float))
            and not isinstance(self.precision, bool)
            and MIN_PRECISION <= self.precision < 1
        ):
            raise QecInputError(
                f"precision={self.precision!r} is not allowed: use a relative half-width in "
                f"[{MIN_PRECISION:g}, 1) (a smaller one would need more than 10^12 errors)"
            )

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


DEFAULT_STOP = StopRule()  # the stop rule of collect() and `qec collect` when none is given


class Executor(Protocol):
    """What collect() needs from an executor: concurrent.futures-style submit."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]: ...


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
    decoder: sinter.Decoder
    shots: int  # as the store last said, this command's chunks and any other's
    errors: int
    next_chunk: int
    first_chunk: int  # where this command's current run of chunk indices started
    chunk_shots: int = MIN_CHUNK
    in_flight_shots: int = 0
    in_flight: int = 0
    refreshed_at: float = -math.inf  # when its counts were last read from the store (time.monotonic())
    refresh_seconds: float = 0.0  # how long that took


@dataclass
class _Kept:
    chunks: int = 0  # chunks this run committed to the store


def collect(
    tasks: Sequence[Task],
    *,
    store: Store,
    stop: StopRule = DEFAULT_STOP,
    workers: int | None = None,
    executor: Any = None,
    chunk_seconds: float = 1.0,
    chunk_shots: int | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    custom_decoders: Mapping[str, sinter.Decoder] | None = None,
) -> dict[str, TaskTotals]:
    """Samples every task until `stop` holds for it, committing each chunk to `store`; returns the totals.

    Args:
        tasks: what to sample; tasks already in the store resume from their stored counts.
        store: the results store. Other commands may sample the same tasks into it at once: the counts are
            re-read after each commit, so all stop within one chunk per worker of `stop`.
        stop: the per-task stop rule.
        workers: worker processes (default: all cores; at most `max_workers()`); with a Dask client, its
            worker threads.
        executor: a `dask.distributed.Client`, or any concurrent.futures executor; default: a process pool.
        chunk_seconds: the CPU time one chunk should take (chunk sizes adapt to it).
        chunk_shots: a fixed chunk size instead: chunks, seeds and so (with `max_shots`) counts are then
            the same whatever the executor and its timing. Memory does not grow with it: a worker samples and
            decodes a chunk in batches of at most `qec.sampling.MAX_BATCH_BYTES` of detection events.
        on_progress: called with a `Progress` after each committed chunk.
        custom_decoders: decoder objects by name, as sinter's `collect` takes them: a task whose decoder is named
            here is decoded by that object. Every other task's decoder is built from the registry with the
            options its metadata records. Decoder objects are built here and sent to the workers by value, so a
            decoder of one's own runs on every executor (fork, spawn, Dask).

    Raises:
        QecInputError: bad input, before any work or write.
        Interrupted: on Ctrl-C (a KeyboardInterrupt), after stopping the workers; it says how many chunks this
            call committed.
    """
    workers, chunk_shots = plain(workers), plain(chunk_shots)  # NumPy integers taken as ints
    tasks = instances(tasks, Task, name="tasks")
    if not isinstance(store, Store):
        raise QecInputError(f"store is a {type(store).__name__}, not a Store: open one with Store(path)")
    if not isinstance(stop, StopRule):
        raise QecInputError(f"stop is a {type(stop).__name__}, not a StopRule: give StopRule(max_shots=...)")
    chunk_seconds = number(chunk_seconds, name="chunk_seconds")
    if chunk_seconds <= 0:
        raise QecInputError(f"chunk_seconds={chunk_seconds!r} is not allowed: give a positive number of seconds")
    instance_or_none(custom_decoders, Mapping, name="custom_decoders")
    callable_or_none(on_progress, name="on_progress")
    if workers is not None:
        check_workers(workers, local=executor is None)
    if chunk_shots is not None and not (isinstance(chunk_shots, int) and 1 <= chunk_shots <= MAX_CHUNK):
        raise QecInputError(
            f"chunk_shots={chunk_shots!r} is not allowed: use an integer from 1 to {MAX_CHUNK:,} "
            "(a chunk is sampled in batches of bounded memory, so a larger one only takes longer)"
        )
    kept = _Kept()
    try:
        unique = _unique(tasks)
        objects = decoder_objects(unique, custom_decoders)
        return _collect(unique, objects, store, stop, workers, executor, chunk_seconds, chunk_shots, on_progress, kept)
    except KeyboardInterrupt:
        raise Interrupted(kept.chunks) from None


def _collect(
    tasks: list[Task],
    objects: Mapping[str, sinter.Decoder],
    store: Store,
    stop: StopRule,
    workers: int | None,
    executor: Any,
    chunk_seconds: float,
    chunk_shots: int | None,
    on_progress: Callable[[Progress], None] | None,
    kept: _Kept,
) -> dict[str, TaskTotals]:
    store.add_tasks(tasks)
    stored = store.totals(t.task_id for t in tasks)
    states = {
        t.task_id: _TaskState(
            t,
            objects[t.task_id],
            stored[t.task_id].counts.shots,
            stored[t.task_id].counts.errors,
            stored[t.task_id].next_chunk,
            stored[t.task_id].next_chunk,
        )
        for t in tasks
    }
    pending_states = [s for s in states.values() if stop.progress(s.shots, s.errors) < 1]
    sizing = _ChunkSizing(chunk_seconds, chunk_shots)
    if pending_states:
        if executor is not None:
            if hasattr(executor, "get_executor"):  # a dask.distributed Client: lost chunks are recomputed by Dask
                workers = workers or max(1, sum(executor.nthreads().values()))
                executor = executor.get_executor(pure=False, retries=2)
            # Interrupted, chunks in flight on Dask are released with their futures (or when the client closes);
            # cancelling them here would only have the scheduler log about the results it can no longer send.
            _run(pending_states, store, stop, executor, workers or 2, sizing, on_progress, len(tasks), kept)
        else:
            workers = workers or os.cpu_count() or 1
            pool = _WorkerPool(workers)
            try:
                _run(pending_states, store, stop, pool, workers, sizing, on_progress, len(tasks), kept)
            except BaseException:
                pool.kill_workers()  # the chunks in flight are lost; every committed one is kept
                pool.shutdown(wait=True, cancel_futures=True)
                raise
            pool.shutdown(wait=True)
    return store.totals(t.task_id for t in tasks)


def max_workers() -> int:
    """The most worker processes one machine is given: `WORKERS_PER_CORE` per core, and at least 4."""
    return max(4, WORKERS_PER_CORE * (os.cpu_count() or 1))


def check_workers(workers: Any, *, local: bool = True) -> None:
    """Refuses a worker count that is not a positive integer or, for processes started on this machine (`local`),
    one above `max_workers()`; call it before any process starts.

    >>> check_workers(2)
    >>> check_workers(10**6)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    qec.errors.QecInputError: workers=1000000 would start 1,000,000 worker processes, more than this machine fits ...
    """
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise QecInputError(
            f"workers={workers!r} is not a worker count: give workers=1 or more, or leave it out for one per core"
        )
    limit = max_workers()
    if local and workers > limit:
        raise QecInputError(
            f"workers={workers} would start {workers:,} worker processes, more than this machine "
            f"fits (at most {limit:,}: {WORKERS_PER_CORE} per core on {os.cpu_count() or 1} "
            f"cores); give workers={limit} or fewer, or leave it out for one per core"
        )


def decoder_objects(
    tasks: Sequence[Task], custom_decoders: Mapping[str, sinter.Decoder] | None = None
) -> dict[str, sinter.Decoder]:
    """Each task's decoder object by task id: `custom_decoders[task.decoder]` where given, else the registry's
    decoder built with the options the task's metadata records. Fails with the known names if a decoder is
    unknown, and with the decoder's own message if it refuses a task's circuit (`check_circuit`, where a decoder
    has one: matching needs a graphlike DEM, lookup few detectors): called before any work or file, so a refusal
    never comes after other tasks were stored."""
    custom = dict(custom_decoders or {})
    for name, decoder in custom.items():
        if not isinstance(decoder, sinter.Decoder):
            raise QecInputError(
                f"custom_decoders[{name!r}] is a {type(decoder).__name__}, not a sinter.Decoder: give an object whose "
                "class subclasses sinter.Decoder (compile_decoder_for_dem)"
            )
    built: dict[DecoderSpec, sinter.Decoder] = {}
    objects = {}
    for task in tasks:
        if task.decoder in custom:
            objects[task.task_id] = custom[task.decoder]
            continue
        spec = task.decoder_spec
        if spec not in built:
            built[spec] = spec.build()
        objects[task.task_id] = built[spec]
    check_deterministic_tasks(tasks)
    for task in tasks:
        check = getattr(objects[task.task_id], "check_circuit", None)
        if check is not None:
            check(task.circuit)
        if task.postselect_gap is not None:
            _check_gives_gap(task, objects[task.task_id])
    return objects


_DETERMINISTIC: set[str] = set()  # ids of tasks whose circuits were found deterministic in this process
_DETERMINISTIC_LIMIT = 10_000


def check_deterministic_tasks(tasks: Sequence[Task]) -> None:
    """Refuses the first task whose circuit has a non-deterministic detector or observable (one line naming it);
    `decoder_objects` calls it, before any task row is written, and a command may call it earlier (a circuit is
    checked once per process)."""
    for task in tasks:
        _check_deterministic(task)


def _check_deterministic(task: Task) -> None:
    """Refuses a task whose circuit has a non-deterministic detector or observable (`check_deterministic`), once
    per task id in this process: before any task row is written or any chunk sampled."""
    if task.task_id in _DETERMINISTIC:
        return
    file = task.metadata.get("file")
    name = f"circuit {file!r}" if isinstance(file, str) else f"the circuit of task {task.task_id[:12]}"
    check_deterministic(task.circuit, name=name)
    if len(_DETERMINISTIC) >= _DETERMINISTIC_LIMIT:
        _DETERMINISTIC.clear()
    _DETERMINISTIC.add(task.task_id)


def _check_gives_gap(task: Task, decoder: sinter.Decoder) -> None:
    """Refuses a task with a `postselect_gap` whose decoder gives no gap, or gives none for its circuit
    (`check_gap_circuit`, where the decoder has one)."""
    if not gives_gap(decoder):
        raise QecInputError(
            f"decoder {task.decoder!r} gives no per-shot gap (set decodes_with_gap = True on a decoder whose compiled "
            "decoders have decode_shots_with_gap), so postselect_gap cannot discard shots by it: use "
            + " or ".join(map(repr, decoders_with_gap()))
        )
    check = getattr(decoder, "check_gap_circuit", None)
    if check is not None:
        check(task.circuit)


def check_decoders(tasks: Sequence[Task], custom_decoders: Mapping[str, sinter.Decoder] | None = None) -> None:
    """Refuses an unknown decoder, or one that refuses a task's circuit, before any work or file
    (`decoder_objects`)."""
    decoder_objects(tasks, custom_decoders)


class _WorkerPool(concurrent.futures.ProcessPoolExecutor):
    """A process pool whose workers ignore Ctrl-C (the main process stops them) and exit when the main process
    dies, by any signal (SIGKILL included)."""

    def __init__(self, workers: int):
        super().__init__(workers, mp_context=_process_context(), initializer=_init_worker, initargs=(os.getpid(),))

    def submit(self, fn, /, *args, **kwargs) -> concurrent.futures.Future:
        # Workers start inside submit(): with Ctrl-C blocked, one started now cannot get it before its
        # initializer ignores it (the signal mask is inherited across fork and exec).
        with signals_blocked(signal.SIGINT, signal.SIGTERM):
            return super().submit(fn, *args, **kwargs)

    def kill_workers(self) -> None:
        """Stops every worker now, mid-chunk (the pool is unusable afterwards)."""
        for process in list((getattr(self, "_processes", None) or {}).values()):
            try:
                process.kill()
            except (OSError, ValueError):  # already gone, or closed
                pass


@contextmanager
def signals_blocked(*signals: signal.Signals) -> Iterator[None]:
    """Blocks `signals` in this thread (and so in threads and processes started meanwhile); a signal that arrives
    meanwhile is delivered when they are unblocked."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextmanager
def _interrupts_at_checks() -> Iterator[Callable[[], None]]:
    """Holds back Ctrl-C (and SIGTERM, where a Python handler takes it) while the block runs; the yielded `check()`
    runs the held handler (which raises KeyboardInterrupt) for each signal that has arrived, and so does the end
    of a block that ends without an exception.

    A KeyboardInterrupt raised at whatever bytecode the main thread is at can leave a lock taken: landing in
    `concurrent.futures.wait` after it has taken one future's lock and before the next, it leaves that lock held
    for good, and the thread that completes the future (the process pool's manager, Dask's event loop) blocks on it
    forever, and with it the teardown. So the main loop takes signals only at its checks. Python runs signal
    handlers in the main thread only, so elsewhere there is nothing to hold back."""
    arrived: list[int] = []
    held: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            if callable(signal.getsignal(signum)):
                held[signum] = signal.signal(signum, lambda number, frame: arrived.append(number))

    def check() -> None:
        while arrived:
            signum = arrived.pop(0)
            held[signum](signum, None)

    try:
        yield check
    finally:
        for held_signal, handler in held.items():
            signal.signal(held_signal, handler)
    check()


def _init_worker(parent_pid: int) -> None:
    """Runs first in each pool worker: Ctrl-C is the main process's to handle, and the worker dies with it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not a handler inherited from the main process
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    exit_with_parent(parent_pid)


_PR_SET_PDEATHSIG = 1


def exit_with_parent(parent_pid: int) -> None:
    """Makes this process exit when `parent_pid`, its parent, dies (of any signal, SIGKILL included).

    On Linux the kernel sends SIGKILL at once (prctl PR_SET_PDEATHSIG); everywhere a daemon thread also checks
    every second whether the parent changed, which also covers the parent thread exiting before the process.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="qec-exit-with-parent", daemon=True).start()


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


def _run(
    states: list[_TaskState],
    store: Store,
    stop: StopRule,
    executor: Executor,
    workers: int,
    sizing: _ChunkSizing,
    on_progress: Callable[[Progress], None] | None,
    tasks_total: int,
    kept: _Kept,
) -> None:
    """Keeps 2 chunks per worker in flight (one running, one queued) until every task's rule holds. Ctrl-C is taken
    only between steps (`_interrupts_at_checks`), never inside the executor's code or a commit."""
    futures: dict[concurrent.futures.Future, _TaskState] = {}
    start = time.monotonic()
    sampled_shots = 0
    with _interrupts_at_checks() as check_interrupts:
        while True:
            while len(futures) < 2 * workers:
                state = _furthest_from_done(states, stop)
                if state is None:
                    break
                request = _next_request(state, stop, workers, sizing)
                futures[executor.submit(run_chunk, request)] = state
            if not futures:
                return
            for future in _first_done(futures, check_interrupts):
                state = futures.pop(future)
                result: ChunkResult = future.result()
                state.in_flight -= 1
                state.in_flight_shots -= result.counts.shots
                committed = store.append(result)
                kept.chunks += int(committed)
                if committed:
                    state.shots += result.counts.shots
                    state.errors += result.counts.errors
                    sampled_shots += result.counts.shots
                _refresh(state, store, result.chunk_index, committed)
                if sizing.fixed_shots is None:
                    _adapt_chunk_size(state, result, sizing.seconds)
            if on_progress:
                on_progress(_snapshot(states, stop, tasks_total, sampled_shots, time.monotonic() - start))
            check_interrupts()


def _first_done(
    futures: Iterable[concurrent.futures.Future], check_interrupts: Callable[[], None]
) -> set[concurrent.futures.Future]:
    """Waits until at least one of `futures` is done, taking held-back signals every `_INTERRUPT_POLL_SECONDS`."""
    while True:
        done, _ = concurrent.futures.wait(
            list(futures), timeout=_INTERRUPT_POLL_SECONDS, return_when=concurrent.futures.FIRST_COMPLETED
        )
        check_interrupts()
        if done:
            return done


def _refresh(state: _TaskState, store: Store, chunk_index: int, committed: bool) -> None:
    """Takes the task's counts from the store, which another command may be adding to; if that command stored
    this chunk first, it is working through the same chunk indices, so this one moves away from them.

    Re-reading costs time in proportion to the task's chunks: once it takes more than `_CHEAP_REFRESH_SECONDS`
    (thousands of chunks), a task is re-read at most every `refresh_seconds / _REFRESH_SHARE` seconds. In between,
    this command's own commits keep its counts up to date, and counts that miss the other command's latest chunks
    only make this one sample a little more (a fraction of a chunk per worker).
    """
    start = time.monotonic()
    if (
        committed
        and state.refresh_seconds > _CHEAP_REFRESH_SECONDS
        and start - state.refreshed_at < state.refresh_seconds / _REFRESH_SHARE
    ):
        return
    stored = store.totals([state.task.task_id]).get(state.task.task_id)
    state.refreshed_at = time.monotonic()
    state.refresh_seconds = state.refreshed_at - start
    if stored is None:  # not readable as a valid task any more: keep this command's own count
        return
    state.shots, state.errors = stored.counts.shots, stored.counts.errors
    if not committed and chunk_index >= state.first_chunk:
        state.next_chunk = max(state.next_chunk, stored.next_chunk) + _INDEX_JUMP
        state.first_chunk = state.next_chunk


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
    request = ChunkRequest(
        task.task_id,
        task.circuit_text,
        state.decoder,
        task.postselected_detectors,
        state.next_chunk,
        shots,
        chunk_seed(task.task_id, state.next_chunk),
        task.postselect_gap,
    )
    state.next_chunk += 1
    state.in_flight += 1
    state.in_flight_shots += shots
    return request


def _adapt_chunk_size(state: _TaskState, result: ChunkResult, chunk_seconds: float) -> None:
    """Aims the next chunk at `chunk_seconds`, growing at most 32x (and shrinking at most 4x) at a time."""
    if result.counts.shots < state.chunk_shots // 2:
        return  # a clipped final chunk says little about speed
    per_shot = max(result.counts.seconds, 1e-6) / result.counts.shots
    target = chunk_seconds / per_shot
    state.chunk_shots = int(min(MAX_CHUNK, max(MIN_CHUNK, state.chunk_shots / 4, min(state.chunk_shots * 32, target))))


def _snapshot(
    states: list[_TaskState], stop: StopRule, tasks_total: int, sampled_shots: int, elapsed: float
) -> Progress:
    done = sum(stop.progress(s.shots, s.errors) >= 1 for s in states)
    rate = sampled_shots / elapsed if elapsed > 0 else 0.0
    remaining = sum(stop.shots_still_needed(s.shots, s.errors) for s in states)
    return Progress(
        tasks_total=tasks_total,
        tasks_done=tasks_total - len(states) + done,
        shots=sum(s.shots for s in states),
        errors=sum(s.errors for s in states),
        shots_per_second=rate,
        seconds_elapsed=elapsed,
        eta_seconds=remaining / rate if rate > 0 else None,
    )
