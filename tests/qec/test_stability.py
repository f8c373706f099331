"""The stability experiment (Gidney 2022): determinism, its construction, circuit distance = rounds, decoding."""

import numpy as np
import pymatching
import pytest

from qec import codes
from qec.codes.distance import circuit_distance
from qec.errors import QecInputError
from qec.noise import noise_families, noise_model
from qec.rotated_lattice import undeclared_parities
from qec.stability import build_stability, stability_circuit


@pytest.mark.parametrize("distance", [2, 4, 6])
@pytest.mark.parametrize("basis", ["X", "Z"])
def test_noiseless_circuit_is_deterministic_and_complete(distance, basis):
    circuit = stability_circuit(distance=distance, rounds=3, basis=basis)
    assert not circuit.compile_detector_sampler().sample(500, append_observables=True).any()
    assert undeclared_parities(circuit) == 0  # every deterministic parity is a detector or the observable


def test_gidneys_figure_1():
    """4x4 X-type: 16 data qubits start in |0> and end measured in Z; the observable is the twelve X checks."""
    circuit = stability_circuit(distance=4, rounds=4, basis="X")
    names = [op.name for op in circuit]
    observable = next(op for op in circuit if op.name == "OBSERVABLE_INCLUDE")
    assert len(observable.targets_copy()) == 12 and observable.tag == "basis=X"
    first_reset = next(op for op in circuit if op.name in ("R", "RX"))
    assert first_reset.name == "R" and len(first_reset.targets_copy()) == 16 + 12 + 5  # data, X checks, Z checks
    assert names.count("M") == 1 and "MX" not in names
    assert all(op.tag in ("basis=X", "basis=Z") for op in circuit if op.name == "DETECTOR")


@pytest.mark.parametrize("name", sorted(set(noise_families()) - {"none"}))
@pytest.mark.parametrize("basis", ["X", "Z"])
def test_every_noise_model_applies_and_decomposes(name, basis):
    """Stim's analysis raises on a non-deterministic detector or observable; decomposition fails on a DEM that
    matching could not take."""
    noisy = noise_model(name, 0.001).apply(stability_circuit(distance=4, rounds=3, basis=basis))
    dem = noisy.detector_error_model(decompose_errors=True, approximate_disjoint_errors=True)
    assert dem.num_observables == 1


@pytest.mark.parametrize("distance, rounds", [(4, 2), (4, 3), (4, 4), (2, 4), (6, 3)])
def test_circuit_distance_is_the_rounds(distance, rounds):
    """Timelike: one check wrong in every round; no spacelike logical exists (every qubit is in two B checks), so
    the patch's size does not cap it (2 x 2 with 4 rounds: 4)."""
    for basis in ("X", "Z"):
        noisy = noise_model("sd6", 0.001).apply(stability_circuit(distance=distance, rounds=rounds, basis=basis))
        assert len(noisy.shortest_graphlike_error()) == rounds  # the whole DEM, both bases' detectors
        if distance == 4:
            found = circuit_distance(noisy, max_seconds=5)
            assert (found.value, found.exact) == (rounds, True)
            assert found.stim is not None and found.stim.value == rounds


def test_uniform_noise_distance_and_stims_search_on_the_whole_circuit():
    noisy = noise_model("uniform", 0.001).apply(stability_circuit(distance=4, rounds=3, basis="Z"))
    logical = noisy.search_for_undetectable_logical_errors(
        dont_explore_detection_event_sets_with_size_above=4,
        dont_explore_edges_with_degree_above=4,
        dont_explore_edges_increasing_symptom_degree=False,
    )
    assert len(logical) == 3


def _failures(circuit, *, p: float, shots: int) -> int:
    noisy = noise_model("sd6", p).apply(circuit)
    matching = pymatching.Matching.from_detector_error_model(noisy.detector_error_model(decompose_errors=True))
    detectors, observables = noisy.compile_detector_sampler(seed=7).sample(shots, separate_observables=True)
    return int(np.any(matching.decode_batch(detectors) != observables, axis=1).sum())


def test_pymatching_rate_falls_with_size_and_rounds():
    """sd6 p = 0.003, rounds = d, 10,000 seeded shots: measured 640, 183, 75 failures at d = 2, 4, 6 (basis Z).
    Each step is more than 5 sigma of the two counts' Poisson spread (183 - 75 = 108 against sqrt(258) = 16)."""
    failures = [_failures(stability_circuit(distance=d, rounds=d, basis="Z"), p=0.003, shots=10_000) for d in (2, 4, 6)]
    assert failures[0] > failures[1] > failures[2] > 0
    for worse, better in zip(failures, failures[1:]):
        assert worse - better > 5 * np.sqrt(worse + better)


@pytest.mark.slow
def test_pymatching_rate_falls_with_size_slow():
    """sd6 p = 0.002, rounds = d, 200,000 shots at d = 4, 6, 8 in both bases: each larger patch fails less, by more
    than 5 sigma of the counts' Poisson spread."""
    for basis in ("X", "Z"):
        failures = [
            _failures(stability_circuit(distance=d, rounds=d, basis=basis), p=0.002, shots=200_000) for d in (4, 6, 8)
        ]
        for worse, better in zip(failures, failures[1:]):
            assert worse - better > 5 * np.sqrt(worse + better), failures


def test_refusals_are_one_line():
    with pytest.raises(QecInputError, match="even distance") as odd:
        stability_circuit(distance=5, rounds=3, basis="Z")
    with pytest.raises(QecInputError, match="rotated surface code only") as family:
        build_stability(codes.family("repetition"), distance=4, rounds=3, basis="Z")
    with pytest.raises(QecInputError, match="rounds >= 1"):
        stability_circuit(distance=4, rounds=0, basis="Z")
    with pytest.raises(QecInputError, match="detectors"):
        stability_circuit(distance=1000, rounds=1000, basis="Z")
    assert "\n" not in str(odd.value) and "\n" not in str(family.value)
    assert build_stability(codes.family("surface"), distance=4, rounds=2, basis="X").num_observables == 1
