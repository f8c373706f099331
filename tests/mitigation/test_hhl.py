"""HHL workload: the circuit solves A x = b (its ancilla-1 branch is proportional to numpy's solution), and its
noiseless value equals the ideal computed from numpy's solution."""

import math

import numpy as np
import pytest
from qiskit.quantum_info import SparsePauliOp, Statevector

from qec.errors import QecInputError
from qec.mitigation import NoiseSpec, mitigate_workload
from qec.mitigation.backends import aer_backend
from qec.mitigation.techniques import apply_technique
from qec.mitigation.workloads import HHL_MATRIX, HHL_VECTOR, hhl_ideal, workload


def test_the_ancilla_one_branch_holds_the_solution_and_the_clock_returns_to_zero():
    state = Statevector(workload("hhl", qubits=4).circuit).data.reshape(2, 2, 2, 2)  # axes: q3 (ancilla), q2, q1, q0
    branch = state[1, 0, 0, :]  # ancilla 1, clock 00, system amplitudes (0, 1)
    solution = np.linalg.solve(HHL_MATRIX, HHL_VECTOR)
    ratio = branch / solution
    assert np.allclose(ratio, ratio[0], atol=1e-9) and abs(ratio[0]) > 0.1
    assert np.allclose(state[:, 1:, :, :], 0, atol=1e-9) and np.allclose(state[:, 0, 1, :], 0, atol=1e-9)


def test_the_exact_value_of_the_circuit_equals_the_ideal_from_numpys_solution():
    task = workload("hhl", qubits=4)
    operator = SparsePauliOp.from_sparse_list([("Z", [0], 0.5), ("ZZ", [0, 3], -0.5)], 4)
    exact = float(np.real(Statevector(task.circuit).expectation_value(operator)))
    assert task.ideal == hhl_ideal()
    assert abs(exact - task.ideal) < 1e-9
    x = np.linalg.solve(HHL_MATRIX, HHL_VECTOR)
    assert abs(task.ideal - (x[0] ** 2 - x[1] ** 2) / 9) < 1e-12  # C/s = (1/2)/(3/2)


def test_noiseless_aer_run_matches_the_ideal_within_shot_noise():
    task = workload("hhl", qubits=4)
    backend = aer_backend([task.circuit], noise=None, device="cpu", shots=40_000, seed=2, threads=1)
    estimate = apply_technique("none", task, backend=backend, noise=NoiseSpec())
    # Each shot gives +-1/2 or 0 (|value| <= 1/2 per group, 2 groups): sigma <= 1/sqrt(40000) = 0.005; 5 sigma.
    assert abs(estimate.value - task.ideal) < 5 * estimate.standard_error + 1e-12
    assert 0 < estimate.standard_error < 0.005


def test_zne_moves_hhl_toward_the_ideal_under_two_qubit_depolarizing_noise():
    report = mitigate_workload(
        "hhl", qubits=4, noise=NoiseSpec(depolarizing_2q=0.005), technique="zne", device="cpu", shots=50_000, threads=1
    )
    # 22 CX at 0.5% take the value from 0.125 to ~0.10; Richardson's error is ~3.5 * 0.0045 = 0.016 at worst,
    # so only "closer than noisy" is asserted, at 1.5x the statistical margin.
    assert abs(report.noisy - report.ideal) > 0.01
    assert abs(report.mitigated - report.ideal) < abs(report.noisy - report.ideal) + 1.5 * report.standard_error


@pytest.mark.parametrize("qubits", [2, 5])
def test_hhl_takes_four_qubits_only(qubits):
    with pytest.raises(QecInputError, match="hhl runs on 4 qubits"):
        workload("hhl", qubits=qubits)
    assert math.isfinite(hhl_ideal())
