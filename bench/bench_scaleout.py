"""Throughput of the local process pool vs Dask with 1 and N workers, on the same tasks, in one run.

    python bench/bench_scaleout.py --shots 3000000 --workers 2 --repeat 5

The Dask clusters are the CLI's own `--cluster local:N` (`qec.cluster.dask_client`: LocalCluster on
127.0.0.1, one thread per worker process), started before the clock starts, as a real cluster would be;
the local pool's start-up is part of its collect() call. Each setup runs `--repeat` times, interleaved so
load changes hit all alike, and its median counts. Prints shots/s and the ratios (targets: Dask N workers
>= 1.8x Dask 1 worker at N = 2; Dask >= 0.9x the local pool at the same worker count); writes
bench/results/bench_scaleout.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from qec import StopRule, Store, Task, collect
from qec.cluster import dask_client
from qec.parts import memory_task


def timed_collect(tasks: list[Task], shots: int, **options) -> float:
    with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "bench.db") as store:
        start = time.perf_counter()
        totals = collect(tasks, store=store, stop=StopRule(max_shots=shots, max_errors=None), **options)
        elapsed = time.perf_counter() - start
    assert sum(t.counts.shots for t in totals.values()) == shots * len(tasks)
    return elapsed


def timed_dask(tasks: list[Task], shots: int, workers: int) -> float:
    with dask_client(cluster=f"local:{workers}") as client:
        return timed_collect(tasks, shots, executor=client)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--distances", default="5,7")
    parser.add_argument("--p", type=float, default=0.001)
    parser.add_argument("--shots", type=int, default=3_000_000, help="shots per task")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5, help="runs per setup; the median counts")
    parser.add_argument("--out", default="bench/results/bench_scaleout.json")
    args = parser.parse_args()
    tasks = [memory_task("surface", distance=int(d), noise="uniform", p=args.p) for d in args.distances.split(",")]
    total = args.shots * len(tasks)
    setups = {
        f"local pool, {args.workers} workers": lambda: timed_collect(tasks, args.shots, workers=args.workers),
        "dask, 1 worker": lambda: timed_dask(tasks, args.shots, 1),
        f"dask, {args.workers} workers": lambda: timed_dask(tasks, args.shots, args.workers),
    }
    seconds: dict[str, list[float]] = {name: [] for name in setups}
    for repeat in range(args.repeat):
        for name, run in setups.items():
            seconds[name].append(run())
            print(
                f"run {repeat + 1}: {name:<22} {seconds[name][-1]:8.2f} s {total / seconds[name][-1]:>14,.0f} shots/s",
                flush=True,
            )
    rates = {name: total / float(np.median(times)) for name, times in seconds.items()}
    for name, rate in rates.items():
        spread = ", ".join(f"{total / s:,.0f}" for s in seconds[name])
        print(f"{name:<22} median {rate:>14,.0f} shots/s   (runs: {spread})")
    local, one, many = rates.values()
    print(f"dask {args.workers} workers / dask 1 worker = {many / one:.2f}   (target >= 1.8)")
    print(f"dask / local pool at {args.workers} workers  = {many / local:.2f}   (target >= 0.9)")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(
        json.dumps(
            {
                "args": vars(args),
                "seconds": seconds,
                "shots_per_second": rates,
                "scaling": many / one,
                "dask_over_local": many / local,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
