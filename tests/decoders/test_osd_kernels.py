"""OSD's steps against plain references: the radix argsort against NumPy's stable argsort, and the Gauss-Jordan
elimination (kept as columns, rows unswapped) against a textbook one on dense matrices."""

import numpy as np
import pytest

from qec.decoders.bp_osd_kernels import _argsort_into, _gaussian_elimination, _osd_workspace, packed_words


def workspace(dense: np.ndarray) -> tuple:
    packed = packed_words(dense)
    no_sets = np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return packed, _osd_workspace(packed, packed_words(dense.T), 2, no_sets + no_sets)


@pytest.mark.parametrize("count", [1, 2, 7, 64, 2232, 5000])
def test_radix_argsort_is_numpys_stable_argsort(count):
    rng = np.random.default_rng(count)
    keys = (rng.normal(size=count) * 100).astype(np.float32)
    keys[::5] = keys[0]  # ties, taken in index order
    keys[1::7] = np.inf
    keys[2::11] = -np.inf
    keys[3::13] = 0.0
    _, osd = workspace(np.zeros((1, count), dtype=np.uint8))
    order = np.empty(count, dtype=np.int64)
    _argsort_into(keys, order, osd[9])
    assert np.array_equal(order, np.argsort(keys, kind="stable"))


def textbook_elimination(dense: np.ndarray, syndrome: np.ndarray, order: np.ndarray):
    """Gauss-Jordan over GF(2), columns in `order`, rows swapped into place: (pivots, reduced rows, syndrome)."""
    rows = dense.copy()
    bits = syndrome.copy()
    pivots = []
    for column in order:
        rank = len(pivots)
        candidates = [row for row in range(rank, len(rows)) if rows[row, column]]
        if not candidates:
            continue
        pivot = candidates[0]
        rows[[rank, pivot]] = rows[[pivot, rank]]
        bits[[rank, pivot]] = bits[[pivot, rank]]
        for row in range(len(rows)):
            if row != rank and rows[row, column]:
                rows[row] ^= rows[rank]
                bits[row] ^= bits[rank]
        pivots.append(column)
    return pivots, rows, bits


@pytest.mark.parametrize("seed", range(12))
def test_elimination_gives_the_textbook_reduced_form(seed):
    rng = np.random.default_rng(seed)
    checks = int(rng.integers(1, 90))
    columns = int(rng.integers(1, 200))
    dense = (rng.random((checks, columns)) < rng.uniform(0.02, 0.3)).astype(np.uint8)
    if seed % 3 == 0:  # dependent rows, so a rank below the row count and syndromes no correction gives
        dense[-1] = dense[0] ^ dense[checks // 2]
    syndrome = (rng.random(checks) < 0.3).astype(np.uint8)
    if seed % 2 == 0:  # a syndrome some errors give
        syndrome = (dense.astype(np.int64) @ (rng.random(columns) < 0.1) % 2).astype(np.uint8)
    order = rng.permutation(columns)
    packed, osd = workspace(dense)
    rows, reduced_syndrome, pivot_columns, is_pivot = osd[1], osd[2], osd[3], osd[4]
    rank = _gaussian_elimination(order, packed, syndrome, rows, reduced_syndrome, pivot_columns, is_pivot, osd[10])
    pivots, expected_rows, expected_bits = textbook_elimination(dense, syndrome, order)
    assert rank == len(pivots)
    assert pivot_columns[:rank].tolist() == pivots
    assert np.flatnonzero(is_pivot).tolist() == sorted(pivots)
    ours = np.unpackbits(rows[:rank].view(np.uint8), axis=1, bitorder="little")[:, :columns]
    assert np.array_equal(ours, expected_rows[:rank])
    assert not expected_rows[rank:].any()
    consistent = not expected_bits[rank:].any()  # some set of columns gives the syndrome
    assert consistent == (not reduced_syndrome[rank:checks].any())
    if consistent:  # (else the pivots' bits depend on which dependent rows were added: no correction is right)
        assert np.array_equal(reduced_syndrome[:rank], expected_bits[:rank])
