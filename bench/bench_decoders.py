"""Decoder benchmark: one set of sampled syndromes per circuit, decoded by every decoder in one run.

For the rotated surface code under `uniform` noise (and the color code), it samples the detection
events once and decodes them with:

- `pymatching` and our `uf` (union-find) on the decomposed DEM, all shots;
- our `bposd` and the peer package ldpc's `BpOsdDecoder` on the undecomposed DEM (hyperedges), at
  the same settings (min-sum, scaling factor, iterations, parallel schedule, OSD-CS and order), on the
  first `--bposd-shots` shots (ldpc decodes one shot per Python call; that is its API).

It reports microseconds per shot and per round (best of `--repeats`, single thread), the logical
error rate, the ratio of throughputs to the peer (uf vs pymatching, bposd vs ldpc) and the first
call's time apart (Numba JIT compile, or loading the compiled kernel from Numba's cache). The result
goes to bench/results/decoders-<time>.json and a table is printed.

    python bench/bench_decoders.py --shots 20000 --distances 5,7,9,11 --bposd-distances 5 --color-distances 5
"""

from __future__ import annotations

import argparse
import datetime
import json
import pathlib
import time
from dataclasses import asdict, dataclass

import numpy as np
import stim
from machine import describe, machine

from qec import decoders
from qec.decoders.bp_osd import BpOsdDecoder
from qec.decoders.dem_arrays import check_matrices
from qec.memory import noisy_memory_circuit

RESULTS = pathlib.Path(__file__).parent / "results"


@dataclass(frozen=True)
class Row:
    """One decoder on one circuit's shots."""

    family: str
    distance: int
    rounds: int
    p: float
    decoder: str
    peer: str
    shots: int
    errors: int
    logical_error_rate: float
    microseconds_per_shot: float
    microseconds_per_round: float
    throughput_vs_peer: float | None  # peer's time per shot / ours (> 1: faster than the peer)
    logical_error_rate_vs_peer: float | None
    first_call_seconds: float  # compiling (or loading) the decoder's kernel, not in the timings


def best_time(decode, repeats: int) -> tuple[float, np.ndarray]:
    """The fastest of `repeats` calls of `decode()`, and its output."""
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        output = decode()
        best = min(best, time.perf_counter() - start)
    return best, output


def count_errors(predictions: np.ndarray, observables: np.ndarray) -> int:
    return int(np.count_nonzero(np.any(predictions != observables, axis=1)))


def ldpc_decode(dem: stim.DetectorErrorModel, detection_events: np.ndarray, args) -> tuple[float, float, np.ndarray]:
    """ldpc's BpOsdDecoder at our settings: (construction seconds, best seconds, bit-packed predictions)."""
    import ldpc

    matrices = check_matrices(dem)
    start = time.perf_counter()
    peer = ldpc.BpOsdDecoder(
        matrices.check_matrix,
        error_channel=list(matrices.priors),
        max_iter=args.max_iterations,
        bp_method="minimum_sum",
        ms_scaling_factor=args.scaling_factor,
        schedule="parallel",
        osd_method="osd_cs",
        osd_order=args.osd_order,
    )
    construction = time.perf_counter() - start
    syndromes = np.unpackbits(detection_events, axis=1, bitorder="little")[:, : dem.num_detectors]
    observables = matrices.observables_matrix.tocsr()

    def decode() -> np.ndarray:
        flips = np.array([observables @ peer.decode(syndrome) % 2 for syndrome in syndromes], dtype=np.uint8)
        return np.packbits(flips.reshape(len(syndromes), -1), axis=1, bitorder="little")

    seconds, predictions = best_time(decode, args.repeats)
    return construction, seconds, predictions


def ours(
    name: str, dem: stim.DetectorErrorModel, detection_events: np.ndarray, repeats: int, decoder=None
) -> tuple[float, float, np.ndarray]:
    """One of our decoders: (first-call seconds incl. compile, best seconds, predictions)."""
    compiled = (decoder or decoders.get(name)).compile_decoder_for_dem(dem=dem)
    start = time.perf_counter()
    compiled.decode_shots_bit_packed(bit_packed_detection_event_data=detection_events[:1])
    first_call = time.perf_counter() - start
    seconds, predictions = best_time(
        lambda: compiled.decode_shots_bit_packed(bit_packed_detection_event_data=detection_events), repeats
    )
    return first_call, seconds, predictions


def rows_for(family: str, distance: int, args, matching: bool, bposd: bool) -> list[Row]:
    circuit = noisy_memory_circuit(family, distance=distance, noise="uniform", p=args.p)
    rounds = distance
    detection_events, observables = circuit.compile_detector_sampler(seed=args.seed).sample(
        args.shots, separate_observables=True, bit_packed=True
    )
    timings: dict[str, tuple[float, float, int, int]] = {}  # name -> (first call, seconds, shots, errors)
    if matching:
        dem = circuit.detector_error_model(decompose_errors=True)
        for name in ["pymatching", "uf"]:
            first_call, seconds, predictions = ours(name, dem, detection_events, args.repeats)
            timings[name] = (first_call, seconds, args.shots, count_errors(predictions, observables))
    if bposd:
        dem = circuit.detector_error_model()
        shots = min(args.bposd_shots, args.shots)
        decoder = BpOsdDecoder(
            max_iterations=args.max_iterations,
            scaling_factor=args.scaling_factor,
            osd_method="osd_cs",
            osd_order=args.osd_order,
        )
        first_call, seconds, predictions = ours("bposd", dem, detection_events[:shots], args.repeats, decoder)
        timings["bposd"] = (first_call, seconds, shots, count_errors(predictions, observables[:shots]))
        construction, seconds, predictions = ldpc_decode(dem, detection_events[:shots], args)
        timings["ldpc"] = (construction, seconds, shots, count_errors(predictions, observables[:shots]))
    peers = {"uf": "pymatching", "bposd": "ldpc"}
    rows = []
    for name, (first_call, seconds, shots, errors) in timings.items():
        peer = peers.get(name)
        per_shot = seconds / shots
        throughput = ratio = None
        if peer in timings:
            _, peer_seconds, peer_shots, peer_errors = timings[peer]
            throughput = (peer_seconds / peer_shots) / per_shot
            ratio = errors / peer_errors if peer_errors else None
        rows.append(
            Row(
                family,
                distance,
                rounds,
                args.p,
                name,
                peer or "",
                shots,
                errors,
                errors / shots,
                per_shot * 1e6,
                per_shot * 1e6 / rounds,
                throughput,
                ratio,
                first_call,
            )
        )
    return rows


def print_table(rows: list[Row]) -> None:
    header = (
        f"{'code':<8}{'d':>3}{'decoder':>12}{'shots':>8}{'errors':>7}{'LER':>10}{'us/shot':>10}"
        f"{'us/round':>10}{'vs peer':>16}{'x throughput':>13}{'x LER':>7}{'1st call s':>11}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        throughput = f"{row.throughput_vs_peer:.2f}" if row.throughput_vs_peer is not None else ""
        ler = f"{row.logical_error_rate_vs_peer:.2f}" if row.logical_error_rate_vs_peer is not None else ""
        print(
            f"{row.family:<8}{row.distance:>3}{row.decoder:>12}{row.shots:>8}{row.errors:>7}"
            f"{row.logical_error_rate:>10.2e}{row.microseconds_per_shot:>10.2f}{row.microseconds_per_round:>10.3f}"
            f"{row.peer:>16}{throughput:>13}{ler:>7}{row.first_call_seconds:>11.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shots", type=int, default=20_000, help="shots sampled per circuit")
    parser.add_argument("--distances", default="5,7,9,11", help="surface-code distances for uf vs pymatching")
    parser.add_argument("--bposd-distances", default="5", help="surface-code distances for bposd vs ldpc ('' for none)")
    parser.add_argument("--color-distances", default="5", help="color-code distances for bposd vs ldpc ('' for none)")
    parser.add_argument("--bposd-shots", type=int, default=2_000, help="shots decoded by bposd and ldpc")
    parser.add_argument("--p", type=float, default=0.001, help="uniform noise strength")
    parser.add_argument("--max-iterations", type=int, default=30)
    parser.add_argument("--scaling-factor", type=float, default=0.625)
    parser.add_argument("--osd-order", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3, help="timed decodes per decoder; the best counts")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    info = machine()
    print(describe(info), flush=True)

    def distances(text: str) -> list[int]:
        return [int(d) for d in text.split(",") if d]

    surface_matching = distances(args.distances)
    surface_bposd = distances(args.bposd_distances)
    rows: list[Row] = []
    for distance in sorted(set(surface_matching) | set(surface_bposd)):
        rows += rows_for("surface", distance, args, distance in surface_matching, distance in surface_bposd)
    for distance in distances(args.color_distances):
        rows += rows_for("color", distance, args, matching=False, bposd=True)
    print_table(rows)

    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"decoders-{stamp}.json"
    path.write_text(
        json.dumps(
            {
                "arguments": vars(args),
                "machine": info,
                "rows": [asdict(row) for row in rows],
            },
            indent=2,
        )
    )
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
