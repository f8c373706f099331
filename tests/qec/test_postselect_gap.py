"""Gap post-selection as part of a task: recorded in its metadata (ids unchanged without it), refused with a decoder
that gives no gap, carried to the worker, where shots below the gap are discards and never errors; `qec collect
--postselect-gap` and `qec plot --x discard_rate`, one curve per distance."""

from __future__ import annotations

import json

import numpy as np
import pytest
import stim

from qec import decoders
from qec.cli.main import main
from qec.decoders.counting import count_errors
from qec.decoders.dem_arrays import decoding_dem
from qec.engine import StopRule, collect
from qec.errors import QecInputError
from qec.parts import StudySpec, memory_task, task_from_metadata
from qec.plot import plot_curves
from qec.sampling import ChunkRequest, run_chunk
from qec.slices import slice_points
from qec.stats import Point
from qec.store import Store
from qec.task import Counts, Task


def test_the_gap_is_recorded_and_rebuilt_and_leaves_other_task_ids_alone():
    plain = memory_task("surface", distance=3, noise="sd6", p=0.002)
    assert "postselect_gap" not in plain.metadata
    assert StudySpec.of("surface", noise="sd6", postselect_gap=None).task(distance=3, p=0.002).task_id == plain.task_id
    gapped = memory_task("surface", distance=3, noise="sd6", p=0.002, postselect_gap=4)
    assert gapped.metadata["postselect_gap"] == 4.0 and gapped.postselect_gap == 4.0
    assert gapped.task_id != plain.task_id
    assert task_from_metadata(gapped.decoder, gapped.metadata).task_id == gapped.task_id
    assert json.loads(gapped.metadata_json)["postselect_gap"] == 4.0


@pytest.mark.parametrize("gap", [-1, float("nan"), float("inf"), True, "4"])
def test_a_gap_that_is_not_a_finite_number_at_least_zero_is_refused(gap):
    with pytest.raises(QecInputError, match="postselect_gap=.* is not allowed"):
        memory_task("surface", distance=3, noise="sd6", p=0.002, postselect_gap=gap)


def test_a_decoder_without_a_gap_is_refused_naming_those_with_one(tmp_path):
    with pytest.raises(QecInputError, match=r"decoder 'uf' gives no per-shot gap.*use 'bposd' or 'pymatching'"):
        StudySpec.of("surface", noise="sd6", decoder="uf", postselect_gap=2)
    # a task built by hand, with a custom decoder object: refused by the engine before anything is stored
    circuit = memory_task("surface", distance=3, noise="sd6", p=0.002).circuit
    task = Task(circuit=circuit, decoder="mine", metadata={"postselect_gap": 2.0})
    with pytest.raises(QecInputError, match="gives no per-shot gap"):
        collect([task], store=Store(tmp_path / "s.db"), custom_decoders={"mine": decoders.get("uf")}, workers=1)
    assert Store(tmp_path / "s.db", read_only=True).totals() == {}


def test_a_circuit_whose_observable_is_no_cut_is_refused_before_sampling(tmp_path):
    ring = stim.Circuit(
        "X_ERROR(0.1) 0 1 2\nM 0 1 2\nDETECTOR rec[-1] rec[-2]\nDETECTOR rec[-2] rec[-3]\nDETECTOR rec[-3] rec[-1]\n"
        "OBSERVABLE_INCLUDE(0) rec[-1]"
    )
    task = Task(circuit=ring, decoder="pymatching", metadata={"postselect_gap": 1.0})
    with pytest.raises(QecInputError, match="no matching gap"):
        collect([task], store=Store(tmp_path / "s.db"), workers=1)


def _chunk(task: Task, shots: int, seed: int) -> Counts:
    request = ChunkRequest(
        task.task_id, task.circuit_text, task.decoder_spec.build(), (), 0, shots, seed, task.postselect_gap
    )
    return run_chunk(request).counts


@pytest.mark.parametrize("gap", [0.0, 6.0, 1000.0])
def test_shots_below_the_gap_are_discards_and_never_errors(gap):
    task = memory_task("surface", distance=3, noise="si1000", p=0.005, postselect_gap=gap)
    counts = _chunk(task, 5000, seed=3)
    # the same shots decoded here: the worker samples them with the chunk's seed
    events, observables = task.circuit.compile_detector_sampler(seed=3).sample(
        5000, separate_observables=True, bit_packed=True
    )
    compiled = task.decoder_spec.build().compile_decoder_for_dem(dem=decoding_dem(task.circuit))
    predictions, gaps = compiled.decode_shots_with_gap(bit_packed_detection_event_data=events)
    kept = gaps >= gap
    errors, _ = count_errors(predictions[kept], observables=observables[kept], num_observables=1)
    assert (counts.shots, counts.discards, counts.errors) == (5000, int(np.count_nonzero(~kept)), errors)
    if gap == 0:
        assert counts.discards == 0 and counts.errors > 0
    if gap == 1000:
        assert counts.discards == 5000 and counts.errors == 0


def test_collect_stores_discards_and_a_larger_gap_keeps_fewer_shots_with_fewer_errors(tmp_path):
    tasks = [memory_task("surface", distance=3, noise="si1000", p=0.005, postselect_gap=g) for g in (0, 10)]
    with Store(tmp_path / "g.db") as store:
        totals = collect(
            tasks, store=store, stop=StopRule(max_shots=20_000, max_errors=10**6), workers=1, chunk_shots=5000
        )
    loose, strict = (Point.from_totals(totals[task.task_id]) for task in tasks)
    assert loose.counts.discards == 0 < strict.counts.discards < strict.counts.shots
    # 20,000 shots each: ~4% vs ~1% fail, each known to ~+-0.3% (5 sigma apart and more)
    assert strict.rate < loose.rate / 2
    assert strict.discard_rate == strict.counts.discards / 20_000


def _points():
    return [
        Point(
            "surface", d, d, "si1000", 0.003, "pymatching", Counts(10_000, e, k), {"distance": d, "postselect_gap": g}
        )
        for d, rows in (
            (3, ((0, 200, 0), (4, 120, 500), (8, 60, 1500))),
            (5, ((0, 100, 0), (4, 50, 300), (8, 20, 900))),
        )
        for g, e, k in rows
    ]


def test_discard_rate_on_x_gives_one_curve_per_distance_with_rates_per_kept_shot():
    curves = slice_points(_points(), group_by=["distance"], x="discard_rate")
    assert [curve.label for curve in curves.curves] == ["distance=3", "distance=5"]
    d3 = curves.curves[0].points
    assert [pt.discard_rate for pt in d3] == [0.0, 0.05, 0.15]
    assert d3[2].rate == 60 / 8500 and d3[2].rate_interval[0] < d3[2].rate < d3[2].rate_interval[1]
    figure = plot_curves(curves, rate="shot")
    assert figure.axes[0].get_xlabel().startswith("discard rate")
    assert figure.axes[0].get_xscale() == "linear"
    # without --group-by, the curves split by distance as for p (0 discards repeat at both distances)
    assert [c.label for c in slice_points(_points(), x="discard_rate").curves] == ["distance=3", "distance=5"]


def test_the_cli_collects_a_list_of_gaps_and_plots_them_against_the_discard_rate(tmp_path, capsys):
    store = tmp_path / "gap.db"
    common = ["--distance", "3", "--noise", "si1000", "--p", "0.005", "--max-shots", "4000", "--workers", "1"]
    assert main(["collect", "surface", *common, "--postselect-gap", "0,8", "--store", store, "--json"]) == 0
    totals = Store(store, read_only=True).totals().values()
    by_gap = {t.metadata["postselect_gap"]: t.counts for t in totals}
    assert sorted(by_gap) == [0.0, 8.0] and by_gap[0.0].discards == 0 < by_gap[8.0].discards
    figure = tmp_path / "gap.png"
    assert main(["plot", "--store", store, "--x", "discard_rate", "--group-by", "distance", "--out", figure]) == 0
    assert figure.stat().st_size > 0
    assert "distance=3" in capsys.readouterr().out


@pytest.mark.parametrize(
    "flags, message",
    [
        (["collect", "surface", "--postselect-gap", "-1"], "--postselect-gap '-1' must be a gap in dB >= 0"),
        (["collect", "surface", "--postselect-gap", "x"], "--postselect-gap 'x' must be a gap in dB >= 0"),
        (["collect", "surface", "--decoder", "uf", "--postselect-gap", "2"], "decoder 'uf' gives no per-shot gap"),
        (["threshold", "surface", "--postselect-gap", "2,4"], "a threshold study takes one --postselect-gap"),
    ],
)
def test_the_cli_refuses_bad_gaps_in_one_line_with_exit_code_2(tmp_path, capsys, flags, message):
    assert main([*flags, "--store", tmp_path / "x.db"]) == 2
    error = capsys.readouterr().err
    assert message in error and len(error.strip().splitlines()) == 1, error
    assert not (tmp_path / "x.db").exists()
