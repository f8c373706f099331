"""qec.recorded: Stim-written shot data files decoded and counted exactly as decoding the same shots directly; the
Google layout; the store's rows, counted once; every malformed input refused before anything is written."""

import hashlib
import sqlite3

import numpy as np
import pytest
import stim

import qec
from qec.decoders import DecoderSpec
from qec.decoders.basis_inference import with_inferred_bases
from qec.decoders.counting import decode_and_count
from qec.decoders.dem_arrays import decoding_dem
from qec.errors import QecInputError
from qec.recorded import SHOT_FORMATS, RecordedData, ShotFile, decode_recorded, parse_metadata, recorded_task_id
from qec.task import Task

SHOTS = 2_000


def noisy_surface(distance: int, p: float = 0.008) -> stim.Circuit:
    return stim.Circuit.generated(
        "surface_code:rotated_memory_z",
        distance=distance,
        rounds=3,
        after_clifford_depolarization=p,
        before_measure_flip_probability=p,
        after_reset_flip_probability=p,
    )


def sampled(circuit: stim.Circuit, shots: int = SHOTS, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Bit-packed detection events and observable flips, as Stim samples them."""
    return circuit.compile_detector_sampler(seed=seed).sample(shots, separate_observables=True, bit_packed=True)


def write_shots(path, array: np.ndarray, *, format: str, detectors: int = 0, observables: int = 0) -> None:
    stim.write_shot_data_file(
        data=array, path=str(path), format=format, num_detectors=detectors, num_observables=observables
    )


def google_folder(folder, circuit: stim.Circuit, *, shots: int = SHOTS, seed: int = 5, dem: bool = False):
    """A folder in the layout of Google's published data, written by Stim: the noisy (and ideal) circuit, the
    detection events as b8, the measurements, the actual and a decoder's predicted observable flips as 01."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "circuit_noisy.stim").write_text(str(circuit))
    (folder / "circuit_ideal.stim").write_text(str(circuit.without_noise()))
    if dem:
        (folder / "circuit_detector_error_model.dem").write_text(
            str(circuit.detector_error_model(decompose_errors=True))
        )
    events, flips = sampled(circuit, shots, seed)
    write_shots(folder / "detection_events.b8", events, format="b8", detectors=circuit.num_detectors)
    write_shots(folder / "obs_flips_actual.01", flips, format="01", observables=1)
    write_shots(folder / "obs_flips_predicted_by_nobody.01", np.zeros_like(flips), format="01", observables=1)
    circuit.compile_sampler(seed=1).sample_write(shots, filepath=str(folder / "measurements.b8"), format="b8")
    return events, flips


def direct_counts(circuit: stim.Circuit, events, flips, decoder: str = "pymatching", dem=None):
    compiled = DecoderSpec(decoder).build().compile_decoder_for_dem(dem=dem or decoding_dem(circuit))
    errors, per_observable = decode_and_count(
        compiled, detection_events=events, observables=flips, num_observables=circuit.num_observables
    )
    return errors, tuple(int(n) for n in per_observable)


@pytest.mark.parametrize("format", SHOT_FORMATS)
def test_each_format_counts_as_decoding_the_same_shots_directly(tmp_path, format):
    circuit = noisy_surface(3)
    shots = 1_024  # a multiple of 64, for ptb64
    events, flips = sampled(circuit, shots)
    (tmp_path / "c.stim").write_text(str(circuit))
    write_shots(tmp_path / f"d.{format}", events, format=format, detectors=circuit.num_detectors)
    write_shots(tmp_path / f"o.{format}", flips, format=format, observables=1)
    data = RecordedData.from_files(
        circuit=tmp_path / "c.stim",
        detection_events=tmp_path / f"d.{format}",
        observable_flips=tmp_path / f"o.{format}",
    )
    record = decode_recorded(data, batch_shots=100)  # batches that do not divide the shots
    errors, per_observable = direct_counts(circuit, events, flips)
    assert 0 < errors < shots // 4
    assert (record.counts.shots, record.counts.errors, record.counts.discards) == (shots, errors, 0)
    assert record.observable_errors == per_observable
    # the hashes are of the shots as read, so every format gives the same task
    b8 = tmp_path / "d.b8"
    write_shots(b8, events, format="b8", detectors=circuit.num_detectors)
    other = decode_recorded(
        RecordedData.from_files(
            circuit=tmp_path / "c.stim", detection_events=b8, observable_flips=tmp_path / f"o.{format}"
        )
    )
    assert other.task_id == record.task_id


def test_decoders_with_options_count_as_directly_and_record_their_options(tmp_path):
    circuit = noisy_surface(3)
    events, flips = sampled(circuit, 500)
    dem = circuit.detector_error_model(decompose_errors=True)
    (tmp_path / "m.dem").write_text(str(dem))
    write_shots(tmp_path / "d.01", events, format="01", detectors=circuit.num_detectors)
    write_shots(tmp_path / "o.01", flips, format="01", observables=1)
    data = RecordedData.from_files(
        dem=tmp_path / "m.dem", detection_events=tmp_path / "d.01", observable_flips=tmp_path / "o.01"
    )
    spec = DecoderSpec.parse("bposd", ["osd_order=2"])
    record = decode_recorded(data, decoder=spec)
    compiled = spec.build().compile_decoder_for_dem(dem=dem)
    errors, _ = decode_and_count(compiled, detection_events=events, observables=flips, num_observables=1)
    assert record.counts.errors == errors
    assert record.metadata["decoder_options"] == {"osd_order": 2}
    assert record.decoder.describe() == "bposd(osd_order=2)"


def test_predictions_are_the_decoders_in_the_format_asked(tmp_path):
    circuit = noisy_surface(3)
    google_folder(tmp_path / "run", circuit)
    events, flips = sampled(circuit)
    expected = (
        DecoderSpec()
        .build()
        .compile_decoder_for_dem(dem=decoding_dem(circuit))
        .decode_shots_bit_packed(bit_packed_detection_event_data=events)
    )
    decode_recorded(RecordedData.from_folder(tmp_path / "run"), predictions=tmp_path / "p.txt", predictions_format="01")
    written = stim.read_shot_data_file(path=str(tmp_path / "p.txt"), format="01", num_observables=1, bit_packed=True)
    assert np.array_equal(written, expected)
    assert int(np.count_nonzero(written != flips)) > 0
    with pytest.raises(QecInputError, match="ptb64 holds a multiple of 64 shots, and there are 2,000"):
        decode_recorded(RecordedData.from_folder(tmp_path / "run"), predictions=tmp_path / "p.ptb64")
    assert not (tmp_path / "p.ptb64").exists()


def test_google_layout_picks_the_noisy_circuit_the_dem_and_the_actual_flips(tmp_path):
    circuit = noisy_surface(3)
    events, flips = google_folder(tmp_path / "run", circuit, dem=True)
    data = RecordedData.from_folder(tmp_path / "run")
    assert str(data.circuit) == str(with_inferred_bases(circuit))  # as read, with its inferred basis tags
    assert data.dem_name.endswith("circuit_detector_error_model.dem")
    assert (data.detection_events.format, data.observable_flips.path.name) == ("b8", "obs_flips_actual.01")
    record = decode_recorded(data)
    dem = circuit.detector_error_model(decompose_errors=True)
    assert (record.counts.errors, record.observable_errors) == direct_counts(circuit, events, flips, dem=dem)
    assert record.metadata["recorded_sha256"]["dem"] == hashlib.sha256(str(dem).encode()).hexdigest()
    # with a circuit the id is the one a Task of it would have
    task = Task(circuit=data.circuit, decoder="pymatching", metadata=record.metadata)
    assert record.task_id == task.task_id


def test_store_rows_and_a_second_identical_decode_adds_nothing(tmp_path):
    circuit = noisy_surface(3)
    google_folder(tmp_path / "run", circuit)
    store = tmp_path / "r.db"
    data = RecordedData.from_folder(tmp_path / "run")
    first = decode_recorded(data, metadata={"d": 3, "rounds": 3, "p": 0.008}, store=store)
    again = decode_recorded(data, metadata={"d": 3, "rounds": 3, "p": 0.008}, store=store)
    assert (first.added, again.added, first.task_id) == (True, False, again.task_id)
    with sqlite3.connect(store) as connection:
        tasks = connection.execute("SELECT task_id, decoder, circuit FROM tasks").fetchall()
        chunks = connection.execute("SELECT task_id, chunk, shots, errors, discards, source FROM chunks").fetchall()
    assert tasks == [(first.task_id, "pymatching", str(data.circuit))]
    assert chunks == [(first.task_id, 0, SHOTS, first.counts.errors, 0, "decode:detection_events.b8")]
    (point,) = qec.read_points(store).points
    assert (point.distance, point.rounds, point.p, point.counts.errors) == (3, 3, 0.008, first.counts.errors)
    assert point.observable_errors == first.observable_errors
    assert point.metadata["source"] == "recorded"
    # other metadata is another task
    other = decode_recorded(data, metadata={"d": 3, "rounds": 3, "p": 0.008, "patch": "north"}, store=store)
    assert other.added and other.task_id != first.task_id


def test_a_dem_alone_is_stored_without_a_circuit(tmp_path):
    circuit = noisy_surface(3)
    events, flips = sampled(circuit)
    (tmp_path / "m.dem").write_text(str(circuit.detector_error_model(decompose_errors=True)))
    write_shots(tmp_path / "d.r8", events, format="r8", detectors=circuit.num_detectors)
    write_shots(tmp_path / "o.dets", flips, format="dets", observables=1)
    data = RecordedData.from_files(
        dem=tmp_path / "m.dem", detection_events=tmp_path / "d.r8", observable_flips=tmp_path / "o.dets"
    )
    record = decode_recorded(data, metadata={"distance": 3}, store=tmp_path / "r.db")
    assert record.task_id == recorded_task_id(circuit_text="", decoder="pymatching", metadata=record.metadata)
    with sqlite3.connect(tmp_path / "r.db") as connection:
        assert connection.execute("SELECT circuit FROM tasks").fetchall() == [(None,)]


def test_read_study_and_lambda_on_decoded_tasks_at_two_distances(tmp_path):
    store = tmp_path / "r.db"
    for distance in (3, 5):
        google_folder(tmp_path / f"d{distance}", noisy_surface(distance, p=0.004), shots=4_000, seed=distance)
        decode_recorded(
            RecordedData.from_folder(tmp_path / f"d{distance}"),
            metadata={"d": distance, "rounds": 3, "p": 0.004, "family": "surface"},
            store=store,
        )
    study = qec.read_study(store)  # one study: the hashes of each point's files do not set studies apart
    assert [(pt.distance, pt.counts.shots) for pt in study.points] == [(3, 4_000), (5, 4_000)]
    assert all(pt.counts.errors > 0 for pt in study.points)
    (estimate,) = study.lambdas
    assert (estimate.distance_small, estimate.distance_large, estimate.p) == (3, 5, 0.004)
    assert estimate.value > 1  # below threshold, d = 5 fails less often


def test_parse_metadata_reads_json_values_and_objects_never_evaluates():
    assert parse_metadata(["d=5", "name=__import__('os')", 'tags=["a", 1]', '{"p": 1e-3}']) == {
        "d": 5,
        "name": "__import__('os')",
        "tags": ["a", 1],
        "p": 0.001,
    }
    for bad in (["d"], ["=3"], ["d=3", "d=5"], ["{not json"], ["[1, 2]=3", "{}", "{1: 2}"]):
        with pytest.raises(QecInputError):
            parse_metadata(bad)


@pytest.fixture
def run(tmp_path):
    """A Stim-written Google-layout folder of a d=3 surface code; and the store path (not yet made)."""
    circuit = noisy_surface(3)
    google_folder(tmp_path / "run", circuit, shots=640)
    return tmp_path / "run", circuit, tmp_path / "r.db"


def refused(match: str, call) -> str:
    with pytest.raises(QecInputError, match=match) as error:
        call()
    message = str(error.value)
    assert "\n" not in message
    return message


def test_wrong_detector_counts_and_truncation_are_refused_before_decoding(run, tmp_path):
    folder, circuit, store = run
    bigger = noisy_surface(5)
    (tmp_path / "d5.stim").write_text(str(bigger))
    # b8 of 24 detectors read as 72: 640 3-byte shots are no whole number of 9-byte ones
    message = refused(
        "1,920 bytes, not a whole number of 9-byte b8 shots",
        lambda: decode_recorded(RecordedData.from_folder(folder, circuit=tmp_path / "d5.stim"), store=store),
    )
    assert "detection_events.b8" in message and "has 72" in message
    # 01: the first line has 24 characters, the DEM 72 detectors
    events, _ = sampled(circuit, 640)
    write_shots(tmp_path / "d.01", events, format="01", detectors=circuit.num_detectors)
    message = refused(
        "first line has 24 characters, but the DEM of .*d5.stim has 72 detectors",
        lambda: decode_recorded(
            RecordedData.from_folder(folder, circuit=tmp_path / "d5.stim", detection_events=tmp_path / "d.01"),
            store=store,
        ),
    )
    # a DEM file with another detector count than the data's
    (tmp_path / "other.dem").write_text(str(bigger.detector_error_model(decompose_errors=True)))
    with pytest.raises(QecInputError, match="has 72 detectors and 1 observables but .* has 24"):
        RecordedData.from_folder(folder, dem=tmp_path / "other.dem")
    message = refused(
        "not a whole number",
        lambda: decode_recorded(
            RecordedData.from_files(
                dem=tmp_path / "other.dem",
                detection_events=folder / "detection_events.b8",
                observable_flips=folder / "obs_flips_actual.01",
            ),
            store=store,
        ),
    )
    assert "other.dem has 72" in message
    # truncated b8: a shot cut short
    data = (folder / "detection_events.b8").read_bytes()
    (folder / "detection_events.b8").write_bytes(data[:-1])
    refused(
        "1,919 bytes, not a whole number of 3-byte b8 shots",
        lambda: decode_recorded(RecordedData.from_folder(folder), store=store),
    )
    # a whole shot missing: the shot counts disagree
    (folder / "detection_events.b8").write_bytes(data[:-3])
    refused(
        "holds 639 shots of 24 detectors but .*obs_flips_actual.01 holds 640",
        lambda: decode_recorded(RecordedData.from_folder(folder), store=store),
    )
    assert not store.exists()


def test_malformed_files_are_refused_and_nothing_is_written(run, tmp_path):
    folder, circuit, store = run
    decode_recorded(RecordedData.from_folder(folder), store=store, metadata={"d": 3})
    before = store.read_bytes()
    events, flips = sampled(circuit, 640)
    detectors = circuit.num_detectors

    def files(**given):
        paths = {"detection_events": folder / "detection_events.b8", "observable_flips": folder / "obs_flips_actual.01"}
        return RecordedData.from_files(circuit=folder / "circuit_noisy.stim", **(paths | given))

    (tmp_path / "garbage.01").write_bytes((b"\xff\xfe" * 12 + b"\n") * 640)
    (tmp_path / "letters.01").write_text(("01x" * 8 + "\n") * 640)
    (tmp_path / "short.01").write_text("0" * 24 + "\n" + "0" * 23 + "\n")
    write_shots(tmp_path / "d.r8", events, format="r8", detectors=detectors)
    (tmp_path / "cut.r8").write_bytes((tmp_path / "d.r8").read_bytes()[:-2])
    write_shots(tmp_path / "d.ptb64", events, format="ptb64", detectors=detectors)
    (tmp_path / "cut.ptb64").write_bytes((tmp_path / "d.ptb64").read_bytes()[:-8])
    (tmp_path / "wide.dets").write_text("shot D3 D24\n" * 640)
    write_shots(tmp_path / "o2.01", np.concatenate([flips, flips]), format="01", observables=1)
    (tmp_path / "padded.b8").write_bytes(b"\x03" * 640)  # one observable a shot, and a bit past it
    (tmp_path / "bad.dem").write_text("error(0.1) D0 X")
    (tmp_path / "empty.b8").write_bytes(b"")
    folder_b8 = tmp_path / "folder.b8"
    folder_b8.mkdir()
    cases = [
        ("Unexpected character", lambda: files(detection_events=tmp_path / "garbage.01")),
        ("Unexpected character", lambda: files(detection_events=tmp_path / "letters.01")),
        ("not a whole number of 25-byte lines", lambda: files(detection_events=tmp_path / "short.01")),
        ("r8 data", lambda: files(detection_events=tmp_path / "cut.r8")),
        ("not a whole number of 192-byte ptb64 groups", lambda: files(detection_events=tmp_path / "cut.ptb64")),
        ("D24", lambda: files(detection_events=tmp_path / "wide.dets")),
        ("holds 640 shots of 24 detectors but .*o2.01 holds 1,280", lambda: files(observable_flips=tmp_path / "o2.01")),
        ("sets bits past the 1 observables", lambda: files(observable_flips=tmp_path / "padded.b8")),
        ("is empty", lambda: files(detection_events=tmp_path / "empty.b8")),
        ("is missing", lambda: files(detection_events=tmp_path / "none.b8")),
        ("is a folder", lambda: files(detection_events=folder_b8)),
    ]
    for match, data in cases:
        refused(match, lambda data=data: decode_recorded(data(), store=store, metadata={"d": 3}))
    refused("unknown shot data format '.txt'", lambda: files(detection_events=tmp_path / "d.txt"))
    refused("unknown shot data format detection_events_format='b9'", lambda: files(detection_events_format="b9"))
    refused("not a valid Stim detector error model", lambda: RecordedData.from_folder(folder, dem=tmp_path / "bad.dem"))
    assert store.read_bytes() == before


def test_missing_or_ambiguous_folder_files_are_refused(run, tmp_path):
    folder, circuit, store = run
    for name, match in [
        ("obs_flips_actual.01", "has no obs_flips_actual file"),
        ("detection_events.b8", "has no detection_events file"),
    ]:
        moved = tmp_path / name
        (folder / name).rename(moved)
        refused(match, lambda: RecordedData.from_folder(folder))
        moved.rename(folder / name)
    (folder / "detection_events.01").write_text("0" * 24 + "\n")
    refused("detection_events.01, detection_events.b8: name the one", lambda: RecordedData.from_folder(folder))
    (folder / "detection_events.01").unlink()
    (folder / "a.dem").write_text("error(0.1) D0\n")
    (folder / "b.dem").write_text("error(0.1) D0\n")
    refused("has 2 DEMs \\(a.dem, b.dem\\)", lambda: RecordedData.from_folder(folder))
    empty = tmp_path / "empty"
    empty.mkdir()
    refused("no circuit_noisy.stim, no other .stim file and no .dem file", lambda: RecordedData.from_folder(empty))
    refused("is not a folder", lambda: RecordedData.from_folder(tmp_path / "nowhere"))
    assert not store.exists()


def test_metadata_is_checked_and_decodings_own_keys_refused(run):
    folder, _, store = run
    data = RecordedData.from_folder(folder)
    refused("metadata 'd' must be an integer >= 1", lambda: decode_recorded(data, metadata={"d": 0}, store=store))
    refused("metadata 'p' must be a probability", lambda: decode_recorded(data, metadata={"p": 2}, store=store))
    refused("'source' is set by decoding", lambda: decode_recorded(data, metadata={"source": "x"}, store=store))
    refused("NaN", lambda: decode_recorded(data, metadata=parse_metadata(["p=NaN"]), store=store))
    assert not store.exists()


def test_shot_file_format_from_extension_or_given():
    assert ShotFile.of("x/detection_events.B8").format == "b8"
    assert ShotFile.of("x/events.bin", "ptb64").format == "ptb64"
