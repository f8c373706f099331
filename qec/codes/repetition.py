"""Repetition-code memory experiment (bit-flip code, Z basis), from Stim's generator.

>>> from qec.codes.repetition import repetition_code
>>> repetition_code(distance=3, rounds=2, basis="Z").num_detectors
6
"""

from __future__ import annotations

import stim


def repetition_code(*, distance: int, rounds: int, basis: str) -> stim.Circuit:
    """The noiseless distance-d repetition code protecting a Z-basis bit; ZZ checks measured with MR."""
    assert basis == "Z", "the repetition code protects only a Z-basis memory"
    return stim.Circuit.generated("repetition_code:memory", distance=distance, rounds=rounds)
