"""Superdense colour-code memory: the triangular 6.6.6 colour code measured by the superdense cycle of Gidney and
Jones ("New circuits and an open source decoder for the color code", arXiv:2312.08813), with the detector
annotations Chromobius needs, so `chromobius.compile_decoder_for_dem` decodes its detector error model.

The layout and cycle are those of Chromobius's own generator (quantumlib/chromobius,
src/clorco/color_code/_superdense_planar_color_code_circuits.py), written out here without its `gen` library:
qubits on a square grid, every hexagonal face (a tile, weight 6, or 4 on the boundary) has two ancillas side by
side, an X ancilla `a` and a Z ancilla `a + 1`, and (3d^2 + 1)/4 data qubits, so (3d^2 - 1)/2 qubits in all.
A round is 8 CNOT layers: the two ancillas become a Bell pair (CX a -> a+1), three layers CX data -> ancilla,
three CX ancilla -> data, and CX a -> a+1 again; then MRX on the X and MR on the Z ancillas. The last round
runs the layers in reverse order (the time reversal of the first round), as the generator's does. At d = 5 the
circuit has the generator's qubits, coordinates, CNOT layers and detector annotations, and under CNOT noise a
detector error model with the same errors (probability, detectors and observable flipped); it measures its
ancillas with MR/MRX where the generator resets and measures them apart.

What a round's measurements reveal (`round_flows`; Stim's `solve_flow_measurements` finds the same, and the
tests check each with `has_flow`). Before a round, a tile's X check equals its X ancilla's measurement and its Z
check its Z ancilla's. After a forward round, a tile's X check is its X ancilla's measurement again, and its Z
check the product of the Z ancillas two rows below and above it (its own in place of the one below, on row 0);
after the reverse round, the same with X and Z exchanged. The Z logical (Z on the d data qubits of row 0) picks
up the Z ancillas of rows 0 and 1 in every forward round, the X logical (X on every data qubit) the X ancillas
off row 0 in the reverse round. So a detector compares a check's "before" measurement with the previous
round's "after" one (the first round: the memory basis's checks alone), and the data measured at the end close
each check of the memory basis.

Annotations. A detector sits at its ancilla's (x, y), t, and a fourth coordinate, Chromobius's basis and
colour: 0, 1, 2 for X checks of a red, green, blue face, 3, 4, 5 for Z checks (a face's colour is its row
mod 3). Every DETECTOR also carries the Stim tag `basis=X` or `basis=Z`, and the OBSERVABLE_INCLUDEs the memory
basis, as `qec.codes.css` circuits do, for qec's basis-aware decoders. Data start in |0> (|+> for an X
memory); every detector and the observable are deterministic without noise. Ancillas are measured with MR/MRX,
data with M/MX, as `qec.noise` expects.

>>> from qec.codes.color_superdense import superdense_color_code
>>> circuit = superdense_color_code(distance=5, rounds=5, basis="Z")
>>> circuit.num_qubits, circuit.num_detectors, circuit.num_observables
(37, 90, 1)
>>> import chromobius
>>> from qec.noise import noise_model
>>> dem = noise_model("uniform", 0.001).apply(circuit).detector_error_model()
>>> decoder = chromobius.compile_decoder_for_dem(dem)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import stim


@dataclass(frozen=True)
class Tile:
    """One face of the colour code: its X and Z ancillas (x + iy), its data qubits and its colour (0, 1, 2)."""

    x_ancilla: complex
    z_ancilla: complex
    data: tuple[complex, ...]
    colour: int


class SuperdenseLayout:
    """The qubits of the distance-d superdense colour code (odd d >= 3) and their indices, sorted by (x, y).

    >>> layout = SuperdenseLayout(3)
    >>> len(layout.tiles), len(layout.data), len(layout.index)
    (3, 7, 13)
    """

    def __init__(self, distance: int):
        assert distance >= 3 and distance % 2 == 1, "the superdense colour code needs an odd distance >= 3"
        width = 2 * distance - 1
        tiles = []
        for x in range(-1, width, 2):
            for y in range((x // 2) % 2, width, 2):
                corner = complex(x, y)
                data = tuple(corner + step for step in _FACE if _inside(corner + step, width))
                if len(data) >= 4:
                    tiles.append(Tile(corner, corner + 1, data, y % 3))
        self.tiles: tuple[Tile, ...] = tuple(tiles)
        self.data: tuple[complex, ...] = tuple(sorted({q for tile in tiles for q in tile.data}, key=_xy))
        self.x_ancillas: tuple[complex, ...] = tuple(tile.x_ancilla for tile in tiles)
        self.z_ancillas: tuple[complex, ...] = tuple(tile.z_ancilla for tile in tiles)
        qubits = sorted({*self.data, *self.x_ancillas, *self.z_ancillas}, key=_xy)
        assert len(qubits) == len(self.data) + 2 * len(tiles)
        self.index: dict[complex, int] = {q: i for i, q in enumerate(qubits)}

    def layers(self, *, reverse: bool = False) -> list[list[int]]:
        """The round's 8 CNOT layers, each a flat control, target, ... list of qubit indices (reversed: last first)."""
        layers = []
        for steps in zip(_X_ANCILLA_STEPS, _Z_ANCILLA_STEPS):
            flat = []
            for ancillas, step in zip((self.x_ancillas, self.z_ancillas), steps):
                if step is None:
                    continue
                control, target = step
                for ancilla in ancillas:
                    if ancilla + control in self.index and ancilla + target in self.index:
                        flat += [self.index[ancilla + control], self.index[ancilla + target]]
            layers.append(flat)
        return layers[::-1] if reverse else layers


# The cycle, as (control, target) offsets from each X ancilla a and each Z ancilla b = a + 1, layer by layer:
# the Bell pair CX a -> b, three CX data -> ancilla, three CX ancilla -> data, CX a -> b again.
_X_ANCILLA_STEPS: tuple[tuple[complex, complex], ...] = (
    (0, 1), (1j, 0), (-1, 0), (-1j, 0), (0, 1j), (0, -1), (0, -1j), (0, 1)
)  # fmt: skip
_Z_ANCILLA_STEPS: tuple[tuple[complex, complex] | None, ...] = (
    None, (1j, 0), (1, 0), (-1j, 0), (0, 1j), (0, 1), (0, -1j), None
)  # fmt: skip

_FACE = (-1, 1j, 1 + 1j, 2, 1 - 1j, -1j)  # a face's data qubits, from its X ancilla


def _inside(q: complex, width: int) -> bool:
    """Whether grid point q lies in the triangle of base `width`."""
    return (
        0 <= q.real < width and 0 <= q.imag < width and 2 * q.imag <= 3 * q.real and 2 * q.imag <= 3 * (width - q.real)
    )


def _xy(q: complex) -> tuple[float, float]:
    return q.real, q.imag


def _rows_apart(ancilla: complex, ancillas: set[complex]) -> list[complex]:
    """The ancillas two rows below and above `ancilla` (itself in place of below, on row 0) that exist."""
    below = ancilla - 2j if ancilla.imag > 0 else ancilla
    return [q for q in (below, ancilla + 2j) if q in ancillas]


@dataclass(frozen=True)
class RoundFlows:
    """What one round's ancilla measurements say about each tile's checks: `before[basis][k]` and `after[basis][k]`
    are the ancillas whose measured product equals tile k's check of that basis before and after the round, and
    `logical[basis]` the ancillas whose product the memory's logical of that basis picks up in the round."""

    before: dict[str, list[list[complex]]]
    after: dict[str, list[list[complex]]]
    logical: dict[str, list[complex]]


def round_flows(layout: SuperdenseLayout, *, reverse: bool) -> RoundFlows:
    """The flows of a round (a reverse round's for `reverse`); see the module docstring."""
    x_set, z_set = set(layout.x_ancillas), set(layout.z_ancillas)
    before = {"X": [[t.x_ancilla] for t in layout.tiles], "Z": [[t.z_ancilla] for t in layout.tiles]}
    if reverse:
        after = {"X": [_rows_apart(t.x_ancilla, x_set) for t in layout.tiles], "Z": before["Z"]}
        logical = {"X": [a for a in layout.x_ancillas if a.imag > 0], "Z": []}
    else:
        after = {"X": before["X"], "Z": [_rows_apart(t.z_ancilla, z_set) for t in layout.tiles]}
        logical = {"X": [], "Z": [b for b in layout.z_ancillas if b.imag <= 1]}
    return RoundFlows(before, after, logical)


def superdense_color_code(*, distance: int, rounds: int, basis: str) -> stim.Circuit:
    """The noiseless memory circuit: `rounds` (>= 1) superdense rounds of the distance-d (odd, >= 3) triangular
    colour code in `basis` ("X" or "Z"), the last one reversed; see the module docstring."""
    assert basis in ("X", "Z") and rounds >= 1
    layout = SuperdenseLayout(distance)
    index, tiles = layout.index, layout.tiles
    checks = 2 * len(tiles)  # measurements a round: X ancillas, then Z ancillas, in tile order
    position = {q: k for k, q in enumerate(layout.x_ancillas + layout.z_ancillas)}
    forward, backward = round_flows(layout, reverse=False), round_flows(layout, reverse=True)
    coordinates = {q: (q.real, q.imag) for q in index}

    circuit = stim.Circuit()
    for q, i in index.items():
        circuit.append("QUBIT_COORDS", [i], list(coordinates[q]))
    circuit.append("RX" if basis == "X" else "R", [index[q] for q in layout.data])
    circuit.append("RX", [index[a] for a in layout.x_ancillas])
    circuit.append("R", [index[b] for b in layout.z_ancillas])
    circuit.append("TICK")

    def syndrome_round(*, reverse: bool) -> stim.Circuit:
        block = stim.Circuit()
        for layer in layout.layers(reverse=reverse):
            block.append("CX", layer)
            block.append("TICK")
        block.append("MRX", [index[a] for a in layout.x_ancillas])
        block.append("MR", [index[b] for b in layout.z_ancillas])
        return block

    def recs(ancillas: list[complex], *, rounds_ago: int, after: int = 0) -> list[stim.GateTarget]:
        """Record targets of `ancillas` measured `rounds_ago` rounds back (0: the last), `after` more bits since."""
        return [stim.target_rec(position[q] - checks * (rounds_ago + 1) - after) for q in ancillas]

    def detector(into: stim.Circuit, targets: list[stim.GateTarget], tile: Tile, check: str) -> None:
        x, y = coordinates[tile.x_ancilla if check == "X" else tile.z_ancilla]
        into.append(
            stim.CircuitInstruction(
                "DETECTOR", targets, [x, y, 0, tile.colour + (3 if check == "Z" else 0)], tag=f"basis={check}"
            )
        )

    def observable(into: stim.Circuit, targets: list[stim.GateTarget]) -> None:
        if targets:
            into.append(stim.CircuitInstruction("OBSERVABLE_INCLUDE", targets, [0], tag=f"basis={basis}"))

    def measured_round(*, reverse: bool, previous: RoundFlows | None) -> stim.Circuit:
        """A round with its detectors (against `previous`'s, or the memory basis's alone in the first) and its
        part of the observable, then a step in time."""
        flows = backward if reverse else forward
        block = syndrome_round(reverse=reverse)
        for check in ("X", "Z") if previous is not None else (basis,):
            for k, tile in enumerate(tiles):
                targets = recs(flows.before[check][k], rounds_ago=0)
                if previous is not None:
                    targets += recs(previous.after[check][k], rounds_ago=1)
                detector(block, targets, tile, check)
        observable(block, recs(flows.logical[basis], rounds_ago=0))
        block.append("SHIFT_COORDS", [], [0, 0, 1])
        return block

    circuit += measured_round(reverse=rounds == 1, previous=None)  # the last round, a single one too, is reversed
    if rounds > 2:
        body = stim.Circuit()
        body.append("TICK")
        body += measured_round(reverse=False, previous=forward)
        circuit += body * (rounds - 2)  # a REPEAT block, from 2 repetitions on
    if rounds > 1:
        circuit.append("TICK")
        circuit += measured_round(reverse=True, previous=forward)

    data = layout.data
    circuit.append("MX" if basis == "X" else "M", [index[q] for q in data])
    spot = {q: k for k, q in enumerate(data)}

    def data_recs(qubits: Iterable[complex]) -> list[stim.GateTarget]:
        return [stim.target_rec(spot[q] - len(data)) for q in qubits]

    for k, tile in enumerate(tiles):
        targets = data_recs(tile.data) + recs(backward.after[basis][k], rounds_ago=0, after=len(data))
        detector(circuit, targets, tile, basis)
    logical = data if basis == "X" else [q for q in data if q.imag == 0]
    observable(circuit, data_recs(logical))
    return circuit
