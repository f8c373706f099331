"""Throughput of the local process pool vs Dask with 1 and 2 workers, on the same tasks, in one run.

    python bench/bench_scaleout.py --shots 2000000 --workers 2

The Dask clusters (LocalCluster on 127.0.0.1, one thread per worker process) are started before the
clock starts, as a real cluster would be; the local pool's start-up is part of its collect() call.
Prints shots/s and the ratios (targets: Dask 2 workers >= 1.8x Dask 1 worker; Dask >= 0.9x the local pool
at the same worker count); writes bench/results/bench_scaleout.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import distributed

from qec import StopRule, Store, Task, collect


def timed_collect(tasks: list[Task], shots: int, **options) -> float:
    with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "bench.db") as store:
        start = time.perf_counter()
        totals = collect(tasks, store=store, stop=StopRule(max_shots=shots, max_errors=None), **options)
        elapsed = time.perf_counter() - start
    assert sum(t.shots for t in totals.values()) == shots * len(tasks)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--distances", default="5,7")
    parser.add_argument("--p", type=float, default=0.001)
    parser.add_argument("--shots", type=int, default=2_000_000, help="shots per task")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default="bench/results/bench_scaleout.json")
    args = parser.parse_args()
    tasks = [Task.memory("surface", distance=int(d), noise="uniform", p=args.p) for d in args.distances.split(",")]
    total = args.shots * len(tasks)
    seconds = {f"local pool, {args.workers} workers": timed_collect(tasks, args.shots, workers=args.workers)}
    for workers in (1, args.workers):
        with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, host="127.0.0.1",
                                      dashboard_address=None) as cluster, distributed.Client(cluster) as client:
            seconds[f"dask, {workers} worker(s)"] = timed_collect(tasks, args.shots, executor=client)
    rates = {name: total / s for name, s in seconds.items()}
    for name, rate in rates.items():
        print(f"{name:<26} {seconds[name]:8.2f} s {rate:>14,.0f} shots/s")
    local, one, many = rates.values()
    print(f"dask {args.workers} workers / dask 1 worker = {many / one:.2f}   (target >= 1.8)")
    print(f"dask / local pool at {args.workers} workers  = {many / local:.2f}   (target >= 0.9)")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"args": vars(args), "seconds": seconds, "shots_per_second": rates,
                                          "scaling": many / one, "dask_over_local": many / local}, indent=2))


if __name__ == "__main__":
    main()
