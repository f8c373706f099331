"""Repetition-code memory experiment (bit-flip code, Z basis), from Stim's generator.

>>> from qec.codes.repetition import repetition_code
>>> repetition_code(distance=3, rounds=2, basis="Z").num_detectors
6
"""

from __future__ import annotations

import stim


def repetition_code(*, distance: int, rounds: int, basis: str) -> stim.Circuit:
    """The noiseless distance-d repetition code protecting a Z-basis bit; qubit q sits at (q, 0), ancillas odd."""
    assert basis == "Z", "the repetition code protects only a Z-basis memory"
    generated = stim.Circuit.generated("repetition_code:memory", distance=distance, rounds=rounds)
    circuit = stim.Circuit()
    for qubit in range(generated.num_qubits):  # stim's generator gives detector coordinates, not qubit ones
        circuit.append("QUBIT_COORDS", [qubit], [qubit, 0])
    return circuit + generated
