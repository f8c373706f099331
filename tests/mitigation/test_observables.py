"""The user's observable: parsing (never evaluated), qubit order across text, SparsePauliOp and Mitiq, measurement
groups, exact ideal values and the shot-noise standard error of a measured value.

Statistical tolerances are 5 standard errors (a 5 sigma test fails by chance about once in 1.7 million runs).
"""

import math

import numpy as np
import pytest
from mitiq import Observable, PauliString
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp, Statevector

from qec.errors import QecInputError
from qec.mitigation.backends import aer_backend
from qec.mitigation.observables import (
    MAX_BITSTRING_QUBITS,
    MAX_IDEAL_STATEVECTOR_QUBITS,
    PauliSum,
    ideal_value,
    measure,
    pauli_sum,
)

SUM = "ZZII + 0.5*XXXX - 0.2*IYZI"


def non_clifford(qubits: int = 4) -> QuantumCircuit:
    circuit = QuantumCircuit(qubits)
    for q in range(qubits):
        circuit.ry(0.3 + 0.4 * q, q)
    for q in range(qubits - 1):
        circuit.cx(q, q + 1)
    circuit.t(1)
    circuit.rx(0.7, 0)
    circuit.h(qubits - 1)
    return circuit


@pytest.mark.parametrize(
    "text, terms",
    [
        (SUM, (("ZZII", 1.0), ("XXXX", 0.5), ("IYZI", -0.2))),
        ("-1.5e-2 ZZ", (("ZZ", -0.015),)),
        ("2 * XX * 0.5 - .25*YY", (("XX", 1.0), ("YY", -0.25))),
        ("XZ + XZ - 3", (("XZ", 2.0), ("II", -3.0))),
        ("+ZI-IZ", (("ZI", 1.0), ("IZ", -1.0))),
        ("ZZ - ZZ", (("II", 0.0),)),
    ],
)
def test_parse_reads_coefficients_signs_and_combines_equal_words(text, terms):
    parsed = PauliSum.parse(text, num_qubits=len(terms[0][0])).terms
    assert [label for label, _ in parsed] == [label for label, _ in terms]
    assert [c for _, c in parsed] == pytest.approx([c for _, c in terms])


def test_leftmost_letter_is_qubit_0_and_qiskit_and_mitiq_inputs_name_the_same_operator():
    text = pauli_sum(SUM, num_qubits=4)
    # Qiskit labels put qubit 0 rightmost: Z on qubits 0, 1 is "IIZZ"; Y on 1 and Z on 2 is "IZYI".
    qiskit = pauli_sum(SparsePauliOp(["IIZZ", "XXXX", "IZYI"], [1.0, 0.5, -0.2]), num_qubits=4)
    mitiq = pauli_sum(
        Observable(
            PauliString("ZZ", support=(0, 1)),
            PauliString("XXXX", coeff=0.5),
            PauliString("YZ", coeff=-0.2, support=(1, 2)),
        ),
        num_qubits=4,
    )
    assert text == qiskit == mitiq
    assert text.to_sparse_pauli_op().equiv(SparsePauliOp(["IIZZ", "XXXX", "IZYI"], [1.0, 0.5, -0.2]))
    # On |1000> (qubit 0 flipped) Z_0 Z_1 is -1: the order is physical, not only a naming convention.
    flipped = QuantumCircuit(4)
    flipped.x(0)
    assert ideal_value(flipped, pauli_sum("ZZII", num_qubits=4)) == -1.0
    assert ideal_value(flipped, pauli_sum("IIZZ", num_qubits=4)) == 1.0


def test_several_measurement_groups_give_the_exact_ideal():
    circuit = non_clifford(4)
    observable = pauli_sum(SUM + " + 0.3*ZIZI - 0.7*IXIX + 0.1", num_qubits=4)
    groups = observable.groups()
    assert groups == [(0, 3, 5), (1, 4), (2,)]  # ZZII ZIZI 0.1*IIII | XXXX IXIX | IYZI
    for group in groups:  # qubit-wise commuting: on every qubit the group's letters agree or are I
        for qubit in range(4):
            letters = {observable.terms[i][0][qubit] for i in group} - {"I"}
            assert len(letters) <= 1
    exact = float(np.real(Statevector(circuit).expectation_value(observable.to_sparse_pauli_op())))
    assert ideal_value(circuit, observable) == pytest.approx(exact, abs=1e-10)
    mitiq = observable.to_mitiq()
    assert mitiq.ngroups == 3 and [len(g.elements) for g in mitiq.groups] == [len(g) for g in groups]
    assert observable.groups() == groups  # the same text always gives the same groups (Mitiq's own shuffle)


def test_noiseless_measured_value_agrees_with_the_ideal_within_five_standard_errors():
    """End to end through measure_in and Aer: a wrong qubit order or basis rotation would miss by far more."""
    circuit = non_clifford(4)
    observable = pauli_sum(SUM + " + 0.3*ZIZI - 0.7*IXIX", num_qubits=4)
    backend = aer_backend([circuit], noise=None, device="cpu", shots=20_000, seed=5, threads=1)
    estimate = measure(backend, circuit, observable)
    assert (estimate.circuits, estimate.shots) == (3, 60_000)
    assert abs(estimate.value - ideal_value(circuit, observable)) < 5 * estimate.standard_error


def test_shot_noise_standard_error_is_the_binomial_one():
    theta, shots = 1.1, 40_000
    circuit = QuantumCircuit(1)
    circuit.ry(theta, 0)
    backend = aer_backend([circuit], noise=None, device="cpu", shots=shots, seed=2, threads=1)
    estimate = measure(backend, circuit, pauli_sum("Z", num_qubits=1))
    # <Z> = cos(theta), each shot +-1: standard error sin(theta)/sqrt(shots); its own estimate is within 2%.
    assert estimate.standard_error == pytest.approx(math.sin(theta) / math.sqrt(shots), rel=0.02)
    assert abs(estimate.value - math.cos(theta)) < 5 * estimate.standard_error


def test_bitstring_is_the_probability_of_that_outcome_qubit_0_leftmost():
    circuit = non_clifford(3)
    probabilities = Statevector(circuit).probabilities_dict()  # Qiskit keys: qubit 0 rightmost
    for key, probability in probabilities.items():
        ours = ideal_value(circuit, pauli_sum(f"bitstring:{key[::-1]}", num_qubits=3))
        assert ours == pytest.approx(probability, abs=1e-10)
    assert len(pauli_sum("bitstring:0101", num_qubits=4).groups()) == 1


def test_clifford_ideal_uses_the_stabilizer_method_beyond_statevector_sizes():
    n = 60
    ghz = QuantumCircuit(n)
    ghz.h(0)
    for q in range(n - 1):
        ghz.cx(q, q + 1)
    assert ideal_value(ghz, pauli_sum("X" * n, num_qubits=n)) == 1.0
    assert ideal_value(ghz, pauli_sum("Z" + "I" * (n - 2) + "Z - 0.5*" + "Z" + "I" * (n - 1), num_qubits=n)) == 1.0


def test_non_clifford_beyond_the_statevector_limit_has_no_ideal():
    n = MAX_IDEAL_STATEVECTOR_QUBITS + 1
    circuit = QuantumCircuit(n)
    circuit.h(range(n))
    circuit.t(0)
    assert ideal_value(circuit, pauli_sum("Z" * n, num_qubits=n)) is None


def test_describe_reads_back():
    observable = pauli_sum(SUM + " - 1e-3*XYZI + 2", num_qubits=4)
    assert pauli_sum(observable.describe(), num_qubits=4) == observable


@pytest.mark.parametrize(
    "observable, qubits, message",
    [
        ("ZZAZ", 4, "unknown Pauli letter 'A' in 'ZZAZ' (observable term 1): use I, X, Y, Z"),
        ("ZZ + 0.5*xx", 2, "unknown Pauli letter 'x' in 'xx' (observable term 2): use I, X, Y, Z in capitals"),
        ("ZZZ", 4, "observable term 'ZZZ' has 3 letters but the circuit has 4 qubits"),
        ("bitstring:010", 4, "bitstring '010' has 3 bits but the circuit has 4 qubits"),
        ("bitstring:01a1", 4, "bitstring '01a1' must be made of 0s and 1s"),
        ("bitstring:" + "0" * 13, 13, f"the limit is {MAX_BITSTRING_QUBITS} qubits"),
        ("XX YY", 2, "has two Pauli words ('XX', 'YY')"),
        ("ZZ +", 2, "cannot be read at character 5"),
        ("* ZZ", 2, "cannot be read at character 1"),
        ("ZZ 0.5", 2, "cannot be read at character 4"),
        ("", 2, "the observable is empty"),
        ("__import__('os').system('true')", 2, "has '_' at character 1"),
        ("ZZ/2", 2, "has '/' at character 3"),
        (SparsePauliOp(["ZZZ"]), 4, "the observable acts on 3 qubits but the circuit has 4"),
        (SparsePauliOp(["ZZ"], [1j]), 2, "complex coefficient 1j, so the observable is not Hermitian"),
        (Observable(PauliString("Z", support=(5,))), 4, "acts on qubit 5 but the circuit has 4 qubits (0 to 3)"),
        (3.0, 2, "observable must be text"),
    ],
)
def test_bad_observables_are_refused_naming_the_problem(observable, qubits, message):
    with pytest.raises(QecInputError) as error:
        pauli_sum(observable, num_qubits=qubits)
    assert message in str(error.value)
