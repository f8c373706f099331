"""Mitigation techniques, each a call into Mitiq with a batched executor and a known noise model.

| technique | Mitiq call                                                                        |
|-----------|-----------------------------------------------------------------------------------|
| `none`    | `Executor.evaluate` (the noisy value)                                             |
| `zne`     | `zne.execute_with_zne` with a factory (`FACTORIES`) and a noise scaling (`SCALINGS`) |
| `pec`     | `pec.execute_with_pec`, representations from the spec's depolarizing rates          |
| `rem`     | `Executor.evaluate` with `rem.mitigate_measurements` in the executor (`readout` rate) |
| `ddd`     | `ddd.execute_with_ddd` with the XX rule                                            |
| `cdr`     | `cdr.execute_with_cdr`, a noiseless Aer backend as the training simulator           |
| `rem+zne` | `zne.execute_with_zne` on the REM executor                                          |

REM builds Mitiq's inverse confusion matrix (`rem.generate_inverse_confusion_matrix`) per measured group,
at the size of that group, inside `Backend.executor` (see there); `rem.execute_with_rem` does the same
on one circuit and one group only.

PEC's representations describe the depolarizing part of the noise only (Mitiq's global depolarizing
representation per gate, at `depolarizing_1q` or `depolarizing_2q`); under thermal relaxation or
over-rotation its estimate keeps the bias of what they leave out. A fake IBM backend's noise has no such
rates, so PEC refuses it (`check_technique`).

Under a fake IBM backend (`NoiseSpec.fake_backend`) REM inverts each measured qubit's calibrated readout
error (`Backend.readout_rates`), not the spec's `readout` (0 there); ZNE scales the gates only, so without
REM its estimate keeps the readout bias.

>>> from qec.mitigation.backends import aer_backend
>>> from qec.mitigation.noise_models import NoiseSpec
>>> from qec.mitigation.techniques import mitigate
>>> from qec.mitigation.workloads import workload
>>> ghz, noise = workload("ghz", qubits=3), NoiseSpec(readout=0.05)
>>> backend = aer_backend([ghz.circuit], noise=noise, device="cpu", shots=2000, seed=3, threads=1)
>>> estimate = mitigate("rem", ghz, backend=backend, noise=noise)
>>> abs(estimate.value - 1) < 0.15, estimate.circuits
(True, 1)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import cirq
import numpy as np
from mitiq import Executor, Observable, cdr, ddd, pec, zne
from mitiq.interface import convert_to_mitiq
from mitiq.zne.inference import ExpFactory, LinearFactory, PolyExpFactory, RichardsonFactory
from mitiq.zne.scaling import fold_gates_at_random, fold_global, insert_id_layers
from qiskit import QuantumCircuit, transpile

from qec.errors import QecInputError, unknown_choice
from qec.mitigation.backends import Backend, aer_backend, check_integer
from qec.mitigation.noise_models import NoiseSpec
from qec.mitigation.workloads import Workload

TECHNIQUES = ("none", "zne", "pec", "rem", "ddd", "cdr", "rem+zne")
# Each takes (scale_factors, asymptote): the exponential fits decay toward the fully depolarized value.
FACTORIES: dict[str, Callable[[tuple[float, ...], float], zne.inference.Factory]] = {
    "richardson": lambda scale_factors, asymptote: RichardsonFactory(scale_factors),
    "linear": lambda scale_factors, asymptote: LinearFactory(scale_factors),
    "exponential": lambda scale_factors, asymptote: ExpFactory(scale_factors, asymptote=asymptote),
    "poly-exp": lambda scale_factors, asymptote: PolyExpFactory(scale_factors, order=1, asymptote=asymptote),
}
SCALINGS = ("global", "random", "identity")
# ZNE: each scale factor is one more circuit, folded to `scale` times the gates. Beyond ~10 a circuit is
# fully depolarized; 100 keeps a folded circuit within 100x the original.
MAX_SCALE_FACTOR = 100.0
MAX_SCALE_FACTORS = 32
# PEC: Mitiq samples and builds all `pec_samples` circuits at once; its error falls as 1/sqrt(samples).
MAX_PEC_SAMPLES = 10_000
# REM inverts a 2^n x 2^n confusion matrix and fits a 2^n-outcome distribution (SLSQP) per measured group:
# 10 qubits took 15 s per group on 2 cores, each added qubit several times more; 12 is the most we run.
MAX_REM_QUBITS = 12
CDR_TRAINING_CIRCUITS = 10


@dataclass(frozen=True)
class ZneOptions:
    """How ZNE scales and extrapolates: factory name, noise scaling name, scale factors >= 1 (1 first)."""

    factory: str = "richardson"
    scaling: str = "global"
    scale_factors: tuple[float, ...] = (1.0, 3.0, 5.0)

    def __post_init__(self):
        if self.factory not in FACTORIES:
            raise unknown_choice("ZNE factory", self.factory, FACTORIES)
        if self.scaling not in SCALINGS:
            raise unknown_choice("ZNE scaling", self.scaling, SCALINGS)
        factors = self.scale_factors
        if not 2 <= len(factors) <= MAX_SCALE_FACTORS or not all(
            isinstance(s, (int, float)) and 1 <= s <= MAX_SCALE_FACTOR for s in factors
        ):  # False for NaN
            shown = ", ".join(f"{s:g}" if isinstance(s, (int, float)) else repr(s) for s in factors[:8])
            raise QecInputError(
                f"ZNE needs 2 to {MAX_SCALE_FACTORS} scale factors, each in [1, {MAX_SCALE_FACTOR:g}], "
                f"got ({shown}{', ...' if len(factors) > 8 else ''}): give e.g. 1,3,5"
            )

    def factory_object(self, asymptote: float = 0.0) -> zne.inference.Factory:
        """A fresh Mitiq factory for these scale factors; `asymptote`: the value at infinite noise.

        Under depolarizing noise an observable O tends to Tr(O)/2^n, its identity coefficient
        (`depolarized_value`); exponential fits use it, polynomial ones ignore it.
        """
        return FACTORIES[self.factory](self.scale_factors, float(asymptote))

    def scale_noise(self, seed: int | None) -> Callable[[QuantumCircuit, float], QuantumCircuit]:
        """Mitiq's noise-scaling function for `scaling`."""
        if self.scaling == "random":
            return functools.partial(fold_gates_at_random, seed=seed)
        return fold_global if self.scaling == "global" else insert_id_layers


@dataclass(frozen=True)
class Estimate:
    """A mitigated expectation value, its standard error where the technique gives one, and its cost."""

    value: float
    standard_error: float | None
    circuits: int
    executor_calls: int


def mitigate(
    technique: str,
    workload: Workload,
    *,
    backend: Backend,
    noise: NoiseSpec,
    zne_options: ZneOptions = ZneOptions(),
    pec_samples: int = 200,
    cdr_training_circuits: int = CDR_TRAINING_CIRCUITS,
    seed: int | None = 0,
) -> Estimate:
    """Estimates `workload`'s observable with `technique` on `backend`, whose noise is `noise`.

    Raises QecInputError listing the techniques when `technique` is unknown, for PEC under a fake
    backend, and for sizes beyond the limits (see `check_technique`).
    """
    check_technique(technique, noise, qubits=workload.circuit.num_qubits, pec_samples=pec_samples)
    corrected = technique in ("rem", "rem+zne")
    executor = backend.executor(workload.observable, readout=backend.readout_rates(noise) if corrected else 0.0)
    circuit = workload.circuit
    standard_error = None
    if technique in ("none", "rem"):
        value = executor.evaluate(circuit)[0]
    elif technique in ("zne", "rem+zne"):
        value = zne.execute_with_zne(
            circuit,
            executor,
            factory=zne_options.factory_object(depolarized_value(workload.observable)),
            scale_noise=zne_options.scale_noise(seed),
        )
    elif technique == "pec":
        representations = depolarizing_representations(circuit, noise)
        value, data = pec.execute_with_pec(
            circuit,
            executor,
            representations=representations,
            num_samples=pec_samples,
            random_state=seed,
            full_output=True,
        )
        standard_error = float(data["pec_error"])
    elif technique == "ddd":
        value = ddd.execute_with_ddd(circuit, executor, rule=ddd.rules.xx)
    else:  # cdr
        value = _cdr(workload, executor, backend, cdr_training_circuits, seed)
    circuits = len(executor.executed_circuits) * workload.observable.ngroups
    return Estimate(float(np.real(value)), standard_error, circuits, executor.calls_to_executor)


def check_technique(technique: str, noise: NoiseSpec, *, qubits: int = 1, pec_samples: int = 1) -> None:
    """Raises QecInputError for an unknown technique, PEC under a fake backend (no rates to represent),
    `pec_samples` outside [1, `MAX_PEC_SAMPLES`] for PEC, or REM on more than `MAX_REM_QUBITS` qubits.

    >>> check_technique("rem", NoiseSpec(readout=0.01), qubits=20)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    qec.errors.QecInputError: REM on 20 qubits inverts a 2^20 x 2^20 confusion matrix; the limit is 12 qubits: ...
    """
    if technique not in TECHNIQUES:
        raise unknown_choice("technique", technique, TECHNIQUES)
    if technique == "pec":
        check_integer(pec_samples, name="pec_samples", low=1, high=MAX_PEC_SAMPLES, fix="give e.g. 200")
    if technique in ("rem", "rem+zne") and qubits > MAX_REM_QUBITS:
        raise QecInputError(
            f"REM on {qubits} qubits inverts a 2^{qubits} x 2^{qubits} confusion matrix; the limit "
            f"is {MAX_REM_QUBITS} qubits: use fewer qubits or zne"
        )
    if technique == "pec" and noise.fake_backend is not None:
        raise QecInputError(
            f"pec builds its representations from depolarizing rates (p1, p2), and "
            f"fake={noise.fake_backend} gives none: use zne, rem or rem+zne with a fake backend, "
            "or give the noise as rates for pec"
        )


def circuits_per_run(
    technique: str,
    *,
    zne_options: ZneOptions = ZneOptions(),
    pec_samples: int = 200,
    cdr_training_circuits: int = CDR_TRAINING_CIRCUITS,
) -> int:
    """How many circuits `technique` sends to the executor (each then measured in every group).

    >>> circuits_per_run("zne"), circuits_per_run("pec", pec_samples=300), circuits_per_run("rem")
    (3, 300, 1)
    """
    if technique in ("zne", "rem+zne"):
        return len(zne_options.scale_factors)
    if technique == "pec":
        return pec_samples
    if technique == "cdr":
        return cdr_training_circuits + 1
    return 1


def depolarized_value(observable: Observable) -> float:
    """Tr(O)/2^n: the coefficient of the observable's identity term (0 when it has none).

    >>> from mitiq import PauliString
    >>> depolarized_value(Observable(PauliString("I", coeff=1.5), PauliString("ZZ", coeff=-0.5)))
    1.5
    """
    return float(sum(np.real(p.coeff) for group in observable.groups for p in group.elements if not p.support()))


def depolarizing_representations(circuit: QuantumCircuit, noise: NoiseSpec) -> list[pec.OperationRepresentation]:
    """Mitiq's global-depolarizing quasi-probability representation of each distinct gate of `circuit`.

    A k-qubit gate is represented at the spec's `depolarizing_{k}q` rate (Stim's convention, which is
    Mitiq's `noise_level`); gates at rate 0 need none.
    """
    mitiq_circuit, _ = convert_to_mitiq(circuit)
    rates = {1: noise.depolarizing_1q, 2: noise.depolarizing_2q}
    representations, seen = [], set()
    for operation in mitiq_circuit.all_operations():
        rate = rates.get(len(operation.qubits), 0.0)
        if rate == 0 or operation in seen:
            continue
        seen.add(operation)
        representations.append(pec.represent_operation_with_global_depolarizing_noise(cirq.Circuit(operation), rate))
    return representations


def _cdr(workload: Workload, executor: Executor, backend: Backend, training: int, seed: int | None) -> float:
    """CDR on the circuit compiled to {Rz, SX, X, CX} (Mitiq's requirement), trained on a noiseless Aer run."""
    compiled = transpile(workload.circuit, basis_gates=["rz", "sx", "x", "cx"], optimization_level=0)
    ideal = aer_backend(
        [compiled],
        noise=None,
        device=backend.device.lower(),
        method="statevector",
        shots=backend.shots,
        seed=seed,
        threads=backend.simulator.options.max_parallel_threads,
    )
    return cdr.execute_with_cdr(
        compiled,
        executor,
        simulator=ideal.executor(workload.observable),
        num_training_circuits=training,
        random_state=seed,
    )
