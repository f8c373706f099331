"""Bivariate bicycle (BB) codes of Bravyi et al., "High-threshold and low-overhead fault-tolerant quantum memory",
Nature 627, 778 (2024), with their depth-8 syndrome cycle.

With x = S_l (x) I_m and y = I_l (x) S_m (S_k the k x k cyclic shift), A = A1 + A2 + A3 and B = B1 + B2 + B3
sums of monomials in x and y, the code has n = 2lm data qubits (lm "left", lm "right"), hx = [A | B] and
hz = [B^T | A^T]. The five codes of the paper's Table 3 (k checked from ranks when built):

| name                 | l  | m  | A                 | B               |
|----------------------|----|----|-------------------|-----------------|
| 72,12,6              | 6  | 6  | x^3 + y + y^2     | y^3 + x + x^2   |
| 90,8,10              | 15 | 3  | x^9 + y + y^2     | 1 + x^2 + x^7   |
| 108,8,10             | 9  | 6  | x^3 + y + y^2     | y^3 + x + x^2   |
| 144,12,12 (gross)    | 12 | 6  | x^3 + y + y^2     | y^3 + x + x^2   |
| 288,12,18 (two-gross)| 12 | 12 | x^3 + y^2 + y^7   | y^3 + x + x^2   |

By distance (`bb_code(distance=...)`, and the `bb` family's `--distance`): 6, 10, 12, 18. Distance 10 is
ambiguous and gives [[90,8,10]]; [[108,8,10]] is `bb_code("108,8,10")`.

The syndrome cycle is the paper's (its Fig. 7 and supplementary code): seven CNOT layers t = 0..6 in which
X check i visits, at t = 1..6, its neighbours through A2, B2, B1, B3, A1, A3 (directions 1, 4, 3, 5, 0, 2 of
the paper) and Z check i, at t = 0..5, through A1^T, A3^T, B1^T, B2^T, B3^T, A2^T (directions 3, 5, 0, 1, 2,
4); the X and Z checks interleave, and every detector is deterministic. The one change: the paper measures
the Z checks at t = 6 and prepares the X checks at t = 0 (and the Z checks at t = 7 beside the X
measurement); here every ancilla is measured and reset in one layer, t = 7 (MRX for X checks, MR for Z
checks), the round structure `qec.noise` needs. So each ancilla idles one layer per cycle that the paper's
does not (the X ancilla at t = 0, the Z ancilla at t = 6); the depth is the same 8.

Unit cell (a, b), i = a m + b, is drawn at (2a, 2b): left data (2a, 2b), X check (2a + 1, 2b), right data
(2a + 1, 2b + 1), Z check (2a, 2b + 1).

>>> gross = bb_code("gross")
>>> gross.name, gross.n, gross.k
('bb-144-12-12', 144, 12)
>>> [bb_code(distance=d).n for d in BB_DISTANCES]
[72, 90, 144, 288]
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import stim

from qec.codes.css import CssCode, css
from qec.codes.syndrome_schedule import SyndromeSchedule
from qec.errors import QecInputError, unknown_choice

Monomial = tuple[int, int]  # x^a y^b as (a, b)


@dataclass(frozen=True)
class BbSpec:
    """One BB code of the paper's Table 3: the torus l x m, the monomials of A and B, and the published n, k, d."""

    l: int  # noqa: E741 (the paper's name)
    m: int
    a: tuple[Monomial, Monomial, Monomial]
    b: tuple[Monomial, Monomial, Monomial]
    n: int
    k: int
    d: int

    @property
    def name(self) -> str:
        return f"{self.n},{self.k},{self.d}"


BB_SPECS: dict[str, BbSpec] = {
    spec.name: spec
    for spec in [
        BbSpec(6, 6, ((3, 0), (0, 1), (0, 2)), ((0, 3), (1, 0), (2, 0)), 72, 12, 6),
        BbSpec(15, 3, ((9, 0), (0, 1), (0, 2)), ((0, 0), (2, 0), (7, 0)), 90, 8, 10),
        BbSpec(9, 6, ((3, 0), (0, 1), (0, 2)), ((0, 3), (1, 0), (2, 0)), 108, 8, 10),
        BbSpec(12, 6, ((3, 0), (0, 1), (0, 2)), ((0, 3), (1, 0), (2, 0)), 144, 12, 12),
        BbSpec(12, 12, ((3, 0), (0, 2), (0, 7)), ((0, 3), (1, 0), (2, 0)), 288, 12, 18),
    ]
}
BB_ALIASES = {"gross": "144,12,12", "two-gross": "288,12,18"}
BB_BY_DISTANCE = {6: "72,12,6", 10: "90,8,10", 12: "144,12,12", 18: "288,12,18"}
BB_DISTANCES = tuple(BB_BY_DISTANCE)

# The paper's directions: 0, 1, 2 are A1, A2, A3 and 3, 4, 5 are B1, B2, B3 (transposed for Z checks).
X_DIRECTIONS = (None, 1, 4, 3, 5, 0, 2)
Z_DIRECTIONS = (3, 5, 0, 1, 2, 4, None)


def bb_spec(name: str | None = None, *, distance: int | None = None) -> BbSpec:
    """The Table 3 entry called `name` ('72,12,6', '[[144,12,12]]', 'gross', 'two-gross') or of `distance`."""
    if (name is None) == (distance is None):
        raise QecInputError("give a BB code's name or its distance, not both")
    if distance is not None:
        if distance not in BB_BY_DISTANCE:
            raise QecInputError(
                f"distance {distance} is not allowed for 'bb': use one of {', '.join(map(str, BB_DISTANCES))}"
            )
        return BB_SPECS[BB_BY_DISTANCE[distance]]
    assert name is not None
    key = name.strip().lower().removeprefix("bb").strip("-[] ").replace(" ", "").replace("-", ",")
    key = BB_ALIASES.get(name.strip().lower(), key)
    if key not in BB_SPECS:
        raise unknown_choice("BB code", name, [*BB_SPECS, *BB_ALIASES])
    return BB_SPECS[key]


@lru_cache(maxsize=None)
def _bb_code(key: str) -> CssCode:
    spec = BB_SPECS[key]
    l, m = spec.l, spec.m  # noqa: E741
    a = [_monomial(l, m, power) for power in spec.a]
    b = [_monomial(l, m, power) for power in spec.b]
    a_sum, b_sum = (np.sum(a, axis=0) % 2).astype(np.uint8), (np.sum(b, axis=0) % 2).astype(np.uint8)
    hx = np.concatenate([a_sum, b_sum], axis=1)
    hz = np.concatenate([b_sum.T, a_sum.T], axis=1)
    code = css(hx, hz, name=f"bb-{spec.n}-{spec.k}-{spec.d}", schedule=_schedule(a, b), coordinates=_coordinates(l, m))
    if (code.n, code.k) != (spec.n, spec.k):  # a wrong table entry, not a user error
        raise AssertionError(f"BB {spec.name}: built [[{code.n},{code.k}]]")
    return code


def bb_code(name: str | None = None, *, distance: int | None = None) -> CssCode:
    """The BB code called `name` or of `distance` (see the module docstring), built once and cached."""
    return _bb_code(bb_spec(name, distance=distance).name)


def bb_data_qubits(distance: int) -> int:
    """n of the BB code of `distance` (0 for a distance that has none): its checks a round, half its qubits."""
    return BB_SPECS[BB_BY_DISTANCE[distance]].n if distance in BB_BY_DISTANCE else 0


def bb_memory_circuit(*, distance: int, rounds: int, basis: str) -> stim.Circuit:
    """The `bb` family's builder: the noiseless memory of the BB code of `distance`."""
    return bb_code(distance=distance).memory_circuit(rounds=rounds, basis=basis)


def _monomial(l: int, m: int, power: Monomial) -> np.ndarray:  # noqa: E741
    shift_l = np.roll(np.eye(l, dtype=np.uint8), power[0], axis=1)
    shift_m = np.roll(np.eye(m, dtype=np.uint8), power[1], axis=1)
    return np.kron(shift_l, shift_m)


def _schedule(a: list[np.ndarray], b: list[np.ndarray]) -> SyndromeSchedule:
    """The paper's seven CNOT layers as (check, qubit) edges; X checks 0..lm-1, Z checks lm..2lm-1."""
    half = a[0].shape[0]
    cells = np.arange(half)
    # Neighbour of X check i in direction d (a permutation matrix's one column in row i), as a data qubit.
    x_neighbour = [np.argmax(p, axis=1) for p in a] + [half + np.argmax(p, axis=1) for p in b]
    # Neighbour of Z check i: the one row in column i; B^T on the left data, A^T on the right.
    z_neighbour = [np.argmax(p, axis=0) for p in b] + [half + np.argmax(p, axis=0) for p in a]
    layers = []
    for x_direction, z_direction in zip(X_DIRECTIONS, Z_DIRECTIONS):
        edges = []
        if x_direction is not None:
            edges.append(np.stack([cells, x_neighbour[x_direction]], axis=1))
        if z_direction is not None:
            edges.append(np.stack([half + cells, z_neighbour[z_direction]], axis=1))
        layers.append(np.concatenate(edges).astype(np.int64))
    return SyndromeSchedule(tuple(layers), "Bravyi et al. (2024) depth-8 cycle, all ancillas measured at t = 7")


def _coordinates(l: int, m: int) -> np.ndarray:  # noqa: E741
    a, b = np.divmod(np.arange(l * m), m)
    x, y = 2.0 * a, 2.0 * b
    return np.concatenate(
        [np.stack(c, axis=1) for c in ((x, y), (x + 1, y + 1), (x + 1, y), (x, y + 1))]
    )  # left data, right data, X checks, Z checks
