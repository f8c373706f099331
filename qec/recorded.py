"""Recorded detection events decoded and counted as a task: shot data files in Stim's formats (01, b8, r8, ptb64,
dets), given one by one or as a folder laid out as Google's published experiment data, decoded with any qec decoder,
so that `qec stats`, studies, Lambda fits and plots read hardware data as they read sampled data.

Every input is checked before anything is decoded or written, each fault one QecInputError naming the file: a
fixed-width file's size must fit the DEM's detector (or observable) count (b8: ceil(n/8) bytes a shot; 01: n
characters and a newline a line; ptb64: 8n bytes per group of 64 shots), what Stim cannot parse is refused with
Stim's reason, and both files must hold the same number of shots.

The task's metadata is the user's (distance, rounds, p, ...: what places the point) plus what decoding knows: the
decoder's options, `"source": "recorded"`, and `recorded_sha256`, the hashes of the DEM and of the shots as read
(so the same shots in another format are the same data). Its id hashes circuit text (empty without a circuit),
decoder and that metadata, as `Task.task_id` does, and its one chunk has index 0: decoding the same data again adds
nothing.

>>> import os, tempfile, stim
>>> folder = tempfile.mkdtemp()
>>> circuit = stim.Circuit.generated("repetition_code:memory", distance=3, rounds=3,
...                                  before_round_data_depolarization=0.05)
>>> _ = open(os.path.join(folder, "circuit_noisy.stim"), "w").write(str(circuit))
>>> circuit.compile_detector_sampler(seed=7).sample_write(
...     1000, filepath=os.path.join(folder, "detection_events.b8"), format="b8",
...     obs_out_filepath=os.path.join(folder, "obs_flips_actual.01"), obs_out_format="01")
>>> record = decode_recorded(RecordedData.from_folder(folder), metadata={"d": 3, "rounds": 3})
>>> record.counts.shots, 0 < record.counts.errors < 100, record.metadata["source"]
(1000, True, 'recorded')
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import stim

from qec.circuit_files import read_circuit
from qec.codes.size import MAX_DETECTORS, MAX_OBSERVABLES
from qec.decoders import DecoderSpec
from qec.decoders.basis_inference import with_inferred_bases
from qec.decoders.dem_arrays import decoding_dem
from qec.determinism import check_deterministic, describe_failure
from qec.engine import Progress
from qec.errors import QecInputError
from qec.outputs import check_output_path, write_atomically
from qec.progress import progress_display
from qec.stats import wilson_interval
from qec.store import Store, check_store_name
from qec.task import ChunkResult, Counts
from qec.text import approximate
from qec.validation import canonical_json, check_metadata

SHOT_FORMATS = ("01", "b8", "r8", "ptb64", "dets")
BATCH = 65_536  # shots decoded at once
CHUNK_INDEX = 0  # a recorded task's one chunk
SOURCE = "recorded"  # the metadata's `source` marker
HASH_KEY = "recorded_sha256"  # metadata: the DEM's and the shots' hashes (qec.study does not tell studies by it)
RESERVED_KEYS = ("source", HASH_KEY, "decoder_options", "decoder")  # set by decoding, not by the user
MAX_DEM_FILE_BYTES = 256 * 2**20
MAX_SHOT_FILE_BYTES = 16 * 2**30  # Stim reads a whole file into memory, bit-packed
# Google's published layout: the file names looked for in a folder
NOISY_CIRCUIT = "circuit_noisy.stim"
DETECTION_EVENTS = "detection_events"
OBSERVABLE_FLIPS = "obs_flips_actual"


@dataclass(frozen=True)
class ShotFile:
    """A shot data file and its Stim format, one of `SHOT_FORMATS`.

    >>> ShotFile.of("run/detection_events.b8").format
    'b8'
    >>> ShotFile.of("events.txt")
    Traceback (most recent call last):
    ...
    qec.errors.QecInputError: events.txt: unknown shot data format '.txt': name the file .01, .b8, ... (format=)
    """

    path: Path
    format: str

    @staticmethod
    def of(path: str | Path, format: str | None = None, *, parameter: str = "format") -> ShotFile:
        """The file at `path` in `format`, or in the format its extension names when `format` is None (errors say
        to give the `parameter` that sets it)."""
        path = Path(path)
        if format is None:
            suffix = path.suffix.lower()
            if suffix[1:] not in SHOT_FORMATS:
                raise QecInputError(
                    f"{path}: unknown shot data format {suffix or '(no extension)'!r}: name the file "
                    f"{_listed(['.' + name for name in SHOT_FORMATS])}, or give its format ({parameter}=)"
                )
            format = suffix[1:]
        if format not in SHOT_FORMATS:
            raise QecInputError(
                f"{path}: unknown shot data format {parameter}={format!r}: choose one of {', '.join(SHOT_FORMATS)}"
            )
        return ShotFile(path, format)

    def expected_shots(self, *, bits: int, kind: str, dem_name: str = "the DEM") -> int | None:
        """The shots the file's size says it holds, each `bits` bits of `kind` ("detectors" or "observables", as
        many as the DEM called `dem_name` has); None for r8 and dets, whose shots vary in length. QecInputError
        when the size cannot be right."""
        size = _size(self.path)
        if size == 0:
            raise QecInputError(f"{self.path} is empty: it holds no shots")
        if self.format == "b8":
            per_shot = (bits + 7) // 8
            if size % per_shot:
                raise QecInputError(
                    f"{self.path} has {size:,} bytes, not a whole number of {per_shot}-byte b8 shots of {bits} {kind} "
                    f"({dem_name} has {bits}): it is cut short or records another number of {kind}"
                )
            return size // per_shot
        if self.format == "01":
            with open(self.path, "rb") as file:
                head = file.read(bits + 2)
            found = head.find(b"\n")
            if found != bits:
                length = (
                    f"more than {bits}" if found < 0 and len(head) > bits else str(len(head) if found < 0 else found)
                )
                raise QecInputError(
                    f"{self.path}: its first line has {length} characters, but {dem_name} has {bits} {kind} (a 0 or "
                    "1 each): give the data and the DEM of one experiment"
                )
            if size % (bits + 1):
                raise QecInputError(
                    f"{self.path} has {size:,} bytes, not a whole number of {bits + 1}-byte lines ({bits} {kind} and "
                    "a newline): a line is cut short or has another length"
                )
            return size // (bits + 1)
        if self.format == "ptb64":
            per_group = 8 * bits
            if size % per_group:
                raise QecInputError(
                    f"{self.path} has {size:,} bytes, not a whole number of {per_group:,}-byte ptb64 groups of 64 "
                    f"shots of {bits} {kind} ({dem_name} has {bits}): it is cut short or records another number of "
                    f"{kind}"
                )
            return size // per_group * 64
        return None

    def read(self, *, bits: int, kind: str, dem_name: str = "the DEM") -> np.ndarray:
        """uint8 (shots, ceil(bits / 8)), bit-packed little-endian: the file's shots of `bits` `kind` ("detectors"
        or "observables"), read by Stim after `expected_shots` checked the size."""
        expected = self.expected_shots(bits=bits, kind=kind, dem_name=dem_name)
        counts = {"num_observables": bits} if kind == "observables" else {"num_detectors": bits}
        try:
            shots = stim.read_shot_data_file(path=str(self.path), format=self.format, bit_packed=True, **counts)
        except (ValueError, RuntimeError) as error:
            reason = (str(error).strip().splitlines() or ["unreadable"])[0]
            raise QecInputError(
                f"{self.path} is not {self.format} data of {bits} {kind} ({dem_name} has {bits}): {reason}"
            ) from None
        except OSError as error:
            raise QecInputError(f"cannot read {self.path}: {error.strerror or error}") from None
        if len(shots) == 0:
            raise QecInputError(f"{self.path} holds no shots")
        if expected is not None and len(shots) != expected:
            raise QecInputError(f"{self.path} holds {len(shots):,} shots where its size says {expected:,}")
        if self.format == "b8" and bits % 8 and np.any(_last_bytes(self.path, shots.shape) >> (bits % 8)):
            raise QecInputError(
                f"{self.path} sets bits past the {bits} {kind} of a shot ({dem_name} has {bits}): it records more "
                f"{kind}; give the data and the DEM of one experiment"
            )
        return shots


@dataclass(frozen=True)
class RecordedData:
    """What is decoded: the DEM (from a .dem file, else the circuit's, as `collect` decodes it), the circuit when
    one is given, and the files of detection events and observable flips.

    Attributes:
        dem: the DEM the decoder is compiled for; its detector and observable counts are the files' widths.
        detection_events: one shot per record, `dem.num_detectors` bits each.
        observable_flips: the same shots' actual observable flips, `dem.num_observables` bits each.
        circuit: the circuit, recorded with the task (None when only a DEM was given).
        dem_name: how messages name the DEM (its file, or "the DEM of CIRCUIT").
        inputs: every file read, so that no output overwrites one.
    """

    dem: stim.DetectorErrorModel
    detection_events: ShotFile
    observable_flips: ShotFile
    circuit: stim.Circuit | None = None
    dem_name: str = "the DEM"
    inputs: tuple[Path, ...] = ()

    @staticmethod
    def from_files(
        *,
        detection_events: str | Path,
        observable_flips: str | Path,
        dem: str | Path | None = None,
        circuit: str | Path | None = None,
        detection_events_format: str | None = None,
        observable_flips_format: str | None = None,
    ) -> RecordedData:
        """The data in these files (formats from their extensions unless given); a DEM, a circuit, or both (the
        DEM is decoded with, and must have the circuit's detector and observable counts)."""
        events = ShotFile.of(detection_events, detection_events_format, parameter="detection_events_format")
        flips = ShotFile.of(observable_flips, observable_flips_format, parameter="observable_flips_format")
        if dem is None and circuit is None:
            raise QecInputError("give the DEM (dem=FILE.dem) or the circuit (circuit=FILE.stim) the shots come from")
        read = None if circuit is None else with_inferred_bases(read_circuit(circuit))
        if dem is None:
            assert read is not None and circuit is not None
            try:
                model, name = decoding_dem(read), f"the DEM of {circuit}"
            except ValueError as error:  # non-deterministic detectors or observables: one line, nothing stored
                raise QecInputError(describe_failure(str(error), name=str(circuit))) from None
        else:
            if read is not None:  # stored as the task's circuit: one that cannot have a DEM is refused here too
                check_deterministic(read, name=str(circuit))
            model, name = read_dem(dem), str(dem)
        if read is not None and (read.num_detectors, read.num_observables) != (
            model.num_detectors,
            model.num_observables,
        ):
            raise QecInputError(
                f"{dem} has {model.num_detectors:,} detectors and {model.num_observables} observables but {circuit} "
                f"has {read.num_detectors:,} and {read.num_observables}: give the DEM and circuit of one experiment"
            )
        if model.num_detectors == 0:
            raise QecInputError(f"{name} has no detectors: there is nothing to decode")
        if model.num_observables == 0:
            raise QecInputError(f"{name} has no observables, so there is no logical error to count")
        if model.num_detectors > MAX_DETECTORS or model.num_observables > MAX_OBSERVABLES:
            raise QecInputError(
                f"{name} has {approximate(model.num_detectors)} detectors and {model.num_observables} observables; "
                f"the limits are {MAX_DETECTORS:,} and {MAX_OBSERVABLES:,}"
            )
        inputs = tuple(Path(p) for p in (detection_events, observable_flips, dem, circuit) if p is not None)
        return RecordedData(model, events, flips, read, name, inputs)

    @staticmethod
    def from_folder(
        folder: str | Path,
        *,
        detection_events: str | Path | None = None,
        observable_flips: str | Path | None = None,
        dem: str | Path | None = None,
        circuit: str | Path | None = None,
        detection_events_format: str | None = None,
        observable_flips_format: str | None = None,
    ) -> RecordedData:
        """The data in a folder laid out as Google's published experiments: `circuit_noisy.stim` (or its one
        `.stim` file), its one `.dem` file if it has one (decoded with, else the circuit's DEM),
        `detection_events.b8` (or .01, .r8, .ptb64, .dets) and `obs_flips_actual.01` (or another format). A file
        given as an argument is taken instead of the folder's."""
        folder = Path(folder)
        if not folder.is_dir():
            raise QecInputError(f"{folder} is not a folder: give a folder of recorded data, or the files one by one")
        if circuit is None:
            noisy = folder / NOISY_CIRCUIT
            circuit = noisy if noisy.is_file() else _one_of(folder, "*.stim", what="circuits", name="circuit")
        if dem is None:
            dem = _one_of(folder, "*.dem", what="DEMs", name="dem")
        if circuit is None and dem is None:
            raise QecInputError(
                f"{folder} has no {NOISY_CIRCUIT}, no other .stim file and no .dem file: the shots cannot be decoded "
                "without the circuit or DEM they come from"
            )
        if detection_events is None:
            detection_events = _shot_file_in(folder, DETECTION_EVENTS, name="detection_events")
        if observable_flips is None:
            observable_flips = _shot_file_in(folder, OBSERVABLE_FLIPS, name="observable_flips")
        return RecordedData.from_files(
            detection_events=detection_events,
            observable_flips=observable_flips,
            dem=dem,
            circuit=circuit,
            detection_events_format=detection_events_format,
            observable_flips_format=observable_flips_format,
        )

    def read_shots(self) -> tuple[np.ndarray, np.ndarray]:
        """(detection events, observable flips): uint8 (shots, ceil(detectors / 8)) and uint8 (shots,
        ceil(observables / 8)), bit-packed little-endian; the shot counts are compared from the files' sizes before
        either is read where their formats allow."""
        detectors, observables = self.dem.num_detectors, self.dem.num_observables
        for file in (self.detection_events, self.observable_flips):
            size = _size(file.path)
            if size > MAX_SHOT_FILE_BYTES:
                raise QecInputError(
                    f"{file.path} has {approximate(size)} bytes; the limit is {MAX_SHOT_FILE_BYTES:,} (it is read at "
                    "once): split its shots into several files and decode each"
                )
        events_shots = self.detection_events.expected_shots(bits=detectors, kind="detectors", dem_name=self.dem_name)
        flips_shots = self.observable_flips.expected_shots(bits=observables, kind="observables", dem_name=self.dem_name)
        if events_shots is not None and flips_shots is not None:
            self._check_same_shots(events_shots, flips_shots)
        events = self.detection_events.read(bits=detectors, kind="detectors", dem_name=self.dem_name)
        flips = self.observable_flips.read(bits=observables, kind="observables", dem_name=self.dem_name)
        self._check_same_shots(len(events), len(flips))
        return events, flips

    def _check_same_shots(self, events: int, flips: int) -> None:
        if events != flips:
            raise QecInputError(
                f"{self.detection_events.path} holds {events:,} shots of {self.dem.num_detectors:,} detectors but "
                f"{self.observable_flips.path} holds {flips:,}: give the files of one run (and the DEM of its circuit)"
            )


@dataclass(frozen=True)
class DecodedRecord:
    """Recorded shots decoded and counted: the task as stored, its counts and how long decoding took.

    Attributes:
        task_id: the task's id (see the module docstring).
        decoder: the decoder and its options.
        metadata: the task's metadata: the user's, with the decoder's options, the source and the hashes.
        counts: shots, logical errors (shots with any observable mispredicted), no discards, and the CPU seconds
            spent decoding (compilation excluded), as `collect` counts them.
        observable_errors: `observable_errors[k]` counts the shots whose observable k was mispredicted.
        seconds: wall-clock seconds spent decoding.
        store: the store it was written to (None when none was given).
        added: whether the store gained the task's chunk (False: it held it already, so it counts once).
    """

    task_id: str
    decoder: DecoderSpec
    metadata: dict[str, Any]
    counts: Counts
    observable_errors: tuple[int, ...]
    seconds: float
    store: Path | None = None
    added: bool = False

    @property
    def rate(self) -> float:
        """Logical errors per shot."""
        return self.counts.errors / self.counts.shots

    @property
    def interval(self) -> tuple[float, float]:
        """The rate's 95% Wilson interval."""
        return wilson_interval(errors=self.counts.errors, shots=self.counts.shots)

    def describe(self) -> str:
        """One line: shots, errors, the logical error rate with its interval, seconds and microseconds per shot,
        and where it was stored."""
        low, high = self.interval
        shots = self.counts.shots
        line = (
            f"decoded {shots:,} shots with {self.decoder.describe()}: {self.counts.errors:,} errors, logical error "
            f"rate {self.rate:.3e} [{low:.2e}, {high:.2e}] (95%), {self.seconds:.3g} s, "
            f"{self.seconds / shots * 1e6:.3g} us/shot"
        )
        if self.store is None:
            return line
        if self.added:
            return f"{line}; stored as task {self.task_id[:12]} in {self.store}"
        return f"{line}; {self.store} already holds task {self.task_id[:12]}, counted once"

    def as_dict(self) -> dict[str, Any]:
        low, high = self.interval
        return {
            "task_id": self.task_id,
            "decoder": self.decoder.name,
            "metadata": self.metadata,
            "shots": self.counts.shots,
            "errors": self.counts.errors,
            "observable_errors": list(self.observable_errors),
            "rate": self.rate,
            "low": low,
            "high": high,
            "seconds": self.seconds,
            "cpu_seconds": self.counts.seconds,
            "microseconds_per_shot": self.seconds / self.counts.shots * 1e6,
            "store": None if self.store is None else str(self.store),
            "added": self.added,
        }


def parse_metadata(texts: Iterable[str]) -> dict[str, Any]:
    """Metadata from KEY=VALUE texts (VALUE read as JSON: numbers, true/false, null, lists, objects; else taken as
    text) and JSON objects, merged; never evaluated. A key given twice is refused.

    >>> parse_metadata(["d=5", "rounds=25", '{"p": 0.001, "noise": "si1000"}', "basis=Z"])
    {'d': 5, 'rounds': 25, 'p': 0.001, 'noise': 'si1000', 'basis': 'Z'}
    """
    metadata: dict[str, Any] = {}
    for text in texts:
        text = str(text)
        if text.lstrip().startswith("{"):
            try:
                given = json.loads(text)
            except (ValueError, RecursionError) as error:
                raise QecInputError(f"metadata {text[:60]!r} is not a JSON object: {error}") from None
            if not isinstance(given, dict):
                raise QecInputError(f"metadata {text[:60]!r} is not a JSON object")
        else:
            key, equals, value = text.partition("=")
            if not equals or not key.strip():
                raise QecInputError(f"metadata {text[:60]!r} is not KEY=VALUE or a JSON object: write e.g. d=5")
            try:
                parsed = json.loads(value)
            except (ValueError, RecursionError):
                parsed = value
            given = {key.strip(): parsed}
        for key, value in given.items():
            if key in metadata:
                raise QecInputError(f"metadata key {key!r} is given twice: give it once")
            metadata[key] = value
    return metadata


def decode_recorded(
    data: RecordedData,
    *,
    decoder: DecoderSpec | None = None,
    metadata: Mapping[str, Any] | None = None,
    store: str | Path | None = None,
    predictions: str | Path | None = None,
    predictions_format: str | None = None,
    batch_shots: int = BATCH,
    show_progress: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
) -> DecodedRecord:
    """Decodes the recorded shots in batches of `batch_shots`, counts the logical errors, writes the predicted
    observable flips to `predictions` (in `predictions_format`, else the format its extension names) and records
    the task in `store` (see the module docstring), when given.

    `decoder` is any qec decoder with its options (default PyMatching); `metadata` is the user's (checked as any
    task's; the keys decoding sets, `RESERVED_KEYS`, are refused). Every check runs before anything is decoded or
    written, and nothing is written when one fails. `show_progress` draws a progress bar on stderr for data of more
    than one batch; `on_progress` is called with a `Progress` after each batch.
    """
    decoder = DecoderSpec() if decoder is None else decoder
    user = dict(metadata or {})
    reserved = [key for key in RESERVED_KEYS if key in user]
    if reserved:
        raise QecInputError(
            f"metadata key {reserved[0]!r} is set by decoding ({', '.join(RESERVED_KEYS)}): leave it out"
        )
    check_metadata(user)
    if not (isinstance(batch_shots, int) and batch_shots >= 1):
        raise QecInputError(f"batch_shots must be an integer >= 1, got {batch_shots!r}")
    if store is not None:
        _check_store(Path(store))
    output = None
    if predictions is not None:
        output = ShotFile.of(predictions, predictions_format, parameter="predictions_format")
        check_output_path(output.path, inputs=[*data.inputs, *([store] if store is not None else [])])
    events, flips = data.read_shots()
    shots, observables = len(events), data.dem.num_observables
    if output is not None and output.format == "ptb64" and shots % 64:
        raise QecInputError(
            f"{output.path}: ptb64 holds a multiple of 64 shots, and there are {shots:,}: give another format"
        )
    compiled = decoder.build().compile_decoder_for_dem(dem=data.dem)
    errors = 0
    per_observable = np.zeros(observables, dtype=np.int64)
    predicted = []
    started, cpu_started = time.perf_counter(), time.process_time()
    with ExitStack() as stack:
        display = stack.enter_context(progress_display(1, quiet=not (show_progress and shots > batch_shots)))
        for first in range(0, shots, batch_shots):
            batch = np.ascontiguousarray(events[first : first + batch_shots])
            try:
                prediction = compiled.decode_shots_bit_packed(bit_packed_detection_event_data=batch)
            except ValueError as error:  # PyMatching, on a syndrome no set of the DEM's errors makes
                reason = (str(error).strip().splitlines() or ["no reason given"])[0]
                raise QecInputError(
                    f"decoder {decoder.name!r} could not decode shots {first:,} to {first + len(batch) - 1:,} of "
                    f"{data.detection_events.path} with {data.dem_name}: {reason}"
                ) from None
            batch_errors, batch_per_observable = _count_errors(
                prediction, flips[first : first + batch_shots], observables=observables
            )
            errors += batch_errors
            per_observable += batch_per_observable
            if output is not None:
                predicted.append(prediction)
            done, elapsed = first + len(batch), time.perf_counter() - started
            rate = done / elapsed if elapsed else 0.0
            eta = (shots - done) / rate if rate else None
            snapshot = Progress(1, int(done == shots), done, errors, rate, elapsed, eta)
            display(snapshot)
            if on_progress is not None:
                on_progress(snapshot)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    if output is not None:
        _write_predictions(output, np.concatenate(predicted), observables=observables)
    full = user | decoder.metadata() | {"source": SOURCE, HASH_KEY: _hashes(data, events, flips)}
    circuit_text = "" if data.circuit is None else str(data.circuit)
    task_id = recorded_task_id(circuit_text=circuit_text, decoder=decoder.name, metadata=full)
    counts = Counts(shots, errors, 0, cpu_seconds)
    observable_errors = tuple(int(n) for n in per_observable)
    added = False
    if store is not None:
        with Store(store) as results:
            added = results.add_decoded(
                decoder=decoder.name,
                metadata=full,
                circuit=circuit_text or None,
                result=ChunkResult(task_id, CHUNK_INDEX, counts, observable_errors),
                source=f"decode:{data.detection_events.path.name}",
            )
    return DecodedRecord(
        task_id, decoder, full, counts, observable_errors, seconds, None if store is None else Path(store), added
    )


def recorded_task_id(*, circuit_text: str, decoder: str, metadata: Mapping[str, Any]) -> str:
    """The id of a recorded task: sha256 of circuit text, decoder name, canonical metadata JSON and no
    postselection, as `Task.task_id` hashes them (so a task with a circuit has the id a `Task` of it would).

    >>> len(recorded_task_id(circuit_text="", decoder="pymatching", metadata={"d": 3}))
    64
    """
    digest = hashlib.sha256()
    for part in (circuit_text, decoder, canonical_json(dict(metadata)), repr(())):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def read_dem(path: str | Path) -> stim.DetectorErrorModel:
    """The detector error model in the file `path`; QecInputError naming the file when it is not a regular UTF-8
    file of at most `MAX_DEM_FILE_BYTES`, or not a DEM."""
    path = Path(path)
    if not path.is_file():  # stat only: a FIFO is never opened
        raise QecInputError(f"{path} is {_not_a_file(path)}: give a .dem file")
    size = _size(path)
    if size > MAX_DEM_FILE_BYTES:
        raise QecInputError(f"{path} has {approximate(size)} bytes; the limit is {MAX_DEM_FILE_BYTES:,}")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise QecInputError(f"{path} is not UTF-8 text (byte {error.start}): give a Stim DEM file") from None
    except OSError as error:
        raise QecInputError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        return stim.DetectorErrorModel(text)
    except ValueError as error:
        reason = (str(error).strip().splitlines() or ["unreadable"])[0]
        raise QecInputError(f"{path} is not a valid Stim detector error model: {reason}") from None


def _count_errors(predictions: np.ndarray, flips: np.ndarray, *, observables: int) -> tuple[int, np.ndarray]:
    """(shots with any observable mispredicted, mispredictions per observable) as `decode_and_count` counts them,
    for predictions already made (decode writes them out too)."""
    if predictions.shape != flips.shape:
        raise QecInputError(
            f"the decoder returned predictions of shape {predictions.shape}, not {flips.shape} (shots, "
            "ceil(observables / 8)): it does not follow sinter's CompiledDecoder interface"
        )
    wrong = np.bitwise_xor(predictions, flips)
    flipped = np.unpackbits(wrong, axis=1, count=observables, bitorder="little")
    return int(np.count_nonzero(np.any(wrong, axis=1))), flipped.sum(axis=0, dtype=np.int64)


def _write_predictions(output: ShotFile, predictions: np.ndarray, *, observables: int) -> None:
    def write(temporary: Path) -> None:
        stim.write_shot_data_file(
            data=predictions, path=str(temporary), format=output.format, num_observables=observables
        )

    write_atomically(output.path, write)


def _hashes(data: RecordedData, events: np.ndarray, flips: np.ndarray) -> dict[str, str]:
    """sha256 of the DEM's text and of each file's shots as read (their bit counts and shot count included)."""

    def shots(array: np.ndarray, bits: int) -> str:
        digest = hashlib.sha256(f"{len(array)} shots of {bits} bits\n".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()

    return {
        "dem": hashlib.sha256(str(data.dem).encode()).hexdigest(),
        "detection_events": shots(events, data.dem.num_detectors),
        "observable_flips": shots(flips, data.dem.num_observables),
    }


def _check_store(path: Path) -> None:
    """Refuses a store path that could not be written, before any work: an existing file that is not a qec store
    (it is opened read-only to check), a name SQLite keeps for itself, a missing folder."""
    if path.exists() or path.is_symlink():
        Store(path, read_only=True).close()
        return
    check_store_name(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise QecInputError(f"cannot create the store {path}: the folder {folder} does not exist; create it first")


def _one_of(folder: Path, pattern: str, *, what: str, name: str) -> Path | None:
    """The folder's one file matching `pattern`; None when it has none; QecInputError when it has several."""
    found = sorted(path for path in folder.glob(pattern) if path.is_file())
    if len(found) > 1:
        shown = ", ".join(path.name for path in found[:5]) + (", ..." if len(found) > 5 else "")
        raise QecInputError(f"{folder} has {len(found)} {what} ({shown}): name the one to use ({name}=FILE)")
    return found[0] if found else None


def _shot_file_in(folder: Path, stem: str, *, name: str) -> Path:
    """The folder's file `stem.FORMAT` for one of `SHOT_FORMATS`; QecInputError when it has none or several."""
    found = [folder / f"{stem}.{format}" for format in SHOT_FORMATS if (folder / f"{stem}.{format}").exists()]
    if not found:
        raise QecInputError(
            f"{folder} has no {stem} file ({_listed([f'{stem}.{format}' for format in SHOT_FORMATS])}): "
            f"give the file ({name}=FILE)"
        )
    if len(found) > 1:
        raise QecInputError(f"{folder} has {', '.join(path.name for path in found)}: name the one to use ({name}=FILE)")
    return found[0]


def _last_bytes(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    """uint8 (shots,): the last byte of each shot of a b8 file of `shape` (shots, bytes a shot), as the file has
    them (Stim clears the bits past a shot's last one as it reads), mapped, not read whole."""
    return np.memmap(path, dtype=np.uint8, mode="r", shape=shape)[:, -1]


def _size(path: Path) -> int:
    """The size of the regular file at `path`; QecInputError when it is missing, a folder or not a regular file."""
    if not path.is_file():
        raise QecInputError(f"{path} is {_not_a_file(path)}: give a shot data file")
    try:
        return path.stat().st_size
    except OSError as error:
        raise QecInputError(f"cannot read {path}: {error.strerror or error}") from None


def _not_a_file(path: Path) -> str:
    if path.is_dir():
        return "a folder"
    if path.is_symlink() and not path.exists():
        return "a broken symbolic link"
    return "missing" if not path.exists() else "not a regular file"


def _listed(names: list[str]) -> str:
    return f"{', '.join(names[:-1])} or {names[-1]}"
