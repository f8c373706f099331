"""A detector error model as the arrays decoders need: its check matrix, and its matching graph.

Both readers walk `dem.flattened()` once, in Python, at compile time; decoders hand the arrays to
their Numba kernels. Every decoder first splits the errors of probability > 1/2 off
(`split_likely_errors`), so that the arrays hold probabilities <= 1/2 only.

>>> import stim
>>> from qec.decoders.dem_arrays import check_matrices, matching_graph
>>> dem = stim.DetectorErrorModel('''
...     error(0.1) D0
...     error(0.1) D0 D1 L0
...     error(0.2) D1
... ''')
>>> matrices = check_matrices(dem)
>>> matrices.check_matrix.toarray()
array([[1, 1, 0],
       [0, 1, 1]], dtype=uint8)
>>> graph = matching_graph(dem)
>>> graph.edge_endpoints.tolist()  # the boundary is node 2 = num_detectors
[[0, 2], [0, 1], [1, 2]]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import scipy.sparse
import sinter
import stim

from qec.errors import QecInputError

SMALLEST_PROBABILITY = 1e-300


def log_likelihood_weights(probabilities: np.ndarray) -> np.ndarray:
    """float64, the shape of `probabilities`: each error's weight log((1 - p) / p), the decoders' one definition.

    p is clipped to [SMALLEST_PROBABILITY, 1/2] first: an error of probability 0 gets a large finite
    weight (about 690) instead of infinity, and one of p >= 1/2 weight 0, never a negative weight
    (decoders split errors of p > 1/2 off with `split_likely_errors` before they weigh anything).

    >>> log_likelihood_weights(np.array([0.1, 0.5, 0.9, 0.0])).round(3).tolist()
    [2.197, 0.0, 0.0, 690.776]
    """
    clipped = np.clip(probabilities, SMALLEST_PROBABILITY, 0.5)
    return np.log1p(-clipped) - np.log(clipped)


def _xor(left: float, right: float) -> float:
    """The probability that exactly one of two independent events with these probabilities happens."""
    return left * (1 - right) + right * (1 - left)


def _error_components(dem: stim.DetectorErrorModel):
    """Yields (probability, [(detectors, observables), ...]) per error, one pair per `^`-separated part."""
    for instruction in dem.flattened():
        if instruction.type != "error":
            continue
        probability = instruction.args_copy()[0]
        components: list[tuple[list[int], list[int]]] = [([], [])]
        for target in instruction.targets_copy():
            if target.is_separator():
                components.append(([], []))
            elif target.is_relative_detector_id():
                components[-1][0].append(target.val)
            else:
                components[-1][1].append(target.val)
        yield probability, components


def _packed(index_sets: list[frozenset[int]], num_bits: int) -> np.ndarray:
    """uint8 (len(index_sets), ceil(num_bits / 8)): bit i of row r is set when i is in index_sets[r]; little-endian."""
    bits = np.zeros((len(index_sets), max(num_bits, 1)), dtype=np.uint8)
    for row, indices in enumerate(index_sets):
        bits[row, sorted(indices)] = 1
    return np.packbits(bits[:, :num_bits], axis=1, bitorder="little").reshape(len(index_sets), (num_bits + 7) // 8)


@dataclass(frozen=True)
class LikelyErrors:
    """A DEM whose errors of probability p > 1/2 are split into a flip that always happens and an error of 1 - p.

    Decoders assume p <= 1/2 (no detection event: no correction; an error that flips no detector is
    never predicted), and some refuse p > 1/2. An error of p > 1/2 happens exactly when the certain
    flip happens and an independent error of probability 1 - p does not; so decoding `dem` on the
    detection events with the certain flips' removed, then adding their observables, is exact.

    Attributes:
        dem: the detector error model with each error of p > 1/2 given probability 1 - p (the input
            DEM itself when it has none).
        detection_events: uint8 (ceil(num_detectors / 8),), the detectors the certain flips flip,
            bit-packed little-endian.
        observables: uint8 (ceil(num_observables / 8),), the observables they flip, bit-packed the same way.
    """

    dem: stim.DetectorErrorModel
    detection_events: np.ndarray
    observables: np.ndarray

    def removed_from(self, detection_events: np.ndarray) -> np.ndarray:
        """uint8 (shots, ceil(num_detectors / 8)) -> the same, without the certain flips' detection events."""
        return detection_events ^ self.detection_events if self.detection_events.any() else detection_events

    def added_to(self, predictions: np.ndarray) -> np.ndarray:
        """uint8 (shots, ceil(num_observables / 8)) predictions of `dem` -> those of the input DEM."""
        return predictions ^ self.observables if self.observables.any() else predictions

    def decode_with(self, decode_dem: Callable[[np.ndarray], np.ndarray], detection_events: np.ndarray) -> np.ndarray:
        """Predictions for the input DEM from `decode_dem`, a decoder of `dem`: removes, decodes, adds.

        Args:
            decode_dem: maps C-contiguous uint8 (shots, ceil(num_detectors / 8)) detection events of
                `dem` to uint8 (shots, ceil(num_observables / 8)) predictions, both bit-packed little-endian.
            detection_events: uint8 (shots, ceil(num_detectors / 8)) of the input DEM, packed the same way.

        Returns:
            uint8 (shots, ceil(num_observables / 8)), the input DEM's predicted observable flips.
        """
        return self.added_to(decode_dem(np.ascontiguousarray(self.removed_from(detection_events), dtype=np.uint8)))


def split_likely_errors(dem: stim.DetectorErrorModel) -> LikelyErrors:
    """Splits every error of probability > 1/2 into a certain flip and an error of 1 - p (see `LikelyErrors`).

    >>> likely = split_likely_errors(stim.DetectorErrorModel("error(0.75) D1 L0"))
    >>> str(likely.dem), likely.detection_events.tolist(), likely.observables.tolist()
    ('error(0.25) D1 L0', [2], [1])
    """
    flat = dem.flattened()
    detectors: set[int] = set()
    observables: set[int] = set()
    split = dem
    if any(instruction.type == "error" and instruction.args_copy()[0] > 0.5 for instruction in flat):
        split = stim.DetectorErrorModel()
        for instruction in flat:
            probability = instruction.args_copy()[0] if instruction.type == "error" else 0.0
            if probability <= 0.5:
                split.append(instruction)
                continue
            targets = instruction.targets_copy()
            for target in targets:
                if target.is_relative_detector_id():
                    detectors ^= {target.val}
                elif target.is_logical_observable_id():
                    observables ^= {target.val}
            split.append("error", 1 - probability, targets)
    return LikelyErrors(
        dem=split,
        detection_events=_packed([frozenset(detectors)], dem.num_detectors)[0],
        observables=_packed([frozenset(observables)], dem.num_observables)[0],
    )


@dataclass(frozen=True)
class CheckMatrices:
    """A DEM's independent error mechanisms as columns.

    Attributes:
        check_matrix: uint8 CSC (num_detectors, num_errors); 1 where the error flips the detector.
        observables_matrix: uint8 CSC (num_observables, num_errors); 1 where it flips the observable.
        priors: float64 (num_errors,), each error's probability.
        packed_observables: uint8 (num_errors, ceil(num_observables / 8)), the observables each error
            flips, bit-packed little-endian like stim's predictions.
    """

    check_matrix: scipy.sparse.csc_matrix
    observables_matrix: scipy.sparse.csc_matrix
    priors: np.ndarray
    packed_observables: np.ndarray


def error_symptoms(dem: stim.DetectorErrorModel) -> Iterator[tuple[float, tuple[frozenset[int], frozenset[int]]]]:
    """(probability, (detectors, observables)) per error instruction of the flattened DEM, its `^`-separated parts'
    symptoms xor-ed: the key of its column in `check_matrices` (columns in order of first appearance; none where both
    are empty).

    >>> [key for _, key in error_symptoms(stim.DetectorErrorModel("error(0.1) D0 D1 ^ D1 L0"))]
    [(frozenset({0}), frozenset({0}))]
    """
    for probability, components in _error_components(dem):
        detectors: set[int] = set()
        observables: set[int] = set()
        for component_detectors, component_observables in components:
            detectors.symmetric_difference_update(component_detectors)
            observables.symmetric_difference_update(component_observables)
        yield probability, (frozenset(detectors), frozenset(observables))


def check_matrices(dem: stim.DetectorErrorModel) -> CheckMatrices:
    """The DEM's check and observable matrices, one column per distinct (detectors, observables) symptom.

    Hyperedges stay whole: a decomposed error (`D0 D1 ^ D2`) is one column flipping all its detectors.
    Errors with the same symptom are merged into one column with the probability that an odd number
    of them happen. Errors that flip nothing are dropped.
    """
    merged: dict[tuple[frozenset[int], frozenset[int]], float] = {}
    for probability, key in error_symptoms(dem):
        if key[0] or key[1]:
            merged[key] = _xor(merged.get(key, 0.0), probability)
    keys = list(merged)
    priors = np.array([merged[key] for key in keys], dtype=np.float64)

    def matrix(rows_of: int, height: int) -> scipy.sparse.csc_matrix:
        indptr = np.cumsum([0] + [len(key[rows_of]) for key in keys])
        indices = np.array([row for key in keys for row in sorted(key[rows_of])], dtype=np.int64)
        data = np.ones(len(indices), dtype=np.uint8)
        return scipy.sparse.csc_matrix((data, indices, indptr), shape=(height, len(keys)))

    return CheckMatrices(
        check_matrix=matrix(0, dem.num_detectors),
        observables_matrix=matrix(1, dem.num_observables),
        priors=priors,
        packed_observables=_packed([key[1] for key in keys], dem.num_observables),
    )


@dataclass(frozen=True)
class TannerGraph:
    """A check matrix's Tanner graph as the message lists of belief propagation (BP, BP+OSD, Relay-BP).

    Messages (edges) are numbered column by column (CSC order), so they are sorted by variable.

    Attributes:
        check_offsets: int64 (num_checks + 1,), CSR offsets into `check_messages`.
        check_messages: int64 (num_messages,), the messages of each check.
        check_variables: int64 (num_messages,), the variable of each of `check_messages`.
        message_variables: int64 (num_messages,), the variable (column) of each message.
        variable_offsets: int64 (num_variables + 1,), variable j's messages are
            variable_offsets[j] .. variable_offsets[j + 1] - 1.
        message_checks: int64 (num_messages,), the check (row) of each message.
    """

    check_offsets: np.ndarray
    check_messages: np.ndarray
    check_variables: np.ndarray
    message_variables: np.ndarray
    variable_offsets: np.ndarray
    message_checks: np.ndarray


def tanner_graph(check_matrix: scipy.sparse.spmatrix) -> TannerGraph:
    """The message lists of a (num_checks, num_variables) 0/1 check matrix.

    >>> graph = tanner_graph(scipy.sparse.csc_matrix(np.array([[1, 1, 0], [0, 1, 1]], dtype=np.uint8)))
    >>> graph.check_offsets.tolist(), graph.check_messages.tolist(), graph.check_variables.tolist()
    ([0, 2, 4], [0, 1, 2, 3], [0, 1, 1, 2])
    """
    check = scipy.sparse.csc_matrix(check_matrix)
    check.sort_indices()
    num_checks, num_variables = check.shape
    message_checks = check.indices.astype(np.int64)
    message_variables = np.repeat(np.arange(num_variables, dtype=np.int64), np.diff(check.indptr))
    check_messages = np.argsort(message_checks, kind="stable").astype(np.int64)
    return TannerGraph(
        check_offsets=np.concatenate([[0], np.cumsum(np.bincount(message_checks, minlength=num_checks))]).astype(
            np.int64
        ),
        check_messages=check_messages,
        check_variables=message_variables[check_messages],
        message_variables=message_variables,
        variable_offsets=check.indptr.astype(np.int64),
        message_checks=message_checks,
    )


def _graphlike_components(dem: stim.DetectorErrorModel):
    """Yields (probability, detectors, observables) per `^`-separated component; QecInputError for hyperedges."""
    for probability, components in _error_components(dem):
        for detectors, observables in components:
            if len(detectors) > 2:
                raise QecInputError(
                    f"the detector error model is not graphlike: an error flips the {len(detectors)} detectors "
                    f"{detectors} and matching graphs allow 1 or 2; decompose it with "
                    "circuit.detector_error_model(decompose_errors=True) or use the 'bposd' decoder"
                )
            yield probability, detectors, observables


def decoding_dem(circuit: stim.Circuit) -> stim.DetectorErrorModel:
    """The DEM a circuit's shots are decoded with: hyperedges decomposed into graphlike parts where Stim can
    (the rest kept whole, for decoders that take hyperedges). Its basis tags are the circuit's: a foreign
    circuit gets inferred ones where it comes in (`qec.decoders.basis_inference.with_inferred_bases`, called by
    `qec collect --circuits` and `qec decode`), so that the task's circuit says what is decoded. Heralded errors
    (`HERALDED_ERASE`, `HERALDED_PAULI_CHANNEL_1`) are analysed as disjoint errors, which they are. Where Stim
    cannot decompose at all (an error case with more than 15 symptoms: a hook before a transversal CNOT of a
    code with many logicals flips many observables in both blocks) the DEM is left undecomposed."""
    try:
        return circuit.detector_error_model(
            decompose_errors=True, ignore_decomposition_failures=True, approximate_disjoint_errors=True
        )
    except ValueError as error:
        if "max supported number of symptoms" not in str(error):
            raise
        return circuit.detector_error_model(approximate_disjoint_errors=True)


class GraphlikeDecoder(sinter.Decoder):
    """A decoder that needs a graphlike DEM: `check_circuit` refuses a circuit whose decoding DEM is not, before
    any shot is sampled (the engine calls it at the door)."""

    def check_circuit(self, circuit: stim.Circuit) -> None:
        require_graphlike(decoding_dem(circuit))


def require_graphlike(dem: stim.DetectorErrorModel) -> None:
    """Raises QecInputError, naming the 'bposd' decoder, if an error (component) flips more than two detectors."""
    for _ in _graphlike_components(dem):
        pass


@dataclass(frozen=True)
class MatchingGraph:
    """A graphlike DEM's matching graph; node `num_detectors` is the boundary.

    Attributes:
        num_detectors: the DEM's detector count; nodes are 0..num_detectors, the last is the boundary.
        edge_endpoints: int32 (num_edges, 2), the two nodes of each edge (boundary edges end at the boundary).
        edge_probabilities: float64 (num_edges,), probability that the edge's error happens.
        edge_observables: uint8 (num_edges, ceil(num_observables / 8)), bit-packed little-endian.
        node_edge_offsets: int32 (num_detectors + 2,), CSR offsets into `node_edges` per node.
        node_edges: int32 (2 * num_edges,), the edges at each node.
        node_neighbors: int32 (2 * num_edges,), the node at the other end of each of `node_edges`.
    """

    num_detectors: int
    edge_endpoints: np.ndarray
    edge_probabilities: np.ndarray
    edge_observables: np.ndarray
    node_edge_offsets: np.ndarray
    node_edges: np.ndarray
    node_neighbors: np.ndarray


def matching_graph(dem: stim.DetectorErrorModel) -> MatchingGraph:
    """The DEM's matching graph, every `^`-separated component an edge, as PyMatching builds it.

    Parallel edges are merged (probability of an odd number of them; the first one's observables),
    components that flip no detector are dropped. Raises QecInputError for a component with more than
    two detectors, naming the decoder that accepts hyperedges.
    """
    boundary = dem.num_detectors
    edges: dict[tuple[int, int], list] = {}
    for probability, detectors, observables in _graphlike_components(dem):
        if detectors:
            key = (min(detectors), max(detectors)) if len(detectors) == 2 else (detectors[0], boundary)
            if key in edges:
                edges[key][0] = _xor(edges[key][0], probability)
            else:
                edges[key] = [probability, frozenset(observables)]
    endpoints = np.array(list(edges), dtype=np.int32).reshape(len(edges), 2)
    order = np.argsort(endpoints.ravel(), kind="stable")  # half-edge 2e + side, grouped by node
    counts = np.bincount(endpoints.ravel(), minlength=boundary + 1)
    return MatchingGraph(
        num_detectors=boundary,
        edge_endpoints=endpoints,
        edge_probabilities=np.array([value[0] for value in edges.values()], dtype=np.float64),
        edge_observables=_packed([value[1] for value in edges.values()], dem.num_observables),
        node_edge_offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int32),
        node_edges=(order // 2).astype(np.int32),
        node_neighbors=endpoints.ravel()[order ^ 1].astype(np.int32),
    )
