"""Lattice surgery on the rotated surface code: a logical ZZ (basis Z) or XX (basis X) measurement of two d x d
patches by merging and splitting them (Horsman, Fowler, Devitt, Van Meter, New J. Phys. 14, 123011 (2012);
Litinski, "A Game of Surface Codes", Quantum 3, 128 (2019)).

Layout (`qec.rotated_lattice`: Stim's patch, checks and CX schedule). Each patch is Stim's d x d memory patch (X
boundaries at top and bottom, Z at left and right; Z_L runs along a row, X_L along a column). For ZZ the patches are
stacked, patch A above patch B, so that Z_L of each can run along the X boundaries that face each other; for XX they
sit side by side and the Z boundaries face each other. Between them lies a seam of data qubits, one row (column)
for odd d and two for even d, so that patch B is patch A moved by an even number of checkerboard steps and the
merged (2d + s) x d rectangle is one patch of the same lattice.

Protocol, for basis B (ZZ for B = Z):
1. Both patches' data start in B's eigenstate (|00> or |++>), a joint eigenstate of B_L B_L; `distance` rounds of
   each patch alone.
2. Merge: the seam's data start in the other basis (|+> for ZZ), and `rounds` rounds measure the merged patch.
   The merged checks of type B that touch the seam are new and random; their product is B_L(A) B_L(B), the
   measured outcome. The other type's checks at the facing boundaries grow onto the seam qubits, deterministic.
3. Split: the seam's data are measured in the other basis (their outcomes close the grown checks), and `distance`
   rounds of each patch alone follow.
4. All data of both patches are measured in B.

Observables (all deterministic without noise, all tagged `basis=B`, flipped only by errors the B-type checks
see): 0, the B_L B_L outcome (the product of the new B checks' outcomes in the first merged round); 1 and 2, patch
A's and patch B's memory observable B_L (a row of A, B for ZZ; a column for XX), from the final data measurement.

Distance. A timelike chain on one new seam check through the `rounds` merged rounds flips the outcome (the seam
checks are random when the merge starts and are not closed at the split), `rounds` faults; a spacelike logical of
either patch needs d. So the circuit-level distance is min(d, rounds): d at the default rounds = d (checked at d =
3 and 5, tests/qec/test_lattice_surgery.py).

>>> circuit = surgery_circuit(distance=3, rounds=3, basis="Z")
>>> circuit.num_observables
3
>>> bool(circuit.compile_detector_sampler().sample(shots=100, append_observables=True).any())
False
"""

from __future__ import annotations

from typing import Any

import stim

from qec.codes import CodeFamily
from qec.codes.size import MAX_DETECTORS
from qec.errors import QecInputError
from qec.rotated_lattice import STANDARD_SIDES, LatticeCircuit, data_qubits, other_basis, patch


def surgery_circuit(*, distance: int, rounds: int, basis: str) -> stim.Circuit:
    """The noiseless logical `basis` x `basis` measurement of two `distance` x `distance` patches, merged for
    `rounds` rounds, with `distance` rounds before the merge and after the split."""
    _check(distance=distance, rounds=rounds, basis=basis)
    basis, d = basis.upper(), distance
    seam = 1 if d % 2 else 2
    stacked = basis == "Z"  # ZZ: patch B below patch A; XX: patch B right of patch A

    def rectangle(offset: int, length: int) -> dict[str, Any]:
        return (
            {"x": 0, "y": offset, "width": d, "height": length}
            if stacked
            else {"x": offset, "y": 0, "width": length, "height": d}
        )

    a_data, b_data = data_qubits(**rectangle(0, d)), data_qubits(**rectangle(d + seam, d))
    seam_data = data_qubits(**rectangle(d, seam))
    separate = patch(**rectangle(0, d), sides=STANDARD_SIDES) | patch(**rectangle(d + seam, d), sides=STANDARD_SIDES)
    merged = patch(**rectangle(0, 2 * d + seam), sides=STANDARD_SIDES)
    lattice = LatticeCircuit([*a_data, *seam_data, *b_data, *separate, *merged])

    lattice.initialize([*a_data, *b_data], basis)
    for _ in range(d):
        lattice.round(separate)
    lattice.initialize(seam_data, other_basis(basis))
    first_merged = lattice.round(merged)
    for _ in range(rounds - 1):
        lattice.round(merged)
    lattice.measure(seam_data, other_basis(basis))
    for _ in range(d):
        lattice.round(separate)
    final = lattice.measure([*a_data, *b_data], basis)

    touching = [p for p, plaquette in merged.items() if plaquette.basis == basis and plaquette.support & set(seam_data)]
    lattice.observable([first_merged[p] for p in touching], basis)
    for start in (0, d + seam):  # B_L of each patch: its first row (ZZ) or first column (XX)
        line = [q for q in final if (q[1] if stacked else q[0]) == 2 * start + 1]
        lattice.observable([final[q] for q in line], basis)
    return lattice.circuit()


def build_surgery(family: CodeFamily, *, distance: int, rounds: int, basis: str) -> stim.Circuit:
    """The `surgery` experiment's build: only the rotated surface code (family 'surface')."""
    if family.name != "surface":
        raise QecInputError(
            f"the surgery experiment is built for the rotated surface code only, not '{family.name}': use the "
            "'surface' family"
        )
    return surgery_circuit(distance=distance, rounds=rounds, basis=basis)


def _check(*, distance: int, rounds: int, basis: str) -> None:
    if isinstance(distance, bool) or not isinstance(distance, int) or distance < 2:
        raise QecInputError(f"the surgery experiment needs a distance >= 2, got {distance!r}")
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise QecInputError(f"the surgery experiment needs rounds >= 1 (merged rounds), got {rounds!r}")
    if not isinstance(basis, str) or basis.upper() not in ("X", "Z"):
        raise QecInputError(f"basis must be X or Z (a ZZ or an XX measurement), got {basis!r}")
    detectors = (2 * distance + 2) * distance * (2 * distance + rounds + 1)
    if detectors > MAX_DETECTORS:
        raise QecInputError(
            f"surgery at distance {distance} with {rounds} merged rounds needs about {detectors:,} detectors (the "
            f"limit is {MAX_DETECTORS:,}): use a smaller distance or fewer rounds"
        )
