"""NISQ workloads: a circuit without measurements, a Mitiq observable, and its exact ideal value.

| name     | circuit                                          | observable                    | ideal     |
|----------|--------------------------------------------------|-------------------------------|-----------|
| `ghz`    | H + CX chain on n qubits                         | GHZ parity <X^n>              | 1         |
| `mirror` | `mitiq.benchmarks.generate_mirror_circuit`, line | mean of (-1)^b_i <Z_i>        | 1         |
| `qaoa`   | QAOA p=1 for MaxCut on the n-ring, fixed angles  | cut value sum (1 - Z_i Z_j)/2 | exact     |
| `tfim`   | RY/CX ansatz, fixed angles (VQE at fixed params) | TFIM energy -sum Z_iZ_i+1 - h sum X_i | exact |
| `grover` | Grover search for 1...1, optimal iterations, n<=5| success probability           | exact     |
| `rb`     | `mitiq.benchmarks.generate_rb_circuits`, n<=2    | survival probability of 0...0 | 1         |

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
from qiskit.quantum_info import SparsePauliOp, Statevector

from qec.codes import approximate
from qec.errors import QecInputError, unknown_choice
from qec.mitigation.backends import AER_MAX_QUBITS, check_state_fits

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


WORKLOADS: dict[str, Callable[..., Workload]] = {
    "ghz": ghz,
    "mirror": mirror,
    "qaoa": qaoa,
    "tfim": tfim,
    "grover": grover,
    "rb": rb,
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
