"""Code families: each is a function returning a noiseless `stim.Circuit` memory experiment.

Every circuit has DETECTOR and OBSERVABLE_INCLUDE annotations and qubit/detector coordinates, measures
its check ancillas with MR (MRX for the X checks of codes built by `css`) and its data qubits with M (or MX)
at the end; `qec.noise` relies on that. Families built by `css` (`bb`, `hgp`, and a user's code registered
as `css` with `register_family`) have k >= 1 observables and tag every DETECTOR and OBSERVABLE_INCLUDE with
`basis=X` or `basis=Z` (see `qec.codes.css`).

>>> from qec import codes
>>> circuit = codes.memory_circuit("shor", distance=3, rounds=3, basis="Z")
>>> circuit.num_observables
1

Size limits. A family estimates its circuit's detectors and qubits before it builds anything
(`CodeFamily.size`) and refuses more than `MAX_DETECTORS` or `MAX_QUBITS`, so a distance or a number of
rounds that cannot fit is refused at once. A circuit read from a file (`qec.circuit_files`) is held to
these and to `MAX_MEASUREMENTS`, `MAX_OBSERVABLES` and `MAX_OPERATIONS` (`CircuitSize.excess`).

>>> codes.memory_circuit("surface", distance=10001, rounds=10001)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
qec.errors.QecInputError: 'surface' at distance 10001 with 10001 rounds needs about 1e+12 detectors (the limit is ...
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Callable

import stim

from qec.codes.bb import BB_DISTANCES, bb_code, bb_data_qubits, bb_memory_circuit
from qec.codes.color import color_code
from qec.codes.color_superdense import superdense_color_code
from qec.codes.css import CssCode
from qec.codes.css import css as css  # re-exported: qec.codes.css(hx, hz, name=...)
from qec.codes.hgp import hgp as hgp  # re-exported: qec.codes.hgp(h1, h2)
from qec.codes.hgp import toric_code, toric_memory_circuit
from qec.codes.repetition import repetition_code
from qec.codes.shor import shor_code
from qec.codes.size import (  # re-exported: the limits and size of a circuit
    MAX_DETECTORS as MAX_DETECTORS,
)
from qec.codes.size import (
    MAX_DISTANCE as MAX_DISTANCE,
)
from qec.codes.size import (
    MAX_MEASUREMENTS as MAX_MEASUREMENTS,
)
from qec.codes.size import (
    MAX_OBSERVABLES as MAX_OBSERVABLES,
)
from qec.codes.size import (
    MAX_OPERATIONS as MAX_OPERATIONS,
)
from qec.codes.size import (
    MAX_QUBITS as MAX_QUBITS,
)
from qec.codes.size import (
    MAX_ROUNDS as MAX_ROUNDS,
)
from qec.codes.size import (
    CircuitSize as CircuitSize,
)
from qec.codes.size import (
    operation_count as operation_count,
)
from qec.codes.surface import rotated_surface_code, unrotated_surface_code
from qec.errors import QecInputError, unknown_choice
from qec.text import shown_integer


def _checked_integer(value, *, name: str) -> int:
    """`value` as an int when it is an integer (not a bool); QecInputError otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise QecInputError(f"{name} must be an integer, got {value!r}")
    return int(value)


@dataclass(frozen=True, kw_only=True)
class CodeFamily:
    """One entry of the code registry: a family of memory experiments and the parameters it accepts.

    `build(distance=, rounds=, basis=)` returns the noiseless memory circuit. `checks(d)` is how many checks one
    round measures (at most one detector each per round) and `qubits(d)` how many qubits Stim allocates: `size`
    uses them before anything is built. A family built from CSS codes gives `code(d)` instead, and its sizes
    follow from the code. `matchable`: its DEMs decompose into graphlike errors, so MWPM and union-find apply.
    `record_code`: a task's metadata also records the code's name, n and k (a user's code).
    """

    name: str
    description: str
    build: Callable[..., stim.Circuit]
    bases: tuple[str, ...] = ("X", "Z")
    odd_distance_only: bool = False
    min_distance: int = 2
    matchable: bool = False
    checks: Callable[[int], int] | None = None
    qubits: Callable[[int], int] | None = None
    min_rounds: int = 1
    distances: tuple[int, ...] | None = None  # the only distances allowed, for a family that is a list of codes
    code: Callable[[int], CssCode] | None = None  # the CSS code at a distance, for families built by `css`
    record_code: bool = False

    def __post_init__(self):
        if self.code is None and (self.checks is None or self.qubits is None):
            raise QecInputError(
                f"code family {self.name!r} needs checks= and qubits= (its size at a distance), or code= (its CSS "
                "code at a distance, from which the size follows)"
            )

    def metadata(self, distance: int) -> dict[str, Any]:
        """What a task's metadata records of the code: `family` and `distance` (and the code's name, n and k
        with `record_code`)."""
        recorded: dict[str, Any] = {"family": self.name, "distance": distance}
        if self.record_code and self.code is not None:
            code = self.code(distance)
            recorded |= {"code": code.name, "n": code.n, "k": code.k}
        return recorded

    @property
    def allowed_distances(self) -> str:
        if self.distances is not None:
            return f"a distance in {', '.join(map(str, self.distances))}"
        return f"{'an odd' if self.odd_distance_only else 'a'} distance >= {self.min_distance}"

    def size(self, *, distance: int, rounds: int) -> CircuitSize:
        """The estimated size of the memory circuit: qubits, and detectors bounded by checks x (rounds + 1)
        (one layer a round and one from the final data measurement).

        >>> FAMILIES["surface"].size(distance=5, rounds=5)
        CircuitSize(detectors=144, qubits=64, measurements=0, observables=0, operations=0)
        """
        if self.checks is not None and self.qubits is not None:
            return CircuitSize(self.checks(distance) * (rounds + 1), self.qubits(distance))
        assert self.code is not None
        code = self.code(distance)
        return CircuitSize(code.checks * (rounds + 1), code.n + code.checks)

    def circuit(self, *, distance: int, rounds: int, basis: str = "Z") -> stim.Circuit:
        """The noiseless memory circuit; raises QecInputError on a parameter the family does not allow,
        and on a distance and rounds whose circuit would exceed `MAX_DETECTORS` or `MAX_QUBITS`."""
        distance = _checked_integer(distance, name="distance")
        rounds = _checked_integer(rounds, name="rounds")
        if (
            distance < self.min_distance
            or (self.odd_distance_only and distance % 2 == 0)
            or (self.distances is not None and distance not in self.distances)
        ):
            raise QecInputError(
                f"distance {shown_integer(distance)} is not allowed for '{self.name}': use {self.allowed_distances}"
            )
        if rounds < self.min_rounds:
            raise QecInputError(f"rounds must be >= {self.min_rounds} for '{self.name}', got {shown_integer(rounds)}")
        if not isinstance(basis, str) or basis.upper() not in self.bases:
            raise QecInputError(f"basis {basis!r} is not allowed for '{self.name}': use {' or '.join(self.bases)}")
        excess = self.size(distance=distance, rounds=rounds).excess()
        if excess:
            raise QecInputError(
                f"'{self.name}' at distance {shown_integer(distance)} with {shown_integer(rounds)} "
                f"rounds needs {' and '.join(excess)}: use a smaller distance or fewer rounds"
            )
        return self.build(distance=distance, rounds=rounds, basis=basis.upper())


FAMILIES: dict[str, CodeFamily] = {
    family.name: family
    for family in [
        CodeFamily(
            name="surface",
            description="rotated surface code [[d^2,1,d]] (stim generator)",
            build=rotated_surface_code,
            matchable=True,
            checks=lambda d: d * d - 1,
            qubits=lambda d: 2 * d * d + 3 * d - 1,
        ),
        CodeFamily(
            name="unrotated-surface",
            description="unrotated surface code [[d^2+(d-1)^2,1,d]] (stim generator)",
            build=unrotated_surface_code,
            matchable=True,
            checks=lambda d: 2 * d * (d - 1),
            qubits=lambda d: (2 * d - 1) ** 2,
        ),
        CodeFamily(
            name="repetition",
            description="bit-flip repetition code [[d,1,d]] against X errors (stim generator)",
            build=repetition_code,
            bases=("Z",),
            matchable=True,
            checks=lambda d: d - 1,
            qubits=lambda d: 2 * d - 1,
        ),
        CodeFamily(
            name="shor",
            description="generalized Shor code [[d^2,1,d]]: d blocks of d, ZZ in blocks, weight-2d X checks",
            build=shor_code,
            odd_distance_only=True,
            min_distance=3,
            matchable=True,
            checks=lambda d: d * d - 1,
            qubits=lambda d: 2 * d * d - 1,
        ),
        # (3d^2+1)/4 data qubits, one ancilla per face: (3d^2-3)/8 faces, each measured once a round.
        CodeFamily(
            name="color",
            description="triangular 6.6.6 color code, XYZ-cycling memory (stim generator)",
            build=color_code,
            bases=("Z",),
            odd_distance_only=True,
            min_distance=3,
            checks=lambda d: 3 * (d * d - 1) // 8,
            qubits=lambda d: (9 * d * d - 1) // 8,
            min_rounds=2,
        ),
        # The same code with two ancillas a face: (3d^2-1)/2 qubits, an X and a Z check a face each round.
        CodeFamily(
            name="color-superdense",
            description="triangular 6.6.6 color code, superdense cycle of Gidney and Jones (arXiv:2312.08813); "
            "detectors carry Chromobius's colour coordinate, so chromobius decodes it",
            build=superdense_color_code,
            odd_distance_only=True,
            min_distance=3,
            checks=lambda d: 3 * (d * d - 1) // 4,
            qubits=lambda d: (3 * d * d - 1) // 2,
        ),
        # n = 2lm data qubits and lm X + lm Z checks, so n checks a round and 2n qubits.
        CodeFamily(
            name="bb",
            description="bivariate bicycle codes of Bravyi et al. 2024, k = 8 or 12: d = 6 [[72,12,6]], 10 "
            "[[90,8,10]], 12 [[144,12,12]] gross, 18 [[288,12,18]] two-gross; their depth-8 cycle",
            build=bb_memory_circuit,
            min_distance=min(BB_DISTANCES),
            checks=bb_data_qubits,
            qubits=lambda d: 2 * bb_data_qubits(d),
            distances=BB_DISTANCES,
            code=lambda d: bb_code(distance=d),
        ),
        # The toric code [[2d^2, 2, d]]: d^2 X and d^2 Z checks a round, 4d^2 qubits.
        CodeFamily(
            name="hgp",
            description="hypergraph product of the cyclic repetition code [d,1,d] with itself: the toric code "
            "[[2d^2,2,d]]",
            build=toric_memory_circuit,
            matchable=True,
            checks=lambda d: 2 * d * d,
            qubits=lambda d: 4 * d * d,
            code=lambda d: toric_code(d),
        ),
    ]
}


# Families registered by `register_family` in this process: a user's own, and the CLI's `css --code FILE`.
USER_FAMILIES: dict[str, CodeFamily] = {}
USER_FAMILY = "css"


def css_family(code: CssCode, *, distance: int) -> CodeFamily:
    """The family 'css' holding one user code at one allowed `distance` (its code distance, or a bound on it).

    >>> import numpy as np
    >>> hamming = np.array([[1, 0, 1, 0, 1, 0, 1], [0, 1, 1, 0, 0, 1, 1], [0, 0, 0, 1, 1, 1, 1]])
    >>> steane = css_family(css(hamming, hamming, name="steane"), distance=3)
    >>> steane.circuit(distance=3, rounds=2, basis="X").num_observables, steane.allowed_distances
    (1, 'a distance in 3')
    """

    def build(*, distance: int, rounds: int, basis: str) -> stim.Circuit:
        return code.memory_circuit(rounds=rounds, basis=basis)

    return CodeFamily(
        name=USER_FAMILY,
        description=f"your CSS code {code.describe()}",
        build=build,
        min_distance=distance,
        distances=(distance,),
        code=lambda d: code,
        record_code=True,
    )


def register_family(user_family: CodeFamily) -> CodeFamily:
    """Adds a code family of one's own: `family(user_family.name)` (and so every circuit, task and study) finds it
    in this process from then on; circuits are built in the main process, so every executor samples them. A
    built-in family's name is refused. Returns the family.

    >>> import stim
    >>> def repetition_x(*, distance, rounds, basis):  # the repetition code against phase flips
    ...     return stim.Circuit.generated("repetition_code:memory", distance=distance, rounds=rounds)
    >>> family = register_family(CodeFamily(name="my-repetition", description="mine", build=repetition_x,
    ...                          bases=("Z",), matchable=True, checks=lambda d: d - 1, qubits=lambda d: 2 * d - 1))
    >>> memory_circuit("my-repetition", distance=3, rounds=2).num_detectors
    6
    """
    if not isinstance(user_family, CodeFamily):
        raise QecInputError(f"register_family takes a CodeFamily, got {type(user_family).__name__}")
    if user_family.name in FAMILIES:
        raise QecInputError(f"'{user_family.name}' is a built-in family: give your family another name")
    USER_FAMILIES[user_family.name] = user_family
    return user_family


def families() -> dict[str, CodeFamily]:
    """Every code family by name: the built-in ones, then those registered in this process."""
    return FAMILIES | USER_FAMILIES


def family(name: str) -> CodeFamily:
    """The family called `name`; raises QecInputError listing the known names."""
    if isinstance(name, str) and name in USER_FAMILIES:
        return USER_FAMILIES[name]
    if name == USER_FAMILY:
        raise QecInputError(
            f"family '{USER_FAMILY}' is your own CSS code: give it as code=FILE (a .npz with hx and hz, or "
            "HX.alist,HZ.alist)"
        )
    if not isinstance(name, str) or name not in FAMILIES:
        raise unknown_choice("code family", name, families())
    return FAMILIES[name]


def memory_circuit(name: str, *, distance: int, rounds: int, basis: str = "Z") -> stim.Circuit:
    """The noiseless memory circuit of family `name`."""
    return family(name).circuit(distance=distance, rounds=rounds, basis=basis)
