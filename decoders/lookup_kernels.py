"""Numba kernels of the lookup decoder: the most likely error per syndrome, and table look-ups by batch.

>>> import numpy as np
>>> from qec.decoders.lookup_kernels import most_likely_table
>>> # two errors on one detector: the likelier one (p = 0.2, flips observable 0) explains syndrome 1
>>> log_odds, observables = most_likely_table(np.array([1, 1], dtype=np.int64), np.array([0, 1], dtype=np.uint64),
...                                           np.log([0.1 / 0.9, 0.2 / 0.8]), 1)
>>> observables.tolist()
[0, 1]
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def most_likely_table(
    detector_masks: np.ndarray, observable_masks: np.ndarray, log_odds: np.ndarray, num_detectors: int
) -> tuple[np.ndarray, np.ndarray]:
    """For every syndrome, the most likely set of errors causing it, by dynamic programming over errors.

    Adding error j maps the best explanation of syndrome s ^ mask_j to one of s; each error is taken
    or not once, so after all errors entry s is the maximum over all error sets with syndrome s.

    Args:
        detector_masks: int64 (num_errors,), bit d set when the error flips detector d.
        observable_masks: uint64 (num_errors,), bit k set when the error flips observable k.
        log_odds: float64 (num_errors,), log(p / (1 - p)) of each error.
        num_detectors: the table has 2**num_detectors entries.

    Returns:
        (log_odds, observables): float64 and uint64 (2**num_detectors,). log_odds[s] is the log of
        P(best error set) / P(no error), -inf for syndromes no error set causes; observables[s] are the
        observables it flips. Ties keep the set found first (fewer errors of later index).
    """
    size = 1 << num_detectors
    best = np.full(size, -np.inf)
    observables = np.zeros(size, dtype=np.uint64)
    best[0] = 0.0
    for error in range(detector_masks.shape[0]):
        mask = detector_masks[error]
        gain = log_odds[error]
        flip = observable_masks[error]
        if mask == 0:
            continue
        pivot = mask & -mask  # pairs each syndrome without this bit with its partner s ^ mask
        for syndrome in range(size):
            if syndrome & pivot:
                continue
            partner = syndrome ^ mask
            keep_low, keep_high = best[syndrome], best[partner]
            from_high, from_low = keep_high + gain, keep_low + gain
            low_observables, high_observables = observables[syndrome], observables[partner]
            if from_high > keep_low:
                best[syndrome] = from_high
                observables[syndrome] = high_observables ^ flip
            if from_low > keep_high:
                best[partner] = from_low
                observables[partner] = low_observables ^ flip
    return best, observables


@numba.njit(cache=True)
def decode_batch(detection_events: np.ndarray, table_observables: np.ndarray, observable_bytes: int) -> np.ndarray:
    """Looks every shot's syndrome up in the table.

    Args:
        detection_events: uint8 (shots, ceil(num_detectors / 8)), bit-packed little-endian.
        table_observables: uint64 (2**num_detectors,), the observables to flip for each syndrome.
        observable_bytes: ceil(num_observables / 8).

    Returns:
        uint8 (shots, observable_bytes), bit-packed little-endian.
    """
    shots = detection_events.shape[0]
    predictions = np.zeros((shots, observable_bytes), dtype=np.uint8)
    for shot in range(shots):
        syndrome = np.int64(0)
        for byte_index in range(detection_events.shape[1]):
            syndrome |= np.int64(detection_events[shot, byte_index]) << (8 * byte_index)
        flips = table_observables[syndrome]
        for byte_index in range(observable_bytes):
            predictions[shot, byte_index] = (flips >> np.uint64(8 * byte_index)) & np.uint64(0xFF)
    return predictions
