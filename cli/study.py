"""`qec threshold`, `qec collect`, `qec stats` and `qec plot`: thin wrappers over `qec.study`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from qec.circuit_files import tasks_from_folder
from qec.cluster import dask_client, parse_local_cluster
from qec.cli.output import echo_json, warn_skipped
from qec.cli.progress import progress_display
from qec.engine import MAX_CHUNK, StopRule, check_decoders, check_workers, collect
from qec.errors import QecInputError
from qec.plot import check_plot_path, plot_threshold
from qec.stats import Point
from qec.store import Store
from qec.study import (StudyResult, analyse, parse_distances, parse_p_grid, parse_rounds, point_from_totals,
                       study_tasks)
from qec.threshold import use_correction

DEFAULT_STORE = Path("qec-results.db")
DEFAULT_DISTANCES, DEFAULT_P_GRID = "3,5,7,9", "0.0055:0.0095:5"  # the default study: ~2 min on 2 cores

Family = Annotated[str, typer.Argument(help="surface, unrotated-surface, repetition, shor or color.")]
Distances = Annotated[str, typer.Option("--distance", help="Distances, comma-separated, e.g. 3,5,7.")]
Noise = Annotated[str, typer.Option("--noise", help="Noise model (see `qec codes`).")]
PGrid = Annotated[str, typer.Option("--p", help="LOW:HIGH:N (N log-spaced values) or a list a,b,c.")]
Rounds = Annotated[str, typer.Option("--rounds", help="'d' (rounds = distance) or a number.")]
Basis = Annotated[str, typer.Option("--basis", help="Memory basis, X or Z.")]
Decoder = Annotated[str, typer.Option("--decoder", help="Decoder name (qec.decoders.names()).")]
Pauli = Annotated[Optional[str], typer.Option("--pauli", help="depolarizing or independent (code-capacity, "
                                                              "phenomenological).")]
MaxShots = Annotated[int, typer.Option("--max-shots", help="Stop a task at this many shots.")]
MaxErrors = Annotated[int, typer.Option("--max-errors", help="Stop a task at this many logical errors.")]
Precision = Annotated[Optional[float], typer.Option("--precision", help="Stop a task when its 95% interval's "
                                                                        "relative half-width is this small.")]
Workers = Annotated[Optional[int], typer.Option("--workers", help="Worker processes (default: all cores).")]
StorePath = Annotated[Path, typer.Option("--store", help="The SQLite results store.")]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of the table.")]
Scheduler = Annotated[Optional[str], typer.Option("--scheduler", help="Run on this Dask scheduler "
                                                                     "(tcp://HOST:PORT or tls://...).")]
Cluster = Annotated[Optional[str], typer.Option("--cluster", help="Start a Dask LocalCluster on 127.0.0.1: "
                                                                  "local:N for N workers.")]
ChunkShots = Annotated[Optional[int], typer.Option("--chunk-shots", help="Fixed shots per chunk (default: adapt "
                                                                         "to ~1 s); same counts on any executor.")]
Correction = Annotated[Optional[bool], typer.Option(
    "--correction/--no-correction", help="Fit with the finite-size correction D d^(-1/mu) (default: with >= 4 "
                                         "distances).")]
PlotPath = Annotated[Optional[Path], typer.Option("--plot", help="Write the plot here (.png, .svg or .pdf).")]


def threshold_command(
    family: Family = "surface",
    distance: Distances = DEFAULT_DISTANCES,
    noise: Noise = "uniform",
    p: PGrid = DEFAULT_P_GRID,
    rounds: Rounds = "d",
    basis: Basis = "Z",
    decoder: Decoder = "pymatching",
    pauli: Pauli = None,
    max_shots: MaxShots = 5_000_000,
    max_errors: MaxErrors = 20_000,
    precision: Precision = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    cluster: Cluster = None,
    chunk_shots: ChunkShots = None,
    store: StorePath = DEFAULT_STORE,
    plot: PlotPath = Path("threshold.png"),
    correction: Correction = None,
    as_json: Json = False,
) -> None:
    """Sample, decode, store, fit and plot a threshold study (resumes from the store)."""
    distances = parse_distances(distance)
    use_correction(distances, correction)  # a fit that cannot be made fails before any sampling
    tasks = study_tasks(family, distances=distances, ps=parse_p_grid(p), noise=noise,
                        rounds=parse_rounds(rounds), basis=basis, decoder=decoder, pauli=pauli)
    if plot is not None:
        check_plot_path(plot, inputs=[store])
    totals = _collect(tasks, StopRule(max_shots=max_shots, max_errors=max_errors, precision=precision), store=store,
                      workers=workers, scheduler=scheduler, cluster=cluster, chunk_shots=chunk_shots, quiet=as_json)
    study = analyse([point_from_totals(t) for t in totals.values()], store=str(store), correction=correction)
    _report_and_plot(study, as_json, plot)


def collect_command(
    family: Annotated[Optional[str], typer.Argument(help="Code family; or give --circuits.")] = None,
    circuits: Annotated[Optional[Path], typer.Option("--circuits", help="A folder of .stim files (metadata from "
                                                                        "names like d=5,p=0.001.stim).")] = None,
    distance: Distances = DEFAULT_DISTANCES,
    noise: Noise = "uniform",
    p: PGrid = DEFAULT_P_GRID,
    rounds: Rounds = "d",
    basis: Basis = "Z",
    decoder: Decoder = "pymatching",
    pauli: Pauli = None,
    max_shots: MaxShots = 1_000_000,
    max_errors: MaxErrors = 2000,
    precision: Precision = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    cluster: Cluster = None,
    chunk_shots: ChunkShots = None,
    store: StorePath = DEFAULT_STORE,
    as_json: Json = False,
) -> None:
    """Sample and decode only, into the store: from flags, or from a folder of .stim circuits."""
    if (family is None) == (circuits is None):
        raise QecInputError("give either a code FAMILY or --circuits FOLDER (not both)")
    if circuits is not None:
        tasks = tasks_from_folder(circuits, decoder=decoder)
    else:
        tasks = study_tasks(family, distances=parse_distances(distance), ps=parse_p_grid(p), noise=noise,
                            rounds=parse_rounds(rounds), basis=basis, decoder=decoder, pauli=pauli)
    totals = _collect(tasks, StopRule(max_shots=max_shots, max_errors=max_errors, precision=precision), store=store,
                      workers=workers, scheduler=scheduler, cluster=cluster, chunk_shots=chunk_shots, quiet=as_json)
    points = [point_from_totals(t) for t in totals.values()]
    if as_json:
        echo_json({"points": [pt.as_dict() for pt in points], "store": str(store)})
    else:
        typer.echo(_table(points))


def stats_command(store: StorePath = DEFAULT_STORE, as_json: Json = False) -> None:
    """Print every point in the store with its rate and 95% Wilson interval."""
    with Store(_existing(store), read_only=True) as results:
        points = sorted((point_from_totals(t) for t in results.totals().values()),
                        key=lambda pt: (pt.family, pt.noise, pt.decoder, pt.distance, pt.p))
        warn_skipped(results)
    if as_json:
        echo_json({"points": [pt.as_dict() for pt in points], "store": str(store)})
    else:
        typer.echo(_table(points))


def plot_command(
    out: Annotated[Path, typer.Option("--out", help="The figure file (.png, .svg or .pdf).")],
    store: StorePath = DEFAULT_STORE,
    family: Annotated[Optional[str], typer.Option(help="Only this family.")] = None,
    noise: Annotated[Optional[str], typer.Option(help="Only this noise model.")] = None,
    decoder: Annotated[Optional[str], typer.Option(help="Only this decoder.")] = None,
    correction: Correction = None,
    as_json: Json = False,
) -> None:
    """Fit and plot one study from the store (pick it with --family/--noise/--decoder if there are several)."""
    check_plot_path(out, inputs=[store])
    with Store(_existing(store), read_only=True) as results:
        points = [point_from_totals(t) for t in results.totals().values()]
        warn_skipped(results)
    points = [pt for pt in points if (family is None or pt.family == family) and (noise is None or pt.noise == noise)
              and (decoder is None or pt.decoder == decoder)]
    studies = sorted({(pt.family, pt.noise, pt.decoder) for pt in points})
    if not studies:
        raise QecInputError(f"no points in {store} match; `qec stats --store {store}` lists them")
    if len(studies) > 1:
        listed = "; ".join(f"--family {f} --noise {n} --decoder {d}" for f, n, d in studies)
        raise QecInputError(f"{store} holds {len(studies)} studies; pick one: {listed}")
    study = analyse(points, store=str(store), correction=correction)
    _report_and_plot(study, as_json, out)


def _collect(tasks: list, stop: StopRule, *, store: Path, workers: int | None, scheduler: str | None,
             cluster: str | None, chunk_shots: int | None, quiet: bool) -> dict:
    """collect() into `store` on the local pool or Dask, with the progress display unless `quiet`."""
    _check_executor_options(workers=workers, scheduler=scheduler, cluster=cluster, chunk_shots=chunk_shots)
    check_decoders(tasks)  # before the store file is made
    with Store(store) as results, dask_client(scheduler=scheduler, cluster=cluster) as client, \
            progress_display(len(tasks), quiet=quiet) as on_progress:
        return collect(tasks, store=results, stop=stop, workers=workers, executor=client, chunk_shots=chunk_shots,
                       on_progress=on_progress)


def _check_executor_options(*, workers: int | None, scheduler: str | None, cluster: str | None,
                            chunk_shots: int | None) -> None:
    """Refuses bad --workers, --chunk-shots, --scheduler/--cluster before the store file is made or a process
    started."""
    if workers is not None:
        check_workers(workers, local=not (scheduler or cluster))
    if chunk_shots is not None and not 1 <= chunk_shots <= MAX_CHUNK:  # collect() says so too, but after the store
        raise QecInputError(f"chunk_shots={chunk_shots} is not allowed: use an integer from 1 to {MAX_CHUNK:,} (one "
                            "chunk's shots are held in memory at once)")
    if scheduler and cluster:
        raise QecInputError("give --scheduler or --cluster, not both")
    if cluster:
        parse_local_cluster(cluster)


def _existing(store: Path) -> Path:
    if not store.exists():
        raise QecInputError(f"no store at {store}: run `qec threshold` or `qec collect` first, or give --store")
    return store


def _report_and_plot(study: StudyResult, as_json: bool, plot: Path | None) -> None:
    """Prints the study, then writes the plot: a plot that cannot be written still leaves the results printed."""
    try:
        if plot is not None:
            plot_threshold(study.points, study.threshold, plot)
    except OSError as error:
        _report(study, as_json, None)
        raise QecInputError(f"could not write the plot {plot}: {error.strerror or error}; the results above are in "
                            f"the store {study.store}: `qec plot --store {study.store} --out FILE` draws them") from None
    _report(study, as_json, plot)


def _report(study: StudyResult, as_json: bool, plot: Path | None) -> None:
    if as_json:
        echo_json(study.as_dict())
        return
    typer.echo(_table(study.points))
    for estimate in study.lambdas:
        if study.threshold.p is None or estimate.p < study.threshold.p:
            typer.echo(f"Lambda(d={estimate.distance_small}->{estimate.distance_large}, p={estimate.p:.4g}) = "
                       f"{estimate.value:.3g}  [{estimate.low:.3g}, {estimate.high:.3g}]")
    typer.echo(study.threshold.describe())
    typer.echo(f"method: {study.threshold.method}")
    if plot is not None:
        typer.echo(f"plot: {plot}")
    typer.echo(f"store: {study.store}")


def _table(points: list[Point]) -> str:
    header = (f"{'family':<12}{'noise':<18}{'decoder':<12}{'d':>3}{'rounds':>7}{'p':>10}{'shots':>11}{'errors':>8}"
              f"{'rate':>11}{'95% interval':>24}{'per round':>11}")
    lines = [header]
    for pt in points:
        low, high = pt.rate_interval
        lines.append(f"{pt.family:<12}{pt.noise:<18}{pt.decoder:<12}{pt.distance:>3}{pt.rounds:>7}{pt.p:>10.4g}"
                     f"{pt.shots:>11,}{pt.errors:>8,}{pt.rate:>11.3e}{f'[{low:.2e}, {high:.2e}]':>24}"
                     f"{pt.rate_per_round:>11.3e}")
    return "\n".join(lines)
