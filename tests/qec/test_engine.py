"""collect() with real Stim sampling and PyMatching decoding: stop rules, resume, seeds, exact physics;
Ctrl-C, another command sampling into the same store, worker counts that cannot fit."""

import math
import re
import subprocess
import sys
import time

import numpy as np
import psutil
import pytest

from qec import StopRule, Task, collect
from qec.engine import max_workers
from qec.errors import Interrupted, QecInputError
from qec.parts import memory_task
from qec.stats import relative_half_width
from qec.store import Store
from qec.task import ChunkResult, Counts


def repetition_task(p=0.1, decoder="pymatching"):
    return memory_task(
        "repetition", distance=3, rounds=1, noise="code-capacity", p=p, pauli="independent", decoder=decoder
    )


def test_max_shots_is_met_exactly(tmp_path):
    task = repetition_task()
    with Store(tmp_path / "s.db") as store:
        totals = collect([task], store=store, stop=StopRule(max_shots=123_457, max_errors=None), workers=2)
    assert totals[task.task_id].counts.shots == 123_457


def test_d3_repetition_code_matches_its_exact_logical_error_rate(tmp_path):
    """MWPM on 3 bits fails iff 2 or 3 flip: P_L = 3p^2(1-p) + p^3; 5 sigma of 400k shots."""
    p = 0.1
    task = repetition_task(p)
    with Store(tmp_path / "s.db") as store:
        totals = collect([task], store=store, stop=StopRule(max_shots=400_000, max_errors=None), workers=2)[
            task.task_id
        ]
    exact = 3 * p**2 * (1 - p) + p**3
    sigma = math.sqrt(exact * (1 - exact) / totals.counts.shots)
    assert abs(totals.counts.errors / totals.counts.shots - exact) < 5 * sigma


def test_max_errors_and_precision_stop_rules(tmp_path):
    task = repetition_task(0.2)
    with Store(tmp_path / "s.db") as store:
        by_errors = collect([task], store=store, stop=StopRule(max_shots=10**7, max_errors=500), workers=1)
    assert 500 <= by_errors[task.task_id].counts.errors < 500 + 4 * 400  # at most the chunks in flight overshoot
    task = repetition_task(0.15)
    with Store(tmp_path / "p.db") as store:
        by_precision = collect(
            [task], store=store, stop=StopRule(max_shots=10**7, max_errors=None, precision=0.05), workers=1
        )[task.task_id]
    assert relative_half_width(by_precision.counts.errors, by_precision.counts.shots) <= 0.05


def test_rerun_resumes_and_samples_nothing_more(tmp_path):
    tasks = [repetition_task(0.05), repetition_task(0.1)]
    stop = StopRule(max_shots=50_000, max_errors=None)
    with Store(tmp_path / "s.db") as store:
        first = collect(tasks, store=store, stop=stop, workers=2)
        rows_before = len(list(store.chunk_rows()))
        second = collect(tasks, store=store, stop=stop, workers=2)
        assert first == second and len(list(store.chunk_rows())) == rows_before
        more = collect(tasks, store=store, stop=StopRule(max_shots=80_000, max_errors=None), workers=2)
    assert all(t.counts.shots == 80_000 for t in more.values())


def test_same_seeds_same_counts(tmp_path):
    task = memory_task("surface", distance=3, noise="sd6", p=0.005)
    stop = StopRule(max_shots=30_000, max_errors=None)
    counts = []
    for name in ("a.db", "b.db"):
        with Store(tmp_path / name) as store:
            collect([task], store=store, stop=stop, workers=1, chunk_seconds=0.05)
            counts.append(sorted((row.chunk_index, row.counts.shots, row.counts.errors) for row in store.chunk_rows()))
    # Chunk sizes adapt to timing, so compare the first chunk, whose size is fixed: same seed, same errors.
    assert counts[0][0] == counts[1][0]


def test_postselection_counts_discards(tmp_path):
    circuit = memory_task("repetition", distance=3, rounds=2, noise="phenomenological", p=0.05).circuit
    task = Task(
        circuit=circuit, decoder="pymatching", metadata={"postselect": "first detector"}, postselected_detectors=(0,)
    )
    with Store(tmp_path / "s.db") as store:
        totals = collect([task], store=store, stop=StopRule(max_shots=40_000, max_errors=None), workers=1)
    discards = totals[task.task_id].counts.discards
    dets = circuit.compile_detector_sampler(seed=1).sample(40_000)
    expected = np.mean(dets[:, 0]) * 40_000
    assert abs(discards - expected) < 5 * math.sqrt(expected)


def test_unknown_decoder_fails_before_any_work(tmp_path):
    with Store(tmp_path / "s.db") as store, pytest.raises(QecInputError, match="unknown decoder 'nope'"):
        collect([repetition_task(decoder="nope")], store=store, workers=1)
        assert store.totals() == {}


def test_task_without_observables_is_refused():
    import stim

    with pytest.raises(QecInputError, match="no OBSERVABLE_INCLUDE"):
        Task(circuit=stim.Circuit("R 0\nX_ERROR(0.1) 0\nM 0\nDETECTOR rec[-1]"), decoder="pymatching")


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"max_shots": None, "max_errors": None}, "never stop"),
        ({"max_shots": 0}, "max_shots=0 is not allowed"),
        ({"max_errors": 2**63}, "from 1 to 2\\^63 - 1"),
        ({"precision": 1.5}, "precision=1.5 is not allowed"),
    ],
)
def test_bad_stop_rules(kwargs, message):
    with pytest.raises(QecInputError, match=message):
        StopRule(**kwargs)


@pytest.mark.parametrize(
    "workers,message",
    [
        (0, r"workers=0 is not a worker count: give workers=1 or more, or leave it out for one per core"),
        (-2, r"workers=-2 is not a worker count"),
        (
            max_workers() + 1,
            rf"workers={max_workers() + 1} would start {max_workers() + 1:,} worker processes, more than "
            rf"this machine fits \(at most {max_workers():,}: 4 per core on \d+ cores\); give "
            rf"workers={max_workers()} or fewer",
        ),
    ],
)
def test_worker_counts_that_cannot_fit_are_refused_before_any_work(tmp_path, workers, message):
    children = psutil.Process().children()
    with Store(tmp_path / "s.db") as store:
        start = time.perf_counter()
        with pytest.raises(QecInputError, match=message):
            collect([repetition_task()], store=store, workers=workers)
        assert time.perf_counter() - start < 1 and store.totals() == {}
    assert psutil.Process().children() == children  # no process was started


def test_ctrl_c_stops_the_workers_and_says_how_many_chunks_were_kept(tmp_path):
    workers, before = [], set(psutil.Process().children())

    def ctrl_c_after_a_few_chunks(progress):
        workers.extend(set(psutil.Process().children()) - before)
        if progress.shots >= 5000:
            raise KeyboardInterrupt

    with Store(tmp_path / "s.db") as store:
        with pytest.raises(Interrupted) as interrupted:
            collect(
                [repetition_task()],
                store=store,
                stop=StopRule(max_shots=10**9, max_errors=None),
                workers=2,
                chunk_shots=1000,
                on_progress=ctrl_c_after_a_few_chunks,
            )
        assert interrupted.value.chunks_kept == len(list(store.chunk_rows())) >= 5
    assert isinstance(interrupted.value, KeyboardInterrupt)
    assert str(interrupted.value) == f"interrupted: {interrupted.value.chunks_kept} chunks kept; rerun to resume"
    assert workers and not any(worker.is_running() for worker in workers)  # stopped, not left to finish


# Ctrl-C raised (by a trace function, so at an exact point) inside concurrent.futures.wait while it holds the lock
# of a chunk still running and has more to take: raised there, a KeyboardInterrupt leaves that lock held for good,
# and the process pool's manager thread blocks forever on it when the chunk finishes (without the fix the pool case
# hung in each of 3 tries; Dask's event loop blocks the same way, in 2 of 3 tries of a d=5 surface code).
CTRL_C_INSIDE_WAIT = """
import concurrent.futures._base as base, signal, sys
from qec import StopRule, collect
from qec.cluster import dask_client
from qec.parts import memory_task
from qec.store import Store

ENTER = base._AcquireFutures.__enter__.__code__
calls = [0]

def trace(frame, event, arg):
    if frame.f_code is not ENTER:
        return None
    calls[0] += 1
    return lock_taken if calls[0] >= 20 else None

def lock_taken(frame, event, arg):  # the second pass of the loop: the first future's lock is held
    first = frame.f_locals["self"].futures[0]
    if event == "line" and frame.f_lineno == ENTER.co_firstlineno + 2 and frame.f_locals["future"] is not first:
        if not first.done():
            sys.settrace(None)
            signal.raise_signal(signal.SIGINT)
    return lock_taken

if __name__ == "__main__":
    task = memory_task("repetition", distance=3, rounds=1, noise="code-capacity", p=0.1, pauli="independent")
    with Store(sys.argv[1]) as store, dask_client(cluster=sys.argv[2] or None) as client:
        sys.settrace(trace)
        try:
            collect([task], store=store, stop=StopRule(max_shots=10**9, max_errors=None), workers=2,
                    executor=client, chunk_shots=1000)
        except KeyboardInterrupt as interrupted:
            print(interrupted, len(list(store.chunk_rows())))
"""


@pytest.mark.parametrize("cluster", ["", pytest.param("local:2", marks=pytest.mark.slow)])
def test_ctrl_c_inside_the_wait_for_chunks_is_taken_after_it(tmp_path, cluster):
    if cluster:
        pytest.importorskip("distributed")
    script = tmp_path / "ctrl_c_inside_wait.py"
    script.write_text(CTRL_C_INSIDE_WAIT)
    run = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "s.db"), cluster], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    kept = re.fullmatch(r"interrupted: (\d+) chunks? kept; rerun to resume (\d+)\n", run.stdout)
    assert kept and kept[1] == kept[2], run.stdout + run.stderr  # every chunk committed, and only those, is counted


def test_counts_another_command_stores_meanwhile_stop_this_one(tmp_path):
    """Another command's chunks, added to the store while this one runs, count towards this one's stop rule, and
    when the other has taken the chunk indices this one was about to use, this one moves away from them."""
    task, foreign_shots, own_shots, max_shots = repetition_task(), 500, 1000, 60_000
    foreign_seconds = 123.0  # what tells the other command's rows apart
    inserted = []

    def other_command_samples_chunks_1_to_49(progress):
        if not inserted:
            with Store(tmp_path / "s.db") as other:
                inserted.extend(
                    other.append(
                        ChunkResult(
                            task.task_id,
                            index,
                            Counts(foreign_shots, errors=0, discards=0, seconds=foreign_seconds),
                            observable_errors=(0,),
                        )
                    )
                    for index in range(1, 50)
                )

    with Store(tmp_path / "s.db") as store:
        totals = collect(
            [task],
            store=store,
            stop=StopRule(max_shots=max_shots, max_errors=None),
            workers=1,
            chunk_shots=own_shots,
            on_progress=other_command_samples_chunks_1_to_49,
        )[task.task_id]
        rows = [(row.chunk_index, row.counts.seconds == foreign_seconds) for row in store.chunk_rows()]
    assert sum(is_foreign for _, is_foreign in rows) == sum(inserted) >= 45
    # Without re-reading the store this command would have sampled max_shots on its own.
    assert max_shots <= totals.counts.shots <= max_shots + 2 * own_shots  # 2 chunks in flight per worker
    own_indices = sorted(index for index, is_foreign in rows if not is_foreign)
    assert all(index < 50 or index >= 2**32 for index in own_indices)
    assert sum(index < 50 for index in own_indices) <= 3  # those committed before it learnt of the other
    lane = [index for index in own_indices if index >= 2**32]
    assert lane == list(range(lane[0], lane[0] + len(lane)))  # then one run of fresh indices, no more collisions


def test_a_decoder_that_refuses_a_circuit_does_so_before_anything_is_sampled(tmp_path):
    """Issue 10: matching refuses the color code's hyperedges, lookup a circuit of over 20 detectors; both at the
    door (`check_circuit`), so the tasks before them are not sampled and stored first."""
    fine = repetition_task()
    color = memory_task("color", distance=5, noise="uniform", p=0.001)
    big = memory_task("surface", distance=5, noise="uniform", p=0.001, decoder="lookup")
    for refused, message in ((color, "not graphlike"), (big, "too large for 'lookup'")):
        with Store(tmp_path / "s.db") as store:
            with pytest.raises(QecInputError, match=message):
                collect([fine, refused], store=store, stop=StopRule(max_shots=1000), workers=1)
            assert store.totals() == {}
