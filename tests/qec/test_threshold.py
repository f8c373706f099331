"""Threshold fits: recovered from counts drawn from a known scaling law, plain 'no crossing', published values."""

import numpy as np
import pytest

from qec import StopRule, Store, fit_threshold, run_study, study_tasks
from qec.stats import Point, per_round_rate, suppression_factors, wilson_interval


def synthetic_points(p_th=0.01, nu=1.2, shots=200_000, seed=3):
    """Counts drawn from P = 0.1 + 2x + 5x^2, x = (p - p_th) d^(1/nu): the fit's own ansatz."""
    rng = np.random.default_rng(seed)
    points = []
    for d in (5, 7, 9):
        for p in np.linspace(0.008, 0.012, 5):
            x = (p - p_th) * d ** (1 / nu)
            rate = 0.1 + 2 * x + 5 * x * x
            points.append(Point("surface", d, d, "sd6", float(p), "pymatching", shots, int(rng.binomial(shots, rate)), 0))
    return points


def test_fit_recovers_a_known_threshold_within_its_interval():
    fit = fit_threshold(synthetic_points())
    assert fit.low <= 0.01 <= fit.high
    assert fit.high - fit.low < 0.001


def test_no_crossing_is_said_plainly():
    points = [pt for pt in synthetic_points() if pt.p < 0.0095]
    points += [Point("surface", d, d, "sd6", 0.0092, "pymatching", 10**5, e, 0) for d, e in [(5, 9000), (7, 8000),
                                                                                              (9, 7000)]]
    fit = fit_threshold(points)
    assert fit.p is None and fit.low is None and "no crossing" in fit.method and "above p = 0.0092" in fit.method


def test_wilson_interval_and_per_round_rate():
    low, high = wilson_interval(errors=0, shots=1000)
    assert low == pytest.approx(0, abs=1e-15) and 0.003 < high < 0.004  # the "rule of three" ballpark
    assert per_round_rate((1 - (1 - 2 * 0.01) ** 5) / 2, rounds=5) == pytest.approx(0.01)


def test_lambda_is_the_per_round_ratio():
    points = [Point("surface", 3, 3, "sd6", 0.001, "m", 10**6, 3000, 0), Point("surface", 5, 5, "sd6", 0.001, "m",
                                                                               10**6, 1000, 0)]
    (estimate,) = suppression_factors(points)
    assert estimate.value == pytest.approx(points[0].rate_per_round / points[1].rate_per_round)
    assert estimate.low < estimate.value < estimate.high


def sampled_threshold(tmp_path, noise, distances, ps, max_errors, rounds=None):
    tasks = study_tasks("surface", distances=distances, ps=ps, noise=noise, rounds=rounds, pauli="independent")
    with Store(tmp_path / "t.db") as store:
        return run_study(tasks, store=store, stop=StopRule(max_shots=10**6, max_errors=max_errors), workers=2).threshold


@pytest.mark.slow
def test_code_capacity_mwpm_threshold_matches_published(tmp_path):
    """Dennis et al. 2002 / Wang, Harrington, Preskill 2003: 10.3% for independent X flips with MWPM.

    The planar code's finite-size crossing rises towards it with d (d = 9..17 gives ~9.95%, d = 17..33
    gives 10.1%), so the band is 10.3% minus that drift, plus the statistical interval."""
    fit = sampled_threshold(tmp_path, "code-capacity", [9, 13, 17], [0.094, 0.099, 0.104, 0.109], 5000, rounds=1)
    assert 0.096 < fit.p < 0.105 and fit.low < fit.p < fit.high


@pytest.mark.slow
def test_phenomenological_mwpm_threshold_matches_published(tmp_path):
    """Wang, Harrington, Preskill 2003: 2.93% for independent flips with measurement error q = p, MWPM, T = L.

    d = 7, 11, 15 with 8000 errors per point gave 2.85 +- 0.02%; here fewer errors and smaller d."""
    fit = sampled_threshold(tmp_path, "phenomenological", [5, 9, 13], [0.025, 0.028, 0.031, 0.034], 2000)
    assert 0.026 < fit.p < 0.031 and fit.low < fit.p < fit.high
