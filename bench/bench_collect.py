"""Throughput of `qec.collect` against `sinter.collect` and a hand-written stim + PyMatching loop.

The same tasks (rotated surface code, `uniform` noise), the same number of worker processes and the
same shots per task, in one run; wall-clock time from the call to the last count, start-up included;
each engine runs `--repeat` times, interleaved, and its median counts.

    python bench/bench_collect.py --distances 5,7 --p 0.001 --shots 2000000 --workers 2

Prints shots/s per engine and the ratios qec/hand-loop and qec/sinter; writes bench/results/bench_collect.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import tempfile
import time
from pathlib import Path

import numpy as np
import pymatching
import sinter
import stim

from qec import StopRule, Store, Task, collect
from qec.parts import memory_task

BATCH = 100_000


def hand_worker(args: tuple[str, int, int]) -> tuple[int, int]:
    """Samples and decodes `shots` shots of one circuit in batches; returns (shots, errors)."""
    circuit_text, shots, seed = args
    circuit = stim.Circuit(circuit_text)
    matching = pymatching.Matching.from_detector_error_model(circuit.detector_error_model(decompose_errors=True))
    sampler = circuit.compile_detector_sampler(seed=seed)
    errors = 0
    done = 0
    while done < shots:
        batch = min(BATCH, shots - done)
        detections, observables = sampler.sample(batch, separate_observables=True, bit_packed=True)
        predictions = matching.decode_batch(detections, bit_packed_shots=True, bit_packed_predictions=True)
        errors += int(np.count_nonzero(np.any(predictions != observables, axis=1)))
        done += batch
    return done, errors


def run_hand_loop(tasks: list[Task], shots: int, workers: int) -> tuple[float, int]:
    jobs = []
    for k, task in enumerate(tasks):
        share = [shots // workers + (1 if w < shots % workers else 0) for w in range(workers)]
        jobs += [(task.circuit_text, n, 1000 * k + w) for w, n in enumerate(share) if n]
    start = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        results = pool.map(hand_worker, jobs, chunksize=1)
    return time.perf_counter() - start, sum(n for n, _ in results)


def run_sinter(tasks: list[Task], shots: int, workers: int) -> tuple[float, int]:
    sinter_tasks = [sinter.Task(circuit=t.circuit, json_metadata=t.metadata) for t in tasks]
    start = time.perf_counter()
    stats = sinter.collect(
        num_workers=workers, tasks=sinter_tasks, decoders=["pymatching"], max_shots=shots, max_errors=shots
    )
    return time.perf_counter() - start, sum(s.shots for s in stats)


def run_qec(tasks: list[Task], shots: int, workers: int) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "bench.db") as store:
        start = time.perf_counter()
        totals = collect(tasks, store=store, stop=StopRule(max_shots=shots, max_errors=None), workers=workers)
        return time.perf_counter() - start, sum(t.counts.shots for t in totals.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--distances", default="5,7")
    parser.add_argument("--p", type=float, default=0.001)
    parser.add_argument("--shots", type=int, default=2_000_000, help="shots per task")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="runs per engine; the median counts")
    parser.add_argument("--out", default="bench/results/bench_collect.json")
    args = parser.parse_args()
    tasks = [memory_task("surface", distance=int(d), noise="uniform", p=args.p) for d in args.distances.split(",")]
    engines = (("hand loop", run_hand_loop), ("sinter", run_sinter), ("qec", run_qec))
    seconds: dict[str, list[float]] = {name: [] for name, _ in engines}
    for repeat in range(args.repeat):  # interleaved, so load changes hit every engine alike
        for name, run in engines:
            elapsed, total = run(tasks, args.shots, args.workers)
            assert total == args.shots * len(tasks)
            seconds[name].append(elapsed)
            print(f"run {repeat + 1}: {name:<10} {total:>12,} shots {elapsed:8.2f} s", flush=True)
    results = {}
    for name, times in seconds.items():
        median = float(np.median(times))
        total = args.shots * len(tasks)
        results[name] = {"seconds": times, "median_seconds": median, "shots_per_second": total / median}
        print(f"{name:<10} median {median:8.2f} s {total / median:>14,.0f} shots/s")
    ratio_hand = results["qec"]["shots_per_second"] / results["hand loop"]["shots_per_second"]
    ratio_sinter = results["qec"]["shots_per_second"] / results["sinter"]["shots_per_second"]
    print(f"qec / hand loop = {ratio_hand:.3f}   (target >= 0.95)")
    print(f"qec / sinter    = {ratio_sinter:.3f}   (target >= 1.0)")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(
        json.dumps(
            {"args": vars(args), "results": results, "qec_over_hand": ratio_hand, "qec_over_sinter": ratio_sinter},
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
