"""Code families: each is a function returning a noiseless `stim.Circuit` memory experiment.

Every circuit has DETECTOR and OBSERVABLE_INCLUDE annotations and qubit/detector coordinates, measures
its check ancillas with MR and its data qubits with M (or MX) at the end; `qec.noise` relies on that.

>>> from qec import codes
>>> circuit = codes.memory_circuit("shor", distance=3, rounds=3, basis="Z")
>>> circuit.num_observables
1
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import stim

from qec.codes.color import color_code
from qec.codes.repetition import repetition_code
from qec.codes.shor import shor_code
from qec.codes.surface import rotated_surface_code, unrotated_surface_code
from qec.errors import QecInputError


@dataclass(frozen=True)
class CodeFamily:
    """A family of memory experiments and the parameters it accepts."""

    name: str
    description: str
    bases: tuple[str, ...]
    odd_distance_only: bool
    min_distance: int
    matchable: bool  # its DEMs decompose into graphlike errors, so MWPM and union-find apply
    build: Callable[..., stim.Circuit]

    @property
    def allowed_distances(self) -> str:
        return f"{'an odd' if self.odd_distance_only else 'a'} distance >= {self.min_distance}"

    def circuit(self, *, distance: int, rounds: int, basis: str = "Z") -> stim.Circuit:
        """The noiseless memory circuit; raises QecInputError on a parameter the family does not allow."""
        if distance < self.min_distance or (self.odd_distance_only and distance % 2 == 0):
            raise QecInputError(
                f"distance {distance} is not allowed for '{self.name}': use {self.allowed_distances}"
            )
        if rounds < 1:
            raise QecInputError(f"rounds must be >= 1, got {rounds}")
        basis = basis.upper()
        if basis not in self.bases:
            raise QecInputError(
                f"basis {basis!r} is not allowed for '{self.name}': use {' or '.join(self.bases)}"
            )
        return self.build(distance=distance, rounds=rounds, basis=basis)


FAMILIES: dict[str, CodeFamily] = {
    family.name: family
    for family in [
        CodeFamily("surface", "rotated surface code [[d^2,1,d]] (stim generator)", ("X", "Z"), False, 2, True,
                   rotated_surface_code),
        CodeFamily("unrotated-surface", "unrotated surface code [[d^2+(d-1)^2,1,d]] (stim generator)", ("X", "Z"),
                   False, 2, True, unrotated_surface_code),
        CodeFamily("repetition", "bit-flip repetition code [[d,1,d]] against X errors (stim generator)", ("Z",),
                   False, 2, True, repetition_code),
        CodeFamily("shor", "generalized Shor code [[d^2,1,d]]: d blocks of d, ZZ in blocks, weight-2d X checks",
                   ("X", "Z"), True, 3, True, shor_code),
        CodeFamily("color", "triangular 6.6.6 color code, XYZ-cycling memory (stim generator)", ("Z",), True, 3,
                   False, color_code),
    ]
}


def family(name: str) -> CodeFamily:
    """The family called `name`; raises QecInputError listing the known names."""
    if name not in FAMILIES:
        raise QecInputError(f"unknown code family {name!r}: choose one of {', '.join(FAMILIES)}")
    return FAMILIES[name]


def memory_circuit(name: str, *, distance: int, rounds: int, basis: str = "Z") -> stim.Circuit:
    """The noiseless memory circuit of family `name`."""
    return family(name).circuit(distance=distance, rounds=rounds, basis=basis)
