"""How many shots `qec threshold --auto` needs, and how often it stops short of its target: hundreds of studies in
minutes, each run by `qec.auto.auto_threshold` itself (its rounds, store and fits) with every chunk's counts drawn
from a binomial at rates measured once, instead of sampled.

The rates ("the truth") come from a store of the study's tasks, sampled here where `--truth` lacks them: the lattice
p values every 4 steps in `--dense` (where refine windows go) to `TRUTH_STOP`, and the scan's other points to
`SCAN_TRUTH_STOP`. Per distance, log rate is a cubic in log p fitted to the dense points (binomially weighted; its
chi^2 is printed), so the truth has no noise pattern of its own there; elsewhere the measured rate is used.

    python bench/emulate_auto.py --truth /tmp/si1000-truth.db --seeds 0:200
    PYTHONPATH=/path/to/an/older/checkout python bench/emulate_auto.py --truth ... --seeds 0:200  # older rules

Prints one line per study and a summary (stop rules, shots: median, 90th percentile, largest); writes
bench/results/emulate_auto-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import qec.auto
from qec.auto import auto_threshold, lattice_index, lattice_p, scan_grid
from qec.engine import StopRule
from qec.stats import Point
from qec.store import Store
from qec.study import collect_into, study_tasks
from qec.task import ChunkResult, Counts

TRUTH_STOP = StopRule(max_shots=700_000, max_errors=12_000)
SCAN_TRUTH_STOP = StopRule(max_shots=100_000, max_errors=3_000)
DENSE_STEP = 4  # lattice steps between dense truth points: the refine windows' finest spacing


def truth_rates(family: str, distances: list[int], noise: str, store: Path, dense: tuple[float, float], workers: int):
    """Samples what the truth store lacks; returns, per distance, its rate(p) (the cubic in `dense`)."""
    low, high = (round(lattice_index(p) / DENSE_STEP) * DENSE_STEP for p in dense)
    dense_ps = [lattice_p(k) for k in range(low, high + 1, DENSE_STEP)]
    scan_ps = [p for p in scan_grid(noise) if not dense[0] <= p <= dense[1]]
    for ps, stop in ((dense_ps, TRUTH_STOP), (scan_ps, SCAN_TRUTH_STOP)):
        tasks = study_tasks(family, distances=distances, ps=ps, noise=noise)
        collect_into(tasks, store=store, stop=stop, workers=workers)
    with Store(store, read_only=True) as results:
        points = [Point.from_totals(t) for t in results.totals().values()]
    rates = {}
    for distance in distances:
        measured = {pt.p: pt for pt in points if pt.distance == distance}
        x = np.log(dense_ps)
        y = np.log([measured[p].rate for p in dense_ps])
        weight = np.sqrt([measured[p].counts.errors for p in dense_ps])  # 1 / sigma of log rate
        cubic = np.polyfit(x, y, 3, w=weight)
        chi2 = float(np.sum(((y - np.polyval(cubic, x)) * weight) ** 2))
        print(f"truth d = {distance}: a cubic in log p, chi^2 = {chi2:.1f} on {len(x) - 4} dof")
        rates[distance] = Truth(cubic, dense, {p: pt.rate for p, pt in measured.items()})
    return rates


@dataclass(frozen=True)
class Truth:
    """One distance's rate at p: the cubic inside the dense range; outside it, the measured rates interpolated
    (log rate linear in log p; held at the last measured one beyond them)."""

    cubic: np.ndarray
    dense: tuple[float, float]
    measured: dict[float, float]

    def __call__(self, p: float) -> float:
        if self.dense[0] <= p <= self.dense[1]:
            return float(np.exp(np.polyval(self.cubic, math.log(p))))
        ps = sorted(self.measured)
        return float(np.exp(np.interp(math.log(p), np.log(ps), np.log([self.measured[q] for q in ps]))))


class MissingTruth(Exception):
    """The study asked for a distance the truth does not have."""


def emulated_collect(rates: dict, rng: np.random.Generator):
    """`collect_into` for `auto_threshold`: each task's chunks drawn from a binomial until its stop rule holds."""

    def collect(tasks, *, store, stop, on_progress=None, **options):
        store.add_tasks(tasks)
        totals = store.totals(task.task_id for task in tasks)
        for task in tasks:
            held = totals.get(task.task_id)
            shots, errors, index = (held.counts.shots, held.counts.errors, held.next_chunk) if held else (0, 0, 0)
            if task.metadata["distance"] not in rates:
                raise MissingTruth(task.metadata["distance"])
            rate = rates[task.metadata["distance"]](task.metadata["p"])
            while stop.progress(shots, errors) < 1:
                wanted = (stop.max_errors - errors) / rate if stop.max_errors else math.inf
                left = stop.max_shots - shots if stop.max_shots else math.inf
                chunk = int(min(left, max(256, math.ceil(0.3 * wanted))))  # a few chunks per task, as sampling does
                drawn = int(rng.binomial(chunk, rate))
                store.append(ChunkResult(task.task_id, index, Counts(chunk, drawn), (drawn,)))
                shots, errors, index = shots + chunk, errors + drawn, index + 1
        return {}

    return collect


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--family", default="surface")
    parser.add_argument("--noise", default="si1000")
    parser.add_argument("--distances", default="5,7,9")
    parser.add_argument("--dense", default="0.0025,0.011", help="p range of the dense truth points")
    parser.add_argument("--truth", type=Path, required=True, help="the truth store (made or completed here)")
    parser.add_argument("--seeds", default="0:100", help="first:end of the studies' seeds")
    parser.add_argument("--target", type=float, default=0.05)
    parser.add_argument("--max-shots-total", type=int, default=5_000_000)
    parser.add_argument("--workers", type=int, default=2, help="for sampling the truth")
    args = parser.parse_args()
    distances = [int(d) for d in args.distances.split(",")]
    low, high = (float(p) for p in args.dense.split(","))
    rates = truth_rates(args.family, distances, args.noise, args.truth, (low, high), args.workers)
    first, end = (int(s) for s in args.seeds.split(":"))
    studies = []
    for seed in range(first, end):
        qec.auto.collect_into = emulated_collect(rates, np.random.default_rng(seed))
        started = time.monotonic()
        with tempfile.TemporaryDirectory() as folder:
            try:
                result = auto_threshold(
                    args.family,
                    distances=distances,
                    noise=args.noise,
                    store=Path(folder) / "study.db",
                    target_precision=args.target,
                    max_shots_total=args.max_shots_total,
                    max_seconds=None,
                    workers=1,
                )
            except MissingTruth as missing:
                print(f"seed {seed}: the study added d = {missing}; the truth has the study's distances only")
                continue
        study = dict(
            seed=seed,
            stopped_by=result.stopped_by,
            shots=result.shots,
            precision=result.precision,
            p_th=result.study.threshold.p,
            rounds=[(r.stage, r.p_values[0], r.p_values[-1], r.max_errors, r.shots) for r in result.rounds],
            seconds=round(time.monotonic() - started, 1),
        )
        studies.append(study)
        print(json.dumps(study), flush=True)
    shots = sorted(s["shots"] for s in studies)
    summary = dict(
        studies=len(studies),
        stopped_by=dict(Counter(s["stopped_by"] for s in studies)),
        shots_median=shots[len(shots) // 2],
        shots_p90=shots[int(0.9 * len(shots))],
        shots_max=shots[-1],
    )
    print(json.dumps(summary))
    out = Path(__file__).parent / "results" / f"emulate_auto-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(dict(arguments=vars(args) | dict(truth=str(args.truth)), summary=summary, studies=studies), indent=1)
    )


if __name__ == "__main__":
    main()
