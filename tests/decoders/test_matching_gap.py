"""Matching's complementary gap (decoders/matching_gap.py): exact against brute force on a small DEM, the same
predictions as plain PyMatching on a surface code, and a gap that means what it says (a coin flip near 0 dB,
fewer failures the larger it is); DEMs whose observables are no cuts are refused."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pymatching
import pytest
import stim

from qec import decoders
from qec.decoders.dem_arrays import decoding_dem
from qec.decoders.matching import PyMatchingDecoder
from qec.decoders.matching_gap import MatchingGap
from qec.errors import QecInputError
from qec.parts import memory_task


def _random_probabilities(dem: stim.DetectorErrorModel, seed: int) -> stim.DetectorErrorModel:
    rng = np.random.default_rng(seed)
    out = stim.DetectorErrorModel()
    for instruction in dem.flattened():
        if instruction.type == "error":
            out.append("error", float(rng.uniform(0.01, 0.3)), instruction.targets_copy())
        else:
            out.append(instruction)
    return out


def _brute_force(dem: stim.DetectorErrorModel) -> dict[tuple[int, ...], dict[int, float]]:
    """For each syndrome, the lightest weight sum(ln((1 - p) / p)) of an error set in each logical class."""
    errors = []
    for instruction in dem.flattened():
        if instruction.type == "error":
            targets = instruction.targets_copy()
            detectors = sum(1 << t.val for t in targets if t.is_relative_detector_id())
            observables = sum(1 << t.val for t in targets if t.is_logical_observable_id())
            p = instruction.args_copy()[0]
            errors.append((detectors, observables, math.log((1 - p) / p)))
    best: dict[tuple[int, ...], dict[int, float]] = {}
    for chosen in itertools.product((0, 1), repeat=len(errors)):
        detectors = observables = 0
        weight = 0.0
        for pick, (d, o, w) in zip(chosen, errors):
            if pick:
                detectors, observables, weight = detectors ^ d, observables ^ o, weight + w
        syndrome = tuple((detectors >> k) & 1 for k in range(dem.num_detectors))
        classes = best.setdefault(syndrome, {})
        classes[observables] = min(classes.get(observables, math.inf), weight)
    return best


def test_the_gap_is_the_weight_difference_of_the_two_lightest_classes_by_brute_force():
    circuit = stim.Circuit.generated(
        "repetition_code:memory",
        distance=3,
        rounds=2,
        before_round_data_depolarization=0.1,
        before_measure_flip_probability=0.1,
    )
    dem = _random_probabilities(circuit.detector_error_model(), seed=5)
    assert dem.num_errors <= 14  # 2^14 error sets to enumerate
    truth = _brute_force(dem)
    syndromes = np.array(list(truth), dtype=np.uint8)
    predictions, gaps = MatchingGap(dem).decode(np.packbits(syndromes, axis=1, bitorder="little"))
    for syndrome, prediction, gap in zip(truth, predictions[:, 0], gaps):
        weights = sorted(truth[syndrome].items(), key=lambda item: item[1])
        (lightest, w0), (_, w1) = weights[0], weights[1]
        assert gap == pytest.approx(10 / math.log(10) * (w1 - w0), abs=1e-6), syndrome
        if w1 - w0 > 1e-9:
            assert prediction == lightest, syndrome


@pytest.fixture(scope="module")
def surface_shots():
    task = memory_task("surface", distance=5, noise="uniform", p=0.01)
    dem = decoding_dem(task.circuit)
    events, observables = task.circuit.compile_detector_sampler(seed=11).sample(
        20_000, separate_observables=True, bit_packed=True
    )
    compiled = PyMatchingDecoder().compile_decoder_for_dem(dem=dem)
    predictions, gaps = compiled.decode_shots_with_gap(bit_packed_detection_event_data=events)
    plain = pymatching.Matching.from_detector_error_model(dem).decode_batch(
        events, bit_packed_shots=True, bit_packed_predictions=True
    )
    return predictions, gaps, plain, np.any(predictions != observables, axis=1)


def test_predictions_are_plain_pymatchings_but_for_ties(surface_shots):
    predictions, gaps, plain, _ = surface_shots
    differ = np.any(predictions != plain, axis=1)
    assert differ.mean() < 1e-3
    assert np.all(gaps[differ] < 0.5)  # where they differ, the two classes weigh (nearly) the same


def test_a_gap_near_zero_is_a_coin_flip_and_larger_gaps_fail_less(surface_shots):
    _, gaps, _, failed = surface_shots
    assert np.all(gaps >= 0) and gaps.dtype == np.float64
    coin = failed[gaps < 1]
    # ~800 shots at p = 0.01, d = 5: 5 sigma of a fair coin is 5 * 0.5 / sqrt(800) ~ 0.09
    assert len(coin) > 300 and abs(coin.mean() - 0.5) < 5 * 0.5 / math.sqrt(len(coin))
    rates = [failed[gaps >= g].mean() for g in (0, 4, 8, 12)]
    assert rates[0] > rates[1] > rates[2] > rates[3]
    assert rates[3] < rates[0] / 3  # measured ~1/4: 2.1% of the shots kept at 12 dB against 8.2% of all


def test_the_registry_says_which_decoders_give_gaps_and_a_syndrome_fixed_class_has_an_infinite_gap():
    compiled = decoders.get("pymatching").compile_decoder_for_dem(dem=stim.DetectorErrorModel("error(0.1) D0 L0"))
    assert decoders.gives_gap(compiled) and decoders.gives_gap(decoders.get("pymatching"))
    assert decoders.gives_gap(decoders.get("bposd")) and not decoders.gives_gap(decoders.get("relay"))
    if "pymatching-correlated" in decoders.names():  # two-pass weights: no gap
        assert not decoders.gives_gap(decoders.get("pymatching-correlated"))
    # the observable is the detector itself: its class follows from the syndrome, so the gap is infinite
    predictions, gaps = compiled.decode_shots_with_gap(bit_packed_detection_event_data=np.array([[0], [1]], np.uint8))
    assert predictions.tolist() == [[0], [1]] and np.all(np.isinf(gaps))


def test_errors_of_probability_above_one_half_are_split_off_first():
    dem = stim.DetectorErrorModel("error(0.9) D0 L0\nerror(0.1) D0 D1\nerror(0.2) D1")
    compiled = PyMatchingDecoder().compile_decoder_for_dem(dem=dem)
    predictions, gaps = compiled.decode_shots_with_gap(bit_packed_detection_event_data=np.array([[1], [0]], np.uint8))
    plain = compiled.decode_shots_bit_packed(bit_packed_detection_event_data=np.array([[1], [0]], np.uint8))
    assert predictions.tolist() == plain.tolist() and np.all(gaps > 0)


@pytest.mark.parametrize(
    "text, message",
    [
        ("error(0.1) D0 D1 L0\nerror(0.1) D1 D2\nerror(0.1) D2 D0\nerror(0.1) D0", "away from any boundary"),
        ("error(0.1) D0 L0 L1\nerror(0.1) D0 D1\nerror(0.1) D1", "flips L0, L1 at once"),
        ("error(0.1) D0 D1 D2 L0", "not graphlike"),
        ("\n".join(f"error(0.1) D{k} L{k}\nerror(0.1) D{k} D5" for k in range(5)) + "\nerror(0.1) D5", "k <= 4"),
    ],
)
def test_dems_whose_observables_are_no_cuts_are_refused(text, message):
    with pytest.raises(QecInputError, match=message):
        MatchingGap(stim.DetectorErrorModel(text))


def test_a_toric_like_circuit_is_refused_by_check_gap_circuit_before_sampling():
    # a repetition code on a ring: the observable is flipped by a cycle of two-detector errors
    circuit = stim.Circuit(
        """
        X_ERROR(0.1) 0 1 2
        M 0 1 2
        DETECTOR rec[-1] rec[-2]
        DETECTOR rec[-2] rec[-3]
        DETECTOR rec[-3] rec[-1]
        OBSERVABLE_INCLUDE(0) rec[-1]
        """
    )
    PyMatchingDecoder().check_circuit(circuit)  # plain matching is fine
    with pytest.raises(QecInputError, match="no matching gap"):
        PyMatchingDecoder().check_gap_circuit(circuit)
