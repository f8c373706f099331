"""Minimum-weight perfect matching with PyMatching, as a `sinter.Decoder`.

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

from qec.decoders.dem_arrays import GraphlikeDecoder, decoding_dem, require_graphlike, split_likely_errors
from qec.decoders.matching_gap import MatchingGap

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


class PyMatchingDecoder(GraphlikeDecoder):
    """MWPM (PyMatching 2, sparse blossom) on the DEM's matching graph; its compiled decoders give gaps
    (`decode_shots_with_gap`, the complementary gap)."""

    decodes_with_gap = True

    def compile_decoder_for_dem(self, *, dem: stim.DetectorErrorModel) -> sinter.CompiledDecoder:
        return PyMatchingGapCompiledDecoder(dem)

    def check_gap_circuit(self, circuit: stim.Circuit) -> None:
        """Refuses (QecInputError) a circuit whose observables are no cuts of its matching graph, before any shot
        is sampled with a gap."""
        MatchingGap(split_likely_errors(decoding_dem(circuit)).dem)


class CorrelatedPyMatchingDecoder(GraphlikeDecoder):
    """PyMatching's correlated matching (two passes; Fowler, arXiv:1310.0863): the first pass's
    matched edges reweight the edges that share a decomposed hyperedge with them, the second pass
    matches again. Needs a DEM decomposed with `decompose_errors=True`."""

    def compile_decoder_for_dem(self, *, dem: stim.DetectorErrorModel) -> sinter.CompiledDecoder:
        return PyMatchingCompiledDecoder(dem, correlated=True)
