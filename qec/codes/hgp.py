"""Hypergraph product (HGP) codes of two classical codes (Tillich and Zemor, IEEE Trans. Inf. Theory 60, 1193
(2014)), and the `hgp` family: the HGP of the cyclic repetition code [d, 1, d] with itself, the toric code
[[2d^2, 2, d]].

For parity-check matrices h1 (m1 x n1) and h2 (m2 x n2), the data qubits are the pairs (i, j) of bits of the
two codes (sector 1, n1 n2 qubits, index i n2 + j) and the pairs (a, b) of their checks (sector 2, m1 m2
qubits, index n1 n2 + a m2 + b); X check (a, j) and Z check (i, b):

    hx = [h1 (x) I_n2 | I_m1 (x) h2^T],    hz = [I_n1 (x) h2 | h1^T (x) I_m2],

so hx hz^T = 2 h1 (x) h2^T = 0, and k = k1 k2 + k1^T k2^T (k^T the dimension of the transposed code).

Schedule (`sector_schedule`): Z checks, then X checks (as `css`'s default), but each check visits its
sector-1 qubits before its sector-2 qubits, each part packed by an edge colouring. A hook error (an ancilla
fault spread onto the qubits its check visits later) is then, up to the check itself, a set of qubits of one
sector along one direction of the product; in the toric code that direction is perpendicular to the logical
operators of that sector. The toric code's circuits keep distance d (tested with `shortest_graphlike_error`
under uniform, SD6 and SI1000 noise); there, with Z and X checks measured apart, every one of the 24 orders
of a check's four qubits does, so the sector order is a conservative choice, not a proven distance-keeping
schedule for every HGP code: `qec.codes.distance.circuit_distance` measures a given one.

Qubit (i, j) of sector 1 is drawn at (2i, 2j), (a, b) of sector 2 at (2a + 1, 2b + 1), X check (a, j) at
(2a + 1, 2j) and Z check (i, b) at (2i, 2b + 1).

>>> hx, hz = hgp(repetition_check_matrix(3), repetition_check_matrix(3))
>>> hx.shape, hz.shape
((9, 18), (9, 18))
>>> toric_code(4).describe()
'toric-4 [[32,2]]'
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import stim

from qec.codes.css import CssCode, binary_matrix, css
from qec.codes.syndrome_schedule import SyndromeSchedule, layered
from qec.errors import QecInputError


def hgp(h1: Any, h2: Any) -> tuple[np.ndarray, np.ndarray]:
    """(hx, hz) of the hypergraph product of classical parity-check matrices `h1` and `h2` (0/1, numpy or
    scipy.sparse); uint8 arrays of shape (m1 n2, n1 n2 + m1 m2) and (n1 m2, n1 n2 + m1 m2)."""
    a = binary_matrix(h1, name="h1")
    b = binary_matrix(h2, name="h2")
    (m1, n1), (m2, n2) = a.shape, b.shape
    hx = np.concatenate([np.kron(a, np.eye(n2, dtype=np.uint8)), np.kron(np.eye(m1, dtype=np.uint8), b.T)], axis=1)
    hz = np.concatenate([np.kron(np.eye(n1, dtype=np.uint8), b), np.kron(a.T, np.eye(m2, dtype=np.uint8))], axis=1)
    return hx.astype(np.uint8), hz.astype(np.uint8)


def hgp_code(h1: Any, h2: Any, *, name: str = "hgp") -> CssCode:
    """The HGP code of `h1` and `h2` as a `CssCode`, with the sector schedule and the product's coordinates."""
    a = binary_matrix(h1, name="h1")
    b = binary_matrix(h2, name="h2")
    hx, hz = hgp(a, b)
    return css(
        hx,
        hz,
        name=name,
        schedule=sector_schedule(a.shape, b.shape, hx, hz),
        coordinates=_coordinates(a.shape, b.shape),
    )


def repetition_check_matrix(length: int, *, cyclic: bool = True) -> np.ndarray:
    """Checks x_a + x_{a+1} of the repetition code of `length` bits: `length` of them (cyclic, the last
    wrapping round) or `length` - 1 (open).

    >>> repetition_check_matrix(3).tolist()
    [[1, 1, 0], [0, 1, 1], [1, 0, 1]]
    """
    if isinstance(length, bool) or not isinstance(length, int) or length < 2:
        raise QecInputError(f"length must be an integer >= 2, got {length!r}")
    rows = length if cyclic else length - 1
    matrix = np.zeros((rows, length), dtype=np.uint8)
    a = np.arange(rows)
    matrix[a, a] = 1
    matrix[a, (a + 1) % length] = 1
    return matrix


@lru_cache(maxsize=64)
def toric_code(distance: int) -> CssCode:
    """The toric code [[2d^2, 2, d]]: the HGP of the cyclic repetition code of length `distance` with itself."""
    h = repetition_check_matrix(distance)
    return hgp_code(h, h, name=f"toric-{distance}")


def toric_memory_circuit(*, distance: int, rounds: int, basis: str) -> stim.Circuit:
    """The `hgp` family's builder: the noiseless memory of the toric code of `distance`."""
    return toric_code(distance).memory_circuit(rounds=rounds, basis=basis)


def sector_schedule(
    shape1: tuple[int, int], shape2: tuple[int, int], hx: np.ndarray, hz: np.ndarray
) -> SyndromeSchedule:
    """Z checks then X checks, each visiting its sector-1 qubits before its sector-2 qubits."""
    n1n2 = shape1[1] * shape2[1]
    mx = hx.shape[0]
    x_edges = np.argwhere(hx).astype(np.int64)
    z_edges = np.argwhere(hz).astype(np.int64) + np.array([mx, 0])
    groups = [
        z_edges[z_edges[:, 1] < n1n2],
        z_edges[z_edges[:, 1] >= n1n2],
        x_edges[x_edges[:, 1] < n1n2],
        x_edges[x_edges[:, 1] >= n1n2],
    ]
    return SyndromeSchedule(layered(groups), "Z checks then X checks, each check sector 1 then sector 2")


def _coordinates(shape1: tuple[int, int], shape2: tuple[int, int]) -> np.ndarray:
    (m1, n1), (m2, n2) = shape1, shape2

    def grid(rows: int, columns: int, dx: float, dy: float) -> np.ndarray:
        r, c = np.divmod(np.arange(rows * columns), columns)
        return np.stack([2.0 * r + dx, 2.0 * c + dy], axis=1)

    # sector 1 (i, j), sector 2 (a, b), X checks (a, j), Z checks (i, b)
    return np.concatenate([grid(n1, n2, 0, 0), grid(m1, m2, 1, 1), grid(m1, n2, 1, 0), grid(n1, m2, 0, 1)])
