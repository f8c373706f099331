"""Hypergraph products: hgp(h1, h2) for any classical codes, and the hgp family (the toric code), whose circuits
keep the circuit distance d."""

import numpy as np
import pytest

from qec import codes, noise
from qec.codes import gf2
from qec.codes.distance import code_distance
from qec.codes.hgp import hgp, hgp_code, repetition_check_matrix, toric_code
from qec.decoders.dem_arrays import decoding_dem
from qec.decoders.heralds import heralded_graph
from qec.errors import QecInputError


def test_hgp_of_any_two_codes_commutes_and_has_the_product_dimension():
    rng = np.random.default_rng(11)
    for _ in range(5):
        h1 = rng.integers(0, 2, size=(rng.integers(2, 6), rng.integers(3, 8)), dtype=np.uint8)
        h2 = rng.integers(0, 2, size=(rng.integers(2, 6), rng.integers(3, 8)), dtype=np.uint8)
        hx, hz = hgp(h1, h2)
        (m1, n1), (m2, n2) = h1.shape, h2.shape
        assert hx.shape == (m1 * n2, n1 * n2 + m1 * m2) and hz.shape == (n1 * m2, n1 * n2 + m1 * m2)
        assert not gf2.product(hx, hz.T).any()
        k1, k2, k1t, k2t = n1 - gf2.rank(h1), n2 - gf2.rank(h2), m1 - gf2.rank(h1), m2 - gf2.rank(h2)
        assert hx.shape[1] - gf2.rank(hx) - gf2.rank(hz) == k1 * k2 + k1t * k2t


def test_open_repetition_codes_give_the_unrotated_surface_code():
    code = hgp_code(repetition_check_matrix(3, cyclic=False), repetition_check_matrix(3, cyclic=False))
    assert (code.n, code.k) == (13, 1)
    assert code_distance(code).value == 3


@pytest.mark.parametrize("distance", [2, 3, 4, 5])
def test_toric_code_parameters(distance):
    code = toric_code(distance)
    assert (code.n, code.k) == (2 * distance**2, 2)
    found = code_distance(code, max_seconds=20)  # about a second: the search stops early, the program proves it
    assert found.value == distance and found.exact


@pytest.mark.parametrize("basis", ["X", "Z"])
@pytest.mark.parametrize("distance,rounds", [(2, 1), (3, 3), (4, 2), (5, 5)])
def test_noiseless_family_circuits_never_fire(distance, rounds, basis):
    family = codes.FAMILIES["hgp"]
    circuit = family.circuit(distance=distance, rounds=rounds, basis=basis)
    assert circuit.num_observables == 2
    assert circuit.num_qubits == family.size(distance=distance, rounds=rounds).qubits
    assert circuit.num_detectors <= family.size(distance=distance, rounds=rounds).detectors
    circuit.detector_error_model()
    detections, flips = circuit.compile_detector_sampler(seed=3).sample(64, separate_observables=True)
    assert not detections.any() and not flips.any()


@pytest.mark.parametrize("model", ["uniform", "sd6", "si1000"])
@pytest.mark.parametrize("basis", ["X", "Z"])
@pytest.mark.parametrize("distance", [3, 4, 5])
def test_sector_schedule_keeps_the_circuit_distance(model, basis, distance):
    circuit = noise.noise_model(model, 0.001).apply(
        codes.memory_circuit("hgp", distance=distance, rounds=distance, basis=basis)
    )
    circuit.detector_error_model(decompose_errors=True)  # matchable, as the family says
    assert len(circuit.shortest_graphlike_error()) == distance


def test_family_refuses_what_cannot_fit():
    with pytest.raises(QecInputError, match="distance 1 is not allowed for 'hgp'"):
        codes.memory_circuit("hgp", distance=1, rounds=1)
    with pytest.raises(QecInputError, match="qubits"):
        codes.memory_circuit("hgp", distance=1_000, rounds=1)
    with pytest.raises(QecInputError, match="length must be an integer >= 2"):
        repetition_check_matrix(1)


@pytest.mark.parametrize("model", [m for m in noise.NOISE_FAMILIES if m != "none"])
@pytest.mark.parametrize("basis", ["X", "Z"])
def test_every_noise_model_decomposes_into_graphlike_errors_for_matching(model, basis):
    """The family is marked matchable: every error of its DEMs splits into pieces of at most two detectors (besides
    a herald, which herald-aware matching takes out)."""
    circuit = noise.noise_model(model, 0.001).apply(codes.memory_circuit("hgp", distance=3, rounds=3, basis=basis))
    heralded_graph(decoding_dem(circuit))  # raises on an error piece of > 2 detectors besides its herald
