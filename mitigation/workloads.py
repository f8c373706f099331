"""NISQ workloads: a circuit without measurements, a Mitiq observable, and its exact ideal value.

| name     | circuit                                          | observable                    | ideal     |
|----------|--------------------------------------------------|-------------------------------|-----------|
| `ghz`    | H + CX chain on n qubits                         | GHZ parity <X^n>              | 1         |
| `mirror` | `mitiq.benchmarks.generate_mirror_circuit`, line | mean of (-1)^b_i <Z_i>        | 1         |
| `qaoa`   | QAOA p=1 for MaxCut on the n-ring, fixed angles  | cut value sum (1 - Z_i Z_j)/2 | exact     |
| `tfim`   | RY/CX ansatz, fixed angles (VQE at fixed params) | TFIM energy -sum Z_iZ_i+1 - h sum X_i | exact |
| `grover` | Grover search for 1...1, optimal iterations, n<=5| success probability           | exact     |
| `rb`     | `mitiq.benchmarks.generate_rb_circuits`, n<=2    | survival probability of 0...0 | 1         |
| `hhl`    | HHL for A = [[1, -1/3], [-1/3, 1]], b = (1, 0), n=4 | P(ancilla 1) * Z of the system | numpy's x |

`hhl` (Harrow, Hassidim, Lloyd, PRL 103, 150502 (2009)) is the textbook instance: qubit 0 holds |b>, qubits
1-2 the clock of a 2-bit phase estimation of exp(iAt) at t = 3pi/4, qubit 3 the ancilla; A's eigenvalues 2/3
and 4/3 become clock values 1 and 2 exactly, so the ancilla's |1> branch holds (C/s) A^-1|b> with s = 3/2
and C = 1/2. The observable needs no post-selection: <P1_anc Z_sys> = (C/s)^2 (x_0^2 - x_1^2) for the
unnormalized solution x = A^-1 b, computed from `numpy.linalg.solve` (`hhl_ideal`), and equal to the
circuit's exact value (the test checks it).

"exact" is the statevector expectation of the observable, computed with Qiskit's `Statevector` (after
`backends.check_state_fits` refuses what would not fit); the 1s hold by construction for any n.

>>> from qec.mitigation.workloads import workload
>>> ghz = workload("ghz", qubits=4)
>>> ghz.ideal, ghz.circuit.num_qubits
(1.0, 4)
>>> round(workload("grover", qubits=3).ideal, 4)
0.9453
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass

import networkx as nx
import numpy as np
from mitiq import Observable, PauliString
from mitiq.benchmarks import generate_mirror_circuit, generate_rb_circuits
from qiskit import QuantumCircuit, transpile
from qiskit.circuit.library import QFTGate
from qiskit.quantum_info import SparsePauliOp, Statevector

from qec.errors import QecInputError, unknown_choice
from qec.mitigation.backends import AER_MAX_QUBITS, check_state_fits
from qec.text import approximate

# A term of an observable: coefficient, Pauli letters, and the qubits they act on.
Term = tuple[float, str, tuple[int, ...]]


@dataclass(frozen=True)
class Workload:
    """A circuit (no measurements), the observable to estimate on it, and the observable's exact value."""

    name: str
    circuit: QuantumCircuit
    observable: Observable
    ideal: float


def ghz(qubits: int, seed: int = 0) -> Workload:
    """GHZ(n) = (|0...0> + |1...1>)/sqrt 2 and its parity <X^n> = 1."""
    circuit = QuantumCircuit(qubits)
    circuit.h(0)
    for q in range(qubits - 1):
        circuit.cx(q, q + 1)
    return _workload("ghz", circuit, [(1.0, "X" * qubits, tuple(range(qubits)))], ideal=1.0)


def mirror(qubits: int, seed: int = 0) -> Workload:
    """A 3-layer mirror circuit on a line (returns to a known bitstring b); mean of (-1)^b_i Z_i is 1."""
    circuit, bits = generate_mirror_circuit(3, 0.5, nx.path_graph(qubits), seed=seed, return_type="qiskit")
    circuit = _on_all_qubits(circuit, qubits)
    return _workload("mirror", circuit, [((-1) ** b / qubits, "Z", (q,)) for q, b in enumerate(bits)], ideal=1.0)


def qaoa(qubits: int, seed: int = 0, gamma: float = 0.8, beta: float = 0.4) -> Workload:
    """QAOA (p=1, angles gamma, beta) for MaxCut on the ring of n nodes; observable: the cut value."""
    edges = [(q, (q + 1) % qubits) for q in range(qubits)] if qubits > 2 else [(0, 1)]
    circuit = QuantumCircuit(qubits)
    circuit.h(range(qubits))
    for i, j in edges:
        circuit.rzz(-gamma, i, j)  # exp(-i gamma C) up to a global phase, C = sum (1 - Z_i Z_j)/2
    circuit.rx(2 * beta, range(qubits))
    terms: list[Term] = [(len(edges) / 2, "I", (0,))] + [(-0.5, "ZZ", edge) for edge in edges]
    return _workload("qaoa", circuit, terms)


def tfim(qubits: int, seed: int = 0, field: float = 1.0) -> Workload:
    """Energy of the open transverse-field Ising chain -sum Z_i Z_i+1 - h sum X_i in a fixed RY/CX ansatz."""
    angles = np.random.default_rng(seed).uniform(0, math.pi, size=2 * qubits)
    circuit = QuantumCircuit(qubits)
    for q in range(qubits):
        circuit.ry(angles[q], q)
    for q in range(qubits - 1):
        circuit.cx(q, q + 1)
    for q in range(qubits):
        circuit.ry(angles[qubits + q], q)
    terms: list[Term] = [(-1.0, "ZZ", (q, q + 1)) for q in range(qubits - 1)]
    terms += [(-field, "X", (q,)) for q in range(qubits)]
    return _workload("tfim", circuit, terms)


def grover(qubits: int, seed: int = 0) -> Workload:
    """Grover search for the all-ones item with floor(pi/4 sqrt(2^n)) iterations; success probability."""
    if not 2 <= qubits <= 5:
        raise QecInputError(f"grover takes 2 to 5 qubits, got {qubits}: use qubits=2..5")
    circuit = QuantumCircuit(qubits)
    circuit.h(range(qubits))
    for _ in range(math.floor(math.pi / 4 * math.sqrt(2**qubits))):
        _multi_controlled_z(circuit)  # oracle: phase -1 on 1...1
        circuit.h(range(qubits))
        circuit.x(range(qubits))
        _multi_controlled_z(circuit)  # diffusion: phase -1 on 0...0 (up to a global phase)
        circuit.x(range(qubits))
        circuit.h(range(qubits))
    circuit = transpile(circuit, basis_gates=["h", "x", "rz", "cx"], optimization_level=0)  # mcx -> gates Mitiq reads
    return _workload("grover", circuit, _projector_terms([1] * qubits))


def rb(qubits: int, seed: int = 0, cliffords: int = 10) -> Workload:
    """A randomized benchmarking sequence of `cliffords` random Cliffords and their inverse; survival of 0...0."""
    if not 1 <= qubits <= 2:
        raise QecInputError(f"rb takes 1 or 2 qubits (Mitiq's generator), got {qubits}: use qubits=1 or 2")
    circuit = generate_rb_circuits(qubits, cliffords, trials=1, return_type="qiskit", seed=seed)[0]
    return _workload("rb", _on_all_qubits(circuit, qubits), _projector_terms([0] * qubits), ideal=1.0)


# HHL's linear system, the scale s = t 2^clock / (2 pi) that maps eigenvalues to clock values, and C.
HHL_MATRIX = np.array([[1.0, -1.0 / 3.0], [-1.0 / 3.0, 1.0]])
HHL_VECTOR = np.array([1.0, 0.0])
HHL_CLOCK_QUBITS = 2
HHL_TIME = 3 * math.pi / 4
HHL_C = 0.5


def hhl_ideal() -> float:
    """<P1_ancilla Z_system> of ideal HHL: (C/s)^2 (x_0^2 - x_1^2), x = numpy.linalg.solve(A, b).

    >>> round(hhl_ideal(), 12)  # (1/3)^2 * ((9/8)^2 - (3/8)^2)
    0.125
    """
    x = np.linalg.solve(HHL_MATRIX, HHL_VECTOR)
    scale = HHL_TIME * 2**HHL_CLOCK_QUBITS / (2 * math.pi)
    return float((HHL_C / scale) ** 2 * (x[0] ** 2 - x[1] ** 2))


def hhl(qubits: int, seed: int = 0) -> Workload:
    """HHL on the 2x2 system A = [[1, -1/3], [-1/3, 1]], b = |0>; observable: P(ancilla 1) * Z of the system."""
    if qubits != 4:
        raise QecInputError(
            f"hhl runs on 4 qubits (1 for b, {HHL_CLOCK_QUBITS} clock, 1 ancilla), got {qubits}: use qubits=4"
        )
    system, clock, ancilla = 0, [1, 2], 3
    # A = I - X/3, so exp(iAt) = e^{it} RX(2t/3): a phase on the control and a controlled RX.
    estimation = QuantumCircuit(4)
    estimation.h(clock)
    for k, control in enumerate(clock):
        estimation.p(2**k * HHL_TIME, control)
        estimation.crx(2 ** (k + 1) * HHL_TIME / 3, control, system)
    estimation.append(QFTGate(HHL_CLOCK_QUBITS).inverse(), clock)
    circuit = QuantumCircuit(4)
    circuit.compose(estimation, inplace=True)
    for value, control in ((1, clock[0]), (2, clock[1])):  # the clock holds 1 or 2: one bit set
        circuit.cry(2 * math.asin(HHL_C / value), control, ancilla)
    circuit.compose(estimation.inverse(), inplace=True)
    circuit = transpile(circuit, basis_gates=["h", "x", "ry", "rz", "cx"], optimization_level=0)
    terms: list[Term] = [(0.5, "Z", (system,)), (-0.5, "ZZ", (system, ancilla))]  # (1 - Z_a)/2 Z_s
    return _workload("hhl", circuit, terms, ideal=hhl_ideal())


WORKLOADS: dict[str, Callable[..., Workload]] = {
    "ghz": ghz,
    "mirror": mirror,
    "qaoa": qaoa,
    "tfim": tfim,
    "grover": grover,
    "rb": rb,
    "hhl": hhl,
}


def workload(name: str, *, qubits: int, seed: int = 0) -> Workload:
    """The workload called `name` on `qubits` qubits; raises QecInputError listing the known names."""
    if name not in WORKLOADS:
        raise unknown_choice("workload", name, WORKLOADS)
    if isinstance(qubits, bool) or not isinstance(qubits, numbers.Integral):
        raise QecInputError(f"qubits must be an integer, got {qubits!r}")
    if qubits < 2 and name != "rb":
        raise QecInputError(f"workload {name!r} needs at least 2 qubits, got {qubits}")
    if qubits > AER_MAX_QUBITS:  # refused before a circuit of that many qubits is built
        raise QecInputError(
            f"workload {name!r} on {approximate(qubits)} qubits is more than any Aer method holds "
            f"(at most {AER_MAX_QUBITS:,}, the stabilizer method's limit): use fewer qubits"
        )
    return WORKLOADS[name](qubits, seed=seed)


def _workload(name: str, circuit: QuantumCircuit, terms: list[Term], ideal: float | None = None) -> Workload:
    """The workload; `ideal` None: computed from the statevector, refused first if it would not fit in memory."""
    n = circuit.num_qubits
    observable = Observable(*[PauliString(paulis, coeff=coeff, support=qubits) for coeff, paulis, qubits in terms])
    if ideal is None:
        check_state_fits(n, method="statevector", device="CPU")
        sparse = [(p.replace("I", ""), q if p != "I" else (), c) for c, p, q in terms]
        operator = SparsePauliOp.from_sparse_list(sparse, n)
        ideal = round(float(np.real(Statevector(circuit).expectation_value(operator))), 12)
    return Workload(name, circuit, observable, ideal)


def _projector_terms(bits: list[int]) -> list[Term]:
    """|b><b| = prod_i (1 + (-1)^b_i Z_i)/2 as Pauli terms."""
    n = len(bits)
    terms: list[Term] = []
    for size in range(n + 1):
        for subset in itertools.combinations(range(n), size):
            sign = (-1) ** sum(bits[q] for q in subset)
            terms.append((sign / 2**n, "Z" * size if size else "I", subset if size else (0,)))
    return terms


def _multi_controlled_z(circuit: QuantumCircuit) -> None:
    n = circuit.num_qubits
    circuit.h(n - 1)
    circuit.mcx(list(range(n - 1)), n - 1)
    circuit.h(n - 1)


def _on_all_qubits(circuit: QuantumCircuit, qubits: int) -> QuantumCircuit:
    """Mitiq's benchmark circuit without measurements, as a plain circuit on `qubits` qubits."""
    plain = QuantumCircuit(qubits)
    plain.compose(circuit.remove_final_measurements(inplace=False), qubits=range(circuit.num_qubits), inplace=True)
    return plain
