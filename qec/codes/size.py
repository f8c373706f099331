"""How big a circuit is, and the limits a circuit is held to before it is built or read.

A family estimates its circuit's detectors and qubits before it builds anything (`CodeFamily.size`) and refuses
more than `MAX_DETECTORS` or `MAX_QUBITS`; a circuit read from a file (`qec.circuit_files`) is held to these and to
`MAX_MEASUREMENTS`, `MAX_OBSERVABLES` and `MAX_OPERATIONS` (`CircuitSize.excess`).
"""

from __future__ import annotations

from dataclasses import dataclass

import stim

from qec.text import approximate

# 10^6 detectors is far beyond any practical study (a d = 25 surface code over 1,600 rounds), yet its
# circuit, DEM and a chunk of detection events fit in a few GB. Every family measures at least one check
# per round and has at least `distance` qubits, so these also bound rounds and distance on their own.
MAX_DETECTORS = 1_000_000
MAX_QUBITS = 1_000_000
MAX_ROUNDS = MAX_DETECTORS
MAX_DISTANCE = MAX_QUBITS
# Circuit files: a measurement record, observables (decoders predict a bit-packed row of them per shot)
# and gate applications per shot, REPEAT blocks counted in full. A 10^6-detector surface-code memory
# under SI1000 noise has 2.7e7 gate applications; Stim samples 1,024 shots of it in about 12 s.
MAX_MEASUREMENTS = 10_000_000
MAX_OBSERVABLES = 1024
MAX_OPERATIONS = 100_000_000


@dataclass(frozen=True)
class CircuitSize:
    """What a circuit holds: detectors, qubits, measurements, observables, gate applications per shot."""

    detectors: int
    qubits: int
    measurements: int = 0
    observables: int = 0
    operations: int = 0

    @classmethod
    def of(cls, circuit: stim.Circuit) -> CircuitSize:
        r"""The size of `circuit`, counted without flattening it (Stim's counts multiply REPEAT blocks out).

        >>> size = CircuitSize.of(stim.Circuit("REPEAT 1000000000000 {\n  M 0\n  DETECTOR rec[-1]\n}"))
        >>> size.detectors, size.measurements, size.operations
        (1000000000000, 1000000000000, 2000000000000)
        """
        return cls(
            circuit.num_detectors,
            circuit.num_qubits,
            circuit.num_measurements,
            circuit.num_observables,
            operation_count(circuit),
        )

    def excess(self) -> list[str]:
        """'about N things (the limit is M)' for each count over its limit; empty when it fits."""
        limits = [
            ("detectors", self.detectors, MAX_DETECTORS),
            ("qubits", self.qubits, MAX_QUBITS),
            ("measurements", self.measurements, MAX_MEASUREMENTS),
            ("observables", self.observables, MAX_OBSERVABLES),
            ("gate applications per shot", self.operations, MAX_OPERATIONS),
        ]
        return [
            f"about {approximate(count)} {what} (the limit is {limit:,})"
            for what, count, limit in limits
            if count > limit
        ]


def operation_count(circuit: stim.Circuit) -> int:
    r"""Gate applications (targets; 1 for a target-less instruction) of one shot, REPEAT blocks counted in full.

    Costs one pass over the circuit as written, whatever its repeat counts.

    >>> operation_count(stim.Circuit("H 0 1\nREPEAT 10 {\n  CX 0 1\n  M 0\n}"))
    32
    """
    total = 0
    for instruction in circuit:
        if isinstance(instruction, stim.CircuitRepeatBlock):
            total += instruction.repeat_count * operation_count(instruction.body_copy())
        else:
            total += max(1, len(instruction.targets_copy()))
    return total
