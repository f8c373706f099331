"""Undetectable sets of a check matrix: each found cancels exactly, and none of two or three is missed."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse

from qec.decoders import undetectable
from qec.decoders.dem_arrays import check_matrices
from qec.decoders.undetectable import undetectable_sets
from qec.errors import QecInputError
from qec.memory import noisy_memory_circuit


def found(matrix, max_size: int) -> set[tuple[int, ...]]:
    sets = undetectable_sets(matrix, max_size)
    listed = {tuple(sets.columns[sets.offsets[i] : sets.offsets[i + 1]]) for i in range(len(sets.offsets) - 1)}
    by_column = {
        (column, int(index))
        for column in range(matrix.shape[1])
        for index in sets.column_sets[sets.column_offsets[column] : sets.column_offsets[column + 1]]
    }
    members = {
        (int(c), i) for i in range(len(sets.offsets) - 1) for c in sets.columns[sets.offsets[i] : sets.offsets[i + 1]]
    }
    assert by_column == members  # each column lists exactly the sets it is in
    return listed


@pytest.mark.parametrize("family", ["color", "surface"])
def test_every_set_found_cancels_and_every_set_of_two_or_three_is_found(family):
    circuit = noisy_memory_circuit(family, distance=3, rounds=2, noise="uniform", p=0.001)
    matrix = check_matrices(circuit.detector_error_model()).check_matrix.tocsc()
    dense = matrix.toarray().astype(np.uint8)
    sets = found(matrix, 4)
    assert sets and all(not (dense[:, list(s)].sum(axis=1) % 2).any() for s in sets)
    assert 4 in {len(s) for s in sets}
    twos = {
        (a, b) for a, b in itertools.combinations(range(dense.shape[1]), 2) if np.array_equal(dense[:, a], dense[:, b])
    }
    columns = {tuple(dense[:, j]): j for j in range(dense.shape[1])}  # (the last of equal ones: twos cover the rest)
    threes = {
        tuple(sorted((a, b, c)))
        for a, b in itertools.combinations(range(dense.shape[1]), 2)
        if any(key := tuple(dense[:, a] ^ dense[:, b])) and key in columns
        for c in range(dense.shape[1])
        if c not in (a, b) and np.array_equal(dense[:, c], np.array(key))
    }
    assert {s for s in sets if len(s) == 2} == twos and {s for s in sets if len(s) == 3} == threes
    assert found(matrix, 3) == twos | threes and found(matrix, 2) == twos and found(matrix, 0) == set()


def test_a_matrix_too_dense_to_search_is_refused_in_one_line(monkeypatch):
    matrix = check_matrices(
        noisy_memory_circuit("color", distance=3, rounds=2, noise="uniform", p=0.001).detector_error_model()
    )
    monkeypatch.setattr(undetectable, "MAX_PAIRS", 10)
    with pytest.raises(QecInputError, match="share more than 10 pairs of errors.*use descent=2, or none"):
        undetectable.undetectable_sets(matrix.check_matrix, 3)
    assert len(undetectable.undetectable_sets(matrix.check_matrix, 2).offsets) > 1  # pairs need no search


def test_every_pair_of_columns_with_one_symptom_is_a_set():
    matrix = scipy.sparse.csc_matrix(np.array([[1, 1, 1, 0], [0, 0, 0, 1]]))  # columns 0, 1, 2 alike
    assert found(matrix, 2) == {(0, 1), (0, 2), (1, 2)}
