"""A code family's memory experiment under a noise model, in one call.

>>> from qec.memory import noisy_memory_circuit
>>> circuit = noisy_memory_circuit("repetition", distance=5, rounds=5, noise="sd6", p=0.001)
>>> circuit.num_observables
1
"""

from __future__ import annotations

from typing import Any

import stim

from qec.arguments import integer, number
from qec.parts import StudySpec, loose_parts


def noisy_memory_circuit(family: str, *, distance: int, p: float = 0.0, **parts: Any) -> stim.Circuit:
    """Family `family`'s memory circuit at strength `p`; `parts` are `StudySpec.of`'s keywords (noise, pauli,
    bias, rounds (default: the distance), basis)."""
    spec = StudySpec.of(family, **loose_parts(parts, function="noisy_memory_circuit"))
    return spec.circuit(distance=integer(distance, name="distance"), p=number(p, name="p"))
