"""The rotated-lattice builder against Stim's own rotated surface code, and its completeness check."""

import pytest
import stim

from qec.noise import noise_model
from qec.rotated_lattice import STANDARD_SIDES, LatticeCircuit, patch, schedule, undeclared_parities


@pytest.mark.parametrize("distance", [3, 4, 5])
@pytest.mark.parametrize("basis", ["X", "Z"])
def test_memory_has_stims_checks_and_error_model(distance, basis):
    """Same checks (positions, types), detectors and, under SI1000, the same error mechanisms as Stim's generator."""
    ours = LatticeCircuit.memory(distance=distance, rounds=distance, basis=basis)
    stims = stim.Circuit.generated(f"surface_code:rotated_memory_{basis.lower()}", distance=distance, rounds=distance)
    coords = {q: tuple(round(c) for c in xy) for q, xy in stims.get_final_qubit_coordinates().items()}
    hadamards = next(op for op in stims if op.name == "H").targets_copy()
    stim_x = {coords[t.value] for t in hadamards}
    stim_checks = {coords[t.value] for op in stims if op.name == "MR" for t in op.targets_copy()}
    checks = patch(width=distance, height=distance, sides=STANDARD_SIDES)
    assert set(checks) == stim_checks
    assert {p for p, plaquette in checks.items() if plaquette.basis == "X"} == stim_x
    model = noise_model("si1000", 0.002)
    ours_dem = model.apply(ours).detector_error_model(decompose_errors=True)
    stims_dem = model.apply(stims).detector_error_model(decompose_errors=True)
    assert ours.num_detectors == stims.num_detectors
    probabilities = sorted(round(e.args_copy()[0], 12) for e in ours_dem.flattened() if e.type == "error")
    assert probabilities == sorted(round(e.args_copy()[0], 12) for e in stims_dem.flattened() if e.type == "error")
    assert len(model.apply(ours).shortest_graphlike_error()) == distance


def test_schedule_is_stims():
    assert schedule() == {"X": ((1, 1), (-1, 1), (1, -1), (-1, -1)), "Z": ((1, 1), (1, -1), (-1, 1), (-1, -1))}


def test_undeclared_parities_finds_a_missing_detector():
    circuit = LatticeCircuit.memory(distance=3, rounds=2, basis="Z")
    assert undeclared_parities(circuit) == 0
    without_last = stim.Circuit()
    detectors = [i for i, op in enumerate(circuit) if op.name == "DETECTOR"]
    for i, op in enumerate(circuit):
        if i != detectors[-1]:
            without_last.append(op)
    assert undeclared_parities(without_last) == 1
