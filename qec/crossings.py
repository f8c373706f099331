"""Where the logical error rates of successive distances cross, each crossing with its 95% interval.

The crossing of distances d < d' is the p at which the larger code stops doing better: between the two sampled p
values where the rate difference P_d' - P_d turns from negative to non-negative, interpolated linearly in log p
(where noise makes it turn more than once, the turn that best splits the p values into better below and worse
above, weighing each difference by its noise). Its interval comes from parametric bootstrap resamples of the
binomial counts (resamples whose curves do not cross in range are counted as such). A code with a threshold has
crossings that settle (for the surface code they climb towards p_th as d grows); crossings that fall steadily with
d, each the last far below the first, are the sign of a code without one (the generalized Shor code under phase
flips, say), and `drift_down` says so; crossings that climb significantly (`drift_up`) have not settled yet.

>>> from qec.stats import Point
>>> from qec.task import Counts
>>> points = [Point("shor", d, 1, "code-capacity", p, "pymatching", Counts(10**5, int(10**5 * r)))
...           for d, p, r in [(3, .01, .02), (3, .02, .05), (5, .01, .01), (5, .02, .06)]]
>>> (crossing,) = pairwise_crossings(points, seed=1)
>>> crossing.distance_small, crossing.distance_large, round(crossing.p, 4)
(3, 5, 0.0141)
>>> crossing.low < crossing.p < crossing.high
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence, cast

import numpy as np

from qec.stats import Point, per_round_rate

CROSSING_RESAMPLES = 200


@dataclass(frozen=True)
class Crossing:
    """The crossing of two successive distances' rates: p with its 95% interval, or None (and `reason`) when
    they do not cross in the sampled range. `rate` is the logical error rate there (per shot or per round)."""

    distance_small: int
    distance_large: int
    p: float | None
    low: float | None = None
    high: float | None = None
    rate: float | None = None
    side: str | None = None  # with no crossing: "above" (the larger code does better at every p), "below" (worse)

    @property
    def reason(self) -> str:
        """Why there is no crossing ("" when there is one)."""
        if self.p is not None:
            return ""
        return {
            "above": "the larger distance does better at every p",
            "below": "the larger distance does worse at every p",
        }.get(self.side or "", "the curves do not cross consistently, or share < 2 p values")

    def as_dict(self) -> dict[str, Any]:
        return {
            "distance_small": self.distance_small,
            "distance_large": self.distance_large,
            "p": self.p,
            "low": self.low,
            "high": self.high,
            "rate": self.rate,
            "reason": self.reason or None,
        }

    def describe(self) -> str:
        pair = f"d = {self.distance_small}/{self.distance_large}"
        if self.p is None:
            return f"{pair}: no crossing ({self.reason})"
        interval = f" (95% {self.low:.4g} .. {self.high:.4g})" if self.low is not None and self.high is not None else ""
        return f"{pair}: p = {self.p:.4g}{interval}"


def pairwise_crossings(
    points: Sequence[Point], *, rate: str = "shot", seed: int | None = 0, resamples: int = CROSSING_RESAMPLES
) -> list[Crossing]:
    """The crossing of each pair of successive distances among `points` (placed points of one study), at the p
    values both distances have; `rate` is "shot" or "round"."""
    by_distance: dict[int, dict[float, Point]] = {}
    for point in points:
        if point.is_placed and point.counts.kept > 0:
            by_distance.setdefault(cast(int, point.distance), {})[cast(float, point.p)] = point
    distances = sorted(by_distance)
    rng = np.random.default_rng(seed)
    return [
        _crossing(by_distance[small], by_distance[large], small, large, rate, rng, resamples)
        for small, large in zip(distances, distances[1:])
    ]


def drift_down(crossings: Sequence[Crossing]) -> bool:
    """Whether the crossings fall with d: none significantly above the one before (its interval starts below the
    previous one's end; a pair whose larger code does worse at every sampled p crosses below the range, lower
    still) and the last significantly below the first (its interval entirely under the first's): no threshold in
    the sampled range, and likely none at all."""
    positions = []  # (p, low, high) of each pair, 0 for a crossing below the sampled range
    for crossing in crossings:
        if crossing.p is not None and crossing.low is not None and crossing.high is not None:
            positions.append((crossing.p, crossing.low, crossing.high))
        elif crossing.side == "below":
            positions.append((0.0, 0.0, 0.0))
        else:
            return False
    if len(positions) < 2 or positions[0][0] == 0:
        return False
    never_rising = all(later[1] <= earlier[2] for earlier, later in zip(positions, positions[1:]))
    return never_rising and positions[-1][2] < positions[0][1]


def drift_up(crossings: Sequence[Crossing]) -> bool:
    """Whether the crossings climb with d: every pair crosses in the sampled range and the last significantly
    above the first (its interval entirely over the first's). They have not settled yet: larger distances show
    where they go (a fit without the finite-size correction reads the climb as noise)."""
    if len(crossings) < 2 or any(c.p is None or c.low is None or c.high is None for c in crossings):
        return False
    return cast(float, crossings[-1].low) > cast(float, crossings[0].high)


def _crossing(
    small_points: dict[float, Point],
    large_points: dict[float, Point],
    small: int,
    large: int,
    rate: str,
    rng: np.random.Generator,
    resamples: int,
) -> Crossing:
    ps = np.array(sorted(set(small_points) & set(large_points)))
    if len(ps) < 2:
        return Crossing(small, large, None)
    kept = np.array([[pts[p].counts.kept for p in ps] for pts in (small_points, large_points)])
    errors = np.array([[pts[p].counts.errors for p in ps] for pts in (small_points, large_points)])
    rounds = np.array([[pts[p].rounds if rate == "round" else 1 for p in ps] for pts in (small_points, large_points)])
    observed = per_round_rate(errors / kept, rounds=rounds)[None]
    draws = rng.binomial(np.broadcast_to(kept, (resamples, *kept.shape)), errors / kept)
    resampled = per_round_rate(draws / kept, rounds=rounds)
    # the noise of the rate difference at each p, which weighs the turns (a floor where no draw varies)
    noise = np.maximum(np.std(resampled[:, 1] - resampled[:, 0], axis=0), 1e-12) if resamples else np.ones(len(ps))
    p, value = _interpolated(ps, observed, noise)
    if math.isnan(p[0]):
        difference = errors[1] / kept[1] - errors[0] / kept[0]
        side = "above" if np.all(difference <= 0) else "below" if np.all(difference >= 0) else None
        return Crossing(small, large, None, side=side)
    samples, _ = _interpolated(ps, resampled, noise)
    crossed = samples[~np.isnan(samples)]
    low, high = np.percentile(crossed, [2.5, 97.5]) if len(crossed) >= 0.95 * resamples else (ps[0], ps[-1])
    return Crossing(small, large, float(p[0]), float(min(low, p[0])), float(max(high, p[0])), float(value[0]))


def _interpolated(ps: np.ndarray, rates: np.ndarray, noise: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rates of shape (samples, 2, len(ps)) (small distance, then large): per sample, the p of the change from
    P_large < P_small to P_large >= P_small, linear in log p, and the small distance's rate there; NaN where there
    is none. Where noise makes several such changes, the one taken best splits the p values into the larger code
    doing better below and worse above: the least sum of the differences in units of their `noise` up to it
    (a change where a few errors' noise flips the sign, at low p say, is not taken over the real crossing)."""
    difference = rates[:, 1] - rates[:, 0]
    turns = (difference[:, :-1] < 0) & (difference[:, 1:] >= 0)
    has = turns.any(axis=1)
    below = np.cumsum(difference / noise, axis=1)[:, :-1]
    index = np.argmin(np.where(turns, below, np.inf), axis=1)
    rows = np.arange(len(rates))
    f0, f1 = difference[rows, index], difference[rows, index + 1]
    fraction = np.where(has, f0 / np.where(f0 != f1, f0 - f1, 1.0), np.nan)
    log_p = np.log(ps[index]) + (np.log(ps[index + 1]) - np.log(ps[index])) * fraction
    small_rate = rates[rows, 0, index] + (rates[rows, 0, index + 1] - rates[rows, 0, index]) * fraction
    return np.exp(log_p), small_rate
