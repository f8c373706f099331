"""Color-code memory experiment (6.6.6 triangular), from Stim's `color_code:memory_xyz`.

>>> from qec.codes.color import color_code
>>> color_code(distance=3, rounds=2, basis="Z").num_qubits
10
"""

from __future__ import annotations

import stim


def color_code(*, distance: int, rounds: int, basis: str) -> stim.Circuit:
    """The noiseless triangular color code; each round applies C_XYZ to the data, cycling its basis."""
    assert basis == "Z", "stim's color-code memory has a single (cycling XYZ) basis"
    return stim.Circuit.generated("color_code:memory_xyz", distance=distance, rounds=rounds)
