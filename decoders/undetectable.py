"""Small undetectable sets of a check matrix: sets of two to four columns whose symptoms cancel, so flipping one
in a correction keeps its syndrome (and may change its logical class). BP+OSD's `descent` flips those that make
its correction lighter (`bp_osd_kernels._descend`).

Found by hashing each column's symptom (a random 64-bit word per check, xor-ed), so that a set cancels where its
hashes do, and every set found is then checked exactly. Two columns: equal symptoms. Three: a pair that shares a
check whose symptoms xor to a third column's. Four: two such pairs with equal xors (every set of four whose
errors split into two pairs that each share a check; a column that equals three disjoint others is not found).

>>> import numpy as np, scipy.sparse
>>> # columns {0}, {0,1}, {1,2}, {2} and {0,2} of checks 0-2 (a chain, and a column that skips one)
>>> matrix = scipy.sparse.csc_matrix(np.array([[1, 1, 0, 0, 1], [0, 1, 1, 0, 0], [0, 0, 1, 1, 1]]))
>>> sets = undetectable_sets(matrix, 4)
>>> [sets.columns[sets.offsets[i]:sets.offsets[i + 1]].tolist() for i in range(len(sets.offsets) - 1)]
[[0, 3, 4], [1, 2, 4], [0, 1, 2, 3]]
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse

from qec.errors import QecInputError

MAX_SIZE = 4
MAX_PAIRS_PER_XOR = 64  # columns or pairs with one symptom are paired off: a larger group is a degenerate model's
MAX_PAIRS = 30_000_000  # pairs of columns sharing a check, at most (about 1 GB of work arrays)


class UndetectableSets(NamedTuple):
    """Sets of columns as CSR (`offsets`, `columns`), and each column's sets (`column_offsets`, `column_sets`):
    the kernels' arrays (int64)."""

    offsets: np.ndarray
    columns: np.ndarray
    column_offsets: np.ndarray
    column_sets: np.ndarray


def undetectable_sets(check_matrix: scipy.sparse.spmatrix, max_size: int) -> UndetectableSets:
    """The undetectable sets of 2 to `max_size` (<= 4) columns of `check_matrix` (0/1, checks by columns) found as
    the module says; `max_size` 0: none. Refuses (QecInputError) a matrix whose checks share too many pairs of
    columns to search (`MAX_PAIRS`)."""
    matrix = scipy.sparse.csc_matrix(check_matrix, dtype=np.uint8)
    num_checks, num_columns = matrix.shape
    found: list[np.ndarray] = []
    if max_size >= 2 and num_columns:
        check_hash = np.random.default_rng(0).integers(0, 2**63, size=num_checks, dtype=np.int64).view(np.uint64)
        column_hash = np.bitwise_xor.reduceat(
            np.append(check_hash[matrix.indices], np.uint64(0)), np.minimum(matrix.indptr[:-1], matrix.nnz)
        )
        column_hash[np.diff(matrix.indptr) == 0] = 0  # a column of no check: reduceat read its neighbour's
        found.append(np.stack(_equal_pairs(column_hash), axis=1))
        if max_size >= 3:
            by_hash = np.argsort(column_hash, kind="stable")
            sorted_hash = column_hash[by_hash]
            first, second = _pairs_sharing_a_check(matrix)
            pair_hash = column_hash[first] ^ column_hash[second]
            found.append(_pairs_and_a_column(first, second, pair_hash, sorted_hash, by_hash))
            if max_size >= 4:
                found.append(_two_pairs(first, second, pair_hash))
    sets = [_exact(matrix, _unique_rows(group)) for group in found if len(group)]
    return _indexed(sets, num_columns)


def _pairs_sharing_a_check(matrix: scipy.sparse.csc_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of columns (first < second) that share a check, once."""
    rows = matrix.tocsr()
    degrees = np.diff(rows.indptr).astype(np.int64)
    if (degrees * (degrees - 1) // 2).sum() > MAX_PAIRS:
        raise QecInputError(
            f"the DEM's detectors share more than {MAX_PAIRS:,} pairs of errors, too many to search for undetectable "
            "sets of three or four errors: use descent=2, or none (0)"
        )
    pairs = []
    for check in range(rows.shape[0]):
        columns = rows.indices[rows.indptr[check] : rows.indptr[check + 1]]
        first, second = np.triu_indices(len(columns), k=1)
        pairs.append(columns[first].astype(np.int64) * matrix.shape[1] + columns[second])
    keys = np.unique(np.concatenate(pairs)) if pairs else np.zeros(0, dtype=np.int64)
    return keys // matrix.shape[1], keys % matrix.shape[1]


def _pairs_and_a_column(
    first: np.ndarray, second: np.ndarray, pair_hash: np.ndarray, sorted_hash: np.ndarray, by_hash: np.ndarray
) -> np.ndarray:
    """Sets of three: a pair and a column whose symptom is the pair's xor (each, where columns share symptoms)."""
    low = np.searchsorted(sorted_hash, pair_hash, side="left")
    high = np.searchsorted(sorted_hash, pair_hash, side="right")
    matches = np.where(pair_hash != 0, high - low, 0)
    pair = np.repeat(np.arange(len(pair_hash)), matches)
    at = np.arange(matches.sum()) - np.repeat(np.cumsum(matches) - matches, matches) + low[pair]
    sets = np.stack([first[pair], second[pair], by_hash[at]], axis=1)
    return sets[(sets[:, 2] != sets[:, 0]) & (sets[:, 2] != sets[:, 1])]


def _two_pairs(first: np.ndarray, second: np.ndarray, pair_hash: np.ndarray) -> np.ndarray:
    """Sets of four: two pairs of distinct columns whose xors are equal."""
    one, other = _equal_pairs(pair_hash)
    four = np.sort(np.stack([first[one], second[one], first[other], second[other]], axis=1), axis=1)
    return four[np.all(four[:, 1:] != four[:, :-1], axis=1)]


def _equal_pairs(hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of indices whose non-zero `hashes` are equal, from groups of at most MAX_PAIRS_PER_XOR (each
    size's groups at once)."""
    if len(hashes) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order = np.argsort(hashes, kind="stable")
    ordered = hashes[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    sizes = np.diff(np.r_[starts, len(ordered)])
    usable = (sizes > 1) & (sizes <= MAX_PAIRS_PER_XOR) & (ordered[starts] != 0)
    ones, others = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    for size in np.unique(sizes[usable]):
        groups = order[starts[usable & (sizes == size)][:, None] + np.arange(size)]
        one, other = np.triu_indices(size, k=1)
        ones.append(groups[:, one].ravel())
        others.append(groups[:, other].ravel())
    return np.concatenate(ones), np.concatenate(others)


def _unique_rows(sets: np.ndarray) -> np.ndarray:
    return np.unique(np.sort(sets.astype(np.int64), axis=1), axis=0)


def _exact(matrix: scipy.sparse.csc_matrix, sets: np.ndarray) -> np.ndarray:
    """The sets whose symptoms do cancel (a hash collision would pass a set that does not)."""
    if len(sets) == 0:
        return sets
    membership = scipy.sparse.csc_matrix(
        (np.ones(sets.size, dtype=np.int64), sets.ravel(), np.arange(0, sets.size + 1, sets.shape[1])),
        shape=(matrix.shape[1], len(sets)),
    )
    parity = (matrix.astype(np.int64) @ membership).tocsc()
    parity.data %= 2
    parity.eliminate_zeros()
    return sets[np.diff(parity.indptr) == 0]


def _indexed(sets: list[np.ndarray], num_columns: int) -> UndetectableSets:
    none = [np.zeros(0, dtype=np.int64)]
    sizes = np.concatenate([np.full(len(group), group.shape[1], dtype=np.int64) for group in sets] or none)
    columns = np.concatenate([group.ravel().astype(np.int64) for group in sets] or none)
    offsets = np.r_[0, np.cumsum(sizes)].astype(np.int64)
    owner = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
    by_column = np.argsort(columns, kind="stable")
    column_offsets = np.r_[0, np.cumsum(np.bincount(columns, minlength=num_columns))].astype(np.int64)
    return UndetectableSets(offsets, columns, column_offsets, owner[by_column])
