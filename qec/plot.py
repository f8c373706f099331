"""Figures: logical error rate vs p, one curve per distance, log-log, with 95% bands, the crossings of successive
distances, and the threshold by the fit's status: found, a black dashed line with its interval shaded; unresolved,
a grey dashed line at the estimate (where there is one) with its interval hatched, labelled unresolved with the p
values to sample next; none (no threshold), no line.

`plot_threshold` draws one panel (per shot or per round) into the caller's axes, as sinter's plots do, so it
works in a notebook and in a script; `save_threshold_figure` writes both panels to a file. `plot_curves` draws
the curves of any slice of a store (`qec.slices`: decoder A against decoder B, say) into one axes, and
`save_slice_figure` writes one panel per rate. None switches matplotlib's backend: the file is drawn by a
`Figure` of its own, without pyplot. Text from data (family, noise and decoder names, keys, conditions, curve
labels) is drawn as `shown` makes it: control characters escaped, and `$` as itself, never as mathtext.

>>> import os, tempfile
>>> from qec.stats import Point
>>> from qec.task import Counts
>>> from qec.plot import plot_threshold, save_threshold_figure
>>> points = [Point("surface", d, d, "sd6", p, "pymatching", Counts(10**4, e))
...           for d, p, e in [(3, .005, 120), (3, .01, 400), (5, .005, 60), (5, .01, 500)]]
>>> figure = plot_threshold(points, None, rate="round")
>>> figure.axes[0].get_ylabel()
'logical error rate per round'
>>> save_threshold_figure(points, None, os.path.join(tempfile.mkdtemp(), "t.png"))
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence, cast

from qec.outputs import check_output_path, write_atomically
from qec.slices import Slice, x_value
from qec.stats import RATE_KINDS, Point
from qec.text import printable
from qec.threshold import FOUND, RATES, UNRESOLVED, ThresholdFit

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

FORMATS = (".png", ".svg", ".pdf")
X_LABELS = {
    "p": "physical error rate p",
    "discard_rate": "discard rate (shots discarded / shots)",
    "erasure_fraction": "erasure fraction R_e (share of errors heralded)",
}


def shown(text: object) -> str:
    r"""`text` (from data) as a label, title or legend entry draws it: `qec.text.printable` (no control character
    or line break), with each `$` escaped so that matplotlib draws a dollar sign, not mathtext.

    >>> shown("fam$x^2$\nily")
    'fam\\$x^2\\$\\nily'
    """
    return printable(text).replace("$", r"\$")


def _unit_of(points: Sequence[Point]) -> str:
    """The operation the points' per-operation rate counts (a round for memories; 'operation' when they differ)."""
    units = {pt.unit for pt in points}
    return units.pop() if len(units) == 1 else "operation"


def check_plot_path(path: str | Path, *, inputs: Iterable[str | Path] = ()) -> Path:
    """`path` as a Path if a figure may be written there (see `qec.outputs.check_output_path`): its suffix is a
    format we write and it is none of `inputs`; else QecInputError. Call it before sampling."""
    return check_output_path(path, suffixes=FORMATS, inputs=inputs)


def plot_threshold(
    points: Sequence[Point], fit: ThresholdFit | None, *, ax: Axes | None = None, rate: str = "shot"
) -> Figure:
    """Draws the logical error rate per `rate` ("shot" or "round") against p into `ax` (a new figure's axes if
    None), one curve per distance with its 95% band, and p_th with its interval when `fit` found one, or its
    estimate (labelled unresolved) when `fit` is unresolved with one; returns the figure."""
    if rate not in RATES:
        raise ValueError(f"rate must be one of {', '.join(RATES)}, got {rate!r}")
    if ax is None:
        from matplotlib.figure import Figure

        ax = Figure(figsize=(5.5, 4.5)).add_subplot()
    for distance in sorted({pt.distance for pt in points if pt.distance is not None}):
        curve = sorted(
            (pt for pt in points if pt.distance == distance and pt.p is not None and pt.counts.errors > 0),
            key=lambda pt: cast(float, pt.p),
        )
        if not curve:
            continue
        ps = [cast(float, pt.p) for pt in curve]
        if rate == "shot":
            rates, intervals = [pt.rate for pt in curve], [pt.rate_interval for pt in curve]
        else:
            rates, intervals = [pt.rate_per_operation for pt in curve], [pt.rate_per_operation_interval for pt in curve]
        (line,) = ax.plot(ps, rates, marker="o", label=f"d = {distance}, {curve[0].rounds} rounds")
        ax.fill_between(
            ps, [lo for lo, _ in intervals], [hi for _, hi in intervals], alpha=0.25, color=line.get_color()
        )
    crossed = [c for c in (fit.crossings if fit is not None and fit.rate == rate else ()) if c.p is not None]
    if crossed:
        ax.plot(
            [cast(float, c.p) for c in crossed],
            [cast(float, c.rate) for c in crossed],
            "kx",
            markersize=9,
            label="crossings " + ", ".join(f"{c.distance_small}/{c.distance_large}" for c in crossed),
        )
    if fit is not None and fit.p is not None and fit.low is not None and fit.high is not None:
        limit = "d → ∞, " if fit.correction else ""
        if fit.status == FOUND:
            ax.axvline(fit.p, color="black", linestyle="--", label=f"p_th = {fit.p:.3g} ({limit}per-{fit.rate} fit)")
            ax.axvspan(fit.low, fit.high, color="gray", alpha=0.2)
        elif fit.status == UNRESOLVED:
            suggested = fit.sample_next.p_range if fit.sample_next is not None else None
            then = f"; next p = {suggested[0]:.3g} .. {suggested[1]:.3g}" if suggested is not None else ""
            ax.axvline(
                fit.p,
                color="gray",
                linestyle="--",
                label=f"p_th ≈ {fit.p:.3g}, unresolved ({limit}per-{fit.rate} fit{then})",
            )
            ax.axvspan(fit.low, fit.high, facecolor="none", edgecolor="gray", hatch="//", alpha=0.4)
    first = points[0] if points else None
    title = shown(f"{first.family or '-'}, {first.noise or '-'} noise, {first.decoder}: ") if first else ""
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="physical error rate p",
        ylabel=shown(f"logical error rate per {_unit_of(points) if rate == 'round' else rate}"),
        title=title + shown(f"per {_unit_of(points) if rate == 'round' else rate}"),
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    figure = ax.get_figure()
    assert figure is not None
    return figure  # type: ignore[return-value]


def save_threshold_figure(points: Sequence[Point], fit: ThresholdFit | None, path: str | Path) -> None:
    """Writes the per-shot and per-round panels side by side to `path` (.png, .svg or .pdf), atomically."""
    from matplotlib.figure import Figure

    path = check_plot_path(path)
    figure = Figure(figsize=(11, 4.5))
    per_shot, per_round = figure.subplots(1, 2)
    plot_threshold(points, fit, ax=per_shot, rate="shot")
    plot_threshold(points, fit, ax=per_round, rate="round")
    figure.tight_layout()
    write_atomically(path, figure.savefig)


def plot_threshold_sweep(fits: Sequence[tuple[float, ThresholdFit]], key: str, *, ax: Axes | None = None) -> Figure:
    """Draws each study's threshold against its value of `key` (e.g. erasure_fraction) into `ax` (a new figure's
    axes if None), with the fit's interval as error bars: thresholds found as filled markers, the estimates of
    unresolved fits as open ones (labelled so: not thresholds to quote); studies with neither are named in the
    legend."""
    from matplotlib.figure import Figure

    if ax is None:
        ax = Figure(figsize=(5.5, 4.5)).subplots()
    for status, fill, label in ((FOUND, None, "threshold (95% interval)"), (UNRESOLVED, "none", "unresolved estimate")):
        rows = [
            (value, fit.p, fit.low if fit.low is not None else fit.p, fit.high if fit.high is not None else fit.p)
            for value, fit in fits
            if fit.status == status and fit.p is not None
        ]
        if rows:
            ax.errorbar(
                [row[0] for row in rows],
                [row[1] for row in rows],
                yerr=[[row[1] - row[2] for row in rows], [row[3] - row[1] for row in rows]],
                marker="o",
                markerfacecolor=fill,
                linestyle="none" if fill else "-",
                color="C0",
                capsize=3,
                label=label,
            )
    missing = [value for value, fit in fits if fit.p is None]
    if missing:
        ax.plot([], [], " ", label=f"no threshold at {key} = {', '.join(f'{value:g}' for value in missing)}")
    ax.set_xlabel(X_LABELS.get(key, shown(key)))
    ax.set_ylabel("threshold p_th")
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return cast("Figure", ax.figure)


def save_threshold_sweep_figure(fits: Sequence[tuple[float, ThresholdFit]], key: str, path: str | Path) -> None:
    """Writes `plot_threshold_sweep` to `path` (.png, .svg or .pdf), atomically."""
    path = check_plot_path(path)
    figure = plot_threshold_sweep(fits, key)
    figure.tight_layout()
    write_atomically(path, figure.savefig)


def plot_curves(curves: Slice, *, ax: Axes | None = None, rate: str = "shot") -> Figure:
    """Draws each curve of `curves` into `ax` (a new figure's axes if None): the logical error rate per `rate`
    ("shot", "round" or "qubit") against the slice's x key, with its 95% band; returns the figure. Points
    without errors (or, per qubit, without a known number of observables) are left out of a log axis.

    >>> from qec.slices import slice_points
    >>> from qec.stats import Point
    >>> from qec.task import Counts
    >>> points = [Point("surface", 3, 3, "sd6", p, decoder, Counts(10**4, e), {"p": p})
    ...           for decoder, e in (("uf", 90), ("pymatching", 60)) for p in (0.005, 0.01)]
    >>> figure = plot_curves(slice_points(points, group_by=["decoder"]))
    >>> [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    ['decoder=pymatching', 'decoder=uf']
    """
    if rate not in RATE_KINDS:
        raise ValueError(f"rate must be one of {', '.join(RATE_KINDS)}, got {rate!r}")
    if ax is None:
        from matplotlib.figure import Figure

        ax = Figure(figsize=(5.5, 4.5)).add_subplot()
    colours = [f"C{k}" for k in range(10)]
    groups = list(dict.fromkeys(curve.labels[: len(curves.group_by)] for curve in curves.curves))
    splits = list(dict.fromkeys(curve.labels[len(curves.group_by) :] for curve in curves.curves))
    for curve in curves.curves:
        drawn = [(x_value(pt, curves.x), *pt.rate_of(rate)) for pt in curve.points if pt.counts.errors > 0]
        drawn = [row for row in drawn if row[1] == row[1]]  # NaN: no kept shot, or k unknown per qubit
        if not drawn:
            continue
        # a colour per group, a line style and marker per split of it (decoder A solid, decoder B dashed, ...)
        group, split = (
            groups.index(curve.labels[: len(curves.group_by)]),
            splits.index(curve.labels[len(curves.group_by) :]),
        )
        colour, style = (group, split) if len(groups) > 1 else (split, 0)
        xs = [row[0] for row in drawn]
        (line,) = ax.plot(
            xs,
            [row[1] for row in drawn],
            marker="osD^v"[style % 5],
            linestyle=("-", "--", ":", "-.")[style % 4],
            color=colours[colour % len(colours)],
            label=shown(curve.label),
        )
        ax.fill_between(xs, [row[2] for row in drawn], [row[3] for row in drawn], alpha=0.2, color=line.get_color())
    where = shown(", ".join(condition.text for condition in curves.where))
    unit = shown(_unit_of([pt for curve in curves.curves for pt in curve.points]) if rate == "round" else rate)
    ax.set(
        xscale="log" if curves.x == "p" else "linear",
        yscale="log",
        xlabel=X_LABELS.get(curves.x, shown(curves.x)),
        ylabel=f"logical error rate per {unit}",
        title=f"{where + ': ' if where else ''}per {unit}",
    )
    ax.grid(True, which="both", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")
    figure = ax.get_figure()
    assert figure is not None
    return figure  # type: ignore[return-value]


def save_slice_figure(
    curves: Slice, path: str | Path, *, rates: Sequence[str] = ("shot", "round"), fit: ThresholdFit | None = None
) -> None:
    """Writes one panel per rate in `rates` side by side to `path` (.png, .svg or .pdf), atomically. With a `fit`
    (the curves are then one per distance, p on x: `Slice.threshold_refusal` is None) each panel is drawn by
    `plot_threshold`, crossings and p_th included; else by `plot_curves`."""
    from matplotlib.figure import Figure

    path = check_plot_path(path)
    figure = Figure(figsize=(5.5 * len(rates), 4.5))
    axes = figure.subplots(1, len(rates), squeeze=False)[0]
    for ax, rate in zip(axes, rates):
        if fit is not None:
            plot_threshold(curves.points, fit, ax=ax, rate=rate)
        else:
            plot_curves(curves, ax=ax, rate=rate)
    figure.tight_layout()
    write_atomically(path, figure.savefig)
