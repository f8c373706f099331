"""`qec stats` and `qec plot` (the store's points, a study's fit, or any slice of the store as curves), and what
they and `qec threshold` print; `qec export`, `qec import` and `qec merge`: the store in and out of sinter's CSV,
and stores merged."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Annotated, Optional

import typer

from qec.cli.options import DEFAULT_STORE, Correction, Fit, GroupBy, Json, Rate, StorePath, Where, XKey
from qec.cli.output import echo_json, warn, warn_skipped
from qec.errors import QecInputError
from qec.outputs import check_output_path, write_text_atomically
from qec.plot import check_plot_path, save_slice_figure, save_threshold_figure
from qec.slices import parse_condition, parse_keys, x_value
from qec.stats import Point
from qec.store import MAX_CSV_BYTES, Added, Store, merge_stores, parse_sinter_csv
from qec.study import SliceResult, StudyResult, read_points, read_slice, read_study
from qec.text import printable


def stats_command(
    store: StorePath = DEFAULT_STORE,
    where: Where = None,
    group_by: GroupBy = None,
    x: XKey = None,
    rate: Rate = None,
    observables: Annotated[
        bool, typer.Option("--observables", help="Also print each observable's (logical qubit's) own rate.")
    ] = False,
    as_json: Json = False,
) -> None:
    """Print every point in the store with its rate and 95% Wilson interval; or a slice of them as curves."""
    if not (where or group_by or x or rate):
        stored = read_points(store)
        for line in stored.skipped:
            warn(line)
        print_points(stored.points, store, as_json, per_observable=True)
        if observables and not as_json:
            typer.echo(observables_table(stored.points))
        return
    result = _read_slice(store, where, group_by, x, rate or "shot", fit=False, correction=None)
    if as_json:
        echo_json(result.as_dict(rate=rate or "shot"))
        return
    typer.echo(slice_table(result, rate or "shot"))
    if observables:
        typer.echo(observables_table(result.curves.points))
    typer.echo(printable(f"store: {store}"))


def plot_command(
    out: Annotated[Path, typer.Option("--out", help="The figure file (.png, .svg or .pdf).")],
    store: StorePath = DEFAULT_STORE,
    family: Annotated[Optional[str], typer.Option(help="Only this family.")] = None,
    noise: Annotated[Optional[str], typer.Option(help="Only this noise model.")] = None,
    decoder: Annotated[Optional[str], typer.Option(help="Only this decoder.")] = None,
    where: Where = None,
    group_by: GroupBy = None,
    x: XKey = None,
    rate: Rate = None,
    fit: Fit = None,
    correction: Correction = None,
    as_json: Json = False,
) -> None:
    """Fit and plot one study from the store (pick it with --family/--noise/--decoder if there are several); or
    any slice of the store as curves on one figure (--where, --group-by, --x, --rate), fitted when they allow."""
    check_plot_path(out, inputs=[store])
    if not (where or group_by or x or rate or fit is not None):
        study = read_study(store, family=family, noise=noise, decoder=decoder, correction=correction)
        for line in study.skipped:
            warn(line)
        report_and_plot(study, as_json, out)
        return
    picks = [f"{key}={value}" for key, value in (("family", family), ("noise", noise), ("decoder", decoder)) if value]
    result = _read_slice(store, [*picks, *(where or [])], group_by, x, rate or "shot", fit=fit, correction=correction)
    rates = [rate] if rate else ["shot", "round"]
    try:
        save_slice_figure(result.curves, out, rates=rates, fit=None if result.study is None else result.study.threshold)
    except OSError as error:
        raise QecInputError(f"could not write the plot {out}: {error.strerror or error}") from None
    if as_json:
        echo_json(result.as_dict(rate=rate or "shot"))
        return
    if result.study is not None:
        report(result.study, False, out)
        return
    typer.echo(slice_table(result, rate or "shot"))
    typer.echo(printable(f"plot: {out}"))
    typer.echo(printable(f"store: {store}"))


def _read_slice(
    store: Path,
    where: list[str] | None,
    group_by: list[str] | None,
    x: str | None,
    rate: str,
    *,
    fit: bool | None,
    correction: bool | None,
) -> SliceResult:
    result = read_slice(
        store,
        where=[parse_condition(text) for text in where or []],
        group_by=parse_keys(group_by or []),
        x=x or "p",
        fit=fit,
        rate=rate,
        correction=correction,
    )
    for line in result.skipped:
        warn(line)
    return result


def slice_table(result: SliceResult, rate: str) -> str:
    """One line per point of each curve: the curve, x, k, shots, errors, the rate per `rate` and its 95% interval;
    then which keys split the curves and why there is no threshold fit. Text from data (labels, keys) is made
    `printable`."""
    curves, x = result.curves, result.curves.x
    labels = [printable(curve.label) for curve in curves.curves]
    width = max([5, *map(len, labels)]) + 2
    lines = [
        f"{'curve':<{width}}{printable(x):>12}{'k':>4}{'shots':>13}{'errors':>9}{f'per {rate}':>12}{'95% interval':>24}"
    ]
    for curve, label in zip(curves.curves, labels):
        for point in curve.points:
            value, low, high = point.rate_of(rate)
            k = "-" if point.observables is None else str(point.observables)
            lines.append(
                f"{label:<{width}}{x_value(point, x):>12.4g}{k:>4}{point.counts.shots:>13,}"
                f"{point.counts.errors:>9,}{value:>12.3e}{f'[{low:.2e}, {high:.2e}]':>24}"
            )
    if curves.split_by:
        lines.append(printable(f"curves split by {', '.join(curves.split_by)}: their groups repeated a value of {x}"))
    if result.no_fit:
        lines.append(printable(f"no threshold fit: {result.no_fit}"))
    return "\n".join(lines)


def observables_table(points: list[Point]) -> str:
    """Each observable's own rate and 95% interval, for the points whose store kept per-observable counts."""
    lines = [
        f"{'family':<12}{'decoder':<12}{'d':>3}{'p':>10}{'observable':>11}{'errors':>9}{'rate':>11}{'95% interval':>24}"
    ]
    for pt in points:
        distance, p = ("-" if pt.distance is None else pt.distance), ("-" if pt.p is None else f"{pt.p:.4g}")
        for rate in pt.observable_rates:
            low, high = rate.interval
            lines.append(
                f"{printable(pt.family or '-'):<12}{printable(pt.decoder):<12}{distance:>3}{p:>10}"
                f"{rate.observable:>11}{rate.errors:>9,}"
                f"{rate.rate:>11.3e}{f'[{low:.2e}, {high:.2e}]':>24}"
            )
    if len(lines) == 1:
        lines.append("(no per-observable counts in these points: rows imported without them)")
    return "\n".join(lines)


def print_points(points: list[Point], store: Path, as_json: bool, *, per_observable: bool = False) -> None:
    """The points as a table, or as JSON (with per-observable rates when `per_observable`)."""
    if as_json:
        echo_json({"points": [pt.as_dict(per_observable=per_observable) for pt in points], "store": str(store)})
    else:
        typer.echo(points_table(points))


def report_and_plot(study: StudyResult, as_json: bool, plot: Path | None) -> None:
    """Prints the study, then writes the plot: a plot that cannot be written still leaves the results printed."""
    try:
        if plot is not None:
            save_threshold_figure(study.points, study.threshold, plot)
    except OSError as error:
        report(study, as_json, None)
        raise QecInputError(
            f"could not write the plot {plot}: {error.strerror or error}; the results above are in "
            f"the store {study.store}: `qec plot --store {study.store} --out FILE` draws them"
        ) from None
    report(study, as_json, plot)


def report(study: StudyResult, as_json: bool, plot: Path | None) -> None:
    """The study's points, Lambda, crossings and threshold fit (its status: found, unresolved with what to sample
    next, or none) as lines, or as JSON."""
    if as_json:
        echo_json(study.as_dict())
        return
    typer.echo(points_table(study.points))
    for estimate in study.lambdas_below_threshold:
        typer.echo(
            f"Lambda(d={estimate.distance_small}->{estimate.distance_large}, p={estimate.p:.4g}) = "
            f"{estimate.value:.3g}  [{estimate.low:.3g}, {estimate.high:.3g}]"
        )
    for fit in study.lambda_fits_below_threshold:
        typer.echo(
            f"Lambda(p={fit.p:.4g}) = {fit.value:.3g}  [{fit.low:.3g}, {fit.high:.3g}]  fitted over d = "
            f"{', '.join(map(str, fit.distances))}"
        )
    for crossing in study.threshold.crossings:
        typer.echo(printable(f"crossing {crossing.describe()}"))
    typer.echo(f"threshold: {study.threshold.status}")
    typer.echo(printable(study.threshold.describe()))
    typer.echo(printable(f"method: {study.threshold.method}"))
    if plot is not None:
        typer.echo(printable(f"plot: {plot}"))
    typer.echo(printable(f"store: {study.store}"))


def points_table(points: list[Point]) -> str:
    """One line per point: where its metadata places it, its counts, rate and 95% interval, per round (per
    operation of each point's experiment: 'per CNOT' where all are CNOT experiments, 'per op' where they mix);
    text from data (family, noise, decoder) made `printable`."""
    units = {pt.unit for pt in points}
    per = printable(f"per {units.pop() if len(units) == 1 else 'op'}")
    header = (
        f"{'family':<12}{'noise':<18}{'decoder':<12}{'d':>3}{'rounds':>7}{'p':>10}{'shots':>11}{'errors':>8}"
        f"{'rate':>11}{'95% interval':>24}{per:>11}"
    )
    lines = [header]
    for pt in points:
        low, high = pt.rate_interval
        distance, p = ("-" if pt.distance is None else pt.distance), ("-" if pt.p is None else f"{pt.p:.4g}")
        lines.append(
            f"{printable(pt.family or '-'):<12}{printable(pt.noise_label) + ' ':<18}"
            f"{printable(pt.decoder_label) + ' ':<12}{distance:>3}{pt.rounds:>7}"
            f"{p:>10}{pt.counts.shots:>11,}{pt.counts.errors:>8,}{pt.rate:>11.3e}"
            f"{f'[{low:.2e}, {high:.2e}]':>24}{pt.rate_per_operation:>11.3e}"
        )
    return "\n".join(lines)


def export_command(
    store: StorePath = DEFAULT_STORE,
    format_: Annotated[str, typer.Option("--format", help="csv: sinter's CSV (read by `sinter plot --in`).")] = "csv",
    out: Annotated[Optional[Path], typer.Option("--out", help="Write here (.csv) instead of printing.")] = None,
) -> None:
    """Export the store as sinter CSV, one line per chunk (importing it back adds nothing)."""
    if format_ != "csv":
        raise QecInputError(f"unknown export format {format_!r}: the only format is csv (sinter's)")
    if out is not None:
        check_output_path(out, suffixes=(".csv",), inputs=[store])
    with Store(store, read_only=True) as results:
        text = results.to_sinter_csv()
        warn_skipped(results)
    if out is None:
        typer.echo(text, nl=False)
    else:
        write_text_atomically(out, text)


AcceptNewRows = Annotated[
    bool,
    typer.Option(
        "--accept-new-rows",
        help="Count rows of a task the store already holds that match none of its chunks (sinter's appended rows, "
        "another run's file), and repeats of an equal row, as new samples. Without it they are refused: they cannot "
        "be told apart from a reshaped copy (sinter combine, reordering, a dropped qec_sample column) of stored ones.",
    ),
]


def import_command(
    csv_file: Annotated[Path, typer.Argument(help="A sinter CSV file (from `sinter collect` or `qec export`).")],
    store: StorePath = DEFAULT_STORE,
    accept_new_rows: AcceptNewRows = False,
) -> None:
    """Import a sinter CSV into the store (a row already imported, or exported from this store, adds nothing)."""
    with _open_csv(csv_file) as file, parse_sinter_csv(file, source=f"import:{csv_file.name}") as rows:
        if not (accept_new_rows or store.exists() or store.is_symlink()):
            rows.refuse_repeats()  # the one refusal an import into a new store can meet: before it is made
        with Store(store) as results:  # opened once the whole file is checked
            added = results.import_rows(rows, accept_new_rows=accept_new_rows)
    typer.echo(printable(f"imported {added.chunks} new row(s) from {csv_file} into {store}{_same_seed(added)}"))


def merge_command(
    target: Annotated[Path, typer.Argument(help="The store to merge into (created if missing).")],
    sources: Annotated[list[Path], typer.Argument(help="Stores to merge from; they are only read.")],
    accept_new_rows: AcceptNewRows = False,
) -> None:
    """Merge stores: every chunk of the sources that the target lacks is added to the target."""
    for merged in merge_stores(target, sources=sources, accept_new_rows=accept_new_rows):
        summary = merged.skipped_summary()
        if summary:
            warn(summary)
        added = merged.added
        typer.echo(
            printable(f"merged {added.chunks} new chunk(s) from {merged.source} into {target}{_same_seed(added)}")
        )


def _open_csv(path: Path) -> IO[str]:
    """A CSV file to import, opened for reading row by row; a clear error for folders, FIFOs, files over
    MAX_CSV_BYTES (from its size, before reading)."""
    if not path.exists():
        raise QecInputError(f"no file at {path}: give a sinter CSV file")
    if not path.is_file():
        raise QecInputError(f"{path} is not a regular file: give a sinter CSV file")
    if path.stat().st_size > MAX_CSV_BYTES:
        raise QecInputError(f"{path} has {path.stat().st_size:,} bytes; the limit is {MAX_CSV_BYTES:,}: split it")
    try:
        return open(path, encoding="utf-8", newline="")
    except OSError as error:
        raise QecInputError(f"cannot read {path}: {error.strerror or error}") from None


def _same_seed(added: Added) -> str:
    if not added.same_seed_skipped:
        return ""
    return (
        f"; {added.same_seed_skipped} chunk(s) skipped: the store holds the same seed's samples under the same "
        "index with other shot counts, so they are kept once"
    )
