"""DEM -> arrays: check matrices keep hyperedges whole, matching graphs merge parallel edges."""

from __future__ import annotations

import numpy as np
import pytest
import stim

from qec.decoders.dem_arrays import check_matrices, matching_graph
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
