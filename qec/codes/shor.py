"""The generalized Shor code [[d^2, 1, d]] memory experiment (d = 3 is Shor's nine-qubit code).

Data qubit (block b, position i) is qubit `b * d + i`, with b, i in 0..d-1. Checks:

- ZZ checks Z(b,i) Z(b,i+1) inside each block: each block is a bit-flip repetition code;
- weight-2d X checks X on all of blocks b and b+1 (d - 1 of them): the blocks' phases agree.

Logical operators: Z on position 0 of every block (weight d, measured by a Z-basis memory) and X on
all of block 0 (weight d, measured by an X-basis memory).

Syndrome extraction keeps the full circuit-level distance d. Each X check's ancilla is prepared in
|+> and drives CNOTs onto its 2d data qubits in the interleaved order (b,0), (b+1,0), (b,1), (b+1,1),
...: an X fault on the ancilla after 2k CNOTs puts X on positions k..d-1 of both blocks, which equals
X on positions 0..k-1 of both blocks up to the check itself, and in every position (column) it flips
an even number of blocks, so it moves no column towards a logical error; an odd hook flips one
column. A logical X error needs an odd number of flips in every one of the d columns, hence d faults.
All X checks run in parallel in 2d layers (check j and check j-1 never touch the same block in one
layer); the ZZ checks run first, in two layers.

>>> from qec.codes.shor import shor_code
>>> circuit = shor_code(distance=3, rounds=2, basis="Z")
>>> circuit.num_qubits, circuit.num_observables
(17, 1)
"""

from __future__ import annotations

import stim


def shor_code(*, distance: int, rounds: int, basis: str) -> stim.Circuit:
    """The noiseless [[d^2, 1, d]] Shor-code memory in `basis` ("X" or "Z") for odd `distance` >= 3."""
    assert distance >= 3 and distance % 2 == 1, "the Shor family needs an odd distance >= 3"
    assert rounds >= 1 and basis in ("X", "Z")
    return _memory(_Layout(distance), rounds=rounds, basis=basis)


def _memory(layout: _Layout, *, rounds: int, basis: str) -> stim.Circuit:
    """The memory circuit for `layout`, whose X checks visit their data in the order of `layout.x_checks`."""
    d = layout.d
    circuit = stim.Circuit()
    for qubit, coords in layout.coordinates():
        circuit.append("QUBIT_COORDS", [qubit], coords)

    circuit.append("RX" if basis == "X" else "R", layout.data)
    circuit.append("R", layout.z_ancillas + layout.x_ancillas)
    circuit.append("TICK")
    circuit += _syndrome_round(layout)
    deterministic = layout.x_checks if basis == "X" else layout.z_checks
    num_ancillas = len(layout.z_ancillas) + len(layout.x_ancillas)
    for k, (ancilla, coords) in enumerate(layout.ancilla_checks()):
        if ancilla in deterministic:
            circuit.append("DETECTOR", [stim.target_rec(k - num_ancillas)], coords + [0])

    if rounds > 1:
        body = stim.Circuit()
        body.append("TICK")
        body += _syndrome_round(layout)
        body.append("SHIFT_COORDS", [], [0, 0, 1])
        for k, (_, coords) in enumerate(layout.ancilla_checks()):
            now = stim.target_rec(k - num_ancillas)
            before = stim.target_rec(k - 2 * num_ancillas)
            body.append("DETECTOR", [now, before], coords + [0])
        circuit.append(stim.CircuitRepeatBlock(rounds - 1, body))

    circuit.append("MX" if basis == "X" else "M", layout.data)
    num_data = len(layout.data)

    def data_rec(qubit: int) -> stim.GateTarget:
        return stim.target_rec(qubit - num_data)

    for k, (ancilla, coords) in enumerate(layout.ancilla_checks()):
        if ancilla in deterministic:
            support = deterministic[ancilla]
            targets = [data_rec(q) for q in support] + [stim.target_rec(k - num_ancillas - num_data)]
            circuit.append("DETECTOR", targets, coords + [1])
    if basis == "X":
        observable = [data_rec(layout.qubit(0, i)) for i in range(d)]
    else:
        observable = [data_rec(layout.qubit(b, 0)) for b in range(d)]
    circuit.append("OBSERVABLE_INCLUDE", observable, 0)
    return circuit


class _Layout:
    """Qubit indices of the [[d^2, 1, d]] Shor code: data, then ZZ-check ancillas, then X-check ancillas."""

    def __init__(self, d: int):
        self.d = d
        self.data = list(range(d * d))
        self.z_ancillas = [d * d + b * (d - 1) + i for b in range(d) for i in range(d - 1)]
        self.x_ancillas = [d * d + d * (d - 1) + j for j in range(d - 1)]
        self.z_checks = {
            self.z_ancillas[b * (d - 1) + i]: [self.qubit(b, i), self.qubit(b, i + 1)]
            for b in range(d)
            for i in range(d - 1)
        }
        self.x_checks = {
            self.x_ancillas[j]: [q for i in range(d) for q in (self.qubit(j, i), self.qubit(j + 1, i))]
            for j in range(d - 1)
        }

    def qubit(self, block: int, position: int) -> int:
        return block * self.d + position

    def coordinates(self) -> list[tuple[int, list[float]]]:
        d = self.d
        data = [(self.qubit(b, i), [2.0 * i, 2.0 * b]) for b in range(d) for i in range(d)]
        return data + [(q, c) for q, c in self.ancilla_checks()]

    def ancilla_checks(self) -> list[tuple[int, list[float]]]:
        """Ancillas in measurement order, with their coordinates."""
        d = self.d
        z = [(self.z_ancillas[b * (d - 1) + i], [2.0 * i + 1, 2.0 * b]) for b in range(d) for i in range(d - 1)]
        x = [(self.x_ancillas[j], [-1.0, 2.0 * j + 1]) for j in range(d - 1)]
        return z + x


def _syndrome_round(layout: _Layout) -> stim.Circuit:
    """One round: ZZ checks (2 CNOT layers), then all X checks in parallel (2d CNOT layers), then MR."""
    round_ = stim.Circuit()
    round_.append("H", layout.x_ancillas)
    round_.append("TICK")
    for side in (0, 1):
        pairs = [t for ancilla, support in layout.z_checks.items() for t in (support[side], ancilla)]
        round_.append("CX", pairs)
        round_.append("TICK")
    for step in range(2 * layout.d):
        pairs = [t for ancilla, support in layout.x_checks.items() for t in (ancilla, support[step])]
        round_.append("CX", pairs)
        round_.append("TICK")
    round_.append("H", layout.x_ancillas)
    round_.append("TICK")
    round_.append("MR", layout.z_ancillas + layout.x_ancillas)
    return round_
