"""Small Stim circuit helpers shared by the noise models (`qec.noise`) and logical runs on Aer
(`qec.mitigation.logical`): which qubits a circuit's gates touch, and appending a channel only where it
does something.

>>> import stim
>>> from qec.circuit_ops import append_channel, append_pauli_channel_1, used_qubits
>>> circuit = stim.Circuit("QUBIT_COORDS(0, 0) 9\\nR 0 1\\nREPEAT 3 {\\n    CX 0 2\\n    MR 2\\n}\\nMPAD 0")
>>> sorted(used_qubits(circuit)), sorted(used_qubits(circuit, only={"MR"}))
([0, 1, 2], [2])
>>> out = stim.Circuit()
>>> append_channel(out, "DEPOLARIZE1", [0, 1], 0.0)  # probability 0: nothing appended
>>> append_pauli_channel_1(out, [0], (0.01, 0.0, 0.02))
>>> out
stim.Circuit('''
    PAULI_CHANNEL_1(0.01, 0, 0.02) 0
''')
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import stim

# Instructions that do nothing to a qubit or the measurement record (QUBIT_COORDS names a qubit, but only
# to place it): a noise model or a converter copies or skips them, and never counts their targets.
ANNOTATIONS = frozenset({"DETECTOR", "OBSERVABLE_INCLUDE", "QUBIT_COORDS", "SHIFT_COORDS", "TICK"})
# MPAD appends constant bits to the measurement record: its targets are the bits' values, not qubits.
_NO_QUBITS = ANNOTATIONS | {"MPAD"}


def used_qubits(circuit: stim.Circuit, *, only: Collection[str] | None = None) -> set[int]:
    """Qubits targeted by the circuit's gates (only the gates named in `only`, if given), read from the
    circuit as written: each REPEAT body once, nothing flattened."""
    found: set[int] = set()
    for instruction in circuit:
        if isinstance(instruction, stim.CircuitRepeatBlock):
            found |= used_qubits(instruction.body_copy(), only=only)
        elif instruction.name not in _NO_QUBITS and (only is None or instruction.name in only):
            found.update(t.value for t in instruction.targets_copy() if t.is_qubit_target)
    return found


def append_channel(out: stim.Circuit, name: str, qubits: Sequence[int], probability: float) -> None:
    """Appends the one-parameter channel `name` (DEPOLARIZE1, X_ERROR, ...) on `qubits`, unless there are
    none or `probability` is 0."""
    if qubits and probability > 0:
        out.append(name, qubits, probability)


def append_pauli_channel_1(out: stim.Circuit, qubits: Sequence[int], probabilities: tuple[float, float, float]) -> None:
    """Appends PAULI_CHANNEL_1(p_x, p_y, p_z) on `qubits`, unless there are none or all three are 0."""
    if qubits and any(p > 0 for p in probabilities):
        out.append("PAULI_CHANNEL_1", qubits, list(probabilities))
