"""Workloads: exact ideal values, and a noiseless Aer run agrees with them."""

import math

import numpy as np
import pytest
from qiskit.quantum_info import Statevector

from qec.errors import QecInputError
from qec.mitigation.backends import aer_backend
from qec.mitigation.workloads import WORKLOADS, workload


def test_exact_ideal_values():
    assert workload("ghz", qubits=5).ideal == 1.0
    assert workload("mirror", qubits=3).ideal == 1.0
    assert workload("rb", qubits=2).ideal == 1.0
    # Grover with floor(pi/4 sqrt(8)) = 2 iterations on 3 qubits: sin^2(5 asin(1/sqrt 8)) = 121/128.
    assert math.isclose(workload("grover", qubits=3).ideal, 121 / 128, abs_tol=1e-9)


def test_qaoa_ideal_is_the_expected_cut_of_the_ring():
    task = workload("qaoa", qubits=4)
    probabilities = Statevector(task.circuit).probabilities_dict()
    edges = [(q, (q + 1) % 4) for q in range(4)]
    cut = sum(p * sum(bits[3 - i] != bits[3 - j] for i, j in edges) for bits, p in probabilities.items())
    assert math.isclose(task.ideal, cut, abs_tol=1e-9)
    assert task.ideal > 2  # better than a random cut (|E|/2 = 2) at these angles


def test_tfim_ideal_matches_a_dense_hamiltonian():
    task = workload("tfim", qubits=3)
    z, x, i = np.diag([1, -1]), np.array([[0, 1], [1, 0]]), np.eye(2)

    def on(ops):  # qubit 0 is the least significant (Qiskit order)
        out = np.eye(1)
        for op in reversed(ops):
            out = np.kron(out, op)
        return out

    h = -on([z, z, i]) - on([i, z, z]) - on([x, i, i]) - on([i, x, i]) - on([i, i, x])
    state = Statevector(task.circuit).data
    assert math.isclose(task.ideal, float(np.real(state.conj() @ h @ state)), abs_tol=1e-9)


@pytest.mark.parametrize("name", list(WORKLOADS))
def test_noiseless_aer_run_matches_the_ideal(name):
    task = workload(name, qubits={"rb": 2, "hhl": 4}.get(name, 3))
    shots = 20_000
    backend = aer_backend(
        [task.circuit], noise=None, device="cpu", method="statevector", shots=shots, seed=7, threads=1
    )
    value = backend.executor(task.observable).evaluate(task.circuit)[0]
    # Each Pauli term's estimate has standard error <= |coeff| / sqrt(shots); 5 sigma on their sum.
    bound = 5 * sum(abs(p.coeff) for g in task.observable.groups for p in g.elements) / math.sqrt(shots)
    assert abs(value - task.ideal) < bound


def test_unknown_workload_lists_the_known_ones():
    with pytest.raises(QecInputError, match="choose one of ghz, mirror, qaoa, tfim, grover, rb"):
        workload("shor-factoring", qubits=3)
    with pytest.raises(QecInputError, match="grover takes 2 to 5 qubits"):
        workload("grover", qubits=6)
