"""Seconds of noisy Aer statevector runs on CPU (and GPU where there is one), and batched vs serial ZNE.

1. Noisy statevector: a layered circuit (RY on every qubit, then a CX ladder, `--layers` times) under
   1q/2q depolarizing noise, `--shots` trajectories, at each of `--qubits`; CPU, then GPU when
   qiskit-aer-gpu sees a CUDA device (else a printed note and no GPU rows).
2. ZNE cost: Mitiq ZNE of the TFIM workload (statevector, `--zne-qubits`, scale factors 1,3,...,2k-1)
   with our batched executor (all folded circuits in one Aer call) against the same executor limited to
   one circuit per call (`max_batch_size=1`), same shots and seed.
3. Time outside Aer: `techniques.apply_technique` with ZNE, PEC, LRE and pt+zne on the QAOA workload (non-Clifford,
   one measurement group) at each of `--overhead-qubits`, noisy statevector; the share of its wall time not
   spent in Aer's `run(...).result()` (timed by wrapping `AerSimulator.run`): Mitiq's folding, twirling and
   sampling, conversions, transpilation, counting. Target <= 10%.
4. The primitive (issue 24 point 6): a parameter sweep (`--primitive-points` values of a VQE-like circuit, RY
   layers and CX ladders on `--primitive-qubits`, observable ZZ on neighbours + X on each) as one PUB through
   `qec.mitigation.Estimator` at resilience level 1 (TREX) and with PEA (level 1 + zne amplifier "pea", noise
   learned at the first run and reused at the second, timed one), against the very circuits the Estimator sent to
   Aer (captured from `AerSimulator.run`) run through Aer directly: the overhead outside Aer, (Estimator seconds -
   direct Aer seconds) / direct Aer seconds. Target <= 10%. "same run": (Estimator seconds - its seconds in Aer) /
   its seconds in Aer, steadier on a machine shared with other work, where two Aer runs of the same circuits can
   differ by 20%.

    python bench/bench_aer.py --qubits 20,22,24 --shots 20 --threads 2
    python bench/bench_aer.py --qubits 20 --overhead-qubits 12,20 --overhead-shots 500,2

GPU options (`aer_backend(precision="single", batched_shots_gpu=True)`) are used by `--precision` and
`--batched-shots-gpu` on the GPU rows only; there is no GPU on the machine these figures were taken on.

Prints a table; writes bench/results/bench_aer.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
from mitiq import zne
from mitiq.zne.inference import RichardsonFactory
from mitiq.zne.scaling import fold_global
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.quantum_info import SparsePauliOp
from qiskit_aer import AerSimulator

from qec.mitigation.backends import aer_backend, gpu_available
from qec.mitigation.estimator import Estimator
from qec.mitigation.noise_models import NoiseSpec
from qec.mitigation.techniques import PecOptions, TwirlOptions, apply_technique, get_technique
from qec.mitigation.workloads import Workload, workload

NOISE = NoiseSpec(depolarizing_1q=0.001, depolarizing_2q=0.01)


def layered_circuit(num_qubits: int, layers: int) -> QuantumCircuit:
    """RY(0.3 + 0.1 q) on every qubit then a CX ladder, `layers` times, measured at the end."""
    circuit = QuantumCircuit(num_qubits)
    for _ in range(layers):
        for q in range(num_qubits):
            circuit.ry(0.3 + 0.1 * q, q)
        for q in range(num_qubits - 1):
            circuit.cx(q, q + 1)
    circuit.measure_all()
    return circuit


def time_statevector(
    num_qubits: int, *, layers: int, shots: int, device: str, threads: int, precision: str, batched: bool
) -> float:
    """Seconds for one noisy statevector run of `shots` trajectories."""
    circuit = layered_circuit(num_qubits, layers)
    backend = aer_backend(
        [circuit],
        noise=NOISE,
        device=device,
        method="statevector",
        shots=shots,
        seed=1,
        threads=threads,
        precision=precision if device == "gpu" else "double",
        batched_shots_gpu=batched,
    )
    start = time.perf_counter()
    backend.run([circuit])
    return time.perf_counter() - start


def time_zne(task: Workload, *, scale_factors: tuple[float, ...], shots: int, batch: bool, threads: int) -> dict:
    """Seconds and Aer calls of one ZNE estimate of `task`, batched or one circuit per call."""
    backend = aer_backend(
        [task.circuit], noise=NOISE, device="cpu", method="statevector", shots=shots, seed=1, threads=threads
    )
    executor = backend.executor(task.observable, max_batch_size=1000 if batch else 1)
    start = time.perf_counter()
    value = zne.execute_with_zne(
        task.circuit, executor, factory=RichardsonFactory(scale_factors), scale_noise=fold_global
    )
    return {
        "seconds": time.perf_counter() - start,
        "aer_calls": executor.calls_to_executor,
        "circuits": len(executor.executed_circuits) * task.observable.ngroups,
        "value": float(value),
        "ideal": task.ideal,
    }


class AerClock:
    """Seconds spent in Aer: wraps `AerSimulator.run` so each call waits for its result inside the timing."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.batches: list[tuple[list, dict]] = []  # each call's circuits and keyword arguments
        self._run = AerSimulator.run

    def __enter__(self) -> AerClock:
        clock, run = self, self._run

        def timed_run(simulator, *args, **kwargs):
            start = time.perf_counter()
            clock.batches.append((list(args[0]) if args else [], dict(kwargs)))
            job = run(simulator, *args, **kwargs)
            job.result()  # AerJob keeps its result: the caller's result() returns it at once
            clock.seconds += time.perf_counter() - start
            return job

        AerSimulator.run = timed_run
        return self

    def __exit__(self, *exc) -> None:
        AerSimulator.run = self._run


OVERHEAD_TECHNIQUES = ("zne", "pec", "lre", "pt+zne")


def time_outside_aer(
    num_qubits: int, *, shots: int, threads: int, pec_samples: int = 50, twirl_variants: int = 4
) -> list[dict]:
    """Per technique: wall seconds of `apply_technique` on QAOA(num_qubits), seconds in Aer, and the share outside.

    Fewer shots make Aer's part smaller and the share outside larger: few shots give an upper bound."""
    task = workload("qaoa", qubits=num_qubits)
    backend = aer_backend([task.circuit], noise=NOISE, device="cpu", shots=shots, seed=1, threads=threads)
    apply_technique("none", task, backend=backend, noise=NOISE)  # builds the pass manager once, as any first call does
    rows = []
    parts = PecOptions(samples=pec_samples), TwirlOptions(variants=twirl_variants)
    for technique in OVERHEAD_TECHNIQUES:
        options = get_technique(technique).options_from(*parts)
        with AerClock() as clock:
            start = time.perf_counter()
            estimate = apply_technique(technique, task, backend=backend, noise=NOISE, seed=1, options=options)
            wall = time.perf_counter() - start
        rows.append(
            {
                "technique": technique,
                "qubits": num_qubits,
                "shots": shots,
                "circuits": estimate.circuits,
                "seconds": wall,
                "aer_seconds": clock.seconds,
                "outside_share": 1 - clock.seconds / wall,
            }
        )
    return rows


def vqe_like(num_qubits: int) -> tuple[QuantumCircuit, SparsePauliOp]:
    """Two RY layers (one parameter per qubit each) with a CX ladder after each; ZZ on neighbours + X on each."""
    circuit = QuantumCircuit(num_qubits)
    for layer in range(2):
        for q in range(num_qubits):
            circuit.ry(Parameter(f"t{layer}_{q}"), q)
        for q in range(num_qubits - 1):
            circuit.cx(q, q + 1)
    labels = ["I" * (num_qubits - q - 2) + "ZZ" + "I" * q for q in range(num_qubits - 1)]
    labels += ["I" * (num_qubits - q - 1) + "X" + "I" * q for q in range(num_qubits)]
    return circuit, SparsePauliOp(labels)


def time_primitive(num_qubits: int, *, points: int, threads: int, seed: int = 5) -> list[dict]:
    """Per mode (level 1, PEA): Estimator seconds for one PUB of `points` parameter values, Aer seconds inside it,
    the same circuits through Aer directly, the overhead outside Aer, and how often noise was learned."""
    circuit, observable = vqe_like(num_qubits)
    values = np.random.default_rng(seed).uniform(0, np.pi, size=(points, circuit.num_parameters))
    simulator = AerSimulator(noise_model=NOISE.to_aer(), max_parallel_threads=threads)
    pea = {"zne_mitigation": True, "zne": {"amplifier": "pea"}, "layer_noise_learning": {"num_randomizations": 4}}
    rows = []
    for mode, resilience in (("level 1", {}), ("pea", pea)):
        estimator = Estimator(
            backend=simulator, options={"resilience_level": 1, "seed_estimator": seed, "resilience": resilience}
        )
        learning = []
        if mode == "pea":  # the first run learns the layer noise; the timed second run reuses it
            first = estimator.run([(circuit, observable, values)]).result()[0]
            learning.append(first.metadata["learned_noise_source"])
        with AerClock() as clock:
            start = time.perf_counter()
            result = estimator.run([(circuit, observable, values)]).result()[0]
            seconds = time.perf_counter() - start
        if mode == "pea":
            learning.append(result.metadata["learned_noise_source"])
        direct = time.perf_counter()
        for circuits, kwargs in clock.batches:
            simulator.run(circuits, **kwargs).result()
        direct = time.perf_counter() - direct
        rows.append(
            {
                "mode": mode,
                "qubits": num_qubits,
                "points": points,
                "circuits": result.metadata["circuits"],
                "seconds": seconds,
                "aer_seconds_inside": clock.seconds,
                "direct_aer_seconds": direct,
                "overhead": (seconds - direct) / direct,
                "overhead_same_run": (seconds - clock.seconds) / clock.seconds,
                "learning": learning,
                "models_learned": len(estimator.learned_noise),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--qubits", default="20,22,24", help="comma-separated qubit counts (20-30 in the issue)")
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--shots", type=int, default=20, help="trajectories per statevector run")
    parser.add_argument("--zne-qubits", type=int, default=10)
    parser.add_argument("--zne-scales", type=int, default=5, help="number of odd scale factors 1,3,5,...")
    parser.add_argument("--zne-shots", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=0, help="Aer max_parallel_threads (0: all cores)")
    parser.add_argument("--overhead-qubits", default="12,20", help="qubit counts of the time-outside-Aer rows")
    parser.add_argument("--overhead-shots", default="500,2", help="shots per circuit at each --overhead-qubits")
    parser.add_argument("--overhead-pec-samples", type=int, default=50)
    parser.add_argument("--overhead-twirls", type=int, default=4, help="twirled variants per circuit (pt+zne)")
    parser.add_argument("--primitive-qubits", type=int, default=4)
    parser.add_argument("--primitive-points", type=int, default=10, help="parameter values in the sweep")
    parser.add_argument("--skip-to-primitive", action="store_true", help="run only the primitive rows")
    parser.add_argument("--precision", default="double", choices=["double", "single"], help="GPU rows only")
    parser.add_argument("--batched-shots-gpu", action="store_true", help="Aer's batched_shots_gpu on GPU rows")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "bench_aer.json")
    args = parser.parse_args()

    primitive_rows = time_primitive(args.primitive_qubits, points=args.primitive_points, threads=args.threads)
    print(
        f"Estimator primitive, VQE-like circuit on {args.primitive_qubits} qubits, {args.primitive_points} parameter "
        f"values in one PUB, noise {NOISE.describe()} (overhead outside Aer, target <= 10%):"
    )
    header = ("mode", "circuits", "seconds", "in Aer", "direct", "overhead", "same run")
    print(" ".join(f"{name:>8}" for name in header) + "  learning")
    for row in primitive_rows:
        print(
            f"{row['mode']:>8} {row['circuits']:>8} {row['seconds']:>8.2f} {row['aer_seconds_inside']:>8.2f} "
            f"{row['direct_aer_seconds']:>8.2f} {100 * row['overhead']:>7.1f}% "
            f"{100 * row['overhead_same_run']:>7.1f}%  "
            f"{'/'.join(row['learning']) or '-'} ({row['models_learned']} model learned)"
        )
    if args.skip_to_primitive:
        return
    devices = ["cpu"] + (["gpu"] if gpu_available() else [])
    if len(devices) == 1:
        print("note: no GPU (qiskit-aer-gpu with a CUDA device) here; GPU rows skipped")
    rows = []
    print(f"{'qubits':>6} {'device':>6} {'shots':>6} {'seconds':>9} {'ms/shot':>9}")
    for num_qubits in (int(q) for q in args.qubits.split(",")):
        for device in devices:
            seconds = time_statevector(
                num_qubits,
                layers=args.layers,
                shots=args.shots,
                device=device,
                threads=args.threads,
                precision=args.precision,
                batched=args.batched_shots_gpu,
            )
            rows.append({"qubits": num_qubits, "device": device.upper(), "shots": args.shots, "seconds": seconds})
            print(
                f"{num_qubits:>6} {device.upper():>6} {args.shots:>6} {seconds:>9.3f} "
                f"{1000 * seconds / args.shots:>9.2f}"
            )

    scale_factors = tuple(float(2 * k + 1) for k in range(args.zne_scales))
    task = workload("tfim", qubits=args.zne_qubits)  # one Observable: Mitiq's grouping of its terms can vary
    zne_rows = {
        mode: time_zne(
            task, scale_factors=scale_factors, shots=args.zne_shots, batch=mode == "batched", threads=args.threads
        )
        for mode in ("batched", "serial")
    }
    print(f"\nZNE of TFIM-{args.zne_qubits} energy, scale factors {scale_factors}, {args.zne_shots} shots per circuit:")
    print(f"{'mode':>8} {'aer calls':>9} {'circuits':>8} {'seconds':>8} {'value':>9} {'ideal':>9}")
    for mode, row in zne_rows.items():
        print(
            f"{mode:>8} {row['aer_calls']:>9} {row['circuits']:>8} {row['seconds']:>8.3f} {row['value']:>9.4f} "
            f"{row['ideal']:>9.4f}"
        )
    print(f"serial / batched time: {zne_rows['serial']['seconds'] / zne_rows['batched']['seconds']:.2f}x")

    overhead_rows = []
    qubit_counts = [int(q) for q in args.overhead_qubits.split(",")]
    shot_counts = [int(s) for s in args.overhead_shots.split(",")]
    print(
        f"\nTime outside Aer, QAOA workload, noise {NOISE.describe()}, CPU statevector, PEC "
        f"{args.overhead_pec_samples} samples, pt+zne {args.overhead_twirls} twirls (target <= 10%):"
    )
    print(f"{'technique':>9} {'qubits':>6} {'shots':>6} {'circuits':>8} {'seconds':>8} {'in Aer':>8} {'outside':>8}")
    for num_qubits, shots in zip(qubit_counts, shot_counts):
        rows_here = time_outside_aer(
            num_qubits,
            shots=shots,
            threads=args.threads,
            pec_samples=args.overhead_pec_samples,
            twirl_variants=args.overhead_twirls,
        )
        for row in rows_here:
            overhead_rows.append(row)
            print(
                f"{row['technique']:>9} {num_qubits:>6} {shots:>6} {row['circuits']:>8} {row['seconds']:>8.2f} "
                f"{row['aer_seconds']:>8.2f} {100 * row['outside_share']:>7.1f}%"
            )

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "machine": platform.processor() or platform.machine(),
                "threads": args.threads,
                "layers": args.layers,
                "noise": NOISE.describe(),
                "statevector": rows,
                "zne": zne_rows,
                "outside_aer": overhead_rows,
                "primitive": primitive_rows,
            },
            indent=2,
        )
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
