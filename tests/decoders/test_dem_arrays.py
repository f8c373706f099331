"""DEM -> arrays: check matrices keep hyperedges whole, matching graphs merge parallel edges, likely errors split."""

from __future__ import annotations

import numpy as np
import pytest
import stim

from qec.decoders.dem_arrays import check_matrices, matching_graph, split_likely_errors
from qec.errors import QecInputError

DEM = stim.DetectorErrorModel("""
    error(0.1) D0 D1 ^ D2 L0
    error(0.2) D0 D1
    error(0.05) D2
    error(0.01) L0
""")


def test_check_matrix_keeps_decomposed_errors_whole():
    matrices = check_matrices(DEM)
    assert matrices.check_matrix.toarray().T.tolist() == [[1, 1, 1], [1, 1, 0], [0, 0, 1], [0, 0, 0]]
    assert matrices.observables_matrix.toarray().tolist() == [[1, 0, 0, 1]]
    assert matrices.priors.tolist() == pytest.approx([0.1, 0.2, 0.05, 0.01])
    assert matrices.packed_observables[:, 0].tolist() == [1, 0, 0, 1]


def test_matching_graph_merges_parallel_edges_and_adds_the_boundary():
    graph = matching_graph(DEM)
    assert graph.edge_endpoints.tolist() == [[0, 1], [2, 3]]  # node 3 is the boundary
    # D0 D1 twice: an odd number of the two happens with 0.1 * 0.8 + 0.2 * 0.9; the first's observables stay.
    assert graph.edge_probabilities.tolist() == pytest.approx([0.26, 1 - (1 - 0.1) * (1 - 0.05) - 0.1 * 0.05])
    assert graph.edge_observables[:, 0].tolist() == [0, 1]
    assert np.diff(graph.node_edge_offsets).tolist() == [1, 1, 1, 1]


def test_matching_graph_refuses_hyperedges_naming_bposd():
    with pytest.raises(QecInputError, match="not graphlike.*'bposd'"):
        matching_graph(stim.DetectorErrorModel("error(0.1) D0 D1 D2"))


def test_likely_errors_split_into_certain_flips_and_unlikely_errors():
    likely = split_likely_errors(
        stim.DetectorErrorModel("""
        error(0.75) D0 D1 ^ D1 D9 L0
        error(0.125) D0 L1
        error(1) D2 D2 L1
    """)
    )
    assert str(likely.dem).split() == [
        "error(0.25)",
        "D0",
        "D1",
        "^",
        "D1",
        "D9",
        "L0",
        "error(0.125)",
        "D0",
        "L1",
        "error(0)",
        "D2",
        "D2",
        "L1",
    ]
    assert likely.detection_events.tolist() == [0b1, 0b10]  # D0 and D9; D1 and D2 twice each
    assert likely.observables.tolist() == [0b11]
    shots = np.array([[0b1, 0b10], [0, 0]], dtype=np.uint8)
    assert likely.removed_from(shots).tolist() == [[0, 0], [0b1, 0b10]]
    assert likely.added_to(np.array([[0b01]], dtype=np.uint8)).tolist() == [[0b10]]


def test_without_likely_errors_nothing_changes():
    likely = split_likely_errors(DEM)
    assert likely.dem is DEM
    shots = np.array([[0b101]], dtype=np.uint8)
    assert likely.removed_from(shots) is shots
    assert likely.added_to(shots) is shots
