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
round (`rate="round"`), whose crossing sits at higher p. Before fitting, the curves of successive distances
must cross inside the sampled range; when they do not, the result says so and gives no number.

>>> from qec.stats import Point
>>> from qec.task import Counts
>>> from qec.threshold import fit_threshold
>>> points = [Point("surface", d, 1, "code-capacity", p, "pymatching", Counts(10**5, int(10**5 * r)))
...           for d, p, r in [(3, .08, .0588), (3, .1, .075), (3, .12, .0938), (5, .08, .050), (5, .1, .075),
...                           (5, .12, .110), (7, .08, .0428), (7, .1, .075), (7, .12, .1268)]]
>>> fit = fit_threshold(points, seed=1)
>>> 0.098 < fit.p < 0.102 and fit.low < fit.p < fit.high
True
>>> [round(crossing.p, 3) for crossing in fit.crossings]
[0.1, 0.1]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Sequence, cast

import numpy as np
from scipy.optimize import least_squares

from qec.crossings import Crossing, drift_down, pairwise_crossings
from qec.errors import QecInputError
from qec.stats import Point, per_round_rate

BOOTSTRAP_RESAMPLES = 200
MIN_DISTANCES_FOR_CORRECTION = 4
POOR_FIT = 3.0  # chi^2/dof above this: the ansatz does not describe the points
# 1/mu: a slower correction cannot be told from the constant A at reachable d, a faster one is gone by d ~ 5
MIN_INVERSE_MU, MAX_INVERSE_MU = 0.25, 4.0


@dataclass(frozen=True)
class Variant:
    """The estimate under one other reasonable analysis choice (None where that fit does not converge)."""

    choice: str
    p: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"choice": self.choice, "p": self.p}


@dataclass(frozen=True)
class ThresholdFit:
    """A threshold estimate as numbers: p_th with its 95% interval, and the evidence behind it.

    The interval is the statistical one (parametric bootstrap, widened by the PDG scale factor when
    chi^2/dof > 1) with the systematic half-width added to each side: the largest move of p_th over the
    `variants` (other reasonable analysis choices). When there is no estimate, `p`, `low` and `high` are None
    and `no_threshold` says why; the crossings, chi^2 and variants stay as evidence. `describe()` and `method`
    turn the fields into sentences, `as_dict()` into JSON-ready values.
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
    no_threshold: str | None = None

    @staticmethod
    def none(reason: str, *, rate: str = "shot", crossings: Sequence[Crossing] = ()) -> ThresholdFit:
        """No estimate, and why."""
        return ThresholdFit(None, None, None, rate=rate, crossings=tuple(crossings), no_threshold=reason)

    @property
    def poor_fit(self) -> bool:
        """chi^2/dof above `POOR_FIT`: the ansatz does not describe the points."""
        return self.dof is not None and self.dof > 0 and self.chi2 is not None and self.chi2 > POOR_FIT * self.dof

    @property
    def method(self) -> str:
        """How the estimate was found, in a sentence (or why there is none)."""
        if self.no_threshold is not None:
            return self.no_threshold
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
            "p": self.p,
            "low": self.low,
            "high": self.high,
            "statistical_low": self.statistical_low,
            "statistical_high": self.statistical_high,
            "systematic": self.systematic,
            "chi2": self.chi2,
            "dof": self.dof,
            "no_threshold": self.no_threshold,
            "method": self.method,
            "variants": [v.as_dict() for v in self.variants],
            "crossings": [c.as_dict() for c in self.crossings],
        }

    def describe(self) -> str:
        if self.p is None or self.low is None or self.high is None:
            return f"p_th: none found ({self.method})"
        text = (
            f"p_th = {self.p:.4g} ± {(self.high - self.low) / 2:.2g}  (95% interval {self.low:.4g} .. {self.high:.4g}"
        )
        if self.statistical_low is not None and self.statistical_high is not None:
            text += (
                f": statistical {self.statistical_low:.4g} .. {self.statistical_high:.4g}, systematic "
                f"±{self.systematic:.2g}"
            )
        return text + ")"


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
    """The threshold of `points` (one code family, noise and decoder; >= 2 distances, >= 3 values of p), or
    "none found" with the reason: the curves do not cross in range, the crossings fall with d (no threshold),
    the ansatz fits poorly, or the interval leaves the sampled range.

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
        raise QecInputError(
            f"a threshold needs >= 2 distances and >= 3 values of p; got distances {distances} "
            f"and {len(ps)} value(s) of p"
        )
    correction = use_correction(distances, correction)
    crossings = pairwise_crossings(points, rate=rate, seed=seed, resamples=resamples)
    found = [c for c in crossings if c.p is not None]
    if not found:
        return ThresholdFit.none(_no_crossing(crossings, ps), rate=rate, crossings=crossings)
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
    fit = _scaling_fit(central, rate=rate, correction=correction, guess=guess, seed=seed, resamples=resamples)
    if fit.p is None or fit.low is None or fit.high is None:
        return replace(fit, crossings=tuple(crossings))
    if fit.poor_fit:
        return replace(
            fit,
            p=None,
            low=None,
            high=None,
            crossings=tuple(crossings),
            no_threshold=f"no threshold found: the finite-size scaling ansatz fits these points poorly "
            f"(chi^2/dof = {fit.chi2:.1f}/{fit.dof}); sample p closer to the crossings "
            f"({', '.join(f'{c.p:.3g}' for c in found)})"
            + ("" if correction else f" or use >= {MIN_DISTANCES_FOR_CORRECTION} distances"),
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
    if not (ps[0] <= statistical_low and statistical_high <= ps[-1] and 0 < low and high < 1):
        return replace(
            fit,
            p=None,
            low=None,
            high=None,
            no_threshold=f"no threshold found: the statistical interval of p_th = {fit.p:.4g}, "
            f"{statistical_low:.4g} .. {statistical_high:.4g}, leaves the sampled range "
            f"{ps[0]:.4g} .. {ps[-1]:.4g} (or the whole interval leaves (0, 1)); sample a "
            "wider range of p, with more shots",
        )
    return fit


def _no_crossing(crossings: Sequence[Crossing], ps: Sequence[float]) -> str:
    sides = {c.side for c in crossings}
    if sides == {"above"}:
        return (
            f"no crossing in the sampled range: larger distances do better at every p, "
            f"so the threshold is above p = {ps[-1]:g}"
        )
    if sides == {"below"}:
        return (
            f"no crossing in the sampled range: larger distances do worse at every p, "
            f"so the threshold is below p = {ps[0]:g}"
        )
    return "no consistent crossing in the sampled range: the curves are too noisy; sample more shots"


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


def _variants(
    points: list[Point], central: list[Point], fit: ThresholdFit, distances: list[int], *, rate: str, seed: int | None
) -> list[Variant]:
    """p_th under the other reasonable analysis choices: all sampled p rather than the crossings' window,
    without the smallest distance, and with the finite-size correction toggled (where the distances allow)."""
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
    guess = cast(float, fit.p)
    return [
        Variant(choice, _scaling_fit(subset, rate=rate, correction=corrected, guess=guess, seed=seed, resamples=0).p)
        for choice, subset, corrected in choices
    ]


def _scaling_fit(
    points: list[Point], *, rate: str, correction: bool, guess: float, seed: int | None, resamples: int
) -> ThresholdFit:
    """The finite-size scaling fit from the start `guess` with its bootstrap interval (no interval with
    `resamples` = 0), or none when no start converges inside the sampled range."""
    ps = sorted({cast(float, pt.p) for pt in points})
    rounds = np.array([pt.rounds if rate == "round" else 1 for pt in points])
    d = np.array([pt.distance for pt in points], dtype=float)
    p = np.array([pt.p for pt in points])
    shots = np.array([pt.counts.kept for pt in points], dtype=float)
    errors = np.array([pt.counts.errors for pt in points], dtype=float)
    mu_starts = [[inverse_mu] for inverse_mu in (0.5, 1.0, 2.0)] if correction else [[]]
    starts = [[p_start, 1.0, *mu_start] for p_start in (guess, (ps[0] + ps[-1]) / 2) for mu_start in mu_starts]
    fits = [fit for fit in (_fss_fit(p, d, errors, shots, rounds, start) for start in starts) if fit is not None]
    params, chi2 = min(fits, key=lambda fit: fit[1]) if fits else (np.array([math.nan]), math.nan)
    if not ps[0] <= params[0] <= ps[-1]:  # False for NaN too: no fit converged
        return ThresholdFit.none(
            f"the curves cross near p = {guess:.3g}, but the finite-size scaling fit did not "
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
