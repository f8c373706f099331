"""Threshold estimates from logical error rates at several distances and physical error rates.

The estimate is a finite-size-scaling fit (Wang, Harrington, Preskill, Ann. Phys. 303, 31 (2003)) of the
logical error rate near threshold, P = A + B x + C x^2 with x = (p - p_th) d^(1/nu), weighted by binomial
standard errors. With >= 4 distances it adds WHP's non-universal correction D d^(-1/mu): small codes'
crossings sit below the asymptotic threshold (the planar surface code's by several percent at d <= 15), and
without the term that drift would be read as a precise but biased p_th. The 95% interval comes from
refitting parametric bootstrap resamples of the binomial counts; when chi^2/dof > 1 (the ansatz misses
the points by more than their noise) it is widened by sqrt(chi^2/dof), the Particle Data Group's scale
factor, and a poor fit is said in the method.

The rate is per shot by default (WHP's choice, with rounds = d, which the published thresholds use), or per
round (`rate="round"`), whose crossing sits at higher p.

A fit has one of three statuses (`ThresholdFit.status`):

- *found*: p_th and its 95% interval, the interval inside the sampled range of p, the ansatz fitting the points;
- *unresolved*: these data do not pin p_th down yet (no crossing in the sampled range, an interval that leaves
  it, a poor or unconverged fit, too few distances or p values): the estimate, where there is one, and its
  interval are given all the same, with what to sample next (`NextSamples`: p values, distances, more shots);
- *none*: there is no threshold: the crossings of successive distances fall with d.

>>> from qec.stats import Point
>>> from qec.task import Counts
>>> from qec.threshold import fit_threshold
>>> points = [Point("surface", d, 1, "code-capacity", p, "pymatching", Counts(10**5, int(10**5 * r)))
...           for d, p, r in [(3, .08, .0588), (3, .1, .075), (3, .12, .0938), (5, .08, .050), (5, .1, .075),
...                           (5, .12, .110), (7, .08, .0428), (7, .1, .075), (7, .12, .1268)]]
>>> fit = fit_threshold(points, seed=1)
>>> fit.status, 0.098 < fit.p < 0.102 and fit.low < fit.p < fit.high
('found', True)
>>> [round(crossing.p, 3) for crossing in fit.crossings]
[0.1, 0.1]

Sampled only at p = 7%..9%, where the larger codes do better at every p, the same code's study is unresolved,
and says where to look:

>>> below = fit_threshold([Point("surface", d, 1, "code-capacity", p, "pymatching", Counts(10**5, int(10**5 * r)))
...                        for d, p, r in [(3, .07, .050), (3, .08, .0588), (3, .09, .067), (5, .07, .040),
...                                        (5, .08, .050), (5, .09, .062), (7, .07, .033), (7, .08, .0428),
...                                        (7, .09, .058)]], seed=1)
>>> below.status, below.p, below.sample_next.side, below.sample_next.p_values
('unresolved', None, 'above', (0.126, 0.1764, 0.247))

"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, replace
from typing import Any, Sequence, cast

import numpy as np
from scipy.optimize import least_squares

from qec.crossings import Crossing, drift_down, drift_up, pairwise_crossings
from qec.errors import QecInputError
from qec.stats import Point, per_round_rate

BOOTSTRAP_RESAMPLES = 200
NOISE_RESAMPLES = 200  # resamples behind `systematic_noise`: a 95th percentile of a heavy-tailed move (40 gave half)
MIN_DISTANCES_FOR_CORRECTION = 4
POOR_FIT = 3.0  # chi^2/dof above this: the ansatz does not describe the points
# 1/mu: a slower correction cannot be told from the constant A at reachable d, a faster one is gone by d ~ 5
MIN_INVERSE_MU, MAX_INVERSE_MU = 0.25, 4.0

FOUND, UNRESOLVED, NONE = "found", "unresolved", "none"
STATUSES = (FOUND, UNRESOLVED, NONE)
# What an unresolved fit suggests sampling next (`NextSamples`).
MAX_SUGGESTED_P = 0.5  # a physical error rate above 1/2 tells nothing
EXTENSION_POINTS, MAX_EXTENSION_POINTS = 2, 3  # p values past a grid edge an interval crosses, continuing its spacing
MIN_EXTENSION_RATIO = 1.05  # the smallest step between suggested p values past an edge
SEARCH_RATIO = 1.4  # the step past an edge when no crossing says how far the threshold lies (the scan's spacing)
AROUND_POINTS = 5  # p values suggested across the crossings' intervals when the fit needs them
MIN_AROUND_SPAN = 1.2  # those values span at least this factor either side of the crossings' centre


@dataclass(frozen=True)
class Variant:
    """The estimate under one other reasonable analysis choice (None where that fit does not converge)."""

    choice: str
    p: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"choice": self.choice, "p": self.p}


@dataclass(frozen=True)
class NextSamples:
    """What an unresolved threshold study should sample next: new `p_values` (on `side` of the sampled range:
    "above", "below", "both", "within" or "across" an edge), larger `distances` to add (where the crossings drift),
    and whether the p values already sampled need more shots (`more_shots`: their curves are too noisy to tell
    which code wins).

    >>> NextSamples(p_values=(0.013, 0.0142), side="above", distances=(9,)).describe()
    'sample p = 0.013, 0.0142 (above the sampled range); add d = 9'
    """

    p_values: tuple[float, ...] = ()
    side: str | None = None
    distances: tuple[int, ...] = ()
    more_shots: bool = False

    @property
    def p_range(self) -> tuple[float, float] | None:
        """(lowest, highest) of the suggested p values, or None without any."""
        return (min(self.p_values), max(self.p_values)) if self.p_values else None

    def as_dict(self) -> dict[str, Any]:
        p_range = self.p_range
        return {
            "p_values": list(self.p_values),
            "p_low": None if p_range is None else p_range[0],
            "p_high": None if p_range is None else p_range[1],
            "side": self.side,
            "distances": list(self.distances),
            "more_shots": self.more_shots,
        }

    def describe(self) -> str:
        where = {
            "above": "above the sampled range",
            "below": "below the sampled range",
            "both": "on both sides of the sampled range",
            "within": "inside the sampled range",
            "across": "across an edge of the sampled range",
        }
        parts = []
        if self.p_values:
            side = f" ({where[self.side]})" if self.side in where else ""
            parts.append(f"sample p = {', '.join(f'{p:.4g}' for p in self.p_values)}{side}")
        if self.distances:
            parts.append(f"add d = {', '.join(map(str, self.distances))}")
        if self.more_shots:
            parts.append("more shots at the sampled p")
        return "; ".join(parts) or f"nothing to suggest (no p above {MAX_SUGGESTED_P:g} tells anything)"


@dataclass(frozen=True)
class ThresholdFit:
    """A threshold estimate as numbers: its `status`, p_th with its 95% interval, and the evidence behind it.

    `status` is one of `STATUSES`: "found" (p, low and high are the threshold and its interval), "unresolved"
    (p, low and high are the estimate these data give, None where the fit gives none, and `sample_next` says
    what would pin it down) or "none" (there is no threshold: p, low and high are None). `reason` says why a fit
    is unresolved or none (None when found); the crossings, chi^2 and variants stay as evidence. So read
    `status` before `p`: an unresolved estimate is not a threshold to quote.

    The interval is the statistical one (parametric bootstrap, widened by the PDG scale factor when
    chi^2/dof > 1) with the systematic half-width added to each side: the largest move of p_th over the
    `variants` (other reasonable analysis choices). `describe()` and `method` turn the fields into sentences,
    `as_dict()` into JSON-ready values.
    """

    p: float | None
    low: float | None
    high: float | None
    rate: str = "shot"  # the rate fitted: "shot" or "round"
    correction: bool = False  # with the finite-size correction D d^(-1/mu): p is the d -> infinity limit
    nu: float | None = None
    mu: float | None = None
    chi2: float | None = None
    dof: int | None = None
    scale_factor: float = 1.0  # sqrt(chi^2/dof) when > 1: the bootstrap interval is widened by it
    refits: int = 0  # parametric bootstrap refits behind the interval
    statistical_low: float | None = None
    statistical_high: float | None = None
    systematic: float = 0.0  # half-width: the largest |p_variant - p|
    variants: tuple[Variant, ...] = ()
    crossings: tuple[Crossing, ...] = ()
    p_window: tuple[float, float] | None = None  # the p values the fit used (those around the crossings)
    status: str = FOUND
    reason: str | None = None  # why the status is unresolved or none
    sample_next: NextSamples | None = None  # with "unresolved": what to sample next

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {self.status!r}")
        if self.status == FOUND and (self.p is None or self.low is None or self.high is None):
            raise ValueError("a found threshold needs p, low and high")
        if self.status == NONE and self.p is not None:
            raise ValueError("a fit with status none has no estimate: p must be None")

    @staticmethod
    def none(reason: str, *, rate: str = "shot", crossings: Sequence[Crossing] = ()) -> ThresholdFit:
        """There is no threshold, and why."""
        return ThresholdFit(None, None, None, rate=rate, crossings=tuple(crossings), status=NONE, reason=reason)

    @staticmethod
    def unresolved(
        reason: str,
        *,
        sample_next: NextSamples | None = None,
        rate: str = "shot",
        crossings: Sequence[Crossing] = (),
    ) -> ThresholdFit:
        """No estimate yet, why, and what to sample next."""
        return ThresholdFit(
            None,
            None,
            None,
            rate=rate,
            crossings=tuple(crossings),
            status=UNRESOLVED,
            reason=reason,
            sample_next=sample_next,
        )

    @property
    def poor_fit(self) -> bool:
        """chi^2/dof above `POOR_FIT`: the ansatz does not describe the points."""
        return self.dof is not None and self.dof > 0 and self.chi2 is not None and self.chi2 > POOR_FIT * self.dof

    @property
    def method(self) -> str:
        """How the estimate was found, in a sentence; or why the status is not found (and how the unresolved
        estimate was made, where there is one)."""
        fitted = self._fit_method() if self.p is not None and self.chi2 is not None else None
        if self.status == FOUND and fitted is not None:
            return fitted
        reason = self.reason or self.status
        return reason if fitted is None else f"{reason}; the estimate: {fitted}"

    def _fit_method(self) -> str:
        ansatz = (
            "P = A + Bx + Cx^2 + D d^(-1/mu)" if self.correction else "P = A + Bx + Cx^2 (no finite-size correction)"
        )
        fitted = f"nu = {self.nu:.2f}" + (f", mu = {self.mu:.2f}" if self.correction else "")
        window = f" at p in {self.p_window[0]:.4g} .. {self.p_window[1]:.4g}" if self.p_window else ""
        method = (
            f"finite-size scaling fit of the per-{self.rate} rate{window}, {ansatz}, x = (p - p_th) d^(1/nu), "
            f"{fitted}; "
            f"95% interval from {self.refits} parametric bootstrap refits; chi^2/dof = {self.chi2:.1f}/{self.dof}"
        )
        if self.scale_factor > 1:
            method += f", so the interval is widened by sqrt(chi^2/dof) = {self.scale_factor:.2f}"
        moved = [f"{v.choice}: {v.p:.4g}" for v in self.variants if v.p is not None]
        if moved:
            method += f"; systematic ±{self.systematic:.2g} from other analysis choices ({'; '.join(moved)})"
        return method

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "p": self.p,
            "low": self.low,
            "high": self.high,
            "statistical_low": self.statistical_low,
            "statistical_high": self.statistical_high,
            "systematic": self.systematic,
            "chi2": self.chi2,
            "dof": self.dof,
            "reason": self.reason,
            "method": self.method,
            "sample_next": None if self.sample_next is None else self.sample_next.as_dict(),
            "variants": [v.as_dict() for v in self.variants],
            "crossings": [c.as_dict() for c in self.crossings],
        }

    def describe(self) -> str:
        """One line: the threshold and its interval; the unresolved estimate and what to sample next; or none."""
        if self.status == NONE:
            return f"p_th: none ({self.method})"
        if self.status == UNRESOLVED:
            estimate = (
                "no estimate yet"
                if self.p is None or self.low is None or self.high is None
                else f"estimate {self.p:.4g}  (95% interval {self.low:.4g} .. {self.high:.4g}{self._parts()})"
            )
            then = f"; next: {self.sample_next.describe()}" if self.sample_next is not None else ""
            return f"p_th: unresolved, {estimate}{then}"
        assert self.p is not None and self.low is not None and self.high is not None  # found: checked on construction
        return (
            f"p_th = {self.p:.4g} ± {(self.high - self.low) / 2:.2g}  (95% interval {self.low:.4g} .. "
            f"{self.high:.4g}{self._parts()})"
        )

    def _parts(self) -> str:
        if self.statistical_low is None or self.statistical_high is None:
            return ""
        systematic = f", systematic ±{self.systematic:.2g}" if self.variants or self.status == FOUND else ""
        return f": statistical {self.statistical_low:.4g} .. {self.statistical_high:.4g}{systematic}"


RATES = ("round", "shot")


def fit_threshold(
    points: Sequence[Point],
    *,
    rate: str = "shot",
    correction: bool | None = None,
    seed: int | None = 0,
    resamples: int = BOOTSTRAP_RESAMPLES,
    systematic: bool = True,
) -> ThresholdFit:
    """The threshold of `points` (one code family, noise and decoder; >= 2 distances, >= 3 values of p), with its
    status (see the module): "found"; "unresolved" with what to sample next when the curves do not cross in
    range, the ansatz fits poorly or does not converge, the interval leaves the sampled range, or there are too
    few distances or p values; "none" when the crossings fall with d (no threshold).

    Args:
        rate: "shot" fits the per-shot logical error rate, "round" the per-round one.
        correction: add WHP's finite-size correction D d^(-1/mu), which lets the crossing of small codes
            drift towards the asymptotic threshold; default: with >= 4 distances (fewer cannot pin D and mu).
        systematic: refit under other analysis choices (without the smallest distance, in the p window of
            the crossings, with the correction toggled) and add the largest move of p_th to the interval.
    """
    if rate not in RATES:
        raise QecInputError(f"unknown rate {rate!r} for a threshold fit: use round or shot")
    unplaced = sum(not pt.is_placed for pt in points)
    if unplaced:
        raise QecInputError(f"{unplaced} point(s) have no distance or p in their metadata: a threshold fit needs both")
    points = [pt for pt in points if pt.counts.kept > 0]
    distances = sorted({cast(int, pt.distance) for pt in points})  # every point is placed: checked above
    ps = sorted({cast(float, pt.p) for pt in points})
    if len(distances) < 2 or len(ps) < 3:
        return ThresholdFit.unresolved(
            f"a threshold needs >= 2 distances and >= 3 values of p; got distances {distances} "
            f"and {len(ps)} value(s) of p",
            sample_next=_too_few(distances, ps),
            rate=rate,
        )
    correction = use_correction(distances, correction)
    crossings = pairwise_crossings(points, rate=rate, seed=seed, resamples=resamples)
    found = [c for c in crossings if c.p is not None]
    if not found:
        return _no_crossing(crossings, ps, rate=rate)
    if drift_down(crossings):
        listed = ", ".join(
            f"{c.distance_small}/{c.distance_large}: " + (f"{c.p:.3g}" if c.p is not None else f"below {ps[0]:.3g}")
            for c in crossings
        )
        return ThresholdFit.none(
            f"no threshold: the crossings of successive distances fall with d ({listed}), the "
            "last far below the first; a code with a threshold has crossings that settle",
            rate=rate,
            crossings=crossings,
        )
    guess = float(np.exp(np.mean(np.log([cast(float, c.p) for c in found]))))
    central = _in_crossing_window(points, crossings, ps)
    drifting = _larger_distances(distances, 1) if drift_up(crossings) else ()
    fit = _scaling_fit(central, rate=rate, correction=correction, guess=guess, seed=seed, resamples=resamples)
    if fit.p is None or fit.low is None or fit.high is None:  # unresolved: the fit did not converge in range
        around = _around(found, ps)
        return replace(
            fit,
            crossings=tuple(crossings),
            sample_next=NextSamples(around, _side(around, ps), drifting),
        )
    if fit.poor_fit:
        around = _around(found, ps)
        more = 1 if correction else max(1, MIN_DISTANCES_FOR_CORRECTION - len(distances))
        return replace(
            fit,
            statistical_low=fit.low,
            statistical_high=fit.high,
            crossings=tuple(crossings),
            status=UNRESOLVED,
            reason=f"unresolved: the finite-size scaling ansatz fits these points poorly "
            f"(chi^2/dof = {fit.chi2:.1f}/{fit.dof}), so its estimate is not a threshold to quote; sample p closer "
            f"to the crossings ({', '.join(f'{c.p:.3g}' for c in found)})"
            + (" or add larger distances" if correction else f" or use >= {MIN_DISTANCES_FOR_CORRECTION} distances"),
            sample_next=NextSamples(around, _side(around, ps), _larger_distances(distances, more)),
        )
    variants = tuple(_variants(points, central, fit, distances, rate=rate, seed=seed)) if systematic else ()
    spread = max((abs(v.p - fit.p) for v in variants if v.p is not None), default=0.0)
    low, high = fit.low - spread, fit.high + spread
    fit = replace(
        fit,
        low=low,
        high=high,
        statistical_low=fit.low,
        statistical_high=fit.high,
        systematic=spread,
        variants=variants,
        crossings=tuple(crossings),
    )
    statistical_low, statistical_high = cast(float, fit.statistical_low), cast(float, fit.statistical_high)
    if not (ps[0] <= statistical_low and statistical_high <= ps[-1]):
        beyond = _beyond(ps, statistical_low, statistical_high)
        return replace(
            fit,
            status=UNRESOLVED,
            reason=f"unresolved: the statistical interval of the estimate p_th = {fit.p:.4g}, "
            f"{statistical_low:.4g} .. {statistical_high:.4g}, leaves the sampled range {ps[0]:.4g} .. {ps[-1]:.4g}; "
            "sample p past the edge it crosses",
            # an interval as wide as the sampled range narrows with shots, not with more p values
            sample_next=NextSamples(
                beyond,
                _side(beyond, ps),
                drifting,
                more_shots=statistical_high - statistical_low >= ps[-1] - ps[0] or not beyond,
            ),
        )
    if not (0 < low and high < 1):
        return replace(
            fit,
            status=UNRESOLVED,
            reason=f"unresolved: the 95% interval of the estimate p_th = {fit.p:.4g}, {low:.4g} .. {high:.4g}, "
            f"leaves (0, 1): its systematic part (±{spread:.2g}, other analysis choices) is too wide; add larger "
            "distances, with more shots",
            sample_next=NextSamples(distances=_larger_distances(distances, 1), more_shots=True),
        )
    return fit


def _no_crossing(crossings: Sequence[Crossing], ps: Sequence[float], *, rate: str) -> ThresholdFit:
    """Unresolved, with p values past the edge the threshold lies beyond, or more shots where the curves are too
    noisy to tell. (Larger distances that do worse at every p say the threshold, if any, is below the range:
    only crossings that fall with d say there is none.)"""
    sides = {c.side for c in crossings}
    if sides == {"above"}:
        above = _extended(ps, "above", SEARCH_RATIO, MAX_EXTENSION_POINTS)
        return ThresholdFit.unresolved(
            f"no crossing in the sampled range: larger distances do better at every p, "
            f"so the threshold is above p = {ps[-1]:g}",
            sample_next=NextSamples(above, "above" if above else None),
            rate=rate,
            crossings=crossings,
        )
    if sides == {"below"}:
        below = _extended(ps, "below", SEARCH_RATIO, MAX_EXTENSION_POINTS)
        return ThresholdFit.unresolved(
            f"no crossing in the sampled range: larger distances do worse at every p, "
            f"so the threshold, if there is one, is below p = {ps[0]:g}",
            sample_next=NextSamples(below, "below"),
            rate=rate,
            crossings=crossings,
        )
    return ThresholdFit.unresolved(
        "no consistent crossing in the sampled range: the curves are too noisy; sample more shots",
        sample_next=NextSamples(more_shots=True),
        rate=rate,
        crossings=crossings,
    )


def _suggested(p: float) -> float:
    return float(f"{p:.4g}")


def _extended(ps: Sequence[float], side: str, ratio: float, count: int) -> tuple[float, ...]:
    """`count` p values past the `side` ("above" or "below") edge of `ps`, a factor `ratio` apart (4 significant
    digits); above, where that passes `MAX_SUGGESTED_P`, closer together, between the edge and it.

    >>> _extended([0.2, 0.3, 0.4], "above", 1.4, 3), _extended([0.01, 0.02], "below", 2.0, 2)
    ((0.4229, 0.4472, 0.4729), (0.0025, 0.005))
    """
    edge, step = (ps[-1], ratio) if side == "above" else (ps[0], 1 / ratio)
    if side == "above" and edge * step**count > MAX_SUGGESTED_P:
        step = (MAX_SUGGESTED_P / edge) ** (1 / (count + 1)) if edge < MAX_SUGGESTED_P else 1.0
    values = (_suggested(edge * step**k) for k in range(1, count + 1))
    return tuple(sorted({p for p in values if 0 < p < MAX_SUGGESTED_P and p != edge} - set(ps)))


def _beyond(ps: Sequence[float], low: float, high: float) -> tuple[float, ...]:
    """p values past each edge of `ps` that the interval [low, high] crosses: the grid's own spacing there (at
    least `MIN_EXTENSION_RATIO`) continued until past the interval's end, `EXTENSION_POINTS` to
    `MAX_EXTENSION_POINTS` of them, so that the fit has points on both sides of p_th."""
    values: list[float] = []
    for side, edge, next_in, end in (("above", ps[-1], ps[-2], high), ("below", ps[0], ps[1], low)):
        if (side == "above" and end <= edge) or (side == "below" and end >= edge):
            continue
        ratio = max(MIN_EXTENSION_RATIO, max(edge, next_in) / min(edge, next_in))
        needed = math.ceil(abs(math.log(end / edge)) / math.log(ratio)) if end > 0 else MAX_EXTENSION_POINTS
        values += _extended(ps, side, ratio, min(MAX_EXTENSION_POINTS, max(EXTENSION_POINTS, needed)))
    return tuple(sorted(values))


def _around(crossings: Sequence[Crossing], ps: Sequence[float]) -> tuple[float, ...]:
    """`AROUND_POINTS` log-spaced p values across the crossings' 95% intervals (at least a factor
    `MIN_AROUND_SPAN` either side of their geometric mean), where the quadratic ansatz holds best."""
    centre = math.exp(statistics.fmean(math.log(cast(float, c.p)) for c in crossings))
    low = min(min(c.low if c.low is not None else cast(float, c.p) for c in crossings), centre / MIN_AROUND_SPAN)
    high = max(max(c.high if c.high is not None else cast(float, c.p) for c in crossings), centre * MIN_AROUND_SPAN)
    high = min(high, MAX_SUGGESTED_P)
    values = np.exp(np.linspace(math.log(low), math.log(high), AROUND_POINTS))
    return tuple(sorted({_suggested(float(p)) for p in values}))


def _side(values: Sequence[float], ps: Sequence[float]) -> str | None:
    """Where `values` lie against the sampled `ps`: all "above", all "below", some each side ("both"), all
    "within", or else "across" an edge; None without values."""
    if not values:
        return None
    above, below = sum(p > ps[-1] for p in values), sum(p < ps[0] for p in values)
    if above and below:
        return "both"
    if above or below:
        return ("above" if above else "below") if max(above, below) == len(values) else "across"
    return "within"


def _larger_distances(distances: Sequence[int], count: int) -> tuple[int, ...]:
    """`count` distances past the largest of `distances`, at its last step (2 for 3, 5, 7; 2 with one distance)."""
    step = max(1, distances[-1] - distances[-2]) if len(distances) >= 2 else 2
    return tuple(distances[-1] + step * k for k in range(1, count + 1)) if distances else ()


def _too_few(distances: Sequence[int], ps: Sequence[float]) -> NextSamples:
    """With < 2 distances or < 3 values of p: a larger distance, and p values beside (or between) the sampled ones;
    more shots when nothing has a kept shot yet."""
    if not ps:
        return NextSamples(more_shots=True)
    values: tuple[float, ...] = ()
    if len(ps) == 1:
        values = (_suggested(ps[0] / SEARCH_RATIO), _suggested(ps[0] * SEARCH_RATIO))
    elif len(ps) == 2:
        values = (_suggested(math.sqrt(ps[0] * ps[1])),)
    values = tuple(sorted(set(values) - set(ps)))
    more = _larger_distances(distances, 2 - len(distances)) if len(distances) < 2 else ()
    return NextSamples(values, _side(values, ps), more)


def _in_crossing_window(points: list[Point], crossings: Sequence[Crossing], ps: list[float]) -> list[Point]:
    """The points at p from the last sampled value at or below every crossing's interval to the first at or above
    them (where the quadratic scaling ansatz holds), if that leaves >= 3 values of p; else all the points."""
    lows = [c.low for c in crossings if c.low is not None]
    highs = [c.high for c in crossings if c.high is not None]
    if not lows or not highs:
        return points
    below = [p for p in ps if p <= min(lows)]
    above = [p for p in ps if p >= max(highs)]
    low, high = below[-1] if below else ps[0], above[0] if above else ps[-1]
    inside = [pt for pt in points if low <= cast(float, pt.p) <= high]
    return inside if len({pt.p for pt in inside}) >= 3 else points


def _variant_choices(
    points: list[Point], central: list[Point], fit: ThresholdFit, distances: list[int]
) -> list[tuple[str, list[Point], bool]]:
    """The other reasonable analysis choices, each as (what it is, the points it fits, with the correction):
    all sampled p rather than the crossings' window, without the smallest distance, and with the finite-size
    correction toggled (where the distances allow)."""
    choices: list[tuple[str, list[Point], bool]] = []
    if len(central) < len(points):
        choices.append(("all sampled p", points, fit.correction))
    if len(distances) >= 3:
        rest = [pt for pt in central if pt.distance != distances[0]]
        choices.append((f"without d = {distances[0]}", rest, fit.correction and len(distances) - 1 >= 4))
    if fit.correction or len(distances) >= MIN_DISTANCES_FOR_CORRECTION:
        choices.append(
            ("without the correction" if fit.correction else "with the correction", central, not fit.correction)
        )
    return choices


def _variants(
    points: list[Point], central: list[Point], fit: ThresholdFit, distances: list[int], *, rate: str, seed: int | None
) -> list[Variant]:
    """p_th under each of `_variant_choices`."""
    guess = cast(float, fit.p)
    return [
        Variant(choice, _scaling_fit(subset, rate=rate, correction=corrected, guess=guess, seed=seed, resamples=0).p)
        for choice, subset, corrected in _variant_choices(points, central, fit, distances)
    ]


def systematic_noise(
    points: Sequence[Point], fit: ThresholdFit, *, resamples: int = NOISE_RESAMPLES, seed: int | None = 0
) -> float:
    """How far the binomial noise of `points` alone moves a found `fit`'s systematic part: the 95th percentile,
    over parametric resamples of the points, of the largest change of a variant's move p_variant - p_th.

    The systematic part is the largest move over the variants (`fit_threshold`), and a variant fits fewer points
    or more parameters than the fit, so its move is noisy too: a systematic part below this is not told from
    noise, and more shots shrink it. `points` are those `fit` was fitted to; 0 without variants.
    """
    moves = {v.choice: v.p - fit.p for v in fit.variants if v.p is not None and fit.p is not None}
    if fit.status != FOUND or not moves or fit.p_window is None:
        return 0.0
    points = [pt for pt in points if pt.counts.kept > 0]
    low, high = fit.p_window  # the points the fit itself used
    central = [pt for pt in points if low <= cast(float, pt.p) <= high]
    distances = sorted({cast(int, pt.distance) for pt in points})
    choices = [c for c in _variant_choices(points, central, fit, distances) if c[0] in moves]
    guess = cast(float, fit.p)

    def refit(subset: list[Point], corrected: bool, resampled: dict[int, Point]) -> float | None:
        chosen = [resampled[id(pt)] for pt in subset]
        return _scaling_fit(chosen, rate=fit.rate, correction=corrected, guess=guess, seed=seed, resamples=0).p

    rng = np.random.default_rng(seed)
    changes = []
    for _ in range(resamples):
        resampled = {
            id(pt): replace(pt, counts=replace(pt.counts, errors=int(rng.binomial(pt.counts.kept, pt.rate))))
            for pt in points
        }
        p_th = refit(central, fit.correction, resampled)
        variants = [(choice, refit(subset, corrected, resampled)) for choice, subset, corrected in choices]
        if p_th is not None:  # (a variant that does not converge on a resample counts as no change)
            changes.append(max(abs(p - p_th - moves[choice]) if p is not None else 0.0 for choice, p in variants))
    return float(np.percentile(changes, 95)) if changes else math.inf


def _scaling_fit(
    points: list[Point], *, rate: str, correction: bool, guess: float, seed: int | None, resamples: int
) -> ThresholdFit:
    """The finite-size scaling fit from the start `guess` with its bootstrap interval (no interval with
    `resamples` = 0), or none when no start converges inside the sampled range."""
    ps = sorted({cast(float, pt.p) for pt in points})
    rounds = np.array([pt.operations if rate == "round" else 1 for pt in points])
    d = np.array([pt.distance for pt in points], dtype=float)
    p = np.array([pt.p for pt in points])
    shots = np.array([pt.counts.kept for pt in points], dtype=float)
    errors = np.array([pt.counts.errors for pt in points], dtype=float)
    mu_starts = [[inverse_mu] for inverse_mu in (0.5, 1.0, 2.0)] if correction else [[]]
    starts = [[p_start, 1.0, *mu_start] for p_start in (guess, (ps[0] + ps[-1]) / 2) for mu_start in mu_starts]
    fits = [fit for fit in (_fss_fit(p, d, errors, shots, rounds, start) for start in starts) if fit is not None]
    params, chi2 = min(fits, key=lambda fit: fit[1]) if fits else (np.array([math.nan]), math.nan)
    if not ps[0] <= params[0] <= ps[-1]:  # False for NaN too: no fit converged
        return ThresholdFit.unresolved(
            f"unresolved: the curves cross near p = {guess:.3g}, but the finite-size scaling fit did not "
            "converge inside the sampled range; sample more p values there",
            rate=rate,
        )
    rng = np.random.default_rng(seed)
    rates = errors / shots
    samples = []
    for _ in range(resamples):
        fit = _fss_fit(p, d, rng.binomial(shots.astype(np.int64), rates).astype(float), shots, rounds, params)
        if fit is not None:
            samples.append(fit[0][0])
    enough = samples and len(samples) >= resamples // 2
    low, high = np.percentile(samples, [2.5, 97.5]) if enough else (math.nan, math.nan)
    dof = len(p) - (2 * len(params) + 1)  # p_th, nu (, 1/mu) and A, B, C (, D)
    scale = math.sqrt(chi2 / dof) if dof > 0 and chi2 > dof else 1.0
    low, high = params[0] - scale * (params[0] - low), params[0] + scale * (high - params[0])
    return ThresholdFit(
        float(params[0]),
        float(low),
        float(high),
        rate=rate,
        correction=correction,
        nu=float(params[1]),
        mu=float(1 / params[2]) if correction else None,
        chi2=float(chi2),
        dof=dof,
        scale_factor=scale,
        refits=len(samples),
        p_window=(ps[0], ps[-1]),
    )


def use_correction(distances: Sequence[int], correction: bool | None) -> bool:
    """Whether a fit over `distances` adds the finite-size correction (None: when there are enough of them);
    asking for it with too few distances is an error."""
    enough = len(set(distances)) >= MIN_DISTANCES_FOR_CORRECTION
    if correction and not enough:
        raise QecInputError(
            f"the finite-size correction needs >= {MIN_DISTANCES_FOR_CORRECTION} distances; got "
            f"{sorted(set(distances))}: add distances or use correction=False"
        )
    return enough if correction is None else correction


def _fss_fit(
    p: np.ndarray,
    d: np.ndarray,
    errors: np.ndarray,
    shots: np.ndarray,
    rounds: np.ndarray,
    guess: Sequence[float] | np.ndarray,
) -> tuple[np.ndarray, float] | None:
    """The nonlinear parameters (p_th, nu[, 1/mu]) from `guess`, and the fit's chi^2; None if it fails.

    A, B, C (and D) enter linearly, so for each (p_th, nu[, 1/mu]) they are solved by weighted least squares
    (variable projection) and only 2 or 3 parameters are searched."""
    shot_rate = errors / shots
    shot_sigma = np.sqrt(np.maximum(shot_rate * (1 - shot_rate), 1 / shots) / shots)
    rate = per_round_rate(shot_rate, rounds=rounds)
    high = per_round_rate(shot_rate + shot_sigma, rounds=rounds)
    sigma = np.maximum((high - per_round_rate(shot_rate - shot_sigma, rounds=rounds)) / 2, 1e-12)
    target = rate / sigma

    def residuals(params: np.ndarray) -> np.ndarray:
        x = (p - params[0]) * d ** (1 / params[1])
        columns = [np.ones_like(x), x, x * x] + ([d ** -params[2]] if len(params) == 3 else [])
        design = np.column_stack(columns) / sigma[:, None]
        coefficients, *_ = np.linalg.lstsq(design, target, rcond=None)
        return design @ coefficients - target

    low, high = [0.0, 0.2, MIN_INVERSE_MU][: len(guess)], [1.0, 5.0, MAX_INVERSE_MU][: len(guess)]
    try:
        result = least_squares(residuals, np.clip(guess, low, high), bounds=(low, high))
    except (ValueError, np.linalg.LinAlgError):
        return None
    if not result.success:
        return None
    return result.x, float(np.sum(result.fun**2))
