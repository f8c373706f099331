"""Heralds in a detector error model: which detectors are heralds, and the errors each herald announces.

A heralded noise model (`qec.noise`, `erasure_fraction` > 0) puts each herald's measurement record under a
`DETECTOR[herald]`; Stim carries the tag into the DEM (`detector[herald] D7`). An error that comes with a herald
flips its herald detector besides its own detectors. A decoder that ignores heralds decodes them as ordinary
detectors (they are consistent: a herald fires exactly when one of its errors happened). A decoder that uses them
decodes the other detectors with per-shot priors: an error whose herald did not fire has probability 0, one whose
herald fired has its probability given the herald, p / P(herald), where P(herald) sums every error that flips the
herald, those that flip nothing else included (an erasure's I and Z on a Z-measured qubit). Conditional
probabilities above 1/2 are kept: a kernel weighs them as it weighs any (log((1 - p) / p) < 0 for BP; matching
and union-find clip weights at 0, which treats the error as erased).

>>> import stim
>>> dem = stim.DetectorErrorModel('''
...     error(0.01) D0 D1
...     error(0.05) D2
...     error(0.05) D0 D2 L0
...     detector[herald] D2
... ''')
>>> columns = heralded_columns(dem)
>>> columns.heralds.herald_detectors.tolist(), columns.heralds.kept_detectors.tolist()
([2], [0, 1])
>>> columns.check_matrices.check_matrix.toarray().tolist(), columns.column_heralds.tolist()
([[1, 1], [1, 0]], [-1, 0])
>>> columns.check_matrices.priors.round(3).tolist()  # the second is 0.05 / (0.05 + 0.05)
[0.01, 0.5]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse
import stim

from qec.decoders.dem_arrays import CheckMatrices, MatchingGraph, _error_components, _packed, _xor
from qec.decoders.heralds_kernels import split_detection_events
from qec.errors import QecInputError
from qec.noise import HERALD_TAG


def herald_detectors(dem: stim.DetectorErrorModel) -> np.ndarray:
    """int64, the sorted indices of the DEM's detectors tagged `herald` (empty when it has none).

    >>> herald_detectors(stim.DetectorErrorModel("detector[herald] D3\\ndetector D1\\nerror(0.1) D0 D3")).tolist()
    [3]
    """
    found = [
        instruction.targets_copy()[0].val
        for instruction in dem.flattened()
        if instruction.type == "detector" and instruction.tag == HERALD_TAG
    ]
    return np.array(sorted(found), dtype=np.int64)


def has_heralds(dem: stim.DetectorErrorModel) -> bool:
    """Whether any detector of the DEM is a herald."""
    return any(instruction.type == "detector" and instruction.tag == HERALD_TAG for instruction in dem.flattened())


@dataclass(frozen=True)
class Heralds:
    """A DEM's detectors split into heralds and the rest, and the split of bit-packed detection events.

    Attributes:
        num_detectors: the DEM's detector count.
        herald_detectors: int64 (num_heralds,), the heralds' detector indices, sorted; herald h is the h-th.
        kept_detectors: int64 (num_detectors - num_heralds,), the others, sorted; the decoded DEM's detector i is
            the DEM's `kept_detectors[i]`.
        detector_slots: int64 (num_detectors,), detector d's index among the kept detectors (>= 0), or -1 - h for
            herald h (what the split kernel reads).
    """

    num_detectors: int
    herald_detectors: np.ndarray
    kept_detectors: np.ndarray
    detector_slots: np.ndarray

    @staticmethod
    def of(dem: stim.DetectorErrorModel) -> Heralds:
        heralds = herald_detectors(dem)
        kept = np.setdiff1d(np.arange(dem.num_detectors, dtype=np.int64), heralds)
        slots = np.empty(dem.num_detectors, dtype=np.int64)
        slots[kept] = np.arange(len(kept))
        slots[heralds] = -1 - np.arange(len(heralds))
        return Heralds(
            num_detectors=dem.num_detectors, herald_detectors=heralds, kept_detectors=kept, detector_slots=slots
        )

    @property
    def num_heralds(self) -> int:
        return len(self.herald_detectors)

    def split(self, detection_events: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Splits a batch into the kept detectors' events and the fired heralds.

        Args:
            detection_events: uint8 (shots, ceil(num_detectors / 8)), bit-packed little-endian as Stim samples.

        Returns:
            (events, fired): uint8 (shots, ceil(num_kept / 8)) and uint8 (shots, ceil(num_heralds / 8)), both
            bit-packed little-endian (bit h of a shot's `fired` row is herald h).
        """
        return split_detection_events(np.ascontiguousarray(detection_events, dtype=np.uint8), self.detector_slots)


@dataclass(frozen=True)
class _HeraldedError:
    """One error of the DEM, its herald (or -1) taken out of its components."""

    probability: float
    herald: int
    components: list[tuple[list[int], list[int]]]


def _heralded_errors(dem: stim.DetectorErrorModel, heralds: Heralds) -> tuple[list[_HeraldedError], np.ndarray]:
    """The DEM's errors over the kept detectors (renumbered), each with its herald, and each herald's
    probability of firing (float64 (num_heralds,)); QecInputError for an error with two heralds."""
    herald_index = {int(d): h for h, d in enumerate(heralds.herald_detectors)}
    kept_index = np.full(heralds.num_detectors, -1, dtype=np.int64)
    kept_index[heralds.kept_detectors] = np.arange(len(heralds.kept_detectors))
    fires = np.zeros(heralds.num_heralds, dtype=np.float64)
    errors = []
    for probability, components in _error_components(dem):
        found = {herald_index[d] for detectors, _ in components for d in detectors if d in herald_index}
        if len(found) > 1:
            raise QecInputError(
                f"an error of probability {probability:g} flips {len(found)} herald detectors; heralded decoding "
                "takes at most one herald per error (decode with heralds=False)"
            )
        herald = found.pop() if found else -1
        if herald >= 0:
            fires[herald] += probability  # a herald's errors are disjoint: one channel's outcomes
        kept = [([int(kept_index[d]) for d in dets if d not in herald_index], obs) for dets, obs in components]
        errors.append(_HeraldedError(probability, herald, [(dets, obs) for dets, obs in kept if dets or obs]))
    return errors, fires


def _combined(probability: float, error: _HeraldedError, fires: np.ndarray) -> float:
    """`probability` (of a column or edge so far) with `error` merged in: a herald's errors are outcomes of one
    channel, so their probabilities given the herald add; unheralded ones are independent (an odd number of them)."""
    if error.herald >= 0:
        return probability + error.probability / fires[error.herald]
    return _xor(probability, error.probability)


@dataclass(frozen=True)
class HeraldedColumns:
    """A heralded DEM's errors as check-matrix columns over the kept detectors, one per (symptom, herald).

    Attributes:
        heralds: the DEM's heralds (`Heralds`).
        check_matrices: the columns (`CheckMatrices` over the kept detectors); `priors` holds each unheralded
            column's probability and each heralded column's probability given its herald.
        column_heralds: int64 (num_columns,), each column's herald, -1 for none.
        herald_offsets: int64 (num_heralds + 1,), CSR offsets into `herald_columns`.
        herald_columns: int64, the columns of each herald.
    """

    heralds: Heralds
    check_matrices: CheckMatrices
    column_heralds: np.ndarray
    herald_offsets: np.ndarray
    herald_columns: np.ndarray

    def priors_for(self, fired: np.ndarray) -> np.ndarray:
        """float64 (shots, num_columns), each shot's priors: 0 for a column whose herald did not fire.

        Args:
            fired: uint8 (shots, ceil(num_heralds / 8)), bit-packed little-endian (`Heralds.split`).
        """
        bits = np.unpackbits(fired, axis=1, count=self.heralds.num_heralds, bitorder="little").astype(bool)
        priors = np.broadcast_to(self.check_matrices.priors, (len(fired), len(self.column_heralds))).copy()
        heralded = self.column_heralds >= 0
        priors[:, heralded] *= bits[:, self.column_heralds[heralded]]
        return priors


def heralded_columns(dem: stim.DetectorErrorModel) -> HeraldedColumns:
    """The DEM's columns over its non-herald detectors (see `HeraldedColumns`); hyperedges stay whole.

    Unheralded errors with one symptom merge as in `check_matrices` (odd number of them); a herald's errors with
    one symptom are outcomes of one channel, so their probabilities add. Errors that flip nothing else are dropped
    after they count towards their herald's probability.
    """
    heralds = Heralds.of(dem)
    errors, fires = _heralded_errors(dem, heralds)
    merged: dict[tuple[frozenset[int], frozenset[int], int], float] = {}
    for error in errors:
        detectors: set[int] = set()
        observables: set[int] = set()
        for component_detectors, component_observables in error.components:
            detectors.symmetric_difference_update(component_detectors)
            observables.symmetric_difference_update(component_observables)
        if not detectors and not observables:
            continue
        key = (frozenset(detectors), frozenset(observables), error.herald)
        merged[key] = _combined(merged.get(key, 0.0), error, fires)
    keys = list(merged)
    column_heralds = np.array([key[2] for key in keys], dtype=np.int64)

    def matrix(rows_of: int, height: int) -> scipy.sparse.csc_matrix:
        rows: list[frozenset[int]] = [key[0] if rows_of == 0 else key[1] for key in keys]
        indptr = np.cumsum([0] + [len(key_rows) for key_rows in rows])
        indices = np.array([row for key_rows in rows for row in sorted(key_rows)], dtype=np.int64)
        return scipy.sparse.csc_matrix(
            (np.ones(len(indices), dtype=np.uint8), indices, indptr), shape=(height, len(keys))
        )

    offsets, columns = _csr(column_heralds, heralds.num_heralds)
    return HeraldedColumns(
        heralds=heralds,
        check_matrices=CheckMatrices(
            check_matrix=matrix(0, len(heralds.kept_detectors)),
            observables_matrix=matrix(1, dem.num_observables),
            priors=np.array([merged[key] for key in keys], dtype=np.float64),
            packed_observables=_packed([key[1] for key in keys], dem.num_observables),
        ),
        column_heralds=column_heralds,
        herald_offsets=offsets,
        herald_columns=columns,
    )


def _csr(owners: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """(offsets int64 (count + 1,), items int64): the indices i with owners[i] == k, for each k in 0..count-1."""
    owned = np.flatnonzero(owners >= 0)
    order = owned[np.argsort(owners[owned], kind="stable")]
    counts = np.bincount(owners[owned], minlength=count)
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64), order.astype(np.int64)


@dataclass(frozen=True)
class HeraldedGraph:
    """A heralded graphlike DEM's matching graph over the kept detectors, one edge per (endpoints, herald).

    Attributes:
        heralds: the DEM's heralds (`Heralds`).
        graph: the `MatchingGraph` (boundary node = number of kept detectors); `edge_probabilities` holds each
            unheralded edge's probability and each heralded edge's probability given its herald. Parallel edges
            of different heralds stay apart.
        edge_heralds: int64 (num_edges,), each edge's herald, -1 for none.
        herald_offsets: int64 (num_heralds + 1,), CSR offsets into `herald_edges`.
        herald_edges: int64, the edges of each herald.
    """

    heralds: Heralds
    graph: MatchingGraph
    edge_heralds: np.ndarray
    herald_offsets: np.ndarray
    herald_edges: np.ndarray


def heralded_graph(dem: stim.DetectorErrorModel) -> HeraldedGraph:
    """The matching graph of a decomposed DEM over its non-herald detectors (see `HeraldedGraph`).

    Each `^`-separated component, its herald taken out, is an edge; a component left with more than two
    detectors raises QecInputError naming the decoders that take hyperedges.

    >>> dem = stim.DetectorErrorModel("error(0.1) D0 D1\\nerror(0.2) D0 D1 D2\\nerror(0.2) D2\\ndetector[herald] D2")
    >>> graph = heralded_graph(dem)
    >>> graph.graph.edge_endpoints.tolist(), graph.edge_heralds.tolist(), graph.graph.edge_probabilities.tolist()
    ([[0, 1], [0, 1]], [-1, 0], [0.1, 0.5])
    """
    heralds = Heralds.of(dem)
    errors, fires = _heralded_errors(dem, heralds)
    boundary = len(heralds.kept_detectors)
    edges: dict[tuple[int, int, int], list] = {}
    for error in errors:
        for detectors, observables in error.components:
            if not detectors:
                continue
            if len(detectors) > 2:
                raise QecInputError(
                    f"the detector error model is not graphlike: an error flips the {len(detectors)} detectors "
                    f"{detectors} besides its herald; decompose it with "
                    "circuit.detector_error_model(decompose_errors=True) or use the 'bposd' decoder"
                )
            ends = (min(detectors), max(detectors)) if len(detectors) == 2 else (detectors[0], boundary)
            key = (*ends, error.herald)
            if key in edges:
                edges[key][0] = _combined(edges[key][0], error, fires)
            else:
                edges[key] = [_combined(0.0, error, fires), frozenset(observables)]
    keys = list(edges)
    endpoints = np.array([key[:2] for key in keys], dtype=np.int32).reshape(len(keys), 2)
    edge_heralds = np.array([key[2] for key in keys], dtype=np.int64)
    order = np.argsort(endpoints.ravel(), kind="stable")
    counts = np.bincount(endpoints.ravel(), minlength=boundary + 1)
    offsets, herald_edges = _csr(edge_heralds, heralds.num_heralds)
    return HeraldedGraph(
        heralds=heralds,
        graph=MatchingGraph(
            num_detectors=boundary,
            edge_endpoints=endpoints,
            edge_probabilities=np.array([edges[key][0] for key in keys], dtype=np.float64),
            edge_observables=_packed([edges[key][1] for key in keys], dem.num_observables),
            node_edge_offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int32),
            node_edges=(order // 2).astype(np.int32),
            node_neighbors=endpoints.ravel()[order ^ 1].astype(np.int32),
        ),
        edge_heralds=edge_heralds,
        herald_offsets=offsets,
        herald_edges=herald_edges,
    )
