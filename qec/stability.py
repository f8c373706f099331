"""The stability experiment (Gidney, "Stability Experiments: The Overlooked Dual of Memory Experiments", Quantum 6,
786 (2022), arXiv:2204.13834) on the rotated surface code: how well the product of a large region of stabilizers
is known.

A d x d rotated patch (d even: only then can all four sides carry the same boundary type) whose boundaries are all
of type B, so every data qubit lies in exactly two B checks and the product of all B checks is the identity: a
known value. The data start in the other basis (|+> for B = Z, |0> for B = X: Gidney's figure 1 is B = X), so each
B check's first outcome is random while their product is +1; `rounds` rounds measure every check; the data are
measured in the other basis, which closes the other type's checks but not B's. The observable is the product of
all B checks' outcomes in the first round (tag `basis=B`); detectors compare each check with its previous round,
and the other type's also at the start and end (`qec.rotated_lattice`).

Distance. No spacelike logical exists: a chain of data errors flipping B checks cannot end, as every qubit lies in
two B checks. The cheapest logical is timelike: one B check's outcome wrong in every round (a measurement error,
or a fault equivalent to one), `rounds` faults. So the circuit-level distance is `rounds`, whatever the patch's
size (measured: d = 2, 4 and 6 with 1 to 6 rounds, tests/qec/test_stability.py); the patch's size sets how many
such timelike chains there are (the entropy), not their weight. The distance in Gidney's sense (the timelike
distance d_t = rounds) is what `rounds` chooses; at rounds = d the experiment is the dual of a d x d x d memory.

>>> circuit = stability_circuit(distance=4, rounds=4, basis="Z")
>>> circuit.num_detectors, circuit.num_observables
(61, 1)
>>> from qec.noise import noise_model
>>> len(noise_model("sd6", 0.001).apply(circuit).shortest_graphlike_error())
4
"""

from __future__ import annotations

import stim

from qec.codes import CodeFamily
from qec.codes.size import MAX_DETECTORS
from qec.errors import QecInputError
from qec.rotated_lattice import LatticeCircuit, data_qubits, other_basis, patch


def stability_circuit(*, distance: int, rounds: int, basis: str) -> stim.Circuit:
    """The noiseless stability experiment: a `distance` x `distance` patch (even) with boundaries of type `basis`
    all around, `rounds` rounds, the observable the product of the `basis` checks."""
    _check(distance=distance, rounds=rounds, basis=basis)
    basis = basis.upper()
    # With an even side every side's two-qubit plaquettes of odd (x + y) / 2 are those Stim names X; dual names
    # them Z, keeping each position's schedule.
    plaquettes = patch(
        width=distance,
        height=distance,
        sides=dict.fromkeys(("top", "bottom", "left", "right"), basis),
        dual=basis == "Z",
    )
    data = data_qubits(width=distance, height=distance)
    lattice = LatticeCircuit([*data, *plaquettes])
    lattice.initialize(data, other_basis(basis))
    first = lattice.round(plaquettes)
    for _ in range(rounds - 1):
        lattice.round(plaquettes)
    lattice.measure(data, other_basis(basis))
    lattice.observable([first[p] for p, plaquette in plaquettes.items() if plaquette.basis == basis], basis)
    return lattice.circuit()


def build_stability(family: CodeFamily, *, distance: int, rounds: int, basis: str) -> stim.Circuit:
    """The `stability` experiment's build: only the rotated surface code (family 'surface')."""
    if family.name != "surface":
        raise QecInputError(
            f"the stability experiment is built for the rotated surface code only, not '{family.name}': use the "
            "'surface' family"
        )
    return stability_circuit(distance=distance, rounds=rounds, basis=basis)


def _check(*, distance: int, rounds: int, basis: str) -> None:
    if isinstance(distance, bool) or not isinstance(distance, int) or distance < 2 or distance % 2:
        raise QecInputError(
            f"the stability experiment needs an even distance >= 2 (a patch with one boundary type all around has "
            f"even sides), got {distance!r}: use 2, 4, 6, ..."
        )
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise QecInputError(f"the stability experiment needs rounds >= 1, got {rounds!r}")
    if not isinstance(basis, str) or basis.upper() not in ("X", "Z"):
        raise QecInputError(f"basis must be X or Z, got {basis!r}")
    detectors = distance * distance * (rounds + 1)
    if detectors > MAX_DETECTORS:
        raise QecInputError(
            f"stability at distance {distance} with {rounds} rounds needs about {detectors:,} detectors (the limit "
            f"is {MAX_DETECTORS:,}): use a smaller distance or fewer rounds"
        )
