"""A threshold study end to end: tasks for a grid of distances x p, collect, points, fit, Lambda.

>>> from qec.study import parse_p_grid, parse_distances
>>> [round(p, 6) for p in parse_p_grid("0.001:0.01:3")]
[0.001, 0.003162, 0.01]
>>> parse_distances("3,5,7")
[3, 5, 7]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Iterable

from qec.engine import Progress, StopRule, collect
from qec.errors import QecInputError
from qec.stats import LambdaEstimate, Point, suppression_factors
from qec.store import Store, TaskTotals
from qec.task import Task
from qec.threshold import ThresholdFit, fit_threshold


def parse_p_grid(text: str) -> list[float]:
    """`LOW:HIGH:N` (N log-spaced values, ends included) or a comma-separated list, each in (0, 1]."""
    try:
        if ":" in text:
            low, high, count = text.split(":")
            low_p, high_p, n = float(low), float(high), int(count)
            if n < 1 or low_p <= 0 or high_p < low_p:
                raise ValueError
            values = [low_p] if n == 1 else [math.exp(math.log(low_p) + (math.log(high_p) - math.log(low_p)) * k
                                                      / (n - 1)) for k in range(n)]
        else:
            values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise QecInputError(f"malformed p grid {text!r}: use LOW:HIGH:N (log-spaced, 0 < LOW <= HIGH, N >= 1) "
                            "or a list like 0.001,0.002,0.005") from None
    if not values or not all(0 < v <= 1 for v in values):
        raise QecInputError(f"p grid {text!r} must list probabilities in (0, 1]")
    return values


def parse_distances(text: str) -> list[int]:
    """A comma-separated list of distances, e.g. `3,5,7`."""
    try:
        distances = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise QecInputError(f"malformed distance list {text!r}: use integers separated by commas, e.g. 3,5,7") from None
    if not distances:
        raise QecInputError("the distance list is empty: give at least one distance, e.g. --distance 3,5,7")
    return sorted(set(distances))


def parse_rounds(text: str) -> int | None:
    """`d` (rounds = distance, returned as None) or a positive integer."""
    if text.strip().lower() == "d":
        return None
    try:
        rounds = int(text)
    except ValueError:
        rounds = 0
    if rounds < 1:
        raise QecInputError(f"rounds must be 'd' or an integer >= 1, got {text!r}")
    return rounds


def study_tasks(family: str, *, distances: Iterable[int], ps: Iterable[float], noise: str, rounds: int | None = None,
                basis: str = "Z", decoder: str = "pymatching", pauli: str | None = None) -> list[Task]:
    """One memory task per (distance, p); rounds default to the distance."""
    return [Task.memory(family, distance=d, p=p, noise=noise, rounds=rounds, basis=basis, decoder=decoder, pauli=pauli)
            for d in distances for p in ps]


def point_from_totals(totals: TaskTotals) -> Point:
    """A `Point` from a stored task whose metadata has family, distance, rounds, noise and p."""
    meta = totals.metadata
    return Point(family=str(meta.get("family", "?")), distance=int(meta.get("distance", meta.get("d", 0))),
                 rounds=int(meta.get("rounds", meta.get("r", 1))), noise=str(meta.get("noise", "?")),
                 p=float(meta.get("p", math.nan)), decoder=totals.decoder, shots=totals.shots, errors=totals.errors,
                 discards=totals.discards, seconds=totals.seconds)


@dataclass(frozen=True)
class StudyResult:
    """The points of a study, its threshold fit and Lambda estimates, and where the counts are stored."""

    points: list[Point]
    threshold: ThresholdFit
    lambdas: list[LambdaEstimate] = field(default_factory=list)
    store: str = ""

    def as_dict(self) -> dict:
        below = [estimate.as_dict() for estimate in self.lambdas
                 if self.threshold.p is None or estimate.p < self.threshold.p]
        return {"threshold": self.threshold.as_dict(), "lambda": below,
                "points": [pt.as_dict() for pt in self.points], "store": self.store}


def analyse(points: list[Point], *, store: str = "", correction: bool | None = None) -> StudyResult:
    """Fit and Lambda for `points`; one distance or fewer than 3 p values gives no fit, said plainly.
    `correction` is `fit_threshold`'s finite-size correction (default: with >= 4 distances)."""
    points = sorted(points, key=lambda pt: (pt.distance, pt.p))
    try:
        fit = fit_threshold(points, correction=correction)
    except QecInputError as error:
        fit = ThresholdFit(None, None, None, str(error))
    return StudyResult(points, fit, suppression_factors(points), store)


def run_study(tasks: list[Task], *, store: Store, stop: StopRule, workers: int | None = None, executor=None,
              chunk_shots: int | None = None, on_progress: Callable[[Progress], None] | None = None) -> StudyResult:
    """Collects `tasks` into `store` (resuming what is there; see `collect` for the options) and analyses them."""
    totals = collect(tasks, store=store, stop=stop, workers=workers, executor=executor, chunk_shots=chunk_shots,
                     on_progress=on_progress)
    return analyse([point_from_totals(t) for t in totals.values()], store=str(store.path))
