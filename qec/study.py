"""The one study runner, used by the CLI and by Python alike: tasks for a grid of distances x p, the store
opened, an executor chosen (the local process pool, a Dask `local:N` cluster, a scheduler's address or a
given `distributed.Client`), progress shown, counts collected, points read back, the threshold fitted and
Lambda estimated; and which study of a store to read.

>>> from qec.study import parse_p_grid, parse_distances
>>> [round(p, 6) for p in parse_p_grid("0.001:0.01:3")]
[0.001, 0.003162, 0.01]
>>> parse_distances("3,5,7")
[3, 5, 7]
"""

from __future__ import annotations

import math
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import sinter

from qec.arguments import callable_or_none, instance_or_none, instances, integers, known_keywords, numbers, plain
from qec.cluster import check_scheduler_address, dask_client, parse_local_cluster
from qec.codes.size import MAX_DISTANCE, MAX_ROUNDS
from qec.engine import DEFAULT_STOP, MAX_CHUNK, Progress, StopRule, check_decoders, check_workers, collect
from qec.errors import QecInputError
from qec.metadata import FOREIGN_KEYS
from qec.parts import StudySpec
from qec.progress import progress_display
from qec.slices import Condition, Slice, slice_points, x_value
from qec.stats import RATE_KINDS, LambdaEstimate, LambdaFit, Point, fit_suppression, suppression_factors
from qec.store import Store
from qec.task import Task, TaskTotals
from qec.text import approximate, shown_integer
from qec.threshold import FOUND, ThresholdFit, fit_threshold, use_correction
from qec.validation import canonical_json

# A study is distances x p values, one task each. Threshold studies use ~5 of each; 10,000 tasks is far
# beyond them, and the limits are checked on the text, before any list is built.
MAX_DISTANCES = 100
MAX_P_VALUES = 100
MAX_TASKS = MAX_DISTANCES * MAX_P_VALUES

# The default study (`qec threshold` with no options): rotated surface code, d = 3..9, Stim's uniform noise at
# five p values around its threshold, up to 20,000 errors per point (about 2 minutes on 2 cores).
DEFAULT_DISTANCES = (3, 5, 7, 9)
DEFAULT_P_GRID = "0.0055:0.0095:5"
THRESHOLD_STOP = StopRule(max_shots=5_000_000, max_errors=20_000)


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
        values = (
            [low_p]
            if n == 1
            else [math.exp(math.log(low_p) + (math.log(high_p) - math.log(low_p)) * k / (n - 1)) for k in range(n)]
        )
    else:
        _check_p_count(text.count(",") + 1)
        try:
            values = [float(v) for v in text.split(",") if v.strip()]
        except ValueError:
            raise _malformed_p_grid(text) from None
    if not values or not all(0 < v <= 1 for v in values):  # False for NaN too
        raise QecInputError(
            f"p grid {_quoted(text)} must list probabilities in (0, 1], e.g. 0.001:0.01:5 or 0.001,0.002"
        )
    return values


def _malformed_p_grid(text: str) -> QecInputError:
    return QecInputError(
        f"malformed p grid {_quoted(text)}: use LOW:HIGH:N (log-spaced, finite 0 < LOW <= HIGH, "
        "N >= 1) or a list like 0.001,0.002,0.005"
    )


def _check_p_count(count: int) -> None:
    if count > MAX_P_VALUES:
        raise QecInputError(
            f"a p grid of {approximate(count)} values is too large; the limit is {MAX_P_VALUES} "
            f"(with {MAX_DISTANCES} distances, {MAX_TASKS:,} tasks): use fewer values"
        )


def parse_distances(text: str) -> list[int]:
    """A comma-separated list of distances, e.g. `3,5,7`: at most `MAX_DISTANCES`, each at most `MAX_DISTANCE`."""
    if text.count(",") + 1 > MAX_DISTANCES:
        raise QecInputError(
            f"a list of {approximate(text.count(',') + 1)} distances is too long; the limit is "
            f"{MAX_DISTANCES} (with {MAX_P_VALUES} p values, {MAX_TASKS:,} tasks): use fewer"
        )
    try:
        distances = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise QecInputError(
            f"malformed distance list {_quoted(text)}: use integers separated by commas, e.g. 3,5,7"
        ) from None
    if not distances:
        raise QecInputError("the distance list is empty: give at least one distance, e.g. 3,5,7")
    too_large = [d for d in distances if d > MAX_DISTANCE]
    if too_large:
        raise QecInputError(
            f"distance {shown_integer(too_large[0])} is too large; the limit is {MAX_DISTANCE:,} "
            "(and the circuit's detectors and qubits are limited too): use a smaller distance"
        )
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


def study_tasks(family: str | StudySpec, *, distances: Iterable[int], ps: Iterable[float], **parts: Any) -> list[Task]:
    """One task per (distance, p) of a study: `family` is a `StudySpec`, or a family name with `StudySpec.of`'s
    keywords as `parts` (noise, pauli, bias, rounds (default: the distance), basis, decoder, decoder_options).

    >>> [task.metadata["bias"] for task in study_tasks("surface", distances=[3], ps=[0.001], noise="biased", bias=100)]
    [100.0]
    """
    if not isinstance(family, (str, StudySpec)):
        raise QecInputError(f"family is a {type(family).__name__}: give a code family's name or a StudySpec")
    spec = StudySpec.given(family, parts)
    return spec.tasks(distances=integers(distances, name="distances"), ps=numbers(ps, name="ps"))


@dataclass(frozen=True)
class StudyResult:
    """The points of a study, its threshold fit and Lambda estimates, and where the counts are stored."""

    points: list[Point]
    threshold: ThresholdFit
    lambdas: list[LambdaEstimate] = field(default_factory=list)
    store: str = ""
    skipped: list[str] = field(default_factory=list)  # what reading the store passed over, one line each
    lambda_fits: list[LambdaFit] = field(default_factory=list)  # Lambda at each p, fitted across all distances

    @property
    def lambdas_below_threshold(self) -> list[LambdaEstimate]:
        """The pairwise Lambda estimates at p below the threshold found (all of them when none was found)."""
        found = self.threshold.p if self.threshold.status == FOUND else None
        return [estimate for estimate in self.lambdas if found is None or estimate.p < found]

    @property
    def lambda_fits_below_threshold(self) -> list[LambdaFit]:
        """The Lambda fits at p below the threshold found (all of them when none was found)."""
        found = self.threshold.p if self.threshold.status == FOUND else None
        return [fit for fit in self.lambda_fits if found is None or fit.p < found]

    def as_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold.as_dict(),
            "lambda": [estimate.as_dict() for estimate in self.lambdas_below_threshold],
            "lambda_fit": [fit.as_dict() for fit in self.lambda_fits_below_threshold],
            "points": [pt.as_dict() for pt in self.points],
            "store": self.store,
        }


def analyse(
    points: list[Point], *, store: str = "", correction: bool | None = None, skipped: Sequence[str] = ()
) -> StudyResult:
    """Fit and Lambda for `points`; one distance or fewer than 3 p values gives no fit, said plainly.
    `correction` is `fit_threshold`'s finite-size correction (default: with >= 4 distances)."""
    points = sorted(points, key=lambda pt: (pt.distance, pt.p))
    try:
        fit = fit_threshold(points, correction=correction)
    except QecInputError as error:  # points that cannot be fitted as asked: not an answer about the threshold
        fit = ThresholdFit.unresolved(str(error))
    return StudyResult(points, fit, suppression_factors(points), store, list(skipped), fit_suppression(points))


def check_run_options(
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    cluster: str | None = None,
    chunk_shots: int | None = None,
) -> None:
    """Refuses bad executor options before a store file is made or a process started (`collect_into` calls it)."""
    if workers is not None:
        check_workers(workers, local=not (scheduler or cluster))
    if chunk_shots is not None and not (isinstance(chunk_shots, int) and 1 <= chunk_shots <= MAX_CHUNK):
        raise QecInputError(
            f"chunk_shots={chunk_shots!r} is not allowed: use an integer from 1 to {MAX_CHUNK:,} "
            "(a chunk is sampled in batches of bounded memory, so a larger one only takes longer)"
        )
    if scheduler and cluster:
        raise QecInputError("scheduler= and cluster= are both given: give one")
    if cluster:
        parse_local_cluster(cluster)
    if scheduler:
        check_scheduler_address(scheduler)


def collect_into(
    tasks: Sequence[Task],
    *,
    store: str | Path | Store,
    stop: StopRule = DEFAULT_STOP,
    workers: int | None = None,
    scheduler: str | None = None,
    cluster: str | None = None,
    client: Any = None,
    chunk_shots: int | None = None,
    show_progress: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
    custom_decoders: Mapping[str, sinter.Decoder] | None = None,
) -> dict[str, TaskTotals]:
    """Samples `tasks` into the store at `store` (a path: made if missing, resumed if not; or an open `Store`)
    until `stop` holds for each; returns their totals. `custom_decoders` maps decoder names to decoder objects
    of one's own, as sinter's `collect` takes them (see `qec.engine.collect`).

    The executor: a given `distributed.Client` (`client`), a Dask scheduler's address (`scheduler`, e.g.
    tcp://10.0.0.5:8786), a Dask LocalCluster of N workers on 127.0.0.1 (`cluster="local:N"`), or by default a
    local process pool of `workers` processes (all cores). `show_progress` draws a progress bar on stderr;
    `on_progress` is called with a `Progress` after every committed chunk. Bad options fail before the store
    file is made or any process started; see `qec.engine.collect` for the rest.
    """
    workers, chunk_shots = plain(workers), plain(chunk_shots)  # NumPy integers taken as ints
    tasks = instances(tasks, Task, name="tasks")
    check_store_argument(store)
    instance_or_none(stop, StopRule, name="stop")
    instance_or_none(scheduler, str, name="scheduler")
    instance_or_none(custom_decoders, Mapping, name="custom_decoders")
    callable_or_none(on_progress, name="on_progress")
    if not isinstance(plain(show_progress), bool):
        raise QecInputError(f"show_progress is a {type(show_progress).__name__}: give True or False")
    check_run_options(workers=workers, scheduler=scheduler, cluster=cluster, chunk_shots=chunk_shots)
    if client is not None and (scheduler or cluster):
        raise QecInputError("client= is given with scheduler= or cluster=: give one")
    check_decoders(tasks, custom_decoders)  # before the store file is made
    with ExitStack() as stack:
        executor = None
        if scheduler:  # connected first: an unreachable scheduler leaves no store file behind
            executor = stack.enter_context(dask_client(scheduler=scheduler))
        results = store if isinstance(store, Store) else stack.enter_context(Store(store))
        if executor is None:
            executor = client if client is not None else stack.enter_context(dask_client(cluster=cluster))
        display = stack.enter_context(progress_display(len(tasks), quiet=not show_progress))

        def report(snapshot: Progress) -> None:
            display(snapshot)
            if on_progress is not None:
                on_progress(snapshot)

        return collect(
            tasks,
            store=results,
            stop=stop,
            workers=workers,
            executor=executor,
            chunk_shots=chunk_shots,
            on_progress=report,
            custom_decoders=custom_decoders,
        )


def run_study(
    tasks: Sequence[Task],
    *,
    store: str | Path | Store,
    stop: StopRule = THRESHOLD_STOP,
    correction: bool | None = None,
    **options: Any,
) -> StudyResult:
    """Collects `tasks` into `store` (see `collect_into` for the executor and progress `options`) and analyses
    them: the points, the threshold fit (`correction`: `fit_threshold`'s finite-size correction; a fit that
    cannot be made is refused before any sampling) and Lambda. What `qec threshold` runs."""
    tasks = instances(tasks, Task, name="tasks")
    known_keywords(options, _COLLECT_OPTIONS, function="run_study")
    check_store_argument(store)
    if plain(correction) is not None and not isinstance(plain(correction), bool):
        raise QecInputError(f"correction={correction!r} is not allowed: give True, False or None (by distances)")
    use_correction(sorted({task.metadata["distance"] for task in tasks if "distance" in task.metadata}), correction)
    totals = collect_into(tasks, store=store, stop=stop, **options)
    path = store.path if isinstance(store, Store) else store
    return analyse([Point.from_totals(t) for t in totals.values()], store=str(path), correction=correction)


_COLLECT_OPTIONS = (
    "workers",
    "scheduler",
    "cluster",
    "client",
    "chunk_shots",
    "show_progress",
    "on_progress",
    "custom_decoders",
)


def check_store_argument(store: Any) -> None:
    """Refuses a `store` argument that is not a path (str or Path) or an open `Store`."""
    if not isinstance(store, (str, Path, Store)):
        raise QecInputError(f"store is a {type(store).__name__}: give a path (str or Path) or an open Store")


@dataclass(frozen=True)
class StoredPoints:
    """The points a store holds, and one line for each thing reading it passed over (bad rows, say)."""

    points: list[Point]
    skipped: list[str]


def read_points(store: str | Path) -> StoredPoints:
    """Every point in the store at `store`, opened read-only, sorted by family, noise, decoder, distance and p;
    with per-observable error counts where every chunk of a task recorded them."""
    path = Path(store)
    if not path.exists():
        raise QecInputError(
            f"no store at {path}: sample into it first (qec threshold or qec collect), or name another store"
        )
    with Store(path, read_only=True) as results:
        per_observable = _observable_errors(results)
        points = [
            Point.from_totals(task, observable_errors=per_observable.get(task.task_id))
            for task in results.totals().values()
        ]
        summary = results.skipped_summary()
    points.sort(key=lambda pt: (pt.family or "", pt.noise or "", pt.decoder, pt.distance or 0, pt.p or 0.0))
    return StoredPoints(points, [summary] if summary else [])


def _observable_errors(results: Store) -> dict[str, tuple[int, ...] | None]:
    """Per task, its chunks' per-observable error counts summed; None for a task where some chunk has none (rows
    imported from a sinter CSV) or chunks disagree on the number of observables."""
    sums: dict[str, tuple[int, ...] | None] = {}
    for chunk in results.chunk_rows():
        task_id, counts = chunk.task_id, chunk.observable_errors
        if task_id in sums and sums[task_id] is None:
            continue
        known = sums.get(task_id, ())
        if not counts or (known and len(known) != len(counts)):
            sums[task_id] = None
        else:
            sums[task_id] = tuple(a + b for a, b in zip(known, counts)) if known else counts
    return sums


def _study_parameters(point: Point) -> str:
    """What sets a point's study apart besides family, noise and decoder: the rest of its metadata (bias, pauli,
    decoder options, basis, ...), but distance, p and rounds, and the hashes of recorded data, as canonical JSON."""
    return canonical_json(
        {key: value for key, value in point.metadata.items() if key not in _POINT_AXES and key not in _PROVENANCE}
    )


_POINT_AXES = {"family", "noise", "decoder", "distance", "p", "rounds"}
_POINT_AXES |= {foreign for key in _POINT_AXES for foreign in FOREIGN_KEYS.get(key, ())}  # d, error_rate, ...
_PROVENANCE = {"recorded_sha256"}  # the hashes of each decoded recording's own files (qec.recorded)


@dataclass(frozen=True)
class SliceResult:
    """A slice of a store (`qec.slices.Slice`: the curves), and its threshold fit and Lambda (`study`) when one
    was made; `no_fit` says why there is none when that was not asked for."""

    curves: Slice
    study: StudyResult | None
    no_fit: str | None
    store: str
    skipped: list[str] = field(default_factory=list)

    def as_dict(self, *, rate: str = "shot") -> dict[str, Any]:
        """The slice as JSON: each curve's labels and points (with their x value and the rate per `rate`)."""
        curves = []
        for curve in self.curves.curves:
            points = []
            for point in curve.points:
                value, low, high = point.rate_of(rate)
                points.append(
                    {"x": x_value(point, self.curves.x), **point.as_dict(per_observable=True)}
                    | {"shown_rate": value, "shown_rate_low": low, "shown_rate_high": high}
                )
            curves.append({"label": curve.label, "labels": dict(curve.labels), "points": points})
        return {
            "x": self.curves.x,
            "rate": rate,
            "where": [condition.text for condition in self.curves.where],
            "group_by": list(self.curves.group_by),
            "split_by": list(self.curves.split_by),
            "curves": curves,
            "threshold": None if self.study is None else self.study.threshold.as_dict(),
            "lambda_fit": []
            if self.study is None
            else [fit.as_dict() for fit in self.study.lambda_fits_below_threshold],
            "no_fit": self.no_fit,
            "store": self.store,
        }


def read_slice(
    store: str | Path,
    *,
    where: Iterable[Condition] = (),
    group_by: Iterable[str] = (),
    x: str = "p",
    fit: bool | None = None,
    rate: str = "shot",
    correction: bool | None = None,
) -> SliceResult:
    """The points of `store` that meet `where`, as curves grouped by `group_by` with `x` on the x axis
    (`qec.slices.slice_points`), and their threshold fit per `rate` ("shot" or "round"; `correction` as in
    `fit_threshold`) when `fit` is True (QecInputError when the curves are not one per distance at p on x), or
    None and the curves allow it (else `no_fit` says why); no fit when `fit` is False or the rate is "qubit"."""
    if rate not in RATE_KINDS:
        raise QecInputError(f"rate={rate!r} is not a rate: use one of {', '.join(RATE_KINDS)}")
    stored = read_points(store)
    curves = slice_points(stored.points, where=where, group_by=group_by, x=x)
    skipped = [*stored.skipped, *curves.skipped]
    refusal = curves.threshold_refusal()
    if refusal is None and rate == "qubit":
        refusal = "a threshold fit is made per shot or per round, not per qubit"
    if fit and refusal:
        raise QecInputError(f"fit=True cannot be done: {refusal}; leave the fit out (fit=False)")
    if fit is False or refusal:
        return SliceResult(curves, None, refusal if fit is None else None, str(store), skipped)
    return SliceResult(
        curves, analyse(curves.points, store=str(store), correction=correction), None, str(store), skipped
    )


def read_study(
    store: str | Path,
    *,
    family: str | None = None,
    noise: str | None = None,
    decoder: str | None = None,
    correction: bool | None = None,
) -> StudyResult:
    """The study in `store` picked by `family`, `noise` and `decoder` (each may be left out when the store holds
    one study), fitted and analysed; points without a distance or p are passed over, and said so in `skipped`.
    Raises QecInputError listing the studies when the pick is not one study."""
    stored = read_points(store)
    picked = [
        pt
        for pt in stored.points
        if (family is None or pt.family == family)
        and (noise is None or pt.noise == noise)
        and (decoder is None or pt.decoder == decoder)
    ]
    points = [pt for pt in picked if pt.is_placed]
    skipped = list(stored.skipped)
    if len(points) < len(picked):
        skipped.append(f"skipped {len(picked) - len(points)} task(s) in {store} whose metadata gives no distance or p")
    studies = sorted({(pt.family or "", pt.noise or "", pt.decoder, _study_parameters(pt)) for pt in points})
    if not studies:
        raise QecInputError(f"no points in {store} match; `qec stats --store {store}` lists them")
    if len(studies) > 1:
        listed = "; ".join(
            f"family={f or '-'} noise={n or '-'} decoder={d}" + (f" {parameters}" if parameters != "{}" else "")
            for f, n, d, parameters in studies
        )
        raise QecInputError(
            f"{store} holds {len(studies)} studies; pick one of them: {listed}; or draw them together, one curve "
            "per decoder (or any parameter) and distance (read_slice with group_by=decoder)"
        )
    return analyse(points, store=str(store), correction=correction, skipped=skipped)
