"""Experiments as a part: what a code's circuit does through time. Each is one entry of `EXPERIMENTS`
(`Experiment`: a name, a description, a `build(family, distance=, rounds=, basis=, **options)` giving the noiseless
circuit, its integer `options` with their defaults, and the operation its logical error rate is counted per:
`unit` and `operations(rounds, options)`, e.g. per round for a memory, per CNOT for repeated transversal CNOTs);
an `ExperimentSpec` is an experiment's name and every parameter (rounds, basis, options), recorded in a task's
metadata and rebuilt from it. `register_experiment` adds one's own.

>>> from qec import codes
>>> spec = ExperimentSpec(rounds=None, basis="x")
>>> spec.basis, spec.metadata(distance=5)
('X', {'rounds': 5, 'basis': 'X'})
>>> spec.circuit(codes.family("surface"), distance=3).num_detectors
24
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import stim

from qec.codes import CodeFamily
from qec.codes.distance import Distance, circuit_distance
from qec.errors import QecInputError, unknown_choice
from qec.lattice_surgery import build_surgery
from qec.noise import noise_model
from qec.stability import build_stability
from qec.text import shown_integer
from qec.transversal_cnot import build_cnot, cnot_operations

# The distances a study of an experiment takes when none are given, unless its entry says others.
DEFAULT_DISTANCES = (3, 5, 7, 9)


@dataclass(frozen=True, kw_only=True)
class Experiment:
    """One entry of the experiment registry: `build(family, distance=, rounds=, basis=, **options)` returns the
    noiseless circuit, with DETECTORs and OBSERVABLE_INCLUDEs, that every noise model applies to. `options` are
    the experiment's integer parameters beyond rounds and basis, with their defaults (each >= 0); the logical
    error rate per operation counts `operations(rounds, options)` operations of kind `unit` in a shot (default: a
    round each). `distances` are those a study takes when none are given (`qec threshold`, `collect`, `--auto`;
    `qec circuit` takes the first). `decoder` is the decoder a study of it takes when none is named, and
    `unmatchable_decoder` (where set) the one it takes instead for a family whose DEMs do not decompose into
    graphlike errors (not `matchable`: the bb codes, a user's CSS code)."""

    name: str
    description: str
    build: Callable[..., stim.Circuit]
    options: Mapping[str, int] = field(default_factory=dict)
    unit: str = "round"
    operations: Callable[[int, Mapping[str, int]], int] = lambda rounds, options: rounds
    distances: tuple[int, ...] = DEFAULT_DISTANCES
    decoder: str = "pymatching"
    unmatchable_decoder: str | None = None

    def default_decoder(self, family: CodeFamily) -> str:
        """The decoder a study of this experiment on `family` takes when none is named."""
        return self.unmatchable_decoder if self.unmatchable_decoder and not family.matchable else self.decoder


def _memory(family: CodeFamily, *, distance: int, rounds: int, basis: str) -> stim.Circuit:
    return family.circuit(distance=distance, rounds=rounds, basis=basis)


EXPERIMENTS: dict[str, Experiment] = {
    experiment.name: experiment
    for experiment in [
        Experiment(
            name="memory",
            description="keep one logical state through `rounds` rounds of syndrome extraction",
            build=_memory,
        ),
        Experiment(
            name="cnot",
            description="transversal CNOTs between two copies of a CSS code in basis B: `rounds` rounds, `cnots` "
            "CNOTs with `rounds_between` rounds between consecutive ones, `rounds` rounds, data measured in B",
            build=build_cnot,
            options={"cnots": 1, "rounds_between": 1},
            unit="CNOT",
            operations=cnot_operations,
            decoder="pymatching-ordered",  # joint, the highest threshold at matching's speed (README "Experiments")
            unmatchable_decoder="bposd",  # joint on the hyperedge DEM of any CSS code
        ),
        Experiment(
            name="stability",
            description="Gidney's stability experiment: an even d x d rotated patch with boundaries of the basis's "
            "type all around; the observable is the product of that type's checks (timelike distance = rounds); "
            "surface only",
            build=build_stability,
            distances=(4, 6, 8, 10),
        ),
        Experiment(
            name="surgery",
            description="logical ZZ (basis Z) or XX (basis X) measurement of two d x d rotated patches by merge and "
            "split: d rounds, `rounds` merged rounds, d rounds; observables: the outcome and both memories; surface "
            "only",
            build=build_surgery,
            unit="surgery",
            operations=lambda rounds, options: 1,
        ),
    ]
}


def register_experiment(entry: Experiment) -> Experiment:
    """Adds an experiment (a built-in name is refused); found by `experiment` and every study from then on."""
    if not isinstance(entry, Experiment):
        raise QecInputError(f"register_experiment takes an Experiment, got {type(entry).__name__}")
    if entry.name in EXPERIMENTS:
        raise QecInputError(f"'{entry.name}' is a built-in experiment: give yours another name")
    USER_EXPERIMENTS[entry.name] = entry
    return entry


USER_EXPERIMENTS: dict[str, Experiment] = {}


def experiments() -> dict[str, Experiment]:
    """Every experiment by name: the built-in ones, then those registered in this process."""
    return EXPERIMENTS | USER_EXPERIMENTS


def experiment(name: str) -> Experiment:
    """The experiment called `name`; QecInputError listing the known names."""
    known = experiments()
    if not isinstance(name, str) or name not in known:
        raise unknown_choice("experiment", name, known)
    return known[name]


@dataclass(frozen=True)
class ExperimentSpec:
    """An experiment and its parameters: `rounds` (None: as many as the distance), the `basis` (X or Z) and its
    `options` (`Experiment.options`; those not given take their defaults)."""

    name: str = "memory"
    rounds: int | None = None
    basis: str = "Z"
    options: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self):
        known = experiment(self.name).options
        if not isinstance(self.options, Mapping):
            raise QecInputError(f"experiment options must be a mapping of names to whole numbers, got {self.options!r}")
        for key, value in self.options.items():
            if key not in known:
                listed = ", ".join(known) or "none"
                raise QecInputError(f"experiment {self.name!r} has no option {key!r}: its options are {listed}")
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
                raise QecInputError(f"experiment option {key} must be a whole number >= 0, got {value!r}")
        object.__setattr__(self, "options", {key: int(self.options.get(key, known[key])) for key in sorted(known)})
        if self.rounds is not None and (
            isinstance(self.rounds, bool) or not isinstance(self.rounds, numbers.Integral) or self.rounds < 1
        ):  # (how many rounds fit is the family's to say: `CodeFamily.circuit` refuses a circuit that cannot fit)
            shown = shown_integer(self.rounds) if isinstance(self.rounds, int) else repr(self.rounds)
            raise QecInputError(f"rounds must be >= 1 (or None: as many as the distance), got {shown}")
        if not isinstance(self.basis, str) or self.basis.upper() not in ("X", "Z"):
            raise QecInputError(f"basis must be X or Z, got {self.basis!r}")
        object.__setattr__(self, "basis", self.basis.upper())

    def __hash__(self) -> int:
        return hash((self.name, self.rounds, self.basis, tuple(self.options.items())))

    @property
    def default_distances(self) -> tuple[int, ...]:
        """The distances a study of this experiment takes when none are given (`Experiment.distances`).

        >>> ExperimentSpec("stability").default_distances, ExperimentSpec().default_distances
        ((4, 6, 8, 10), (3, 5, 7, 9))
        """
        return experiment(self.name).distances

    def rounds_at(self, distance: int) -> int:
        return distance if self.rounds is None else self.rounds

    def circuit(self, family: CodeFamily, *, distance: int) -> stim.Circuit:
        """The noiseless circuit of this experiment on `family` at `distance`."""
        rounds = self.rounds_at(distance)
        return experiment(self.name).build(family, distance=distance, rounds=rounds, basis=self.basis, **self.options)

    def operations(self, *, distance: int) -> int:
        """How many operations of the experiment's `unit` one shot holds (the per-operation rate's exponent)."""
        return experiment(self.name).operations(self.rounds_at(distance), self.options)

    def metadata(self, *, distance: int) -> dict[str, Any]:
        """What a task's metadata records: `rounds` and `basis`; for an experiment other than memory also
        `experiment`, its options (`experiment_options`), and its operation `unit` and `operations` per shot."""
        recorded: dict[str, Any] = {"rounds": self.rounds_at(distance), "basis": self.basis}
        if self.name == "memory":
            return recorded
        return (
            {"experiment": self.name}
            | recorded
            | {
                **({"experiment_options": dict(self.options)} if self.options else {}),
                "unit": experiment(self.name).unit,
                "operations": self.operations(distance=distance),
            }
        )

    @staticmethod
    def from_metadata(metadata: Mapping[str, Any]) -> ExperimentSpec:
        """The spec a task's metadata records (rounds as recorded, so the same at any distance)."""
        options = metadata.get("experiment_options", {})
        if not isinstance(options, Mapping):
            raise QecInputError(f"metadata 'experiment_options' must be an object of options, got {options!r}")
        return ExperimentSpec(
            metadata.get("experiment", "memory"), metadata.get("rounds"), metadata.get("basis", "Z"), dict(options)
        )


def experiment_distance(
    family: CodeFamily, spec: ExperimentSpec, *, distance: int, noise: str = "sd6", max_seconds: float = 10.0
) -> Distance:
    """The circuit-level distance of `spec`'s experiment on `family` at `distance`, under the noise model `noise`
    (at p = 0.001: the fault locations, not their rates, set it), by `qec.codes.distance.circuit_distance`: the
    fewest faults that flip an observable unseen (exact, or an upper bound, as its `Distance` says).

    >>> from qec import codes
    >>> experiment_distance(codes.family("surface"), ExperimentSpec("stability", rounds=3), distance=4).describe()
    '3 (exact, graphlike)'
    """
    if not max_seconds > 0:
        raise QecInputError(f"max_seconds must be > 0, got {max_seconds}")
    circuit = noise_model(noise, 0.001).apply(spec.circuit(family, distance=distance))
    return circuit_distance(circuit, max_seconds=max_seconds)
