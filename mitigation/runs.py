"""Whole mitigation runs, one library call per `qec mitigate` command: `mitigate_workload` (a workload's
observable, noisy and with one technique) and `mitigate_logical_memory` (a code's memory experiment on Aer,
its logical error rate noisy, ZNE-mitigated and beside Stim's estimate).

>>> from qec.mitigation import NoiseSpec, mitigate_workload
>>> report = mitigate_workload("ghz", qubits=3, noise=NoiseSpec(readout=0.05), technique="rem", device="cpu",
...                            shots=2000, threads=1)
>>> report.device, report.ideal, abs(report.mitigated - 1) < 0.15
('CPU', 1.0, True)
"""

from __future__ import annotations

import time

from qec import decoders
from qec.mitigation.backends import MAX_BATCH_SIZE, aer_backend, check_host_memory, check_run_options
from qec.mitigation.logical import LOGICAL_ZNE_OPTIONS, LogicalExperiment, check_logical_run, logical_zne
from qec.mitigation.noise_models import NoiseSpec
from qec.mitigation.report import LogicalReport, MitigationReport
from qec.mitigation.techniques import ZneOptions, check_technique, circuits_per_run, mitigate
from qec.mitigation.workloads import workload as make_workload

# Mitiq's MeasurementResult holds each shot as a Python list of ints (8 bytes a bit, 64 a row), and
# our conversion passes through a bool and an int array first.
_RESULT_BYTES_PER_BIT, _RESULT_BYTES_PER_SHOT = 18, 64

# The defaults of each kind of run, which the CLI shows and uses too (logical ZNE: `LOGICAL_ZNE_OPTIONS`).
WORKLOAD_NOISE = NoiseSpec(depolarizing_2q=0.01)
WORKLOAD_ZNE_OPTIONS = ZneOptions()  # Richardson, global folding, scale factors 1, 3, 5
LOGICAL_NOISE = NoiseSpec(depolarizing_2q=0.01, readout=0.01)


def mitigate_workload(
    workload: str,
    *,
    qubits: int = 4,
    noise: NoiseSpec = WORKLOAD_NOISE,
    technique: str = "zne",
    device: str = "auto",
    method: str = "auto",
    shots: int = 4000,
    seed: int = 0,
    zne_options: ZneOptions = WORKLOAD_ZNE_OPTIONS,
    pec_samples: int = 200,
    threads: int = 0,
) -> MitigationReport:
    """Runs `workload` (a name in `WORKLOADS`) on Aer under `noise`, noisy and with `technique` (a name in
    `TECHNIQUES`; see `qec.mitigation.techniques`).

    Everything that could not fit is refused before it is simulated: qubits (`workloads.workload`), shots,
    seed and threads (`backends.check_run_options`), PEC samples and REM qubits (`techniques.check_technique`),
    the state (`backends.check_state_fits`) and the measurement results of one batch of circuits against free
    memory (`backends.check_host_memory`).
    """
    check_technique(technique, noise, pec_samples=pec_samples)  # before any simulation
    check_run_options(shots=shots, seed=seed, threads=threads)
    task = make_workload(workload, qubits=qubits, seed=seed)
    check_technique(technique, noise, qubits=task.circuit.num_qubits, pec_samples=pec_samples)
    backend = aer_backend(
        [task.circuit], noise=noise, device=device, method=method, shots=shots, seed=seed, threads=threads
    )
    batch = min(MAX_BATCH_SIZE, circuits_per_run(technique, zne_options=zne_options, pec_samples=pec_samples))
    results = batch * task.observable.ngroups
    width = task.circuit.num_qubits
    check_host_memory(
        results * shots * (_RESULT_BYTES_PER_BIT * width + _RESULT_BYTES_PER_SHOT),
        what=f"the measurement results of {results:,} circuits x {shots:,} shots x {width:,} bits",
        fix="use fewer shots, qubits or PEC samples",
    )
    noisy = mitigate("none", task, backend=backend, noise=noise)
    start = time.perf_counter()
    estimate = mitigate(
        technique, task, backend=backend, noise=noise, zne_options=zne_options, pec_samples=pec_samples, seed=seed
    )
    return MitigationReport(
        workload,
        technique,
        backend.device,
        backend.method,
        noise.describe(),
        qubits,
        task.ideal,
        noisy.value,
        estimate.value,
        estimate.standard_error,
        estimate.circuits,
        estimate.circuits * shots,
        time.perf_counter() - start,
    )


def mitigate_logical_memory(
    family: str,
    *,
    distance: int = 3,
    rounds: int | None = None,
    noise: NoiseSpec = LOGICAL_NOISE,
    device: str = "auto",
    method: str = "auto",
    shots: int = 2000,
    stim_shots: int = 100_000,
    decoder: str = "pymatching",
    zne_options: ZneOptions = LOGICAL_ZNE_OPTIONS,
    seed: int = 0,
    threads: int = 0,
) -> LogicalReport:
    """Logical error rate of `family`'s memory experiment (a name in `LOGICAL_FAMILIES`) on Aer, beside Stim's
    twirled estimate, then ZNE.

    The observable is <Z_L> = 1 - 2 p_L (ideal 1); `zne_options.scale_factors` start at 1 (the unmitigated run)
    and `zne_options.scaling` is ignored: gates are folded at random (`qec.mitigation.logical.fold_gates`).
    A run that cannot fit is refused before anything is built (`qec.mitigation.logical.check_logical_run`).
    """
    rounds = distance if rounds is None else rounds
    decoders.get(decoder)  # an unknown name fails now, not after the Aer run
    size = LogicalExperiment.size(family, distance=distance, rounds=rounds, noise=noise)
    check_logical_run(
        size,
        noise=noise,
        device=device,
        method=method,
        shots=shots,
        stim_shots=stim_shots,
        scale_factors=zne_options.scale_factors,
        seed=seed,
        threads=threads,
    )
    experiment = LogicalExperiment.build(family, distance=distance, rounds=rounds, noise=noise)
    backend = aer_backend(
        [experiment.qiskit_circuit], noise=noise, device=device, method=method, shots=shots, seed=seed, threads=threads
    )
    start = time.perf_counter()
    zne = logical_zne(experiment, backend, options=zne_options, decoder=decoder)
    seconds = time.perf_counter() - start
    stim = experiment.stim_estimate(shots=stim_shots, decoder=decoder, seed=seed)
    circuits = len(zne.scale_factors)
    mitigation = MitigationReport(
        f"logical-{family}-d{distance}",
        f"zne-{zne_options.factory}",
        backend.device,
        backend.method,
        noise.describe(),
        experiment.qiskit_circuit.num_qubits,
        1.0,
        zne.noisy_expectation,
        zne.mitigated_expectation,
        None,
        circuits,
        circuits * shots,
        seconds,
    )
    return LogicalReport(
        mitigation,
        zne.rates[0].rate,
        zne.rates[0].standard_error,
        zne.mitigated_logical_error_rate,
        stim.rate,
        stim.standard_error,
    )
