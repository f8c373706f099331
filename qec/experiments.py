"""Experiments as a part: what a code's circuit does through time. Each is one entry of `EXPERIMENTS`
(`Experiment`: a name, a description and a `build(family, distance=, rounds=, basis=)` giving the noiseless
circuit); an `ExperimentSpec` is an experiment's name and every parameter (rounds, basis), recorded in a task's
metadata and rebuilt from it.

>>> from qec import codes
>>> spec = ExperimentSpec(rounds=None, basis="x")
>>> spec.basis, spec.metadata(distance=5)
('X', {'rounds': 5, 'basis': 'X'})
>>> spec.circuit(codes.family("surface"), distance=3).num_detectors
24
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import stim

from qec.codes import CodeFamily
from qec.errors import QecInputError, unknown_choice
from qec.text import shown_integer


@dataclass(frozen=True, kw_only=True)
class Experiment:
    """One entry of the experiment registry: `build(family, distance=, rounds=, basis=)` returns the noiseless
    circuit, with DETECTORs and OBSERVABLE_INCLUDEs, that every noise model applies to."""

    name: str
    description: str
    build: Callable[..., stim.Circuit]


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
    ]
}


def experiment(name: str) -> Experiment:
    """The experiment called `name`; QecInputError listing the known names."""
    if not isinstance(name, str) or name not in EXPERIMENTS:
        raise unknown_choice("experiment", name, EXPERIMENTS)
    return EXPERIMENTS[name]


@dataclass(frozen=True)
class ExperimentSpec:
    """An experiment and its parameters: `rounds` (None: as many as the distance) and the `basis` (X or Z)."""

    name: str = "memory"
    rounds: int | None = None
    basis: str = "Z"

    def __post_init__(self):
        experiment(self.name)
        if self.rounds is not None and (
            isinstance(self.rounds, bool) or not isinstance(self.rounds, numbers.Integral) or self.rounds < 1
        ):  # (how many rounds fit is the family's to say: `CodeFamily.circuit` refuses a circuit that cannot fit)
            shown = shown_integer(self.rounds) if isinstance(self.rounds, int) else repr(self.rounds)
            raise QecInputError(f"rounds must be >= 1 (or None: as many as the distance), got {shown}")
        if not isinstance(self.basis, str) or self.basis.upper() not in ("X", "Z"):
            raise QecInputError(f"basis must be X or Z, got {self.basis!r}")
        object.__setattr__(self, "basis", self.basis.upper())

    def rounds_at(self, distance: int) -> int:
        return distance if self.rounds is None else self.rounds

    def circuit(self, family: CodeFamily, *, distance: int) -> stim.Circuit:
        """The noiseless circuit of this experiment on `family` at `distance`."""
        return experiment(self.name).build(family, distance=distance, rounds=self.rounds_at(distance), basis=self.basis)

    def metadata(self, *, distance: int) -> dict[str, Any]:
        """What a task's metadata records: `rounds` and `basis` (and `experiment`, for one other than memory)."""
        recorded: dict[str, Any] = {} if self.name == "memory" else {"experiment": self.name}
        return recorded | {"rounds": self.rounds_at(distance), "basis": self.basis}

    @staticmethod
    def from_metadata(metadata: Mapping[str, Any]) -> ExperimentSpec:
        """The spec a task's metadata records (rounds as recorded, so the same at any distance)."""
        return ExperimentSpec(metadata.get("experiment", "memory"), metadata.get("rounds"), metadata.get("basis", "Z"))
