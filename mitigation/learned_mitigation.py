"""PEC and PEA from learned layer noise (`layer_noise.LearnedNoise`): expectation values with error bars and cost.

Every layer of the circuit is Pauli-twirled (as when it was learned), so its noise is the learned Pauli-Lindblad
channel Lambda = prod_k exp(lambda_k (P_k . P_k - 1)) after the layer. Each factor is (1 - q_k) id + q_k P_k . P_k
with q_k = (1 - exp(-2 lambda_k)) / 2.

- **PEC** (`pec_expectation`): the inverse of each factor is gamma_k ((1 - q_k) id - q_k P_k . P_k) with
  gamma_k = exp(2 lambda_k), so each sample circuit inserts P_k after the layer with probability q_k and a sign -1
  per insertion; the estimate is gamma * mean(sign * value), gamma = prod over layer instances of
  exp(2 sum_k lambda_k). Unbiased for the learned model; its variance is gamma^2 times that of a noisy estimate
  from as many circuits (`sampling_overhead` = gamma^2).
- **PEA** (`pea_expectation`): at noise factor f >= 1 each sample inserts P_k with probability
  (1 - exp(-2 (f - 1) lambda_k)) / 2 (no signs), amplifying the layer's noise to f times the learned rates; the
  values at each factor are extrapolated to f = 0 (`extrapolate`: linear, exponential towards the observable's
  fully depolarized value Tr(O)/2^n, or polynomial_degree_k, runtime's names). The error bar propagates each
  factor's error (the spread of its samples over sqrt(samples)) through the fit; `systematic_error` is the largest
  distance to the other extrapolators that the factors allow (the model's part, beside shot noise).

`pec_circuits` and `pea_circuits` return the sampled circuits (and signs) without running them, for a caller that
measures several observables on the same samples.

>>> from qiskit import QuantumCircuit
>>> from qec.mitigation.layer_noise import Layer, LayerNoise, LearnedNoise, LocalPauli
>>> layer = Layer.of([("cx", (0, 1))])
>>> noise = LearnedNoise(2, (LayerNoise(layer, (LocalPauli("XX", (0, 1)),), (0.01,), (0.001,)),), 1000, (0, 2), 8)
>>> circuit = QuantumCircuit(2)
>>> _ = circuit.h(0), circuit.cx(0, 1), circuit.cx(0, 1)
>>> samples = pec_circuits(circuit, noise, samples=10, seed=1)
>>> round(samples.gamma, 4), len(samples.circuits), set(samples.signs) <= {-1, 1}
(1.0408, 10, True)
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from mitiq import Observable
from qiskit import QuantumCircuit
from qiskit.circuit import CircuitInstruction
from qiskit.quantum_info import SparsePauliOp

from qec.errors import QecInputError
from qec.mitigation.backends import Backend, check_integer
from qec.mitigation.layer_noise import LayeredCircuit, LayerNoise, LearnedNoise, layered, twirl_gates
from qec.mitigation.observables import PauliSum, pauli_sum

DEFAULT_PEC_SAMPLES = 200
DEFAULT_PEA_SAMPLES = 100  # per noise factor
MAX_SAMPLES = 100_000
DEFAULT_NOISE_FACTORS = (1.0, 1.5, 2.0, 3.0)
MAX_NOISE_FACTOR = 100.0
_POLYNOMIAL = re.compile(r"polynomial_degree_([1-7])")
EXTRAPOLATORS = ("linear", "exponential", *(f"polynomial_degree_{k}" for k in range(1, 8)))


@dataclass(frozen=True)
class SampledCircuits:
    """Circuits drawn from a quasi-probability or amplified-noise distribution: `signs[i]` (+1 or -1) weighs
    circuit i, and the estimate is `gamma` * mean(signs * values) (`gamma` 1 and all signs +1 for PEA)."""

    circuits: tuple[QuantumCircuit, ...]
    signs: tuple[int, ...]
    gamma: float


@dataclass(frozen=True)
class PecEstimate:
    """PEC's value, its 1-sigma error (the spread of gamma * sign * value over the samples, which holds shot and
    sampling noise), gamma and the sampling overhead gamma^2, and the cost: `circuits` run of `shots` each."""

    value: float
    standard_error: float
    gamma: float
    sampling_overhead: float
    samples: int
    circuits: int
    shots: int


@dataclass(frozen=True)
class PeaEstimate:
    """PEA's zero-noise value by `extrapolator`, its 1-sigma error (shot and sampling noise through the fit), the
    `systematic_error` (the largest distance to another extrapolator's value; 0 when none applies), the value and
    error at each noise factor, the sampling overhead (shots for this error bar over those of the unamplified
    estimate at the same error bar) and the cost: `circuits` run of `shots` each."""

    value: float
    standard_error: float
    systematic_error: float
    extrapolator: str
    noise_factors: tuple[float, ...]
    values: tuple[float, ...]
    standard_errors: tuple[float, ...]
    sampling_overhead: float
    circuits: int
    shots: int


def pec_circuits(
    circuit: QuantumCircuit | LayeredCircuit,
    learned: LearnedNoise,
    *,
    samples: int,
    seed: int | None = None,
    noise_gain: float = 0.0,
) -> SampledCircuits:
    """`samples` twirled copies of `circuit`, each with Paulis drawn from the inverse of every layer's learned
    channel inserted after that layer, their signs and gamma. `noise_gain` g in [0, 1] inverts only (1 - g) times
    the rates (g = 0: full PEC), leaving g times the learned noise; gamma is then prod exp(2 (1 - g) sum rates)."""
    parts = _parts(circuit, learned)
    check_integer(samples, name="samples", low=2, high=MAX_SAMPLES, fix=f"give e.g. {DEFAULT_PEC_SAMPLES}")
    if not 0 <= noise_gain <= 1:
        raise QecInputError(f"noise_gain must be in [0, 1] (0: full PEC), got {noise_gain!r}")
    noises = [learned.for_layer(layer) for layer in parts.layers]
    generators = [_generators(noise, parts.num_qubits) for noise in noises]
    probabilities = [_probabilities(noise, 1.0 - noise_gain) for noise in noises]
    rng = np.random.default_rng(seed)
    circuits, signs = [], []
    for _ in range(samples):
        sampled, flips = _sample(parts, generators, probabilities, rng)
        circuits.append(sampled)
        signs.append(-1 if flips % 2 else 1)
    gamma = math.prod(noise.gamma ** (1.0 - noise_gain) for noise in noises)
    return SampledCircuits(tuple(circuits), tuple(signs), gamma)


def pea_circuits(
    circuit: QuantumCircuit | LayeredCircuit,
    learned: LearnedNoise,
    *,
    noise_factor: float,
    samples: int,
    seed: int | None = None,
) -> SampledCircuits:
    """`samples` twirled copies of `circuit` whose every layer's learned noise is amplified to `noise_factor` (>= 1)
    times its rates by Paulis inserted after it."""
    parts = _parts(circuit, learned)
    _check_factors((noise_factor,))
    check_integer(samples, name="samples", low=2, high=MAX_SAMPLES, fix=f"give e.g. {DEFAULT_PEA_SAMPLES}")
    noises = [learned.for_layer(layer) for layer in parts.layers]
    generators = [_generators(noise, parts.num_qubits) for noise in noises]
    probabilities = [_probabilities(noise, noise_factor - 1) for noise in noises]
    rng = np.random.default_rng(seed)
    circuits = tuple(_sample(parts, generators, probabilities, rng)[0] for _ in range(samples))
    return SampledCircuits(circuits, (1,) * samples, 1.0)


def pec_expectation(
    circuit: QuantumCircuit,
    observable: str | SparsePauliOp | Observable | PauliSum,
    learned: LearnedNoise,
    backend: Backend,
    *,
    samples: int = DEFAULT_PEC_SAMPLES,
    seed: int | None = None,
    readout: float | Sequence[float] = 0.0,
) -> PecEstimate:
    """<observable> on `circuit` (bound, no measurements) by PEC with the `learned` noise of its layers, each sample
    circuit measured with `backend.shots` shots per group of the observable, all in one executor call.

    `readout`: readout flip rates to invert (as `Backend.executor`); PEC itself leaves readout error alone.
    """
    terms = pauli_sum(observable, num_qubits=circuit.num_qubits)
    sampled = pec_circuits(circuit, learned, samples=samples, seed=seed)
    values = _evaluate(backend, terms, sampled.circuits, readout)
    weighted = sampled.gamma * np.array(sampled.signs) * values
    groups = len(terms.groups())
    return PecEstimate(
        value=float(weighted.mean()),
        standard_error=float(weighted.std(ddof=1) / math.sqrt(len(weighted))),
        gamma=sampled.gamma,
        sampling_overhead=sampled.gamma**2,
        samples=samples,
        circuits=samples * groups,
        shots=samples * groups * backend.shots,
    )


def pea_expectation(
    circuit: QuantumCircuit,
    observable: str | SparsePauliOp | Observable | PauliSum,
    learned: LearnedNoise,
    backend: Backend,
    *,
    noise_factors: Sequence[float] = DEFAULT_NOISE_FACTORS,
    extrapolator: str = "exponential",
    samples: int = DEFAULT_PEA_SAMPLES,
    seed: int | None = None,
    readout: float | Sequence[float] = 0.0,
) -> PeaEstimate:
    """<observable> on `circuit` (bound, no measurements) extrapolated to zero noise from `samples` circuits at each
    of `noise_factors` (distinct, >= 1), the learned noise amplified by PEA, all in one executor call.

    `extrapolator`: one of `EXTRAPOLATORS`. Raises QecInputError for too few factors for the fit.
    """
    factors = tuple(float(f) for f in noise_factors)
    _check_factors(factors)
    _check_extrapolator(extrapolator, factors)
    terms = pauli_sum(observable, num_qubits=circuit.num_qubits)
    parts = _parts(circuit, learned)
    batches = [
        pea_circuits(parts, learned, noise_factor=f, samples=samples, seed=None if seed is None else seed + 7919 * i)
        for i, f in enumerate(factors)
    ]
    values = _evaluate(backend, terms, [c for batch in batches for c in batch.circuits], readout).reshape(
        len(factors), samples
    )
    means = values.mean(axis=1)
    errors = values.std(axis=1, ddof=1) / math.sqrt(samples)
    asymptote = dict(terms.terms).get("I" * terms.num_qubits, 0.0)
    value, error = extrapolate(factors, means, errors, extrapolator=extrapolator, asymptote=asymptote)
    others = [
        extrapolate(factors, means, errors, extrapolator=other, asymptote=asymptote)[0]
        for other in ("linear", "exponential", "polynomial_degree_2")
        if other != extrapolator and len(factors) >= _points(other)
    ]
    finite = [abs(other - value) for other in others if math.isfinite(other)]
    groups = len(terms.groups())
    return PeaEstimate(
        value=value,
        standard_error=error,
        systematic_error=max(finite, default=0.0),
        extrapolator=extrapolator,
        noise_factors=factors,
        values=tuple(float(v) for v in means),
        standard_errors=tuple(float(e) for e in errors),
        sampling_overhead=float(len(factors) * (error / errors[0]) ** 2) if errors[0] > 0 else math.inf,
        circuits=len(factors) * samples * groups,
        shots=len(factors) * samples * groups * backend.shots,
    )


def extrapolate(
    noise_factors: Sequence[float],
    values: Sequence[float],
    standard_errors: Sequence[float],
    *,
    extrapolator: str,
    asymptote: float = 0.0,
) -> tuple[float, float]:
    """The value at noise factor 0 and its 1-sigma error, by a weighted least-squares fit.

    `linear` and `polynomial_degree_k` fit a polynomial (the error from the fit's covariance); `exponential` fits
    a line to log|y - asymptote| (the error by the delta method), and gives nan when the values do not all lie on
    one side of the asymptote.

    >>> round(extrapolate([1, 2, 3], [0.8, 0.6, 0.4], [0.01, 0.01, 0.01], extrapolator="linear")[0], 12)
    1.0
    >>> round(extrapolate([1, 2], [0.5, 0.25], [0.01, 0.01], extrapolator="exponential")[0], 6)
    1.0
    """
    x = np.asarray(noise_factors, dtype=float)
    y = np.asarray(values, dtype=float)
    sigma = np.maximum(np.asarray(standard_errors, dtype=float), 1e-12)
    _check_extrapolator(extrapolator, tuple(x))
    if extrapolator == "exponential":
        shifted = y - asymptote
        if not (np.all(shifted > 0) or np.all(shifted < 0)):
            return math.nan, math.nan
        sign = 1.0 if shifted[0] > 0 else -1.0
        intercept, variance = _polynomial_intercept(x, np.log(sign * shifted), sigma / np.abs(shifted), 1)
        amplitude = sign * math.exp(intercept)
        return float(asymptote + amplitude), float(abs(amplitude) * math.sqrt(variance))
    degree = 1 if extrapolator == "linear" else int(extrapolator.rsplit("_", 1)[1])
    intercept, variance = _polynomial_intercept(x, y, sigma, degree)
    return float(intercept), float(math.sqrt(variance))


def _polynomial_intercept(x: np.ndarray, y: np.ndarray, sigma: np.ndarray, degree: int) -> tuple[float, float]:
    """The weighted least-squares polynomial's value at 0 and its variance."""
    design = np.vander(x, degree + 1, increasing=True) / sigma[:, None]
    covariance = np.linalg.pinv(design.T @ design)
    coefficients = covariance @ design.T @ (y / sigma)
    return float(coefficients[0]), float(covariance[0, 0])


def _points(extrapolator: str) -> int:
    return 2 if extrapolator in ("linear", "exponential") else int(extrapolator.rsplit("_", 1)[1]) + 1


def _check_extrapolator(extrapolator: str, factors: tuple[float, ...]) -> None:
    if extrapolator not in ("linear", "exponential") and not _POLYNOMIAL.fullmatch(extrapolator):
        raise QecInputError(f"unknown extrapolator {extrapolator!r}: choose one of {', '.join(EXTRAPOLATORS)}")
    if len(set(factors)) < _points(extrapolator):
        raise QecInputError(
            f"the {extrapolator} fit needs at least {_points(extrapolator)} distinct noise factors, got "
            f"{len(set(factors))}: give e.g. {','.join(str(1 + k) for k in range(_points(extrapolator)))}"
        )


def _check_factors(factors: tuple[float, ...]) -> None:
    if not factors or not all(isinstance(f, float) and 1 <= f <= MAX_NOISE_FACTOR for f in factors):
        raise QecInputError(
            f"noise factors must be numbers in [1, {MAX_NOISE_FACTOR:g}], got {list(factors)}: give e.g. 1,1.5,2,3"
        )
    if len(set(factors)) < len(factors):
        raise QecInputError(f"noise factors must be distinct, got {list(factors)}: give e.g. 1,1.5,2,3")


def _parts(circuit: QuantumCircuit | LayeredCircuit, learned: LearnedNoise) -> LayeredCircuit:
    if isinstance(circuit, QuantumCircuit) and circuit.parameters:
        raise QecInputError(
            f"the circuit has {len(circuit.parameters)} unbound parameters: bind their values first "
            "(the learned noise holds for every value)"
        )
    parts = circuit if isinstance(circuit, LayeredCircuit) else layered(circuit)
    if parts.num_qubits != learned.num_qubits:
        raise QecInputError(
            f"the circuit has {parts.num_qubits} qubits but the noise was learned on {learned.num_qubits}: learn it "
            "on this (transpiled) circuit"
        )
    return parts


def _probabilities(noise: LayerNoise, scale: float) -> np.ndarray:
    """Each generator's insertion probability (1 - exp(-2 scale lambda_k)) / 2."""
    return (1 - np.exp(-2 * scale * np.array(noise.rates))) / 2


def _generators(noise: LayerNoise, num_qubits: int) -> np.ndarray:
    """bool, shape (generators, 2, num_qubits): each generator's x and z bits."""
    return np.array([generator.symplectic(num_qubits) for generator in noise.generators], dtype=bool).reshape(
        len(noise.generators), 2, num_qubits
    )


def _sample(
    parts: LayeredCircuit, generators: list[np.ndarray], probabilities: list[np.ndarray], rng: np.random.Generator
) -> tuple[QuantumCircuit, int]:
    """One twirled copy of the circuit with a drawn Pauli after each layer (each generator, `generators[i]` of
    layer i as `_generators` gives them, drawn with its probability), and how many generators were drawn."""
    circuit = parts.template.copy_empty_like()
    drawn = 0
    for instruction in parts.singles[0]:
        _copy_in(circuit, instruction)
    for layer, paulis, p, singles in zip(parts.layers, generators, probabilities, parts.singles[1:]):
        chosen = np.flatnonzero(rng.random(len(p)) < p)
        x, z = np.bitwise_xor.reduce(paulis[chosen], axis=0) if len(chosen) else np.zeros((2, parts.num_qubits), bool)
        drawn += len(chosen)
        twirl_gates(circuit, layer, rng, (x, z))
        for instruction in singles:
            _copy_in(circuit, instruction)
    return circuit, drawn


def _copy_in(circuit: QuantumCircuit, instruction: CircuitInstruction) -> None:
    """`circuit.append(instruction)` without its deep copy of a standard gate's parameters (the circuit keeps
    those in its own data, so nothing is shared between circuits)."""
    if instruction.is_standard_gate() or not instruction.is_parameterized():
        circuit._append(instruction)
    else:
        circuit.append(instruction)


def _evaluate(
    backend: Backend, terms: PauliSum, circuits: Sequence[QuantumCircuit], readout: float | Sequence[float]
) -> np.ndarray:
    """Each circuit's <terms> through the backend's batched executor (every circuit run, none deduplicated)."""
    executor = backend.executor(terms.to_mitiq(), readout=readout)
    return np.array(executor.evaluate(list(circuits), force_run_all=True), dtype=float)
