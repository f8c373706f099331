"""`qec decode` through the real entry point, on Stim-written files: the Google layout, files one by one with
formats, predictions and decoder options, `qec stats`/`plot`/`export` on the decoded tasks; every malformed input
one line on stderr, exit code 2, and the store as it was."""

import json
import sqlite3

import numpy as np
import pytest
import stim

from qec.cli.main import main
from qec.decoders import DecoderSpec
from qec.decoders.counting import decode_and_count
from qec.decoders.dem_arrays import decoding_dem

SHOTS = 640


def noisy_surface(distance: int, p: float = 0.004) -> stim.Circuit:
    return stim.Circuit.generated(
        "surface_code:rotated_memory_z",
        distance=distance,
        rounds=3,
        after_clifford_depolarization=p,
        before_measure_flip_probability=p,
        after_reset_flip_probability=p,
    )


def google_folder(folder, circuit: stim.Circuit, *, shots: int = SHOTS, seed: int = 3):
    """Google's published layout, written by Stim: circuit_noisy.stim, detection_events.b8, obs_flips_actual.01."""
    folder.mkdir(parents=True)
    (folder / "circuit_noisy.stim").write_text(str(circuit))
    circuit.compile_detector_sampler(seed=seed).sample_write(
        shots,
        filepath=str(folder / "detection_events.b8"),
        format="b8",
        obs_out_filepath=str(folder / "obs_flips_actual.01"),
        obs_out_format="01",
    )
    return folder


def read_back(folder, circuit):
    events = stim.read_shot_data_file(
        path=str(folder / "detection_events.b8"), format="b8", num_detectors=circuit.num_detectors, bit_packed=True
    )
    flips = stim.read_shot_data_file(
        path=str(folder / "obs_flips_actual.01"), format="01", num_observables=1, bit_packed=True
    )
    return events, flips


def test_decode_folder_prints_one_line_and_counts_once(tmp_path, capsys):
    circuit = noisy_surface(3)
    folder = google_folder(tmp_path / "run", circuit)
    store = tmp_path / "r.db"
    args = ["decode", str(folder), "--metadata", "d=3", "--metadata", "rounds=3", "--store", str(store)]
    assert main(args) == 0
    captured = capsys.readouterr()
    (line,) = captured.out.splitlines()
    assert line.startswith(f"decoded {SHOTS} shots with pymatching: ")
    assert "logical error rate" in line and "(95%)" in line and " us/shot" in line and f"in {store}" in line
    assert captured.err == ""
    events, flips = read_back(folder, circuit)
    compiled = DecoderSpec().build().compile_decoder_for_dem(dem=decoding_dem(circuit))
    errors, _ = decode_and_count(compiled, detection_events=events, observables=flips, num_observables=1)
    assert f": {errors} errors," in line
    assert main(args) == 0
    assert "counted once" in capsys.readouterr().out
    with sqlite3.connect(store) as connection:
        assert connection.execute("SELECT count(*), sum(shots), sum(errors) FROM chunks").fetchone() == (
            1,
            SHOTS,
            errors,
        )


def test_decode_files_with_formats_predictions_and_decoder_options(tmp_path, capsys):
    circuit = noisy_surface(3)
    events, flips = circuit.compile_detector_sampler(seed=9).sample(SHOTS, separate_observables=True, bit_packed=True)
    dem = circuit.detector_error_model(decompose_errors=True)
    (tmp_path / "model.dem").write_text(str(dem))
    stim.write_shot_data_file(data=events, path=str(tmp_path / "events.bin"), format="ptb64", num_detectors=24)
    stim.write_shot_data_file(data=flips, path=str(tmp_path / "flips.txt"), format="dets", num_observables=1)
    args = [
        "decode",
        "--dem",
        str(tmp_path / "model.dem"),
        "--dets",
        str(tmp_path / "events.bin"),
        "--dets-format",
        "ptb64",
        "--obs",
        str(tmp_path / "flips.txt"),
        "--obs-format",
        "dets",
        "--decoder",
        "bposd",
        "--decoder-option",
        "osd_order=2",
        "--predictions",
        str(tmp_path / "predicted.b8"),
        "--metadata",
        '{"d": 3, "rounds": 3, "p": 0.004, "device": "simulated"}',
        "--store",
        str(tmp_path / "r.db"),
        "--json",
    ]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    compiled = DecoderSpec.parse("bposd", ["osd_order=2"]).build().compile_decoder_for_dem(dem=dem)
    expected = compiled.decode_shots_bit_packed(bit_packed_detection_event_data=events)
    errors = int(np.count_nonzero(expected != flips))
    assert (report["shots"], report["errors"], report["observable_errors"]) == (SHOTS, errors, [errors])
    assert report["metadata"]["decoder_options"] == {"osd_order": 2}
    assert report["metadata"]["device"] == "simulated" and report["added"] is True
    written = stim.read_shot_data_file(
        path=str(tmp_path / "predicted.b8"), format="b8", num_observables=1, bit_packed=True
    )
    assert np.array_equal(written, expected)


def test_stats_plot_and_export_read_decoded_tasks_at_two_distances(tmp_path, capsys):
    store = tmp_path / "r.db"
    for distance in (3, 5):
        folder = google_folder(tmp_path / f"d{distance}", noisy_surface(distance), shots=3_000, seed=distance)
        metadata = ["--metadata", f"d={distance}", "--metadata", "rounds=3", "--metadata", "p=0.004"]
        assert main(["decode", str(folder), *metadata, "--store", str(store)]) == 0
    capsys.readouterr()
    assert main(["stats", "--store", str(store)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert len(table) == 3
    assert [line.split()[3:7] for line in table[1:]] == [["3", "3", "0.004", "3,000"], ["5", "3", "0.004", "3,000"]]
    assert main(["plot", "--store", str(store), "--out", str(tmp_path / "p.svg"), "--json"]) == 0
    study = json.loads(capsys.readouterr().out)
    assert [point["distance"] for point in study["points"]] == [3, 5]
    assert [(estimate["distance_small"], estimate["distance_large"]) for estimate in study["lambda"]] == [(3, 5)]
    assert (tmp_path / "p.svg").stat().st_size > 0
    assert main(["export", "--store", str(store)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all(line.endswith(",0") for line in lines[1:])


def _cases(tmp_path):
    """(arguments, text the error line must hold) for each malformed input."""
    circuit = noisy_surface(3)
    run = google_folder(tmp_path / "run", circuit)
    bigger = noisy_surface(5)
    (tmp_path / "d5.stim").write_text(str(bigger))
    (tmp_path / "d5.dem").write_text(str(bigger.detector_error_model(decompose_errors=True)))
    events = (run / "detection_events.b8").read_bytes()
    (tmp_path / "cut.b8").write_bytes(events[:-1])
    (tmp_path / "short.b8").write_bytes(events[:-3])
    (tmp_path / "garbage.01").write_bytes((b"\xff" * 24 + b"\n") * SHOTS)
    two_dems = google_folder(tmp_path / "two_dems", circuit)
    for name in ("a.dem", "b.dem"):
        (two_dems / name).write_text(str(circuit.detector_error_model()))
    no_obs = google_folder(tmp_path / "no_obs", circuit)
    (no_obs / "obs_flips_actual.01").unlink()
    dets, obs = ["--dets", str(run / "detection_events.b8")], ["--obs", str(run / "obs_flips_actual.01")]
    return [
        ([str(run), "--circuit", str(tmp_path / "d5.stim")], "9-byte b8 shots of 72 detectors (the DEM of "),
        (["--dem", str(tmp_path / "d5.dem"), *dets, *obs], "d5.dem has 72"),
        ([str(run), "--dem", str(tmp_path / "d5.dem")], "has 72 detectors and 1 observables but"),
        ([str(run), "--dets", str(tmp_path / "cut.b8")], "1,919 bytes, not a whole number of 3-byte b8 shots"),
        ([str(run), "--dets", str(tmp_path / "short.b8")], "holds 639 shots of 24 detectors but"),
        ([str(run), "--dets-format", "b9"], "unknown shot data format --dets-format 'b9'"),
        (
            [str(run), "--dets", str(tmp_path / "events.txt")],
            "format '.txt': name the file .01, .b8, .r8, .ptb64 or .dets, or give its format (--dets-format)",
        ),
        ([str(run), "--dets", str(tmp_path / "garbage.01")], "Unexpected character"),
        ([str(no_obs)], "has no obs_flips_actual file (obs_flips_actual.01, "),
        ([str(two_dems)], "has 2 DEMs (a.dem, b.dem): name the one to use (--dem FILE)"),
        ([str(tmp_path / "nowhere")], "is not a folder"),
        ([*dets], "give a FOLDER of recorded data, or the files: --dets FILE and --obs FILE"),
        ([*dets, *obs], "give the DEM (--dem FILE.dem) or the circuit (--circuit FILE.stim)"),
        ([str(run), "--metadata", "d=0"], "metadata 'd' must be an integer >= 1"),
        ([str(run), "--metadata", "source=lab"], "'source' is set by decoding"),
        ([str(run), "--metadata", "d"], "is not KEY=VALUE or a JSON object"),
        ([str(run), "--decoder", "mwpm"], "unknown decoder 'mwpm'"),
        ([str(run), "--decoder", "bposd", "--decoder-option", "osd_order=-1"], "osd_order"),
        ([str(run), "--predictions", str(tmp_path / "nowhere" / "p.01")], "does not exist"),
        ([str(run), "--predictions", str(tmp_path / "r.db"), "--predictions-format", "01"], "which this command reads"),
    ]


def test_malformed_inputs_exit_2_with_one_line_and_leave_the_store_unchanged(tmp_path, capsys):
    store = tmp_path / "r.db"
    cases = _cases(tmp_path)
    assert main(["decode", str(tmp_path / "run"), "--metadata", "d=3", "--store", str(store)]) == 0
    before = store.read_bytes()
    capsys.readouterr()
    for args, expected in cases:
        assert main(["decode", *args, "--store", str(store)]) == 2, args
        captured = capsys.readouterr()
        (line,) = captured.err.splitlines()
        assert line.startswith("error: ") and expected in line, (args, line)
        assert captured.out == ""
        assert store.read_bytes() == before
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize("store_name", ["new.db", "not-a-store.db"])
def test_a_failed_decode_makes_no_store(tmp_path, capsys, store_name):
    circuit = noisy_surface(3)
    run = google_folder(tmp_path / "run", circuit)
    store = tmp_path / store_name
    if store_name == "not-a-store.db":
        store.write_text("hello")
        assert main(["decode", str(run), "--store", str(store)]) == 2
        assert "not a qec store" in capsys.readouterr().err
        assert store.read_text() == "hello"
        return
    (run / "detection_events.b8").write_bytes(b"\x00")
    assert main(["decode", str(run), "--store", str(store)]) == 2
    assert not store.exists()


def test_an_uninferable_circuit_gets_a_one_line_tagging_note(tmp_path, capsys):
    """A foreign circuit whose bases cannot be inferred is decoded whole, and a basis-aware decoder says how to
    tag it (one line on stderr); a matching decoder, which never decodes one basis, says nothing."""
    circuit = stim.Circuit.generated("color_code:memory_xyz", distance=3, rounds=2, after_clifford_depolarization=0.001)
    (tmp_path / "c.stim").write_text(str(circuit))
    circuit.compile_detector_sampler(seed=1).sample_write(
        50, filepath=str(tmp_path / "d.b8"), format="b8", obs_out_filepath=str(tmp_path / "o.01"), obs_out_format="01"
    )
    files = ["--circuit", str(tmp_path / "c.stim"), "--dets", str(tmp_path / "d.b8"), "--obs", str(tmp_path / "o.01")]
    assert main(["decode", *files, "--decoder", "bposd", "--store", str(tmp_path / "r.db")]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "decoded whole" in notes[0] and "DETECTOR[basis=Z]" in notes[0]
    assert main(["decode", *files, "--decoder", "pymatching", "--store", str(tmp_path / "r.db")]) == 0
    assert "note:" not in capsys.readouterr().err
