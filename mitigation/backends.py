"""Aer simulators behind one batched Mitiq `Executor`: device and method choice, and whether the state fits.

`aer_backend(...)` picks the device (`"auto"`: the GPU when qiskit-aer-gpu sees a CUDA device, else the
CPU; `"gpu"` with no GPU is an error), the method (see `choose_method`) and refuses, before allocating, a
circuit whose state would not fit (`check_state_fits`: Aer's qubit limit for the method, then the
state's bytes against the device's free memory). `check_host_memory` is the same refusal for what a run
holds on the host besides the state (measurement records, REM matrices), and `check_run_options` bounds
shots, seed and threads. `Backend.run` returns Mitiq `MeasurementResult`s, `Backend.measurement_records`
each shot's bits in order (for decoding). `Backend.executor()` is a Mitiq `Executor` whose function
measures every circuit of a batch in each group of an observable, sends them all to Aer in one `run` call
and returns the observable's expectation per circuit.

With `NoiseSpec.fake_backend` set the simulator is that IBM device's (`AerSimulator.from_backend`):
circuits are transpiled onto it (trivial layout, routed with the backend's seed), and `Backend.readout_errors`
holds each physical qubit's calibrated readout flip rate, which `readout_rates` hands to REM.

>>> from qiskit import QuantumCircuit
>>> from qec.mitigation.backends import aer_backend
>>> from qec.mitigation.noise_models import NoiseSpec, fake_backend
>>> circuit = QuantumCircuit(2)
>>> _ = circuit.h(0), circuit.cx(0, 1)
>>> backend = aer_backend([circuit], noise=NoiseSpec(depolarizing_2q=0.01), device="cpu", shots=100, seed=1)
>>> backend.device, backend.method
('CPU', 'density_matrix')
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import math
import numbers
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

import mitiq
import numpy as np
from mitiq import MeasurementResult, Observable, rem
from mitiq.interface import convert_from_mitiq
from mitiq.observable.pauli import PauliStringCollection
from qiskit import ClassicalRegister, QuantumCircuit
from qiskit.transpiler import PassManager, generate_preset_pass_manager
from qiskit_aer import AerSimulator

from qec.errors import QecInputError, unknown_choice
from qec.mitigation.noise_models import NoiseSpec, fake_backend, fake_readout_errors, gates_without_error
from qec.text import approximate, shown_integer

DEVICES = ("auto", "cpu", "gpu")
METHODS = ("auto", "statevector", "density_matrix", "stabilizer")
PRECISIONS = ("double", "single")
CLIFFORD_GATES = frozenset(
    {"id", "x", "y", "z", "h", "s", "sdg", "sx", "sxdg", "cx", "cy", "cz", "swap", "measure", "reset", "barrier"}
)
DENSITY_MATRIX_MAX_QUBITS = 10  # beyond this, statevector trajectories are cheaper than a 4^n matrix
_BYTES_PER_AMPLITUDE = 16  # complex128
# Aer's stabilizer method holds at most 10,000 qubits (AerSimulator(method="stabilizer").num_qubits), and
# the other methods far fewer (their states grow as 2^n or 4^n): no circuit beyond this can run on Aer.
AER_MAX_QUBITS = 10_000
# Shots per circuit. At 10^7 the shot noise (3e-4) is below the bias of any technique here, and every shot's
# bits pass through Python lists (Mitiq's MeasurementResult); Aer takes hours for 10^7 shots of a
# mid-circuit-measured (logical) circuit.
MAX_SHOTS = 10_000_000
MAX_THREADS = 1024  # Aer's max_parallel_threads; 0 means all cores
MAX_SEED = 2**32 - 1  # NumPy's RandomState (Mitiq's PEC and CDR sampling) takes 32-bit seeds
MAX_BATCH_SIZE = 1000  # circuits per executor call (Mitiq splits larger batches)
# REM: the inverse of a symmetric confusion matrix [[1-p, p], [p, 1-p]] multiplies each bit's parity by 1/(1-2p),
# so shot noise grows by the product over the measured bits (the matrix's condition number); at p = 0.5 it is
# singular. Beyond 1000x, 10^7 shots leave an error bar of 0.3 on a Pauli's value: no estimate is left.
MAX_REM_AMPLIFICATION = 1000.0


@contextlib.contextmanager
def numpy_global_seed(seed: int | Sequence[int] | None):
    """Seeds NumPy's global generator (`np.random`, which parts of Mitiq draw from unseeded: REM's resampling,
    CDR's choice between two equally near Clifford angles) for the block and restores its state afterwards;
    None leaves it alone.

    >>> with numpy_global_seed((7, 0)):
    ...     a = np.random.random()
    >>> with numpy_global_seed((7, 0)):
    ...     b = np.random.random()
    >>> a == b
    True
    """
    if seed is None:
        yield
        return
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


class AerExecutor(mitiq.Executor):
    """Mitiq's `Executor` around `Backend.executor`'s batched function, which also records the shot-noise
    standard error of each executed circuit's expectation in `standard_errors` (aligned with
    `executed_circuits`)."""

    def __init__(self, function, standard_errors: list[float], *, max_batch_size: int):
        super().__init__(function, max_batch_size=max_batch_size)
        self.standard_errors = standard_errors


@dataclass(frozen=True)
class Backend:
    """An Aer simulator with its noise, device, method and shots per circuit."""

    simulator: AerSimulator
    device: str  # "CPU" or "GPU"
    method: str
    shots: int
    seed: int | None
    readout_errors: tuple[float, ...] | None = None  # per physical qubit, for a fake IBM backend

    def readout_rates(self, noise: NoiseSpec | None) -> float | tuple[float, ...]:
        """The readout flip rates REM should invert: the fake device's per-qubit ones, else `noise.readout`."""
        if self.readout_errors is not None:
            return self.readout_errors
        return 0.0 if noise is None else noise.readout

    def gates_without_error(self, circuit: QuantumCircuit) -> tuple[str, ...]:
        """The gates of `circuit`, compiled as this backend runs it, that its Aer noise model gives no error
        (`noise_models.gates_without_error`); () without a noise model."""
        model = self.simulator.options.noise_model
        if model is None:
            return ()
        return gates_without_error(model, self._compile([circuit])[0])

    def run(self, circuits: Sequence[QuantumCircuit]) -> list[MeasurementResult]:
        """Runs all `circuits` in one Aer call; bit j of each result is the j-th classical bit.

        Each result's `qubit_indices` names the qubit each bit measured, as Mitiq's observables expect.
        """
        return self._run(circuits)[0]

    def measurement_records(self, circuits: Sequence[QuantumCircuit]) -> list[np.ndarray]:
        """Runs all `circuits` in one Aer call; each one's measurement record, shot by shot: a bool array of
        shape (shots, num_clbits), column j = clbit j (Aer's per-shot `memory`)."""
        compiled = self._compile(circuits)
        result = self.simulator.run(compiled, shots=self.shots, seed_simulator=self.seed, memory=True).result()
        return [_bit_array(result.get_memory(i)) for i in range(len(circuits))]

    def executor(
        self, observable: Observable, *, readout: float | Sequence[float] = 0.0, max_batch_size: int = MAX_BATCH_SIZE
    ) -> AerExecutor:
        """A batched Mitiq `Executor` returning <observable> for each circuit (which has no measurements): a
        Qiskit circuit, or a Cirq one (Mitiq's own form; converted to Qiskit here, the cheap direction, so a
        technique can convert its circuit to Cirq once and have Mitiq fold, twirl or sample it without
        converting each new circuit back and forth).

        Every qubit of a circuit must carry a gate: Mitiq numbers the qubits it sees from 0.

        All circuits of a batch, each measured in every one of the observable's groups (as Mitiq's
        `Observable.measure_in` does, in Qiskit: `_measured_in`), go to Aer in one call. `readout` > 0 applies
        Mitiq's readout-error mitigation (`rem.mitigate_measurements` with `rem.generate_inverse_confusion_matrix`
        for symmetric flips at that rate) to each group's measurements; a sequence of rates, one per physical
        qubit of the device (`readout_rates` of a fake backend), uses `rem.generate_tensored_inverse_confusion_matrix`
        with each measured bit's own rate, the bit's qubit read from the transpiled circuit.
        Expectations are taken here, not in Mitiq's `Executor.evaluate`, whose Mitiq 1.1 version mixes up
        the groups of different circuits in a batch.

        The executor's `standard_errors` holds, for each executed circuit in order, the shot-noise standard
        error of its expectation (`_group_value_and_error` per group, groups independent); with REM, that of
        the linear inverse (each Pauli's parity divided by prod(1 - 2 p) over its bits) plus Mitiq's resampling.
        Mitiq resamples from NumPy's global generator; here it is seeded from the backend's seed and the group's
        place in the executor's run (`numpy_global_seed`), so a seed fixes REM's value.
        """
        groups = observable.groups
        per_qubit = not isinstance(readout, (int, float))
        rates = tuple(float(rate) for rate in readout) if not isinstance(readout, (int, float)) else ()
        symmetric = float(readout) if isinstance(readout, (int, float)) else 0.0

        standard_errors: list[float] = []
        draws = itertools.count()  # REM's resampling: the k-th group measured draws from (seed, k)

        def expectations(circuits: Sequence[QuantumCircuit]) -> list[float]:
            measured = [_measured_in(_as_qiskit(circuit), group) for circuit in circuits for group in groups]
            tallies, physical = self._run_tallies(measured)
            values, variances = [], []
            for group, tally, qubits in zip(groups * len(circuits), tallies, physical):
                if per_qubit and any(rates) or not per_qubit and symmetric > 0:
                    flips = tuple(rates[q] for q in qubits) if per_qubit else (symmetric,) * len(qubits)
                    check_rem_rates(flips, qubits=qubits)
                    inverse = (
                        _tensored_inverse(rates, qubits)
                        if per_qubit
                        else rem.generate_inverse_confusion_matrix(len(qubits), symmetric, symmetric)
                    )
                    with numpy_global_seed(None if self.seed is None else (self.seed, next(draws))):
                        corrected = _Tally.of(rem.mitigate_measurements(tally.measurement_result(), inverse))
                    value, error = _group_value_and_error(group, corrected)
                    linear_error = _group_value_and_error(group, tally, flips)[1]
                    variance = error**2 + linear_error**2
                else:
                    value, error = _group_value_and_error(group, tally)
                    variance = error**2
                values.append(value)
                variances.append(variance)
            step = len(groups)
            standard_errors.extend(math.sqrt(sum(variances[i : i + step])) for i in range(0, len(values), step))
            return [sum(values[i : i + step]) for i in range(0, len(values), step)]

        return AerExecutor(expectations, standard_errors, max_batch_size=max_batch_size)

    def _compile(self, circuits: Sequence[QuantumCircuit]) -> list[QuantumCircuit]:
        """The circuits transpiled, unoptimized, for the simulator (onto the device for a fake backend)."""
        return self._pass_manager.run(list(circuits))

    @functools.cached_property
    def _pass_manager(self) -> PassManager:
        """`transpile`'s pass manager at optimization level 0 for the simulator, built once per backend (building
        it reads the simulator's target, ~0.1 s, which `transpile` would redo at every call)."""
        return generate_preset_pass_manager(optimization_level=0, backend=self.simulator, seed_transpiler=self.seed)

    def _run_tallies(self, circuits: Sequence[QuantumCircuit]) -> tuple[list[_Tally], list[tuple[int, ...]]]:
        """Like `_run`, as tallies of distinct outcomes (no per-shot Python lists)."""
        compiled = self._compile(circuits)
        result = self.simulator.run(compiled, shots=self.shots, seed_simulator=self.seed).result()
        tallies = [_Tally.from_counts(circuit, result.get_counts(i)) for i, circuit in enumerate(circuits)]
        return tallies, [_measured_qubits(circuit) for circuit in compiled]

    def _run(self, circuits: Sequence[QuantumCircuit]) -> tuple[list[MeasurementResult], list[tuple[int, ...]]]:
        """`run`'s results, and for each the physical qubit (of the transpiled circuit) behind each bit."""
        compiled = self._compile(circuits)
        result = self.simulator.run(compiled, shots=self.shots, seed_simulator=self.seed).result()
        results = [_measurement_result(circuit, result.get_counts(i)) for i, circuit in enumerate(circuits)]
        return results, [_measured_qubits(circuit) for circuit in compiled]


def check_rem_rates(rates: Sequence[float], *, qubits: Sequence[int] | None = None) -> None:
    """Refuses (QecInputError) readout flip rates whose confusion matrix REM cannot usefully invert: a rate of 0.5
    or more (the matrix is singular there; above, the bits mean nothing), or a product of 1/(1 - 2p) over the
    measured bits (the condition number, by which REM multiplies shot noise) beyond `MAX_REM_AMPLIFICATION`.
    `qubits`: the qubit of each rate, for the message (default 0, 1, ...).

    >>> check_rem_rates([0.5, 0.0])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    qec.errors.QecInputError: qubit 0 misreads with probability 0.5: its confusion matrix is singular, so REM ...
    """
    names = range(len(rates)) if qubits is None else qubits
    amplification = 1.0
    for qubit, rate in zip(names, rates):
        if not 0 <= rate < 0.5:
            singular = "its confusion matrix is singular" if rate == 0.5 else "which is beyond 0.5"
            raise QecInputError(
                f"qubit {qubit} misreads with probability {rate:g}: {singular}, so REM has no estimate to give "
                "(it needs rates < 0.5): use a technique without REM, or noise whose readout error is below 0.5"
            )
        amplification /= 1 - 2 * rate
    if amplification > MAX_REM_AMPLIFICATION:
        raise QecInputError(
            f"readout errors of {approximate_rates(rates)} on {len(rates)} measured qubits make REM multiply shot "
            f"noise by {amplification:.4g} (the confusion matrix is near-singular; the limit is "
            f"{MAX_REM_AMPLIFICATION:g}x): use a technique without REM, fewer qubits, or less readout error"
        )


def approximate_rates(rates: Sequence[float]) -> str:
    """The rates as text: one value when all are equal, else their range.

    >>> approximate_rates([0.1, 0.1]), approximate_rates([0.1, 0.3, 0.2])
    ('0.1', '0.1 to 0.3')
    """
    low, high = min(rates), max(rates)
    return f"{low:g}" if low == high else f"{low:g} to {high:g}"


def aer_backend(
    circuits: Sequence[QuantumCircuit],
    *,
    noise: NoiseSpec | None,
    device: str = "auto",
    method: str = "auto",
    shots: int = 4000,
    seed: int | None = None,
    threads: int = 0,
    precision: str = "double",
    batched_shots_gpu: bool = False,
) -> Backend:
    """An Aer backend fit for `circuits` under `noise` (None: noiseless).

    Args:
        circuits: the circuits it will run (they decide the method and the memory needed).
        device: "auto", "cpu" or "gpu".
        method: "auto" or one of Aer's "statevector", "density_matrix", "stabilizer".
        shots: shots per circuit, 1 to `MAX_SHOTS`.
        seed: None or 0 to `MAX_SEED`.
        threads: Aer's max_parallel_threads, 0 (all cores) to `MAX_THREADS`.
        precision: "double" (complex128 amplitudes) or "single" (complex64: half the memory, faster on a GPU).
        batched_shots_gpu: on the GPU, Aer's `batched_shots_gpu` (noise trajectories of many shots run as one
            batch: for many small noisy circuits); ignored on the CPU.

    With `noise.fake_backend` set, the simulator is `AerSimulator.from_backend` of that fake IBM device:
    circuits are transpiled to its gates and coupling map, and get its calibrated noise.

    Raises QecInputError for an unknown device or method, "gpu" with no GPU, a stabilizer method for a
    non-Clifford circuit or non-Pauli noise (or on the GPU), too many qubits for the method on the
    device's free memory, or shots, seed or threads out of range.
    """
    check_run_options(shots=shots, seed=seed, threads=threads)
    num_qubits = max(circuit.num_qubits for circuit in circuits)
    stabilizer_ok = (noise is None or noise.is_pauli) and all(is_clifford(circuit) for circuit in circuits)
    mid_circuit = any(i.operation.name == "reset" for circuit in circuits for i in circuit.data)
    aer_device, chosen = device_and_method(
        num_qubits, noise=noise, device=device, method=method, stabilizer_ok=stabilizer_ok, mid_circuit=mid_circuit
    )
    if precision not in PRECISIONS:
        raise unknown_choice("precision", precision, PRECISIONS)
    options: dict[str, object] = {
        "method": chosen,
        "device": aer_device,
        "max_parallel_threads": threads,
        "precision": precision,
    }
    if aer_device == "GPU" and batched_shots_gpu:
        options["batched_shots_gpu"] = True
    if noise is not None and noise.fake_backend is not None:
        device_backend = fake_backend(noise.fake_backend)
        if num_qubits > device_backend.num_qubits:
            raise QecInputError(
                f"{num_qubits} qubits do not fit on {noise.fake_backend}, which has "
                f"{device_backend.num_qubits}: use at most {device_backend.num_qubits} qubits "
                "or a larger fake backend"
            )
        simulator = AerSimulator.from_backend(device_backend, **options)
        return Backend(simulator, aer_device, chosen, shots, seed, fake_readout_errors(device_backend))
    simulator = AerSimulator(**options, **({} if noise is None else {"noise_model": noise.to_aer()}))
    return Backend(simulator, aer_device, chosen, shots, seed)


def device_and_method(
    num_qubits: int, *, noise: NoiseSpec | None, device: str, method: str, stabilizer_ok: bool, mid_circuit: bool
) -> tuple[str, str]:
    """Aer's device ("CPU" or "GPU") and method for circuits of `num_qubits` qubits, checked to fit
    (`check_state_fits`) before anything is built or allocated.

    `stabilizer_ok`: the circuits are Clifford and the noise Pauli; `mid_circuit`: they reset (so measure)
    mid-circuit. Raises QecInputError as `aer_backend` describes.

    >>> device_and_method(12, noise=None, device="cpu", method="auto", stabilizer_ok=True, mid_circuit=True)
    ('CPU', 'stabilizer')
    """
    if not isinstance(device, str) or device not in DEVICES:
        raise unknown_choice("device", device, DEVICES)
    if not isinstance(method, str) or method not in METHODS:
        raise unknown_choice("method", method, METHODS)
    aer_device = resolve_device(device)
    noisy = noise is not None and noise != NoiseSpec()
    chosen = (
        method
        if method != "auto"
        else choose_method(num_qubits, clifford=stabilizer_ok, noisy=noisy, mid_circuit=mid_circuit)
    )
    if chosen == "stabilizer" and not stabilizer_ok:
        raise QecInputError(
            "the stabilizer method needs Clifford circuits and Pauli noise (no t1/t2/rotation): "
            "use method=statevector or density_matrix"
        )
    if chosen == "stabilizer" and aer_device == "GPU":
        if device == "gpu":
            raise QecInputError(
                "Aer's stabilizer method runs on the CPU only: use device=cpu or auto, or "
                "method=statevector for the GPU"
            )
        aer_device = "CPU"  # auto: a Clifford circuit under Pauli noise is cheapest as a stabilizer run on the CPU
    check_state_fits(num_qubits, method=chosen, device=aer_device)
    return aer_device, chosen


def check_run_options(*, shots: int, seed: int | None, threads: int) -> None:
    """Raises QecInputError unless shots is in [1, `MAX_SHOTS`], seed None or in [0, `MAX_SEED`] and
    threads in [0, `MAX_THREADS`].

    >>> check_run_options(shots=0, seed=None, threads=0)
    Traceback (most recent call last):
    ...
    qec.errors.QecInputError: shots must be an integer in [1, 10,000,000], got 0: give e.g. 4000
    """
    check_integer(shots, name="shots", low=1, high=MAX_SHOTS, fix="give e.g. 4000")
    if seed is not None:
        check_integer(seed, name="seed", low=0, high=MAX_SEED, fix="give a seed such as 0")
    check_integer(threads, name="threads", low=0, high=MAX_THREADS, fix="give 0 for all cores")


def check_instance(value: object, kind: type | tuple[type, ...], *, name: str, fix: str) -> None:
    """Raises QecInputError, naming the parameter `name` and ending with `fix`, unless `value` is a `kind`.

    >>> check_instance(None, NoiseSpec, name="noise", fix="give e.g. NoiseSpec(depolarizing_2q=0.01)")
    Traceback (most recent call last):
    ...
    qec.errors.QecInputError: noise must be a NoiseSpec, got NoneType: give e.g. NoiseSpec(depolarizing_2q=0.01)
    """
    if not isinstance(value, kind):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        names = " or ".join(k.__name__ for k in kinds)
        raise QecInputError(f"{name} must be a {names}, got {type(value).__name__}: {fix}")


def check_integer(value: int, *, name: str, low: int, high: int, fix: str) -> None:
    """Raises QecInputError, naming the parameter `name` and ending with `fix`, unless `value` is an integer
    (a Python or NumPy one, not a bool) in [low, high].

    >>> check_integer(10**20, name="shots", low=1, high=100, fix="give e.g. 10")
    Traceback (most recent call last):
    ...
    qec.errors.QecInputError: shots must be an integer in [1, 100], got 1e+20: give e.g. 10
    """
    integer = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not integer or not low <= value <= high:
        shown = shown_integer(value) if integer else repr(value)
        raise QecInputError(f"{name} must be an integer in [{low:,}, {high:,}], got {shown}: {fix}")


def choose_method(num_qubits: int, *, clifford: bool, noisy: bool, mid_circuit: bool = False) -> str:
    """The cheapest exact method.

    Stabilizer for Clifford circuits under Pauli noise when they measure mid-circuit (every shot is its
    own run) or are too big for a density matrix; density matrix for small noisy circuits measured only
    at the end (one run, then shots are samples); statevector otherwise.

    >>> choose_method(30, clifford=False, noisy=True)
    'statevector'
    >>> choose_method(5, clifford=True, noisy=True, mid_circuit=True)
    'stabilizer'
    """
    if clifford and (mid_circuit or num_qubits > DENSITY_MATRIX_MAX_QUBITS):
        return "stabilizer"
    if noisy and not mid_circuit and num_qubits <= DENSITY_MATRIX_MAX_QUBITS:
        return "density_matrix"
    return "statevector"


def is_clifford(circuit: QuantumCircuit) -> bool:
    """True when every instruction of `circuit` is a Clifford gate, a measurement, reset or barrier."""
    return all(instruction.operation.name in CLIFFORD_GATES for instruction in circuit.data)


def gpu_available() -> bool:
    """True when this Aer build (qiskit-aer-gpu) sees a CUDA device."""
    return "GPU" in AerSimulator().available_devices()


def resolve_device(device: str) -> str:
    """Aer's device name for "auto", "cpu" or "gpu"; "gpu" with no GPU raises QecInputError."""
    if device == "cpu":
        return "CPU"
    if gpu_available():
        return "GPU"
    if device == "gpu":
        raise QecInputError(
            "device 'gpu' needs qiskit-aer-gpu and a CUDA GPU, and this Aer sees only "
            f"{', '.join(AerSimulator().available_devices())}: install qiskit-aer-gpu "
            "(pip install 'qec[gpu]') on a machine with a GPU, or use device=cpu or auto"
        )
    return "CPU"


def state_bytes(num_qubits: int, method: str) -> int:
    """Bytes Aer allocates for the state: 16 * 2^n (statevector), 16 * 4^n (density matrix), O(n^2) (stabilizer).

    >>> state_bytes(20, "statevector")
    16777216
    """
    if method == "stabilizer":
        return 2 * num_qubits * (2 * num_qubits + 1)
    exponent = num_qubits * (2 if method == "density_matrix" else 1)
    return _BYTES_PER_AMPLITUDE << exponent


def check_state_fits(num_qubits: int, *, method: str, device: str) -> None:
    """Raises QecInputError when Aer's `method` cannot hold a state of `num_qubits` qubits: beyond
    `AER_MAX_QUBITS`, or a state that would not fit in the device's free memory. Only arithmetic: nothing is
    allocated.

    >>> check_state_fits(50_000, method="stabilizer", device="CPU")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    qec.errors.QecInputError: 50,000 qubits are more than any Aer method holds: the stabilizer method takes at most ...
    """
    if num_qubits > AER_MAX_QUBITS:
        raise QecInputError(
            f"{approximate(num_qubits)} qubits are more than any Aer method holds: the stabilizer "
            f"method takes at most {AER_MAX_QUBITS:,} (the others far fewer): use a smaller circuit"
        )
    available = _free_bytes(device)
    needed = state_bytes(num_qubits, method)
    if needed <= available:
        return
    low, high = 0, num_qubits  # the largest n that fits lies in [low, high)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if state_bytes(middle, method) <= available else (low, middle)
    raise QecInputError(
        f"{num_qubits} qubits need {_bytes_text(needed)} for the {method} method, and the {device} has "
        f"{_bytes_text(available)} free: use at most {low} qubits with {method}, or a Clifford circuit "
        "under Pauli noise (stabilizer method)"
    )


def check_host_memory(needed_bytes: int, *, what: str, fix: str) -> None:
    """Raises QecInputError when `needed_bytes` (for `what`, e.g. "the measured bits of 3 circuits x 4000
    shots x 145 bits") exceed the host's free memory; the message ends with `fix`.

    >>> check_host_memory(10**15, what="a test", fix="use less")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    qec.errors.QecInputError: a test need about 9.31e+05 GiB, and the host has ... GiB free: use less
    """
    available = _free_bytes("CPU")
    if needed_bytes > available:
        raise QecInputError(
            f"{what} need about {_bytes_text(needed_bytes)}, and the host has {_bytes_text(available)} free: {fix}"
        )


def _bytes_text(count: int) -> str:
    """Bytes in GiB, 3 significant digits; a power of 2 beyond a float's range."""
    if count.bit_length() > 1000:
        return f"2^{count.bit_length() - 1} bytes"
    return f"{count / 2**30:.3g} GiB"


def _free_bytes(device: str) -> int:
    """Free memory of the device: the host's available RAM, or the GPU's free memory from nvidia-smi."""
    if device == "GPU" and shutil.which("nvidia-smi"):
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=memory.free", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return int(out.split()[0]) * 2**20
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def _as_qiskit(circuit) -> QuantumCircuit:
    """`circuit` as a Qiskit circuit: itself, or a Cirq circuit converted by Mitiq."""
    return circuit if isinstance(circuit, QuantumCircuit) else convert_from_mitiq(circuit, "qiskit")


def _measured_in(circuit: QuantumCircuit, group: PauliStringCollection) -> QuantumCircuit:
    """`circuit` rotated into the basis of one qubit-wise commuting `group` and measured on its support (sorted
    qubits, clbit j measures the j-th), as Mitiq's `PauliStringCollection.measure_in` does in Cirq: H before a
    qubit measured in X, S^dagger then H before one in Y. A group of the identity alone measures qubit 0."""
    bases: dict[int, str] = {}
    for pauli in group.elements:
        bases.update((q, letter) for q, letter in zip(sorted(pauli.support()), pauli.spec) if letter != "I")
    qubits = sorted(bases) or [0]
    measured = circuit.copy()
    register = ClassicalRegister(len(qubits), "m")
    measured.add_register(register)
    for qubit in qubits:
        if bases.get(qubit) == "Y":
            measured.sdg(qubit)
        if bases.get(qubit) in ("X", "Y"):
            measured.h(qubit)
    for j, qubit in enumerate(qubits):
        measured.measure(qubit, register[j])
    return measured


@dataclass(frozen=True)
class _Tally:
    """Measurement outcomes as distinct rows and their counts: `bits` bool, shape (outcomes, measured bits),
    column j = the j-th measured bit, which measured qubit `qubits[j]`; `counts` int64, shape (outcomes,)."""

    bits: np.ndarray
    counts: np.ndarray
    qubits: tuple[int, ...]

    @classmethod
    def from_counts(cls, circuit: QuantumCircuit, counts: dict[str, int]) -> _Tally:
        """Aer's counts of `circuit`, whose measured clbits are kept in clbit order (as `_measurement_result`)."""
        measured = {
            circuit.find_bit(i.clbits[0]).index: circuit.find_bit(i.qubits[0]).index
            for i in circuit.data
            if i.operation.name == "measure"
        }
        keys = list(counts)
        columns = sorted(measured)
        bits = _bit_array(keys)[:, columns]
        return cls(bits, np.array([counts[key] for key in keys], dtype=np.int64), tuple(measured[c] for c in columns))

    @classmethod
    def of(cls, result: MeasurementResult) -> _Tally:
        rows, counts = np.unique(result.asarray.astype(bool), axis=0, return_counts=True)
        return cls(rows, counts.astype(np.int64), tuple(result.qubit_indices))

    def measurement_result(self) -> MeasurementResult:
        """Mitiq's form: one row per shot."""
        rows = np.repeat(self.bits, self.counts, axis=0).astype(int)
        return MeasurementResult(rows.tolist(), qubit_indices=self.qubits)


def _group_value_and_error(
    group: PauliStringCollection, tally: _Tally, flip_rates: Sequence[float] = ()
) -> tuple[float, float]:
    """Sum of coeff * <P> over one group's Pauli strings and its standard error: the per-shot sums' sample
    standard deviation over sqrt(shots), so the covariance of a group's Paulis counts.

    `flip_rates` (one per measured bit): those of the linear readout inverse instead, where each Pauli's
    parity is divided by prod(1 - 2 p) over the bits it reads.
    """
    per_outcome = np.zeros(len(tally.counts))
    columns = {qubit: j for j, qubit in enumerate(tally.qubits)}
    for pauli in group.elements:
        support = [columns[q] for q in sorted(pauli.support())]
        parity = tally.bits[:, support].sum(axis=1) % 2
        scale = math.prod(1 - 2 * flip_rates[j] for j in support) if flip_rates else 1.0
        per_outcome += float(np.real(pauli.coeff)) * (1 - 2 * parity) / scale
    shots = int(tally.counts.sum())
    mean = float(np.dot(tally.counts, per_outcome) / shots)
    if shots < 2:
        return mean, math.nan
    variance = float(np.dot(tally.counts, (per_outcome - mean) ** 2) / (shots - 1))
    # Every shot alike gives a sample variance of 0, and "± 0" is no error bar: as for a binomial rate with no
    # events (`logical.LogicalRate`), the variance is floored at that of one shot in `shots` at the other extreme of
    # the per-shot range (range^2 / shots), which a typical spread exceeds.
    span = 2 * sum(
        abs(float(np.real(pauli.coeff))) / _scale(pauli, columns, flip_rates)
        for pauli in group.elements
        if pauli.support()
    )
    return mean, math.sqrt(max(variance, span**2 / shots) / shots)


def shot_noise_floor(observable: Observable, shots: int) -> float:
    """The least standard error an estimate of `observable` from `shots` shots per group can honestly carry: each
    group's variance floored as `_group_value_and_error` floors it (one shot in `shots` at the other extreme of the
    group's per-shot range), so that a run whose shots all agreed is not reported with an error bar of 0.

    >>> from mitiq import PauliString
    >>> shot_noise_floor(Observable(PauliString("ZZ")), 1000)  # 2 / shots: a +-1 value, one flip in 1000
    0.002
    """
    spans = [
        2 * sum(abs(float(np.real(pauli.coeff))) for pauli in group.elements if pauli.support())
        for group in observable.groups
    ]
    return math.sqrt(sum(span**2 / shots for span in spans) / shots)


def _scale(pauli, columns: dict[int, int], flip_rates: Sequence[float]) -> float:
    """prod(1 - 2 p) over the bits `pauli` reads (1 without `flip_rates`)."""
    if not flip_rates:
        return 1.0
    return math.prod(1 - 2 * flip_rates[columns[q]] for q in pauli.support())


def _measurement_result(circuit: QuantumCircuit, counts: dict[str, int]) -> MeasurementResult:
    """Counts as a Mitiq `MeasurementResult`: bit j is clbit j, labelled with the qubit it measured."""
    measured = {
        circuit.find_bit(i.clbits[0]).index: circuit.find_bit(i.qubits[0]).index
        for i in circuit.data
        if i.operation.name == "measure"
    }
    keys = list(counts)
    bits = _bit_array(keys)
    rows = np.repeat(bits, [counts[key] for key in keys], axis=0)
    columns = sorted(measured)
    return MeasurementResult(rows[:, columns].astype(int).tolist(), qubit_indices=tuple(measured[c] for c in columns))


def _measured_qubits(circuit: QuantumCircuit) -> tuple[int, ...]:
    """The qubit each classical bit measured, in clbit order (the bits `_measurement_result` keeps)."""
    measured = {
        circuit.find_bit(i.clbits[0]).index: circuit.find_bit(i.qubits[0]).index
        for i in circuit.data
        if i.operation.name == "measure"
    }
    return tuple(measured[c] for c in sorted(measured))


def _tensored_inverse(rates: Sequence[float], qubits: Sequence[int]) -> np.ndarray:
    """Mitiq's inverse confusion matrix for bits measured on `qubits` (bit 0 first), each flipped at its rate."""
    check_rem_rates([rates[qubit] for qubit in qubits], qubits=qubits)
    matrices = [np.array([[1 - rates[qubit], rates[qubit]], [rates[qubit], 1 - rates[qubit]]]) for qubit in qubits]
    return rem.generate_tensored_inverse_confusion_matrix(len(matrices), matrices)


def _bit_array(keys: list[str]) -> np.ndarray:
    """Aer's bit strings (clbit 0 rightmost, registers space-separated) as bools, column j = clbit j."""
    text = [key.replace(" ", "")[::-1] for key in keys]
    return np.array([[c == "1" for c in row] for row in text], dtype=bool).reshape(len(keys), -1)
