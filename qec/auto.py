"""Threshold studies found automatically (`qec threshold --auto`): no p grid to choose.

`auto_threshold` runs rounds of the one study runner (`qec.study.collect_into`) into one store:

1. **Scan.** A coarse log grid of p over the noise model's usual range (its registry entry's `scan_range`:
   code capacity 2%-20%, phenomenological 0.5%-6%, circuit-level noise 0.1%-2%), up to `SCAN_STOP` per point.
   When the curves of successive distances do not cross there, the grid is extended (upwards when the largest
   distance does better at the highest p, downwards otherwise) as far as the noise model allows.
2. **Refine.** `REFINE_POINTS` log-spaced p values (+-20% or +-45%) around the estimate: the fit's p_th, or the
   pairwise crossings while there is no fit, holding the crossings' 95% intervals and the fit's statistical one. The
   first round samples `FIRST_REFINE_ERRORS` errors per point; each later one raises that by the factor the fit's
   precision says is still needed, ((statistical half-width + noisy part) / (target - floor))^2 (the systematic
   part's floor is what the points' noise does not explain, `qec.threshold.systematic_noise`; the rest shrinks with
   more errors), between 1.5x and 3x, and by no more than keeps chi^2/dof expected below 0.6 x the fit's limit (3):
   with more errors, small codes' crossings drift apart by more than their noise, the ansatz stops describing the
   points, and the fit (so the estimate) is refused. A poor fit moves the window to the crossings, or narrows it,
   then adds the larger distances it asks for (up to `MAX_ADDED_DISTANCES`). An unresolved fit (its interval leaves
   the window, say: `qec.threshold`) is acted on: the next window holds the p values it asks for
   (`ThresholdFit.sample_next`), and the distances it asks for are added.
3. **Stop** when the threshold's 95% interval (statistical and systematic, from `qec.threshold.fit_threshold`)
   has a relative half-width (high - low) / 2 / p <= `target_precision`, or the budget runs out:
   `max_shots_total` (shots summed over the study's tasks, what the store already held included) or
   `max_seconds` (wall time of this call); or when more shots cannot help: the systematic part alone, less
   what the points' noise moves it by (`qec.threshold.systematic_noise`), exceeds the target (`systematic`),
   more errors would make the fit poor (`fit_limit`), the fit is poor already (`poor_fit`), the crossings fall
   with d in two rounds in a row, the second at more errors per point (`no_threshold`), or the curves cross
   nowhere the noise model allows (`no_crossing`). `AutoResult.stopped_by` names the rule, `STOP_RULES` says
   what each means.

Every p value lies on one lattice, 10^(k/100) rounded to 4 significant digits, and the refine windows of
successive rounds share their points where they can, so the tasks (and task ids) are the same from round to
round and run to run: counts accumulate, and a rerun on the same store resumes (a study whose budget is spent
samples nothing). Tasks of the same study already in the store (from `qec threshold --p ...`, say) count and
are used. The shot budget is kept exactly: each round's per-point shot limit is set so that the round cannot
spend more than what is left; the study stops when less than `MIN_CHUNK` (256) shots are left.

>>> from qec.auto import scan_grid
>>> scan_grid("si1000")
[0.001318, 0.001905, 0.002754, 0.003981, 0.005754, 0.008318, 0.01202, 0.01738]
"""

from __future__ import annotations

import math
import statistics
import time
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence, cast

import scipy.stats
import sinter

from qec.cluster import dask_client
from qec.crossings import Crossing, drift_down, pairwise_crossings
from qec.engine import MIN_CHUNK, Progress, StopRule, check_decoders
from qec.errors import QecInputError
from qec.noise import noise_families, noise_family
from qec.parts import StudySpec
from qec.stats import Point
from qec.store import Store
from qec.study import StudyResult, analyse, check_run_options, collect_into
from qec.task import Task
from qec.threshold import FOUND, POOR_FIT, UNRESOLVED, ThresholdFit, systematic_noise, use_correction
from qec.validation import MAX_COUNT

MIN_P, MAX_P = 1e-5, 0.5  # how far the scan may be extended

# p values lie on 10^(k / STEPS_PER_DECADE) (rounded to 4 significant digits): a step is a factor 1.023.
STEPS_PER_DECADE = 100
SCAN_SPACING = 16  # lattice steps between scan points: a factor 1.445, 6-8 points per range
SCAN_EXTENSION = 3  # points added to the scan when the curves do not cross in it
SCAN_STOP = StopRule(max_shots=25_000, max_errors=300)  # per scan point: enough to see which distance wins
MAX_SCAN_ERRORS = 4800  # the scan's error target grows (x4) up to this when its curves are too noisy to tell
# Refine windows: REFINE_POINTS values, REFINE_SPACINGS[i] lattice steps apart (nested: the wider spacing's points
# are among the narrower one's), i.e. +-20% or +-45% around the estimate. (Narrower windows give the quadratic
# ansatz too little leverage: on the surface code under SI1000, d = 3..7, its fits there were refused as poor.)
REFINE_POINTS = 5
REFINE_SPACINGS = (4, 8)
# The window holds the crossings' 95% intervals and the fit's statistical one, with this much to spare (in log p),
# and no more: the fit uses the p values around the crossings, and a wider sampled range enters its systematic part.
WINDOW_MARGIN = 1.2
FIRST_REFINE_ERRORS = 500  # per point, in the first refine round
# The per-point error target grows by this much per round, at least / at most: slowly enough not to overshoot
# the statistics at which the scaling ansatz stops describing small codes (chi^2/dof > 3 gives no estimate).
MIN_GROWTH, MAX_GROWTH = 1.5, 3.0
GROWTH_MARGIN = 1.2  # the error target asks for this much more than (precision / target)^2 predicts
FIT_LIMIT_SHARE = 0.6  # the error target grows at most until chi^2/dof is expected at this share of POOR_FIT
CHI2_NOISE_QUANTILE = 0.999  # chi^2 below this quantile of its distribution is read as noise
MAX_ROUNDS = 100  # a guard: each round raises its targets, so a study ends by its rules long before
MAX_ADDED_DISTANCES = 2  # larger distances a study adds when its fit asks for them (the user's come first)

DEFAULT_TARGET_PRECISION = 0.05
DEFAULT_MAX_SECONDS = 1800.0  # 30 minutes: a laptop's coffee break; the default study needs a few
MIN_TARGET_PRECISION = 1e-3  # a 95% relative half-width of 0.1% takes ~10^7 errors per point: beyond any laptop

# What `AutoResult.stopped_by` says, and what each means.
STOP_RULES = {
    "target_precision": "the threshold's 95% interval reached the target relative half-width",
    "max_shots_total": "the study's shots reached max_shots_total",
    "max_seconds": "this call ran max_seconds",
    "no_crossing": "the curves of successive distances cross nowhere in the p range the noise model allows",
    "systematic": "the interval's systematic part (other analysis choices) alone is wider than the target, even "
    "less what the points' noise moves it by: more shots cannot reach the target; add distances",
    "fit_limit": "more errors per point would make chi^2/dof pass its limit (the crossings of successive "
    "distances drift apart, which the scaling ansatz does not describe), and the fit be refused: this is "
    "the best these distances give; add distances",
    "poor_fit": "the finite-size scaling ansatz fits the points near the crossing poorly at these statistics (the "
    "crossings of successive distances drift apart by more than their noise), even with the larger distances "
    "the fit asked for that this study could add; add distances",
    "no_threshold": "the crossings of successive distances fall with d, seen again at more errors per point: "
    "no threshold",
    "max_rounds": f"{MAX_ROUNDS} rounds ran without reaching another rule",
}


@dataclass(frozen=True)
class AutoRound:
    """One round of an automatic study: which p values it sampled, up to which per-point targets, what it spent,
    and the threshold estimate after it (None where there was none)."""

    index: int
    stage: str  # "scan" (finding the crossing region) or "refine" (sampling around the estimate)
    p_values: tuple[float, ...]
    max_errors: int  # the per-point error target
    max_shots: int | None  # the per-point shot limit (the scan's, or what the shot budget allowed); None: none
    shots: int  # shots this round sampled (this call)
    seconds: float
    p_th: float | None = None
    low: float | None = None
    high: float | None = None

    @property
    def precision(self) -> float | None:
        """The estimate's relative half-width (high - low) / 2 / p after this round, or None."""
        return _precision(self.p_th, self.low, self.high)

    def as_dict(self) -> dict[str, Any]:
        return {
            "round": self.index,
            "stage": self.stage,
            "p_values": list(self.p_values),
            "max_errors": self.max_errors,
            "max_shots": self.max_shots,
            "shots": self.shots,
            "seconds": self.seconds,
            "p_th": self.p_th,
            "low": self.low,
            "high": self.high,
            "precision": self.precision,
        }

    def describe(self) -> str:
        values = ", ".join(f"{p:.4g}" for p in self.p_values)
        cap = f", <= {self.max_shots:,} shots" if self.max_shots is not None else ""
        after = (
            f"p_th = {self.p_th:.4g} ({self.low:.4g} .. {self.high:.4g}, ±{self.precision:.1%})"
            if self.p_th is not None and self.low is not None and self.high is not None and self.precision is not None
            else "no estimate yet"
        )
        return (
            f"round {self.index} ({self.stage}): p = {values}; up to {self.max_errors:,} errors{cap} per point; "
            f"{self.shots:,} shots in {self.seconds:.1f} s; {after}"
        )


@dataclass(frozen=True)
class AutoResult:
    """What `auto_threshold` found: the final study (points near the threshold, fit, Lambda), its rounds, the
    shots (the study's total in the store, and those this call sampled), this call's seconds, and the rule
    that stopped it (a key of `STOP_RULES`)."""

    study: StudyResult
    rounds: tuple[AutoRound, ...]
    shots: int
    shots_sampled: int
    seconds: float
    stopped_by: str
    target_precision: float
    max_shots_total: int | None = None
    max_seconds: float | None = None
    p_values: tuple[float, ...] = field(default=())  # every p the study has sampled, in order

    @property
    def precision(self) -> float | None:
        """The final threshold interval's relative half-width (high - low) / 2 / p, or None without a threshold
        found (an unresolved estimate has none)."""
        fit = self.study.threshold
        return _precision(fit.p, fit.low, fit.high) if fit.status == FOUND else None

    def as_dict(self) -> dict[str, Any]:
        """The study's JSON (`StudyResult.as_dict`) with an "auto" entry: the rounds and why it stopped."""
        return {
            **self.study.as_dict(),
            "auto": {
                "stopped_by": self.stopped_by,
                "stop_rule": STOP_RULES[self.stopped_by],
                "precision": self.precision,
                "target_precision": self.target_precision,
                "shots": self.shots,
                "shots_sampled": self.shots_sampled,
                "max_shots_total": self.max_shots_total,
                "seconds": self.seconds,
                "max_seconds": self.max_seconds,
                "p_values": list(self.p_values),
                "rounds": [r.as_dict() for r in self.rounds],
            },
        }

    @property
    def best_round(self) -> AutoRound | None:
        """The round whose estimate was the most precise (on the counts it had then), or None without any."""
        rounds = [r for r in self.rounds if r.precision is not None]
        return min(rounds, key=lambda r: cast(float, r.precision)) if rounds else None

    def describe(self) -> str:
        """One sentence: which rule stopped the study, the precision reached and what it cost."""
        reached = f"±{self.precision:.1%}" if self.precision is not None else "no threshold interval"
        best = self.best_round
        if self.precision is None and best is not None and best.p_th is not None:
            reached += (
                f" (the best on the way: round {best.index}, p_th = {best.p_th:.4g}, ±{best.precision:.1%}, "
                "on the counts it had then)"
            )
        budget = {
            "max_shots_total": f" ({self.max_shots_total:,} shots)" if self.max_shots_total else "",
            "max_seconds": f" ({self.max_seconds:g} s)" if self.max_seconds else "",
        }.get(self.stopped_by, "")
        return (
            f"stopped by {self.stopped_by}{budget}: {STOP_RULES[self.stopped_by]}; precision {reached} "
            f"(target ±{self.target_precision:.1%}) after {len(self.rounds)} round(s); {self.shots:,} shots in "
            f"the study, {self.shots_sampled:,} sampled now in {self.seconds:.1f} s"
        )


def auto_threshold(
    family: str | StudySpec,
    *,
    distances: Iterable[int],
    store: str | Path | Store,
    target_precision: float = DEFAULT_TARGET_PRECISION,
    max_shots_total: int | None = None,
    max_seconds: float | None = DEFAULT_MAX_SECONDS,
    correction: bool | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    cluster: str | None = None,
    client: Any = None,
    chunk_shots: int | None = None,
    show_progress: bool = False,
    on_round: Callable[[AutoRound], None] | None = None,
    custom_decoders: Mapping[str, sinter.Decoder] | None = None,
    **parts: Any,
) -> AutoResult:
    """Finds the threshold of `family`'s memory experiment under `noise` at `distances` without a p grid: scan,
    refine around the crossing, stop at `target_precision` or when the budget runs out (see the module).

    Args:
        family: a `StudySpec`, or a family name with `StudySpec.of`'s keywords as `parts` (noise, pauli, bias,
            rounds (default: each distance), basis, decoder, decoder_options).
        distances: >= 2 distances.
        store: the results store (a path: made if missing, resumed if not; or an open `Store`).
        target_precision: the relative half-width (high - low) / 2 / p of the threshold's 95% interval to reach.
        max_shots_total: stop when the study's tasks hold this many shots in all (None: no shot budget).
        max_seconds: stop after this much wall time in this call (None: no time limit); the chunks in flight
            then are dropped, every committed one is kept.
        correction: `fit_threshold`'s finite-size correction (default: with >= 4 distances).
        workers, scheduler, cluster, client, chunk_shots, show_progress: the executor, chunk size and progress
            bar, as `collect_into`.
        on_round: called with each `AutoRound` as it ends.
        custom_decoders: decoder objects by name, as `collect_into` takes them.

    Returns:
        An `AutoResult`. Bad arguments raise QecInputError, naming the parameter, before any store file is made.

    >>> import os, tempfile
    >>> found = auto_threshold("repetition", distances=[3, 5], noise="code-capacity", rounds=1, pauli="independent",
    ...                        store=os.path.join(tempfile.mkdtemp(), "auto.db"), max_shots_total=2_000, workers=1)
    >>> found.stopped_by, found.shots <= 2_000, found.rounds[0].stage
    ('max_shots_total', True, 'scan')
    """
    start = time.monotonic()
    spec = _Spec.checked(family, distances=distances, parts=parts)
    _check_budget(target_precision=target_precision, max_shots_total=max_shots_total, max_seconds=max_seconds)
    use_correction(spec.distances, correction)
    check_run_options(workers=workers, scheduler=scheduler, cluster=cluster, chunk_shots=chunk_shots)
    if client is not None and (scheduler or cluster):
        raise QecInputError("client= is given with scheduler= or cluster=: give one")
    scan = scan_grid(spec.study.noise.name)
    # builds every scan task: a family, distance, basis or pauli it refuses fails
    check_decoders(spec.tasks(scan), custom_decoders)
    deadline = math.inf if max_seconds is None else start + max_seconds
    with ExitStack() as stack:
        results = store if isinstance(store, Store) else stack.enter_context(Store(store))
        executor = (
            client if client is not None else stack.enter_context(dask_client(scheduler=scheduler, cluster=cluster))
        )
        options = dict(
            workers=workers,
            client=executor,
            chunk_shots=chunk_shots,
            show_progress=show_progress,
            custom_decoders=custom_decoders,
        )
        run = _Run(spec, results, target_precision, max_shots_total, deadline, correction, options, on_round)
        return run.until_stopped(scan, start)


def scan_grid(noise: str) -> list[float]:
    """The scan's p values for `noise`: lattice points every `SCAN_SPACING` steps inside its registry entry's
    `scan_range`."""
    scan_range = noise_family(noise).scan_range  # an unknown name: the error lists the known ones
    if scan_range is None:
        scannable = [name for name, entry in noise_families().items() if entry.scan_range is not None]
        raise QecInputError(
            f"the noise model {noise!r} has no threshold to find: use one of {', '.join(scannable)} (or give its "
            "registry entry a scan_range)"
        )
    low, high = scan_range
    first = math.ceil(lattice_index(low) / SCAN_SPACING)
    last = math.floor(lattice_index(high) / SCAN_SPACING)
    return [lattice_p(k * SCAN_SPACING) for k in range(first, last + 1)]


def lattice_p(k: int) -> float:
    """The k-th lattice value of p, 10^(k/100) to 4 significant digits.

    >>> lattice_p(-200), lattice_p(-230)
    (0.01, 0.005012)
    """
    return float(f"{10 ** (k / STEPS_PER_DECADE):.4g}")


def lattice_index(p: float) -> float:
    """Where p lies on the lattice: `lattice_p`'s inverse, unrounded.

    >>> round(lattice_index(lattice_p(-200)))
    -200
    """
    return math.log10(p) * STEPS_PER_DECADE


def _precision(p: float | None, low: float | None, high: float | None) -> float | None:
    if p is None or low is None or high is None or not p > 0:
        return None
    return (high - low) / 2 / p


def _check_budget(*, target_precision: Any, max_shots_total: Any, max_seconds: Any) -> None:
    if not (_is_real(target_precision) and MIN_TARGET_PRECISION <= target_precision < 1):
        raise QecInputError(
            f"target_precision={target_precision!r} is not allowed: use a relative half-width in "
            f"[{MIN_TARGET_PRECISION:g}, 1), e.g. 0.05 for ±5%"
        )
    if max_shots_total is not None and not (
        isinstance(max_shots_total, int) and not isinstance(max_shots_total, bool) and 1 <= max_shots_total <= MAX_COUNT
    ):
        raise QecInputError(
            f"max_shots_total={max_shots_total!r} is not allowed: use an integer from 1 to 2^63 - 1, "
            "or None for no shot budget"
        )
    if max_seconds is not None and not (_is_real(max_seconds) and max_seconds > 0):
        raise QecInputError(
            f"max_seconds={max_seconds!r} is not allowed: use a number of seconds > 0, or None for no time limit"
        )


def _is_real(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class _Spec:
    """What makes a task part of the study: its parts (everything but distance and p) and its distances."""

    study: StudySpec
    distances: tuple[int, ...]
    built: dict[tuple[int, float], Task] = field(default_factory=dict, compare=False)

    @staticmethod
    def checked(family: str | StudySpec, *, distances: Iterable[int], parts: dict[str, Any]) -> _Spec:
        listed = list(distances) if not isinstance(distances, (str, bytes)) else None
        if listed is None or not all(isinstance(d, int) and not isinstance(d, bool) for d in listed):
            raise QecInputError(f"distances={distances!r} is not a list of distances: give integers, e.g. [3, 5, 7]")
        if len(set(listed)) < 2:
            raise QecInputError(
                f"distances={sorted(set(listed))} gives no threshold: give >= 2 distances, e.g. [3, 5, 7]"
            )
        if not isinstance(family, StudySpec) and isinstance(parts.get("noise"), str):
            scan_grid(parts["noise"])  # before its other parameters: a model without a threshold is the news
        study = StudySpec.given(family, parts)
        scan_grid(study.noise.name)
        return _Spec(study, tuple(sorted(set(listed))))

    def task(self, distance: int, p: float) -> Task:
        key = (distance, p)
        if key not in self.built:
            self.built[key] = self.study.task(distance=distance, p=p)
        return self.built[key]

    def tasks(self, ps: Iterable[float]) -> list[Task]:
        return [self.task(d, p) for p in ps for d in self.distances]

    def allows(self, p: float) -> bool:
        """Whether the noise model takes strength p (each of its probabilities <= its limit)."""
        try:
            self.task(self.distances[0], p)
        except QecInputError:
            return False
        return MIN_P <= p <= MAX_P

    def stored_task_ids(self, store: Store) -> set[str]:
        """The ids of the store's tasks that are this study's (the same task for some p: same circuit, decoder and
        metadata)."""
        ids = set()
        for task_id, totals in store.totals().items():
            metadata = totals.metadata
            distance, p = metadata.get("distance"), metadata.get("p")
            if distance not in self.distances or not isinstance(p, float):
                continue
            try:
                if self.task(cast(int, distance), p).task_id == task_id:
                    ids.add(task_id)
            except QecInputError:
                continue
        return ids


class _OutOfTime(Exception):
    """Raised from collect()'s progress callback at the deadline: collect stops its workers and keeps what it
    committed."""


@dataclass
class _Window:
    """The refine window: REFINE_POINTS lattice values `spacing` steps apart, centred on lattice index `center`."""

    center: int
    spacing: int

    @staticmethod
    def around(center: float, *, low: float, high: float) -> _Window:
        """The narrowest window centred near `center` that holds [low, high] (with `WINDOW_MARGIN` to spare) in
        its outer points; the widest when none does."""
        half = (REFINE_POINTS - 1) // 2
        wanted = WINDOW_MARGIN * max(
            lattice_index(high) - lattice_index(center), lattice_index(center) - lattice_index(low)
        )
        for spacing in REFINE_SPACINGS:
            window = _Window(round(lattice_index(center) / spacing) * spacing, spacing)
            lowest, highest = window.center - half * spacing, window.center + half * spacing
            if highest - lattice_index(center) >= wanted and lattice_index(center) - lowest >= wanted:
                return window
        return window

    @property
    def p_values(self) -> list[float]:
        half = (REFINE_POINTS - 1) // 2
        return [lattice_p(self.center + j * self.spacing) for j in range(-half, REFINE_POINTS - half)]

    def holds(self, p: float) -> bool:
        values = self.p_values
        return values[0] <= p <= values[-1]


class _Run:
    """The rounds of one `auto_threshold` call."""

    def __init__(
        self,
        spec: _Spec,
        store: Store,
        target: float,
        max_shots_total: int | None,
        deadline: float,
        correction: bool | None,
        collect_options: dict[str, Any],
        on_round: Callable[[AutoRound], None] | None,
    ):
        self.spec, self.store, self.target = spec, store, target
        self.max_shots_total, self.deadline, self.correction = max_shots_total, deadline, correction
        self.collect_options, self.on_round = collect_options, on_round
        self.task_ids = spec.stored_task_ids(store)
        self.rounds: list[AutoRound] = []
        self.sampled = 0
        self.visited: set[tuple[int, int, int]] = set()  # (window centre, spacing, error target) of refine rounds
        self.added_distances: list[int] = []  # distances added because a fit asked for them
        self.falling_at: int | None = None  # the error target of the last round, if its crossings fell with d

    def until_stopped(self, scan: list[float], start: float) -> AutoResult:
        window: _Window | None = None
        scan_stop = SCAN_STOP
        errors_target = FIRST_REFINE_ERRORS
        stopped_by = "max_rounds"
        study: StudyResult | None = None
        for _ in range(MAX_ROUNDS):
            if window is None:
                stage, ps, stop = "scan", scan, scan_stop
            else:
                ps = [p for p in window.p_values if self.spec.allows(p)]  # (rates above 1/2 tell nothing)
                stage, stop = "refine", StopRule(max_shots=None, max_errors=errors_target)
                self.visited.add((window.center, window.spacing, errors_target))
            ended = self.sample(stage, ps, stop)
            study = self.analysed(window)
            fit = study.threshold
            # only a threshold found counts: an unresolved estimate is acted on below (its suggestion sampled)
            found = fit.status == FOUND
            self.record_estimate(*((fit.p, fit.low, fit.high) if found else (None, None, None)))
            precision = _precision(fit.p, fit.low, fit.high) if found else None
            if precision is not None and precision <= self.target:
                stopped_by = "target_precision"
                break
            if ended is not None:
                stopped_by = ended
                break
            if window is None:  # scanning: is there a crossing to refine around?
                region = _region(self.crossings(None))
                if region is None:
                    extended = self.extended_scan(scan)
                    if extended is not None:
                        scan = extended
                    elif (scan_stop.max_errors or 0) < MAX_SCAN_ERRORS:
                        scan_stop = StopRule(
                            max_shots=(scan_stop.max_shots or 0) * 4, max_errors=(scan_stop.max_errors or 0) * 4
                        )
                    else:
                        stopped_by = "no_crossing"
                        break
                    continue
                window = _Window.around(region[0], low=region[1], high=region[2])
                continue
            # refining: recentre the window and raise the per-point error target, or stop
            step = self.refined(window, study, errors_target)
            if step.stop is not None:
                stopped_by = step.stop
                break
            if step.window is None:  # no crossing any more, even over every point: scan again
                window = None
                continue
            reached = self.errors_reached(window)
            if step.distances:
                self.add_distances(step.distances)
            window = step.window
            if step.growth > 1:  # (a step at the same target keeps it, so that a window is not revisited)
                errors_target = int(max(FIRST_REFINE_ERRORS, reached * step.growth))
        if study is None or stopped_by == "max_rounds":
            study = self.analysed(window)
        return AutoResult(
            study=study,
            rounds=tuple(self.rounds),
            shots=self.total_shots(),
            shots_sampled=self.sampled,
            seconds=time.monotonic() - start,
            stopped_by=stopped_by,
            target_precision=self.target,
            max_shots_total=self.max_shots_total,
            max_seconds=None if math.isinf(self.deadline) else self.deadline - start,
            p_values=tuple(sorted({cast(float, pt.p) for pt in self.points()})),
        )

    def refined(self, window: _Window, study: StudyResult, errors_target: int) -> _Step:
        """The next refine window and error growth after a round in `window` (up to `errors_target` errors per
        point) whose points gave `study`; or the rule that stops the study."""
        fit = study.threshold

        def unseen(other: _Window) -> bool:  # a window not yet sampled at this error target
            return (other.center, other.spacing, errors_target) not in self.visited

        here = self.crossings(window)
        falling_before, self.falling_at = self.falling_at, None
        overall = {(c.distance_small, c.distance_large): c for c in self.crossings(None)}
        # each pair's crossing in the window, or over every point where it does not cross in the window
        region = _region(
            [c if c.p is not None else overall.get((c.distance_small, c.distance_large), c) for c in here]
            + [c for pair, c in overall.items() if pair not in {(h.distance_small, h.distance_large) for h in here}]
        )
        if region is None:
            return _Step(None)
        if fit.status == FOUND and fit.p is not None and fit.low is not None and fit.high is not None:
            statistical_low = fit.statistical_low if fit.statistical_low is not None else fit.low
            statistical_high = fit.statistical_high if fit.statistical_high is not None else fit.high
            statistical = (statistical_high - statistical_low) / 2
            # the systematic part is a move between two noisy fits: only what their noise does not explain is a
            # floor, the rest shrinks with more errors as the statistical part does
            floor = max(0.0, fit.systematic - systematic_noise(study.points, fit))
            room = self.target * fit.p - floor
            if room <= 0:
                return _Step(None, stop="systematic")
            growth = ((statistical + fit.systematic - floor) / room) ** 2 * GROWTH_MARGIN
            # chi^2/dof - 1 grows in proportion to the errors where the ansatz misses the points: stop before it
            # passes POOR_FIT, where the fit (and the estimate) would be refused
            excess = _systematic_excess(fit.chi2, fit.dof)
            if excess > 0:
                allowed = (FIT_LIMIT_SHARE * POOR_FIT - 1) / excess
                if allowed < MIN_GROWTH and window.spacing > REFINE_SPACINGS[0]:  # the ansatz holds better nearer
                    spacing = REFINE_SPACINGS[REFINE_SPACINGS.index(window.spacing) - 1]
                    narrower = _Window(round(lattice_index(fit.p) / spacing) * spacing, spacing)
                    if unseen(narrower):
                        return _Step(narrower, 1.0)
                if allowed < MIN_GROWTH:
                    return _Step(None, stop="fit_limit")
                growth = min(growth, allowed)
            window = _Window.around(fit.p, low=min(region[1], statistical_low), high=max(region[2], statistical_high))
            return _Step(window, min(MAX_GROWTH, max(MIN_GROWTH, growth)))
        if drift_down(here):
            # noise alone parts two crossings' 95% intervals now and then: only crossings seen to fall again, at
            # more errors per point, end the study
            if falling_before is not None and errors_target > falling_before:
                return _Step(None, stop="no_threshold")
            self.falling_at = errors_target
            return _Step(window, MAX_GROWTH)
        # unresolved: what the fit asks to sample next (p values, larger distances)
        suggested = fit.sample_next if fit.status == UNRESOLVED else None
        larger = self.addable(suggested.distances if suggested is not None else (), region[0])
        crossings_window = _Window.around(region[0], low=region[1], high=region[2])
        if fit.poor_fit:  # move to the crossings, else narrow a step (the ansatz holds nearer, if anywhere)
            if crossings_window.spacing <= window.spacing and unseen(crossings_window):
                return _Step(crossings_window, 1.0)
            if window.spacing > REFINE_SPACINGS[0]:
                spacing = REFINE_SPACINGS[REFINE_SPACINGS.index(window.spacing) - 1]
                narrower = _Window(round(lattice_index(region[0]) / spacing) * spacing, spacing)
                if unseen(narrower):
                    return _Step(narrower, 1.0)
            if larger:  # the ansatz misses these distances near the crossings: add the larger ones the fit asks for
                return _Step(window, 1.0, distances=larger)
            return _Step(None, stop="poor_fit")
        toward = _toward(fit, region)
        if toward is not None:  # its interval leaves the window, say: sample the p values the fit asks for
            more_shots = suggested is not None and suggested.more_shots
            return _Step(toward, 2.0 if more_shots or not unseen(toward) else 1.0, distances=larger)
        if larger:
            return _Step(window, 1.0, distances=larger)
        # the fit suggests no p values (it did not converge, say): a step wider, at more errors
        wider = REFINE_SPACINGS[min(REFINE_SPACINGS.index(window.spacing) + 1, len(REFINE_SPACINGS) - 1)]
        spacing = max(crossings_window.spacing, wider)
        return _Step(_Window(round(lattice_index(region[0]) / spacing) * spacing, spacing), 2.0)

    def addable(self, wanted: Sequence[int], p: float) -> tuple[int, ...]:
        """Those of the distances `wanted` (a fit's suggestion) this study may add: new ones the family builds at
        p, up to `MAX_ADDED_DISTANCES` beyond the distances it began with."""
        room = MAX_ADDED_DISTANCES - len(self.added_distances)
        added: list[int] = []
        for distance in wanted:
            if len(added) >= room or distance in self.spec.distances:
                continue
            try:
                self.spec.task(distance, p)
            except QecInputError:  # too large for the family, or a distance it does not take
                continue
            added.append(distance)
        return tuple(added)

    def add_distances(self, distances: Sequence[int]) -> None:
        """The study samples `distances` too from now on; their tasks already in the store count."""
        self.added_distances.extend(d for d in distances if d not in self.spec.distances)
        self.spec = replace(self.spec, distances=tuple(sorted({*self.spec.distances, *distances})))
        self.task_ids |= self.spec.stored_task_ids(self.store)

    def sample(self, stage: str, ps: list[float], stop: StopRule) -> str | None:
        """Samples the tasks at `ps` until `stop` holds for each, within the shot and time budgets; records the
        round. Returns the budget rule that ended it (and the study), or None."""
        started = time.monotonic()
        tasks = self.spec.tasks(ps)
        self.task_ids.update(task.task_id for task in tasks)
        before = self.total_shots()
        ended: str | None = None
        cap = stop.max_shots
        while ended is None:
            if time.monotonic() >= self.deadline:
                ended = "max_seconds"
                break
            totals = self.store.totals(task.task_id for task in tasks)
            counts = [totals[t.task_id].counts if t.task_id in totals else None for t in tasks]
            pending = [c.shots if c else 0 for c in counts if c is None or stop.progress(c.shots, c.errors) < 1]
            if not pending:
                break
            rule = stop
            if self.max_shots_total is not None:
                left = self.max_shots_total - self.total_shots()
                if left < MIN_CHUNK:
                    ended = "max_shots_total"
                    break
                level = _shot_level(pending, left)
                if stop.max_shots is None or level < stop.max_shots:
                    rule = StopRule(max_shots=level, max_errors=stop.max_errors, precision=stop.precision)
                    cap = level
            shots = self.total_shots()
            try:
                collect_into(tasks, store=self.store, stop=rule, on_progress=self.check_time, **self.collect_options)
            except _OutOfTime:
                ended = "max_seconds"
            if rule is stop:
                break
            if ended is None and self.total_shots() == shots:  # the budget left is too thin to spread over the tasks
                ended = "max_shots_total"
        spent = self.total_shots() - before
        self.sampled += spent
        self.rounds.append(
            AutoRound(
                len(self.rounds) + 1,
                stage,
                tuple(ps),
                int(stop.max_errors or 0),
                cap,
                spent,
                time.monotonic() - started,
            )
        )
        return ended

    def check_time(self, progress: Progress) -> None:
        if time.monotonic() >= self.deadline:
            raise _OutOfTime

    def record_estimate(self, p: float | None, low: float | None, high: float | None) -> None:
        last = self.rounds[-1]
        self.rounds[-1] = AutoRound(
            last.index,
            last.stage,
            last.p_values,
            last.max_errors,
            last.max_shots,
            last.shots,
            last.seconds,
            p,
            low,
            high,
        )
        if self.on_round is not None:
            self.on_round(self.rounds[-1])

    def points(self) -> list[Point]:
        return [Point.from_totals(t) for t in self.store.totals(self.task_ids).values()]

    def total_shots(self) -> int:
        return sum(t.counts.shots for t in self.store.totals(self.task_ids).values())

    def window_points(self, window: _Window | None) -> list[Point]:
        """The study's points in `window` (all of them: None)."""
        return [pt for pt in self.points() if window is None or window.holds(cast(float, pt.p))]

    def analysed(self, window: _Window | None) -> StudyResult:
        """The study of the points in `window` (all the study's points while scanning)."""
        return analyse(self.window_points(window), store=str(self.store.path), correction=self.correction)

    def crossings(self, window: _Window | None) -> list[Crossing]:
        """The pairwise crossings of the study's points in `window` (all of them: None)."""
        return pairwise_crossings(self.window_points(window))

    def extended_scan(self, scan: list[float]) -> list[float] | None:
        """The scan with `SCAN_EXTENSION` more points on the side where the threshold lies (above when the
        largest distance does better than the smallest at the highest p), or None when the noise model allows
        none there."""
        points = self.points()
        small, large = self.spec.distances[0], self.spec.distances[-1]
        rates = {(pt.distance, pt.p): pt.rate for pt in points if pt.counts.kept > 0}
        common = [p for p in scan if (small, p) in rates and (large, p) in rates]
        upwards = bool(common) and rates[(large, common[-1])] < rates[(small, common[-1])]
        edge = round(lattice_index(scan[-1] if upwards else scan[0]) / SCAN_SPACING)
        step = 1 if upwards else -1
        added = [lattice_p((edge + step * k) * SCAN_SPACING) for k in range(1, SCAN_EXTENSION + 1)]
        added = [p for p in added if self.spec.allows(p)]
        if not added:
            return None
        return sorted(scan + added)

    def errors_reached(self, window: _Window) -> float:
        """The median errors of the window's points that have been sampled (0 when none has)."""
        errors = [pt.counts.errors for pt in self.points() if window.holds(cast(float, pt.p)) and pt.counts.shots]
        return statistics.median(errors) if errors else 0.0


def _systematic_excess(chi2: float | None, dof: int | None) -> float:
    """The part of chi^2/dof - 1 that noise does not explain: chi^2 above the `CHI2_NOISE_QUANTILE` quantile
    of the chi^2 distribution with `dof` degrees of freedom, per degree of freedom; 0 when none. Only this part
    grows with the errors, so only it predicts the fit's limit: the rule is tested after every round, so a
    chi^2 that noise gives once in twenty rounds must not end a study (chi^2 = 26.7 on 10 dof at 500 errors
    per point did so on the surface code under SI1000, d = 5, 7, 9, whose fit holds to 10,000 errors per point).

    >>> _systematic_excess(40.0, 10) > 0, _systematic_excess(26.7, 10), _systematic_excess(None, None)
    (True, 0.0, 0.0)
    """
    if chi2 is None or not dof:
        return 0.0
    return max(0.0, chi2 - float(scipy.stats.chi2.ppf(CHI2_NOISE_QUANTILE, dof))) / dof


def _region(crossings: Sequence[Crossing]) -> tuple[float, float, float] | None:
    """(p, low, high) of the crossings found: their geometric mean and the span of their 95% intervals; None when
    no pair of successive distances crosses."""
    found = [c for c in crossings if c.p is not None]
    if not found:
        return None
    center = math.exp(statistics.fmean(math.log(cast(float, c.p)) for c in found))
    low = min(c.low if c.low is not None else cast(float, c.p) for c in found)
    high = max(c.high if c.high is not None else cast(float, c.p) for c in found)
    return center, low, high


@dataclass(frozen=True)
class _Step:
    """What follows a refine round: the next window (None: scan again) and the factor for the per-point error
    target; or `stop`, the rule that ends the study."""

    window: _Window | None
    growth: float = 1.0
    stop: str | None = None
    distances: tuple[int, ...] = ()  # larger distances to add (an unresolved fit asked for them)


def _toward(fit: ThresholdFit, region: tuple[float, float, float]) -> _Window | None:
    """The refine window after an unresolved `fit` that asks for p values: centred on its estimate (the crossings'
    `region` (p, low, high) without one), holding those p values, its statistical interval and the crossings'
    (or, where no window does, centred between the estimate and those p values); None when it asks for none.

    >>> from qec.threshold import NextSamples
    >>> fit = ThresholdFit(0.0101, 0.0095, 0.0123, statistical_low=0.0096, statistical_high=0.0122,
    ...                    status="unresolved", sample_next=NextSamples((0.01309, 0.01428), "above"))
    >>> window = _toward(fit, (0.0102, 0.0097, 0.0108))
    >>> window.p_values[0] < 0.0095 and 0.01428 <= window.p_values[-1], window.holds(0.0101)
    (True, True)
    """
    p_range = fit.sample_next.p_range if fit.sample_next is not None else None
    if p_range is None:
        return None
    center = fit.p if fit.p is not None else region[0]
    statistical_low = fit.statistical_low if fit.statistical_low is not None else fit.low
    statistical_high = fit.statistical_high if fit.statistical_high is not None else fit.high
    lows = [region[1], p_range[0], *([statistical_low] if statistical_low is not None else [])]
    highs = [region[2], p_range[1], *([statistical_high] if statistical_high is not None else [])]
    window = _Window.around(center, low=min(lows), high=max(highs))
    if window.holds(p_range[0]) and window.holds(p_range[1]):
        return window
    # past even the widest window around the estimate: one centred between the estimate and the p values asked for
    low, high = min(center, p_range[0]), max(center, p_range[1])
    return _Window.around(math.sqrt(low * high), low=low, high=high)


def _shot_level(shots: Sequence[int], budget: int) -> int:
    """The largest per-task shot limit M with sum(max(0, M - s) for s in shots) <= budget: the tasks furthest
    behind are filled first, and the budget is never exceeded.

    >>> _shot_level([0, 0, 100], 300), _shot_level([0, 0, 100], 50)
    (133, 25)
    """
    low, high = min(shots), min(shots) + budget
    while low < high:
        middle = (low + high + 1) // 2
        if sum(max(0, middle - s) for s in shots) <= budget:
            low = middle
        else:
            high = middle - 1
    return max(1, low)
