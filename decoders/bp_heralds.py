"""Per-shot priors for the BP decoders (`bp`, `bposd`, `relay`) from a heralded DEM's fired heralds.

`HeraldedPriors.of(dem)` builds, once per DEM, the columns over the non-herald detectors
(`heralds.heralded_columns`) and two weight vectors: the static one, each unheralded column's
log((1 - p) / p) and every heralded column `EXCLUDED_WEIGHT` (absent: its herald did not fire), and the heralded
one, each heralded column's log((1 - p) / p) of its probability given the herald (above 1/2 kept: a negative
weight, an error the herald makes likely; p = 1 clipped to 1 - 2^-53, weight -36.7). The kernels take
`kernel_arrays(fired)` and set each shot's weights from its fired heralds' columns (`bp_kernels.set_shot_priors`).

>>> import stim
>>> dem = stim.DetectorErrorModel('''
...     error(0.01) D0 D1
...     error(0.05) D2
...     error(0.05) D0 D2 L0
...     detector[herald] D2
... ''')
>>> priors = HeraldedPriors.of(dem)
>>> priors.weights.round(2).tolist(), priors.heralded_weights.round(2).tolist()
([4.6, 690.78], [4.6, 0.0])
>>> HeraldedPriors.of(stim.DetectorErrorModel("error(0.1) D0")) is None
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import stim

from qec.decoders.bp_kernels import EXCLUDED_WEIGHT
from qec.decoders.dem_arrays import SMALLEST_PROBABILITY, CheckMatrices, log_likelihood_weights
from qec.decoders.heralds import Heralds, has_heralds, heralded_columns

LARGEST_PROBABILITY = 1 - 2.0**-53  # a certain error given its herald: weight log(2^-53) = -36.7


@dataclass(frozen=True)
class HeraldedPriors:
    """A heralded DEM's columns and weights for per-shot priors.

    Attributes:
        heralds: the DEM's heralds (`Heralds`: `split` gives a batch's decoded events and fired heralds).
        check_matrices: the columns over the non-herald detectors (`heralded_columns`).
        weights: float64 (num_columns,), the static weights: unheralded columns log((1 - p) / p) as
            `log_likelihood_weights` gives it, heralded ones EXCLUDED_WEIGHT.
        heralded_weights: float64 (num_columns,), each heralded column's weight given its herald (the static one
            for the others).
        herald_offsets: int64 (num_heralds + 1,), CSR offsets into `herald_columns`, the columns of each herald.
        herald_columns: int64.
    """

    heralds: Heralds
    check_matrices: CheckMatrices
    weights: np.ndarray
    heralded_weights: np.ndarray
    herald_offsets: np.ndarray
    herald_columns: np.ndarray

    @staticmethod
    def of(dem: stim.DetectorErrorModel) -> HeraldedPriors | None:
        """The priors of a DEM with heralds (`heralds.has_heralds`); None for one without."""
        if not has_heralds(dem):
            return None
        columns = heralded_columns(dem)
        priors = columns.check_matrices.priors
        heralded = columns.column_heralds >= 0
        weights = log_likelihood_weights(priors)
        given = np.clip(priors, SMALLEST_PROBABILITY, LARGEST_PROBABILITY)
        heralded_weights = np.where(heralded, np.log1p(-given) - np.log(given), weights)
        weights[heralded] = EXCLUDED_WEIGHT
        return HeraldedPriors(
            heralds=columns.heralds,
            check_matrices=columns.check_matrices,
            weights=weights,
            heralded_weights=heralded_weights,
            herald_offsets=np.ascontiguousarray(columns.herald_offsets, dtype=np.int64),
            herald_columns=np.ascontiguousarray(columns.herald_columns, dtype=np.int64),
        )

    def kernel_arrays(self, fired: np.ndarray) -> tuple:
        """The kernels' `heralds` argument for a batch: (fired, herald_offsets, herald_columns, heralded_weights,
        static weights); `fired` uint8 (shots, ceil(num_heralds / 8)), bit-packed little-endian (`Heralds.split`)."""
        return (
            np.ascontiguousarray(fired, dtype=np.uint8),
            self.herald_offsets,
            self.herald_columns,
            self.heralded_weights,
            self.weights,
        )
