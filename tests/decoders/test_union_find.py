"""The union-find decoder: exact on low-weight errors, close to MWPM, clear about hyperedges."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from qec import decoders
from qec.decoders.dem_arrays import check_matrices
from qec.decoders.matching import SUPPORTS_CORRELATIONS
from qec.decoders.union_find import UnionFindDecoder
from qec.decoders.union_find_kernels import decode_batch
from qec.errors import QecInputError
from qec.memory import noisy_memory_circuit


def all_low_weight_errors(dem, max_weight: int) -> tuple[np.ndarray, np.ndarray]:
    """Bit-packed (syndromes, observables) of every set of at most `max_weight` of the DEM's errors."""
    matrices = check_matrices(dem)
    check = matrices.check_matrix.toarray()
    flips = matrices.observables_matrix.toarray()
    sets = [s for weight in range(1, max_weight + 1) for s in itertools.combinations(range(check.shape[1]), weight)]
    syndromes = np.array([check[:, list(s)].sum(axis=1) % 2 for s in sets], dtype=np.uint8)
    observables = np.array([flips[:, list(s)].sum(axis=1) % 2 for s in sets], dtype=np.uint8)
    return (np.packbits(syndromes, axis=1, bitorder="little"), np.packbits(observables, axis=1, bitorder="little"))


@pytest.mark.parametrize("name", ["uf", "pymatching"])
@pytest.mark.parametrize("distance", [3, 5])
def test_corrects_every_error_of_weight_up_to_half_the_distance(name, distance):
    # Code capacity: each DEM error is a data qubit's X error (Z memory; qubits with the same symptom
    # are one DEM error), so sets of up to t DEM errors are all errors of up to t qubits, up to equivalence.
    circuit = noisy_memory_circuit(
        "surface", distance=distance, rounds=1, noise="code-capacity", p=0.05, pauli="independent"
    )
    dem = circuit.detector_error_model(decompose_errors=True)
    syndromes, observables = all_low_weight_errors(dem, (distance - 1) // 2)
    compiled = decoders.get(name).compile_decoder_for_dem(dem=dem)
    predictions = compiled.decode_shots_bit_packed(bit_packed_detection_event_data=syndromes)
    assert (predictions == observables).all()


@pytest.mark.parametrize("p", [0.003, 0.006])
def test_logical_error_rate_within_one_and_a_half_of_mwpm(p):
    # Circuit-level noise (surface d=5, 5 rounds), the same 10k shots for both decoders. Measured ratio
    # is 1.0-1.2; at p=0.006 MWPM fails ~300 times, so 1.5x is > 5 sigma of the ratio's noise above it.
    circuit = noisy_memory_circuit("surface", distance=5, noise="uniform", p=p)
    dem = circuit.detector_error_model(decompose_errors=True)
    detection_events, observables = circuit.compile_detector_sampler(seed=7).sample(
        10_000, separate_observables=True, bit_packed=True
    )
    errors = {}
    for name in ["uf", "pymatching"]:
        compiled = decoders.get(name).compile_decoder_for_dem(dem=dem)
        predictions = compiled.decode_shots_bit_packed(bit_packed_detection_event_data=detection_events)
        errors[name] = int(np.count_nonzero(np.any(predictions != observables, axis=1)))
    assert errors["pymatching"] > 20
    assert errors["uf"] <= 1.5 * errors["pymatching"]


def test_exact_and_rounded_weights_give_the_same_corrections_on_single_errors():
    circuit = noisy_memory_circuit("surface", distance=3, noise="sd6", p=0.002)
    dem = circuit.detector_error_model(decompose_errors=True)
    syndromes, observables = all_low_weight_errors(dem, 1)
    # A single graphlike error can be undetectable-up-to-equivalence only if it is logical; d=3 > 1.
    for granularity in [1, 4, 1000]:
        compiled = UnionFindDecoder(granularity=granularity).compile_decoder_for_dem(dem=dem)
        predictions = compiled.decode_shots_bit_packed(bit_packed_detection_event_data=syndromes)
        assert (predictions == observables).all(), granularity


@pytest.mark.parametrize(
    "name",
    [
        "uf",
        "pymatching",
        pytest.param(
            "pymatching-correlated",
            marks=pytest.mark.skipif(not SUPPORTS_CORRELATIONS, reason="this PyMatching has no correlated matching"),
        ),
    ],
)
def test_hyperedges_are_refused_naming_bposd(name):
    dem = noisy_memory_circuit("color", distance=3, noise="uniform", p=0.001).detector_error_model()
    with pytest.raises(QecInputError, match="not graphlike.*'bposd'"):
        decoders.get(name).compile_decoder_for_dem(dem=dem)


def test_granularity_must_be_positive():
    with pytest.raises(QecInputError, match="granularity must be a whole number >= 1, got 0"):
        UnionFindDecoder(granularity=0)


def test_an_unexplainable_defect_is_left_and_the_rest_decoded():
    # Nodes 0 - 1 form a component without boundary (a lone defect there has no explanation);
    # node 2 has an edge to the boundary (node 3) flipping observable 1.
    endpoints = np.array([[0, 1], [2, 3]], dtype=np.int32)
    offsets = np.array([0, 1, 2, 3, 4], dtype=np.int32)
    node_edges = np.array([0, 0, 1, 1], dtype=np.int32)
    node_neighbors = np.array([1, 0, 3, 2], dtype=np.int32)
    weights = np.array([1.0, 5.0])
    observables = np.array([[0b01], [0b10]], dtype=np.uint8)
    shots = np.array([[0b101], [0b100]], dtype=np.uint8)
    predictions = decode_batch(shots, offsets, node_edges, node_neighbors, endpoints, weights, observables)
    assert predictions[:, 0].tolist() == [0b10, 0b10]


def test_an_isolated_pair_keeps_the_growth_it_had_when_another_cluster_reaches_it():
    # Chain 0 - 1 - 2 - 3 - boundary(4), and 0 - boundary. Defects 2, 3 join first (edge 2-3 completes at
    # time 1, when their other edges have grown by 1). Defect 0 reaches 1 at time 4 and 2 at time 7 (edge
    # 1-2 already grown by 1); the odd cluster then reaches the boundary through 3-4 (grown 1 + 1.5) at
    # time 8.5, before 0-4 (grown 7 + 1.5 < 9): the correction is 0-1, 1-2, 3-4, flipping observable 1.
    endpoints = np.array([[0, 1], [1, 2], [2, 3], [3, 4], [0, 4]], dtype=np.int32)
    offsets = np.array([0, 2, 4, 6, 8, 10], dtype=np.int32)
    node_edges = np.array([0, 4, 0, 1, 1, 2, 2, 3, 3, 4], dtype=np.int32)
    node_neighbors = np.array([1, 4, 0, 2, 1, 3, 2, 4, 3, 0], dtype=np.int32)
    weights = np.array([4.0, 4.0, 2.0, 2.5, 9.0])
    observables = np.array([[0], [0], [0], [0b10], [0b01]], dtype=np.uint8)
    shots = np.array([[0b1101], [0b1100], [0b0001]], dtype=np.uint8)
    predictions = decode_batch(shots, offsets, node_edges, node_neighbors, endpoints, weights, observables)
    assert predictions[:, 0].tolist() == [0b10, 0, 0b01]
