"""The superdense colour-code family with real Stim, Chromobius and qec's BP+OSD: deterministic detectors, the
round flows the circuit relies on, Chromobius's annotations, circuit distance d, and decoding."""

import chromobius
import numpy as np
import pytest
import stim

from qec import codes, decoders, noise
from qec.codes.color_superdense import SuperdenseLayout, round_flows, superdense_color_code
from qec.codes.distance import circuit_distance
from qec.errors import QecInputError

FAMILY = "color-superdense"

# The repeated round of Chromobius's own generator at d = 5 (clorco's test_make_superdense_color_code_circuit_exact,
# an X memory): its CNOT layers and detectors. Its qubits are numbered by coordinate as ours are.
GENERATOR_ROUND = """
CX 1 4 3 6 9 15 11 17 13 19 21 27 23 29 25 31 33 36
TICK
CX 2 1 10 9 12 11 22 21 24 23 26 25 34 33 5 4 7 6 16 15 18 17 20 19 28 27 30 29
TICK
CX 0 1 5 9 7 11 14 21 16 23 18 25 28 33 8 4 10 6 22 15 24 17 26 19 32 27 34 29
TICK
CX 2 3 8 9 10 11 12 13 22 23 24 25 32 33 5 6 14 15 16 17 18 19 28 29 30 31 35 36
TICK
CX 1 2 9 10 11 12 21 22 23 24 25 26 33 34 4 5 6 7 15 16 17 18 19 20 27 28 29 30
TICK
CX 1 0 9 5 11 7 21 14 23 16 25 18 33 28 4 8 6 10 15 22 17 24 19 26 27 32 29 34
TICK
CX 3 2 9 8 11 10 13 12 23 22 25 24 33 32 6 5 15 14 17 16 19 18 29 28 31 30 36 35
TICK
CX 1 4 3 6 9 15 11 17 13 19 21 27 23 29 25 31 33 36
TICK
DETECTOR(1, 0, 0, 0) rec[-36] rec[-18]
DETECTOR(1, 2, 0, 2) rec[-35] rec[-17]
DETECTOR(2, 0, 0, 3) rec[-27] rec[-26] rec[-9]
DETECTOR(2, 2, 0, 5) rec[-27] rec[-8]
DETECTOR(3, 1, 0, 1) rec[-34] rec[-16]
DETECTOR(3, 3, 0, 0) rec[-33] rec[-15]
DETECTOR(3, 5, 0, 2) rec[-32] rec[-14]
DETECTOR(4, 1, 0, 4) rec[-24] rec[-7]
DETECTOR(4, 3, 0, 3) rec[-25] rec[-23] rec[-6]
DETECTOR(4, 5, 0, 5) rec[-24] rec[-5]
DETECTOR(5, 0, 0, 0) rec[-31] rec[-13]
DETECTOR(5, 2, 0, 2) rec[-30] rec[-12]
DETECTOR(5, 4, 0, 1) rec[-29] rec[-11]
DETECTOR(6, 0, 0, 3) rec[-22] rec[-21] rec[-4]
DETECTOR(6, 2, 0, 5) rec[-22] rec[-20] rec[-3]
DETECTOR(6, 4, 0, 4) rec[-21] rec[-2]
DETECTOR(7, 1, 0, 1) rec[-28] rec[-10]
DETECTOR(8, 1, 0, 4) rec[-1]
"""


def _layers_and_detectors(circuit: stim.Circuit) -> tuple[list[frozenset], set]:
    """`circuit`'s CNOT layers (each a set of (control, target)) and detectors (coordinates, record offsets)."""
    layers, detectors = [], set()
    for instruction in circuit:
        targets = instruction.targets_copy()
        if instruction.name == "CX":
            values = [t.value for t in targets]
            layers.append(frozenset(zip(values[::2], values[1::2])))
        elif instruction.name == "DETECTOR":
            detectors.add((tuple(instruction.gate_args_copy()), frozenset(t.value for t in targets)))
    return layers, detectors


def test_a_round_is_the_generators_round():
    circuit = codes.memory_circuit(FAMILY, distance=5, rounds=4, basis="X")
    (body,) = [op.body_copy() for op in circuit if isinstance(op, stim.CircuitRepeatBlock)]
    assert _layers_and_detectors(body) == _layers_and_detectors(stim.Circuit(GENERATOR_ROUND))
    ours, generators = _layers_and_detectors(body)
    assert len(ours) == 8 and len(generators) == 18


@pytest.mark.parametrize("basis", ["X", "Z"])
@pytest.mark.parametrize("distance,rounds", [(3, 1), (3, 2), (3, 4), (5, 1), (5, 2), (5, 6), (9, 3)])
def test_noiseless_detectors_and_observable_are_deterministic(basis, distance, rounds):
    circuit = codes.memory_circuit(FAMILY, distance=distance, rounds=rounds, basis=basis)
    tiles = 3 * (distance**2 - 1) // 8
    assert circuit.num_qubits == (3 * distance**2 - 1) // 2
    assert circuit.num_detectors == 2 * tiles * rounds  # the memory basis's checks twice, the other's r - 1 times
    assert circuit.num_observables == 1
    circuit.detector_error_model()  # raises on a non-deterministic detector or observable
    detections, flips = circuit.compile_detector_sampler(seed=3).sample(32, separate_observables=True)
    assert not detections.any() and not flips.any()


@pytest.mark.parametrize("distance", [3, 5, 7, 9, 11])
@pytest.mark.parametrize("reverse", [False, True])
def test_round_flows_hold(distance, reverse):
    """Every flow the detectors and the observable rely on holds (signs included) in one round alone."""
    layout = SuperdenseLayout(distance)
    index, n = layout.index, len(layout.index)
    measured = list(layout.x_ancillas + layout.z_ancillas)
    round_ = stim.Circuit()
    round_.append("RX", [index[a] for a in layout.x_ancillas])
    round_.append("R", [index[b] for b in layout.z_ancillas])
    for layer in layout.layers(reverse=reverse):
        round_.append("CX", layer)
    round_.append("MX", [index[a] for a in layout.x_ancillas])
    round_.append("M", [index[b] for b in layout.z_ancillas])

    def pauli(qubits, kind: str) -> stim.PauliString:
        string = stim.PauliString(n)
        for q in qubits:
            string[index[q]] = kind
        return string

    def holds(before: stim.PauliString, after: stim.PauliString, ancillas) -> bool:
        return round_.has_flow(
            stim.Flow(input=before, output=after, measurements=[measured.index(q) for q in ancillas])
        )

    flows, identity = round_flows(layout, reverse=reverse), stim.PauliString(n)
    for k, tile in enumerate(layout.tiles):
        for kind in "XZ":
            check = pauli(tile.data, kind)
            assert holds(check, identity, flows.before[kind][k])
            assert holds(identity, check, flows.after[kind][k])
    logicals = {"X": pauli(layout.data, "X"), "Z": pauli([q for q in layout.data if q.imag == 0], "Z")}
    for kind, logical in logicals.items():
        assert holds(logical, logical, flows.logical[kind])
        if flows.logical[kind]:  # the logical does pick those ancillas up: without them the flow fails
            assert not holds(logical, logical, [])
    assert len([q for q in layout.data if q.imag == 0]) == distance  # the Z logical has weight d


@pytest.mark.parametrize("distance", [3, 5, 7])
def test_faces_are_three_coloured_and_detectors_annotated(distance):
    """A data qubit's faces have distinct colours; every detector has Chromobius's 4th coordinate (0-2: X check,
    3-5: Z check), agreeing with its basis tag, and the colour of its face."""
    layout = SuperdenseLayout(distance)
    for q in layout.data:
        colours = [tile.colour for tile in layout.tiles if q in tile.data]
        assert 1 <= len(colours) <= 3 and len(set(colours)) == len(colours)
    colour_at = {t.x_ancilla: t.colour for t in layout.tiles} | {t.z_ancilla: t.colour + 3 for t in layout.tiles}
    circuit = superdense_color_code(distance=distance, rounds=3, basis="Z")
    coordinates = circuit.get_detector_coordinates()
    tags = [op.tag for op in circuit.flattened() if op.name == "DETECTOR"]
    assert len(tags) == len(coordinates) == circuit.num_detectors
    for detector, (x, y, _, colour) in coordinates.items():
        assert colour == colour_at[complex(x, y)]
        assert tags[detector] == ("basis=X" if colour < 3 else "basis=Z")
    assert {op.tag for op in circuit.flattened() if op.name == "OBSERVABLE_INCLUDE"} == {"basis=Z"}


@pytest.mark.parametrize("model", ["sd6", "uniform"])
@pytest.mark.parametrize("basis", ["X", "Z"])
@pytest.mark.parametrize("distance,rounds", [(3, 1), (3, 3), (5, 2), (5, 3)])
def test_circuit_distance_is_d(model, basis, distance, rounds):
    """Stim's untruncated search proves it: no fewer than d faults (hooks of the weight-6 checks included) flip the
    logical undetected, and d do."""
    circuit = noise.noise_model(model, 0.001).apply(
        codes.memory_circuit(FAMILY, distance=distance, rounds=rounds, basis=basis)
    )
    found = circuit_distance(circuit, max_seconds=30)
    assert found.exact and found.value == distance, found.describe()


def test_sinter_style_search_agrees():
    """Chromobius's own test's truncated search (on the whole circuit, both bases' detectors) also finds d."""
    for basis in "XZ":
        circuit = noise.noise_model("uniform", 0.001).apply(
            codes.memory_circuit(FAMILY, distance=5, rounds=2, basis=basis)
        )
        logical = circuit.search_for_undetectable_logical_errors(
            dont_explore_detection_event_sets_with_size_above=4,
            dont_explore_edges_with_degree_above=3,
            dont_explore_edges_increasing_symptom_degree=False,
        )
        assert len(logical) == 5


def _sampled(circuit: stim.Circuit, shots: int) -> tuple[np.ndarray, np.ndarray]:
    return circuit.compile_detector_sampler(seed=11).sample(shots, separate_observables=True, bit_packed=True)


def _mistakes(predicted: np.ndarray, actual: np.ndarray) -> int:
    return int(np.count_nonzero(np.any(predicted != actual, axis=1)))


@pytest.mark.parametrize("basis", ["X", "Z"])
def test_chromobius_decodes_it(basis):
    """d = 5, 5 rounds, uniform p = 0.001: undecoded the logical flips in ~9% (Z) / ~27% (X) of shots; Chromobius
    fails in ~0.3-0.4% (32 (Z) and 44 (X) of these 10,000 shots). Bound 1%: ~9 standard deviations above 0.44%."""
    circuit = noise.noise_model("uniform", 0.001).apply(codes.memory_circuit(FAMILY, distance=5, rounds=5, basis=basis))
    shots = 10_000
    detections, flips = _sampled(circuit, shots)
    decoder = chromobius.compile_decoder_for_dem(circuit.detector_error_model())
    errors = _mistakes(decoder.predict_obs_flips_from_dets_bit_packed(detections), flips)
    undecoded = int(np.count_nonzero(flips[:, 0] & 1))
    assert undecoded > 0.05 * shots
    assert errors < 0.01 * shots, errors


def test_bposd_decodes_it():
    """The same circuit (Z memory) with qec's basis-aware BP+OSD: ~0.06-0.15% of shots fail (3 of these 2,000);
    bound 1% (20 errors), far above even Chromobius's rate (~6 expected)."""
    circuit = noise.noise_model("uniform", 0.001).apply(codes.memory_circuit(FAMILY, distance=5, rounds=5, basis="Z"))
    shots = 2_000
    detections, flips = _sampled(circuit, shots)
    decoder = decoders.get("bposd").compile_decoder_for_dem(dem=circuit.detector_error_model())
    predicted = decoder.decode_shots_bit_packed(bit_packed_detection_event_data=detections)
    assert _mistakes(predicted, flips) < 0.01 * shots


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"distance": 4, "rounds": 3}, "use an odd distance >= 3"),
        ({"distance": 1, "rounds": 3}, "use an odd distance >= 3"),
        ({"distance": 3, "rounds": 0}, "rounds must be >= 1 for 'color-superdense', got 0"),
        ({"distance": 3, "rounds": 2, "basis": "Y"}, "use X or Z"),
    ],
)
def test_bad_parameters_say_what_is_allowed(kwargs, message):
    with pytest.raises(QecInputError, match=message):
        codes.memory_circuit(FAMILY, **kwargs)
