"""Minimum-weight perfect matching with PyMatching, as a `sinter.Decoder`.

**Heralds** (`PyMatchingDecoder(heralds=True)`, the default, on a DEM with heralds: `qec.decoders.heralds`):
matching over the non-herald detectors with each shot's edge weights from its fired heralds
(`HeraldedPyMatchingCompiledDecoder`). PyMatching has no per-shot weights, so shots with no fired herald are
decoded in one `decode_batch` on the static graph, and each other shot alone, after re-weighting its fired
heralds' edges (and before setting them back). `pymatching-correlated` decodes heralds as ordinary detectors.

>>> import stim
>>> from qec.decoders.matching import PyMatchingDecoder
>>> circuit = stim.Circuit.generated("repetition_code:memory", distance=3, rounds=2,
...                                  before_round_data_depolarization=0.01)
>>> dem = circuit.detector_error_model(decompose_errors=True)
>>> compiled = PyMatchingDecoder().compile_decoder_for_dem(dem=dem)
>>> events = circuit.compile_detector_sampler(seed=1).sample(100, bit_packed=True)
>>> predictions, gaps = compiled.decode_shots_with_gap(bit_packed_detection_event_data=events)
>>> predictions.shape, gaps.dtype.name
((100, 1), 'float64')
"""

from __future__ import annotations

import inspect

import numpy as np
import pymatching
import sinter
import stim

from qec.decoders.dem_arrays import (
    GraphlikeDecoder,
    decoding_dem,
    log_likelihood_weights,
    require_graphlike,
    split_likely_errors,
)
from qec.decoders.heralds import has_heralds, heralded_graph
from qec.decoders.matching_gap import MatchingGap
from qec.errors import QecInputError

# Correlated matching (`enable_correlations`) exists in recent PyMatching versions only.
SUPPORTS_CORRELATIONS = (
    "enable_correlations" in inspect.signature(pymatching.Matching.from_detector_error_model).parameters
)


class PyMatchingCompiledDecoder(sinter.CompiledDecoder):
    """PyMatching's graph for a graphlike (decomposed) DEM; one `Matching.decode_batch` call per batch.

    PyMatching itself would silently drop undecomposed hyperedges; we refuse them instead
    (QecInputError naming 'bposd'). Errors of probability > 1/2 are split off first
    (`split_likely_errors`): PyMatching takes none with `correlated`, and none of probability 1 at all.
    With `correlated`, the graph also keeps how decomposed hyperedges split, and decoding is two-pass.
    """

    def __init__(self, dem: stim.DetectorErrorModel, *, correlated: bool = False):
        require_graphlike(dem)
        self.likely_errors = split_likely_errors(dem)
        self.matching = pymatching.Matching.from_detector_error_model(
            self.likely_errors.dem, enable_correlations=correlated
        )
        self.correlated = correlated

    def decode_shots_bit_packed(self, *, bit_packed_detection_event_data: np.ndarray) -> np.ndarray:
        """uint8 (shots, ceil(detectors / 8)) -> uint8 (shots, ceil(observables / 8)), bit-packed little-endian."""
        return self.likely_errors.decode_with(self._decode_batch, bit_packed_detection_event_data)

    def _decode_batch(self, detection_events: np.ndarray) -> np.ndarray:
        """PyMatching on detection events of `likely_errors.dem` (C-contiguous uint8, packed as above)."""
        return self.matching.decode_batch(
            detection_events, bit_packed_shots=True, bit_packed_predictions=True, enable_correlations=self.correlated
        )


class PyMatchingGapCompiledDecoder(PyMatchingCompiledDecoder):
    """`PyMatchingCompiledDecoder` that also gives each shot's complementary gap (`decode_shots_with_gap`); the
    graph with the observables as cuts (`MatchingGap`) is built on the first such call, so plain decoding costs
    nothing more."""

    def __init__(self, dem: stim.DetectorErrorModel):
        super().__init__(dem)
        self._gap: MatchingGap | None = None

    def decode_shots_with_gap(self, *, bit_packed_detection_event_data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """uint8 (shots, ceil(detectors / 8)) -> (uint8 (shots, ceil(observables / 8)) predictions, bit-packed
        little-endian as `decode_shots_bit_packed`'s; float64 (shots,) gaps in dB): the lightest logical class
        and how much lighter it is than the next (`qec.decoders.matching_gap`). QecInputError for a DEM whose
        observables are no cuts of its matching graph."""
        if self._gap is None:
            self._gap = MatchingGap(self.likely_errors.dem)
        events = np.ascontiguousarray(self.likely_errors.removed_from(bit_packed_detection_event_data), dtype=np.uint8)
        predictions, gaps = self._gap.decode(events)
        return self.likely_errors.added_to(predictions), gaps


class HeraldedPyMatchingCompiledDecoder(sinter.CompiledDecoder):
    """PyMatching on a heralded DEM's non-herald detectors, with each shot's edge weights from its fired heralds.

    The graph is `heralded_graph`'s with parallel edges merged: one PyMatching edge per pair of nodes, statically
    the pair's unheralded edge (probability p_static); a pair with heralded edges only is in the graph with the
    weight of p = 0, log((1 - p) / p) = 690.8, so that it is never used and the graph's shape never changes. In a
    shot whose heralds fired, a pair's probability is the xor-combination (an odd number of them happening) of
    p_static and its fired edges' probabilities given their herald, and its weight log((1 - p) / p), 0 where
    p >= 1/2 (an erased edge). Parallel edges that flip other observables are not combined: the pair takes the
    likeliest observables class (its edges xor-combined), as matching would choose the lightest of parallel edges.

    Cost: shots with no fired herald cost what plain PyMatching does (one `decode_batch`). Each other shot costs
    its fired pairs' `add_edge(..., merge_strategy="replace")` calls twice (set and set back), a few tens of us of
    Python, and one decode after PyMatching rebuilds its search graph, which it does after any change of the graph:
    O(the graph's edges) per such shot. Measured (`bench/bench_heralds.py`, 10,000 shots, median of 3, on a shared
    2-core AMD EPYC; erasure noise, nearly every shot heralded): 0.45-0.8 ms per shot on the surface code at d=5,
    5 rounds (p=0.01) and 1.4-1.7 ms at d=7, 7 rounds (p=0.005), against 10-26 us for herald-blind PyMatching:
    50-80x slower. Herald-aware `uf` does the same work inside its kernel at 0.8-4x blind PyMatching's speed.
    """

    def __init__(self, dem: stim.DetectorErrorModel):
        self.likely_errors = split_likely_errors(dem)
        heralded = heralded_graph(self.likely_errors.dem)
        self.heralds = heralded.heralds
        graph = heralded.graph
        self.num_observables = dem.num_observables
        self.boundary = num_kept = graph.num_detectors
        self.herald_offsets = heralded.herald_offsets
        self.herald_edges = heralded.herald_edges
        pairs, edge_pairs = np.unique(graph.edge_endpoints.reshape(-1, 2), axis=0, return_inverse=True)
        self.pairs = [(int(a), int(b)) for a, b in pairs]
        self.edge_pairs = edge_pairs.reshape(-1).tolist()
        bits = np.unpackbits(graph.edge_observables, axis=1, bitorder="little")[:, : dem.num_observables]
        self.edge_observables = [frozenset(np.flatnonzero(row).tolist()) for row in bits]
        self.edge_probabilities = graph.edge_probabilities.tolist()
        # Each pair's static edge (its unheralded one; heralded_graph merged those), or the first edge's observables.
        self.static_probabilities = [0.0] * len(pairs)
        self.pair_observables: list[frozenset[int]] = [frozenset()] * len(pairs)
        for edge in reversed(range(len(self.edge_pairs))):
            self.pair_observables[self.edge_pairs[edge]] = self.edge_observables[edge]
        for edge in np.flatnonzero(heralded.edge_heralds < 0).tolist():
            self.static_probabilities[self.edge_pairs[edge]] = self.edge_probabilities[edge]
            self.pair_observables[self.edge_pairs[edge]] = self.edge_observables[edge]
        static_dem = stim.DetectorErrorModel()
        for pair, probability in enumerate(self.static_probabilities):
            if probability > 0:
                targets = [stim.target_relative_detector_id(node) for node in self.pairs[pair] if node != num_kept]
                targets += [stim.target_logical_observable_id(o) for o in sorted(self.pair_observables[pair])]
                static_dem.append("error", probability, targets)
        if num_kept:
            static_dem.append("detector", [], [stim.target_relative_detector_id(num_kept - 1)])
        if dem.num_observables:
            static_dem.append("logical_observable", [], [stim.target_logical_observable_id(dem.num_observables - 1)])
        self.matching = pymatching.Matching.from_detector_error_model(static_dem)
        absent = float(log_likelihood_weights(np.zeros(1))[0])
        self.static_weights = [absent] * len(pairs)
        for pair, probability in enumerate(self.static_probabilities):
            if probability > 0:  # PyMatching's own weight, to set back bit for bit
                a, b = self.pairs[pair]
                data = self.matching.get_boundary_edge_data(a) if b == num_kept else self.matching.get_edge_data(a, b)
                self.static_weights[pair] = data["weight"]
            else:
                self._set(pair, absent, 0.0, self.pair_observables[pair])

    def _set(self, pair: int, weight: float, probability: float, observables: frozenset[int]) -> None:
        a, b = self.pairs[pair]
        if b == self.boundary:
            self.matching.add_boundary_edge(
                a, fault_ids=set(observables), weight=weight, error_probability=probability, merge_strategy="replace"
            )
        else:
            self.matching.add_edge(
                a,
                b,
                fault_ids=set(observables),
                weight=weight,
                error_probability=probability,
                merge_strategy="replace",
            )

    def decode_shots_bit_packed(self, *, bit_packed_detection_event_data: np.ndarray) -> np.ndarray:
        """uint8 (shots, ceil(detectors / 8)) -> uint8 (shots, ceil(observables / 8)), bit-packed little-endian."""
        return self.likely_errors.decode_with(self._decode_batch, bit_packed_detection_event_data)

    def _decode_batch(self, detection_events: np.ndarray) -> np.ndarray:
        """Splits off the heralds; decodes the shots with none fired in one batch, the others one by one."""
        events, fired = self.heralds.split(detection_events)
        predictions = np.zeros((len(events), (self.num_observables + 7) // 8), dtype=np.uint8)
        if events.shape[1] == 0 or predictions.shape[1] == 0:
            return predictions  # nothing to match, or nothing to predict
        heralded = fired.any(axis=1)
        quiet = np.flatnonzero(~heralded & events.any(axis=1))
        if len(quiet):
            predictions[quiet] = self._decode(events[quiet])
        fired_bits = np.unpackbits(fired[heralded], axis=1, count=self.heralds.num_heralds, bitorder="little")
        for shot, bits in zip(np.flatnonzero(heralded), fired_bits):
            if events[shot].any():
                predictions[shot] = self._decode_heralded(events[shot : shot + 1], np.flatnonzero(bits).tolist())[0]
        return predictions

    def _decode(self, events: np.ndarray) -> np.ndarray:
        return self.matching.decode_batch(events, bit_packed_shots=True, bit_packed_predictions=True)

    def _decode_heralded(self, events: np.ndarray, heralds: list[int]) -> np.ndarray:
        """One shot (uint8 (1, bytes)) with these heralds fired: its pairs re-weighted, decoded, set back."""
        classes: dict[int, dict[frozenset[int], float]] = {}  # pair -> observables -> product of (1 - 2p)
        for herald in heralds:
            for edge in self.herald_edges[self.herald_offsets[herald] : self.herald_offsets[herald + 1]].tolist():
                pair = self.edge_pairs[edge]
                flips = classes.get(pair)
                if flips is None:
                    flips = classes[pair] = {self.pair_observables[pair]: 1 - 2 * self.static_probabilities[pair]}
                observables = self.edge_observables[edge]
                flips[observables] = flips.get(observables, 1.0) * (1 - 2 * self.edge_probabilities[edge])
        for pair, flips in classes.items():
            observables, flip = min(flips.items(), key=lambda item: item[1])  # the likeliest class
            probability = min(max((1 - flip) / 2, 0.0), 1.0)
            self._set(pair, float(log_likelihood_weights(np.array([probability]))[0]), probability, observables)
        try:
            return self._decode(events)
        finally:
            for pair in classes:
                self._set(pair, self.static_weights[pair], self.static_probabilities[pair], self.pair_observables[pair])


class PyMatchingDecoder(GraphlikeDecoder):
    """MWPM (PyMatching 2, sparse blossom) on the DEM's matching graph; its compiled decoders give gaps
    (`decode_shots_with_gap`, the complementary gap), except with heralds.

    Args:
        heralds: on a DEM with heralds (`qec.decoders.heralds`), match its other detectors with each shot's
            weights from its fired heralds (`HeraldedPyMatchingCompiledDecoder`: shots with fired heralds cost a
            graph rebuild each); False decodes the heralds as ordinary detectors, as before.
    """

    decodes_with_gap = True

    def __init__(self, *, heralds: bool = True):
        if not isinstance(heralds, bool):
            raise QecInputError(f"heralds must be true or false, got {heralds!r}")
        self.heralds = heralds

    def compile_decoder_for_dem(self, *, dem: stim.DetectorErrorModel) -> sinter.CompiledDecoder:
        if self.heralds and has_heralds(dem):
            return HeraldedPyMatchingCompiledDecoder(dem)
        return PyMatchingGapCompiledDecoder(dem)

    def check_circuit(self, circuit: stim.Circuit) -> None:
        """Refuses (QecInputError) a circuit whose decoding DEM is not graphlike (heralds taken out first, with
        `heralds`), before any shot is sampled."""
        dem = decoding_dem(circuit)
        if self.heralds and has_heralds(dem):
            heralded_graph(dem)
        else:
            require_graphlike(dem)

    def check_gap_circuit(self, circuit: stim.Circuit) -> None:
        """Refuses (QecInputError) a circuit whose observables are no cuts of its matching graph, or one with
        heralds decoded with them, before any shot is sampled with a gap."""
        dem = decoding_dem(circuit)
        if self.heralds and has_heralds(dem):
            raise QecInputError(
                "pymatching gives no gap with heralds: pass the decoder option heralds=false to decode the heralds "
                "as ordinary detectors with gaps"
            )
        MatchingGap(split_likely_errors(dem).dem)


class CorrelatedPyMatchingDecoder(GraphlikeDecoder):
    """PyMatching's correlated matching (two passes; Fowler, arXiv:1310.0863): the first pass's
    matched edges reweight the edges that share a decomposed hyperedge with them, the second pass
    matches again. Needs a DEM decomposed with `decompose_errors=True`.

    It decodes heralds as ordinary detectors (`heralds=False`, the only value): PyMatching's correlated
    matching takes no per-shot weights; `heralds=True` is refused, naming 'pymatching' and 'uf', which use them.
    """

    def __init__(self, *, heralds: bool = False):
        if heralds is not False:
            raise QecInputError(
                f"pymatching-correlated decodes heralds as ordinary detectors only (heralds=false), got heralds="
                f"{heralds!r}: use the 'pymatching' or 'uf' decoder to decode with heralds"
            )
        self.heralds = False

    def compile_decoder_for_dem(self, *, dem: stim.DetectorErrorModel) -> sinter.CompiledDecoder:
        return PyMatchingCompiledDecoder(dem, correlated=True)
