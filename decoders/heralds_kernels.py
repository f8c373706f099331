"""The Numba kernel of `qec.decoders.heralds.Heralds.split`: a batch's detection events split into the non-herald
detectors' events and the fired heralds, both bit-packed, in one pass over the set bits."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def split_detection_events(detection_events: np.ndarray, detector_slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A batch split in one pass over its set bits: (the non-herald detectors' events, the fired heralds).

    Args:
        detection_events: uint8 (shots, ceil(num_detectors / 8)), bit-packed little-endian.
        detector_slots: int64 (num_detectors,), detector d's index among the non-herald detectors (>= 0), or
            -1 - h for herald h.

    Returns:
        uint8 (shots, ceil(num_kept / 8)) and uint8 (shots, ceil(num_heralds / 8)), bit-packed little-endian.

    >>> events = np.array([[0b1101]], dtype=np.uint8)  # detectors 0, 2, 3; detector 2 is herald 0
    >>> kept, fired = split_detection_events(events, np.array([0, 1, -1, 2]))
    >>> kept.tolist(), fired.tolist()
    ([[5]], [[1]])
    """
    num_kept = 0
    num_heralds = 0
    for slot in detector_slots:
        if slot >= 0:
            num_kept += 1
        else:
            num_heralds += 1
    shots = detection_events.shape[0]
    kept = np.zeros((shots, (num_kept + 7) // 8), dtype=np.uint8)
    fired = np.zeros((shots, (num_heralds + 7) // 8), dtype=np.uint8)
    num_detectors = detector_slots.shape[0]
    for shot in range(shots):
        for byte_index in range(detection_events.shape[1]):
            bits = detection_events[shot, byte_index]
            if bits == 0:
                continue
            for bit in range(8):
                detector = byte_index * 8 + bit
                if not (bits >> bit) & 1 or detector >= num_detectors:
                    continue
                slot = detector_slots[detector]
                if slot >= 0:
                    kept[shot, slot >> 3] |= np.uint8(1 << (slot & 7))
                else:
                    herald = -1 - slot
                    fired[shot, herald >> 3] |= np.uint8(1 << (herald & 7))
    return kept, fired
