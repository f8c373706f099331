"""Every code family with real Stim: noiseless circuits are deterministic, noisy ones decompose and keep distance d."""

import numpy as np
import pytest
import stim

from qec import codes, noise
from qec.errors import QecInputError

DISTANCES = (3, 5, 7)
CASES = [(name, basis) for name, family in codes.FAMILIES.items() for basis in family.bases]


@pytest.mark.parametrize("name,basis", CASES)
@pytest.mark.parametrize("distance", DISTANCES)
def test_noiseless_detectors_and_observables_are_deterministic(name, basis, distance):
    circuit = codes.memory_circuit(name, distance=distance, rounds=3, basis=basis)
    assert circuit.num_observables == 1
    assert circuit.num_detectors > 0
    circuit.detector_error_model()  # stim raises if any detector or observable is non-deterministic
    detections, flips = circuit.compile_detector_sampler().sample(64, separate_observables=True)
    assert not detections.any() and not flips.any()


@pytest.mark.parametrize("name,basis", CASES)
def test_circuits_have_coordinates(name, basis):
    circuit = codes.memory_circuit(name, distance=3, rounds=2, basis=basis)
    used = {t.value for inst in circuit.flattened() for t in inst.targets_copy() if t.is_qubit_target}
    assert set(circuit.get_final_qubit_coordinates()) == used
    assert len(circuit.get_detector_coordinates()) == circuit.num_detectors


@pytest.mark.parametrize("model", [m for m in noise.NOISE_MODELS if m != "none"])
@pytest.mark.parametrize("name,basis", [c for c in CASES if codes.FAMILIES[c[0]].matchable])
@pytest.mark.parametrize("distance", DISTANCES)
def test_noisy_dem_decomposes_into_graphlike_errors(model, name, basis, distance):
    circuit = noise.noise_model(model, 0.001).apply(codes.memory_circuit(name, distance=distance, rounds=distance,
                                                                        basis=basis))
    dem = circuit.detector_error_model(decompose_errors=True)
    for instruction in dem.flattened():
        if instruction.type == "error":
            components = " ".join(str(t) for t in instruction.targets_copy()).split("^")
            assert all(c.count("D") <= 2 for c in components)


@pytest.mark.parametrize("model", ["uniform", "sd6", "si1000"])
@pytest.mark.parametrize("name", ["surface", "unrotated-surface", "repetition", "shor"])
@pytest.mark.parametrize("distance", DISTANCES)
def test_shortest_graphlike_error_is_the_distance(model, name, distance):
    for basis in codes.FAMILIES[name].bases:
        circuit = noise.noise_model(model, 0.001).apply(codes.memory_circuit(name, distance=distance,
                                                                            rounds=distance, basis=basis))
        assert len(circuit.shortest_graphlike_error()) == distance


@pytest.mark.parametrize("basis", ["X", "Z"])
@pytest.mark.parametrize("distance", [3, 5])
def test_shor_keeps_full_circuit_distance_including_hyperedges(basis, distance):
    """No fault set below d, hook errors of the weight-2d X checks included, flips the logical undetected."""
    circuit = noise.noise_model("sd6", 0.001).apply(codes.memory_circuit("shor", distance=distance, rounds=2,
                                                                        basis=basis))
    logical = circuit.search_for_undetectable_logical_errors(
        dont_explore_detection_event_sets_with_size_above=4,
        dont_explore_edges_with_degree_above=9999,
        dont_explore_edges_increasing_symptom_degree=False,
    )
    assert len(logical) == distance


def test_shor_hook_order_matters():
    """The distance test has teeth: visiting block b fully, then block b+1, loses circuit distance."""
    from qec.codes import shor

    layout = shor._Layout(5)
    for support in layout.x_checks.values():
        support.sort()
    block_by_block = noise.noise_model("sd6", 0.001).apply(shor._memory(layout, rounds=2, basis="Z"))
    assert len(block_by_block.shortest_graphlike_error()) < 5


def test_shor_nine_qubit_code_has_the_textbook_checks():
    circuit = codes.memory_circuit("shor", distance=3, rounds=1, basis="Z")
    assert circuit.num_qubits == 9 + 6 + 2
    cx_pairs = [t.value for inst in circuit.flattened() if inst.name == "CX" for t in inst.targets_copy()]
    assert len(cx_pairs) // 2 == 6 * 2 + 2 * 6  # six ZZ checks of weight 2, two X checks of weight 6


@pytest.mark.parametrize(
    "name,kwargs,message",
    [
        ("shor", {"distance": 4, "rounds": 3}, "odd distance >= 3"),
        ("surface", {"distance": 1, "rounds": 3}, "distance >= 2"),
        ("surface", {"distance": 3, "rounds": 0}, "rounds must be >= 1"),
        ("repetition", {"distance": 3, "rounds": 3, "basis": "X"}, "use Z"),
        ("toric", {"distance": 3, "rounds": 3}, "choose one of surface"),
    ],
)
def test_bad_parameters_say_what_is_allowed(name, kwargs, message):
    with pytest.raises(QecInputError, match=message):
        codes.memory_circuit(name, **kwargs)


def test_repetition_code_majority_vote_rate():
    """Code capacity with independent flips: the d=3 repetition code fails iff >= 2 of 3 bits flip."""
    p = 0.1
    circuit = noise.noise_model("code-capacity", p, pauli="independent").apply(
        codes.memory_circuit("repetition", distance=3, rounds=1))
    _, flips = circuit.compile_detector_sampler(seed=5).sample(200_000, separate_observables=True)
    # Observable = last data bit only, so without decoding it flips with probability p exactly.
    rate = np.mean(flips[:, 0])
    assert abs(rate - p) < 5 * np.sqrt(p * (1 - p) / 200_000)
