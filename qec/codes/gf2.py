"""Linear algebra over GF(2) on bit-packed rows: row reduction, rank, null space, independent rows, inverse.

Matrices come in and go out as `uint8` arrays of 0/1, shape (rows, columns). Inside, each row is packed into
`uint64` words (column c is bit c % 64 of word c // 64), so one elimination step XORs whole rows at once.

>>> import numpy as np
>>> from qec.codes import gf2
>>> h = np.array([[1, 1, 0], [0, 1, 1], [1, 0, 1]], dtype=np.uint8)
>>> gf2.rank(h)
2
>>> gf2.null_space(h)
array([[1, 1, 1]], dtype=uint8)
"""

from __future__ import annotations

import numpy as np

WORD = 64


def pack(matrix: np.ndarray) -> np.ndarray:
    """Rows of a 0/1 matrix (rows, n) as uint64 words (rows, ceil(n / 64)); column c is bit c % 64 of word c // 64."""
    rows, n = matrix.shape
    words = max(1, -(-n // WORD))
    padded = np.zeros((rows, words * WORD), dtype=np.uint8)
    padded[:, :n] = matrix & 1
    as_bytes = np.packbits(padded.reshape(rows, words * 8, 8)[:, :, ::-1], axis=2).reshape(rows, words * 8)
    return np.ascontiguousarray(as_bytes).view("<u8").astype(np.uint64)


def unpack(packed: np.ndarray, n: int) -> np.ndarray:
    """The 0/1 uint8 matrix (rows, n) of packed rows (rows, words): the inverse of `pack`."""
    rows = packed.shape[0]
    if rows == 0:
        return np.zeros((0, n), dtype=np.uint8)
    as_bytes = np.ascontiguousarray(packed.astype("<u8")).view(np.uint8).reshape(rows, -1, 1)
    bits = np.unpackbits(as_bytes, axis=2)[:, :, ::-1].reshape(rows, -1)
    return np.ascontiguousarray(bits[:, :n])


def _column(packed: np.ndarray, column: int) -> np.ndarray:
    return ((packed[:, column // WORD] >> np.uint64(column % WORD)) & np.uint64(1)).astype(bool)


def row_reduce(matrix: np.ndarray, *, columns: np.ndarray | None = None) -> tuple[np.ndarray, list[int]]:
    """The reduced row echelon form of `matrix` over GF(2) (zero rows dropped) and its pivot columns.

    `columns` (a permutation of range(n)) is the order in which columns are tried as pivots; by default 0, 1, ...

    >>> reduced, pivots = row_reduce(np.array([[1, 1, 0], [1, 1, 1]], dtype=np.uint8))
    >>> reduced.tolist(), pivots
    ([[1, 1, 0], [0, 0, 1]], [0, 2])
    """
    n = matrix.shape[1]
    packed = pack(np.asarray(matrix, dtype=np.uint8))
    order = range(n) if columns is None else columns
    pivots: list[int] = []
    rank = 0
    rows = packed.shape[0]
    for column in order:
        if rank == rows:
            break
        column = int(column)
        bits = _column(packed, column)
        candidates = np.flatnonzero(bits[rank:])
        if candidates.size == 0:
            continue
        pivot = rank + int(candidates[0])
        if pivot != rank:
            packed[[rank, pivot]] = packed[[pivot, rank]]
            bits[[rank, pivot]] = bits[[pivot, rank]]
        bits[rank] = False
        targets = np.flatnonzero(bits)
        if targets.size:
            packed[targets] ^= packed[rank]
        pivots.append(column)
        rank += 1
    return unpack(packed[:rank], n), pivots


def rank(matrix: np.ndarray) -> int:
    """The rank of `matrix` over GF(2)."""
    return len(row_reduce(matrix)[1])


def null_space(matrix: np.ndarray) -> np.ndarray:
    """A basis of {v : matrix v = 0 (mod 2)}, as rows (n - rank, n) of uint8."""
    n = matrix.shape[1]
    reduced, pivots = row_reduce(matrix)
    free = [c for c in range(n) if c not in set(pivots)]
    basis = np.zeros((len(free), n), dtype=np.uint8)
    basis[np.arange(len(free)), free] = 1
    if pivots:
        # For free column f, the pivot variable of row r is reduced[r, f].
        basis[:, pivots] = reduced[:, free].T
    return basis


def independent_rows(matrix: np.ndarray) -> list[int]:
    """Indices of the first maximal set of linearly independent rows, taken in order (row i is kept when it is
    independent of the rows kept before it).

    >>> independent_rows(np.array([[1, 0], [1, 0], [0, 1], [1, 1]], dtype=np.uint8))
    [0, 2]
    """
    return row_reduce(np.ascontiguousarray(np.asarray(matrix, dtype=np.uint8).T))[1]


def inverse(matrix: np.ndarray) -> np.ndarray:
    """The inverse over GF(2) of a square invertible matrix; ValueError if it is singular."""
    k = matrix.shape[0]
    augmented = np.concatenate([np.asarray(matrix, dtype=np.uint8) & 1, np.eye(k, dtype=np.uint8)], axis=1)
    reduced, pivots = row_reduce(augmented, columns=np.arange(k))
    if len(pivots) < k:
        raise ValueError("the matrix is singular over GF(2)")
    return reduced[:, k:]


def product(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """left @ right over GF(2), as uint8 (exact for any size: sums are taken in int64 before mod 2)."""
    return ((np.asarray(left, dtype=np.int64) @ np.asarray(right, dtype=np.int64)) & 1).astype(np.uint8)
