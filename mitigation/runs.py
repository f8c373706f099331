"""Whole mitigation runs, one library call per `qec mitigate` command: `mitigate` (the user's circuit and
observable, noisy and with one technique), `mitigate_workload` (a built-in workload's observable) and
`mitigate_logical_memory` (a code's memory experiment on Aer, its logical error rate noisy, ZNE-mitigated and
beside Stim's estimate).

>>> from qec.mitigation import NoiseSpec, mitigate_workload
>>> report = mitigate_workload("ghz", qubits=3, noise=NoiseSpec(readout=0.05), technique="rem", device="cpu",
...                            shots=2000, threads=1)
>>> report.device, report.ideal, abs(report.mitigated - 1) < 0.15
('CPU', 1.0, True)

The user's own circuit (a Qiskit circuit, a circuit Mitiq converts, or a file via `user_circuits.load_circuit`)
and observable (text with qubit 0 leftmost, a `SparsePauliOp` or a Mitiq `Observable`; see `observables`):

>>> from qiskit import QuantumCircuit
>>> from qec.mitigation import mitigate
>>> bell = QuantumCircuit(2, 2)
>>> _ = bell.h(0), bell.cx(0, 1), bell.measure([0, 1], [0, 1])
>>> report = mitigate(bell, "XX + ZZ", noise="p2=0.02", technique="zne", shots=4000, device="cpu", threads=1)
>>> report.ideal, report.noisy < report.mitigated, report.noisy_standard_error < 0.01
(2.0, True, True)
"""

from __future__ import annotations

import dataclasses
import math
import time

from mitiq import Observable
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp
from qiskit_aer import AerSimulator
from qiskit_aer.noise import NoiseModel

from qec import decoders
from qec.errors import QecInputError, unknown_choice
from qec.mitigation.backends import (
    MAX_BATCH_SIZE,
    Backend,
    aer_backend,
    check_host_memory,
    check_instance,
    check_integer,
    check_rem_rates,
    check_run_options,
    choose_method,
    device_and_method,
    shot_noise_floor,
)
from qec.mitigation.logical import (
    LOGICAL_FAMILIES,
    LOGICAL_ZNE_OPTIONS,
    LogicalExperiment,
    check_logical_run,
    check_logical_zne,
    logical_zne,
)
from qec.mitigation.noise_models import NoiseSpec
from qec.mitigation.observables import PauliSum, ideal_value, measure, pauli_sum
from qec.mitigation.report import LogicalReport, MitigationReport
from qec.mitigation.techniques import (
    Estimate,
    Technique,
    ZneOptions,
    apply_technique,
    check_technique,
    depolarizing_representations,
    measured_width,
)
from qec.mitigation.user_circuits import prepare_circuit
from qec.mitigation.workloads import WORKLOADS, Workload
from qec.mitigation.workloads import workload as make_workload

# Mitiq's MeasurementResult holds each shot as a Python list of ints (8 bytes a bit, 64 a row), and
# our conversion passes through a bool and an int array first.
_RESULT_BYTES_PER_BIT, _RESULT_BYTES_PER_SHOT = 18, 64

# The noise of each kind of run, which the CLI shows and uses too (a technique's options default to its
# registry entry's, `techniques.TECHNIQUES`; logical ZNE's to `LOGICAL_ZNE_OPTIONS`).
WORKLOAD_NOISE = NoiseSpec(depolarizing_2q=0.01)
LOGICAL_NOISE = NoiseSpec(depolarizing_2q=0.01, readout=0.01)
# Type and sign checks of a logical run's size only; what fits is `qec.codes`' and `logical.check_logical_run`'s.
MAX_LOGICAL_DISTANCE = MAX_LOGICAL_ROUNDS = 2**62


def mitigate(
    circuit: object,
    observable: str | SparsePauliOp | Observable | PauliSum,
    *,
    noise: NoiseSpec | NoiseModel | str = WORKLOAD_NOISE,
    technique: str | Technique = "zne",
    options: object | None = None,
    device: str = "auto",
    method: str = "auto",
    shots: int = 4000,
    seed: int = 0,
    threads: int = 0,
    name: str = "circuit",
) -> MitigationReport:
    """Estimates `observable` on the user's `circuit` under `noise`, noisy and with `technique`, beside its
    ideal value where that can be computed (`observables.ideal_value`; else the report's ideal is None).

    Args:
        circuit: a Qiskit `QuantumCircuit` (final measurements are removed; see `user_circuits.prepare_circuit`
            for what is refused) or any circuit Mitiq converts (Cirq, ...).
        observable: text such as "ZZII + 0.5*XXXX - 0.2*IYZI" (leftmost letter = qubit 0) or "bitstring:0101",
            a Qiskit `SparsePauliOp` (read by qubit index) or a Mitiq `Observable`; on exactly the circuit's qubits.
        noise: a `NoiseSpec`, its text ("p2=0.01,readout=0.02"; "none": noiseless), a fake IBM backend's name
            ("FakeManilaV2": its noise and coupling map), or an Aer `NoiseModel` of your own, e.g.
            `NoiseModel.from_backend(backend)`: applied to the circuit's qubits as numbered (qubit i is the model's
            qubit i, gates translated to the model's basis gates, no routing), and REM inverts its single-qubit
            readout errors (the mean of the two flip probabilities of each qubit).
        technique: a name in `techniques.TECHNIQUES` or a `techniques.Technique` (`auto`: the report's `detail`
            says what it picked).
        options: the technique's options object (e.g. `ZneOptions(scale_factors=(1, 2, 3))` for zne), None for
            its defaults. The other arguments are `mitigate_workload`'s.

    Raises QecInputError, before anything is simulated, for a file-less circuit that cannot be folded, an
    observable that does not fit the circuit, PEC under a fake backend or a `NoiseModel` (no depolarizing rates
    to represent), and everything `mitigate_workload` refuses.
    """
    entry = check_technique(technique, NoiseSpec(), options=options)
    check_run_options(shots=shots, seed=seed, threads=threads)
    check_instance(name, str, name="name", fix="give the circuit's name as text, e.g. 'circuit'")
    spec, model = _noise(noise)
    if model is not None and entry.needs_depolarizing_rates:
        raise QecInputError(
            f"{entry.name} builds its representations from depolarizing rates (p1, p2), and an Aer NoiseModel gives "
            f"none: use zne, rem or rem+zne with a NoiseModel, or give the noise as rates for {entry.name}"
        )
    prepared = prepare_circuit(circuit)
    paulis = pauli_sum(observable, num_qubits=prepared.num_qubits)
    if all(set(label) == {"I"} for label, _ in paulis.terms):  # Mitiq would measure an empty set of qubits
        raise QecInputError(
            f"observable {paulis.describe()!r} is a multiple of the identity, whose value needs no circuit: give a "
            "term with X, Y or Z on some qubit"
        )
    check_technique(
        entry, spec, qubits=prepared.num_qubits, options=options, measured=measured_width(paulis.to_mitiq())
    )
    notes: tuple[str, ...] = ()
    if model is None:
        backend = aer_backend(
            [prepared], noise=spec, device=device, method=method, shots=shots, seed=seed, threads=threads
        )
        noise_text = spec.describe()
    else:
        backend = _model_backend(
            prepared,
            model,
            entry.readout_corrected,
            measured=measured_width(paulis.to_mitiq()),
            device=device,
            method=method,
            shots=shots,
            seed=seed,
            threads=threads,
        )
        noise_text = f"Aer NoiseModel on {', '.join(sorted(model.noise_instructions)) or 'no gates'}"
        noiseless = backend.gates_without_error(prepared)
        if noiseless:
            notes = (f"the NoiseModel has no error for {', '.join(noiseless)}: those gates run noiseless",)
    ideal = ideal_value(prepared, paulis)
    # apply_technique reads the workload's circuit and observable only; NaN stands for an unknown ideal there.
    task = Workload(name, prepared, paulis.to_mitiq(), math.nan if ideal is None else ideal)
    return _report(
        task,
        paulis,
        ideal,
        backend=backend,
        noise=spec,
        noise_text=noise_text,
        technique=entry,
        options=options,
        shots=shots,
        seed=seed,
        observable_text=paulis.describe() if not isinstance(observable, str) else observable.strip(),
        notes=notes,
    )


def mitigate_workload(
    workload: str,
    *,
    qubits: int = 4,
    noise: NoiseSpec = WORKLOAD_NOISE,
    technique: str | Technique = "zne",
    options: object | None = None,
    device: str = "auto",
    method: str = "auto",
    shots: int = 4000,
    seed: int = 0,
    threads: int = 0,
) -> MitigationReport:
    """Runs `workload` (a name in `WORKLOADS`) on Aer under `noise`, noisy and with `technique` (a name in
    `TECHNIQUES` or a `Technique`; see `qec.mitigation.techniques`) with `options`, its options object (None: its
    defaults; e.g. `PecOptions(samples=500)` for pec).

    Everything that could not fit is refused before it is simulated: the options (when they are built), qubits
    (`workloads.workload`), shots, seed and threads (`backends.check_run_options`), options of another technique
    and REM qubits (`techniques.check_technique`),
    the state (`backends.check_state_fits`) and the measurement results of one batch of circuits against free
    memory (`backends.check_host_memory`).
    """
    if not isinstance(workload, str) or workload not in WORKLOADS:
        raise unknown_choice("workload", workload, WORKLOADS)
    check_instance(noise, NoiseSpec, name="noise", fix="give e.g. NoiseSpec(depolarizing_2q=0.01)")
    entry = check_technique(technique, noise, options=options)  # before simulating
    check_run_options(shots=shots, seed=seed, threads=threads)
    task = make_workload(workload, qubits=qubits, seed=seed)
    check_technique(
        entry, noise, qubits=task.circuit.num_qubits, options=options, measured=measured_width(task.observable)
    )
    backend = aer_backend(
        [task.circuit], noise=noise, device=device, method=method, shots=shots, seed=seed, threads=threads
    )
    paulis = PauliSum.from_mitiq(task.observable, num_qubits=task.circuit.num_qubits)
    # Mitiq's Observable groups its terms after a random shuffle; our groups are fixed, so a seed fixes the run.
    task = dataclasses.replace(task, observable=paulis.to_mitiq())
    return _report(
        task,
        paulis,
        task.ideal,
        backend=backend,
        noise=noise,
        noise_text=noise.describe(),
        technique=entry,
        options=options,
        shots=shots,
        seed=seed,
        observable_text=None,
    )


def _report(
    task: Workload,
    paulis: PauliSum,
    ideal: float | None,
    *,
    backend: Backend,
    noise: NoiseSpec,
    noise_text: str,
    technique: Technique,
    options: object | None,
    shots: int,
    seed: int,
    observable_text: str | None,
    notes: tuple[str, ...] = (),
) -> MitigationReport:
    """The noisy value (`observables.measure`: shot-noise standard error, deterministic groups) and `technique`'s
    estimate of `task` on `backend`, after the measurement records of one batch are checked against free memory."""
    options = technique.checked_options(options)
    batch = min(MAX_BATCH_SIZE, technique.circuits(options))
    results = batch * task.observable.ngroups
    width = task.circuit.num_qubits
    check_host_memory(
        results * shots * (_RESULT_BYTES_PER_BIT * width + _RESULT_BYTES_PER_SHOT),
        what=f"the measurement results of {results:,} circuits x {shots:,} shots x {width:,} bits",
        fix="use fewer shots, qubits or PEC samples",
    )
    noisy = measure(backend, task.circuit, paulis)
    # Shots that all agree have a sample variance of 0; the bar is floored as the executor's are.
    noisy = dataclasses.replace(
        noisy, standard_error=max(noisy.standard_error, shot_noise_floor(task.observable, backend.shots))
    )
    start = time.perf_counter()
    if technique.name == "none":  # the noisy run is the unmitigated estimate: not run twice
        estimate = Estimate(noisy.value, noisy.standard_error, noisy.circuits, 1)
    else:
        estimate = apply_technique(technique, task, backend=backend, noise=noise, options=options, seed=seed)
    return MitigationReport(
        task.name,
        technique.name,
        backend.device,
        backend.method,
        noise_text,
        width,
        ideal,
        noisy.value,
        estimate.value,
        estimate.standard_error,
        estimate.circuits,
        estimate.circuits * shots,
        time.perf_counter() - start,
        noisy_standard_error=noisy.standard_error,
        sampling_overhead=pec_sampling_overhead(task.circuit, noise) if technique.name == "pec" else None,
        observable=observable_text,
        detail=estimate.detail,
        options=options,
        systematic_error=estimate.systematic_error,
        systematic_fits=estimate.systematic_fits,
        warnings=notes + estimate.warnings,
    )


def pec_sampling_overhead(circuit: QuantumCircuit, noise: NoiseSpec) -> float:
    """gamma^2 of PEC on `circuit` under `noise`: gamma is the product over the circuit's gates of the one-norm of
    each gate's quasi-probability representation (`techniques.depolarizing_representations`), and PEC needs
    gamma^2 times the shots of an unmitigated estimate for the same standard error.

    >>> circuit = QuantumCircuit(2)
    >>> _ = circuit.h(0), circuit.cx(0, 1), circuit.cx(0, 1)
    >>> round(pec_sampling_overhead(circuit, NoiseSpec(depolarizing_2q=0.01)), 4)  # (1.0202)^(2*2)
    1.0833
    """
    from mitiq.interface import convert_to_mitiq

    norms = {len(r.ideal.all_qubits()): r.norm for r in depolarizing_representations(circuit, noise)}
    mitiq_circuit, _ = convert_to_mitiq(circuit)
    gamma = math.prod(norms.get(len(operation.qubits), 1.0) for operation in mitiq_circuit.all_operations())
    return gamma**2


def _noise(noise: NoiseSpec | NoiseModel | str) -> tuple[NoiseSpec, NoiseModel | None]:
    """The spec the techniques see and the user's own Aer model, if that is what `noise` is.

    Text with '=' is `NoiseSpec.parse`'s, "none" or "" noiseless, any other word a fake IBM backend's name.
    """
    if isinstance(noise, NoiseModel):
        return NoiseSpec(), noise
    if isinstance(noise, NoiseSpec):
        return noise, None
    if isinstance(noise, str):
        text = noise.strip()
        if text in ("", "none"):
            return NoiseSpec(), None
        return (NoiseSpec.parse(text) if "=" in text else NoiseSpec(fake_backend=text)), None
    raise QecInputError(
        f"noise must be a NoiseSpec, its text (e.g. 'p2=0.01'), a fake backend's name (e.g. 'FakeManilaV2') or an "
        f"Aer NoiseModel, got {type(noise).__name__}"
    )


def _model_backend(
    circuit: QuantumCircuit,
    model: NoiseModel,
    readout_corrected: bool,
    *,
    device: str,
    method: str,
    shots: int,
    seed: int,
    threads: int,
    measured: int = 1,
) -> Backend:
    """An Aer backend with the user's `model`, method and device chosen and checked as `aer_backend` does (the
    stabilizer method is not chosen: the model's channels are not known to be Pauli)."""
    n = circuit.num_qubits
    chosen = method if method != "auto" else choose_method(n, clifford=False, noisy=not model.is_ideal())
    aer_device, chosen = device_and_method(
        n, noise=None, device=device, method=chosen, stabilizer_ok=False, mid_circuit=False
    )
    simulator = AerSimulator(method=chosen, device=aer_device, max_parallel_threads=threads, noise_model=model)
    readout = model_readout_rates(model, n) if readout_corrected else None
    if readout is not None and any(readout):  # the worst `measured` qubits, before anything runs
        worst = sorted(range(n), key=lambda q: -readout[q])[:measured]
        check_rem_rates([readout[q] for q in worst], qubits=worst)
    return Backend(simulator, aer_device, chosen, shots, seed, readout)


def model_readout_rates(model: NoiseModel, num_qubits: int) -> tuple[float, ...]:
    """Per qubit 0 .. num_qubits - 1, the probability that an Aer `model`'s readout error flips its bit: the mean of
    its two flip probabilities (REM here inverts symmetric flips); 0 where it has none.

    >>> from qiskit_aer.noise import ReadoutError
    >>> model = NoiseModel()
    >>> model.add_readout_error(ReadoutError([[0.98, 0.02], [0.04, 0.96]]), [1])
    >>> model_readout_rates(model, 3)
    (0.0, 0.03, 0.0)
    """
    rates = [0.0] * num_qubits
    local: dict[int, float] = {}
    for error in model.to_dict()["errors"]:
        if error["type"] != "roerror":
            continue
        probabilities = error["probabilities"]
        if len(probabilities) != 2:
            raise QecInputError(
                "the NoiseModel has a correlated multi-qubit readout error, which REM here cannot invert (it "
                "inverts each qubit's own flips): use zne, or a model with single-qubit readout errors"
            )
        rate = (float(probabilities[0][1]) + float(probabilities[1][0])) / 2
        if "gate_qubits" in error:
            for (qubit,) in error["gate_qubits"]:
                local[int(qubit)] = rate
        else:
            rates = [rate] * num_qubits
    for qubit, rate in local.items():
        if qubit < num_qubits:
            rates[qubit] = rate
    return tuple(rates)


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
    A run that cannot fit, or ZNE options it cannot use, are refused before anything is built
    (`qec.mitigation.logical.check_logical_zne` and `check_logical_run`).
    """
    if not isinstance(family, str) or family not in LOGICAL_FAMILIES:  # "for logical runs": qec.codes has more
        raise QecInputError(f"unknown family {family!r} for logical runs: choose one of {', '.join(LOGICAL_FAMILIES)}")
    check_instance(noise, NoiseSpec, name="noise", fix="give e.g. NoiseSpec(depolarizing_2q=0.01)")
    check_logical_zne(zne_options)
    check_integer(distance, name="distance", low=1, high=MAX_LOGICAL_DISTANCE, fix="give e.g. 3")
    if rounds is not None:
        check_integer(
            rounds, name="rounds", low=1, high=MAX_LOGICAL_ROUNDS, fix="give e.g. 3, or None for the distance"
        )
    rounds = distance if rounds is None else rounds
    if not isinstance(decoder, str):
        raise unknown_choice("decoder", decoder, decoders.names())
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
        zne.standard_error,
        circuits,
        circuits * shots,
        seconds,
        noisy_standard_error=2 * zne.rates[0].standard_error,
        options=zne_options,
    )
    return LogicalReport(
        mitigation,
        zne.rates[0].rate,
        zne.rates[0].standard_error,
        zne.mitigated_logical_error_rate,
        stim.rate,
        stim.standard_error,
        logical_error_rate_mitigated_standard_error=zne.mitigated_logical_error_rate_standard_error,
    )
