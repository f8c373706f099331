"""The user's circuit: OpenQASM 2, OpenQASM 3 and QPY files read by content, made foldable, refused when they
cannot be (with the reason), and never unpickled."""

import pickle
from pathlib import Path

import cirq
import numpy as np
import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister, qasm2, qasm3, qpy
from qiskit.circuit import Parameter
from qiskit.quantum_info import Statevector

from qec.errors import QecInputError
from qec.mitigation import mitigate
from qec.mitigation.observables import ideal_value, pauli_sum
from qec.mitigation.user_circuits import MITIQ_GATES, circuit_format, load_circuit, prepare_circuit

pytestmark = pytest.mark.filterwarnings("ignore:The input circuit is very short")
OBSERVABLE = "ZZII + 0.5*XXXX - 0.2*IYZI + 0.3*ZIIZ"


def user_circuit() -> QuantumCircuit:
    """Four qubits in two registers, gates outside MITIQ_GATES (ccx, cp, u), final measurements."""
    a, b = QuantumRegister(1, "a"), QuantumRegister(3, "b")
    circuit = QuantumCircuit(a, b, ClassicalRegister(4, "c"))
    circuit.h(0)
    circuit.ry(0.41, 1)
    circuit.cx(0, 1)
    circuit.ccx(0, 1, 2)
    circuit.cp(0.37, 2, 3)
    circuit.u(0.2, 0.5, 1.3, 3)
    circuit.t(2)
    circuit.barrier()
    circuit.measure(range(4), range(4))
    return circuit


def write(tmp_path: Path, name: str, circuit: QuantumCircuit) -> Path:
    path = tmp_path / name
    if name.endswith(".qpy"):
        with path.open("wb") as handle:
            qpy.dump(circuit, handle)
    else:
        path.write_text(qasm2.dumps(circuit) if name.endswith(".qasm") else qasm3.dumps(circuit))
    return path


def test_qasm2_qasm3_and_qpy_files_of_one_circuit_give_the_same_ideal(tmp_path):
    circuit = user_circuit()
    exact = Statevector(circuit.remove_final_measurements(inplace=False)).expectation_value(
        pauli_sum(OBSERVABLE, num_qubits=4).to_sparse_pauli_op()
    )
    ideals = {}
    for name in ("c.qasm", "c.qasm3", "c.qpy"):
        prepared = prepare_circuit(load_circuit(write(tmp_path, name, circuit)))
        assert prepared.num_qubits == 4 and prepared.num_clbits == 0 and set(prepared.count_ops()) <= set(MITIQ_GATES)
        ideals[name] = ideal_value(prepared, pauli_sum(OBSERVABLE, num_qubits=4))
    assert [circuit_format((tmp_path / n).read_bytes()) for n in ideals] == ["qasm2", "qasm3", "qpy"]
    for value in ideals.values():
        assert value == pytest.approx(float(np.real(exact)), abs=1e-9)


def test_the_format_is_read_from_the_content_not_the_name(tmp_path):
    path = write(tmp_path, "c.qpy", user_circuit())
    renamed = path.rename(tmp_path / "looks_like.qasm")
    assert load_circuit(renamed).num_qubits == 4
    commented = tmp_path / "commented.txt"
    commented.write_text('// a Bell pair\n\nOPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\nh q[0];\ncx q[0],q[1];\n')
    assert load_circuit(commented).count_ops() == {"h": 1, "cx": 1}


def test_idle_qubits_keep_their_number_and_leading_resets_are_dropped(tmp_path):
    path = tmp_path / "idle.qasm"
    path.write_text('OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[3] q;\nbit[3] c;\nreset q;\nx q[2];\nc = measure q;')
    prepared = prepare_circuit(load_circuit(path))
    assert prepared.count_ops() == {"x": 1, "id": 2}  # qubits 0 and 1 carry an id: Mitiq numbers what it sees
    assert ideal_value(prepared, pauli_sum("ZZZ", num_qubits=3)) == -1.0
    report = mitigate(prepared, "IIZ + 0.5*ZII", noise="p2=0.01,readout=0.02", technique="rem", shots=2000, threads=1)
    assert report.ideal == -0.5 and abs(report.mitigated - report.ideal) < 0.1  # qubit 2 measured, not qubit 0


def test_a_cirq_circuit_is_taken_through_mitiq():
    q = cirq.LineQubit.range(2)
    circuit = cirq.Circuit(cirq.H(q[0]), cirq.CNOT(q[0], q[1]), cirq.measure(*q))
    report = mitigate(circuit, "XX", noise="none", technique="none", shots=500, threads=1)
    assert report.ideal == 1.0 and report.noisy == 1.0


@pytest.mark.parametrize(
    "text, message",
    [
        ("hello world\n", "is not a circuit file: it is neither QPY"),
        ("OPENQASM 4.0;\nqubit q;\n", "declares 'OPENQASM 4.0': OpenQASM 2 and 3 are read"),
        ('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\nfoo q[0];\n', "is not a valid OpenQASM 2 file: "),
        ("OPENQASM 3.0;\nqubit[2] q;\nfoo q[0];\n", "is not a valid OpenQASM 3 file: "),
    ],
)
def test_text_that_is_not_a_circuit_is_refused(tmp_path, text, message):
    path = tmp_path / "bad.qasm"
    path.write_text(text)
    with pytest.raises(QecInputError, match="bad.qasm") as error:
        load_circuit(path)
    assert message in str(error.value)


class _Touch:
    """Unpickling this would create the file `marker`."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_pickle_is_refused_unread_and_a_cut_qpy_file_is_refused(tmp_path):
    marker = tmp_path / "unpickled"
    path = tmp_path / "circuit.qpy"
    path.write_bytes(pickle.dumps(_Touch(marker)))
    with pytest.raises(QecInputError, match="is not a circuit file: it is neither QPY"):
        load_circuit(path)
    assert not marker.exists()
    whole = write(tmp_path, "whole.qpy", user_circuit()).read_bytes()
    cut = tmp_path / "cut.qpy"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(QecInputError, match="cut.qpy' is not a valid QPY file"):
        load_circuit(cut)
    with pytest.raises(QecInputError, match="does not exist or is not a file"):
        load_circuit(tmp_path / "nothing.qasm")


def mid_circuit_measurement() -> QuantumCircuit:
    circuit = QuantumCircuit(2, 2)
    circuit.h(0)
    circuit.measure(0, 0)
    circuit.cx(0, 1)
    return circuit


def classical_control() -> QuantumCircuit:
    circuit = QuantumCircuit(2, 2)
    circuit.h(0)
    circuit.measure(0, 0)
    with circuit.if_test((circuit.clbits[0], 1)):
        circuit.x(1)
    return circuit


def reset_after_gate() -> QuantumCircuit:
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.reset(0)
    circuit.cx(0, 1)
    return circuit


def unbound() -> QuantumCircuit:
    circuit = QuantumCircuit(1)
    circuit.rx(Parameter("theta"), 0)
    return circuit


def opaque() -> QuantumCircuit:
    return qasm2.loads('OPENQASM 2.0;\ninclude "qelib1.inc";\nopaque magic q;\nqreg q[1];\nmagic q[0];\n')


@pytest.mark.parametrize(
    "make, message",
    [
        (mid_circuit_measurement, "the circuit measures qubit 0 mid-circuit (instruction 2): mitigation folds"),
        (classical_control, "the circuit has classical control (if_else, instruction 3), which mitigation cannot fold"),
        (reset_after_gate, "the circuit resets qubit 0 mid-circuit (instruction 2)"),
        (unbound, "the circuit has unbound parameters (theta): bind them first"),
        (opaque, "the circuit's gates cannot be written with id, x, y"),
        (lambda: QuantumCircuit(0), "the circuit has no qubits"),
        (lambda: 42, "circuit must be a Qiskit QuantumCircuit or a circuit Mitiq converts"),
    ],
)
def test_what_cannot_be_folded_is_refused_saying_why(make, message):
    with pytest.raises(QecInputError) as error:
        prepare_circuit(make())
    assert message in str(error.value)


def test_qasm3_classical_control_from_a_file_is_refused(tmp_path):
    path = tmp_path / "feedback.qasm"
    path.write_text(
        'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nbit[2] c;\nh q[0];\nc[0] = measure q[0];\n'
        "if (c[0]) { x q[1]; }\nc[1] = measure q[1];\n"
    )
    with pytest.raises(QecInputError, match="classical control"):
        prepare_circuit(load_circuit(path))


def ghz(qubits: int) -> QuantumCircuit:
    circuit = QuantumCircuit(qubits, qubits)
    circuit.h(0)
    for q in range(qubits - 1):
        circuit.cx(q, q + 1)
    circuit.measure(range(qubits), range(qubits))
    return circuit


def test_a_users_own_aer_noise_model_is_applied_and_zne_corrects_it():
    from qiskit_aer.noise import NoiseModel, depolarizing_error

    model = NoiseModel()
    model.add_all_qubit_quantum_error(depolarizing_error(0.04, 2), ["cx"])
    report = mitigate(ghz(3), "XXX", noise=model, technique="zne", shots=20_000, seed=4, device="cpu", threads=1)
    # Three CX at 4% two-qubit depolarizing take <XXX> to 0.92 (measured over seeds; noisy standard error 0.003);
    # Richardson's standard error at 20k shots is 0.008 (mitigated 0.995-1.006 over seeds 0-3).
    assert report.noise == "Aer NoiseModel on cx" and report.method == "density_matrix"
    assert 0.88 < report.noisy < 0.96 and abs(report.mitigated - 1) < abs(report.noisy - 1) / 2


def test_a_noise_model_from_a_backend_gives_rem_that_backends_readout_errors():
    pytest.importorskip("qiskit_ibm_runtime")
    from qiskit_aer.noise import NoiseModel
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    from qec.mitigation.noise_models import fake_readout_errors
    from qec.mitigation.runs import model_readout_rates

    device = FakeManilaV2()
    model = NoiseModel.from_backend(device)
    assert model_readout_rates(model, 5) == pytest.approx(fake_readout_errors(device))
    noisy = mitigate(ghz(3), "ZZI + IZZ", noise=model, technique="rem", shots=20_000, seed=1, device="cpu", threads=1)
    # Readout of qubits 0-2 (3.5, 2.2, 9.6 %) takes ZZI + IZZ to 1.64; REM leaves the gate noise only: 1.97 (standard
    # error 0.008; measured over seeds 0-3).
    assert noisy.ideal == 2.0 and noisy.noisy < 1.8 and abs(noisy.mitigated - 2) < 0.1
    named = mitigate(ghz(3), "XXX", noise="FakeManilaV2", technique="none", shots=2000, device="cpu", threads=1)
    assert named.noise == "fake=FakeManilaV2" and named.noisy < 0.95


@pytest.mark.parametrize(
    "noise, technique, message",
    [
        ("FakeNope", "zne", "unknown fake backend 'FakeNope'"),
        (0.01, "zne", "noise must be a NoiseSpec, its text"),
        ("p2=0.01,p9=1", "zne", "bad noise term 'p9=1'"),
    ],
)
def test_bad_noise_is_refused(noise, technique, message):
    with pytest.raises(QecInputError, match=message):
        mitigate(ghz(2), "XX", noise=noise, technique=technique, shots=100, device="cpu", threads=1)


def test_pec_under_a_noise_model_is_refused_and_one_qpy_program_is_needed(tmp_path):
    from qiskit_aer.noise import NoiseModel

    with pytest.raises(QecInputError, match="an Aer NoiseModel gives none"):
        mitigate(ghz(2), "XX", noise=NoiseModel(), technique="pec", shots=100, device="cpu", threads=1)
    path = tmp_path / "two.qpy"
    with path.open("wb") as handle:
        qpy.dump([ghz(2), ghz(3)], handle)
    with pytest.raises(QecInputError, match="holds 2 QPY programs; give a file holding exactly one circuit"):
        load_circuit(path)


def test_a_qasm3_for_loop_is_unrolled_and_a_huge_one_refused_before_unrolling(tmp_path):
    path = tmp_path / "loop.qasm"
    body = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nh q[0];\nfor int i in [0:{last}] {{\n'
    body += "  cx q[0], q[1];\n  rz(0.25 * i) q[1];\n}}\n"
    path.write_text(body.format(last=2))
    prepared = prepare_circuit(load_circuit(path))
    assert prepared.count_ops() == {"h": 1, "cx": 3, "rz": 3}
    looped = QuantumCircuit(2)
    looped.h(0)
    for i in range(3):
        looped.cx(0, 1)
        looped.rz(0.25 * i, 1)
    observable = pauli_sum("XX + 0.5*YZ - 0.3*ZY", num_qubits=2)
    assert ideal_value(prepared, observable) == pytest.approx(ideal_value(looped, observable), abs=1e-12)
    path.write_text(body.format(last=10**8))
    with pytest.raises(QecInputError, match="loop.qasm': it expands to 200,000,003 gate applications"):
        load_circuit(path)  # refused from the text, before Qiskit builds it
    huge = QuantumCircuit(2)
    with huge.for_loop(range(10**8)):
        huge.cx(0, 1)
        huge.h(1)
    with pytest.raises(QecInputError, match="the circuit has 2e\\+08 instructions \\(gate definitions and for-loops"):
        prepare_circuit(huge)


@pytest.mark.parametrize(
    "text, message",
    [
        ('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[100000000];\nh q[0];\n', "declares 100,000,000 qubits"),
        ("OPENQASM 3.0;\nqubit[6000] a;\nqubit[6000] b;\n", "declares 12,000 qubits"),
        ("OPENQASM 2.0;\nqreg q[2];\ncreg c[2000000];\n", "declares 2,000,000 bits"),
    ],
)
def test_huge_registers_are_refused_before_parsing(tmp_path, text, message):
    """Found by the CLI fuzzer: `qreg q[100000000];` ran past a minute inside qiskit.qasm2 (building the qubits)."""
    path = tmp_path / "c.qasm"
    path.write_text(text)
    with pytest.raises(QecInputError, match=message):
        load_circuit(path)


@pytest.mark.parametrize("observable", ["II", "0*ZZ", "ZZ - ZZ", "1e-400*ZZ", "2.5"])
def test_an_observable_that_is_a_multiple_of_the_identity_is_refused(observable):
    """Found by the CLI fuzzer: Mitiq raised ValueError('Measuring an empty set of qubits.')."""
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    with pytest.raises(QecInputError, match="multiple of the identity"):
        mitigate(circuit, observable, technique="none", shots=100)
