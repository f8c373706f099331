"""collect() with real Stim sampling and PyMatching decoding: stop rules, resume, seeds, exact physics."""

import math

import numpy as np
import pytest

from qec import StopRule, Task, collect
from qec.errors import QecInputError
from qec.stats import relative_half_width
from qec.store import Store


def repetition_task(p=0.1, decoder="pymatching"):
    return Task.memory("repetition", distance=3, rounds=1, noise="code-capacity", p=p, pauli="independent",
                       decoder=decoder)


def test_max_shots_is_met_exactly(tmp_path):
    task = repetition_task()
    with Store(tmp_path / "s.db") as store:
        totals = collect([task], store=store, stop=StopRule(max_shots=123_457, max_errors=None), workers=2)
    assert totals[task.task_id].shots == 123_457


def test_d3_repetition_code_matches_its_exact_logical_error_rate(tmp_path):
    """MWPM on 3 bits fails iff 2 or 3 flip: P_L = 3p^2(1-p) + p^3; 5 sigma of 400k shots."""
    p = 0.1
    task = repetition_task(p)
    with Store(tmp_path / "s.db") as store:
        totals = collect([task], store=store, stop=StopRule(max_shots=400_000, max_errors=None), workers=2)[task.task_id]
    exact = 3 * p**2 * (1 - p) + p**3
    sigma = math.sqrt(exact * (1 - exact) / totals.shots)
    assert abs(totals.errors / totals.shots - exact) < 5 * sigma


def test_max_errors_and_precision_stop_rules(tmp_path):
    task = repetition_task(0.2)
    with Store(tmp_path / "s.db") as store:
        by_errors = collect([task], store=store, stop=StopRule(max_shots=10**7, max_errors=500), workers=1)
    assert 500 <= by_errors[task.task_id].errors < 500 + 4 * 400  # at most the chunks in flight overshoot
    task = repetition_task(0.15)
    with Store(tmp_path / "p.db") as store:
        by_precision = collect([task], store=store, stop=StopRule(max_shots=10**7, max_errors=None, precision=0.05),
                               workers=1)[task.task_id]
    assert relative_half_width(by_precision.errors, by_precision.shots) <= 0.05


def test_rerun_resumes_and_samples_nothing_more(tmp_path):
    tasks = [repetition_task(0.05), repetition_task(0.1)]
    stop = StopRule(max_shots=50_000, max_errors=None)
    with Store(tmp_path / "s.db") as store:
        first = collect(tasks, store=store, stop=stop, workers=2)
        rows_before = len(list(store.chunk_rows()))
        second = collect(tasks, store=store, stop=stop, workers=2)
        assert first == second and len(list(store.chunk_rows())) == rows_before
        more = collect(tasks, store=store, stop=StopRule(max_shots=80_000, max_errors=None), workers=2)
    assert all(t.shots == 80_000 for t in more.values())


def test_same_seeds_same_counts(tmp_path):
    task = Task.memory("surface", distance=3, noise="sd6", p=0.005)
    stop = StopRule(max_shots=30_000, max_errors=None)
    counts = []
    for name in ("a.db", "b.db"):
        with Store(tmp_path / name) as store:
            collect([task], store=store, stop=stop, workers=1, chunk_seconds=0.05)
            counts.append(sorted((row[1], row[2], row[3]) for row in store.chunk_rows()))
    # Chunk sizes adapt to timing, so compare the first chunk, whose size is fixed: same seed, same errors.
    assert counts[0][0] == counts[1][0]


def test_postselection_counts_discards(tmp_path):
    circuit = Task.memory("repetition", distance=3, rounds=2, noise="phenomenological", p=0.05).circuit
    task = Task(circuit=circuit, decoder="pymatching", metadata={"postselect": "first detector"},
                postselected_detectors=(0,))
    with Store(tmp_path / "s.db") as store:
        totals = collect([task], store=store, stop=StopRule(max_shots=40_000, max_errors=None), workers=1)
    discards = totals[task.task_id].discards
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


@pytest.mark.parametrize("kwargs,message", [({"max_shots": None, "max_errors": None}, "never stops"),
                                            ({"max_shots": 0}, "max-shots must be >= 1"),
                                            ({"precision": 1.5}, "precision must be")])
def test_bad_stop_rules(kwargs, message):
    with pytest.raises(QecInputError, match=message):
        StopRule(**kwargs)
