"""Minimum-weight perfect matching with PyMatching, as a `sinter.Decoder`.

>>> import stim
>>> from qec.decoders.matching import PyMatchingDecoder
>>> circuit = stim.Circuit.generated("repetition_code:memory", distance=3, rounds=2,
...                                  before_round_data_depolarization=0.01)
>>> dem = circuit.detector_error_model(decompose_errors=True)
>>> compiled = PyMatchingDecoder().compile_decoder_for_dem(dem=dem)
"""

from __future__ import annotations

import numpy as np
import pymatching
import sinter
import stim

from qec.errors import QecInputError


def matching_graph(dem: stim.DetectorErrorModel) -> pymatching.Matching:
    """PyMatching's graph for a graphlike (decomposed) DEM; a clear error for hyperedges."""
    try:
        return pymatching.Matching.from_detector_error_model(dem)
    except ValueError as error:
        raise QecInputError(
            f"the detector error model is not graphlike, so matching cannot decode it ({error}); "
            "decompose it with circuit.detector_error_model(decompose_errors=True) or use the 'bposd' decoder"
        ) from None


class PyMatchingCompiledDecoder(sinter.CompiledDecoder):
    """Decodes bit-packed shots with one `Matching.decode_batch` call."""

    def __init__(self, matching: pymatching.Matching):
        self.matching = matching

    def decode_shots_bit_packed(self, *, bit_packed_detection_event_data: np.ndarray) -> np.ndarray:
        """Args: uint8 (shots, ceil(detectors / 8)), little-endian bits. Returns uint8 (shots, ceil(observables / 8))."""
        return self.matching.decode_batch(
            bit_packed_detection_event_data,
            bit_packed_shots=True,
            bit_packed_predictions=True,
        )


class PyMatchingDecoder(sinter.Decoder):
    """MWPM (PyMatching 2, sparse blossom) on the DEM's matching graph."""

    def compile_decoder_for_dem(self, *, dem: stim.DetectorErrorModel) -> sinter.CompiledDecoder:
        return PyMatchingCompiledDecoder(matching_graph(dem))
