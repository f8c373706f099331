"""One library call per job: `run` (a workload, a technique) and `run_logical` (a memory experiment, ZNE).

>>> from qec.mitigation import NoiseSpec, run
>>> report = run("ghz", qubits=3, noise=NoiseSpec(readout=0.05), technique="rem", device="cpu", shots=2000, threads=1)
>>> report.device, report.ideal, abs(report.mitigated - 1) < 0.15
('CPU', 1.0, True)
"""

from __future__ import annotations

import time

from qec.mitigation.backends import aer_backend
from qec.mitigation.logical import LogicalExperiment, logical_zne
from qec.mitigation.noise_models import NoiseSpec
from qec.mitigation.report import LogicalReport, MitigationReport
from qec.mitigation.techniques import ZneOptions, check_technique, mitigate
from qec.mitigation.workloads import workload as make_workload


def run(workload: str, *, qubits: int = 4, noise: NoiseSpec = NoiseSpec(depolarizing_2q=0.01),
        technique: str = "zne", device: str = "auto", method: str = "auto", shots: int = 4000, seed: int = 0,
        zne_options: ZneOptions = ZneOptions(), pec_samples: int = 200, threads: int = 0) -> MitigationReport:
    """Runs `workload` on Aer under `noise`, noisy and with `technique`; see `qec.mitigation.techniques`."""
    check_technique(technique, noise)  # before any simulation
    task = make_workload(workload, qubits=qubits, seed=seed)
    backend = aer_backend([task.circuit], noise=noise, device=device, method=method, shots=shots, seed=seed,
                          threads=threads)
    noisy = mitigate("none", task, backend=backend, noise=noise)
    start = time.perf_counter()
    estimate = mitigate(technique, task, backend=backend, noise=noise, zne_options=zne_options,
                        pec_samples=pec_samples, seed=seed)
    return MitigationReport(workload, technique, backend.device, backend.method, noise.describe(), qubits, task.ideal,
                            noisy.value, estimate.value, estimate.standard_error, estimate.circuits,
                            estimate.circuits * shots, time.perf_counter() - start)


def run_logical(family: str, *, distance: int = 3, rounds: int | None = None,
                noise: NoiseSpec = NoiseSpec(depolarizing_2q=0.01, readout=0.01), device: str = "auto",
                method: str = "auto", shots: int = 2000, stim_shots: int = 100_000, decoder: str = "pymatching",
                zne_options: ZneOptions = ZneOptions(scale_factors=(1.0, 1.5, 2.0)), seed: int = 0,
                threads: int = 0) -> LogicalReport:
    """Logical error rate of `family`'s memory experiment on Aer, beside Stim's twirled estimate, then ZNE.

    The observable is <Z_L> = 1 - 2 p_L (ideal 1); `zne_options.scale_factors` start at 1 (the unmitigated run)
    and `zne_options.scaling` is ignored: gates are folded at random (`qec.mitigation.logical.fold_gates`).
    """
    experiment = LogicalExperiment.build(family, distance=distance, rounds=distance if rounds is None else rounds,
                                         noise=noise)
    backend = aer_backend([experiment.qiskit_circuit], noise=noise, device=device, method=method, shots=shots,
                          seed=seed, threads=threads)
    start = time.perf_counter()
    zne = logical_zne(experiment, backend, options=zne_options, decoder=decoder)
    seconds = time.perf_counter() - start
    stim = experiment.stim_estimate(shots=stim_shots, decoder=decoder, seed=seed)
    circuits = len(zne.scale_factors)
    mitigation = MitigationReport(f"logical-{family}-d{distance}", f"zne-{zne_options.factory}", backend.device,
                                  backend.method, noise.describe(), experiment.qiskit_circuit.num_qubits, 1.0,
                                  zne.noisy_expectation, zne.mitigated_expectation, None, circuits, circuits * shots,
                                  seconds)
    return LogicalReport(mitigation, zne.rates[0].rate, zne.rates[0].standard_error, zne.mitigated_logical_error_rate,
                         stim.rate, stim.standard_error)
