"""BP and BP+OSD: hyperedge DEMs (color code), agreement with ldpc, and below-threshold decoding."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import stim

from qec import decoders
from qec.decoders.bp_osd import BpOsdDecoder, bp_decoder
from qec.decoders.bp_osd_kernels import LANES
from qec.decoders.dem_arrays import check_matrices
from qec.errors import QecInputError
from qec.memory import noisy_memory_circuit


def logical_errors(decoder, circuit, shots: int, seed: int) -> int:
    dem = circuit.detector_error_model()
    detection_events, observables = circuit.compile_detector_sampler(seed=seed).sample(
        shots, separate_observables=True, bit_packed=True
    )
    predictions = decoder.compile_decoder_for_dem(dem=dem).decode_shots_bit_packed(
        bit_packed_detection_event_data=detection_events
    )
    return int(np.count_nonzero(np.any(predictions != observables, axis=1)))


@pytest.mark.parametrize("osd_method", ["osd0", "osd_cs"])
@pytest.mark.parametrize("distance", [3, 5])
def test_bposd_corrects_every_single_error_of_the_color_code(osd_method, distance):
    # Code capacity with depolarizing noise: X, Y and Z errors, whose DEM errors flip up to 3 detectors.
    # Unscaled min-sum: with scaling 0.625 BP can satisfy the syndrome with a heavier error in one
    # iteration (d=3: {D0 D1 D2} as 4 errors, not 1) and so never reach OSD; ldpc does the same.
    circuit = noisy_memory_circuit("color", distance=distance, rounds=2, noise="code-capacity", p=0.01)
    dem = circuit.detector_error_model()
    matrices = check_matrices(dem)
    assert matrices.check_matrix.sum(axis=0).max() == 3  # hyperedges, which matching cannot take
    check = matrices.check_matrix.toarray()
    flips = matrices.observables_matrix.toarray()
    syndromes = np.packbits(check.T, axis=1, bitorder="little")
    observables = np.packbits(flips.T, axis=1, bitorder="little")
    compiled = BpOsdDecoder(scaling_factor=1.0, osd_method=osd_method).compile_decoder_for_dem(dem=dem)
    assert (compiled.decode_shots_bit_packed(bit_packed_detection_event_data=syndromes) == observables).all()


def test_bposd_decodes_the_color_code_below_threshold():
    # Uniform circuit noise p = 0.001 is well below the color code's BP+OSD threshold (~0.3-0.5%):
    # measured 44 / 4000 failures at d=3 and 3 / 4000 at d=5. d=5 must fail at most a third as often
    # as d=3 (its Poisson spread at the measured means puts that > 5 sigma away).
    decoder = decoders.get("bposd")
    errors = {
        d: logical_errors(decoder, noisy_memory_circuit("color", distance=d, noise="uniform", p=0.001), 4000, 3)
        for d in (3, 5)
    }
    assert errors[3] > 20
    assert 3 * errors[5] < errors[3]


def test_bposd_equals_ldpc_at_matched_settings():
    ldpc = pytest.importorskip("ldpc")
    circuit = noisy_memory_circuit("color", distance=5, noise="uniform", p=0.004)
    dem = circuit.detector_error_model()
    matrices = check_matrices(dem)
    detection_events, _ = circuit.compile_detector_sampler(seed=11).sample(
        300, separate_observables=True, bit_packed=True
    )
    ours = BpOsdDecoder(max_iterations=20, scaling_factor=0.625, osd_method="osd_cs", osd_order=6)
    predictions = ours.compile_decoder_for_dem(dem=dem).decode_shots_bit_packed(
        bit_packed_detection_event_data=detection_events
    )
    peer = ldpc.BpOsdDecoder(
        matrices.check_matrix,
        error_channel=list(matrices.priors),
        max_iter=20,
        bp_method="minimum_sum",
        ms_scaling_factor=0.625,
        schedule="parallel",
        osd_method="osd_cs",
        osd_order=6,
    )
    syndromes = np.unpackbits(detection_events, axis=1, bitorder="little")[:, : dem.num_detectors]
    peer_predictions = np.array([matrices.observables_matrix @ peer.decode(s) % 2 for s in syndromes])
    ours_unpacked = np.unpackbits(predictions, axis=1, bitorder="little")[:, : dem.num_observables]
    assert (ours_unpacked == peer_predictions).all()


def test_bp_alone_decodes_the_repetition_code():
    # On a cycle-free Tanner graph (repetition code, code capacity) unscaled min-sum BP converges to the
    # most likely error, so every single and double error of a distance-5 code is corrected.
    circuit = noisy_memory_circuit(
        "repetition", distance=5, rounds=1, noise="code-capacity", p=0.05, pauli="independent"
    )
    dem = circuit.detector_error_model()
    matrices = check_matrices(dem)
    check = matrices.check_matrix.toarray()
    flips = matrices.observables_matrix.toarray()
    sets = [list(s) for w in (1, 2) for s in itertools.combinations(range(check.shape[1]), w)]
    syndromes = np.packbits(np.array([check[:, s].sum(axis=1) % 2 for s in sets]), axis=1, bitorder="little")
    observables = np.packbits(np.array([flips[:, s].sum(axis=1) % 2 for s in sets]), axis=1, bitorder="little")
    compiled = bp_decoder(scaling_factor=1.0).compile_decoder_for_dem(dem=dem)
    assert (compiled.decode_shots_bit_packed(bit_packed_detection_event_data=syndromes) == observables).all()


@pytest.mark.parametrize(
    "arguments, message",
    [
        (dict(osd_method="osd_e"), "unknown osd_method 'osd_e': choose one of osd0, osd_cs"),
        (dict(scaling_factor=0.0), r"scaling_factor must be in \(0, 1\], got 0.0"),
        (dict(max_iterations=0), "max_iterations must be >= 1, got 0"),
        (dict(osd_order=-1), "osd_order must be >= 0, got -1"),
        (dict(schedule="serial"), "unknown schedule 'serial': choose one of parallel, layered"),
        (dict(compare_classes="yes"), "compare_classes must be true or false, got 'yes'"),
        (dict(descent=1), "descent must be 0 \\(none\\) or 2 to 4 errors, got 1"),
        (dict(descent=5), "descent must be 0 \\(none\\) or 2 to 4 errors, got 5"),
        (dict(descent=True), "descent must be 0 \\(none\\) or 2 to 4 errors, got True"),
    ],
)
def test_bad_settings_are_refused(arguments, message):
    with pytest.raises(QecInputError, match=message):
        BpOsdDecoder(**arguments)


def slow_min_sum(check: np.ndarray, weights: np.ndarray, syndrome: np.ndarray, iterations: int, scaling: float):
    """Textbook scaled min-sum BP on a dense check matrix, in plain Python: the last hard decision (posterior <= 0).

    A check of one variable sends it infinity, so a variable that two such checks pull apart gets a NaN
    posterior and sends NaN: it counts as positive and is left out of the minimum, as in ldpc's `<` tests.
    Messages, posteriors and the scaling factor are float32, as the kernels' are (`bp_kernels.MESSAGE_DTYPE`).
    """
    checks, variables = check.shape
    scaling = np.float32(scaling)
    weights = weights.astype(np.float32)
    neighbours = [np.flatnonzero(check[row]) for row in range(checks)]
    to_check = {(row, column): weights[column] for row in range(checks) for column in neighbours[row]}
    hard = np.zeros(variables, dtype=np.uint8)
    for _ in range(iterations):
        to_variable = {}
        for row in range(checks):
            for column in neighbours[row]:
                others = [to_check[row, other] for other in neighbours[row] if other != column]
                negative = (syndrome[row] + sum(value < 0 for value in others)) % 2
                magnitude = scaling * min(
                    (abs(value) for value in others if not math.isnan(value)), default=np.float32(np.inf)
                )
                to_variable[row, column] = -magnitude if negative else magnitude
        for column in range(variables):
            rows = np.flatnonzero(check[:, column])
            total = weights[column]
            with np.errstate(invalid="ignore"):  # inf - inf: the NaN above
                for row in rows:  # summed in check order, from the prior
                    total += to_variable[row, column]
                hard[column] = total <= 0
                for row in rows:
                    to_check[row, column] = total - to_variable[row, column]
        if ((check @ hard) % 2 == syndrome).all():
            break
    return hard


def assert_bp_equals_slow_min_sum(dem, detection_events, iterations: int, scaling: float):
    matrices = check_matrices(dem)
    check = matrices.check_matrix.toarray().astype(np.int64)
    flips = matrices.observables_matrix.toarray().astype(np.int64)
    weights = np.log1p(-matrices.priors) - np.log(matrices.priors)
    syndromes = np.unpackbits(detection_events, axis=1, bitorder="little")[:, : dem.num_detectors]
    compiled = bp_decoder(max_iterations=iterations, scaling_factor=scaling, basis_aware=False).compile_decoder_for_dem(
        dem=dem
    )
    predictions = compiled.decode_shots_bit_packed(bit_packed_detection_event_data=detection_events)
    ours = np.unpackbits(predictions, axis=1, bitorder="little")[:, : dem.num_observables]
    expected = np.array([flips @ slow_min_sum(check, weights, s, iterations, scaling) % 2 for s in syndromes])
    assert (ours == expected).all()


def test_bp_equals_a_slow_textbook_min_sum_shot_for_shot():
    # The kernel's message layout, two-minimum check update and incremental convergence test must give
    # exactly the textbook algorithm's hard decision, ties and all (a color code: hyperedges, short cycles,
    # equal priors; about a third of these shots do not converge, and scaling 1.0 would change 34 of 200).
    circuit = noisy_memory_circuit("color", distance=3, rounds=3, noise="uniform", p=0.01)
    sampler = circuit.compile_detector_sampler(seed=5)
    detection_events, _ = sampler.sample(200, separate_observables=True, bit_packed=True)
    assert_bp_equals_slow_min_sum(circuit.detector_error_model(), detection_events, 12, 0.625)


@pytest.mark.parametrize("scaling", [1.0, 0.625])
def test_bp_skips_nan_messages_as_the_textbook_min_sum_does(scaling):
    # D5 and D6 are flipped by one error only: with one of them set, that error's posterior is inf - inf
    # and it sends NaN to D2, whose other messages must still give the minimum (every syndrome).
    dem = stim.DetectorErrorModel("""
        error(0.1) D0 D1
        error(0.1) D1 D2 L0
        error(0.05) D2 D3
        error(0.1) D3 D4
        error(0.2) D1 D3
        error(0.1) D2
        error(0.1) D2 D5 D6
    """)
    syndromes = np.array(list(itertools.product([0, 1], repeat=dem.num_detectors)), dtype=np.uint8)
    detection_events = np.packbits(syndromes, axis=1, bitorder="little")
    assert_bp_equals_slow_min_sum(dem, detection_events, 10, scaling)


@pytest.mark.parametrize(
    "family, distance, p, settings",
    [
        ("bb", 6, 0.004, dict(max_iterations=80, scaling_factor=1.0, osd_order=10)),
        ("color", 5, 0.006, dict(max_iterations=12, scaling_factor=0.625, osd_method="osd0")),
        ("color", 5, 0.006, dict(max_iterations=12, scaling_factor=0.625, osd_method=None)),
        ("bb", 6, 0.004, dict(max_iterations=30, scaling_factor=0.8, osd_order=10, schedule="layered")),
        ("color", 5, 0.006, dict(max_iterations=12, scaling_factor=0.625, osd_method=None, schedule="layered")),
        ("color", 5, 0.006, dict(max_iterations=12, osd_order=10, schedule="layered", descent=4)),
        ("bb", 6, 0.004, dict(max_iterations=30, scaling_factor=0.8, osd_order=10, descent=3)),
    ],
)
def test_a_batch_decoded_in_lanes_equals_it_decoded_shot_by_shot(family, distance, p, settings):
    # Batches of LANES or more shots run BP on LANES shots side by side; smaller ones a shot at a time.
    # Shots join and leave lanes at different iterations (some converge at once, some go to OSD), and
    # shots without defects are passed over: every prediction must still be the one-at-a-time one.
    circuit = noisy_memory_circuit(family, distance=distance, rounds=2, noise="uniform", p=p)
    dem = circuit.detector_error_model()
    detection_events, _ = circuit.compile_detector_sampler(seed=3).sample(
        10 * LANES + 5, separate_observables=True, bit_packed=True
    )
    detection_events[::9] = 0
    compiled = BpOsdDecoder(**settings).compile_decoder_for_dem(dem=dem)
    in_lanes = compiled.decode_shots_bit_packed(bit_packed_detection_event_data=detection_events)
    one_by_one = np.concatenate(
        [
            compiled.decode_shots_bit_packed(bit_packed_detection_event_data=detection_events[start : start + 7])
            for start in range(0, len(detection_events), 7)
        ]
    )
    assert np.count_nonzero(in_lanes) > 0
    assert np.array_equal(in_lanes, one_by_one)


def slow_layered_min_sum(check: np.ndarray, weights: np.ndarray, syndrome: np.ndarray, iterations: int, scaling: float):
    """Textbook layered (check-serial) scaled min-sum in plain Python: the last hard decision (posterior <= 0).
    In float32, as `slow_min_sum`."""
    checks, variables = check.shape
    scaling = np.float32(scaling)
    neighbours = [np.flatnonzero(check[row]) for row in range(checks)]
    posterior = weights.astype(np.float32)
    to_variable = {(row, column): np.float32(0.0) for row in range(checks) for column in neighbours[row]}
    hard = np.zeros(variables, dtype=np.uint8)
    for _ in range(iterations):
        for row in range(checks):
            incoming = {column: posterior[column] - to_variable[row, column] for column in neighbours[row]}
            for column in neighbours[row]:
                others = [incoming[other] for other in neighbours[row] if other != column]
                negative = (syndrome[row] + sum(value < 0 for value in others)) % 2
                magnitude = scaling * min((abs(value) for value in others), default=np.float32(np.inf))
                to_variable[row, column] = -magnitude if negative else magnitude
                posterior[column] = incoming[column] + to_variable[row, column]
        hard = (posterior <= 0).astype(np.uint8)
        if ((check @ hard) % 2 == syndrome).all():
            break
    return hard


def test_layered_bp_equals_a_slow_textbook_layered_min_sum_shot_for_shot():
    circuit = noisy_memory_circuit("color", distance=3, rounds=3, noise="uniform", p=0.01)
    dem = circuit.detector_error_model()
    sampler = circuit.compile_detector_sampler(seed=5)
    detection_events, _ = sampler.sample(200, separate_observables=True, bit_packed=True)
    matrices = check_matrices(dem)
    check = matrices.check_matrix.toarray().astype(np.int64)
    weights = np.log1p(-matrices.priors) - np.log(matrices.priors)
    syndromes = np.unpackbits(detection_events, axis=1, bitorder="little")[:, : dem.num_detectors]
    decoder = bp_decoder(max_iterations=12, scaling_factor=0.625, schedule="layered", basis_aware=False)
    predictions = decoder.compile_decoder_for_dem(dem=dem).decode_shots_bit_packed(
        bit_packed_detection_event_data=detection_events
    )
    ours = np.unpackbits(predictions, axis=1, bitorder="little")[:, : dem.num_observables]
    flips = matrices.observables_matrix.toarray().astype(np.int64)
    expected = np.array([flips @ slow_layered_min_sum(check, weights, s, 12, 0.625) % 2 for s in syndromes])
    assert (ours == expected).all()


@pytest.mark.slow
def test_layered_bposd_fails_fewer_colour_code_shots_than_parallel():
    # Measured: colour d = 5, 5 rounds, uniform p = 0.002, 10,000 shots (seed 1234): 66 failures parallel, 42
    # layered, 36 Tesseract. Paired on the same shots, layered must win by a margin no sampling noise explains.
    circuit = noisy_memory_circuit("color", distance=5, rounds=5, noise="uniform", p=0.002)
    parallel = logical_errors(BpOsdDecoder(), circuit, 10_000, seed=1234)
    layered = logical_errors(BpOsdDecoder(schedule="layered"), circuit, 10_000, seed=1234)
    assert layered < 0.8 * parallel, (layered, parallel)


def test_an_ensemble_keeps_each_shots_lightest_correction():
    circuit = noisy_memory_circuit("color", distance=5, rounds=3, noise="uniform", p=0.006)
    dem = circuit.detector_error_model()
    detection_events, _ = circuit.compile_detector_sampler(seed=8).sample(
        4 * LANES, separate_observables=True, bit_packed=True
    )
    members = [
        BpOsdDecoder(schedule="layered", scaling_factor=factor).compile_decoder_for_dem(dem=dem)
        for factor in (0.625, 0.9)
    ]
    runs = [member._run(detection_events, member.scaling_factor) for member in members]
    ensemble = BpOsdDecoder(schedule="layered", ensemble=(0.9,)).compile_decoder_for_dem(dem=dem)
    predictions = ensemble.decode_shots_bit_packed(bit_packed_detection_event_data=detection_events)
    # the second member decodes only the shots the first sent to OSD, and wins those where it is lighter
    lighter = (runs[1][1] < runs[0][1]) & runs[0][2]
    assert lighter.any() and (~lighter & runs[0][2]).any()  # both members win somewhere
    assert np.array_equal(predictions, np.where(lighter[:, None], runs[1][0], runs[0][0]))
    # the weights are the corrections' own: a converged or OSD correction explains the syndrome, so its weight is
    # at least the lightest possible one's, and a shot without defects weighs nothing
    assert (runs[0][1][~detection_events.any(axis=1)] == 0).all()
    # an ensemble of the decoder's own scaling factor changes nothing
    same = BpOsdDecoder(schedule="layered", ensemble=(0.625,)).compile_decoder_for_dem(dem=dem)
    assert np.array_equal(same.decode_shots_bit_packed(bit_packed_detection_event_data=detection_events), runs[0][0])


def test_an_ensemble_of_bad_scaling_factors_is_refused():
    with pytest.raises(QecInputError, match=r"ensemble must be scaling factors in \(0, 1\], got \[1.5\]"):
        BpOsdDecoder(ensemble=(1.5,))


def test_comparing_classes_predicts_the_class_of_the_lightest_correction_found():
    circuit = noisy_memory_circuit("color", distance=5, rounds=3, noise="uniform", p=0.006)
    dem = circuit.detector_error_model()
    detection_events, _ = circuit.compile_detector_sampler(seed=8).sample(
        2_000, separate_observables=True, bit_packed=True
    )
    plain = BpOsdDecoder(schedule="layered").compile_decoder_for_dem(dem=dem)
    compared = BpOsdDecoder(schedule="layered", compare_classes=True).compile_decoder_for_dem(dem=dem)
    predictions = compared.decode_shots_bit_packed(bit_packed_detection_event_data=detection_events)
    _, _, to_osd = plain._run(detection_events, plain.scaling_factor)
    plain_predictions = plain.decode_shots_bit_packed(bit_packed_detection_event_data=detection_events)
    with_gap, _ = plain.decode_shots_with_gap(bit_packed_detection_event_data=detection_events)
    # where BP converged nothing changes; where it did not, the prediction is the gap's (the lightest class found)
    assert np.array_equal(predictions[~to_osd], plain_predictions[~to_osd])
    assert np.array_equal(predictions[to_osd], with_gap[to_osd])
    changed = np.any(predictions != plain_predictions, axis=1)
    assert changed.any() and to_osd[changed].all()


def test_descent_finds_lighter_corrections_never_heavier_ones_and_fewer_failures():
    """On hard shots (colour d = 5 at p = 0.008, OSD-0 so that OSD leaves weight to take), the descent's
    corrections weigh at most OSD's; at least 10 weigh less, most of them on shots BP left to OSD; fewer shots
    fail."""
    circuit = noisy_memory_circuit("color", distance=5, rounds=3, noise="uniform", p=0.008)
    dem = circuit.detector_error_model()
    detection_events, observables = circuit.compile_detector_sampler(seed=5).sample(
        3_000, separate_observables=True, bit_packed=True
    )
    settings = dict(schedule="layered", osd_method="osd0", max_iterations=8)
    plain = BpOsdDecoder(**settings).compile_decoder_for_dem(dem=dem)
    descended = BpOsdDecoder(**settings, descent=4).compile_decoder_for_dem(dem=dem)
    plain_predictions, plain_weights, to_osd = plain._decode_weighted(detection_events)
    predictions, weights, _ = descended._decode_weighted(detection_events)
    assert np.all(weights <= plain_weights + 1e-9)
    lighter = weights < plain_weights - 1e-9
    assert lighter.sum() >= 10 and to_osd[lighter].mean() > 0.5
    # an undetectable set's flip changes the class by its observables: fewer failures than OSD-0 alone
    fails = np.any(predictions != observables, axis=1).sum()
    assert fails < np.any(plain_predictions != observables, axis=1).sum()
