"""Rotated surface-code patches on one lattice, with the layout and CX schedule of Stim's generated rotated surface
code (`qec.codes.surface`), and `LatticeCircuit`, which writes rounds of patches that change between rounds
(stability experiments, lattice surgery) with their detectors.

Layout. Data qubits sit at odd (x, y) (column i, row j at (2i + 1, 2j + 1)); a plaquette's ancilla sits at even
(x, y) between its (up to) four data qubits. As in Stim's generator, the plaquette at (x, y) is an X check where
(x + y) / 2 is odd and a Z check where it is even, and meets its data qubits in the order Stim's generator gives
its type (`schedule`, read from a generated circuit). `dual=True` swaps the names X and Z at every position and
keeps each position's order: the same circuit with the roles of X and Z exchanged. A patch (`patch`) is a
rectangle of data qubits with a boundary type per side ("top" is the row at the smallest y, as Stim draws it): its
four-qubit plaquettes, and along each side the two-qubit plaquettes of that side's type. Stim's d x d memory patch
is `patch(width=d, height=d, sides=STANDARD_SIDES)`: X boundaries at the top and bottom, Z at the left and right.

Rounds (`LatticeCircuit.round`): H on the X-check ancillas, the four CX layers, H, then MR on every ancilla, with a
TICK between layers, as Stim writes a round. Data qubits are reset (R/RX) and measured (M/MX) in the layer of the
previous round's MR (`initialize`, `measure`), so every `qec.noise` model applies. Detectors follow one rule: a
check measured in a round is compared with the same position's outcome in the round before, when its type is the
same and its support changed only by qubits freshly reset in its basis (added) or measured in its basis (removed,
their outcomes joining the detector); a check whose every qubit was just reset in its basis is a detector alone;
a data measurement in one basis closes every check of that basis whose support it measures. Each DETECTOR has
coordinates (x, y, round) and the tag `basis=X` or `basis=Z` of its check. `undeclared_parities` checks that the
detectors and observables miss no deterministic parity of a circuit's measurements.

>>> circuit = LatticeCircuit.memory(distance=3, rounds=3, basis="Z")
>>> circuit.num_detectors, circuit.num_observables
(24, 1)
>>> bool(circuit.compile_detector_sampler().sample(shots=100).any())  # noiseless: no detector ever fires
False
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np
import stim

from qec.codes import gf2
from qec.codes.surface import rotated_surface_code

Position = tuple[int, int]
STANDARD_SIDES = {"top": "X", "bottom": "X", "left": "Z", "right": "Z"}
SIDES = ("top", "bottom", "left", "right")


def other_basis(basis: str) -> str:
    """'Z' for 'X' and 'X' for 'Z'."""
    return "Z" if basis == "X" else "X"


def parity_type(position: Position) -> str:
    """The check type Stim's generator gives the plaquette at `position`: X where (x + y) / 2 is odd."""
    return "X" if (position[0] + position[1]) // 2 % 2 else "Z"


@functools.cache
def schedule() -> dict[str, tuple[Position, ...]]:
    """The offsets (data minus ancilla) in which a check of each type meets its data qubits, layer by layer, read
    from Stim's generated rotated surface code.

    >>> schedule()["X"], schedule()["Z"]
    (((1, 1), (-1, 1), (1, -1), (-1, -1)), ((1, 1), (1, -1), (-1, 1), (-1, -1)))
    """
    circuit = rotated_surface_code(distance=3, rounds=1, basis="Z")
    coords = {q: (round(c[0]), round(c[1])) for q, c in circuit.get_final_qubit_coordinates().items()}
    ancillas = {t.value for op in circuit if op.name == "MR" for t in op.targets_copy()}
    x_ancillas = {t.value for op in circuit if op.name == "H" for t in op.targets_copy()}
    orders: dict[str, list[Position]] = {"X": [], "Z": []}
    for op in circuit:
        if op.name != "CX":
            continue
        layer: dict[str, set[Position]] = {"X": set(), "Z": set()}
        targets = op.targets_copy()
        for control, target in zip(targets[::2], targets[1::2]):
            ancilla, data = (
                (control.value, target.value) if control.value in ancillas else (target.value, control.value)
            )
            kind = "X" if ancilla in x_ancillas else "Z"
            layer[kind].add((coords[data][0] - coords[ancilla][0], coords[data][1] - coords[ancilla][1]))
        for kind in orders:
            (offset,) = layer[kind]  # every check of a type takes the same step in a layer
            orders[kind].append(offset)
    return {kind: tuple(order) for kind, order in orders.items()}


@dataclass(frozen=True)
class Plaquette:
    """One check: its ancilla's `position`, its `basis` (X or Z) and its data qubits in schedule order (None where
    the plaquette has no qubit at that step: a two-qubit plaquette on a boundary)."""

    position: Position
    basis: str
    data: tuple[Position | None, ...]

    @property
    def support(self) -> frozenset[Position]:
        return frozenset(q for q in self.data if q is not None)


def data_qubits(*, x: int = 0, y: int = 0, width: int, height: int) -> list[Position]:
    """The data qubits of the `width` x `height` rectangle whose first column is `x` and first row `y`."""
    return [(2 * i + 1, 2 * j + 1) for j in range(y, y + height) for i in range(x, x + width)]


def patch(
    *, x: int = 0, y: int = 0, width: int, height: int, sides: Mapping[str, str], dual: bool = False
) -> dict[Position, Plaquette]:
    """The plaquettes of a rectangle of data qubits (first column `x`, first row `y`) whose side s has boundary
    type `sides[s]`, by position.

    >>> standard = patch(width=3, height=3, sides=STANDARD_SIDES)
    >>> len(standard), sorted(p.position for p in standard.values() if len(p.support) == 2)
    (8, [(0, 4), (2, 0), (4, 6), (6, 2)])
    """
    data = set(data_qubits(x=x, y=y, width=width, height=height))
    edges = {"top": 2 * y, "bottom": 2 * (y + height), "left": 2 * x, "right": 2 * (x + width)}
    orders = schedule()
    found: dict[Position, Plaquette] = {}
    for px in range(2 * x, 2 * (x + width) + 1, 2):
        for py in range(2 * y, 2 * (y + height) + 1, 2):
            kind = parity_type((px, py))
            basis = other_basis(kind) if dual else kind
            order = tuple((px + dx, py + dy) if (px + dx, py + dy) in data else None for dx, dy in orders[kind])
            present = sum(q is not None for q in order)
            if present == 2:
                side = next(s for s in SIDES if (py if s in ("top", "bottom") else px) == edges[s])
                if sides[side] != basis:
                    continue
            elif present != 4:
                continue
            found[(px, py)] = Plaquette((px, py), basis, order)
    return found


@dataclass(frozen=True)
class _Measured:
    round: int
    record: int
    support: frozenset[Position]
    basis: str


class LatticeCircuit:
    """Writes a noiseless circuit of rotated-lattice rounds: `initialize` data, `round`s of a set of plaquettes,
    `measure` data, `observable`s, then `circuit()`. Records are absolute indices into the measurement record.

    Qubits are numbered from `positions` (every data qubit and ancilla the circuit will use), row by row.
    """

    def __init__(self, positions: Iterable[Position]):
        ordered = sorted(set(positions), key=lambda p: (p[1], p[0]))
        self.index = {p: i for i, p in enumerate(ordered)}
        self.body = stim.Circuit()
        self.records = 0
        self.rounds = 0
        self.last: dict[Position, _Measured] = {}
        self.actions: dict[Position, list[tuple[int, str, str, int]]] = {}  # (round, kind, basis, record)
        self.ready: set[Position] = set()  # ancillas reset by a previous MR
        self.observables: list[tuple[list[int], str | None]] = []

    @staticmethod
    def memory(*, distance: int, rounds: int, basis: str) -> stim.Circuit:
        """The d x d memory experiment in `basis` with this module's rules: the same checks, schedule and
        detectors as Stim's generated rotated memory (a check of the builder against Stim's)."""
        plaquettes = patch(width=distance, height=distance, sides=STANDARD_SIDES)
        data = data_qubits(width=distance, height=distance)
        lattice = LatticeCircuit([*data, *plaquettes])
        lattice.initialize(data, basis)
        for _ in range(rounds):
            lattice.round(plaquettes)
        records = lattice.measure(data, basis)
        line = [q for q in data if (q[1] if basis == "Z" else q[0]) == 1]  # Z: the top row; X: the left column
        lattice.observable([records[q] for q in line], basis)
        return lattice.circuit()

    def _acts(self, qubit: Position) -> list[tuple[int, str, str, int]]:
        """The actions on `qubit` since the last round (recorded with the coming round's index)."""
        return [a for a in self.actions.get(qubit, []) if a[0] == self.rounds]

    def initialize(self, qubits: Iterable[Position], basis: str) -> None:
        """Resets `qubits` into |0> (basis Z: R) or |+> (basis X: RX), in the layer before the next round."""
        qubits = list(qubits)
        self.body.append("RX" if basis == "X" else "R", sorted(self.index[q] for q in qubits))
        for q in qubits:
            self.actions.setdefault(q, []).append((self.rounds, "reset", basis, -1))

    def measure(self, qubits: Iterable[Position], basis: str) -> dict[Position, int]:
        """Measures `qubits` in `basis` (M or MX) after the last round; each check of that basis measured in the
        last round whose support is among them gets its closing detector. Returns each qubit's record."""
        qubits = sorted(qubits, key=self.index.__getitem__)
        self.body.append("MX" if basis == "X" else "M", [self.index[q] for q in qubits])
        records = {q: self.records + k for k, q in enumerate(qubits)}
        self.records += len(qubits)
        for q, record in records.items():
            self.actions.setdefault(q, []).append((self.rounds, "measure", basis, record))
        measured = set(records)
        for position, last in sorted(self.last.items()):
            if last.round == self.rounds - 1 and last.basis == basis and last.support <= measured:
                self._detector([last.record, *(records[q] for q in last.support)], position, basis, self.rounds)
                del self.last[position]
        return records

    def round(self, plaquettes: Mapping[Position, Plaquette]) -> dict[Position, int]:
        """One round measuring `plaquettes`, with its detectors; returns each plaquette's record."""
        fresh = sorted(self.index[p] for p in plaquettes if p not in self.ready)
        if fresh:
            self.body.append("R", fresh)
        self.ready.update(plaquettes)
        if len(self.body):
            self.body.append("TICK")
        x_ancillas = sorted(self.index[p] for p, plaquette in plaquettes.items() if plaquette.basis == "X")
        self.body.append("H", x_ancillas)
        self.body.append("TICK")
        for step in range(4):
            pairs: list[int] = []
            for position, plaquette in sorted(plaquettes.items(), key=lambda item: self.index[item[0]]):
                qubit = plaquette.data[step]
                if qubit is not None:
                    ancilla, data = self.index[position], self.index[qubit]
                    pairs += [ancilla, data] if plaquette.basis == "X" else [data, ancilla]
            self.body.append("CX", pairs)
            self.body.append("TICK")
        self.body.append("H", x_ancillas)
        self.body.append("TICK")
        ancillas = sorted(plaquettes, key=self.index.__getitem__)
        self.body.append("MR", [self.index[p] for p in ancillas])
        records = {p: self.records + k for k, p in enumerate(ancillas)}
        self.records += len(ancillas)
        for position in ancillas:
            self._compare(plaquettes[position], records[position])
        for position in ancillas:
            plaquette = plaquettes[position]
            self.last[position] = _Measured(self.rounds, records[position], plaquette.support, plaquette.basis)
        self.rounds += 1
        return records

    def _compare(self, plaquette: Plaquette, record: int) -> None:
        """The detector of `plaquette`'s outcome `record`, where the rule of the module docstring gives one."""
        basis, support = plaquette.basis, plaquette.support
        acts = {q: self._acts(q) for q in support}
        if all(len(a) == 1 and a[0][1:3] == ("reset", basis) for a in acts.values()):
            self._detector([record], plaquette.position, basis, self.rounds)
            return
        previous = self.last.get(plaquette.position)
        if previous is None or previous.round != self.rounds - 1 or previous.basis != basis:
            return
        removed = {q: self._acts(q) for q in previous.support - support}
        unchanged = all(not acts[q] for q in support & previous.support)
        added = all(len(acts[q]) == 1 and acts[q][0][1:3] == ("reset", basis) for q in support - previous.support)
        gone = all(len(a) == 1 and a[0][1:3] == ("measure", basis) for a in removed.values())
        if unchanged and added and gone:
            self._detector(
                [record, previous.record, *(a[0][3] for a in removed.values())],
                plaquette.position,
                basis,
                self.rounds,
            )

    def _detector(self, records: list[int], position: Position, basis: str, t: int) -> None:
        targets = [stim.target_rec(r - self.records) for r in sorted(records)]
        self.body.append(
            stim.CircuitInstruction("DETECTOR", targets, [position[0], position[1], t], tag=f"basis={basis}")
        )

    def observable(self, records: Iterable[int], basis: str | None) -> None:
        """Adds the next observable: the parity of `records`, tagged `basis=B` when `basis` is given."""
        self.observables.append((sorted(records), basis))

    def circuit(self) -> stim.Circuit:
        """The whole circuit: QUBIT_COORDS, the rounds and measurements, then the observables."""
        out = stim.Circuit()
        for position, qubit in self.index.items():
            out.append("QUBIT_COORDS", [qubit], [position[0], position[1]])
        out += self.body
        for k, (records, basis) in enumerate(self.observables):
            targets = [stim.target_rec(r - self.records) for r in records]
            out.append(
                stim.CircuitInstruction("OBSERVABLE_INCLUDE", targets, [k], tag=f"basis={basis}" if basis else "")
            )
        return out


def undeclared_parities(circuit: stim.Circuit, *, shots: int = 4096, seed: int = 0) -> int:
    r"""How many independent parities of the noiseless `circuit`'s measurements are deterministic but not spanned by
    its detectors and observables (0: no check's comparison was left out). The random part's dimension is the rank
    of `shots` noiseless samples less the first; `shots` well above the number of measurements makes it exact but
    for a chance of about 2^-(shots - measurements).

    >>> undeclared_parities(LatticeCircuit.memory(distance=3, rounds=3, basis="Z"))
    0
    >>> undeclared_parities(stim.Circuit("R 0 1\nM 0 1\nDETECTOR rec[-1]"))  # M 0 is deterministic too
    1
    """
    samples = circuit.compile_sampler(seed=seed).sample(shots).astype(np.uint8)
    deterministic = circuit.num_measurements - gf2.rank(samples ^ samples[0])
    declared: list[set[int]] = []
    observables: dict[int, set[int]] = {}
    measured = 0
    for op in circuit.flattened():
        if stim.gate_data(op.name).produces_measurements:
            measured += len([t for t in op.targets_copy() if t.is_qubit_target])
        elif op.name in ("DETECTOR", "OBSERVABLE_INCLUDE"):
            records = {measured + t.value for t in op.targets_copy() if t.is_measurement_record_target}
            if op.name == "DETECTOR":
                declared.append(records)
            else:
                observables.setdefault(int(op.gate_args_copy()[0]), set()).symmetric_difference_update(records)
    rows = np.zeros((len(declared) + len(observables), max(measured, 1)), dtype=np.uint8)
    for row, records in enumerate([*declared, *observables.values()]):
        rows[row, sorted(records)] = 1
    return deterministic - gf2.rank(rows)
