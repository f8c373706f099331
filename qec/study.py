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

from qec.codes import MAX_DISTANCE, MAX_ROUNDS, approximate, shown_integer
from qec.engine import Progress, StopRule, collect
from qec.errors import QecInputError
from qec.stats import LambdaEstimate, Point, suppression_factors
from qec.store import Store, TaskTotals
from qec.task import Task
from qec.threshold import ThresholdFit, fit_threshold

# A study is distances x p values, one task each. Threshold studies use ~5 of each; 10,000 tasks is far
# beyond them, and the limits are checked on the text, before any list is built.
MAX_DISTANCES = 100
MAX_P_VALUES = 100
MAX_TASKS = MAX_DISTANCES * MAX_P_VALUES


def parse_p_grid(text: str) -> list[float]:
    """`LOW:HIGH:N` (N log-spaced values, ends included) or a comma-separated list, each in (0, 1].

    At most `MAX_P_VALUES` values: a larger N or list is refused before any list is built.
    """
    if ":" in text:
        try:
            low, high, count = text.split(":")
            low_p, high_p, n = float(low), float(high), int(count)
        except ValueError:
            raise _malformed_p_grid(text) from None
        _check_p_count(n)
        if n < 1 or not (math.isfinite(low_p) and math.isfinite(high_p)) or not 0 < low_p <= high_p:
            raise _malformed_p_grid(text)
        values = [low_p] if n == 1 else [math.exp(math.log(low_p) + (math.log(high_p) - math.log(low_p)) * k
                                                  / (n - 1)) for k in range(n)]
    else:
        _check_p_count(text.count(",") + 1)
        try:
            values = [float(v) for v in text.split(",") if v.strip()]
        except ValueError:
            raise _malformed_p_grid(text) from None
    if not values or not all(0 < v <= 1 for v in values):  # False for NaN too
        raise QecInputError(f"p grid {_quoted(text)} must list probabilities in (0, 1], e.g. 0.001:0.01:5 or "
                            "0.001,0.002")
    return values


def _malformed_p_grid(text: str) -> QecInputError:
    return QecInputError(f"malformed p grid {_quoted(text)}: use LOW:HIGH:N (log-spaced, finite 0 < LOW <= HIGH, "
                         "N >= 1) or a list like 0.001,0.002,0.005")


def _check_p_count(count: int) -> None:
    if count > MAX_P_VALUES:
        raise QecInputError(f"a p grid of {approximate(count)} values is too large; the limit is {MAX_P_VALUES} "
                            f"(with {MAX_DISTANCES} distances, {MAX_TASKS:,} tasks): use fewer values")


def parse_distances(text: str) -> list[int]:
    """A comma-separated list of distances, e.g. `3,5,7`: at most `MAX_DISTANCES`, each at most `MAX_DISTANCE`."""
    if text.count(",") + 1 > MAX_DISTANCES:
        raise QecInputError(f"a list of {approximate(text.count(',') + 1)} distances is too long; the limit is "
                            f"{MAX_DISTANCES} (with {MAX_P_VALUES} p values, {MAX_TASKS:,} tasks): use fewer")
    try:
        distances = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise QecInputError(f"malformed distance list {_quoted(text)}: use integers separated by commas, "
                            "e.g. 3,5,7") from None
    if not distances:
        raise QecInputError("the distance list is empty: give at least one distance, e.g. --distance 3,5,7")
    too_large = [d for d in distances if d > MAX_DISTANCE]
    if too_large:
        raise QecInputError(f"distance {shown_integer(too_large[0])} is too large; the limit is {MAX_DISTANCE:,} "
                            "(and the circuit's detectors and qubits are limited too): use a smaller distance")
    return sorted(set(distances))


def parse_rounds(text: str) -> int | None:
    """`d` (rounds = distance, returned as None) or an integer in [1, `MAX_ROUNDS`]."""
    if text.strip().lower() == "d":
        return None
    try:
        rounds = int(text)
    except ValueError:
        rounds = 0
    if not 1 <= rounds <= MAX_ROUNDS:
        raise QecInputError(f"rounds must be 'd' or an integer in [1, {MAX_ROUNDS:,}], got {_quoted(text)}")
    return rounds


def _quoted(text: str) -> str:
    """`text` quoted for a message, cut to 60 characters."""
    return repr(text if len(text) <= 60 else text[:57] + "...")


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
