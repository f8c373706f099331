"""Slices of a real sampled store (`qec.slices`, `qec.study.read_slice`): filters as JSON scalars, curves by any
key, split where a group repeats an x value, the threshold fit only where the curves are distances; and k = 2
logical qubits whose per-observable counts add up, sampled through the engine."""

import math

import numpy as np
import pymatching
import pytest
import stim

from qec.engine import StopRule
from qec.errors import QecInputError
from qec.sampling import BATCH
from qec.slices import parse_condition, parse_keys, select, slice_points
from qec.stats import per_qubit_rate
from qec.store import Store
from qec.study import collect_into, read_points, read_slice, study_tasks
from qec.task import Task, chunk_seed

STOP = StopRule(max_shots=3000, max_errors=10**6)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Repetition code, code-capacity flips, d = 3, 5 at p = 0.05, 0.1, 0.15, decoded by pymatching and uf."""
    path = tmp_path_factory.mktemp("slices") / "r.db"
    tasks = [
        task
        for decoder in ("pymatching", "uf")
        for task in study_tasks(
            "repetition", distances=[3, 5], ps=[0.05, 0.1, 0.15], noise="code-capacity", decoder=decoder
        )
    ]
    collect_into(tasks, store=path, stop=STOP, workers=1, chunk_shots=1500)
    return path


def test_conditions_compare_as_json_scalars(store):
    points = read_points(store).points
    assert len(points) == 12
    assert {pt.distance for pt in select(points, [parse_condition("distance=3")])} == {3}
    assert len(select(points, [parse_condition("distance=3.0")])) == 6  # numbers compare as numbers
    assert len(select(points, [parse_condition("p=0.1,0.15"), parse_condition("decoder=uf")])) == 4
    assert select(points, [parse_condition("basis=z")]) == []  # text matches exactly
    assert len(select(points, [parse_condition("basis=Z")])) == 12
    assert select(points, [parse_condition("family=3")]) == []  # the text "3" is not "repetition"
    for malformed in ("distance", "=3", "distance=", "distance=3,"):
        with pytest.raises(QecInputError, match="where="):
            parse_condition(malformed)


def test_unknown_keys_and_empty_selections_say_what_there_is(store):
    points = read_points(store).points
    with pytest.raises(QecInputError, match=r"group_by='colour' .* the keys are: basis, decoder, distance, family"):
        slice_points(points, group_by=["colour"])
    with pytest.raises(QecInputError, match=r"where='distance=7' matches no point; distance takes the values: 3, 5"):
        slice_points(points, where=[parse_condition("distance=7")])
    with pytest.raises(QecInputError, match=r"x='family' is a number in no picked point; the numeric keys are: "):
        slice_points(points, x="family")


def test_decoders_on_one_figure_are_split_by_distance_and_not_fitted(store):
    curves = read_slice(store, group_by=parse_keys(["decoder"]))
    assert [curve.label for curve in curves.curves.curves] == [
        "decoder=pymatching, distance=3",
        "decoder=pymatching, distance=5",
        "decoder=uf, distance=3",
        "decoder=uf, distance=5",
    ]
    assert curves.curves.split_by == ("distance",) and curves.study is None
    assert "both have distance 3 (they differ in decoder)" in curves.no_fit
    for curve in curves.curves.curves:
        assert [pt.p for pt in curve.points] == [0.05, 0.1, 0.15]  # sorted by x
    with pytest.raises(QecInputError, match=r"fit=True cannot be done: .* \(fit=False\)"):
        read_slice(store, group_by=["decoder"], fit=True)


def test_one_decoder_is_a_threshold_study_again(store):
    picked = read_slice(store, where=[parse_condition("decoder=uf")])
    assert [curve.label for curve in picked.curves.curves] == ["distance=3", "distance=5"]
    assert picked.no_fit is None and picked.study is not None
    assert {pt.distance for pt in picked.study.points} == {3, 5} and len(picked.study.points) == 6
    assert read_slice(store, where=[parse_condition("decoder=uf")], fit=False).study is None
    qubit = read_slice(store, where=[parse_condition("decoder=uf")], rate="qubit")
    assert qubit.study is None and "not per qubit" in qubit.no_fit


def test_any_numeric_key_on_x(store):
    picked = read_slice(store, where=[parse_condition("p=0.1")], group_by=["decoder"], x="distance")
    assert [curve.label for curve in picked.curves.curves] == ["decoder=pymatching", "decoder=uf"]
    assert [[pt.distance for pt in curve.points] for curve in picked.curves.curves] == [[3, 5], [3, 5]]
    assert "p on the x axis" in picked.no_fit
    document = picked.as_dict(rate="round")
    assert [point["x"] for point in document["curves"][0]["points"]] == [3, 5]
    first = document["curves"][0]["points"][0]
    assert first["shown_rate"] == pytest.approx(first["rate_per_operation"])


def two_repetition_codes(p: float) -> stim.Circuit:
    """Two distance-3 repetition-code memories one after the other (each resets its qubits first): two
    independent logical qubits, observables 0 and 1."""
    one = stim.Circuit.generated("repetition_code:memory", distance=3, rounds=3, before_round_data_depolarization=p)
    second = "\n".join(
        line.replace("OBSERVABLE_INCLUDE(0)", "OBSERVABLE_INCLUDE(1)")
        for line in str(one.flattened()).splitlines()
        if not line.startswith("QUBIT_COORDS")
    )
    return one.flattened() + stim.Circuit(second)


def test_two_logical_qubits_counts_add_up(tmp_path):
    circuit = two_repetition_codes(0.08)
    assert circuit.num_observables == 2
    task = Task(circuit=circuit, decoder="pymatching", metadata={"family": "rep2", "distance": 3, "p": 0.08})
    path = tmp_path / "k2.db"
    collect_into([task], store=path, stop=StopRule(max_shots=20_000, max_errors=10**6), workers=1, chunk_shots=5000)
    (point,) = read_points(path).points
    assert point.observables == 2 and point.counts.shots == 20_000

    # The same shots again (the chunk seeds), decoded here by pymatching directly: every count agrees.
    matching = pymatching.Matching.from_detector_error_model(circuit.detector_error_model(decompose_errors=True))
    with Store(path, read_only=True) as results:
        chunks = [(row.chunk_index, row.counts.shots) for row in results.chunk_rows()]
    errors, per_observable = 0, np.zeros(2, dtype=np.int64)
    for index, shots in chunks:
        sampler = circuit.compile_detector_sampler(seed=chunk_seed(task.task_id, index))
        for first in range(0, shots, BATCH):
            detections, observables = sampler.sample(min(BATCH, shots - first), separate_observables=True)
            wrong = matching.decode_batch(detections) != observables
            errors += int(np.count_nonzero(wrong.any(axis=1)))
            per_observable += wrong.sum(axis=0)
    assert point.counts.errors == errors and point.observable_errors == tuple(int(n) for n in per_observable)
    assert max(per_observable) <= errors <= sum(per_observable)

    # Independent, identical logical qubits: the rate per qubit, 1 - sqrt(1 - P), estimates each observable's
    # own rate; within 5 sigma of their mean (sigma from the binomial variance of 40,000 observable trials).
    mean = sum(rate.rate for rate in point.observable_rates) / 2
    sigma = math.sqrt(mean * (1 - mean) / (2 * point.counts.shots))
    assert abs(point.rate_per_qubit - mean) < 5 * sigma
    low, high = point.rate_per_qubit_interval
    assert (low, high) == pytest.approx(tuple(per_qubit_rate(end, observables=2) for end in point.rate_interval))
    assert low < point.rate_per_qubit < high

    # Per-observable counts survive export and import (sinter's custom counts).
    with Store(path, read_only=True) as results, Store(tmp_path / "copy.db") as copy:
        copy.import_sinter_csv(results.to_sinter_csv(), source="export.csv")
    (copied,) = read_points(tmp_path / "copy.db").points
    assert copied.observable_errors == point.observable_errors
