"""The threshold figure draws the fit by its status: found, a black dashed line with the interval shaded;
unresolved, a grey dashed line at the estimate labelled unresolved, with the p values to sample next; none, no
line."""

import pytest

from qec.plot import plot_threshold
from qec.stats import Point
from qec.task import Counts
from qec.threshold import FOUND, NONE, UNRESOLVED, NextSamples, ThresholdFit

POINTS = [
    Point("surface", d, d, "sd6", p, "pymatching", Counts(10**4, e))
    for d, p, e in [(3, 0.005, 120), (3, 0.01, 400), (3, 0.02, 1500), (5, 0.005, 60), (5, 0.01, 500), (5, 0.02, 2500)]
]


def vertical_lines(ax):
    """The lines of `ax` drawn at one x value from the bottom of the axes to its top (axvline's)."""
    return [line for line in ax.lines if len(set(line.get_xdata())) == 1 and list(line.get_ydata()) == [0, 1]]


@pytest.mark.parametrize("status", [FOUND, UNRESOLVED, NONE])
def test_the_threshold_is_drawn_by_its_status(status):
    fit = {
        FOUND: ThresholdFit(0.009, 0.0085, 0.0095),
        UNRESOLVED: ThresholdFit(
            0.009,
            0.008,
            0.023,
            statistical_low=0.008,
            statistical_high=0.023,
            status=UNRESOLVED,
            reason="unresolved: the interval leaves the sampled range",
            sample_next=NextSamples((0.0264, 0.0348), "above"),
        ),
        NONE: ThresholdFit.none("no threshold: the crossings of successive distances fall with d"),
    }[status]
    ax = plot_threshold(POINTS, fit).axes[0]
    lines = vertical_lines(ax)
    labels = [line.get_label() for line in lines]
    if status == NONE:
        assert lines == [] and not any("p_th" in text for text in ax.get_legend_handles_labels()[1])
        return
    (line,) = lines
    assert line.get_xdata()[0] == 0.009 and line.get_linestyle() == "--"
    if status == FOUND:
        assert line.get_color() == "black" and labels == ["p_th = 0.009 (per-shot fit)"]
    else:
        assert line.get_color() == "gray"
        assert labels == ["p_th ≈ 0.009, unresolved (per-shot fit; next p = 0.0264 .. 0.0348)"]
    assert labels[0] in ax.get_legend_handles_labels()[1]


def test_an_unresolved_fit_without_an_estimate_draws_no_line():
    fit = ThresholdFit.unresolved("no crossing in the sampled range", sample_next=NextSamples((0.028,), "above"))
    assert vertical_lines(plot_threshold(POINTS, fit).axes[0]) == []
