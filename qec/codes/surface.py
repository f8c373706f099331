"""Rotated and unrotated surface-code memory experiments, from Stim's generators.

>>> from qec.codes.surface import rotated_surface_code
>>> circuit = rotated_surface_code(distance=3, rounds=3, basis="Z")
>>> circuit.num_detectors, circuit.num_observables
(24, 1)
"""

from __future__ import annotations

import stim


def rotated_surface_code(*, distance: int, rounds: int, basis: str) -> stim.Circuit:
    """The noiseless rotated surface code [[d^2, 1, d]] memory in `basis` ("X" or "Z")."""
    return stim.Circuit.generated(f"surface_code:rotated_memory_{basis.lower()}", distance=distance, rounds=rounds)


def unrotated_surface_code(*, distance: int, rounds: int, basis: str) -> stim.Circuit:
    """The noiseless unrotated surface code [[d^2 + (d-1)^2, 1, d]] memory in `basis` ("X" or "Z")."""
    return stim.Circuit.generated(f"surface_code:unrotated_memory_{basis.lower()}", distance=distance, rounds=rounds)
