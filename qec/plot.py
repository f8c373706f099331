"""Figures: logical error rate per shot and per round vs p, one curve per distance, log-log, with bands.

>>> import os, tempfile
>>> from qec.stats import Point
>>> from qec.plot import plot_threshold
>>> points = [Point("surface", d, d, "sd6", p, "pymatching", 10**4, e, 0)
...           for d, p, e in [(3, .005, 120), (3, .01, 400), (5, .005, 60), (5, .01, 500)]]
>>> plot_threshold(points, None, os.path.join(tempfile.mkdtemp(), "t.png"))
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from qec.outputs import check_output_path, write_atomically  # noqa: E402
from qec.stats import Point  # noqa: E402
from qec.threshold import ThresholdFit  # noqa: E402

FORMATS = (".png", ".svg", ".pdf")


def check_plot_path(path: str | Path, *, inputs: Iterable[str | Path] = ()) -> Path:
    """`path` as a Path if a figure may be written there (see `qec.outputs.check_output_path`): its suffix is a
    format we write and it is none of `inputs`; else QecInputError. Call it before sampling."""
    return check_output_path(path, suffixes=FORMATS, inputs=inputs)


def plot_threshold(points: Sequence[Point], fit: ThresholdFit | None, path: str | Path) -> None:
    """Writes the two-panel figure to `path` (.png, .svg or .pdf); marks p_th and its interval when `fit` has one."""
    path = check_plot_path(path)
    figure, (per_shot, per_round) = plt.subplots(1, 2, figsize=(11, 4.5))
    for distance in sorted({pt.distance for pt in points}):
        curve = sorted((pt for pt in points if pt.distance == distance and pt.errors > 0), key=lambda pt: pt.p)
        if not curve:
            continue
        ps = [pt.p for pt in curve]
        for axes, rates, intervals in (
            (per_shot, [pt.rate for pt in curve], [pt.rate_interval for pt in curve]),
            (per_round, [pt.rate_per_round for pt in curve], [pt.rate_per_round_interval for pt in curve]),
        ):
            line, = axes.plot(ps, rates, marker="o", label=f"d = {distance}, {curve[0].rounds} rounds")
            axes.fill_between(ps, [lo for lo, _ in intervals], [hi for _, hi in intervals], alpha=0.25,
                              color=line.get_color())
    first = points[0] if points else None
    title = f"{first.family}, {first.noise} noise, {first.decoder}: " if first else ""
    for axes, kind in ((per_shot, "shot"), (per_round, "round")):
        if fit is not None and fit.p is not None:
            limit = "d → ∞, " if fit.extrapolated else ""
            axes.axvline(fit.p, color="black", linestyle="--", label=f"p_th = {fit.p:.3g} ({limit}per-shot fit)")
            axes.axvspan(fit.low, fit.high, color="gray", alpha=0.2)
        axes.set(xscale="log", yscale="log", xlabel="physical error rate p", ylabel=f"logical error rate per {kind}",
                 title=f"{title}per {kind}")
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize="small")
    figure.tight_layout()
    try:
        write_atomically(path, figure.savefig)
    finally:
        plt.close(figure)
