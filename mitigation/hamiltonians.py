"""Qubit Hamiltonians for VQE: Pauli terms, a Mitiq `Observable`, and the exact ground energy by diagonalization.

| name         | Hamiltonian (open chain of n qubits)                 | qubits |
|--------------|------------------------------------------------------|--------|
| `tfim`       | -sum Z_i Z_i+1 - h sum X_i (h = 1, the critical point) | 2-12   |
| `heisenberg` | sum X_i X_i+1 + Y_i Y_i+1 + Z_i Z_i+1 (J = 1)          | 2-12   |
| `h2`         | H2 in STO-3G at 0.735 Angstrom, 2-qubit reduced      | 2      |

**H2.** The 2-qubit Hamiltonian of the hydrogen molecule, STO-3G basis, bond length 0.735 Angstrom, parity
mapping with two-qubit reduction, as published with Qiskit (the `H2_op` of the VQE tutorials and tests of
qiskit-algorithms, e.g. `test/minimum_eigensolvers/test_vqe.py`):
-1.052373245772859 II + 0.39793742484318045 IZ - 0.39793742484318045 ZI - 0.01128010425623538 ZZ
+ 0.18093119978423156 XX (Qiskit's labels: the rightmost letter acts on qubit 0). Its lowest eigenvalue is the
*electronic* energy, -1.857275 Ha (the value those tests assert); we add the nuclear repulsion 1/R =
0.7199689944 Ha (R = 0.735 Angstrom = 1.38895 bohr) to the identity term, so `ground_energy()` is the total
energy, -1.137306 Ha: the full-CI STO-3G energy of H2 at this bond length, the about -1.137 Ha minimum of
the exact curves in O'Malley et al., PRX 6, 031007 (2016) and Kandala et al., Nature 549, 242 (2017) (whose
own coefficient tables use other bond-length grids and qubit encodings, so we quote Qiskit's numbers).

>>> from qec.mitigation.hamiltonians import hamiltonian
>>> round(hamiltonian("h2", qubits=2).ground_energy(), 5)
-1.13731
>>> round(hamiltonian("tfim", qubits=2).ground_energy(), 6)  # -sqrt(5) for two sites at h = 1
-2.236068
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from mitiq import Observable, PauliString
from qiskit.quantum_info import SparsePauliOp

from qec.errors import QecInputError, unknown_choice

# A term: coefficient, Pauli letters ("I" alone for the identity), the qubits they act on.
Term = tuple[float, str, tuple[int, ...]]

# Qiskit's H2 (STO-3G, 0.735 A, parity mapping, two-qubit reduction): Qiskit labels (qubit 0 rightmost).
H2_ELECTRONIC_TERMS = (
    ("II", -1.052373245772859),
    ("IZ", 0.39793742484318045),
    ("ZI", -0.39793742484318045),
    ("ZZ", -0.01128010425623538),
    ("XX", 0.18093119978423156),
)
H2_NUCLEAR_REPULSION = 0.7199689944489797  # Ha: 1 / R, R = 0.735 Angstrom in bohr
MAX_QUBITS = 12  # the exact ground energy diagonalizes a dense 2^n x 2^n matrix


@dataclass(frozen=True)
class Hamiltonian:
    """A sum of Pauli terms on `num_qubits` qubits."""

    name: str
    num_qubits: int
    terms: tuple[Term, ...]

    def observable(self) -> Observable:
        """The Mitiq observable (qubit i of a term is qubit i of the circuit)."""
        return Observable(*[PauliString(letters, coeff=c, support=qubits) for c, letters, qubits in self.terms])

    def operator(self) -> SparsePauliOp:
        """The Qiskit operator."""
        sparse = [(p.replace("I", ""), q if p != "I" else (), c) for c, p, q in self.terms]
        return SparsePauliOp.from_sparse_list(sparse, self.num_qubits)

    def ground_energy(self) -> float:
        """The lowest eigenvalue, by numpy's dense diagonalization (`numpy.linalg.eigvalsh`)."""
        return float(np.linalg.eigvalsh(self.operator().to_matrix())[0])


def tfim(qubits: int, field: float = 1.0) -> Hamiltonian:
    """Transverse-field Ising chain -sum Z_i Z_i+1 - h sum X_i (open ends)."""
    terms: list[Term] = [(-1.0, "ZZ", (q, q + 1)) for q in range(qubits - 1)]
    terms += [(-field, "X", (q,)) for q in range(qubits)]
    return Hamiltonian("tfim", qubits, tuple(terms))


def heisenberg(qubits: int, coupling: float = 1.0) -> Hamiltonian:
    """Antiferromagnetic Heisenberg chain J sum (X_i X_i+1 + Y_i Y_i+1 + Z_i Z_i+1) (open ends)."""
    terms = tuple((coupling, pair, (q, q + 1)) for q in range(qubits - 1) for pair in ("XX", "YY", "ZZ"))
    return Hamiltonian("heisenberg", qubits, terms)


def h2(qubits: int = 2) -> Hamiltonian:
    """H2 (STO-3G, 0.735 Angstrom), 2-qubit reduced, nuclear repulsion included (see the module docstring)."""
    if qubits != 2:
        raise QecInputError(f"h2 is the 2-qubit reduced Hamiltonian, got qubits={qubits}: use qubits=2")
    terms: list[Term] = []
    for label, coefficient in H2_ELECTRONIC_TERMS:
        support = tuple(q for q in range(2) if label[::-1][q] != "I")  # Qiskit's label: qubit 0 rightmost
        letters = "".join(label[::-1][q] for q in support)
        if not support:
            terms.append((coefficient + H2_NUCLEAR_REPULSION, "I", (0,)))
        else:
            terms.append((coefficient, letters, support))
    return Hamiltonian("h2", 2, tuple(terms))


HAMILTONIANS: dict[str, Callable[[int], Hamiltonian]] = {"tfim": tfim, "heisenberg": heisenberg, "h2": h2}


def hamiltonian(name: str, *, qubits: int) -> Hamiltonian:
    """The Hamiltonian `name` on `qubits` qubits; QecInputError for an unknown name or a size out of range."""
    if name not in HAMILTONIANS:
        raise unknown_choice("hamiltonian", name, HAMILTONIANS)
    if isinstance(qubits, bool) or not isinstance(qubits, int) or not 2 <= qubits <= MAX_QUBITS:
        raise QecInputError(
            f"qubits must be an integer in [2, {MAX_QUBITS}] (the exact ground energy diagonalizes a 2^n x 2^n "
            f"matrix), got {qubits!r}: use e.g. qubits=4"
        )
    return HAMILTONIANS[name](qubits)
