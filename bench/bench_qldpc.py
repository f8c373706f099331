"""qLDPC decoder benchmark: bivariate bicycle codes, one set of sampled syndromes per point, five decoders.

For the [[72,12,6]] code (6 rounds) and the [[144,12,12]] gross code (12 rounds), in a Z-basis memory
experiment under uniform circuit noise p (family `bb`, noise `uniform`), at each p it samples the
detection events once, restricts the DEM and the events to the Z-type detectors
(`qec.decoders.basis`, the basis-aware decoding every decoder here then shares), and decodes the same
shots, single thread, with:

- `relay`: our Relay-BP (`RelayBpDecoder`, its defaults: gamma0 0.1, 80 first-leg iterations, up to
  300 legs of 60 on strengths in [-0.24, 0.66], stop at 5 solutions; plain min-sum);
- `relay-bp`: IBM's relay-bp package (0.2.1, `RelayDecoderF64` and `ObservableDecoderRunner`) at the
  same settings (its memory strengths come from its own generator, so shots' paths differ);
- `bposd`: our BP+OSD-CS (min-sum, scaling 1.0, 80 iterations, OSD-CS order 10), and ldpc's
  `BpOsdDecoder` and `BpLsdDecoder` (LSD-CS order 10) at the same BP settings.

Each decoder is timed twice on the same shots. Per shot: one shot per call, the decoders taken in turn
on each shot (so a change in the machine's load falls on all alike), giving the latency (mean, p50,
p99). In batches of 1,000 shots, again in turn, where the decoder's interface takes a batch (ours through
sinter's `decode_shots_bit_packed`, as a study calls them; relay-bp's `decode_observables_batch`,
parallel=False; ldpc's interface takes one syndrome per call, so a loop of calls), giving the
throughput. A deterministic decoder must predict the same in both (asserted).

It reports per decoder the shots that failed (any of the 12 observables wrong), the logical error
rate per shot with its 95% Wilson interval (an upper bound when nothing failed), microseconds per
shot in a batch and per call, and the p50 and p99 per-call latencies; then the ratios: each
decoder's throughput (batch) and logical error rate against each peer, and `relay` against the
published Relay-BP figures for the gross code (Müller et al., arXiv:2506.01779). The first call (Numba
JIT or its cache) is excluded. Results go to bench/results/qldpc-<time>.json and a table is printed.

    python bench/bench_qldpc.py                       # ~5 minutes on 2 cores
    python bench/bench_qldpc.py --shots-72 200 --shots-144 50 --p 0.003   # a quick look
    python bench/bench_qldpc.py --basis-comparison 200,1000   # bposd: the gross code's whole DEM vs its Z part
"""

from __future__ import annotations

import argparse
import datetime
import json
import pathlib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
from machine import describe as describe_machine
from machine import machine

from qec.decoders.basis import BasisRestriction, restrict_to_basis
from qec.decoders.bp_osd import BpOsdDecoder
from qec.decoders.dem_arrays import check_matrices, decoding_dem
from qec.decoders.relay import RelayBpDecoder
from qec.memory import noisy_memory_circuit
from qec.stats import wilson_interval

RESULTS = pathlib.Path(__file__).parent / "results"
CODES = {"72,12,6": (6, 6), "144,12,12": (12, 12)}  # name -> (distance, rounds)
# Relay-BP on the gross code, 12 rounds, Z memory, per-shot logical error rate (the figures
# from IBM's Relay-BP work); BP+OSD-CS(10) beside it.
PUBLISHED_RELAY = {0.003: 2.5e-4, 0.002: 1.4e-5}
PUBLISHED_BPOSD = {0.003: 3.0e-3, 0.002: 1.5e-4}
BP_ITERATIONS = 80
OSD_ORDER = 10
BATCH = 1000  # shots per batch call when timing throughput (a `qec collect` chunk is ~1 s of CPU, >= 256 shots)
PAIRS = (("relay", ("relay-bp", "bposd", "ldpc-bposd", "ldpc-bplsd")), ("bposd", ("ldpc-bposd", "ldpc-bplsd")))


@dataclass(frozen=True)
class Row:
    """One decoder on one point's shots."""

    code: str
    rounds: int
    p: float
    decoder: str
    detectors: int  # of the basis-restricted DEM decoded
    error_mechanisms: int
    shots: int
    errors: int
    logical_error_rate: float
    interval_low: float
    interval_high: float
    microseconds_per_shot: float  # in a batch (throughput)
    microseconds_per_call: float  # one shot per call (mean latency)
    p50_microseconds: float
    p99_microseconds: float
    first_call_seconds: float


def interleaved(decoders: dict[str, Callable[[int], np.ndarray]], shots: int) -> dict[str, tuple]:
    """Decodes shots 0..shots-1, one call each, taking the decoders in turn on every shot (so a change in the
    machine's load falls on all of them alike): name -> (predictions uint8 (shots, k), seconds per shot,
    first-call seconds). The first call, timed apart, compiles or loads the kernels."""
    first_call = {}
    for name, decode_one in decoders.items():
        start = time.perf_counter()
        decode_one(0)
        first_call[name] = time.perf_counter() - start
    predictions: dict[str, list[np.ndarray]] = {name: [] for name in decoders}
    seconds = {name: np.empty(shots) for name in decoders}
    for shot in range(shots):
        for name, decode_one in decoders.items():
            start = time.perf_counter()
            predictions[name].append(decode_one(shot))
            seconds[name][shot] = time.perf_counter() - start
    return {
        name: (np.array(predictions[name], dtype=np.uint8).reshape(shots, -1), seconds[name], first_call[name])
        for name in decoders
    }


def in_batches(decoders: dict[str, Callable[[int, int], np.ndarray]], shots: int) -> dict[str, tuple]:
    """Decodes shots 0..shots-1 in batches of BATCH, the decoders in turn on every batch (a change of load falls
    on all alike): name -> (predictions uint8 (shots, k), seconds in all)."""
    predictions: dict[str, list[np.ndarray]] = {name: [] for name in decoders}
    seconds = dict.fromkeys(decoders, 0.0)
    for start in range(0, shots, BATCH):
        for name, decode in decoders.items():
            began = time.perf_counter()
            predictions[name].append(decode(start, min(start + BATCH, shots)))
            seconds[name] += time.perf_counter() - began
    return {name: (np.concatenate(predictions[name]), seconds[name]) for name in decoders}


@dataclass(frozen=True)
class Contender:
    """A decoder as the bench calls it: per shot, and on the whole batch where its interface takes one."""

    decode_one: Callable[[int], np.ndarray]  # shot -> its predicted observable flips (uint8 0/1)
    decode_batch: Callable[[int, int], np.ndarray]  # (start, stop) -> predictions, in one call where it can
    deterministic: bool  # a shot's prediction is the same in a batch as alone


def our_decoder(decoder, restriction: BasisRestriction, events: np.ndarray) -> Contender:
    """One of ours on the restricted DEM, through sinter's `decode_shots_bit_packed`."""
    compiled = decoder.compile_decoder_for_dem(dem=restriction.dem)
    count = restriction.dem.num_observables

    def decode_one(shot: int) -> np.ndarray:
        packed = compiled.decode_shots_bit_packed(bit_packed_detection_event_data=events[shot : shot + 1])
        return np.unpackbits(packed[0], count=count, bitorder="little")

    def decode_batch(start: int, stop: int) -> np.ndarray:
        packed = compiled.decode_shots_bit_packed(bit_packed_detection_event_data=events[start:stop])
        return np.unpackbits(packed, axis=1, count=count, bitorder="little")

    return Contender(decode_one, decode_batch, deterministic=True)


def ldpc_decoder(kind: str, restriction: BasisRestriction, syndromes: np.ndarray) -> Contender:
    """ldpc's BpOsdDecoder (OSD-CS) or BpLsdDecoder (LSD-CS) at our BP settings; one Python call per shot (its API)."""
    import ldpc

    matrices = check_matrices(restriction.dem)
    settings = dict(
        error_channel=list(matrices.priors),
        max_iter=BP_ITERATIONS,
        bp_method="minimum_sum",
        ms_scaling_factor=1.0,
        schedule="parallel",
    )
    if kind == "osd":
        peer = ldpc.BpOsdDecoder(matrices.check_matrix, osd_method="osd_cs", osd_order=OSD_ORDER, **settings)
    else:
        peer = ldpc.BpLsdDecoder(matrices.check_matrix, lsd_method="lsd_cs", lsd_order=OSD_ORDER, **settings)
    observables = matrices.observables_matrix.tocsr()

    def decode_one(shot: int) -> np.ndarray:
        return (observables @ peer.decode(syndromes[shot]) % 2).astype(np.uint8)

    def decode_batch(start: int, stop: int) -> np.ndarray:  # its interface takes one syndrome per call
        return np.array([decode_one(shot) for shot in range(start, stop)], dtype=np.uint8)

    return Contender(decode_one, decode_batch, deterministic=True)


def relay_bp_decoder(restriction: BasisRestriction, syndromes: np.ndarray, ours: RelayBpDecoder) -> Contender:
    """IBM's relay-bp (Rust) at our relay's settings: shot -> its predicted observable flips."""
    import relay_bp

    matrices = check_matrices(restriction.dem)
    peer = relay_bp.RelayDecoderF64(
        matrices.check_matrix.astype(np.uint8).tocsr(),
        error_priors=matrices.priors,
        gamma0=ours.gamma0,
        pre_iter=ours.pre_iterations,
        num_sets=ours.num_legs,
        set_max_iter=ours.leg_iterations,
        gamma_dist_interval=ours.gamma_interval,
        stop_nconv=ours.num_solutions,
    )
    runner = relay_bp.ObservableDecoderRunner(
        peer, matrices.observables_matrix.astype(np.uint8).tocsr(), include_decode_result=False
    )

    def decode_one(shot: int) -> np.ndarray:
        return np.asarray(runner.decode_observables(syndromes[shot]), dtype=np.uint8)

    def decode_batch(start: int, stop: int) -> np.ndarray:
        batch = runner.decode_observables_batch(syndromes[start:stop], parallel=False, progress_bar=False)
        return np.asarray(batch, dtype=np.uint8)

    return Contender(decode_one, decode_batch, deterministic=False)  # its generator runs on across calls


def run_point(code: str, p: float, shots: int, seed: int, skip: set[str]) -> list[Row]:
    distance, rounds = CODES[code]
    circuit = noisy_memory_circuit("bb", distance=distance, rounds=rounds, noise="uniform", p=p, basis="Z")
    restriction = restrict_to_basis(decoding_dem(circuit))
    assert restriction is not None and restriction.basis == "Z", "bb circuits carry basis tags"
    sampled, observables = circuit.compile_detector_sampler(seed=seed).sample(
        shots, separate_observables=True, bit_packed=True
    )
    events = np.ascontiguousarray(restriction.select(sampled))
    syndromes = np.unpackbits(events, axis=1, count=len(restriction.detectors), bitorder="little")
    truth = np.unpackbits(observables, axis=1, count=circuit.num_observables, bitorder="little")
    relay = RelayBpDecoder(basis_aware=False)
    bposd = BpOsdDecoder(max_iterations=BP_ITERATIONS, scaling_factor=1.0, osd_order=OSD_ORDER, basis_aware=False)
    contenders: dict[str, Callable[[], Contender]] = {
        "relay": lambda: our_decoder(relay, restriction, events),
        "relay-bp": lambda: relay_bp_decoder(restriction, syndromes, relay),
        "bposd": lambda: our_decoder(bposd, restriction, events),
        "ldpc-bposd": lambda: ldpc_decoder("osd", restriction, syndromes),
        "ldpc-bplsd": lambda: ldpc_decoder("lsd", restriction, syndromes),
    }
    built = {name: build() for name, build in contenders.items() if name not in skip}
    rows = []
    per_call = interleaved({name: contender.decode_one for name, contender in built.items()}, shots)
    failed: dict[str, np.ndarray] = {}
    batched = in_batches({name: contender.decode_batch for name, contender in built.items()}, shots)
    for name, (predictions, seconds, first_call) in per_call.items():
        in_batch, batch_seconds = batched[name]
        if built[name].deterministic:
            assert np.array_equal(in_batch, predictions), f"{name} predicts differently in a batch"
        else:
            predictions = in_batch  # (its failures then come from the batch run, like its time)
        failed[name] = np.any(predictions != truth, axis=1)
        errors = int(np.count_nonzero(failed[name]))
        low, high = wilson_interval(errors=errors, shots=shots)
        low = 0.0 if errors == 0 else low  # (the formula's rounding leaves ~1e-19)
        rows.append(
            Row(
                code=code,
                rounds=rounds,
                p=p,
                decoder=name,
                detectors=len(restriction.detectors),
                error_mechanisms=restriction.dem.num_errors,
                shots=shots,
                errors=errors,
                logical_error_rate=errors / shots,
                interval_low=low,
                interval_high=high,
                microseconds_per_shot=1e6 * batch_seconds / shots,
                microseconds_per_call=1e6 * float(seconds.mean()),
                p50_microseconds=1e6 * float(np.percentile(seconds, 50)),
                p99_microseconds=1e6 * float(np.percentile(seconds, 99)),
                first_call_seconds=first_call,
            )
        )
        print(describe(rows[-1]), flush=True)
    print("\n".join(paired(failed)), flush=True)
    return rows


def paired(failed: dict[str, np.ndarray]) -> list[str]:
    """Ours against each peer on the same shots: the shots only one of the two failed, and the exact two-sided
    binomial (McNemar) p-value that each is as likely to fail alone, which tests "lower logical error rate"
    with the shots both decoders got right or wrong taken out."""
    from scipy.stats import binomtest

    lines = []
    for ours, peers in PAIRS:
        for peer in peers:
            if ours in failed and peer in failed:
                only_ours = int(np.count_nonzero(failed[ours] & ~failed[peer]))
                only_peer = int(np.count_nonzero(failed[peer] & ~failed[ours]))
                total = only_ours + only_peer
                chance = binomtest(only_ours, total).pvalue if total else 1.0
                lines.append(
                    f"    {ours} vs {peer}, same shots: {ours} alone failed {only_ours}, {peer} alone {only_peer} "
                    f"(McNemar p = {chance:.2g})"
                )
    return lines


def describe(row: Row) -> str:
    rate = f"{row.logical_error_rate:.2e}" if row.errors else "0"
    return (
        f"[[{row.code}]] r={row.rounds} p={row.p:<6} {row.decoder:<11} {row.errors:>4}/{row.shots:<6} "
        f"LER {rate:>8} [{row.interval_low:.1e}, {row.interval_high:.1e}]  {row.microseconds_per_shot:>7.0f} us/shot "
        f"(batch), per call {row.microseconds_per_call:>7.0f}  p50 {row.p50_microseconds:>7.0f}  "
        f"p99 {row.p99_microseconds:>7.0f} us"
    )


def ratios(rows: list[Row]) -> list[str]:
    """Throughput (peer's time per shot in a batch / ours; per call in brackets) and logical-error-rate ratios of
    each decoder against each other one."""
    lines = []
    by_name = {row.decoder: row for row in rows}
    for ours, peers in PAIRS:
        if ours not in by_name:
            continue
        mine = by_name[ours]
        for peer in peers:
            if peer not in by_name:
                continue
            other = by_name[peer]
            speed = other.microseconds_per_shot / mine.microseconds_per_shot
            per_call = other.microseconds_per_call / mine.microseconds_per_call
            if mine.errors and other.errors:
                rate = f"{mine.logical_error_rate / other.logical_error_rate:.2f}"
            else:
                rate = f"{mine.errors} vs {other.errors} failures"
            lines.append(
                f"    {ours} vs {peer}: throughput {speed:.2f}x (per call {per_call:.2f}x), "
                f"logical error rate ratio {rate}"
            )
    relay = by_name.get("relay")
    if relay is not None and relay.code == "144,12,12" and relay.p in PUBLISHED_RELAY:
        published = PUBLISHED_RELAY[relay.p]
        lines.append(
            f"    relay vs published Relay-BP {published:.1e}: measured {relay.logical_error_rate:.2e} "
            f"(95% interval [{relay.interval_low:.1e}, {relay.interval_high:.1e}]; within 1.5x needs "
            f"[{published / 1.5:.1e}, {published * 1.5:.1e}]); published BP+OSD-CS(10) {PUBLISHED_BPOSD[relay.p]:.1e}"
        )
    return lines


def basis_comparison(full_shots: int, z_shots: int, seed: int) -> list[str]:
    """`bposd` (80 iterations, scaling 1.0, OSD-CS 10) on the gross code (12 rounds, p = 0.003, Z memory): the
    whole DEM against its Z part, on the same sampled shots (batch decoding): failures and ms per shot, printed
    as they come and returned."""
    circuit = noisy_memory_circuit("bb", distance=12, rounds=12, noise="uniform", p=0.003, basis="Z")
    dem = decoding_dem(circuit)
    restriction = restrict_to_basis(dem)
    assert restriction is not None
    lines = [
        f"bposd on [[144,12,12]], 12 rounds, p=0.003, Z memory: whole DEM {dem.num_detectors} detectors, "
        f"{dem.num_errors} error instructions; Z part {restriction.dem.num_detectors} detectors, "
        f"{restriction.dem.num_errors} mechanisms"
    ]
    print(lines[0], flush=True)
    events, observables = circuit.compile_detector_sampler(seed=seed).sample(
        max(full_shots, z_shots), separate_observables=True, bit_packed=True
    )
    for label, basis_aware, shots in (("Z part", True, z_shots), ("whole DEM", False, full_shots)):
        decoder = BpOsdDecoder(
            max_iterations=BP_ITERATIONS, scaling_factor=1.0, osd_order=OSD_ORDER, basis_aware=basis_aware
        )
        compiled = decoder.compile_decoder_for_dem(dem=dem)
        compiled.decode_shots_bit_packed(bit_packed_detection_event_data=events[:1])
        start = time.perf_counter()
        predictions = compiled.decode_shots_bit_packed(bit_packed_detection_event_data=events[:shots])
        seconds = time.perf_counter() - start
        failed = int(np.count_nonzero(np.any(predictions != observables[:shots], axis=1)))
        lines.append(f"    {label}: {failed} of {shots} shots failed, {1e3 * seconds / shots:.1f} ms/shot")
        print(lines[-1], flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--p", default="0.002,0.003", help="comma-separated physical error rates")
    parser.add_argument("--codes", default="72,12,6;144,12,12", help="';'-separated: 72,12,6 and/or 144,12,12")
    parser.add_argument("--shots-72", type=int, default=1500, help="shots per point for [[72,12,6]]")
    parser.add_argument("--shots-144", type=int, default=500, help="shots per point for [[144,12,12]]")
    parser.add_argument("--skip", default="", help="comma-separated decoders to leave out")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--basis-comparison",
        default="",
        metavar="FULL,Z",
        help="only compare bposd on the gross code's whole DEM (FULL shots) and its Z part (Z shots), e.g. 200,1000",
    )
    args = parser.parse_args()
    info = machine()
    print(describe_machine(info), flush=True)
    if args.basis_comparison:
        full_shots, z_shots = (int(value) for value in args.basis_comparison.split(","))
        basis_comparison(full_shots, z_shots, args.seed)
        return
    skip = {name for name in args.skip.split(",") if name}
    rows: list[Row] = []
    started = time.perf_counter()
    for code in args.codes.split(";"):
        for p in (float(value) for value in args.p.split(",")):
            shots = args.shots_72 if code == "72,12,6" else args.shots_144
            point = run_point(code, p, shots, args.seed, skip)
            rows += point
            print("\n".join(ratios(point)), flush=True)
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    output = RESULTS / f"qldpc-{stamp}.json"
    output.write_text(
        json.dumps(
            {
                "machine": info,
                "seconds": time.perf_counter() - started,
                "rows": [asdict(row) for row in rows],
            },
            indent=1,
        )
    )
    print(f"\n{len(rows)} rows in {time.perf_counter() - started:.0f} s -> {output}")


if __name__ == "__main__":
    main()
