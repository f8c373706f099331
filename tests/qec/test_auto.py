"""Threshold studies found automatically (qec.auto, `qec threshold --auto`): refused at the door, stopped by the
rule that applies and said so, resumed from the store; and (slow) the surface code under SI1000 to +-5%."""

import json
import math
import sqlite3

import pytest

from qec.auto import (
    STOP_RULES,
    AutoResult,
    auto_threshold,
    lattice_p,
    scan_grid,
)
from qec.cli.main import main
from qec.errors import QecInputError
from qec.noise import noise_families
from qec.store import Store

# The repetition code under independent X flips: its threshold is 1/2, so no scan range holds it, and every
# sample is cheap. Rounds 1: code capacity.
REPETITION = dict(distances=[3, 5, 7], noise="code-capacity", rounds=1, pauli="independent", workers=1)


def chunk_rows(path):
    with sqlite3.connect(path) as connection:
        return sorted(connection.execute("SELECT task_id, chunk, shots, errors FROM chunks"))


def stored_shots(path):
    with Store(path, read_only=True) as store:
        return sum(t.counts.shots for t in store.totals().values())


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(target_precision=0), "target_precision=0 is not allowed"),
        (dict(target_precision=1.0), "target_precision=1.0 is not allowed"),
        (dict(target_precision=math.nan), "target_precision=nan is not allowed"),
        (dict(target_precision="0.05"), "target_precision='0.05' is not allowed"),
        (dict(max_shots_total=0), "max_shots_total=0 is not allowed"),
        (dict(max_shots_total=1.5), "max_shots_total=1.5 is not allowed"),
        (dict(max_shots_total=True), "max_shots_total=True is not allowed"),
        (dict(max_shots_total=2**63), "max_shots_total=9223372036854775808 is not allowed"),
        (dict(max_seconds=0), "max_seconds=0 is not allowed"),
        (dict(max_seconds=-1.0), "max_seconds=-1.0 is not allowed"),
        (dict(max_seconds=math.inf), "max_seconds=inf is not allowed"),
        (dict(distances=[3]), "distances=[3] gives no threshold: give >= 2 distances"),
        (dict(distances="3,5"), "distances='3,5' is not a list of distances"),
        (dict(distances=[3, 5.0]), "is not a list of distances"),
        (dict(noise="none"), "the noise model 'none' has no threshold to find: use one of code-capacity"),
        (dict(noise="bogus"), "unknown noise model 'bogus'"),
        (dict(family="nope"), "unknown code family 'nope'"),
        (dict(decoder="magic"), "unknown decoder 'magic'"),
        (dict(workers=0), "workers=0 is not a worker count"),
        (dict(scheduler="tcp://127.0.0.1:1", cluster="local:1"), "scheduler= and cluster= are both given"),
        (dict(client=object(), cluster="local:1"), "client= is given with scheduler= or cluster="),
        (dict(correction=True), "the finite-size correction needs >= 4 distances"),
        (dict(chunk_shots=0), "chunk_shots=0 is not allowed"),
    ],
)
def test_bad_parameters_are_refused_before_any_store_file_is_made(tmp_path, options, message):
    arguments = dict(REPETITION, family="repetition") | options
    family = arguments.pop("family")
    store = tmp_path / "auto.db"
    with pytest.raises(QecInputError, match="^" if message[0] == "^" else None) as refused:
        auto_threshold(family, store=store, **arguments)
    assert message in str(refused.value)
    assert list(tmp_path.iterdir()) == []


def test_scan_grids_span_each_noise_models_range_on_the_lattice():
    scanned = {name: entry.scan_range for name, entry in noise_families().items() if entry.scan_range is not None}
    assert set(scanned) == {
        "code-capacity",
        "phenomenological",
        "uniform",
        "sd6",
        "si1000",
        "biased",
        "erasure",
        "erasure-gates",
        "heralded-pauli",
        "leakage",
    }
    for noise, (low, high) in scanned.items():
        grid = scan_grid(noise)
        ratio = grid[1] / grid[0]
        assert low <= grid[0] < low * ratio and high / ratio < grid[-1] <= high, noise
        assert all(b / a == pytest.approx(ratio, rel=2e-3) for a, b in zip(grid, grid[1:])), noise
    assert scan_grid("code-capacity")[0] == lattice_p(-160) == 0.02512


def test_a_small_shot_budget_stops_the_study_and_a_rerun_samples_nothing_more(tmp_path):
    """The budget counts every shot of the study's tasks in the store; the per-point limits keep it exact (never
    over, and stopped within 256 shots of it)."""
    store = tmp_path / "auto.db"
    first = auto_threshold("repetition", store=store, max_shots_total=30_000, **REPETITION)
    assert first.stopped_by == "max_shots_total" and "stopped by max_shots_total" in first.describe()
    assert 30_000 - 256 < first.shots == first.shots_sampled == stored_shots(store) <= 30_000
    assert first.rounds[0].stage == "scan" and first.rounds[0].p_values == tuple(scan_grid("code-capacity"))
    assert sum(r.shots for r in first.rounds) == first.shots_sampled
    rows = chunk_rows(store)

    again = auto_threshold("repetition", store=store, max_shots_total=30_000, **REPETITION)
    assert again.stopped_by == "max_shots_total" and again.shots_sampled == 0 and again.shots == first.shots
    assert chunk_rows(store) == rows  # nothing sampled, nothing written

    more = auto_threshold("repetition", store=store, max_shots_total=60_000, **REPETITION)
    assert more.stopped_by == "max_shots_total" and 60_000 - 256 < more.shots == stored_shots(store) <= 60_000
    assert more.shots_sampled == more.shots - first.shots
    assert set(rows) <= set(chunk_rows(store))  # the same tasks, resumed: earlier chunks kept, new ones added


def test_the_time_limit_stops_the_study_and_keeps_what_it_committed(tmp_path):
    store = tmp_path / "auto.db"
    result = auto_threshold("repetition", store=store, max_seconds=0.5, **REPETITION)
    assert result.stopped_by == "max_seconds" and "stopped by max_seconds (0.5 s)" in result.describe()
    assert 0.5 <= result.seconds < 30
    assert result.shots == stored_shots(store) > 0


def test_a_threshold_beyond_what_the_noise_model_allows_is_said_so(tmp_path):
    """The repetition code's threshold under independent flips is 1/2: the scan extends upwards to 0.48, the
    largest lattice p below 1/2 (rates above 1/2 tell nothing), finds no crossing that more errors do not undo,
    raises its errors, and says no_crossing."""
    result = auto_threshold("repetition", store=tmp_path / "auto.db", **REPETITION)
    assert result.stopped_by == "no_crossing" and result.study.threshold.p is None
    assert max(result.p_values) == lattice_p(-32) == 0.4786 and result.p_values[0] == scan_grid("code-capacity")[0]
    assert result.rounds[-1].stage == "scan" and result.rounds[-1].max_errors > result.rounds[0].max_errors


def test_stop_rules_are_named_in_json(tmp_path):
    result = auto_threshold("repetition", store=tmp_path / "auto.db", max_shots_total=2_000, **REPETITION)
    assert isinstance(result, AutoResult)
    report = json.loads(json.dumps(result.as_dict()))
    assert {"threshold", "points", "store", "auto"} <= set(report)
    assert report["auto"]["stopped_by"] == "max_shots_total" == result.stopped_by
    assert report["auto"]["stop_rule"] == STOP_RULES["max_shots_total"]
    assert report["auto"]["rounds"][0]["stage"] == "scan" and report["auto"]["shots"] <= 2_000


# The CLI: --auto with --p is refused, --auto's own flags need it, and --json carries the rounds.


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--auto", "--p", "0.01:0.1:3"], "error: --auto and --p are both given: give one"),
        (["--auto", "--max-errors", "10"], "error: --auto and --max-errors are both given: give one"),
        (["--target-precision", "0.02"], "error: --target-precision is an --auto option: add --auto"),
        (["--max-shots-total", "10"], "error: --max-shots-total is an --auto option: add --auto"),
        (["--auto", "--target-precision", "0"], "error: --target-precision 0.0 is not allowed"),
        (["--auto", "--max-shots-total", "0"], "error: --max-shots-total 0 is not allowed"),
        (["--auto", "--max-seconds", "-1"], "error: --max-seconds -1.0 is not allowed"),
        (["--auto", "--distance", "3"], "error: --distance [3] gives no threshold"),
    ],
)
def test_cli_refuses_auto_mixed_with_a_grid_and_its_flags_without_it(tmp_path, capsys, extra, message):
    store = tmp_path / "auto.db"
    argv = [
        "threshold",
        "repetition",
        "--noise",
        "code-capacity",
        "--pauli",
        "independent",
        "--rounds",
        "1",
        "--distance",
        "3,5,7",
        "--store",
        str(store),
        "--plot",
        str(tmp_path / "t.png"),
        *extra,
    ]
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith(message)
    assert list(tmp_path.iterdir()) == []


def test_cli_auto_json_reports_the_rounds_and_the_rule_that_stopped_it(tmp_path, capsys):
    store = tmp_path / "auto.db"
    argv = [
        "threshold",
        "repetition",
        "--noise",
        "code-capacity",
        "--pauli",
        "independent",
        "--rounds",
        "1",
        "--distance",
        "3,5,7",
        "--store",
        str(store),
        "--plot",
        str(tmp_path / "t.png"),
        "--workers",
        "1",
        "--auto",
        "--max-shots-total",
        "5000",
        "--json",
    ]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["auto"]["stopped_by"] == "max_shots_total" and report["auto"]["max_shots_total"] == 5000
    assert report["auto"]["shots"] == stored_shots(store) <= 5000
    assert [r["round"] for r in report["auto"]["rounds"]] == list(range(1, len(report["auto"]["rounds"]) + 1))
    assert (tmp_path / "t.png").exists()


@pytest.mark.slow
def test_surface_code_under_si1000_found_automatically(tmp_path):
    """Rotated surface code, SI1000, d = 5, 7, 9, rounds = d, target +-5%, budget 10 million shots and 10 minutes,
    2 workers on 2 cores.

    Measured: +-4.5% in 88 s and 0.8 million shots (p_th = 0.513%, 95% interval 0.492-0.538%), on cores shared
    with other work; a hand-made grid of 10,000 errors per point gives 0.523% (+-1.6%). The shots a study needs
    have a long tail: 194 emulated studies (binomial draws from rates measured at 17 p values; rounds, stores and
    fits real) took 0.97 million at the median, 1.7 million at the 90th percentile and 4.97 million at most,
    while CI saw one spend a 5 million budget at +-6.4%. d = 3 is left out: it
    crosses 5 near p = 0.0047-0.0049 while 5, 7, 9 and 11 cross each other at 0.0052-0.0053, a drift the ansatz
    without a correction term does not describe beyond ~1000 errors per point."""
    result = auto_threshold(
        "surface",
        distances=[5, 7, 9],
        noise="si1000",
        store=tmp_path / "auto.db",
        target_precision=0.05,
        max_shots_total=10_000_000,
        max_seconds=600,
        workers=2,
    )
    fit = result.study.threshold
    assert result.stopped_by == "target_precision", result.describe()
    assert result.precision is not None and result.precision <= 0.05, result.describe()
    assert fit.p is not None and fit.low is not None and fit.high is not None
    assert fit.low < 0.00525 < fit.high, fit.describe()
