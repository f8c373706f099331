"""A code family's memory experiment under a noise model, in one call.

>>> from qec.memory import noisy_memory_circuit
>>> circuit = noisy_memory_circuit("repetition", distance=5, rounds=5, noise="sd6", p=0.001)
>>> circuit.num_observables
1
"""

from __future__ import annotations

import stim

from qec import codes
from qec.noise import noise_model


def noisy_memory_circuit(
    family: str,
    *,
    distance: int,
    rounds: int | None = None,
    basis: str = "Z",
    noise: str = "none",
    p: float = 0.0,
    pauli: str | None = None,
    bias: float = 10.0,
) -> stim.Circuit:
    """Family `family`'s memory circuit with noise model `noise` at strength `p`; rounds default to the distance."""
    model = noise_model(noise, p, pauli=pauli, bias=bias)
    clean = codes.memory_circuit(family, distance=distance, rounds=distance if rounds is None else rounds, basis=basis)
    return model.apply(clean)
