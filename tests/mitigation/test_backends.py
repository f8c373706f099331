"""Aer backends: bit order of the batched executor, method choice, device choice, memory refusal."""

import time

import pytest
from mitiq import Observable, PauliString
from qiskit import QuantumCircuit

from qec.errors import QecInputError
from qec.mitigation.backends import (
    aer_backend,
    check_state_fits,
    choose_method,
    gpu_available,
    resolve_device,
    state_bytes,
)
from qec.mitigation.noise_models import NoiseSpec


def _x_on_qubit_1() -> QuantumCircuit:
    """|010>; the Zs keep it, and give every qubit a gate (Mitiq renumbers only the qubits it sees)."""
    circuit = QuantumCircuit(3)
    circuit.z(0)
    circuit.x(1)
    circuit.z(2)
    return circuit


@pytest.mark.parametrize("method", ["statevector", "density_matrix", "stabilizer"])
def test_executor_reads_each_qubit_in_its_place(method):
    # |010>: <Z> on qubit 1 is -1, on qubits 0 and 2 it is +1, exactly.
    circuit = _x_on_qubit_1()
    backend = aer_backend([circuit], noise=None, device="cpu", method=method, shots=100, seed=1, threads=1)
    values = {}
    for qubit in range(3):
        observable = Observable(PauliString("Z", support=(qubit,)))
        values[qubit] = backend.executor(observable).evaluate(circuit)[0]
    assert values == {0: 1.0, 1: -1.0, 2: 1.0}


def test_one_aer_call_for_a_batch_of_circuits_and_groups():
    circuit = _x_on_qubit_1()
    observable = Observable(PauliString("ZZ", support=(0, 1)), PauliString("X", support=(2,), coeff=0.5))
    backend = aer_backend([circuit], noise=None, device="cpu", shots=200, seed=1, threads=1)
    executor = backend.executor(observable)
    values = executor.evaluate([circuit, circuit.copy(), circuit.copy()])
    assert executor.calls_to_executor == 1
    # <Z0 Z1> = -1 exactly; <X2> on |0> is a +-1 coin: |0.5 <X2>| <= 0.5 * 6/sqrt(200) at 6 sigma.
    assert all(abs(v + 1) < 0.5 * 6 / 200**0.5 for v in values)


def test_method_choice():
    assert choose_method(4, clifford=True, noisy=True) == "density_matrix"
    assert choose_method(5, clifford=True, noisy=True, mid_circuit=True) == "stabilizer"
    assert choose_method(20, clifford=True, noisy=True) == "stabilizer"
    assert choose_method(20, clifford=False, noisy=True) == "statevector"
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    relaxing = aer_backend([circuit], noise=NoiseSpec(t1_us=50, t2_us=50), device="cpu", threads=1)
    assert relaxing.method == "density_matrix"


def test_stabilizer_refused_for_non_pauli_noise():
    circuit = _x_on_qubit_1()
    with pytest.raises(QecInputError, match="stabilizer method needs Clifford circuits and Pauli noise"):
        aer_backend([circuit], noise=NoiseSpec(over_rotation=0.1), device="cpu", method="stabilizer")


def test_auto_device_falls_back_to_cpu_and_gpu_is_refused_without_one():
    if gpu_available():
        pytest.skip("a GPU is present: the refusal cannot be shown here")
    assert resolve_device("auto") == "CPU"
    with pytest.raises(QecInputError, match="device 'gpu' needs qiskit-aer-gpu and a CUDA GPU"):
        aer_backend([_x_on_qubit_1()], noise=None, device="gpu")


def test_too_many_qubits_refused_before_allocating():
    circuit = QuantumCircuit(45)
    circuit.rx(0.1, range(45))  # non-Clifford: no stabilizer escape
    start = time.perf_counter()
    with pytest.raises(QecInputError, match=r"45 qubits need .* GiB for the statevector.*use at most \d+ qubits"):
        aer_backend([circuit], noise=NoiseSpec(depolarizing_1q=0.01), device="cpu")
    assert time.perf_counter() - start < 5  # refused from arithmetic, nothing of 2^45 amplitudes allocated
    assert state_bytes(30, "statevector") == 16 * 2**30
    assert state_bytes(12, "density_matrix") == 16 * 4**12
    check_state_fits(20, method="statevector", device="CPU")  # 16 MiB fits


def test_unknown_device_and_method_list_the_known_ones():
    with pytest.raises(QecInputError, match="choose one of auto, cpu, gpu"):
        aer_backend([_x_on_qubit_1()], noise=None, device="tpu")
    with pytest.raises(QecInputError, match="choose one of auto, statevector, density_matrix, stabilizer"):
        aer_backend([_x_on_qubit_1()], noise=None, method="mps")


def test_per_qubit_readout_rates_are_inverted_per_measured_qubit():
    # |010> read with 10 % flips: <Z1> is -0.8 raw; REM with per-qubit rates (qubit 1's is 0.1) restores -1.
    circuit = _x_on_qubit_1()
    backend = aer_backend([circuit], noise=NoiseSpec(readout=0.1), device="cpu", shots=20_000, seed=2, threads=1)
    observable = Observable(PauliString("Z", support=(1,)))
    raw = backend.executor(observable).evaluate(circuit)[0]
    corrected = backend.executor(observable, readout=(0.0, 0.1, 0.3)).evaluate(circuit)[0]
    assert abs(raw + 0.8) < 0.03 and abs(corrected + 1) < 0.03  # ~6 sigma at 20k shots
    with pytest.raises(
        QecInputError,
        match="qubit 1 misreads with probability 0.5: its confusion matrix is singular, so REM has no estimate",
    ):
        backend.executor(observable, readout=(0.0, 0.5, 0.0)).evaluate(circuit)
