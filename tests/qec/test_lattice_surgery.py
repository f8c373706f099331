"""Lattice surgery (ZZ and XX by merge and split): determinism, the outcome is the logical product, distance d,
decoding."""

import numpy as np
import pymatching
import pytest
import stim

from qec import codes
from qec.codes.distance import circuit_distance
from qec.errors import QecInputError
from qec.lattice_surgery import build_surgery, surgery_circuit
from qec.noise import noise_families, noise_model
from qec.rotated_lattice import undeclared_parities


@pytest.mark.parametrize("distance", [2, 3, 4, 5])
@pytest.mark.parametrize("basis", ["X", "Z"])
def test_noiseless_circuit_is_deterministic_and_complete(distance, basis):
    circuit = surgery_circuit(distance=distance, rounds=distance, basis=basis)
    assert circuit.num_observables == 3
    assert not circuit.compile_detector_sampler().sample(300, append_observables=True).any()
    if distance <= 3:
        assert undeclared_parities(circuit) == 0  # every deterministic parity is a detector or an observable
    tags = {op.tag for op in circuit if op.name == "OBSERVABLE_INCLUDE"}
    assert tags == {f"basis={basis}"}


def _with_logical_at_start(circuit: stim.Circuit, pauli: str, qubits: list[tuple[int, int]]) -> stim.Circuit:
    """`circuit` with a certain `pauli` error (X_ERROR(1) or Z_ERROR(1): an error, so the noiseless reference sample
    does not include it) on the data qubits at `qubits` right after the first reset layer."""
    index = {tuple(round(c) for c in xy): q for q, xy in circuit.get_final_qubit_coordinates().items()}
    tick = next(i for i, op in enumerate(circuit) if op.name == "TICK")
    circuit = circuit.copy()
    circuit.insert(tick, stim.CircuitInstruction(f"{pauli}_ERROR", [index[q] for q in qubits], [1.0]))
    return circuit


@pytest.mark.parametrize("basis", ["X", "Z"])
def test_outcome_is_the_logical_product(basis):
    """A logical flip of patch A (X_L for ZZ, Z_L for XX) before the merge fires no detector and flips the outcome
    and A's memory; flipping both patches leaves the outcome and flips both memories."""
    d = 3
    circuit = surgery_circuit(distance=d, rounds=d, basis=basis)
    flip = "X" if basis == "Z" else "Z"
    # ZZ: patches stacked, X_L of A is its first column, of B the first column below the seam; XX: side by side,
    # Z_L of A its first row, of B the first row right of the seam.
    a_line = [(1, 2 * j + 1) if basis == "Z" else (2 * j + 1, 1) for j in range(d)]
    b_line = [(1, 2 * (d + 1 + j) + 1) if basis == "Z" else (2 * (d + 1 + j) + 1, 1) for j in range(d)]
    for qubits, expected in [(a_line, [1, 1, 0]), (b_line, [1, 0, 1]), (a_line + b_line, [0, 1, 1])]:
        flipped = _with_logical_at_start(circuit, flip, qubits)
        detectors, observables = flipped.compile_detector_sampler().sample(50, separate_observables=True)
        assert not detectors.any()
        assert (observables == np.array(expected, dtype=bool)).all()


@pytest.mark.parametrize("name", sorted(set(noise_families()) - {"none"}))
@pytest.mark.parametrize("basis", ["X", "Z"])
def test_every_noise_model_applies_and_decomposes(name, basis):
    """Stim's analysis raises on a non-deterministic detector or observable; decomposition into graphlike errors
    must succeed for matching."""
    noisy = noise_model(name, 0.001).apply(surgery_circuit(distance=3, rounds=3, basis=basis))
    dem = noisy.detector_error_model(decompose_errors=True, approximate_disjoint_errors=True)
    assert dem.num_observables == 3


@pytest.mark.parametrize("basis", ["X", "Z"])
def test_circuit_distance_is_d(basis):
    """d = 3, rounds = 3: exact 3 by our search and Stim's (sd6), and 3 under uniform noise; with one merged round
    the outcome's distance drops to 1 (timelike) while each memory keeps 3."""
    noisy = noise_model("sd6", 0.001).apply(surgery_circuit(distance=3, rounds=3, basis=basis))
    found = circuit_distance(noisy, max_seconds=10)
    assert (found.value, found.exact) == (3, True)
    assert found.stim is not None and found.stim.value == 3
    uniform = noise_model("uniform", 0.001).apply(surgery_circuit(distance=3, rounds=3, basis=basis))
    assert len(uniform.shortest_graphlike_error()) == 3
    one_round = surgery_circuit(distance=3, rounds=1, basis=basis)
    for observable, expected in [(0, 1), (1, 3), (2, 3)]:
        noisy = noise_model("sd6", 0.001).apply(_only_observable(one_round, observable))
        assert len(noisy.shortest_graphlike_error()) == expected


def test_distance_five():
    for basis in ("X", "Z"):
        noisy = noise_model("sd6", 0.001).apply(surgery_circuit(distance=5, rounds=5, basis=basis))
        assert len(noisy.shortest_graphlike_error()) == 5


def _only_observable(circuit: stim.Circuit, keep: int) -> stim.Circuit:
    """`circuit` with only its observable `keep` (as L0)."""
    out = stim.Circuit()
    for op in circuit:
        if op.name != "OBSERVABLE_INCLUDE":
            out.append(op)
        elif op.gate_args_copy()[0] == keep:
            out.append(stim.CircuitInstruction(op.name, op.targets_copy(), [0], tag=op.tag))
    return out


def _failures(circuit, *, p: float, shots: int) -> int:
    noisy = noise_model("sd6", p).apply(circuit)
    matching = pymatching.Matching.from_detector_error_model(noisy.detector_error_model(decompose_errors=True))
    detectors, observables = noisy.compile_detector_sampler(seed=11).sample(shots, separate_observables=True)
    return int(np.any(matching.decode_batch(detectors) != observables, axis=1).sum())


def test_pymatching_rate_falls_with_d():
    """sd6 p = 0.001, rounds = d, 10,000 seeded shots, ZZ: measured 148 and 26 failures at d = 3 and 5; the drop
    (122) is more than 5 sigma of the counts' Poisson spread (sqrt(174) = 13)."""
    worse, better = (_failures(surgery_circuit(distance=d, rounds=d, basis="Z"), p=0.001, shots=10_000) for d in (3, 5))
    assert worse - better > 5 * np.sqrt(worse + better)


@pytest.mark.slow
def test_pymatching_rate_falls_with_d_slow():
    """sd6 p = 0.001, rounds = d, 100,000 shots, ZZ and XX: d = 3, 5, 7 each fail less than the one before, by more
    than 5 sigma of the counts' Poisson spread."""
    for basis in ("X", "Z"):
        failures = [
            _failures(surgery_circuit(distance=d, rounds=d, basis=basis), p=0.001, shots=100_000) for d in (3, 5, 7)
        ]
        for worse, better in zip(failures, failures[1:]):
            assert worse - better > 5 * np.sqrt(worse + better), failures


def test_refusals_are_one_line():
    with pytest.raises(QecInputError, match="rotated surface code only") as family:
        build_surgery(codes.family("color"), distance=3, rounds=3, basis="Z")
    with pytest.raises(QecInputError, match="rounds >= 1"):
        surgery_circuit(distance=3, rounds=0, basis="Z")
    with pytest.raises(QecInputError, match="X or Z"):
        surgery_circuit(distance=3, rounds=3, basis="Y")
    with pytest.raises(QecInputError, match="detectors"):
        surgery_circuit(distance=200, rounds=200, basis="Z")
    assert "\n" not in str(family.value)
    assert build_surgery(codes.family("surface"), distance=3, rounds=2, basis="X").num_observables == 3
