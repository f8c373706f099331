"""`qec threshold` and `qec collect`: each parses, calls one function of `qec.study`, and prints (with
`qec.cli.results`, which prints for `qec stats` and `qec plot` too)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from qec.auto import DEFAULT_MAX_SECONDS, DEFAULT_TARGET_PRECISION, auto_threshold
from qec.circuit_files import tasks_from_folder
from qec.cli.options import (
    DEFAULT_STORE,
    Auto,
    Basis,
    Bias,
    ChunkShots,
    Cluster,
    CodeFile,
    Correction,
    DecoderOption,
    Distances,
    ErasureFraction,
    ExperimentName,
    ExperimentOption,
    Family,
    Json,
    MaxErrors,
    MaxSeconds,
    MaxShots,
    MaxShotsTotal,
    Noise,
    Pauli,
    PGrid,
    PlotPath,
    Plugin,
    PostselectGap,
    Precision,
    Rounds,
    Scheduler,
    StorePath,
    StudyDecoder,
    StudyMaxErrors,
    StudyMaxShots,
    StudyPGrid,
    StudyPrecision,
    TargetPrecision,
    Workers,
    load_plugins,
    parse_erasure_fractions,
    parse_gaps,
    per_erasure_fraction,
    study_distances,
    study_spec,
)
from qec.cli.output import echo_json
from qec.cli.results import print_points, report_and_plot
from qec.decoders import DecoderSpec
from qec.decoders.basis_inference import decoding_note
from qec.engine import DEFAULT_STOP, StopRule, check_deterministic_tasks
from qec.errors import QecInputError
from qec.plot import check_plot_path, save_threshold_figure, save_threshold_sweep_figure
from qec.stats import Point
from qec.study import (
    DEFAULT_P_GRID,
    THRESHOLD_STOP,
    collect_into,
    parse_p_grid,
    parse_rounds,
    run_study,
    study_tasks,
)
from qec.text import printable
from qec.threshold import ThresholdFit, use_correction

# The flags' defaults: the stop rules of a threshold study and of collect(), as integers for Typer.
THRESHOLD_MAX_SHOTS, THRESHOLD_MAX_ERRORS = int(THRESHOLD_STOP.max_shots or 0), int(THRESHOLD_STOP.max_errors or 0)
COLLECT_MAX_SHOTS, COLLECT_MAX_ERRORS = int(DEFAULT_STOP.max_shots or 0), int(DEFAULT_STOP.max_errors or 0)


def threshold_command(
    family: Family = "surface",
    distance: Distances = None,
    noise: Noise = "uniform",
    p: StudyPGrid = None,
    rounds: Rounds = "d",
    basis: Basis = "Z",
    decoder: StudyDecoder = None,
    decoder_option: DecoderOption = None,
    pauli: Pauli = None,
    bias: Bias = None,
    erasure_fraction: ErasureFraction = None,
    experiment: ExperimentName = "memory",
    experiment_option: ExperimentOption = None,
    max_shots: StudyMaxShots = None,
    max_errors: StudyMaxErrors = None,
    precision: StudyPrecision = None,
    auto: Auto = False,
    target_precision: TargetPrecision = None,
    max_shots_total: MaxShotsTotal = None,
    max_seconds: MaxSeconds = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    cluster: Cluster = None,
    chunk_shots: ChunkShots = None,
    store: StorePath = DEFAULT_STORE,
    plot: PlotPath = Path("threshold.png"),
    correction: Correction = None,
    as_json: Json = False,
    code: CodeFile = None,
    plugin: Plugin = None,
    postselect_gap: PostselectGap = None,
) -> None:
    """Sample, decode, store, fit and plot a threshold study (resumes from the store); --auto finds the p values.
    With several --erasure-fraction values: one study per value, then the thresholds against R_e (table, JSON and
    the --plot figure; each study's own figure beside it, named PLOT-erasure-R_E.png)."""
    load_plugins(plugin)
    gaps = parse_gaps(postselect_gap)
    if len(gaps) > 1:
        raise QecInputError(
            "a threshold study takes one --postselect-gap: run one study per gap, or sample them all with "
            "`qec collect --postselect-gap G1,G2,...` and draw them with `qec plot --x discard_rate`"
        )
    fractions = parse_erasure_fractions(erasure_fraction)
    spec, user = study_spec(
        family,
        code=code,
        noise=noise,
        pauli=pauli,
        bias=bias,
        erasure_fraction=fractions[0],
        experiment=experiment,
        experiment_option=experiment_option,
        rounds=parse_rounds(rounds),
        basis=basis,
        decoder=decoder,
        decoder_option=decoder_option,
        postselect_gap=gaps[0],
    )
    specs = per_erasure_fraction(spec, fractions)
    distances = [user.min_distance] if user is not None else study_distances(distance, spec)
    use_correction(distances, correction)  # a fit that cannot be made fails before any sampling
    grid_flags = {"--p": p, "--max-shots": max_shots, "--max-errors": max_errors, "--precision": precision}
    auto_flags = {
        "--target-precision": target_precision,
        "--max-shots-total": max_shots_total,
        "--max-seconds": max_seconds,
    }
    if auto:
        given = [flag for flag, value in grid_flags.items() if value is not None]
        if given:
            raise QecInputError(
                f"--auto and {given[0]} are both given: give one (--auto picks the p values and each "
                "point's stop rule itself; bound it with --target-precision, --max-shots-total or "
                "--max-seconds)"
            )
    else:
        given = [flag for flag, value in auto_flags.items() if value is not None]
        if given:
            raise QecInputError(
                f"{given[0]} is an --auto option: add --auto (which picks the p values itself), or leave {given[0]} out"
            )
    if plot is not None:
        check_plot_path(plot, inputs=[store])
    sweep = len(specs) > 1
    found = []
    for spec in specs:
        study_plot = plot
        if sweep and plot is not None:
            study_plot = plot.with_name(f"{plot.stem}-erasure-{spec.noise.erasure_fraction:g}{plot.suffix}")
        if not auto:
            stop = StopRule(
                max_shots=THRESHOLD_MAX_SHOTS if max_shots is None else max_shots,
                max_errors=THRESHOLD_MAX_ERRORS if max_errors is None else max_errors,
                precision=precision,
            )
            study = run_study(
                study_tasks(spec, distances=distances, ps=parse_p_grid(DEFAULT_P_GRID if p is None else p)),
                store=store,
                stop=stop,
                correction=correction,
                workers=workers,
                scheduler=scheduler,
                cluster=cluster,
                chunk_shots=chunk_shots,
                show_progress=not as_json,
            )
            if not sweep:
                report_and_plot(study, as_json, plot)
                return
            if as_json:
                if study_plot is not None:
                    _save_or_explain(study.points, study.threshold, study_plot, study.as_dict(), study.store)
            else:
                report_and_plot(study, False, study_plot)
            found.append((spec.noise.erasure_fraction, study.as_dict(), study.threshold))
            continue
        searched = auto_threshold(
            spec,
            distances=distances,
            store=store,
            target_precision=DEFAULT_TARGET_PRECISION if target_precision is None else target_precision,
            max_shots_total=max_shots_total,
            max_seconds=DEFAULT_MAX_SECONDS if max_seconds is None else max_seconds,
            correction=correction,
            workers=workers,
            scheduler=scheduler,
            cluster=cluster,
            chunk_shots=chunk_shots,
            show_progress=not as_json,
            on_round=None if as_json else lambda done: typer.echo(printable(done.describe()), err=True),
        )
        if not as_json:
            report_and_plot(searched.study, False, study_plot)
            typer.echo(printable(f"auto: {searched.describe()}"))
            typer.echo(f"auto: p values {', '.join(f'{value:.4g}' for value in searched.p_values)}")
        elif study_plot is not None:
            _save_or_explain(
                searched.study.points, searched.study.threshold, study_plot, searched.as_dict(), searched.study.store
            )
        if not sweep:
            if as_json:
                echo_json(searched.as_dict())
            return
        found.append((spec.noise.erasure_fraction, searched.as_dict(), searched.study.threshold))
    if plot is not None:
        save_threshold_sweep_figure([(value, fit) for value, _, fit in found], "erasure_fraction", plot)
    if as_json:
        echo_json({"erasure_fraction": [{"erasure_fraction": value, **result} for value, result, _ in found]})
        return
    typer.echo("threshold against erasure fraction R_e:")
    for value, _, fit in found:
        typer.echo(printable(f"  R_e = {value:<6g} {fit.describe()}"))


def _save_or_explain(
    points: list[Point], threshold: ThresholdFit, plot: Path, results: dict[str, Any], store: str
) -> None:
    """Saves a study's figure; when it cannot be written, prints the results as JSON first, then one line."""
    try:
        save_threshold_figure(points, threshold, plot)
    except OSError as error:
        echo_json(results)
        raise QecInputError(
            f"could not write the plot {plot}: {error.strerror or error}; the results above are in "
            f"the store {store}: `qec plot --store {store} --out FILE` draws them"
        ) from None


def collect_command(
    family: Annotated[Optional[str], typer.Argument(help="Code family; or give --circuits.")] = None,
    circuits: Annotated[
        Optional[Path],
        typer.Option("--circuits", help="A folder of .stim files (metadata from names like d=5,p=0.001.stim)."),
    ] = None,
    distance: Distances = None,
    noise: Noise = "uniform",
    p: PGrid = DEFAULT_P_GRID,
    rounds: Rounds = "d",
    basis: Basis = "Z",
    decoder: StudyDecoder = None,
    decoder_option: DecoderOption = None,
    pauli: Pauli = None,
    bias: Bias = None,
    max_shots: MaxShots = COLLECT_MAX_SHOTS,
    max_errors: MaxErrors = COLLECT_MAX_ERRORS,
    precision: Precision = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    cluster: Cluster = None,
    chunk_shots: ChunkShots = None,
    store: StorePath = DEFAULT_STORE,
    as_json: Json = False,
    code: CodeFile = None,
    plugin: Plugin = None,
    postselect_gap: PostselectGap = None,
    erasure_fraction: ErasureFraction = None,
    experiment: ExperimentName = "memory",
    experiment_option: ExperimentOption = None,
) -> None:
    """Sample and decode only, into the store: from flags, or from a folder of .stim circuits."""
    load_plugins(plugin)
    if (family is None) == (circuits is None):
        raise QecInputError("give either a code FAMILY or --circuits FOLDER (not both)")
    gaps = parse_gaps(postselect_gap)
    fractions = parse_erasure_fractions(erasure_fraction)
    if circuits is not None:
        if erasure_fraction is not None:
            raise QecInputError(
                "--erasure-fraction is a noise model's: circuit files carry their own noise; leave it out"
            )
        parsed = DecoderSpec.parse(decoder or "pymatching", decoder_option or ())
        found = tasks_from_folder(circuits, decoder=parsed)
        check_deterministic_tasks(found)  # before any note: a refused circuit is one line
        notes = {decoding_note(task.circuit, decoder=parsed.name, options=parsed.options) for task in found} - {""}
        for note in sorted(notes) if not as_json else ():
            typer.echo(printable(f"note: {note}"), err=True)
        tasks = [
            task if gap is None else replace(task, metadata={**task.metadata, "postselect_gap": gap})
            for gap in gaps
            for task in found
        ]
    else:
        assert family is not None
        spec, user = study_spec(
            family,
            code=code,
            noise=noise,
            pauli=pauli,
            bias=bias,
            erasure_fraction=fractions[0],
            experiment=experiment,
            experiment_option=experiment_option,
            rounds=parse_rounds(rounds),
            basis=basis,
            decoder=decoder,
            decoder_option=decoder_option,
            postselect_gap=gaps[0],
        )
        distances = [user.min_distance] if user is not None else study_distances(distance, spec)
        ps = parse_p_grid(p)
        tasks = [
            task
            for each in per_erasure_fraction(spec, fractions)
            for gap in gaps
            for task in study_tasks(replace(each, postselect_gap=gap), distances=distances, ps=ps)
        ]
    totals = collect_into(
        tasks,
        store=store,
        stop=StopRule(max_shots=max_shots, max_errors=max_errors, precision=precision),
        workers=workers,
        scheduler=scheduler,
        cluster=cluster,
        chunk_shots=chunk_shots,
        show_progress=not as_json,
    )
    print_points([Point.from_totals(task) for task in totals.values()], store, as_json)
