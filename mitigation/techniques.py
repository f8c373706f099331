"""Mitigation techniques, each a call into Mitiq with a batched executor and a known noise model.

| technique    | Mitiq call                                                                              |
|--------------|-----------------------------------------------------------------------------------------|
| `none`       | `Executor.evaluate` (the noisy value)                                                   |
| `zne`        | `zne.execute_with_zne` with a factory (`FACTORIES`) and a noise scaling (`SCALINGS`)    |
| `lre`        | `lre.multivariate_layer_scaling` + `lre.multivariate_richardson_coefficients` (`LreOptions`) |
| `pec`        | `pec.execute_with_pec`, representations from the spec's depolarizing rates             |
| `rem`        | `Executor.evaluate` with `rem.mitigate_measurements` in the executor (`readout` rate)   |
| `ddd`        | `ddd.execute_with_ddd` with the XX rule                                                 |
| `cdr`        | `cdr.execute_with_cdr`, a noiseless Aer backend as the training simulator              |
| `pt`         | `pt.generate_pauli_twirl_variants` (CX, CZ): the mean over `twirl_variants` variants    |
| `pt+zne`     | each folded circuit of ZNE twirled `twirl_variants` times, means extrapolated           |
| `rem+zne`    | `zne.execute_with_zne` on the REM executor                                              |
| `rem+pt+zne` | `pt+zne` on the REM executor                                                            |
| `auto`       | `calibration.Calibrator` (Mitiq's ZNE settings) on the same backend, then its best strategy |

Every technique sends all its circuits to the executor in one call (`Estimate.executor_calls`), except
`auto`'s calibration, which Mitiq runs one benchmark circuit at a time, and PEC/CDR beyond 1000 circuits.

**Standard errors** (`Estimate.standard_error`, 1 sigma, shot noise only): the executor records each
circuit's shot-noise error (`backends.AerExecutor.standard_errors`). `none`, `rem`, `ddd`: that error.
Linear extrapolations (Richardson, linear and polynomial factories, LRE) are linear combinations
sum c_i y_i of the scaled values, so their variance is sum c_i^2 s_i^2 (the c_i read off the factory
itself, `extrapolation_coefficients`); exponential factories and CDR's fit take a parametric bootstrap
(`BOOTSTRAP_SAMPLES` draws of the values from N(y_i, s_i), refitted). `pt` and `pt+zne`: the spread of
the twirled variants' values over sqrt(variants) (twirl and shot noise together). PEC: Mitiq's own
`pec_error` (the spread of its signed samples). `auto`: that of the strategy it picked.

REM builds Mitiq's inverse confusion matrix (`rem.generate_inverse_confusion_matrix`) per measured group,
at the size of that group, inside `Backend.executor` (see there); `rem.execute_with_rem` does the same
on one circuit and one group only.

PEC's representations describe the depolarizing part of the noise only (Mitiq's global depolarizing
representation per gate, at `depolarizing_1q` or `depolarizing_2q`); under thermal relaxation or
over-rotation its estimate keeps the bias of what they leave out. A fake IBM backend's noise has no such
rates, so PEC refuses it (`check_technique`).

Pauli twirling turns the noise of each CX and CZ into a Pauli channel (a coherent over-rotation into
stochastic flips, `NoiseSpec.pauli_twirled_1q`); it does not reduce depolarizing noise, which is
already a Pauli channel. Mitiq draws the twirls from Python's `random`, seeded here with `seed` and
restored afterwards.

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
>>> abs(estimate.value - 1) < 0.15, estimate.circuits, 0.005 < estimate.standard_error < 0.05
(True, 1, True)
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
import random
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cirq
import numpy as np
from mitiq import QPROGRAM, MeasurementResult, Observable, calibration, cdr, ddd, lre, pec, pt, zne
from mitiq.interface import convert_to_mitiq
from mitiq.zne.inference import ExpFactory, LinearFactory, PolyExpFactory, PolyFactory, RichardsonFactory
from mitiq.zne.scaling import fold_gates_at_random, fold_global, insert_id_layers
from qiskit import QuantumCircuit, transpile

from qec.errors import QecInputError, unknown_choice
from qec.mitigation.backends import AerExecutor, Backend, aer_backend, check_integer
from qec.mitigation.noise_models import NoiseSpec
from qec.mitigation.workloads import Workload

TECHNIQUES = ("none", "zne", "pec", "rem", "ddd", "cdr", "rem+zne", "lre", "pt", "pt+zne", "rem+pt+zne", "auto")
READOUT_CORRECTED = frozenset({"rem", "rem+zne", "rem+pt+zne"})
# Each takes (scale_factors, asymptote): the exponential fits decay toward the fully depolarized value.
FACTORIES: dict[str, Callable[[tuple[float, ...], float], zne.inference.Factory]] = {
    "richardson": lambda scale_factors, asymptote: RichardsonFactory(scale_factors),
    "linear": lambda scale_factors, asymptote: LinearFactory(scale_factors),
    "exponential": lambda scale_factors, asymptote: ExpFactory(scale_factors, asymptote=asymptote),
    "poly-exp": lambda scale_factors, asymptote: PolyExpFactory(scale_factors, order=1, asymptote=asymptote),
}
# Factories whose zero-noise value is a fixed linear combination of the scaled values.
LINEAR_FACTORIES = (RichardsonFactory, LinearFactory, PolyFactory)
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
# Pauli twirling: variants per circuit; the estimate's error falls as 1/sqrt(variants) when twirls differ.
TWIRL_VARIANTS = 16
MAX_TWIRL_VARIANTS = 1000
# Draws of a parametric bootstrap (non-linear extrapolations, CDR): the error of a standard deviation from
# n draws is 1/sqrt(2n), 5% here.
BOOTSTRAP_SAMPLES = 200
# auto: Mitiq's calibration runs its benchmark circuits one at a time, at the backend's shots up to this many,
# on GHZ and mirror circuits as wide as the workload up to this width.
CALIBRATION_SHOTS = 20_000
MAX_CALIBRATION_QUBITS = 6


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
class LreOptions:
    """Layerwise Richardson extrapolation: polynomial `degree` in each chunk's noise scale, each chunk folded
    to 1 + 2 * `fold_multiplier` * k times its gates, the circuit cut into `chunks` chunks of layers (fewer
    when it has fewer layers). It runs C(chunks + degree, degree) circuits: 10 by default.

    >>> LreOptions(degree=2, chunks=3).circuits(layers=10), LreOptions(chunks=3).circuits(layers=2)
    (10, 6)
    """

    degree: int = 2
    fold_multiplier: int = 1
    chunks: int = 3

    def __post_init__(self):
        check_integer(self.degree, name="lre degree", low=1, high=4, fix="give e.g. 2")
        check_integer(self.fold_multiplier, name="lre fold_multiplier", low=1, high=4, fix="give e.g. 1")
        check_integer(self.chunks, name="lre chunks", low=1, high=12, fix="give e.g. 3")

    def chunks_for(self, layers: int) -> int:
        return max(1, min(self.chunks, layers))

    def circuits(self, *, layers: int) -> int:
        return math.comb(self.chunks_for(layers) + self.degree, self.degree)


@dataclass(frozen=True)
class Estimate:
    """A mitigated expectation value, its 1-sigma standard error (shot noise through the technique; None
    only where none could be formed), its cost, and `detail`: what the technique did, in words (for `auto`,
    the technique and settings that calibration picked)."""

    value: float
    standard_error: float | None
    circuits: int
    executor_calls: int
    detail: str = ""


def mitigate(
    technique: str,
    workload: Workload,
    *,
    backend: Backend,
    noise: NoiseSpec,
    zne_options: ZneOptions = ZneOptions(),
    lre_options: LreOptions = LreOptions(),
    pec_samples: int = 200,
    cdr_training_circuits: int = CDR_TRAINING_CIRCUITS,
    twirl_variants: int = TWIRL_VARIANTS,
    seed: int | None = 0,
) -> Estimate:
    """Estimates `workload`'s observable with `technique` on `backend`, whose noise is `noise`.

    Raises QecInputError listing the techniques when `technique` is unknown, for PEC under a fake
    backend, and for sizes beyond the limits (see `check_technique`).
    """
    check_technique(
        technique, noise, qubits=workload.circuit.num_qubits, pec_samples=pec_samples, twirl_variants=twirl_variants
    )
    readout = backend.readout_rates(noise) if technique in READOUT_CORRECTED else 0.0
    executor = backend.executor(workload.observable, readout=readout)
    # Mitiq folds, twirls and samples Cirq circuits: converted once here, not once per new circuit (the
    # executor turns each into Qiskit, the cheap direction).
    circuit = workload.circuit if technique in ("none", "rem") else convert_to_mitiq(workload.circuit)[0]
    asymptote = depolarized_value(workload.observable)
    rng = np.random.default_rng(seed)
    detail = ""
    extra_circuits = extra_calls = 0
    if technique in ("none", "rem"):
        value = executor.evaluate(circuit)[0]
        standard_error = executor.standard_errors[0]
    elif technique in ("zne", "rem+zne"):
        factory = zne_options.factory_object(asymptote)
        value, standard_error = _zne(circuit, executor, factory, zne_options.scale_noise(seed), rng)
        detail = f"{zne_options.factory} at scale factors {_factors(zne_options.scale_factors)}, {zne_options.scaling}"
    elif technique in ("pt+zne", "rem+pt+zne"):
        value, standard_error = _twirled_zne(
            circuit, executor, zne_options, asymptote, variants=twirl_variants, seed=seed, rng=rng
        )
        detail = f"{twirl_variants} twirls per scale factor {_factors(zne_options.scale_factors)}"
    elif technique == "lre":
        value, standard_error, detail = _lre(circuit, executor, lre_options)
    elif technique == "pt":
        values = executor.evaluate(pauli_twirls(circuit, twirl_variants, seed=seed))
        value, standard_error = _mean_and_error(values)
        detail = f"{twirl_variants} twirled variants"
    elif technique == "pec":
        value, data = pec.execute_with_pec(
            circuit,
            executor,
            representations=depolarizing_representations(circuit, noise),
            num_samples=pec_samples,
            random_state=seed,
            full_output=True,
        )
        standard_error = float(data["pec_error"])
        detail = f"{pec_samples} samples"
    elif technique == "ddd":
        value = ddd.execute_with_ddd(circuit, executor, rule=ddd.rules.xx)
        errors = np.array(executor.standard_errors)
        standard_error = float(np.sqrt(np.sum(errors**2)) / len(errors))
    elif technique == "cdr":
        value, standard_error = _cdr(workload, executor, backend, cdr_training_circuits, seed, rng)
        detail = (
            f"{cdr_training_circuits} training circuits"
            if executor.executed_circuits
            else "a Clifford circuit: Mitiq returns its noiseless simulation, nothing runs on the noisy backend"
        )
    else:  # auto
        value, standard_error, detail, extra_circuits, extra_calls = _auto(circuit, executor, backend, asymptote, rng)
    circuits = len(executor.executed_circuits) * workload.observable.ngroups + extra_circuits
    return Estimate(
        float(np.real(value)),
        None if standard_error is None or not math.isfinite(standard_error) else float(standard_error),
        circuits,
        executor.calls_to_executor + extra_calls,
        detail,
    )


def check_technique(
    technique: str, noise: NoiseSpec, *, qubits: int = 1, pec_samples: int = 1, twirl_variants: int = TWIRL_VARIANTS
) -> None:
    """Raises QecInputError for an unknown technique, PEC under a fake backend (no rates to represent),
    `pec_samples` outside [1, `MAX_PEC_SAMPLES`] for PEC, `twirl_variants` outside [2, `MAX_TWIRL_VARIANTS`]
    for twirling, or REM on more than `MAX_REM_QUBITS` qubits.

    >>> check_technique("rem", NoiseSpec(readout=0.01), qubits=20)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    qec.errors.QecInputError: REM on 20 qubits inverts a 2^20 x 2^20 confusion matrix; the limit is 12 qubits: ...
    """
    if technique not in TECHNIQUES:
        raise unknown_choice("technique", technique, TECHNIQUES)
    if technique == "pec":
        check_integer(pec_samples, name="pec_samples", low=1, high=MAX_PEC_SAMPLES, fix="give e.g. 200")
    if "pt" in technique.split("+"):
        check_integer(
            twirl_variants, name="twirl_variants", low=2, high=MAX_TWIRL_VARIANTS, fix=f"give e.g. {TWIRL_VARIANTS}"
        )
    if technique in READOUT_CORRECTED and qubits > MAX_REM_QUBITS:
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
    lre_options: LreOptions = LreOptions(),
    pec_samples: int = 200,
    cdr_training_circuits: int = CDR_TRAINING_CIRCUITS,
    twirl_variants: int = TWIRL_VARIANTS,
) -> int:
    """How many circuits `technique` sends to the executor in its largest call (each then measured in every
    group); for `lre`, at most (a circuit with fewer layers than `lre_options.chunks` runs fewer).

    >>> circuits_per_run("zne"), circuits_per_run("pec", pec_samples=300), circuits_per_run("rem")
    (3, 300, 1)
    >>> circuits_per_run("lre"), circuits_per_run("pt", twirl_variants=10), circuits_per_run("pt+zne")
    (10, 10, 48)
    """
    factors = len(zne_options.scale_factors)
    counts = {
        "zne": factors,
        "rem+zne": factors,
        "lre": lre_options.circuits(layers=lre_options.chunks),
        "pec": pec_samples,
        "cdr": cdr_training_circuits + 1,
        "pt": twirl_variants,
        "pt+zne": factors * twirl_variants,
        "rem+pt+zne": factors * twirl_variants,
        "auto": 3,  # Mitiq's ZNE settings: 3 scale factors at most
    }
    return counts.get(technique, 1)


def pauli_twirls(circuit: QPROGRAM, variants: int, *, seed: int | None) -> list[QuantumCircuit]:
    """`variants` Pauli-twirled copies of `circuit` (Mitiq's `pt.generate_pauli_twirl_variants`: random Paulis
    around each CX and CZ that leave the circuit's unitary unchanged), drawn with Python's `random` seeded
    with `seed`, whose state is restored afterwards.

    >>> from qiskit.quantum_info import Operator
    >>> bell = QuantumCircuit(2)
    >>> _ = bell.h(0), bell.cx(0, 1)
    >>> twirls = pauli_twirls(bell, 4, seed=1)
    >>> len(twirls), all(Operator(t).equiv(Operator(bell)) for t in twirls)
    (4, True)
    """
    state = random.getstate()
    random.seed(seed)
    try:
        return pt.generate_pauli_twirl_variants(circuit, num_circuits=variants)
    finally:
        random.setstate(state)


def extrapolation_coefficients(make_factory: Callable[[], zne.inference.Factory], scale_factors: Sequence[float]):
    """The c_i of a linear factory's zero-noise value sum c_i y_i, read off the factory itself (its value
    for each unit vector y = e_i).

    >>> extrapolation_coefficients(lambda: RichardsonFactory([1.0, 3.0]), [1.0, 3.0])
    array([ 1.5, -0.5])
    """
    unit = np.eye(len(scale_factors))
    return np.array([_extrapolate(make_factory, scale_factors, row) for row in unit])


def depolarized_value(observable: Observable) -> float:
    """Tr(O)/2^n: the coefficient of the observable's identity term (0 when it has none).

    >>> from mitiq import PauliString
    >>> depolarized_value(Observable(PauliString("I", coeff=1.5), PauliString("ZZ", coeff=-0.5)))
    1.5
    """
    return float(sum(np.real(p.coeff) for group in observable.groups for p in group.elements if not p.support()))


def depolarizing_representations(circuit: QPROGRAM, noise: NoiseSpec) -> list[pec.OperationRepresentation]:
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


def _factors(factors: Sequence[float]) -> str:
    return ",".join(f"{factor:g}" for factor in factors)


def _mean_and_error(values: Sequence[float]) -> tuple[float, float]:
    """The mean of `values` and its standard error (sample standard deviation over sqrt(n))."""
    array = np.asarray(values, dtype=float)
    return float(array.mean()), float(array.std(ddof=1) / math.sqrt(len(array)))


def _extrapolate(make_factory: Callable[[], zne.inference.Factory], scale_factors: Sequence[float], values) -> float:
    """A fresh factory's zero-noise value for these scaled values (Mitiq's `push` then `reduce`)."""
    factory = make_factory()
    for scale, value in zip(scale_factors, values):
        factory.push({"scale_factor": float(scale)}, float(value))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(factory.reduce())


def _extrapolation_error(
    make_factory: Callable[[], zne.inference.Factory],
    scale_factors: Sequence[float],
    values: Sequence[float],
    errors: Sequence[float],
    rng: np.random.Generator,
) -> float:
    """Standard error of the extrapolated value: sqrt(sum c_i^2 s_i^2) for a linear factory, else a
    parametric bootstrap (values drawn from N(y_i, s_i), refitted, `BOOTSTRAP_SAMPLES` times)."""
    errors_array = np.asarray(errors, dtype=float)
    if isinstance(make_factory(), LINEAR_FACTORIES):
        coefficients = extrapolation_coefficients(make_factory, scale_factors)
        return float(np.sqrt(np.sum(coefficients**2 * errors_array**2)))
    draws = rng.normal(values, errors_array, size=(BOOTSTRAP_SAMPLES, len(values)))
    fits = np.array([_extrapolate_or_nan(make_factory, scale_factors, draw) for draw in draws])
    fits = fits[np.isfinite(fits)]
    return float(np.std(fits, ddof=1)) if len(fits) > 1 else math.nan


def _extrapolate_or_nan(make_factory, scale_factors, values) -> float:
    try:
        return _extrapolate(make_factory, scale_factors, values)
    except Exception:  # a bootstrap draw whose fit fails (e.g. an exponential fit of values below its asymptote)
        return math.nan


def _zne(
    circuit: QPROGRAM,
    executor: AerExecutor,
    factory: zne.inference.Factory,
    scale_noise: Callable[[QPROGRAM, float], QPROGRAM],
    rng: np.random.Generator,
) -> tuple[float, float]:
    """Mitiq's `execute_with_zne` and the standard error of its extrapolation."""
    start = len(executor.standard_errors)
    value = zne.execute_with_zne(circuit, executor, factory=factory, scale_noise=scale_noise)
    scale_factors, values = factory.get_scale_factors(), factory.get_expectation_values()
    errors = executor.standard_errors[start:]
    fresh = copy.deepcopy(factory)
    return float(value), _extrapolation_error(lambda: copy.deepcopy(fresh).reset(), scale_factors, values, errors, rng)


def _twirled_zne(
    circuit: QPROGRAM,
    executor: AerExecutor,
    options: ZneOptions,
    asymptote: float,
    *,
    variants: int,
    seed: int | None,
    rng: np.random.Generator,
) -> tuple[float, float]:
    """ZNE whose every folded circuit is Pauli-twirled `variants` times; all circuits in one executor call,
    each scale factor's twirls averaged, then extrapolated."""
    scale_noise = options.scale_noise(seed)
    folded = [scale_noise(circuit, scale) for scale in options.scale_factors]
    twirled = [twirl for i, c in enumerate(folded) for twirl in pauli_twirls(c, variants, seed=_child(seed, i))]
    values = np.reshape(executor.evaluate(twirled), (len(folded), variants))
    means, errors = zip(*(_mean_and_error(row) for row in values))
    make_factory = functools.partial(options.factory_object, asymptote)
    value = _extrapolate(make_factory, options.scale_factors, means)
    return value, _extrapolation_error(make_factory, options.scale_factors, means, errors, rng)


def _child(seed: int | None, index: int) -> int | None:
    return None if seed is None else seed * 1009 + index


def _lre(circuit: QPROGRAM, executor: AerExecutor, options: LreOptions) -> tuple[float, float, str]:
    """LRE through Mitiq's scaling and coefficients (what `lre.execute_with_lre` does), circuits folded with
    `fold_global` per chunk; the value is sum c_i y_i, so its variance is sum c_i^2 s_i^2."""
    chunks = options.chunks_for(len(convert_to_mitiq(circuit)[0]))
    scaled = lre.multivariate_scaling.multivariate_layer_scaling(
        circuit, options.degree, options.fold_multiplier, chunks, fold_global
    )
    coefficients = np.asarray(
        lre.inference.multivariate_richardson_coefficients(circuit, options.degree, options.fold_multiplier, chunks)
    )
    values = np.asarray(executor.evaluate(scaled))
    errors = np.asarray(executor.standard_errors[-len(scaled) :])
    detail = f"degree {options.degree}, fold multiplier {options.fold_multiplier}, {chunks} chunks"
    return float(values @ coefficients), float(np.sqrt(np.sum(coefficients**2 * errors**2))), detail


def _cdr(
    workload: Workload,
    executor: AerExecutor,
    backend: Backend,
    training: int,
    seed: int | None,
    rng: np.random.Generator,
) -> tuple[float, float]:
    """CDR on the circuit compiled to {Rz, SX, X, CX} (Mitiq's requirement), trained on a noiseless Aer run.

    Its standard error: a parametric bootstrap of Mitiq's linear fit (ideal = a * noisy + b over the training
    circuits, then applied to the circuit's noisy value), every noisy and ideal value drawn from N(y, s).
    """
    compiled = convert_to_mitiq(transpile(workload.circuit, basis_gates=["rz", "sx", "x", "cx"], optimization_level=0))[
        0
    ]
    ideal = aer_backend(
        [workload.circuit],
        noise=None,
        device=backend.device.lower(),
        method="statevector",
        shots=backend.shots,
        seed=seed,
        threads=backend.simulator.options.max_parallel_threads,
    )
    simulator = ideal.executor(workload.observable)
    value = cdr.execute_with_cdr(
        compiled,
        executor,
        simulator=simulator,
        num_training_circuits=training,
        random_state=seed,
    )
    if not executor.standard_errors:  # a Clifford circuit: Mitiq returned the simulator's value
        return float(value), simulator.standard_errors[0]
    noisy, noisy_errors = np.array(executor.quantum_results, dtype=float), np.array(executor.standard_errors)
    exact, exact_errors = np.array(simulator.quantum_results, dtype=float), np.array(simulator.standard_errors)
    fits = []
    for _ in range(BOOTSTRAP_SAMPLES):
        x = rng.normal(noisy, noisy_errors)
        y = rng.normal(exact, exact_errors)
        slope, intercept = np.polyfit(x[1:], y, 1)
        fits.append(slope * x[0] + intercept)
    return float(value), float(np.std(fits, ddof=1))


def auto_settings(seed: int | None, qubits: int = 2) -> calibration.Settings:
    """Mitiq's `calibration.ZNE_SETTINGS` strategies (Richardson and linear factories at scale factors 1,2,3 and
    1,3,5, global and random folding, the random folding seeded) on its GHZ and mirror benchmarks at `qubits`
    qubits (Mitiq's default is 2; at most `MAX_CALIBRATION_QUBITS`). Its RB benchmark is left out, as Mitiq
    draws it unseeded (the pick would change from run to run), and its W benchmark, whose problem id Mitiq 1.1
    overwrites beyond 2 qubits (`Settings.make_problems` reuses the loop variable `i`).

    >>> [problem.type for problem in auto_settings(0, 4).make_problems()]
    ['ghz', 'mirror']
    """
    strategies = []
    for strategy in calibration.ZNE_SETTINGS.technique_params:
        strategy = dict(strategy)
        if strategy["scale_noise"] is fold_gates_at_random:
            strategy["scale_noise"] = functools.partial(fold_gates_at_random, seed=seed)
        strategies.append(strategy)
    width = max(2, min(qubits, MAX_CALIBRATION_QUBITS))
    benchmarks = [
        {**benchmark, "num_qubits": width}
        for benchmark in calibration.ZNE_SETTINGS.benchmarks
        if benchmark["circuit_type"] in ("ghz", "mirror")
    ]
    return calibration.Settings(benchmarks=benchmarks, strategies=strategies)


def _auto(
    circuit: QPROGRAM, executor: AerExecutor, backend: Backend, asymptote: float, rng: np.random.Generator
) -> tuple[float, float, str, int, int]:
    """Mitiq's calibration on `backend` (its benchmark circuits' bitstrings), then the best strategy on the
    circuit through `executor`. Returns value, standard error, what was picked, and calibration's circuits and
    executor calls."""

    def bitstrings(circuits: list[QuantumCircuit]) -> list[MeasurementResult]:
        return calibrating.run(circuits)

    calibrating = dataclasses.replace(backend, shots=min(backend.shots, CALIBRATION_SHOTS))
    width = len(circuit.all_qubits())
    calibrator = calibration.Calibrator(bitstrings, frontend="qiskit", settings=auto_settings(backend.seed, width))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        calibrator.run()
    strategy = calibrator.best_strategy()
    factory = copy.deepcopy(strategy.technique_params["factory"]).reset()
    scale_noise = strategy.technique_params["scale_noise"]
    value, error = _zne(circuit, executor, factory, scale_noise, rng)
    folding = getattr(scale_noise, "func", scale_noise).__name__
    scales = _factors(factory.get_scale_factors())
    calibration_circuits = len(calibrator.executor.executed_circuits)
    detail = (
        f"zne with {type(factory).__name__} at scale factors {scales}, {folding}: the best of "
        f"{len(calibrator.strategies)} strategies on {len(calibrator.problems)} Mitiq benchmark circuits of "
        f"{width} qubits ({calibration_circuits} calibration circuits of {calibrating.shots} shots)"
    )
    return value, error, detail, calibration_circuits, calibrator.executor.calls_to_executor
