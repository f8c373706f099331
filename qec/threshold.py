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
...           for d, p, r in [(3, .08, .050), (3, .1, .076), (3, .12, .105), (5, .08, .031), (5, .1, .074),
...                           (5, .12, .125), (7, .08, .019), (7, .1, .072), (7, .12, .140)]]
>>> fit = fit_threshold(points, seed=1)
>>> 0.095 < fit.p < 0.103
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence, cast

import numpy as np
from scipy.optimize import least_squares

from qec.errors import QecInputError
from qec.stats import Point, per_round_rate

BOOTSTRAP_RESAMPLES = 200
MIN_DISTANCES_FOR_CORRECTION = 4
POOR_FIT = 3.0  # chi^2/dof above this: the ansatz does not describe the points
# 1/mu: a slower correction cannot be told from the constant A at reachable d, a faster one is gone by d ~ 5
MIN_INVERSE_MU, MAX_INVERSE_MU = 0.25, 4.0


@dataclass(frozen=True)
class ThresholdFit:
    """A threshold estimate as numbers: p_th with its 95% interval, and what the fit found on the way.

    When there is no estimate, `p`, `low` and `high` are None and `no_threshold` says why. `describe()` and
    `method` turn the fields into sentences; `as_dict()` into JSON-ready values.
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
    no_threshold: str | None = None

    @staticmethod
    def none(reason: str, *, rate: str = "shot") -> ThresholdFit:
        """No estimate, and why."""
        return ThresholdFit(None, None, None, rate=rate, no_threshold=reason)

    @property
    def poor_fit(self) -> bool:
        """chi^2/dof above `POOR_FIT`: the ansatz does not describe the points."""
        return self.dof is not None and self.dof > 0 and self.chi2 is not None and self.chi2 > POOR_FIT * self.dof

    @property
    def method(self) -> str:
        """How the estimate was found, in a sentence (or why there is none)."""
        if self.no_threshold is not None:
            return self.no_threshold
        ansatz = "P = A + Bx + Cx^2 + D d^(-1/mu)" if self.correction else "P = A + Bx + Cx^2 (no finite-size correction)"
        fitted = f"nu = {self.nu:.2f}" + (f", mu = {self.mu:.2f}" if self.correction else "")
        method = (f"finite-size scaling fit of the per-{self.rate} rate, {ansatz}, x = (p - p_th) d^(1/nu), {fitted}; "
                  f"95% interval from {self.refits} parametric bootstrap refits; chi^2/dof = {self.chi2:.1f}/{self.dof}")
        if self.scale_factor > 1:
            method += f", so the interval is widened by sqrt(chi^2/dof) = {self.scale_factor:.2f}"
        if self.poor_fit:
            method += ("; the ansatz fits these points poorly: sample p closer to p_th"
                       + ("" if self.correction else f" or use >= {MIN_DISTANCES_FOR_CORRECTION} distances"))
        return method

    def as_dict(self) -> dict[str, float | int | str | bool | None]:
        return {"p": self.p, "low": self.low, "high": self.high, "method": self.method}

    def describe(self) -> str:
        if self.p is None or self.low is None or self.high is None:
            return f"p_th: none ({self.method})"
        return f"p_th = {self.p:.4g} ± {(self.high - self.low) / 2:.2g}  (95% interval {self.low:.4g} .. {self.high:.4g})"


RATES = ("round", "shot")


def fit_threshold(points: Sequence[Point], *, rate: str = "shot", correction: bool | None = None, seed: int | None = 0,
                  resamples: int = BOOTSTRAP_RESAMPLES) -> ThresholdFit:
    """The threshold of `points` (one code family, noise and decoder; >= 2 distances, >= 3 values of p).

    Args:
        rate: "shot" fits the per-shot logical error rate, "round" the per-round one.
        correction: add WHP's finite-size correction D d^(-1/mu), which lets the crossing of small codes
            drift towards the asymptotic threshold; default: with >= 4 distances (fewer cannot pin D and mu).
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
        raise QecInputError(f"a threshold needs >= 2 distances and >= 3 values of p; got distances {distances} "
                            f"and {len(ps)} value(s) of p")
    correction = use_correction(distances, correction)
    rounds = np.array([pt.rounds if rate == "round" else 1 for pt in points])
    crossing, no_crossing = _crossing(points, distances, rounds)
    if crossing is None:
        return ThresholdFit.none(no_crossing, rate=rate)
    d = np.array([pt.distance for pt in points], dtype=float)
    p = np.array([pt.p for pt in points])
    shots = np.array([pt.counts.kept for pt in points], dtype=float)
    errors = np.array([pt.counts.errors for pt in points], dtype=float)
    mu_starts = [[inverse_mu] for inverse_mu in (0.5, 1.0, 2.0)] if correction else [[]]
    starts = [[p_start, 1.0, *mu_start] for p_start in (crossing, (ps[0] + ps[-1]) / 2) for mu_start in mu_starts]
    fits = [fit for fit in (_fss_fit(p, d, errors, shots, rounds, start) for start in starts) if fit is not None]
    params, chi2 = min(fits, key=lambda fit: fit[1]) if fits else (np.array([math.nan]), math.nan)
    if not ps[0] <= params[0] <= ps[-1]:  # False for NaN too: no fit converged
        return ThresholdFit.none(f"the curves cross near p = {crossing:.3g}, but the finite-size scaling fit did not "
                                 "converge inside the sampled range; sample more p values there", rate=rate)
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
    return ThresholdFit(float(params[0]), float(low), float(high), rate=rate, correction=correction,
                        nu=float(params[1]), mu=float(1 / params[2]) if correction else None, chi2=float(chi2),
                        dof=dof, scale_factor=scale, refits=len(samples))


def use_correction(distances: Sequence[int], correction: bool | None) -> bool:
    """Whether a fit over `distances` adds the finite-size correction (None: when there are enough of them);
    asking for it with too few distances is an error."""
    enough = len(set(distances)) >= MIN_DISTANCES_FOR_CORRECTION
    if correction and not enough:
        raise QecInputError(f"the finite-size correction needs >= {MIN_DISTANCES_FOR_CORRECTION} distances; got "
                            f"{sorted(set(distances))}: add distances or use correction=False")
    return enough if correction is None else correction


def _fss_fit(p: np.ndarray, d: np.ndarray, errors: np.ndarray, shots: np.ndarray, rounds: np.ndarray,
             guess: Sequence[float] | np.ndarray) -> tuple[np.ndarray, float] | None:
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

    low, high = [0.0, 0.2, MIN_INVERSE_MU][:len(guess)], [1.0, 5.0, MAX_INVERSE_MU][:len(guess)]
    try:
        result = least_squares(residuals, np.clip(guess, low, high), bounds=(low, high))
    except (ValueError, np.linalg.LinAlgError):
        return None
    if not result.success:
        return None
    return result.x, float(np.sum(result.fun ** 2))


def _crossing(points: Sequence[Point], distances: list[int], rounds: np.ndarray) -> tuple[float | None, str]:
    """(p where successive distances' rates cross, geometric mean over distance pairs; "") or (None, why there is
    none)."""
    shot_rates = np.array([pt.rate for pt in points])
    rate = dict(zip(((cast(int, pt.distance), cast(float, pt.p)) for pt in points), per_round_rate(shot_rates, rounds=rounds).tolist()))
    crossings: list[float] = []
    signs: set[float] = set()
    for small, large in zip(distances, distances[1:]):
        common = sorted(p for (dist, p) in rate if dist == small and (large, p) in rate)
        diffs = [rate[(large, p)] - rate[(small, p)] for p in common]
        signs.update(np.sign(diffs).tolist())
        for (p0, f0), (p1, f1) in zip(zip(common, diffs), zip(common[1:], diffs[1:])):
            if f0 < 0 <= f1:
                crossings.append(math.exp(math.log(p0) + (math.log(p1) - math.log(p0)) * f0 / (f0 - f1)))
                break
    if crossings:
        return float(np.exp(np.mean(np.log(crossings)))), ""
    ps = sorted({cast(float, pt.p) for pt in points})
    if signs <= {-1.0, 0.0}:
        return None, (f"no crossing in the sampled range: larger distances do better at every p, "
                f"so the threshold is above p = {ps[-1]:g}")
    if signs <= {1.0, 0.0}:
        return None, (f"no crossing in the sampled range: larger distances do worse at every p, "
                f"so the threshold is below p = {ps[0]:g}")
    return None, "no consistent crossing in the sampled range: the curves are too noisy; sample more shots"
