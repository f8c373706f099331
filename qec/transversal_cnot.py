"""The `cnot` experiment: transversal CNOTs between two copies of a CSS code, with syndrome rounds around them.

Two blocks, 0 (the control) and 1 (the target), each a copy of one CSS code: the rotated (or unrotated) surface
code with Stim's layout and CNOT schedule (`surface_css_code`, read off Stim's generated memory circuit), or any
code built by `qec.codes.css` (the `bb`, `hgp` families, a user's code). Two copies of a CSS code always have a
transversal CNOT: CX from each data qubit of block 0 to the same data qubit of block 1.

The layout (`cnot_circuit`):

1. Both blocks' data prepared in the basis B (R for |00>, RX for |++>), ancillas reset (RX for X checks).
2. `rounds` syndrome rounds on both blocks at once (each round the code's CNOT layers, then MRX/MR).
3. `cnots` transversal CNOTs, one layer each; between consecutive ones `rounds_between` rounds (0 allowed: the
   CNOTs then follow each other directly).
4. `rounds` rounds after the last CNOT, then every data qubit measured in B (M or MX).

So a shot holds 2 rounds + (cnots - 1) rounds_between syndrome rounds.

Detectors. A transversal CNOT maps X_c -> X_c X_t and Z_t -> Z_c Z_t, so after it a control X check measures
what the control's and the target's X checks measured before it, and a target Z check what both Z checks did; the
other checks are unchanged. Each detector compares a check's outcome with the parity of the earlier outcomes that
its propagated image equals (tracked through every CNOT, so rounds_between = 0 composes them): the target's Z
detectors after a CNOT, and the control's X detectors, span both blocks. In the first round only the checks of
basis B are deterministic and get detectors; at the end each basis-B check is compared with the parity of the
measured data it acts on. Every DETECTOR is tagged `basis=X|Z,block=0|1` (the type and block of the check it
compares; `qec.decoders.basis.tag_basis` reads the first, `qec.decoders.blocks` the second) and has coordinates
(x, y, t): the check's coordinates, block 1 shifted right past block 0, and t the round (the final data's
detectors at t = the number of rounds).

Observables: the k logical operators of basis B of each block measured from its data, block 0's as observables
0..k-1 and block 1's as k..2k-1, tagged `basis=B,block=b`. Each is deterministic: a B-type logical's image through
the CNOTs is a product of B-type logicals, all +1 in |0..0> (or |+..+>). An X error on the control before a CNOT
(Z memory) becomes X_c X_t and flips both blocks' observables; those are the correlations joint decoding uses.

>>> circuit = cnot_circuit(surface_css_code(distance=3), rounds=2, basis="Z", cnots=1, rounds_between=1)
>>> circuit.num_detectors, circuit.num_observables
(64, 2)
>>> circuit.compile_detector_sampler().sample(4).any()
np.False_
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import stim

from qec.codes import CodeFamily
from qec.codes.css import CssCode, css
from qec.codes.size import CircuitSize
from qec.codes.syndrome_schedule import SyndromeSchedule
from qec.errors import QecInputError
from qec.text import shown_integer

# Families whose circuits come from Stim's generator and whose CSS structure `surface_css_code` reads off it.
SURFACE_FAMILIES = {"surface": "rotated", "unrotated-surface": "unrotated"}


def surface_css_code(*, distance: int, kind: str = "rotated") -> CssCode:
    """The `kind` ("rotated" or "unrotated") surface code at `distance` as a `CssCode`, with the qubit coordinates
    and the CNOT schedule of Stim's generated memory circuit (`qec.codes.surface`): its four CNOT layers, the
    X checks' ancillas as controls (Stim's H ... H becomes RX ... MRX here). Data are numbered in Stim's order,
    then the X-check and the Z-check ancillas.

    >>> code = surface_css_code(distance=3)
    >>> code.n, code.k, code.hx.shape, len(code.schedule.layers)
    (9, 1, (4, 9), 4)
    """
    generated = stim.Circuit.generated(f"surface_code:{kind}_memory_z", distance=distance, rounds=1)
    coordinates = generated.get_final_qubit_coordinates()
    data: list[int] = []
    ancillas: list[int] = []
    x_ancillas: set[int] = set()
    layers: list[list[tuple[int, int]]] = []
    hadamards = 0
    for instruction in generated.flattened():
        targets = [target.value for target in instruction.targets_copy()]
        if instruction.name == "H":
            x_ancillas.update(targets)
            hadamards += 1
        elif instruction.name == "CX" and hadamards == 1:
            layers.append(list(zip(targets[::2], targets[1::2])))
        elif instruction.name == "MR" and not ancillas:
            ancillas = targets
        elif instruction.name == "M":
            data = targets
    x_checks = [q for q in ancillas if q in x_ancillas]
    z_checks = [q for q in ancillas if q not in x_ancillas]
    check_index = {q: i for i, q in enumerate(x_checks + z_checks)}
    data_index = {q: i for i, q in enumerate(data)}
    hx = np.zeros((len(x_checks), len(data)), dtype=np.uint8)
    hz = np.zeros((len(z_checks), len(data)), dtype=np.uint8)
    schedule_layers = []
    for layer in layers:
        edges = []
        for control, target in layer:
            ancilla, qubit = (control, target) if control in x_ancillas else (target, control)
            check = check_index[ancilla]
            if check < len(x_checks):
                hx[check, data_index[qubit]] = 1
            else:
                hz[check - len(x_checks), data_index[qubit]] = 1
            edges.append((check, data_index[qubit]))
        schedule_layers.append(np.array(edges, dtype=np.int64).reshape(-1, 2))
    schedule = SyndromeSchedule(tuple(schedule_layers), f"Stim's {kind} surface-code schedule")
    qubits = data + x_checks + z_checks
    return css(
        hx,
        hz,
        name=f"{kind}-surface-{distance}",
        schedule=schedule,
        coordinates=np.array([coordinates[q] for q in qubits], dtype=np.float64),
    )


def family_css_code(family: CodeFamily, *, distance: int) -> CssCode:
    """The CSS code of `family` at `distance`: the surface families' through `surface_css_code`, those built by
    `qec.codes.css` through their `code`; QecInputError for a family that is not a CSS code given that way."""
    if family.name in SURFACE_FAMILIES:
        family.circuit(distance=distance, rounds=1)  # the family's own checks of the distance
        return surface_css_code(distance=distance, kind=SURFACE_FAMILIES[family.name])
    if family.code is None:
        raise QecInputError(
            f"the cnot experiment needs a CSS code: '{family.name}' is not one; use surface, unrotated-surface or a "
            "family built from check matrices (bb, hgp, or your code registered as css)"
        )
    family.circuit(distance=distance, rounds=1)
    return family.code(distance)


def build_cnot(
    family: CodeFamily, *, distance: int, rounds: int, basis: str, cnots: int = 1, rounds_between: int = 1
) -> stim.Circuit:
    """The registry's builder: `cnot_circuit` of `family`'s code at `distance` (see the module docstring)."""
    return cnot_circuit(
        family_css_code(family, distance=distance),
        rounds=rounds,
        basis=basis,
        cnots=cnots,
        rounds_between=rounds_between,
    )


def cnot_operations(rounds: int, options: Any) -> int:
    """How many CNOTs a shot holds: the `cnots` option."""
    return int(options["cnots"])


def lighter_logicals(logicals: np.ndarray, stabilizers: np.ndarray) -> np.ndarray:
    """An equally valid basis of the same logicals, made lighter greedily: a row is replaced by its sum with another
    row or a stabilizer while that lowers its weight (row operations and stabilizers keep the span and classes).

    A data error then flips fewer observables: with `qec.codes.css`'s basis of the [[72,12,6]] code, an X error on
    the control before the CNOT flips about ten Z observables in each block, more than Stim's 15 symptoms per
    decomposed error case allow; here it flips one or two.

    >>> lighter_logicals(np.array([[1, 1, 1, 0], [1, 1, 0, 1]], dtype=np.uint8), np.zeros((0, 4), np.uint8)).tolist()
    [[0, 0, 1, 1], [1, 1, 0, 1]]
    """
    rows = np.array(logicals, dtype=np.uint8)
    candidates = np.asarray(stabilizers, dtype=np.uint8)
    improved = True
    while improved:
        improved = False
        for i in range(len(rows)):
            others = np.concatenate([np.delete(rows, i, axis=0), candidates])
            if not len(others):
                continue
            sums = others ^ rows[i]
            weights = sums.sum(axis=1)
            best = int(np.argmin(weights))
            if weights[best] < rows[i].sum():
                rows[i] = sums[best]
                improved = True
    return rows


def _whole(value: Any, *, name: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
        shown = shown_integer(value) if isinstance(value, int) else repr(value)
        raise QecInputError(f"{name} must be a whole number >= {least}, got {shown}")
    return int(value)


def cnot_circuit(code: CssCode, *, rounds: int, basis: str, cnots: int = 1, rounds_between: int = 1) -> stim.Circuit:
    """The noiseless transversal-CNOT experiment on two copies of `code` (layout, detectors and observables in
    the module docstring); QecInputError on rounds < 1, cnots < 1, rounds_between < 0, a basis other than X/Z."""
    rounds = _whole(rounds, name="rounds", least=1)
    cnots = _whole(cnots, name="cnots", least=1)
    rounds_between = _whole(rounds_between, name="rounds_between", least=0)
    if not isinstance(basis, str) or basis.upper() not in ("X", "Z"):
        raise QecInputError(f"basis must be X or Z, got {basis!r}")
    basis = basis.upper()
    total_rounds = 2 * rounds + (cnots - 1) * rounds_between
    excess = CircuitSize(2 * code.checks * (total_rounds + 1), 2 * (code.n + code.checks)).excess()
    if excess:
        raise QecInputError(
            f"the cnot experiment on '{code.name}' with {total_rounds:,} rounds needs {' and '.join(excess)}: "
            "use fewer rounds or CNOTs"
        )
    return _Builder(code, basis).circuit(rounds=rounds, cnots=cnots, rounds_between=rounds_between)


class _Builder:
    """Writes the circuit, tracking for each (block, check) the measurement records whose parity its current
    value equals (None while it is random)."""

    def __init__(self, code: CssCode, basis: str):
        self.code = code
        self.basis = basis
        self.n, self.mx, self.checks = code.n, int(code.hx.shape[0]), code.checks
        self.per_block = self.n + self.checks
        coordinates = code.coordinates
        self.shift = float(coordinates[:, 0].max() - coordinates[:, 0].min()) + 2.0
        self.circuit_ = stim.Circuit()
        self.measurements = 0
        self.round = 0
        deterministic = [(check < self.mx) == (basis == "X") for check in range(self.checks)]
        self.previous: list[list[frozenset[int] | None]] = [
            [frozenset() if known else None for known in deterministic] for _ in range(2)
        ]

    def qubit(self, block: int, local: int) -> int:
        return block * self.per_block + local

    def coordinates(self, block: int, local: int) -> list[float]:
        x, y = self.code.coordinates[local]
        return [float(x) + block * self.shift, float(y)]

    def check_type(self, check: int) -> str:
        return "X" if check < self.mx else "Z"

    def detector(self, records: frozenset[int], *, block: int, check: int) -> None:
        targets = [stim.target_rec(record - self.measurements) for record in sorted(records)]
        coordinates = self.coordinates(block, self.n + check) + [float(self.round)]
        tag = f"basis={self.check_type(check)},block={block}"
        self.circuit_.append(stim.CircuitInstruction("DETECTOR", targets, coordinates, tag=tag))

    def circuit(self, *, rounds: int, cnots: int, rounds_between: int) -> stim.Circuit:
        c = self.circuit_
        for block in range(2):
            for local in range(self.per_block):
                c.append("QUBIT_COORDS", [self.qubit(block, local)], self.coordinates(block, local))
        data = [self.qubit(b, q) for b in range(2) for q in range(self.n)]
        x_ancillas = [self.qubit(b, self.n + i) for b in range(2) for i in range(self.mx)]
        z_ancillas = [self.qubit(b, self.n + i) for b in range(2) for i in range(self.mx, self.checks)]
        c.append("RX" if self.basis == "X" else "R", data)
        if x_ancillas:
            c.append("RX", x_ancillas)
        if z_ancillas:
            c.append("R", z_ancillas)
        c.append("TICK")
        for _ in range(rounds):
            self.syndrome_round()
        for index in range(cnots):
            self.transversal_cnot()
            for _ in range(rounds if index == cnots - 1 else rounds_between):
                self.syndrome_round()
        self.final_measurement()
        return c

    def syndrome_round(self) -> None:
        c = self.circuit_
        for layer in self.code.schedule.layers:
            pairs: list[int] = []
            for block in range(2):
                for check, local in layer.tolist():
                    ancilla, qubit = self.qubit(block, self.n + check), self.qubit(block, local)
                    pairs += [ancilla, qubit] if check < self.mx else [qubit, ancilla]
            c.append("CX", pairs)
            c.append("TICK")
        x_ancillas = [self.qubit(b, self.n + i) for b in range(2) for i in range(self.mx)]
        z_ancillas = [self.qubit(b, self.n + i) for b in range(2) for i in range(self.mx, self.checks)]
        order = [(b, i) for b in range(2) for i in range(self.mx)] + [
            (b, i) for b in range(2) for i in range(self.mx, self.checks)
        ]
        if x_ancillas:
            c.append("MRX", x_ancillas)
        if z_ancillas:
            c.append("MR", z_ancillas)
        first = self.measurements
        self.measurements += len(order)
        for offset, (block, check) in enumerate(order):
            record = first + offset
            earlier = self.previous[block][check]
            if earlier is not None:
                self.detector(earlier ^ {record}, block=block, check=check)
            self.previous[block][check] = frozenset({record})
        self.round += 1
        c.append("TICK")

    def transversal_cnot(self) -> None:
        pairs = []
        for q in range(self.n):
            pairs += [self.qubit(0, q), self.qubit(1, q)]
        self.circuit_.append("CX", pairs)
        self.circuit_.append("TICK")
        for check in range(self.checks):  # X_c -> X_c X_t, Z_t -> Z_c Z_t: the image's earlier records
            changed, other = (0, 1) if check < self.mx else (1, 0)
            mine, theirs = self.previous[changed][check], self.previous[other][check]
            self.previous[changed][check] = None if mine is None or theirs is None else mine ^ theirs

    def final_measurement(self) -> None:
        c = self.circuit_
        c.append("MX" if self.basis == "X" else "M", [self.qubit(b, q) for b in range(2) for q in range(self.n)])
        first = self.measurements
        self.measurements += 2 * self.n
        h = np.concatenate([self.code.hx, self.code.hz])
        checks = range(self.mx) if self.basis == "X" else range(self.mx, self.checks)
        for block in range(2):
            for check in checks:
                earlier = self.previous[block][check]
                assert earlier is not None  # a basis-B check is never random
                support = {first + block * self.n + int(q) for q in np.flatnonzero(h[check])}
                self.detector(earlier ^ frozenset(support), block=block, check=check)
        if self.basis == "X":
            logicals = lighter_logicals(self.code.logical_x, self.code.hx)
        else:
            logicals = lighter_logicals(self.code.logical_z, self.code.hz)
        for block in range(2):
            for j, logical in enumerate(logicals):
                targets = [
                    stim.target_rec(first + block * self.n + int(q) - self.measurements)
                    for q in np.flatnonzero(logical)
                ]
                index = block * len(logicals) + j
                tag = f"basis={self.basis},block={block}"
                c.append(stim.CircuitInstruction("OBSERVABLE_INCLUDE", targets, [index], tag=tag))
