"""The lookup decoder against brute-force maximum likelihood over every error set."""

from __future__ import annotations

import numpy as np
import pytest

from qec.decoders.dem_arrays import check_matrices
from qec.decoders.lookup import LookupDecoder
from qec.errors import QecInputError
from qec.memory import noisy_memory_circuit

SMALL_CIRCUITS = {
    "surface d=3 code capacity": dict(
        family="surface", distance=3, rounds=1, noise="code-capacity", p=0.07, pauli="independent"
    ),
    "repetition d=3 phenomenological": dict(
        family="repetition", distance=3, rounds=2, noise="phenomenological", p=0.05, pauli="independent"
    ),
    "color d=3 code capacity (hyperedges)": dict(family="color", distance=3, rounds=2, noise="code-capacity", p=0.03),
}


def brute_force_most_likely(dem) -> tuple[dict[int, float], dict[int, set[int]]]:
    """For each syndrome (as an int), the largest log(P(E) / P(no error)) over all error sets E, and the
    observable masks of every E reaching it."""
    matrices = check_matrices(dem)
    check = matrices.check_matrix.toarray().astype(np.int64)
    flips = matrices.observables_matrix.toarray().astype(np.int64)
    num_errors = check.shape[1]
    assert num_errors <= 18, "brute force is exponential"
    syndromes = np.zeros(1, dtype=np.int64)
    observables = np.zeros(1, dtype=np.int64)
    log_odds = np.zeros(1)
    for error in range(num_errors):
        syndrome_mask = int(np.dot(check[:, error], 1 << np.arange(check.shape[0])))
        observable_mask = int(np.dot(flips[:, error], 1 << np.arange(flips.shape[0])))
        p = matrices.priors[error]
        syndromes = np.concatenate([syndromes, syndromes ^ syndrome_mask])
        observables = np.concatenate([observables, observables ^ observable_mask])
        log_odds = np.concatenate([log_odds, log_odds + np.log(p / (1 - p))])
    best: dict[int, float] = {}
    for syndrome, value in zip(syndromes.tolist(), log_odds.tolist()):
        best[syndrome] = max(best.get(syndrome, -np.inf), value)
    argmax: dict[int, set[int]] = {}
    for syndrome, observable, value in zip(syndromes.tolist(), observables.tolist(), log_odds.tolist()):
        if value >= best[syndrome] - 1e-9:
            argmax.setdefault(syndrome, set()).add(observable)
    return best, argmax


@pytest.mark.parametrize("name", list(SMALL_CIRCUITS))
def test_lookup_is_the_brute_force_most_likely_error(name):
    parameters = dict(SMALL_CIRCUITS[name])
    circuit = noisy_memory_circuit(parameters.pop("family"), **parameters)
    dem = circuit.detector_error_model()
    compiled = LookupDecoder().compile_decoder_for_dem(dem=dem)
    best, argmax = brute_force_most_likely(dem)
    for syndrome in range(1 << dem.num_detectors):
        if syndrome not in best:
            assert compiled.table_log_odds[syndrome] == -np.inf
            continue
        assert compiled.table_log_odds[syndrome] == pytest.approx(best[syndrome], abs=1e-9)
        assert int(compiled.table_observables[syndrome]) in argmax[syndrome]
    # and decoding a bit-packed shot reads the table
    packed = np.array(
        [[syndrome >> (8 * byte) & 0xFF for byte in range((dem.num_detectors + 7) // 8)] for syndrome in best],
        dtype=np.uint8,
    )
    predictions = compiled.decode_shots_bit_packed(bit_packed_detection_event_data=packed)
    assert predictions[:, 0].tolist() == [int(compiled.table_observables[syndrome]) for syndrome in best]


def test_lookup_refuses_a_large_dem_with_its_size():
    dem = noisy_memory_circuit("surface", distance=5, noise="uniform", p=0.001).detector_error_model()
    with pytest.raises(QecInputError, match=r"too large for 'lookup': it has 120 detectors and \d+ errors"):
        LookupDecoder().compile_decoder_for_dem(dem=dem)
