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
>>> from qec.threshold import fit_threshold
>>> points = [Point("surface", d, 1, "code-capacity", p, "pymatching", 10**5, int(10**5 * r), 0)
...           for d, p, r in [(3, .08, .050), (3, .1, .076), (3, .12, .105), (5, .08, .031), (5, .1, .074),
...                           (5, .12, .125), (7, .08, .019), (7, .1, .072), (7, .12, .140)]]
>>> fit = fit_threshold(points, seed=1)
>>> 0.095 < fit.p < 0.103
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy.optimize import least_squares

from qec.errors import QecInputError
from qec.stats import Point

BOOTSTRAP_RESAMPLES = 200
MIN_DISTANCES_FOR_CORRECTION = 4
POOR_FIT = 3.0  # chi^2/dof above this: the ansatz does not describe the points
# 1/mu: a slower correction cannot be told from the constant A at reachable d, a faster one is gone by d ~ 5
MIN_INVERSE_MU, MAX_INVERSE_MU = 0.25, 4.0


@dataclass(frozen=True)
class ThresholdFit:
    """p_th with its 95% interval (all None when the curves do not cross in range), and how it was found."""

    p: float | None
    low: float | None
    high: float | None
    method: str
    nu: float | None = None
    extrapolated: bool = False  # p_th is the d -> infinity limit of a fit with the finite-size correction

    def as_dict(self) -> dict:
        return {"p": self.p, "low": self.low, "high": self.high, "method": self.method}

    def describe(self) -> str:
        if self.p is None:
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
    points = [pt for pt in points if pt.kept > 0]
    distances = sorted({pt.distance for pt in points})
    ps = sorted({pt.p for pt in points})
    if len(distances) < 2 or len(ps) < 3:
        raise QecInputError(f"a threshold needs >= 2 distances and >= 3 values of p; got distances {distances} "
                            f"and {len(ps)} value(s) of p")
    correction = use_correction(distances, correction)
    rounds = np.array([pt.rounds if rate == "round" else 1 for pt in points])
    crossing = _crossing(points, distances, rounds)
    if isinstance(crossing, str):
        return ThresholdFit(None, None, None, crossing)
    d = np.array([pt.distance for pt in points], dtype=float)
    p = np.array([pt.p for pt in points])
    shots = np.array([pt.kept for pt in points], dtype=float)
    errors = np.array([pt.errors for pt in points], dtype=float)
    mu_starts = [[inverse_mu] for inverse_mu in (0.5, 1.0, 2.0)] if correction else [[]]
    starts = [[p_start, 1.0, *mu_start] for p_start in (crossing, (ps[0] + ps[-1]) / 2) for mu_start in mu_starts]
    fits = [fit for fit in (_fss_fit(p, d, errors, shots, rounds, start) for start in starts) if fit is not None]
    params, chi2 = min(fits, key=lambda fit: fit[1]) if fits else (None, None)
    if params is None or not ps[0] <= params[0] <= ps[-1]:
        return ThresholdFit(None, None, None, f"the curves cross near p = {crossing:.3g}, but the finite-size "
                            "scaling fit did not converge inside the sampled range; sample more p values there")
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
    ansatz = "P = A + Bx + Cx^2 + D d^(-1/mu)" if correction else "P = A + Bx + Cx^2 (no finite-size correction)"
    fitted = f"nu = {params[1]:.2f}" + (f", mu = {1 / params[2]:.2f}" if correction else "")
    method = (f"finite-size scaling fit of the per-{rate} rate, {ansatz}, x = (p - p_th) d^(1/nu), {fitted}; "
              f"95% interval from {len(samples)} parametric bootstrap refits; chi^2/dof = {chi2:.1f}/{dof}")
    if scale > 1:
        method += f", so the interval is widened by sqrt(chi^2/dof) = {scale:.2f}"
    if dof > 0 and chi2 > POOR_FIT * dof:
        method += ("; the ansatz fits these points poorly: sample p closer to p_th"
                   + ("" if correction else f" or use >= {MIN_DISTANCES_FOR_CORRECTION} distances"))
    return ThresholdFit(float(params[0]), float(low), float(high), method, float(params[1]), correction)


def use_correction(distances: Sequence[int], correction: bool | None) -> bool:
    """Whether a fit over `distances` adds the finite-size correction (None: when there are enough of them);
    asking for it with too few distances is an error."""
    enough = len(set(distances)) >= MIN_DISTANCES_FOR_CORRECTION
    if correction and not enough:
        raise QecInputError(f"the finite-size correction needs >= {MIN_DISTANCES_FOR_CORRECTION} distances; got "
                            f"{sorted(set(distances))}: add distances or drop --correction")
    return enough if correction is None else correction


def _per_round(shot_rate: np.ndarray, rounds: np.ndarray) -> np.ndarray:
    return (1 - np.clip(1 - 2 * shot_rate, 0, 1) ** (1 / rounds)) / 2


def _fss_fit(p: np.ndarray, d: np.ndarray, errors: np.ndarray, shots: np.ndarray, rounds: np.ndarray,
             guess: Sequence[float]) -> tuple[np.ndarray, float] | None:
    """The nonlinear parameters (p_th, nu[, 1/mu]) from `guess`, and the fit's chi^2; None if it fails.

    A, B, C (and D) enter linearly, so for each (p_th, nu[, 1/mu]) they are solved by weighted least squares
    (variable projection) and only 2 or 3 parameters are searched."""
    shot_rate = errors / shots
    shot_sigma = np.sqrt(np.maximum(shot_rate * (1 - shot_rate), 1 / shots) / shots)
    rate = _per_round(shot_rate, rounds)
    sigma = np.maximum((_per_round(shot_rate + shot_sigma, rounds) - _per_round(shot_rate - shot_sigma, rounds)) / 2,
                       1e-12)
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


def _crossing(points: Sequence[Point], distances: list[int], rounds: np.ndarray) -> float | str:
    """p where successive distances' rates cross (geometric mean over distance pairs), or why there is none."""
    shot_rates = np.array([pt.rate for pt in points])
    rate = dict(zip(((pt.distance, pt.p) for pt in points), _per_round(shot_rates, rounds).tolist()))
    crossings, signs = [], set()
    for small, large in zip(distances, distances[1:]):
        common = sorted(p for (dist, p) in rate if dist == small and (large, p) in rate)
        diffs = [rate[(large, p)] - rate[(small, p)] for p in common]
        signs.update(np.sign(diffs).tolist())
        for (p0, f0), (p1, f1) in zip(zip(common, diffs), zip(common[1:], diffs[1:])):
            if f0 < 0 <= f1:
                crossings.append(math.exp(math.log(p0) + (math.log(p1) - math.log(p0)) * f0 / (f0 - f1)))
                break
    if crossings:
        return float(np.exp(np.mean(np.log(crossings))))
    ps = sorted({pt.p for pt in points})
    if signs <= {-1.0, 0.0}:
        return (f"no crossing in the sampled range: larger distances do better at every p, "
                f"so the threshold is above p = {ps[-1]:g}")
    if signs <= {1.0, 0.0}:
        return (f"no crossing in the sampled range: larger distances do worse at every p, "
                f"so the threshold is below p = {ps[0]:g}")
    return "no consistent crossing in the sampled range: the curves are too noisy; sample more shots"
