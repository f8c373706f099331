"""Herald-aware against herald-blind decoding on the same shots (issue 22, point 4): failures and throughput.

Points: erasure noise (`qec.noise`, family `erasure`: sd6 places, share R_e of each error a heralded erasure),
Z-basis memory, decoded from `qec.decoders.dem_arrays.decoding_dem`:

- the rotated surface code d=5, 5 rounds, p=0.01, R_e = 0.5 and 0.98;
- the [[72,12,6]] bivariate bicycle code (`bb`, distance 6), 6 rounds, p=0.005, R_e = 0.5 and 0.98;
- not by default (`--points`): the rotated surface code d=7, 7 rounds, p=0.005, R_e = 0.5 and 0.98.

Each row is one decoder on one point: the decoder with `heralds=True` (per-shot priors from the fired heralds, in
the kernel) and with `heralds=False` (heralds decoded as ordinary detectors) decode the same seeded shots. Printed:
failures (any observable wrong) of each with their 95% Wilson intervals, the shots only one of the two failed, CPU
us/shot of each (time.process_time, the median of `--repeats` decodes of all the shots; compile_decoder_for_dem
and a first call on 8 shots excluded) and the throughput ratio (blind us/shot / aware us/shot; point 4 asks for
>= 0.5). `bench/machine.py`'s describe() is printed first; the rows go to bench/results/heralds-<time>.json with
machine().

The table is `ROWS`: (name, function) pairs, one function per decoder row, each taking a `Point` and returning a
`Row` (or None where the decoder refuses the point). A new decoder is one more function and one more pair.

    python bench/bench_heralds.py                          # about 2 minutes on 2 cores
    python bench/bench_heralds.py --points surface-0.98 --shots 500
    python bench/bench_heralds.py --decoders uf,pymatching --repeats 3 --shots 10000 \
        --points surface-0.5,surface-0.98,surface7-0.5,surface7-0.98
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
import sinter
import stim
from machine import describe, machine

from qec import codes, noise
from qec.decoders.bp_osd import BpOsdDecoder
from qec.decoders.dem_arrays import decoding_dem
from qec.decoders.matching import PyMatchingDecoder
from qec.decoders.union_find import UnionFindDecoder
from qec.errors import QecInputError
from qec.stats import wilson_interval

RESULTS = pathlib.Path(__file__).parent / "results"
WARM_UP_SHOTS = 8


@dataclass(frozen=True)
class Point:
    """One circuit: a code family's memory under erasure noise, its DEM and its seeded shots."""

    name: str
    circuit: stim.Circuit
    dem: stim.DetectorErrorModel
    detection_events: np.ndarray  # uint8 (shots, ceil(detectors / 8)), bit-packed
    observables: np.ndarray  # uint8 (shots, ceil(observables / 8)), bit-packed


@dataclass(frozen=True)
class Row:
    """One decoder on one point, herald-aware against herald-blind on the same shots."""

    point: str
    decoder: str
    shots: int
    aware_failures: int
    blind_failures: int
    aware_only: int
    blind_only: int
    aware_us_per_shot: float
    blind_us_per_shot: float

    @property
    def throughput_ratio(self) -> float:
        """Herald-aware throughput over herald-blind's (blind us/shot / aware us/shot)."""
        return self.blind_us_per_shot / self.aware_us_per_shot

    def describe(self) -> str:
        aware_low, aware_high = wilson_interval(errors=self.aware_failures, shots=self.shots)
        blind_low, blind_high = wilson_interval(errors=self.blind_failures, shots=self.shots)
        return (
            f"{self.point:<16} {self.decoder:<10} {self.shots:>6} "
            f"{self.aware_failures:>5} [{aware_low:.2e}, {aware_high:.2e}] "
            f"{self.blind_failures:>5} [{blind_low:.2e}, {blind_high:.2e}] "
            f"{self.aware_only:>4}/{self.blind_only:<4} "
            f"{self.aware_us_per_shot:>9.0f} {self.blind_us_per_shot:>9.0f} {self.throughput_ratio:>7.2f}x"
        )


HEADER = (
    f"{'point':<16} {'decoder':<10} {'shots':>6} {'aware failures [95%]':>28} {'blind failures [95%]':>28} "
    f"{'only':>9} {'aware us':>9} {'blind us':>9} {'ratio':>8}"
)

POINTS = {
    "surface-0.5": ("surface", 5, 5, 0.01, 0.5),
    "surface-0.98": ("surface", 5, 5, 0.01, 0.98),
    "bb-0.5": ("bb", 6, 6, 0.005, 0.5),
    "bb-0.98": ("bb", 6, 6, 0.005, 0.98),
    "surface7-0.5": ("surface", 7, 7, 0.005, 0.5),
    "surface7-0.98": ("surface", 7, 7, 0.005, 0.98),
}
DEFAULT_POINTS = ["surface-0.5", "surface-0.98", "bb-0.5", "bb-0.98"]
DEFAULT_SHOTS = {"surface": 2000, "bb": 200}  # herald-blind BP+OSD on bb's whole DEM takes ~60 ms a shot


def make_point(name: str, shots: int | None, seed: int) -> Point:
    family, distance, rounds, p, erasure_fraction = POINTS[name]
    circuit = noise.noise_model("erasure", p, erasure_fraction=erasure_fraction).apply(
        codes.memory_circuit(family, distance=distance, rounds=rounds)
    )
    events, observables = circuit.compile_detector_sampler(seed=seed).sample(
        shots or DEFAULT_SHOTS[family], separate_observables=True, bit_packed=True
    )
    return Point(name, circuit, decoding_dem(circuit), events, observables)


REPEATS = 1  # decodes of all the shots per timing, the median taken (`--repeats`)


def _decode(decoder: sinter.Decoder, point: Point) -> tuple[np.ndarray, float]:
    """(failed shots, CPU us/shot): compiled once, warmed up on a few shots, then timed on all of them (the median
    of REPEATS decodes)."""
    compiled = decoder.compile_decoder_for_dem(dem=point.dem)
    compiled.decode_shots_bit_packed(bit_packed_detection_event_data=point.detection_events[:WARM_UP_SHOTS])
    timings = []
    for _ in range(REPEATS):
        start = time.process_time()
        predictions = compiled.decode_shots_bit_packed(bit_packed_detection_event_data=point.detection_events)
        timings.append(time.process_time() - start)
    return np.any(predictions != point.observables, axis=1), 1e6 * float(np.median(timings)) / len(predictions)


def paired_row(point: Point, name: str, make: Callable[..., sinter.Decoder]) -> Row:
    """The row of the decoder `make(heralds=...)` builds, aware and blind on the point's shots."""
    aware, aware_us = _decode(make(heralds=True), point)
    blind, blind_us = _decode(make(heralds=False), point)
    return Row(
        point=point.name,
        decoder=name,
        shots=len(aware),
        aware_failures=int(aware.sum()),
        blind_failures=int(blind.sum()),
        aware_only=int((aware & ~blind).sum()),
        blind_only=int((blind & ~aware).sum()),
        aware_us_per_shot=aware_us,
        blind_us_per_shot=blind_us,
    )


def bposd_row(point: Point) -> Row | None:
    """BP+OSD (`bposd` at its defaults: min-sum, OSD-CS of order 10)."""
    return paired_row(point, "bposd", lambda heralds: BpOsdDecoder(heralds=heralds))


def graphlike_row(point: Point, name: str, make: Callable[..., sinter.Decoder]) -> Row | None:
    """`paired_row`, or None where the decoder refuses the point's DEM (hyperedges: bb)."""
    try:
        make(heralds=True).check_circuit(point.circuit)
    except QecInputError:
        return None
    return paired_row(point, name, make)


def uf_row(point: Point) -> Row | None:
    """Union-find (`uf` at its defaults, granularity 4): aware decodes erased edges first (peeling)."""
    return graphlike_row(point, "uf", lambda heralds: UnionFindDecoder(heralds=heralds))


def pymatching_row(point: Point) -> Row | None:
    """PyMatching: aware re-weights each heralded shot's edges and decodes it alone (a graph rebuild a shot)."""
    return graphlike_row(point, "pymatching", lambda heralds: PyMatchingDecoder(heralds=heralds))


ROWS: list[tuple[str, Callable[[Point], Row | None]]] = [
    ("bposd", bposd_row),
    ("uf", uf_row),
    ("pymatching", pymatching_row),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", default=",".join(DEFAULT_POINTS), help=f"comma-separated, of {', '.join(POINTS)}")
    parser.add_argument("--decoders", default=",".join(name for name, _ in ROWS), help="comma-separated rows")
    parser.add_argument("--shots", type=int, default=None, help="shots per point (default: surface 2000, bb 200)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeats", type=int, default=1, help="decodes per timing, the median taken")
    args = parser.parse_args()
    global REPEATS
    REPEATS = max(1, args.repeats)
    print(describe())
    print(HEADER)
    rows = []
    wanted = args.decoders.split(",")
    for point_name in args.points.split(","):
        point = make_point(point_name, args.shots, args.seed)
        for name, row_of in ROWS:
            if name not in wanted:
                continue
            row = row_of(point)
            if row is None:
                print(f"{point_name:<16} {name:<10} refused")
                continue
            rows.append(row)
            print(row.describe(), flush=True)
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    output = RESULTS / f"heralds-{stamp}.json"
    output.write_text(
        json.dumps(
            {
                "machine": machine(),
                "rows": [asdict(row) | {"throughput_ratio": row.throughput_ratio} for row in rows],
            },
            indent=2,
        )
    )
    print(f"written {output}")


if __name__ == "__main__":
    main()
