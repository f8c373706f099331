"""`qec threshold --auto` acts on an unresolved fit (issue 19): it samples the p values and distances the fit asks
for next, and never stops at an unresolved estimate, however narrow its interval."""

from dataclasses import replace

import pytest

import qec.auto
from qec.auto import auto_threshold
from qec.store import Store
from qec.threshold import UNRESOLVED, NextSamples, ThresholdFit

# The rotated surface code under independent X/Z flips, code capacity (one round): its small codes cross near
# p = 0.1, inside the scan's 2%-20%, and every sample is cheap.
SURFACE = dict(distances=[3, 5], noise="code-capacity", rounds=1, pauli="independent", workers=1)


class Enough(Exception):
    """Ends the study from `on_round` once the rounds under test have run."""


def test_an_unresolved_fit_is_acted_on_not_stopped_at(tmp_path, monkeypatch):
    """After the first refine round, the fit is made unresolved (its estimate at the window's centre with a
    +-0.1% interval, which a found fit would stop at as target_precision), asking for two p values above the
    window and d = 7. The round's estimate is not recorded as a threshold, and the next round samples a window
    that holds those p values, at d = 3, 5 and 7."""
    real_analyse = qec.auto.analyse
    calls, asked = [], {}

    def analyse(points, **options):
        study = real_analyse(points, **options)
        calls.append(study)
        if len(calls) != 2:  # the first is the scan's; the second the first refine round's
            return study
        ps = sorted({pt.p for pt in points})
        centre = ps[len(ps) // 2]
        asked["p_values"] = (round(ps[-1] * 1.1, 4), round(ps[-1] * 1.25, 4))
        unresolved = ThresholdFit(
            centre,
            centre * 0.999,
            centre * 1.001,
            statistical_low=centre * 0.999,
            statistical_high=centre * 1.001,
            crossings=study.threshold.crossings,
            status=UNRESOLVED,
            reason="unresolved: made so by the test",
            sample_next=NextSamples(asked["p_values"], "above", distances=(7,)),
        )
        return replace(study, threshold=unresolved)

    monkeypatch.setattr(qec.auto, "analyse", analyse)
    rounds = []

    def on_round(done):
        rounds.append(done)
        if len(rounds) == 3:
            raise Enough

    store = tmp_path / "auto.db"
    with pytest.raises(Enough):
        auto_threshold("surface", store=store, max_seconds=300, on_round=on_round, **SURFACE)
    scan, first, second = rounds
    assert (scan.stage, first.stage, second.stage) == ("scan", "refine", "refine")
    assert first.p_th is None and first.precision is None  # an unresolved estimate is no threshold to stop at
    assert second.p_values[0] <= first.p_values[-1] and second.p_values[-1] >= asked["p_values"][-1]
    with Store(store, read_only=True) as results:
        sampled = {(t.metadata["distance"], t.metadata["p"]) for t in results.totals().values() if t.counts.shots}
    assert {(7, p) for p in second.p_values} <= sampled
    assert not {(7, p) for p in first.p_values if p not in second.p_values} & sampled  # d = 7 only once asked


@pytest.mark.parametrize("falls_again", [False, True])
def test_falling_crossings_end_a_study_only_when_seen_again_at_more_errors(tmp_path, monkeypatch, falls_again):
    """Two crossings' 95% intervals part by noise now and then (an emulated SI1000 study of the surface code,
    whose crossings climb, was told 'no threshold' at 500 errors per point once in about a hundred runs). Here the
    first refine round's crossings are made to fall with d: the study samples the same window at more errors per
    point, and stops with no_threshold only if they fall there too."""
    real_analyse, real_drift_down = qec.auto.analyse, qec.auto.drift_down
    refine_rounds, analysed = [], []
    falling = (1, 2) if falls_again else (1,)  # the refine rounds whose crossings fall

    def analyse(points, **options):  # called before its round is recorded; the scan's call is the first
        study = real_analyse(points, **options)
        analysed.append(study)
        return (
            replace(study, threshold=ThresholdFit.none("none: made so by the test"))
            if len(analysed) - 1 in falling
            else study
        )

    def drift_down(crossings):  # called after its round is recorded
        return len(refine_rounds) in falling or real_drift_down(crossings)

    def on_round(done):
        if done.stage == "refine":
            refine_rounds.append(done)
        if len(refine_rounds) == 3:
            raise Enough

    monkeypatch.setattr(qec.auto, "analyse", analyse)
    monkeypatch.setattr(qec.auto, "drift_down", drift_down)
    store = tmp_path / "auto.db"
    if falls_again:
        result = auto_threshold("surface", store=store, max_seconds=300, on_round=on_round, **SURFACE)
        assert result.stopped_by == "no_threshold" and len(refine_rounds) == 2, result.describe()
    else:
        with pytest.raises(Enough):
            auto_threshold("surface", store=store, max_seconds=300, on_round=on_round, **SURFACE)
    first, second = refine_rounds[:2]
    assert second.p_values == first.p_values and second.max_errors >= 2 * first.max_errors
