"""Every code family with real Stim: noiseless circuits are deterministic, noisy ones decompose and keep distance d."""

import re
import time

import numpy as np
import pytest

from qec import codes, noise
from qec.decoders.dem_arrays import decoding_dem
from qec.decoders.heralds import heralded_graph
from qec.errors import QecInputError

DISTANCES = (3, 5, 7)
# The hand-built one-logical-qubit families; those built by `qec.codes.css` (bb, hgp: k > 1, a list of distances)
# are tested in test_css.py, test_bb.py and test_hgp.py.
HAND_BUILT = [name for name, family in codes.FAMILIES.items() if family.code is None]
CASES = [(name, basis) for name in HAND_BUILT for basis in codes.FAMILIES[name].bases]


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


@pytest.mark.parametrize("model", [m for m in noise.NOISE_FAMILIES if m != "none"])
@pytest.mark.parametrize("name,basis", [c for c in CASES if codes.FAMILIES[c[0]].matchable])
@pytest.mark.parametrize("distance", DISTANCES)
def test_noisy_dem_decomposes_into_graphlike_errors(model, name, basis, distance):
    circuit = noise.noise_model(model, 0.001).apply(
        codes.memory_circuit(name, distance=distance, rounds=distance, basis=basis)
    )
    heralded_graph(decoding_dem(circuit))  # raises on an error piece of > 2 detectors besides its herald


@pytest.mark.parametrize("model", ["uniform", "sd6", "si1000"])
@pytest.mark.parametrize("name", ["surface", "unrotated-surface", "repetition", "shor"])
@pytest.mark.parametrize("distance", DISTANCES)
def test_shortest_graphlike_error_is_the_distance(model, name, distance):
    for basis in codes.FAMILIES[name].bases:
        circuit = noise.noise_model(model, 0.001).apply(
            codes.memory_circuit(name, distance=distance, rounds=distance, basis=basis)
        )
        assert len(circuit.shortest_graphlike_error()) == distance


@pytest.mark.parametrize("basis", ["X", "Z"])
@pytest.mark.parametrize("distance", [3, 5])
def test_shor_keeps_full_circuit_distance_including_hyperedges(basis, distance):
    """No fault set below d, hook errors of the weight-2d X checks included, flips the logical undetected."""
    circuit = noise.noise_model("sd6", 0.001).apply(
        codes.memory_circuit("shor", distance=distance, rounds=2, basis=basis)
    )
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
        codes.memory_circuit("repetition", distance=3, rounds=1)
    )
    _, flips = circuit.compile_detector_sampler(seed=5).sample(200_000, separate_observables=True)
    # Observable = last data bit only, so without decoding it flips with probability p exactly.
    rate = np.mean(flips[:, 0])
    assert abs(rate - p) < 5 * np.sqrt(p * (1 - p) / 200_000)


@pytest.mark.parametrize("name", HAND_BUILT)
def test_size_estimate_bounds_the_circuit(name):
    """The estimate the size guard uses: qubits exact, detectors an upper bound within a factor ~3 (Shor: its
    first and last layers have only the deterministic checks)."""
    family = codes.FAMILIES[name]
    step = 2 if family.odd_distance_only else 1
    for distance in range(family.min_distance, 12, step):
        for rounds in (family.min_rounds, 3, 8):
            for basis in family.bases:
                circuit = family.circuit(distance=distance, rounds=rounds, basis=basis)
                size = family.size(distance=distance, rounds=rounds)
                assert circuit.num_qubits == size.qubits
                assert circuit.num_detectors <= size.detectors
                assert rounds == 1 or circuit.num_detectors >= size.detectors / 3


@pytest.mark.parametrize("name", HAND_BUILT)
@pytest.mark.parametrize(
    "distance,rounds,what",
    [
        (1_000_001, 1_000_001, "detectors (the limit is 1,000,000)"),
        (3, 10**30, "detectors (the limit is 1,000,000)"),
        (10**400 + 1, 10**400 + 1, "qubits (the limit is 1,000,000)"),
        (1_000_001, 2, "qubits (the limit is 1,000,000)"),
    ],
)
def test_circuits_that_cannot_fit_are_refused_before_building(name, distance, rounds, what):
    start = time.perf_counter()
    with pytest.raises(QecInputError, match=re.escape(what)) as refused:
        codes.memory_circuit(name, distance=distance, rounds=rounds)
    assert time.perf_counter() - start < 2  # arithmetic only: nothing of that size is built
    assert "use a smaller distance or fewer rounds" in str(refused.value) and "\n" not in str(refused.value)


def test_just_below_the_detector_limit_still_builds():
    family = codes.FAMILIES["repetition"]
    assert family.size(distance=1001, rounds=998).detectors == 999_000
    circuit = codes.memory_circuit("repetition", distance=1001, rounds=998)  # REPEAT blocks: cheap
    assert circuit.num_detectors == 999_000 <= codes.MAX_DETECTORS
    with pytest.raises(QecInputError, match="about 1e\\+06 detectors"):
        codes.memory_circuit("repetition", distance=1001, rounds=1000)  # estimate 1,001,000


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"distance": 3.0, "rounds": 3}, "distance must be an integer, got 3.0"),
        ({"distance": "3", "rounds": 3}, "distance must be an integer, got '3'"),
        ({"distance": 3, "rounds": True}, "rounds must be an integer, got True"),
        ({"distance": 3, "rounds": 3, "basis": None}, "basis None is not allowed"),
        ({"distance": -(10**100), "rounds": 3}, "distance -1e+100 is not allowed for 'surface'"),
    ],
)
def test_parameters_of_the_wrong_type_are_input_errors(kwargs, message):
    with pytest.raises(QecInputError, match=re.escape(message)):
        codes.memory_circuit("surface", **kwargs)


def test_color_code_needs_two_rounds_and_says_so():
    with pytest.raises(QecInputError, match="rounds must be >= 2 for 'color', got 1"):
        codes.memory_circuit("color", distance=3, rounds=1)
    assert codes.memory_circuit("color", distance=3, rounds=2).num_detectors == 6
