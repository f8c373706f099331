"""Minimum-weight perfect matching with PyMatching, as a `sinter.Decoder`.

>>> import stim
>>> from qec.decoders.matching import PyMatchingDecoder
>>> circuit = stim.Circuit.generated("repetition_code:memory", distance=3, rounds=2,
...                                  before_round_data_depolarization=0.01)
>>> dem = circuit.detector_error_model(decompose_errors=True)
>>> compiled = PyMatchingDecoder().compile_decoder_for_dem(dem=dem)
"""

from __future__ import annotations

import inspect

import numpy as np
import pymatching
import sinter
import stim

from qec.decoders.dem_arrays import GraphlikeDecoder, require_graphlike, split_likely_errors

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


class PyMatchingDecoder(GraphlikeDecoder):
    """MWPM (PyMatching 2, sparse blossom) on the DEM's matching graph."""

    def compile_decoder_for_dem(self, *, dem: stim.DetectorErrorModel) -> sinter.CompiledDecoder:
        return PyMatchingCompiledDecoder(dem)


class CorrelatedPyMatchingDecoder(GraphlikeDecoder):
    """PyMatching's correlated matching (two passes; Fowler, arXiv:1310.0863): the first pass's
    matched edges reweight the edges that share a decomposed hyperedge with them, the second pass
    matches again. Needs a DEM decomposed with `decompose_errors=True`."""

    def compile_decoder_for_dem(self, *, dem: stim.DetectorErrorModel) -> sinter.CompiledDecoder:
        return PyMatchingCompiledDecoder(dem, correlated=True)
