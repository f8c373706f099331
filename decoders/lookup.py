"""The lookup decoder: the most likely error for every syndrome of a small DEM, tabulated at compile time.

It is exact maximum-likelihood *error* decoding (what MWPM approximates on graphlike DEMs), and
handles hyperedges, so tests use it as ground truth. The table has 2**num_detectors entries, so DEMs
with more than `max_detectors` detectors are refused.

>>> import stim
>>> from qec.decoders.lookup import LookupDecoder
>>> circuit = stim.Circuit.generated("repetition_code:memory", distance=3, rounds=2,
...                                  before_round_data_depolarization=0.05)
>>> dem = circuit.detector_error_model()
>>> compiled = LookupDecoder().compile_decoder_for_dem(dem=dem)
>>> detection_events, observables = circuit.compile_detector_sampler(seed=2).sample(
...     100, separate_observables=True, bit_packed=True)
>>> compiled.decode_shots_bit_packed(bit_packed_detection_event_data=detection_events).shape
(100, 1)
"""

from __future__ import annotations

import numpy as np
import sinter
import stim

from qec.decoders.basis import circuit_basis, compile_basis_aware
from qec.decoders.dem_arrays import LikelyErrors, check_matrices, log_likelihood_weights, split_likely_errors
from qec.decoders.lookup_kernels import decode_batch, most_likely_table
from qec.errors import QecInputError

MAX_OBSERVABLES = 64


class LookupCompiledDecoder(sinter.CompiledDecoder):
    """A DEM's syndrome table, for `likely_errors.dem` (errors of probability > 1/2 split off).

    Attributes:
        table_log_odds: float64 (2**num_detectors,), log(P(most likely error) / P(no error)) per syndrome.
        table_observables: uint64 (2**num_detectors,), the observables that error flips (bit k = observable k).
    """

    def __init__(
        self,
        table_log_odds: np.ndarray,
        table_observables: np.ndarray,
        num_observables: int,
        likely_errors: LikelyErrors,
    ):
        self.table_log_odds = table_log_odds
        self.table_observables = table_observables
        self.num_observables = num_observables
        self.likely_errors = likely_errors

    def decode_shots_bit_packed(self, *, bit_packed_detection_event_data: np.ndarray) -> np.ndarray:
        """uint8 (shots, ceil(detectors / 8)) -> uint8 (shots, ceil(observables / 8)), bit-packed little-endian."""
        return self.likely_errors.decode_with(self._decode_batch, bit_packed_detection_event_data)

    def _decode_batch(self, detection_events: np.ndarray) -> np.ndarray:
        """The table look-up on detection events of `likely_errors.dem` (C-contiguous uint8, packed as above)."""
        return decode_batch(detection_events, self.table_observables, (self.num_observables + 7) // 8)


class LookupDecoder(sinter.Decoder):
    """Most-likely-error lookup table for DEMs of at most `max_detectors` detectors (and 64 observables).

    Compiling takes about num_errors * 2**num_detectors steps and 16 * 2**num_detectors bytes. With
    `basis_aware` (the default), a tagged CSS memory DEM is tabulated on its measured basis's detectors
    only (`qec.decoders.basis`), and the limit applies to those.
    """

    def __init__(self, *, max_detectors: int = 20, basis_aware: bool = True):
        self.max_detectors = max_detectors
        self.basis_aware = basis_aware

    def check_circuit(self, circuit: stim.Circuit) -> None:
        """Refuses a circuit with too many detectors or observables for a table, before any shot is sampled."""
        num_detectors = circuit.num_detectors
        if num_detectors > self.max_detectors and self.basis_aware:
            basis = circuit_basis(circuit)
            num_detectors = num_detectors if basis is None else basis[1]
        self._check_size(num_detectors, circuit.num_observables)

    def _check_size(self, num_detectors: int, num_observables: int, num_errors: int | None = None) -> None:
        if num_detectors > self.max_detectors:
            errors = "" if num_errors is None else f" and {num_errors} errors"
            raise QecInputError(
                f"the detector error model is too large for 'lookup': it has {num_detectors} detectors{errors}, and a "
                f"table of 2^{num_detectors} syndromes is allowed only up to {self.max_detectors} detectors "
                f"(2^{self.max_detectors}); use 'pymatching', 'uf' or 'bposd', or LookupDecoder(max_detectors=...) "
                "if the memory (16 bytes per syndrome) is there"
            )
        if num_observables > MAX_OBSERVABLES:
            raise QecInputError(
                f"'lookup' supports up to {MAX_OBSERVABLES} observables, the detector error model has "
                f"{num_observables}; use 'bposd'"
            )

    def compile_decoder_for_dem(self, *, dem: stim.DetectorErrorModel) -> sinter.CompiledDecoder:
        return compile_basis_aware(dem, self._compile_dem, basis_aware=self.basis_aware)

    def _compile_dem(self, dem: stim.DetectorErrorModel) -> sinter.CompiledDecoder:
        likely_errors = split_likely_errors(dem)
        matrices = check_matrices(likely_errors.dem)
        num_errors = len(matrices.priors)
        self._check_size(dem.num_detectors, dem.num_observables, num_errors)
        check = matrices.check_matrix
        observables_matrix = matrices.observables_matrix
        detector_masks = np.zeros(num_errors, dtype=np.int64)
        observable_masks = np.zeros(num_errors, dtype=np.uint64)
        for error in range(num_errors):
            for detector in check.indices[check.indptr[error] : check.indptr[error + 1]]:
                detector_masks[error] |= 1 << int(detector)
            start, stop = observables_matrix.indptr[error], observables_matrix.indptr[error + 1]
            for observable in observables_matrix.indices[start:stop]:
                observable_masks[error] |= np.uint64(1 << int(observable))
        # log(p / (1 - p)) = -weight: the table maximizes log-probability, where matching minimizes weight.
        log_odds, table_observables = most_likely_table(
            detector_masks, observable_masks, -log_likelihood_weights(matrices.priors), dem.num_detectors
        )
        return LookupCompiledDecoder(log_odds, table_observables, dem.num_observables, likely_errors)
