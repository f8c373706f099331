"""Relay-BP: against BP, lookup and IBM's relay-bp package; reproducible; its memory strengths; its parameters."""

from __future__ import annotations

import numpy as np
import pytest
import stim

from qec import decoders
from qec.decoders.bp_osd import bp_decoder
from qec.decoders.bp_osd_kernels import LANES
from qec.decoders.dem_arrays import check_matrices
from qec.decoders.lookup import LookupDecoder
from qec.decoders.relay import RelayBpDecoder
from qec.decoders.relay_kernels import _grow_leg_table, _leg_memory_strengths
from qec.errors import QecInputError
from qec.memory import noisy_memory_circuit


def sample(circuit: stim.Circuit, shots: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    return circuit.compile_detector_sampler(seed=seed).sample(shots, separate_observables=True, bit_packed=True)


def predict(decoder, dem: stim.DetectorErrorModel, detection_events: np.ndarray) -> np.ndarray:
    compiled = decoder.compile_decoder_for_dem(dem=dem)
    return compiled.decode_shots_bit_packed(bit_packed_detection_event_data=detection_events)


def failures(predictions: np.ndarray, observables: np.ndarray) -> int:
    return int(np.count_nonzero(np.any(predictions != observables, axis=1)))


def test_relay_is_registered():
    assert isinstance(decoders.get("relay"), RelayBpDecoder)


@pytest.mark.slow
def test_relay_does_better_than_bp_where_bp_fails_often():
    # Color code d=5 (hyperedges, short cycles), uniform circuit noise p = 0.004: BP alone fails often
    # (measured on these 1000 shots: 'bp' 142, unscaled 104); Relay-BP fails a third to a fifth as often (29).
    # It must never do worse than either; the factor 2 is far outside the Poisson spread of these counts.
    circuit = noisy_memory_circuit("color", distance=5, noise="uniform", p=0.004)
    dem = circuit.detector_error_model()
    events, observables = sample(circuit, 1000, seed=21)
    bp = failures(predict(bp_decoder(), dem, events), observables)
    bp_unscaled = failures(predict(bp_decoder(scaling_factor=1.0), dem, events), observables)
    relay = failures(predict(RelayBpDecoder(), dem, events), observables)
    assert 2 * relay <= min(bp, bp_unscaled)


@pytest.mark.parametrize(
    "family, settings, most_disagreements",
    [
        # Measured disagreements on these 5000 shots: 0, 17 and 105 (the color code's weight-3 checks make
        # the most ties between equally likely corrections).
        ("surface", dict(distance=3, rounds=1, noise="code-capacity", p=0.05), 5),
        ("repetition", dict(distance=5, rounds=4, noise="uniform", p=0.03), 50),
        ("color", dict(distance=3, rounds=2, noise="uniform", p=0.01), 200),
    ],
)
def test_relay_agrees_with_lookup_on_small_codes(family, settings, most_disagreements):
    circuit = noisy_memory_circuit(family, **settings)
    dem = circuit.detector_error_model()
    assert dem.num_detectors <= 20
    events, observables = sample(circuit, 5000, seed=22)
    exact = predict(LookupDecoder(), dem, events)
    relay = predict(RelayBpDecoder(), dem, events)
    assert np.count_nonzero(np.any(exact != relay, axis=1)) <= most_disagreements
    # Lookup is the most likely error; Relay-BP's failures may exceed its by little (measured: 73 vs 73, 152 vs
    # 151, 397 vs 378).
    assert failures(relay, observables) <= 1.1 * failures(exact, observables) + 5


def test_relay_equals_ibms_relay_bp_given_the_same_memory_strengths():
    relay_bp = pytest.importorskip("relay_bp")
    # relay-bp's explicit_gammas row r % R serves its leg r = 1..R; ours are legs 1..R in rows 0..R-1.
    circuit = noisy_memory_circuit("color", distance=5, noise="uniform", p=0.004)
    dem = circuit.detector_error_model()
    matrices = check_matrices(dem)
    num_legs = 20
    ours = RelayBpDecoder(pre_iterations=20, num_legs=num_legs, leg_iterations=20, num_solutions=3)
    compiled = ours.compile_decoder_for_dem(dem=dem)
    events, _ = sample(circuit, 300, seed=23)
    predictions = compiled.decode_shots_bit_packed(bit_packed_detection_event_data=events)
    table = _grow_leg_table(np.empty((0, len(matrices.priors)), np.float32), 0, num_legs, num_legs, -0.24, 0.66, 0)
    peer = relay_bp.RelayDecoderF64(
        matrices.check_matrix.astype(np.uint8).tocsr(),
        error_priors=matrices.priors,
        gamma0=0.1,
        pre_iter=20,
        num_sets=num_legs,
        set_max_iter=20,
        gamma_dist_interval=(-0.24, 0.66),
        explicit_gammas=np.roll(table.astype(np.float64), 1, axis=0),
        stop_nconv=3,
    )
    runner = relay_bp.ObservableDecoderRunner(
        peer, matrices.observables_matrix.astype(np.uint8).tocsr(), include_decode_result=False
    )
    syndromes = np.unpackbits(events, axis=1, count=dem.num_detectors, bitorder="little")
    theirs = runner.decode_observables_batch(syndromes, parallel=False, progress_bar=False)
    theirs = np.packbits(theirs.astype(np.uint8), axis=1, bitorder="little")
    # Same algorithm, same strengths: the same predictions on all but a few shots, where sums taken in a
    # different order tip a posterior across 0 (measured: 1 of these 300 differs).
    assert np.count_nonzero(np.any(predictions != theirs, axis=1)) <= 6


def test_predictions_depend_only_on_the_syndrome_and_the_seed():
    circuit = noisy_memory_circuit("color", distance=3, rounds=3, noise="uniform", p=0.01)
    dem = circuit.detector_error_model()
    events, _ = sample(circuit, 400, seed=24)
    compiled = RelayBpDecoder(num_legs=40).compile_decoder_for_dem(dem=dem)
    whole = compiled.decode_shots_bit_packed(bit_packed_detection_event_data=events)
    halves = [
        compiled.decode_shots_bit_packed(bit_packed_detection_event_data=part) for part in (events[200:], events[:200])
    ]
    assert np.array_equal(whole, np.concatenate([halves[1], halves[0]]))
    again = RelayBpDecoder(num_legs=40).compile_decoder_for_dem(dem=dem)
    assert np.array_equal(whole, again.decode_shots_bit_packed(bit_packed_detection_event_data=events[::-1])[::-1])


@pytest.mark.parametrize(
    "family, distance, rounds, settings",
    [
        ("bb", 6, 2, {}),
        # short legs, few of them: shots end with 0 to 5 solutions, some on the last leg's hard decision
        ("bb", 6, 2, dict(pre_iterations=6, num_legs=4, leg_iterations=5)),
        ("color", 5, 5, {}),
        ("color", 5, 5, dict(pre_iterations=6, num_legs=4, leg_iterations=5, num_solutions=2)),
    ],
)
def test_shots_side_by_side_give_what_shots_one_at_a_time_give(family, distance, rounds, settings):
    # One call of 10 * LANES shots or more runs them in lanes; calls of 7 (< LANES) one at a time. Every shot's
    # prediction, solutions and iterations must be the same, bit for bit. At least 320 shots, whatever the host's
    # lane count (`lanes_for_host`: 16 on AVX-512, where 160 bb shots held none without detection events).
    circuit = noisy_memory_circuit(family, distance=distance, rounds=rounds, noise="uniform", p=0.004)
    events, _ = sample(circuit, max(10 * LANES, 320), seed=26)
    assert events.shape[0] >= 10 * LANES and (~events.any(axis=1)).any()
    compiled = RelayBpDecoder(**settings).compile_decoder_for_dem(dem=circuit.detector_error_model())
    counts = getattr(compiled, "inner", compiled)  # the basis-aware wrapper's decoder holds the counts
    whole = compiled.decode_shots_bit_packed(bit_packed_detection_event_data=events)
    solutions, iterations = counts.last_solutions, counts.last_iterations
    parts = []
    for start in range(0, len(events), 7):
        part = compiled.decode_shots_bit_packed(bit_packed_detection_event_data=events[start : start + 7])
        parts.append((part, counts.last_solutions, counts.last_iterations))
    assert np.array_equal(whole, np.concatenate([part[0] for part in parts]))
    assert np.array_equal(solutions, np.concatenate([part[1] for part in parts]))
    assert np.array_equal(iterations, np.concatenate([part[2] for part in parts]))
    if settings:  # the paths this test is for: legs that run out, shots with fewer solutions than asked for
        assert len(set(solutions.tolist())) >= 3 and whole.any()


def test_leg_memory_strengths_are_uniform_on_the_interval_and_differ_by_leg_and_seed():
    gammas = np.empty((3, 20000))
    for row, (leg, seed) in enumerate([(1, 0), (2, 0), (1, 1)]):
        _leg_memory_strengths(leg, seed, -0.24, 0.66, gammas[row])
    assert gammas.min() >= -0.24 and gammas.max() < 0.66
    # Mean 0.21 and standard deviation 0.9 / sqrt(12) = 0.26 per draw; 20000 draws: mean within 0.01 (5 sigma).
    assert np.allclose(gammas.mean(axis=1), 0.21, atol=0.01)
    assert np.allclose(gammas.std(axis=1), 0.9 / np.sqrt(12), atol=0.01)
    assert (gammas < 0).mean() == pytest.approx(0.24 / 0.9, abs=0.02)  # negative strengths, as the paper needs
    assert abs(np.corrcoef(gammas)[0, 1]) < 0.05 and abs(np.corrcoef(gammas)[0, 2]) < 0.05


def test_counts_report_solutions_and_iterations():
    circuit = noisy_memory_circuit("color", distance=3, rounds=3, noise="uniform", p=0.01)
    dem = circuit.detector_error_model()
    events, _ = sample(circuit, 200, seed=25)
    compiled = RelayBpDecoder(num_solutions=2, num_legs=10).compile_decoder_for_dem(dem=dem)
    compiled.decode_shots_bit_packed(bit_packed_detection_event_data=events)
    quiet = ~events.any(axis=1)
    assert quiet.any() and (~quiet).any()
    assert (compiled.last_iterations[quiet] == 0).all() and (compiled.last_iterations[~quiet] >= 1).all()
    assert set(compiled.last_solutions.tolist()) <= {0, 1, 2}
    assert (compiled.last_iterations <= 80 + 10 * 60).all()


@pytest.mark.parametrize(
    "settings, parameter",
    [
        (dict(pre_iterations=0), "pre_iterations"),
        (dict(num_legs=-1), "num_legs"),
        (dict(leg_iterations=0), "leg_iterations"),
        (dict(num_solutions=0), "num_solutions"),
        (dict(gamma_interval=(0.5, 0.1)), "gamma_interval"),
        (dict(scaling_factor=0.0), "scaling_factor"),
        (dict(seed=-1), "seed"),
    ],
)
def test_bad_parameters_are_refused_by_name(settings, parameter):
    with pytest.raises(QecInputError, match=parameter):
        RelayBpDecoder(**settings)
