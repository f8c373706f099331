"""Decode a batch of shots and count the logical errors: the one place that compares predictions with the
observables, for the sampling engine and for decoding Aer's records alike.

>>> import numpy as np
>>> from qec import decoders
>>> from qec.decoders.counting import decode_and_count
>>> from qec.memory import noisy_memory_circuit
>>> circuit = noisy_memory_circuit("repetition", distance=3, rounds=1, noise="code-capacity", p=0.1)
>>> compiled = decoders.get("pymatching").compile_decoder_for_dem(dem=circuit.detector_error_model())
>>> events, observables = circuit.compile_detector_sampler(seed=1).sample(
...     1000, separate_observables=True, bit_packed=True)
>>> errors, per_observable = decode_and_count(compiled, detection_events=events, observables=observables,
...                                           num_observables=1)
>>> errors == per_observable[0] and 10 < errors < 60
True
"""

from __future__ import annotations

import numpy as np
import sinter


def decode_and_count(
    compiled: sinter.CompiledDecoder, *, detection_events: np.ndarray, observables: np.ndarray, num_observables: int
) -> tuple[int, np.ndarray]:
    """Decodes the shots and returns (shots with any observable mispredicted, mispredictions per observable).

    Args:
        detection_events: uint8 (shots, ceil(detectors / 8)), bit-packed little-endian.
        observables: uint8 (shots, ceil(num_observables / 8)), the true flips, bit-packed little-endian.

    Returns:
        An int, and int64 (num_observables,).
    """
    predictions = compiled.decode_shots_bit_packed(bit_packed_detection_event_data=detection_events)
    return count_errors(predictions, observables=observables, num_observables=num_observables)


def count_errors(predictions: np.ndarray, *, observables: np.ndarray, num_observables: int) -> tuple[int, np.ndarray]:
    """`decode_and_count`'s counts for predictions already made: uint8 (shots, ceil(num_observables / 8)) each,
    bit-packed little-endian."""
    wrong = np.bitwise_xor(predictions, observables)
    flipped = np.unpackbits(wrong, axis=1, count=num_observables, bitorder="little")
    return int(np.count_nonzero(np.any(wrong, axis=1))), flipped.sum(axis=0, dtype=np.int64)
