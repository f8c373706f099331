"""The decoder table (issue 21): every installed decoder, ours and the field's, on the same shots of six circuits.

Points (memory experiments, Z basis, `qec.parts.StudySpec.of(family, noise=..., rounds=...).circuit(...)`):
the rotated surface code d=7, 7 rounds, SI1000 p=0.003; Stim's XYZ colour code (`color`) d=5 and d=7 and the
CSS superdense colour code that Chromobius decodes (`color-superdense`) d=5 and d=7, rounds = d, uniform
p=0.002; the [[72,12,6]] bivariate bicycle code (`bb`, distance 6), 6 rounds, uniform p=0.003.

Each point samples its shots once (Stim, seeded) and every decoder decodes those same shots from the DEM a
study decodes with (`qec.decoders.dem_arrays.decoding_dem`): every name in `qec.decoders.names()` at its
defaults, `bposd` with `schedule="layered"` (`bposd(layered)`, and with `ensemble=(0.5, 0.8, 0.9, 1.0)`:
`bposd(layered, ensemble)`; with eleven scaling factors 0.3-1.0 and `osd_order=150`: `bposd(layered, wide
ensemble)`, and that with `compare_classes=True`, with `descent=4`, and with both), on bb also with
`basis_aware=False`
(`bposd(layered, whole DEM)`), and where the DEM has a measured basis (bb, color-superdense) Tesseract on that
basis's part of the DEM (`tesseract(Z part)`, `qec.decoders.basis.compile_basis_aware`), as our basis-aware
decoders decode it. A decoder that refuses the DEM (matching on hyperedges, Chromobius without colours, lookup
too big) is listed as refused, with the first clause of its reason.

Timing: compile_decoder_for_dem and a first call on shot 0 (Numba's JIT or cache load) are excluded; CPU time
(time.process_time, all of this process's threads) is counted from shot 1. Calibration: each decoder decodes
shots 1..20 in batches of 1, 2, 4, 8, 5 (stopping early once a tenth of its budget is spent); a decoder whose
shots would take more than its budget (`--budget` CPU seconds per point, `--reference-budget` for the point's
Tesseract reference) decodes only a prefix of the shots (marked * in the table).
Then the shots are decoded in batches of `--batch`, the decoders taken in turn on each batch (so a change in the
machine's load falls on all alike), the prefix estimated again after each batch at the rate measured so far.
us/shot = CPU seconds / (shots decoded - 1).

Per point and decoder: failures (any observable wrong) / shots decoded, the logical error rate per shot with
its 95% Wilson interval, us/shot; then against the point's Tesseract reference (`tesseract(Z part)` where the
DEM has a basis, `tesseract` otherwise; the other Tesseract row is compared too) and, on the surface code,
against `pymatching`, on the first shots both decoded: the LER ratio with a 95% interval (10,000 draws from
the Dirichlet posterior, Jeffreys' prior, of the shots' four cells: both, only one, only the other, neither
failed), the shots only one of the two failed
and McNemar's exact two-sided p (binomial on those shots), and the throughput ratio (reference us/shot / ours).
Then the item-3 verdicts, from the intervals: among our decoders at >= 3x Tesseract's throughput, MET where one's
LER ratio interval lies below 1.2, NOT MET where all lie above, else UNDECIDED. Results go to
bench/results/field-<time>.json with `machine()` (the CPU, its load, Numba's target) at the start.

Tesseract's per-shot predictions are kept in `--references` (bench/results/references/, one file per point, p,
seed, shot count and Tesseract row: `StoredPredictions`) after every batch, with the CPU seconds they took: a
later run with the same point, p, seed and shots reads them, then spends `--reference-budget` more seconds on
the shots after them. So an hours-long reference is decoded once, across runs, and a decoder of ours
(`--ours "NAME KEY=VALUE ..."`, as `qec collect --decoder NAME --decoder-option KEY=VALUE`) is compared with it
in the time it takes itself. The throughput ratio then uses the stored CPU time.

    python bench/bench_field.py                     # ~15 minutes on 2 cores
    python bench/bench_field.py --points color-5 --shots-color-5 1000 --budget 5   # a quick look
    python bench/bench_field.py --points color-7 --p-color-7 0.003                 # a point at another p
    python bench/bench_field.py --points color-7 --p-color-7 0.003 --shots-color-7 30000 --seed 7000 \
        --reference-budget 0 --ours "bposd schedule=layered osd_order=150"  # against the stored reference
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import importlib.metadata
import json
import pathlib
import re
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import sinter
import stim
from machine import describe, machine
from scipy.stats import binomtest

from qec import decoders
from qec.decoders.basis import compile_basis_aware, restrict_to_basis
from qec.decoders.dem_arrays import decoding_dem
from qec.errors import QecInputError
from qec.parts import StudySpec
from qec.stats import wilson_interval

RESULTS = pathlib.Path(__file__).parent / "results"
REFERENCES = RESULTS / "references"  # Tesseract's per-shot predictions, kept and extended across runs
ENSEMBLE = (0.5, 0.8, 0.9, 1.0)  # bposd(layered, ensemble): more scaling factors on the shots BP leaves unconverged
WIDE_ENSEMBLE = (0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0)  # bposd(layered, wide ensemble) ...
WIDE_OSD_ORDER = 150  # ... with OSD-CS over pairs of the first 150 columns outside the information set
DESCENT = 4  # ... and with its corrections descending by undetectable sets of up to 4 errors
OURS = (
    "bp",
    "bposd",
    "bposd(layered)",
    "bposd(layered, ensemble)",
    "bposd(layered, wide ensemble)",
    "bposd(layered, wide ensemble, compare classes)",
    "bposd(layered, wide ensemble, descent)",
    "bposd(layered, wide ensemble, descent, compare classes)",
    "bposd(layered, whole DEM)",
    "relay",
    "uf",
    "lookup",
    "pymatching",
    "pymatching-correlated",
)
CALIBRATION = (1, 2, 4, 8, 5)  # batch sizes over shots 1..20
LER_TARGET = 1.2  # item 3: within 1.2x of Tesseract's logical error rate
SPEED_TARGET = 3.0  # ... at 3x or more its throughput
MATCHING_TIME_TARGET = 3.0  # surface: no worse than 3x PyMatching's time
DRAWS = 10_000


@dataclass(frozen=True)
class Point:
    """One circuit of the table."""

    name: str  # the --points name, e.g. color-5
    family: str
    distance: int
    rounds: int
    noise: str
    p: float
    default_shots: int

    def title(self) -> str:
        return f"{self.family} d={self.distance}, {self.rounds} rounds, {self.noise} p={self.p}"


POINTS = (
    Point("surface-7", "surface", 7, 7, "si1000", 0.003, 10_000),
    Point("color-5", "color", 5, 5, "uniform", 0.002, 10_000),
    Point("color-7", "color", 7, 7, "uniform", 0.002, 5_000),
    Point("superdense-5", "color-superdense", 5, 5, "uniform", 0.002, 10_000),
    Point("superdense-7", "color-superdense", 7, 7, "uniform", 0.002, 5_000),
    Point("bb-6", "bb", 6, 6, "uniform", 0.003, 300),
)


class BasisPartDecoder(sinter.Decoder):
    """A decoder on the measured basis's part of a tagged DEM (`compile_basis_aware`), the whole DEM otherwise:
    the field's decoders given what our basis-aware ones decode."""

    def __init__(self, inner: sinter.Decoder):
        self.inner = inner

    def compile_decoder_for_dem(self, *, dem: stim.DetectorErrorModel) -> sinter.CompiledDecoder:
        return compile_basis_aware(dem, lambda part: self.inner.compile_decoder_for_dem(dem=part), basis_aware=True)


@dataclass
class Row:
    """One decoder on one point's shots (refused: the first clause of its reason, and nothing decoded)."""

    point: str
    decoder: str
    refused: str | None = None
    reason: str | None = None
    shots: int = 0  # shots 0..shots-1 decoded
    prefix: bool = False  # fewer than the point's shots (over its budget)
    errors: int = 0
    logical_error_rate: float = 0.0
    interval_low: float = 0.0
    interval_high: float = 0.0
    microseconds_per_shot: float = 0.0  # CPU, shots 1..shots-1
    cpu_seconds: float = 0.0
    calibration_microseconds_per_shot: float = 0.0
    budget_seconds: float = 0.0  # the CPU seconds it may spend on this point
    compile_seconds: float = 0.0
    first_call_seconds: float = 0.0
    failed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool), repr=False)


@dataclass(frozen=True)
class Comparison:
    """A decoder against a reference on the first `shots` shots both decoded."""

    point: str
    decoder: str
    reference: str
    shots: int
    errors: int
    reference_errors: int
    only_decoder: int  # shots only the decoder failed
    only_reference: int
    mcnemar_p: float
    ler_ratio: float  # errors / reference_errors (inf when only the decoder failed, nan when neither did)
    ratio_low: float
    ratio_high: float
    throughput_ratio: float  # reference us/shot / decoder us/shot (> 1: faster than the reference)


@dataclass
class StoredPredictions:
    """A Tesseract row's per-shot predictions on a point's seeded sample, kept in `--references` so that a later
    run starts where this one stopped: shots 0..len(predictions)-1 and the CPU seconds they took (shots 1..).
    The file is only used while its key (the DEM, the decoder's options, tesseract-decoder's version) and the
    digest of the shots it covers (Stim's sample of that seed) are unchanged. Plain arrays (npz, no pickle). It
    names the machines that decoded it (`this_machine`), printed when read: a throughput ratio against CPU seconds
    taken on another machine compares two machines."""

    path: pathlib.Path
    key: str
    predictions: np.ndarray  # bool, shots x observables
    cpu_seconds: float
    machines: tuple[str, ...] = ()

    @staticmethod
    def digest(events: np.ndarray, observables: np.ndarray) -> str:
        return hashlib.sha256(events.tobytes() + observables.tobytes()).hexdigest()

    @staticmethod
    def open(
        path: pathlib.Path, key: str, sample: tuple[np.ndarray, np.ndarray], observables: int
    ) -> StoredPredictions | None:
        """The predictions kept at `path` (none yet where there is no file), or None where the file holds another
        key's or sample's (not to be used, nor overwritten)."""
        empty = StoredPredictions(path, key, np.zeros((0, observables), dtype=bool), 0.0)
        if not path.exists():
            return empty
        with np.load(path, allow_pickle=False) as stored:
            predictions = np.unpackbits(stored["predictions"], axis=1, count=observables, bitorder="little")
            count = len(predictions)
            digest = StoredPredictions.digest(sample[0][:count], sample[1][:count])
            if str(stored["key"]) != key or str(stored["digest"]) != digest:
                print(
                    f"  {path}: another DEM, decoder or sample's; left alone (delete it to decode afresh)", flush=True
                )
                return None
            machines = tuple(str(stored["machines"]).split("; ")) if "machines" in stored.files else ("not recorded",)
            print(f"  {count} shots' predictions read from {path} (decoded on {'; '.join(machines)})", flush=True)
            return StoredPredictions(path, key, predictions.astype(bool), float(stored["cpu_seconds"]), machines)

    def save(self, predictions: np.ndarray, cpu_seconds: float, sample: tuple[np.ndarray, np.ndarray]) -> None:
        events, observables = sample
        count = len(predictions)
        here = this_machine()
        machines = self.machines if here in self.machines else (*self.machines, here)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".partial.npz")
        np.savez_compressed(
            temporary,
            predictions=np.packbits(predictions.astype(np.uint8), axis=1, bitorder="little"),
            key=np.array(self.key),
            digest=np.array(StoredPredictions.digest(events[:count], observables[:count])),
            cpu_seconds=np.array(cpu_seconds),
            machines=np.array("; ".join(machines)),
        )
        temporary.replace(self.path)
        self.predictions, self.cpu_seconds, self.machines = predictions, cpu_seconds, machines


def this_machine() -> str:
    """The CPU model and Numba's target for it: `AMD EPYC, znver4`."""
    info = machine()
    return f"{info['cpu']}, {info['numba_target']}"


def stored_predictions(
    folder: pathlib.Path,
    point: Point,
    *,
    seed: int,
    label: str,
    decoder: sinter.Decoder,
    dem: stim.DetectorErrorModel,
    sample: tuple[np.ndarray, np.ndarray],
    tesseract_options: Iterable[str] = (),
) -> StoredPredictions | None:
    """A Tesseract row's kept predictions: its file is named by the point, p, seed, shot count, label and the
    options `--tesseract` set, and keyed by the DEM, all the decoder's options and tesseract-decoder's version."""
    inner = decoder.inner if isinstance(decoder, BasisPartDecoder) else decoder
    identity = [str(dem), label, dict(sorted(vars(inner).items())), importlib.metadata.version("tesseract-decoder")]
    key = hashlib.sha256(json.dumps(identity, default=str).encode()).hexdigest()
    options = "".join(f"-{name}={value}" for name, value in sorted(vars(inner).items()) if name in tesseract_options)
    slug = re.sub(r"[^A-Za-z0-9=.]+", "-", label + options).strip("-")
    path = folder / f"{point.name}-p{point.p:g}-seed{seed}-{len(sample[0])}shots-{slug}.npz"
    return StoredPredictions.open(path, key, sample, dem.num_observables)


def contenders(
    point: Point,
    dem: stim.DetectorErrorModel,
    extra: tuple[decoders.DecoderSpec, ...] = (),
    tesseract: decoders.DecoderSpec | None = None,
) -> dict[str, sinter.Decoder]:
    """The decoders of a point, by label: every installed one, bposd layered (and on bb on the whole DEM),
    Tesseract on the measured basis's part where the DEM has one (both Tesseract rows with `--tesseract`'s
    options), and the `--ours` specs (labelled by `describe()`)."""
    found = {name: decoders.get(name) for name in decoders.names()}
    tesseract = tesseract or decoders.DecoderSpec("tesseract")
    if "tesseract" in found:
        found["tesseract"] = tesseract.build()
    found.update({spec.describe(): spec.build() for spec in extra})
    found["bposd(layered)"] = decoders.get("bposd", schedule="layered")
    found["bposd(layered, ensemble)"] = decoders.get("bposd", schedule="layered", ensemble=ENSEMBLE)
    wide = dict(schedule="layered", ensemble=WIDE_ENSEMBLE, osd_order=WIDE_OSD_ORDER)
    found["bposd(layered, wide ensemble)"] = decoders.get("bposd", **wide)
    found["bposd(layered, wide ensemble, compare classes)"] = decoders.get("bposd", **wide, compare_classes=True)
    found["bposd(layered, wide ensemble, descent)"] = decoders.get("bposd", **wide, descent=DESCENT)
    found["bposd(layered, wide ensemble, descent, compare classes)"] = decoders.get(
        "bposd", **wide, descent=DESCENT, compare_classes=True
    )
    if point.family == "bb":
        found["bposd(layered, whole DEM)"] = decoders.get("bposd", schedule="layered", basis_aware=False)
    restriction = restrict_to_basis(dem)
    if "tesseract" in found and restriction is not None:
        found[f"tesseract({restriction.basis} part)"] = BasisPartDecoder(tesseract.build())
    return found


def reference_of(labels: list[str]) -> str | None:
    """The point's Tesseract reference: on the basis part where there is one (as ours decode), else whole."""
    parts = [label for label in labels if label.startswith("tesseract(")]
    return parts[0] if parts else ("tesseract" if "tesseract" in labels else None)


def prefix_for(seconds_per_shot: float, *, shots: int, budget: float, calibrated: int) -> int:
    """How many shots (from 0) a decoder decodes: all, or those its budget pays for (rounded down to hundreds
    from 100 on), never fewer than it decoded in calibration."""
    if seconds_per_shot * shots <= budget:
        return shots
    fits = int(budget / seconds_per_shot)
    if fits >= 100:
        fits -= fits % 100
    return min(shots, max(fits, calibrated))


def run_point(point: Point, *, shots: int, seed: int, args) -> tuple[dict, list[Row], list[Comparison]]:
    circuit = StudySpec.of(point.family, noise=point.noise, rounds=point.rounds).circuit(
        distance=point.distance, p=point.p
    )
    dem = decoding_dem(circuit)
    events, observables = circuit.compile_detector_sampler(seed=seed).sample(
        shots, separate_observables=True, bit_packed=True
    )
    truth = np.unpackbits(observables, axis=1, count=circuit.num_observables, bitorder="little")
    header = {
        "point": point.name,
        "title": point.title(),
        "family": point.family,
        "distance": point.distance,
        "rounds": point.rounds,
        "noise": point.noise,
        "p": point.p,
        "shots": shots,
        "seed": seed,
        "detectors": dem.num_detectors,
        "error_instructions": dem.num_errors,
        "observables": circuit.num_observables,
    }
    print(
        f"\n{point.title()}: {shots} shots (seed {seed}); DEM {dem.num_detectors} detectors, {dem.num_errors} "
        f"errors, {circuit.num_observables} observable(s)",
        flush=True,
    )
    found = {
        label: decoder
        for label, decoder in contenders(point, dem, args.ours, args.tesseract).items()
        if label not in args.skip
    }
    reference = reference_of(list(found))
    rows: dict[str, Row] = {}
    compiled: dict[str, sinter.CompiledDecoder] = {}
    predictions: dict[str, list[np.ndarray]] = {}
    done: dict[str, int] = {}
    prefix: dict[str, int] = {}  # shots 0..prefix-1 decoded, re-estimated after each batch
    budgets: dict[str, float] = {}

    def decode(label: str, start: int, stop: int) -> float:
        began = time.process_time()
        packed = compiled[label].decode_shots_bit_packed(bit_packed_detection_event_data=events[start:stop])
        seconds = time.process_time() - began
        predictions[label].append(np.unpackbits(packed, axis=1, count=circuit.num_observables, bitorder="little"))
        done[label] = stop
        return seconds

    stored: dict[str, StoredPredictions] = {}

    def keep(label: str) -> None:  # a Tesseract row's predictions to its file, where it decoded more than it read
        if label in stored and done[label] > len(stored[label].predictions):
            stored[label].save(np.concatenate(predictions[label]), rows[label].cpu_seconds, (events, observables))

    for label, decoder in found.items():
        row = rows[label] = Row(point=point.name, decoder=label)
        began = time.process_time()
        try:
            compiled[label] = decoder.compile_decoder_for_dem(dem=dem)
        except QecInputError as error:
            row.reason = str(error)
            row.refused = row.reason.split(": ")[0]
            continue
        row.compile_seconds = time.process_time() - began
        predictions[label] = []
        budget = budgets[label] = row.budget_seconds = args.reference_budget if label == reference else args.budget
        if args.references and label.startswith("tesseract"):
            sample = (events, observables)
            kept = stored_predictions(
                args.references,
                point,
                seed=seed,
                label=label,
                decoder=decoder,
                dem=dem,
                sample=sample,
                tesseract_options=args.tesseract.options,
            )
            if kept is not None:
                stored[label] = kept
            if kept is not None and len(kept.predictions) > 1:
                predictions[label].append(kept.predictions)
                done[label] = len(kept.predictions)
                row.cpu_seconds = kept.cpu_seconds
                budget = budgets[label] = row.budget_seconds = budget + row.cpu_seconds
        if label not in done:
            row.first_call_seconds = decode(label, 0, 1)
        for size in CALIBRATION:  # shots 1..20
            if done[label] >= shots or row.cpu_seconds > budget / 10:
                break
            row.cpu_seconds += decode(label, done[label], min(done[label] + size, shots))
        keep(label)
        calibrated = done[label] - 1
        per_shot = row.cpu_seconds / calibrated if calibrated else 0.0
        row.calibration_microseconds_per_shot = 1e6 * per_shot
        prefix[label] = prefix_for(per_shot, shots=shots, budget=budget, calibrated=done[label])

    for start in range(0, shots, args.batch):  # the decoders in turn on each batch
        for label in compiled:
            low, high = max(start, done[label]), min(start + args.batch, prefix[label])
            if low < high:
                row = rows[label]
                row.cpu_seconds += decode(label, low, high)
                keep(label)
                again = prefix_for(  # the budget again, at the rate measured so far: never more shots
                    row.cpu_seconds / (done[label] - 1), shots=shots, budget=budgets[label], calibrated=done[label]
                )
                prefix[label] = min(prefix[label], again)

    for label in compiled:
        row = rows[label]
        row.shots = done[label]
        row.prefix = row.shots < shots
        row.failed = np.any(np.concatenate(predictions[label]) != truth[: row.shots], axis=1)
        row.errors = int(np.count_nonzero(row.failed))
        row.logical_error_rate = row.errors / row.shots
        low, high = wilson_interval(errors=row.errors, shots=row.shots)
        row.interval_low, row.interval_high = (0.0 if row.errors == 0 else low), high
        row.microseconds_per_shot = 1e6 * row.cpu_seconds / max(row.shots - 1, 1)

    references = [label for label in (reference, "tesseract") if label in compiled]
    if point.family == "surface" and "pymatching" in compiled:
        references.append("pymatching")
    comparisons = [
        compare(rows[label], rows[other], seed=seed)
        for other in dict.fromkeys(references)
        for label in compiled
        if label != other
    ]
    header["reference"] = reference
    return header, list(rows.values()), comparisons


def compare(row: Row, reference: Row, *, seed: int) -> Comparison:
    """`row` against `reference` on the first shots both decoded: paired counts, McNemar's exact p, the LER
    ratio with its 95% interval (from the Dirichlet posterior of the four cells both / only this / only that /
    neither failed, under Jeffreys' prior: finite and wide where few shots failed), and the throughput ratio."""
    shots = min(row.shots, reference.shots)
    mine, theirs = row.failed[:shots], reference.failed[:shots]
    both = int(np.count_nonzero(mine & theirs))
    only_mine = int(np.count_nonzero(mine & ~theirs))
    only_theirs = int(np.count_nonzero(theirs & ~mine))
    discordant = only_mine + only_theirs
    chance = binomtest(only_mine, discordant).pvalue if discordant else 1.0
    cells = np.array([both, only_mine, only_theirs, shots - both - discordant]) + 0.5  # Jeffreys prior
    draws = np.random.default_rng(seed).dirichlet(cells, size=DRAWS)
    low, high = np.percentile((draws[:, 0] + draws[:, 1]) / (draws[:, 0] + draws[:, 2]), [2.5, 97.5])
    if both + only_theirs:
        ratio = (both + only_mine) / (both + only_theirs)
        low, high = min(low, ratio), max(high, ratio)  # (the prior can move a few failures' interval off the ratio)
    else:  # the reference never failed: infinite, or undefined where neither did
        ratio = np.inf if only_mine else np.nan
    return Comparison(
        point=row.point,
        decoder=row.decoder,
        reference=reference.decoder,
        shots=shots,
        errors=both + only_mine,
        reference_errors=both + only_theirs,
        only_decoder=only_mine,
        only_reference=only_theirs,
        mcnemar_p=float(chance),
        ler_ratio=float(ratio),
        ratio_low=float(low),
        ratio_high=float(high),
        throughput_ratio=reference.microseconds_per_shot / row.microseconds_per_shot,
    )


def number(value: float) -> str:
    """A ratio in a table: 0.85, 12.3, 1.2e+03, inf, nan."""
    return f"{value:.2f}" if not np.isfinite(value) or value < 10 else f"{value:.3g}"


def ratio_text(comparison: Comparison) -> str:
    """`0.85x [0.61, 1.2] 3/9 p=0.15 12x`: LER ratio [interval], only-ours/only-theirs, McNemar p, speed ratio."""

    if comparison.errors == comparison.reference_errors == 0:
        rate = "no failures"
    else:
        rate = f"{number(comparison.ler_ratio)}x [{number(comparison.ratio_low)}, {number(comparison.ratio_high)}]"
    return (
        f"{rate} {comparison.only_decoder}/{comparison.only_reference} p={comparison.mcnemar_p:.2g} "
        f"{number(comparison.throughput_ratio)}x"
    )


def print_table(header: dict, rows: list[Row], comparisons: list[Comparison]) -> None:
    references = list(dict.fromkeys(comparison.reference for comparison in comparisons))
    by_pair = {(comparison.decoder, comparison.reference): comparison for comparison in comparisons}
    columns = "".join(f"  vs {reference}: LER x [95%] only-us/only-them McNemar speed x" for reference in references)
    print(f"  {'decoder':<26}{'failed/shots':>14}  {'LER [95% Wilson]':<29}{'us/shot':>10}{columns}")
    for row in rows:
        if row.refused is not None:
            print(f"  {row.decoder:<26}refused: {row.refused}")
            continue
        rate = f"{row.logical_error_rate:.2e}" if row.errors else "0"
        shots = f"{row.shots}{'*' if row.prefix else ''}"
        line = (
            f"  {row.decoder:<26}{row.errors:>6}/{shots:<7}  {rate:>8} [{row.interval_low:.1e}, "
            f"{row.interval_high:.1e}]{row.microseconds_per_shot:>10.1f}"
        )
        for reference in references:
            comparison = by_pair.get((row.decoder, reference))
            text = ratio_text(comparison) if comparison else "-"
            if comparison and comparison.shots < max(row.shots, 1) and comparison.decoder != reference:
                text += f" (first {comparison.shots})"
            line += f"  | {text}"
        print(line)
    if any(row.prefix for row in rows):
        print(f"  * a prefix: shots 0..n-1 of the point's {header['shots']} (over its CPU budget)")


def verdicts(points: list[tuple[dict, list[Row], list[Comparison]]], mine: tuple[str, ...] = OURS) -> list[str]:
    """Item 3: per colour/bb point our decoders at >= 3x Tesseract's throughput against it: MET where one's LER
    ratio interval lies below 1.2 (the fastest such is shown), NOT MET where every one lies above, else UNDECIDED
    (the one with the lowest upper end is shown); on the surface code pymatching-correlated against pymatching."""
    lines = []
    for header, _rows, comparisons in points:
        title = header["title"]
        if header["family"] == "surface":
            found = [c for c in comparisons if c.decoder == "pymatching-correlated" and c.reference == "pymatching"]
            if not found:
                lines.append(f"{title}: pymatching-correlated vs pymatching not measured")
                continue
            c = found[0]
            beats = c.only_decoder < c.only_reference and c.mcnemar_p < 0.05
            time_ratio = 1 / c.throughput_ratio
            met = beats and time_ratio <= MATCHING_TIME_TARGET
            lines.append(
                f"{title}: pymatching-correlated {c.errors} vs pymatching {c.reference_errors} failures of {c.shots} "
                f"shots (only one failed: {c.only_decoder}/{c.only_reference}, McNemar p={c.mcnemar_p:.2g}): LER "
                f"ratio {c.ler_ratio:.2f}x [{c.ratio_low:.2f}, {c.ratio_high:.2f}], "
                f"{'beats' if beats else 'does not significantly beat'} plain MWPM, at {time_ratio:.2f}x its time "
                f"(target: beats it at <= {MATCHING_TIME_TARGET:g}x): {'MET' if met else 'NOT MET'}"
            )
            continue
        reference = header["reference"]
        ours = [c for c in comparisons if c.reference == reference and c.decoder in mine]
        if not ours:
            lines.append(f"{title}: no Tesseract reference or none of ours decoded it")
            continue
        fast = [c for c in ours if c.throughput_ratio >= SPEED_TARGET]
        met = [c for c in fast if c.ratio_high <= LER_TARGET]
        if met:
            best, verdict = max(met, key=lambda c: c.throughput_ratio), "MET"
        elif not fast:
            best, verdict = min(ours, key=lambda c: c.ratio_high), f"NOT MET (none of ours at {SPEED_TARGET:g}x)"
        else:
            best = min(fast, key=lambda c: c.ratio_high)
            if all(c.ratio_low > LER_TARGET for c in fast):
                verdict = f"NOT MET (LER: every interval above {LER_TARGET:g}x)"
            else:
                verdict = f"UNDECIDED (an interval straddles {LER_TARGET:g}x: more shots needed)"
        lines.append(
            f"{title}: {best.decoder} {best.errors} vs {reference} {best.reference_errors} failures of {best.shots} "
            f"shots (only one failed: {best.only_decoder}/{best.only_reference}, McNemar p={best.mcnemar_p:.2g}): "
            f"LER ratio {'- (no failures)' if np.isnan(best.ler_ratio) else number(best.ler_ratio) + 'x'} "
            f"[{best.ratio_low:.2f}, {best.ratio_high:.2f}] at "
            f"{best.throughput_ratio:.3g}x the throughput (target <= {LER_TARGET:g}x at >= {SPEED_TARGET:g}x): "
            f"{verdict}"
        )
    return lines


def spec_of(text: str) -> decoders.DecoderSpec:
    """`--ours`'s NAME KEY=VALUE ... as a decoder spec."""
    name, *assignments = text.split() or [""]
    return decoders.DecoderSpec.parse(name, assignments)


def finite(record: dict) -> dict:
    """The record with infinite numbers as None (JSON has no infinity)."""
    return {
        key: None if isinstance(value, float) and not np.isfinite(value) else value for key, value in record.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", default=",".join(point.name for point in POINTS), help="comma-separated")
    for point in POINTS:
        parser.add_argument(f"--shots-{point.name}", type=int, default=point.default_shots, help=point.title())
        parser.add_argument(f"--p-{point.name}", type=float, default=point.p, help=f"its p (default {point.p})")
    parser.add_argument("--budget", type=float, default=15.0, help="CPU seconds per decoder and point")
    parser.add_argument(
        "--reference-budget", type=float, default=150.0, help="CPU seconds for the point's Tesseract reference"
    )
    parser.add_argument("--batch", type=int, default=1000, help="shots per batch, the decoders taken in turn")
    parser.add_argument(
        "--skip", default="", help='comma-separated decoder labels to leave out (commas inside a label\'s "(...)" kept)'
    )
    parser.add_argument("--seed", type=int, default=2026, help="point i samples with seed + i")
    parser.add_argument(
        "--ours",
        action="append",
        default=[],
        help='one more decoder of ours, as NAME KEY=VALUE ... (e.g. "bposd schedule=layered osd_order=10"); repeatable',
    )
    parser.add_argument(
        "--tesseract",
        default="",
        help='the Tesseract rows\' options, as KEY=VALUE ... (e.g. "det_beam=5"; default: its long beam)',
    )
    parser.add_argument(
        "--references",
        default=str(REFERENCES),
        help="folder where Tesseract's per-shot predictions are kept and extended across runs ('' for none)",
    )
    args = parser.parse_args()
    args.skip = {label.strip() for label in re.split(r",(?![^()]*\))", args.skip) if label.strip()}
    args.references = pathlib.Path(args.references) if args.references else None
    try:
        args.ours = tuple(spec_of(text) for text in args.ours)
        args.tesseract = decoders.DecoderSpec.parse("tesseract", args.tesseract.split())
    except QecInputError as error:
        parser.error(str(error))
    chosen = args.points.split(",")
    unknown = set(chosen) - {point.name for point in POINTS}
    if unknown:
        parser.error(f"unknown points {sorted(unknown)}; choose from {[point.name for point in POINTS]}")
    info = machine()
    print(describe(info), flush=True)
    started = time.perf_counter()
    measured = []
    for index, point in enumerate(POINTS):
        if point.name not in chosen:
            continue
        shots = getattr(args, f"shots_{point.name.replace('-', '_')}")
        point = replace(point, p=getattr(args, f"p_{point.name.replace('-', '_')}"))
        header, rows, comparisons = run_point(point, shots=shots, seed=args.seed + index, args=args)
        print_table(header, rows, comparisons)
        measured.append((header, rows, comparisons))
    print("\nItem 3 (colour and bb: a qec decoder within 1.2x of Tesseract's LER at >= 3x its throughput; surface:")
    print("a correlated matching that beats MWPM at <= 3x PyMatching's time), paired on the same shots:")
    mine = OURS + tuple(spec.describe() for spec in args.ours)
    for line in verdicts(measured, mine):
        print("  " + line)
    seconds = time.perf_counter() - started
    end = machine()
    print(f"\n{seconds:.0f} s; at the end: {describe(end)}")
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    output = RESULTS / f"field-{stamp}.json"
    arguments = {key: sorted(value) if isinstance(value, set) else value for key, value in vars(args).items()}
    arguments.update(
        ours=[spec.describe() for spec in args.ours],
        tesseract=args.tesseract.describe(),
        references=str(args.references or ""),
    )
    output.write_text(
        json.dumps(
            {
                "machine": info,
                "load_average_at_end": end["load_average"],
                "arguments": arguments,
                "seconds": seconds,
                "points": [
                    {
                        **header,
                        "rows": [{k: v for k, v in asdict(row).items() if k != "failed"} for row in rows],
                        "comparisons": [finite(asdict(comparison)) for comparison in comparisons],
                    }
                    for header, rows, comparisons in measured
                ],
                "verdicts": verdicts(measured, mine),
            },
            indent=1,
        )
    )
    print(f"-> {output}")


if __name__ == "__main__":
    main()
