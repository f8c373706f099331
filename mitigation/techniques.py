"""Mitigation techniques, each a call into Mitiq with a batched executor and a known noise model.

A technique is one entry in one registry: `TECHNIQUES` maps each name to a `Technique` (its name, a one-line
description, its options object with their defaults, the function that runs it through Mitiq, and what it needs:
a readout-corrected executor, the noise's depolarizing rates). The CLI's choices and help, the cost estimate
(`circuits_per_run`) and the report's JSON are read from it. Following Mitiq, a technique's knobs are one frozen
options object, checked when it is built: `ZneOptions`, `LreOptions`, `PecOptions`, `CdrOptions`, `TwirlOptions`,
`TwirledZneOptions`, or `NoOptions`. `apply_technique` is the one entry point; `register_technique` adds a
technique of your own (or pass the `Technique` object itself wherever a name is taken).

>>> print("\\n".join(f"{name}: {technique.description}" for name, technique in TECHNIQUES.items()))
none: the noisy value, unmitigated
zne: zero-noise extrapolation
pec: probabilistic error cancellation from the depolarizing rates
rem: readout-error mitigation by the inverse confusion matrix
ddd: digital dynamical decoupling, XX rule
cdr: Clifford data regression, trained on a noiseless Aer run
rem+zne: zne on the readout-corrected executor
lre: layerwise Richardson extrapolation
pt: the mean over Pauli twirls of CX and CZ
pt+zne: zne with every folded circuit Pauli-twirled
rem+pt+zne: pt+zne on the readout-corrected executor
auto: Mitiq's calibration picks a zne strategy, then runs it

Every technique sends all its circuits to the executor in one call (`Estimate.executor_calls`), except
`auto`'s calibration, which Mitiq runs one benchmark circuit at a time, and PEC/CDR beyond 1000 circuits.
ZNE: `zne.execute_with_zne` with a factory (`FACTORIES`) and a noise scaling (`SCALINGS`); LRE:
`lre.multivariate_layer_scaling` and `lre.multivariate_richardson_coefficients`; PEC: `pec.execute_with_pec`;
DDD: `ddd.execute_with_ddd`; CDR: `cdr.execute_with_cdr`; Pauli twirling: `pt.generate_pauli_twirl_variants`;
auto: `calibration.Calibrator` with Mitiq's ZNE settings.

**Standard errors** (`Estimate.standard_error`, 1 sigma, shot noise only): the executor records each
circuit's shot-noise error (`backends.AerExecutor.standard_errors`). `none`, `rem`, `ddd`: that error.
Linear extrapolations (Richardson, linear and polynomial factories, LRE) are linear combinations
sum c_i y_i of the scaled values, so their variance is sum c_i^2 s_i^2 (the c_i read off the factory
itself, `extrapolation_coefficients`); exponential factories and CDR's fit take a parametric bootstrap
(`BOOTSTRAP_SAMPLES` draws of the values from N(y_i, s_i), refitted). `pt` and `pt+zne`: the spread of
the twirled variants' values over sqrt(variants) (twirl and shot noise together). PEC: the spread of its
signed samples over sqrt(samples) (with n - 1, where Mitiq's `pec_error` divides by n; 2 samples at least, and
a warning below `FEW_PEC_SAMPLES`). `auto`: that of the strategy it picked. No error bar is 0 because every shot
agreed: a group's shot-noise variance is floored at one shot in `shots` (`backends._group_value_and_error`).

**Honest extrapolations**: ZNE's scale factors must be distinct and at least as many as the fit has free
parameters (`Extrapolation.points`), and LRE's degree and fold multiplier at least 1 (its scale factors
1 + 2 k * fold_multiplier are then distinct and its Richardson system square), or the options refuse to be built;
scale factors that fold the circuit to coinciding noise levels (folding rounds to whole folds: 1, 1.1, 1.2 on a
3-gate circuit is 1, 1, 1) are refused before they run (`check_noise_levels`), and so is a CDR fit whose training
circuits all gave one noisy value. REM refuses a singular or near-singular confusion matrix (`check_technique`,
`backends.check_rem_rates`).

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
>>> from qec.mitigation.workloads import workload
>>> ghz, noise = workload("ghz", qubits=3), NoiseSpec(readout=0.05)
>>> backend = aer_backend([ghz.circuit], noise=noise, device="cpu", shots=2000, seed=3, threads=1)
>>> estimate = apply_technique("rem", ghz, backend=backend, noise=noise)
>>> abs(estimate.value - 1) < 0.15, estimate.circuits, 0.005 < estimate.standard_error < 0.05
(True, 1, True)
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
import numbers
import random
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import cirq
import numpy as np
from mitiq import QPROGRAM, MeasurementResult, Observable, calibration, cdr, ddd, lre, pec, pt, zne
from mitiq.interface import convert_to_mitiq
from mitiq.zne.inference import ExpFactory, LinearFactory, PolyExpFactory, PolyFactory, RichardsonFactory
from mitiq.zne.scaling import fold_gates_at_random, fold_global, insert_id_layers
from qiskit import QuantumCircuit, transpile

from qec.errors import QecInputError, unknown_choice
from qec.mitigation.backends import (
    MAX_SEED,
    AerExecutor,
    Backend,
    aer_backend,
    check_instance,
    check_integer,
    check_rem_rates,
    numpy_global_seed,
)
from qec.mitigation.noise_models import NoiseSpec
from qec.mitigation.workloads import Workload


@dataclass(frozen=True)
class Extrapolation:
    """A ZNE fit: `make(scale_factors, asymptote)` builds Mitiq's factory, and the fit needs at least `points`
    distinct scale factors, its free parameters: 2 for a line; k + 1 for a polynomial of order k; 2 for
    Richardson, which then interpolates through every factor; 2 for the exponential fits here, which are given
    their asymptote, so Mitiq fits a line to log(y - asymptote)."""

    make: Callable[[tuple[float, ...], float], zne.inference.Factory]
    points: int = 2


# Each takes (scale_factors, asymptote): the exponential fits decay toward the fully depolarized value.
FACTORIES: dict[str, Extrapolation] = {
    "richardson": Extrapolation(lambda scale_factors, asymptote: RichardsonFactory(scale_factors)),
    "linear": Extrapolation(lambda scale_factors, asymptote: LinearFactory(scale_factors)),
    "exponential": Extrapolation(lambda scale_factors, asymptote: ExpFactory(scale_factors, asymptote=asymptote)),
    "poly-exp": Extrapolation(
        lambda scale_factors, asymptote: PolyExpFactory(scale_factors, order=1, asymptote=asymptote)
    ),
}
# Factories whose zero-noise value is a fixed linear combination of the scaled values.
LINEAR_FACTORIES = (RichardsonFactory, LinearFactory, PolyFactory)
SCALINGS = ("global", "random", "identity")
# ZNE: each scale factor is one more circuit, folded to `scale` times the gates. Beyond ~10 a circuit is
# fully depolarized; 100 keeps a folded circuit within 100x the original.
MAX_SCALE_FACTOR = 100.0
MAX_SCALE_FACTORS = 32
# PEC: Mitiq samples and builds all `samples` circuits at once; its error falls as 1/sqrt(samples).
MAX_PEC_SAMPLES = 10_000
FEW_PEC_SAMPLES = 30  # below this, the report warns that the spread of the samples is a rough error bar
MIN_PEC_SAMPLES = 2  # its error bar is the spread of the signed samples: one sample has none (Mitiq says "± 0")
# REM inverts a 2^n x 2^n confusion matrix and fits a 2^n-outcome distribution (SLSQP) per measured group:
# 10 qubits took 15 s per group on 2 cores, each added qubit several times more; 12 is the most we run.
MAX_REM_QUBITS = 12
# CDR fits ideal = a * noisy + b over its training circuits: 2 at least; each is one more circuit.
CDR_TRAINING_CIRCUITS = 10
MAX_CDR_TRAINING_CIRCUITS = 1000
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


# --- Options: one frozen object per technique, checked when it is built ---


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


@dataclass(frozen=True)
class NoOptions:
    """The options of a technique that has no knobs."""


@dataclass(frozen=True)
class ZneOptions:
    """How ZNE scales and extrapolates: factory name (`FACTORIES`), noise scaling name (`SCALINGS`), and scale
    factors >= 1, distinct, at least as many as the factory's fit needs (1 first by convention: the noisy run).

    >>> ZneOptions(scale_factors=(1, 1, 1))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    qec.errors.QecInputError: ZNE scale factors must be distinct, got (1, 1, 1): ...
    """

    factory: str = "richardson"
    scaling: str = "global"
    scale_factors: tuple[float, ...] = (1.0, 3.0, 5.0)

    def __post_init__(self):
        if not isinstance(self.factory, str) or self.factory not in FACTORIES:
            raise unknown_choice("ZNE factory", self.factory, FACTORIES)
        if not isinstance(self.scaling, str) or self.scaling not in SCALINGS:
            raise unknown_choice("ZNE scaling", self.scaling, SCALINGS)
        if isinstance(self.scale_factors, (str, bytes)) or not isinstance(self.scale_factors, Sequence):
            raise QecInputError(
                f"ZNE scale factors must be a tuple of numbers, got {type(self.scale_factors).__name__}: give e.g. "
                "(1, 3, 5)"
            )
        factors = self.scale_factors
        shown = ", ".join(f"{s:g}" if _is_real(s) else repr(s) for s in factors[:8]) + (
            ", ..." if len(factors) > 8 else ""
        )
        if not 2 <= len(factors) <= MAX_SCALE_FACTORS or not all(
            _is_real(s) and 1 <= s <= MAX_SCALE_FACTOR for s in factors
        ):  # False for NaN
            raise QecInputError(
                f"ZNE needs 2 to {MAX_SCALE_FACTORS} scale factors, each in [1, {MAX_SCALE_FACTOR:g}], "
                f"got ({shown}): give e.g. 1,3,5"
            )
        if len(set(factors)) < len(factors):
            raise QecInputError(
                f"ZNE scale factors must be distinct, got ({shown}): a repeated factor is the same noise level "
                "again, which gives an extrapolation nothing to fit; give e.g. 1,3,5"
            )
        points = FACTORIES[self.factory].points
        if len(factors) < points:
            raise QecInputError(
                f"the {self.factory} fit needs at least {points} distinct scale factors, got ({shown}): give "
                f"e.g. {','.join(str(1 + 2 * k) for k in range(points))}"
            )

    def factory_object(self, asymptote: float = 0.0) -> zne.inference.Factory:
        """A fresh Mitiq factory for these scale factors; `asymptote`: the value at infinite noise.

        Under depolarizing noise an observable O tends to Tr(O)/2^n, its identity coefficient
        (`depolarized_value`); exponential fits use it, polynomial ones ignore it.
        """
        return FACTORIES[self.factory].make(self.scale_factors, float(asymptote))

    def scale_noise(self, seed: int | None) -> Callable[[QuantumCircuit, float], QuantumCircuit]:
        """Mitiq's noise-scaling function for `scaling`."""
        if self.scaling == "random":
            return functools.partial(fold_gates_at_random, seed=seed)
        return fold_global if self.scaling == "global" else insert_id_layers


@dataclass(frozen=True)
class LreOptions:
    """Layerwise Richardson extrapolation: polynomial `degree` in each chunk's noise scale, each chunk folded
    to 1 + 2 * `fold_multiplier` * k times its gates, the circuit cut into `chunks` chunks of layers (fewer
    when it has fewer layers). It runs C(chunks + degree, degree) circuits: 10 by default. A degree or fold
    multiplier of at least 1 keeps the scale factors distinct, so Mitiq's Richardson system is solvable.

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
class PecOptions:
    """PEC: `samples` circuits drawn from the quasi-probability representations (its error, the spread of the
    signed samples over sqrt(samples), falls as 1/sqrt(samples); so 2 samples at least).

    >>> PecOptions(samples=1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    qec.errors.QecInputError: pec samples must be an integer in [2, 10,000], got 1: its error bar is the spread ...
    """

    samples: int = 200

    def __post_init__(self):
        check_integer(
            self.samples,
            name="pec samples",
            low=MIN_PEC_SAMPLES,
            high=MAX_PEC_SAMPLES,
            fix="its error bar is the spread of the samples, so 2 at least: give e.g. 200",
        )


@dataclass(frozen=True)
class CdrOptions:
    """CDR: `training_circuits` near-Clifford circuits for its fit of ideal against noisy values (2 at least,
    the fit's two parameters)."""

    training_circuits: int = CDR_TRAINING_CIRCUITS

    def __post_init__(self):
        check_integer(
            self.training_circuits,
            name="cdr training_circuits",
            low=2,
            high=MAX_CDR_TRAINING_CIRCUITS,
            fix=f"give e.g. {CDR_TRAINING_CIRCUITS}",
        )


@dataclass(frozen=True)
class TwirlOptions:
    """Pauli twirling: `variants` twirled copies of each circuit (2 at least, for their spread)."""

    variants: int = TWIRL_VARIANTS

    def __post_init__(self):
        check_integer(
            self.variants, name="twirl variants", low=2, high=MAX_TWIRL_VARIANTS, fix=f"give e.g. {TWIRL_VARIANTS}"
        )


@dataclass(frozen=True)
class TwirledZneOptions:
    """ZNE whose every folded circuit is Pauli-twirled: the ZNE options and the twirling options."""

    zne: ZneOptions = ZneOptions()
    twirl: TwirlOptions = TwirlOptions()

    def __post_init__(self):
        if not isinstance(self.zne, ZneOptions) or not isinstance(self.twirl, TwirlOptions):
            raise QecInputError(
                f"TwirledZneOptions takes a ZneOptions and a TwirlOptions, got {type(self.zne).__name__} and "
                f"{type(self.twirl).__name__}"
            )


# --- The registry ---


@dataclass(frozen=True)
class Estimate:
    """A mitigated expectation value, its 1-sigma standard error (shot noise through the technique; None
    only where none could be formed), its cost, and `detail`: what the technique did, in words (for `auto`,
    the technique and settings that calibration picked).

    `systematic_error`: for extrapolations (ZNE and its variants), the largest shift of the zero-noise value
    when the same scaled values are fitted by the other models (`systematic_fits` names them; see
    `extrapolation_spread`); None where the technique has no such model. `warnings`: one line each, what the
    run could not do or what Mitiq warned about (`summarized_warnings`).
    """

    value: float
    standard_error: float | None
    circuits: int
    executor_calls: int
    detail: str = ""
    systematic_error: float | None = None
    systematic_fits: str = ""
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class TechniqueRun:
    """What a technique's `run` is given: the workload (a Qiskit circuit without measurements, a Mitiq
    `Observable`), the batched Mitiq executor on the backend (readout-corrected when the technique says so), the
    backend and its noise, the technique's options object, and a seed for whatever it draws."""

    workload: Workload
    executor: AerExecutor
    backend: Backend
    noise: NoiseSpec
    options: Any
    seed: int | None

    @functools.cached_property
    def circuit(self) -> cirq.Circuit:
        """The workload's circuit as Mitiq's own (Cirq) circuit, converted once: Mitiq folds, twirls and samples
        it without converting each new circuit back and forth (the executor turns each into Qiskit)."""
        return convert_to_mitiq(self.workload.circuit)[0]

    @functools.cached_property
    def rng(self) -> np.random.Generator:
        """A NumPy generator seeded with `seed` (bootstraps of the standard error)."""
        return np.random.default_rng(self.seed)

    @property
    def asymptote(self) -> float:
        """The observable's value at infinite noise under depolarizing noise (`depolarized_value`)."""
        return depolarized_value(self.workload.observable)

    def estimate(
        self,
        value: float,
        standard_error: float | None,
        detail: str = "",
        *,
        circuits: int = 0,
        calls: int = 0,
        systematic: tuple[float, str] | None = None,
    ) -> Estimate:
        """An `Estimate` of `value` whose cost is what went through `executor` (each circuit measured in every
        group of the observable) plus `circuits` and `calls` the technique ran outside it; `systematic`: the
        extrapolation model's systematic error and the fits it compares (`extrapolation_spread`)."""
        executed = len(self.executor.executed_circuits) * self.workload.observable.ngroups
        error, fits = (None, "") if systematic is None else systematic
        return Estimate(
            float(np.real(value)),
            standard_error,
            executed + circuits,
            self.executor.calls_to_executor + calls,
            detail,
            systematic_error=error,
            systematic_fits=fits,
        )


def _one_circuit(options: Any) -> int:
    return 1


@dataclass(frozen=True)
class Technique:
    """One mitigation technique, as the registry `TECHNIQUES` holds it.

    Args:
        name: what `--technique` and `technique=` take (no spaces or commas).
        description: one line for the CLI's help.
        run: runs it through Mitiq: `run(TechniqueRun) -> Estimate` (`TechniqueRun.estimate` counts the cost).
        options: its options with their defaults: a frozen dataclass instance, checked when built; a run's own
            options must be of its type. `NoOptions()` for none.
        circuits: how many circuits it sends to the executor in its largest call, for its options (the memory
            check before a run).
        readout_corrected: its executor inverts the readout errors (REM; at most `MAX_REM_QUBITS` qubits).
        needs_depolarizing_rates: it needs the noise as depolarizing rates (PEC: not a fake backend's noise,
            nor an Aer `NoiseModel`).
    """

    name: str
    description: str
    run: Callable[[TechniqueRun], Estimate]
    options: Any = NoOptions()
    circuits: Callable[[Any], int] = _one_circuit
    readout_corrected: bool = False
    needs_depolarizing_rates: bool = False

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name or any(c.isspace() or c == "," for c in self.name):
            raise QecInputError(f"a technique's name must be a word without spaces or commas, got {self.name!r}")
        if not dataclasses.is_dataclass(self.options) or isinstance(self.options, type):
            raise QecInputError(
                f"technique {self.name!r}: options must be an instance of a (frozen) dataclass, its defaults, got "
                f"{self.options!r}: give e.g. NoOptions()"
            )

    def checked_options(self, options: object | None) -> Any:
        """`options`, or this technique's defaults for None; QecInputError for options of another type."""
        if options is None:
            return self.options
        if not isinstance(options, type(self.options)):
            raise QecInputError(
                f"technique {self.name!r} takes {type(self.options).__name__}, got {type(options).__name__}: give "
                f"e.g. {self.options!r}, or None for its defaults"
            )
        return options

    def options_from(self, *parts: object) -> Any:
        """This technique's options made of `parts` (options objects of any techniques): the part of its options'
        type, or, for options made of parts (`TwirledZneOptions`), a part for each field of its type; the
        defaults for the rest. The CLI builds every part from its flags and asks each technique for its own.

        >>> TECHNIQUES["pt+zne"].options_from(ZneOptions(scale_factors=(1, 2)), TwirlOptions(4), PecOptions(50))
        ... # doctest: +NORMALIZE_WHITESPACE
        TwirledZneOptions(zne=ZneOptions(factory='richardson', scaling='global', scale_factors=(1, 2)),
                          twirl=TwirlOptions(variants=4))
        >>> TECHNIQUES["pec"].options_from(ZneOptions()), TECHNIQUES["ddd"].options_from(PecOptions(50))
        (PecOptions(samples=200), NoOptions())
        """
        given = {type(part): part for part in parts}
        if type(self.options) in given:
            return given[type(self.options)]
        fields = {
            field.name: given[type(getattr(self.options, field.name))]
            for field in dataclasses.fields(self.options)
            if type(getattr(self.options, field.name)) in given
        }
        return dataclasses.replace(self.options, **fields) if fields else self.options


def _run_noisy(run: TechniqueRun) -> Estimate:
    """The circuit's value through the executor (`none`; `rem` when the executor corrects readout)."""
    return run.estimate(run.executor.evaluate(run.workload.circuit)[0], run.executor.standard_errors[0])


def _run_zne(run: TechniqueRun) -> Estimate:
    options: ZneOptions = run.options
    factory = options.factory_object(run.asymptote)
    value, error, systematic = _zne(
        run.circuit, run.executor, factory, options.scale_noise(run.seed), run.rng, run.asymptote
    )
    return run.estimate(
        value,
        error,
        f"{options.factory} at scale factors {_factors(options.scale_factors)}, {options.scaling}",
        systematic=systematic,
    )


def _run_twirled_zne(run: TechniqueRun) -> Estimate:
    options: TwirledZneOptions = run.options
    value, error, systematic = _twirled_zne(
        run.circuit, run.executor, options, run.asymptote, seed=run.seed, rng=run.rng
    )
    variants, factors = options.twirl.variants, _factors(options.zne.scale_factors)
    return run.estimate(value, error, f"{variants} twirls per scale factor {factors}", systematic=systematic)


def _run_lre(run: TechniqueRun) -> Estimate:
    value, error, detail = _lre(run.circuit, run.executor, run.options)
    return run.estimate(value, error, detail)


def _run_pt(run: TechniqueRun) -> Estimate:
    variants = run.options.variants
    value, error = _mean_and_error(run.executor.evaluate(pauli_twirls(run.circuit, variants, seed=run.seed)))
    return run.estimate(value, error, f"{variants} twirled variants")


def _run_pec(run: TechniqueRun) -> Estimate:
    samples = run.options.samples
    value, data = pec.execute_with_pec(
        run.circuit,
        run.executor,
        representations=depolarizing_representations(run.circuit, run.noise),
        num_samples=samples,
        random_state=run.seed,
        full_output=True,
    )
    # Mitiq's pec_error divides by n (numpy's default ddof=0), which understates the spread of a few samples.
    _, error = _mean_and_error(data["unbiased_estimators"])
    estimate = run.estimate(
        value, error, f"{samples} samples; error bar: their signed values' spread / sqrt({samples})"
    )
    if samples < FEW_PEC_SAMPLES:
        note = (
            f"pec: the error bar is the spread of only {samples} signed samples, itself uncertain by about "
            f"{100 / math.sqrt(2 * (samples - 1)):.0f}%, and blind to sign flips too rare to be drawn: use "
            f"{FEW_PEC_SAMPLES} samples or more"
        )
        estimate = dataclasses.replace(estimate, warnings=(note,))
    return estimate


def _run_ddd(run: TechniqueRun) -> Estimate:
    value = ddd.execute_with_ddd(run.circuit, run.executor, rule=ddd.rules.xx)
    errors = np.array(run.executor.standard_errors)
    return run.estimate(value, float(np.sqrt(np.sum(errors**2)) / len(errors)))


def _run_cdr(run: TechniqueRun) -> Estimate:
    training = run.options.training_circuits
    value, error = _cdr(run.workload, run.executor, run.backend, training, run.seed, run.rng)
    detail = (
        f"{training} training circuits"
        if run.executor.executed_circuits
        else "a Clifford circuit: Mitiq returns its noiseless simulation, nothing runs on the noisy backend"
    )
    return run.estimate(value, error, detail)


def _run_auto(run: TechniqueRun) -> Estimate:
    value, error, detail, circuits, calls, systematic = _auto(
        run.circuit, run.executor, run.backend, run.rng, run.asymptote
    )
    return run.estimate(value, error, detail, circuits=circuits, calls=calls, systematic=systematic)


def _zne_circuits(options: ZneOptions) -> int:
    return len(options.scale_factors)


def _twirled_zne_circuits(options: TwirledZneOptions) -> int:
    return len(options.zne.scale_factors) * options.twirl.variants


TECHNIQUES: dict[str, Technique] = {
    technique.name: technique
    for technique in (
        Technique("none", "the noisy value, unmitigated", _run_noisy),
        Technique("zne", "zero-noise extrapolation", _run_zne, options=ZneOptions(), circuits=_zne_circuits),
        Technique(
            "pec",
            "probabilistic error cancellation from the depolarizing rates",
            _run_pec,
            options=PecOptions(),
            circuits=lambda options: options.samples,
            needs_depolarizing_rates=True,
        ),
        Technique(
            "rem", "readout-error mitigation by the inverse confusion matrix", _run_noisy, readout_corrected=True
        ),
        Technique("ddd", "digital dynamical decoupling, XX rule", _run_ddd),
        Technique(
            "cdr",
            "Clifford data regression, trained on a noiseless Aer run",
            _run_cdr,
            options=CdrOptions(),
            circuits=lambda options: options.training_circuits + 1,
        ),
        Technique(
            "rem+zne",
            "zne on the readout-corrected executor",
            _run_zne,
            options=ZneOptions(),
            circuits=_zne_circuits,
            readout_corrected=True,
        ),
        Technique(
            "lre",
            "layerwise Richardson extrapolation",
            _run_lre,
            options=LreOptions(),
            circuits=lambda options: options.circuits(layers=options.chunks),
        ),
        Technique(
            "pt",
            "the mean over Pauli twirls of CX and CZ",
            _run_pt,
            options=TwirlOptions(),
            circuits=lambda options: options.variants,
        ),
        Technique(
            "pt+zne",
            "zne with every folded circuit Pauli-twirled",
            _run_twirled_zne,
            options=TwirledZneOptions(),
            circuits=_twirled_zne_circuits,
        ),
        Technique(
            "rem+pt+zne",
            "pt+zne on the readout-corrected executor",
            _run_twirled_zne,
            options=TwirledZneOptions(),
            circuits=_twirled_zne_circuits,
            readout_corrected=True,
        ),
        Technique(
            "auto",
            "Mitiq's calibration picks a zne strategy, then runs it",
            _run_auto,
            circuits=lambda options: 3,  # Mitiq's ZNE settings: 3 scale factors at most
        ),
    )
}


def register_technique(technique: Technique) -> Technique:
    """Adds `technique` to `TECHNIQUES`, so that its name works wherever a technique's name is taken (Python and
    the CLI); returns it. Raises QecInputError when another technique has its name.

    >>> mean = Technique("mean-of-two", "the noisy value, measured twice", lambda run: run.estimate(
    ...     np.mean(run.executor.evaluate([run.workload.circuit] * 2)), None))
    >>> register_technique(mean) is TECHNIQUES["mean-of-two"]
    True
    >>> register_technique(Technique("zne", "another zne", mean.run))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    qec.errors.QecInputError: a technique named 'zne' is registered already: ...
    >>> del TECHNIQUES["mean-of-two"]
    """
    if not isinstance(technique, Technique):
        raise QecInputError(f"register_technique takes a Technique, got {type(technique).__name__}")
    known = TECHNIQUES.get(technique.name)
    if known is not None and known != technique:
        raise QecInputError(
            f"a technique named {technique.name!r} is registered already: give yours another name "
            f"(registered: {', '.join(TECHNIQUES)})"
        )
    TECHNIQUES[technique.name] = technique
    return technique


def get_technique(technique: str | Technique) -> Technique:
    """The registered technique of that name, or `technique` itself when it is a `Technique` (which need not be
    registered). Raises QecInputError listing the names for an unknown one."""
    if isinstance(technique, Technique):
        return technique
    if not isinstance(technique, str) or technique not in TECHNIQUES:
        raise unknown_choice("technique", technique, TECHNIQUES)
    return TECHNIQUES[technique]


def apply_technique(
    technique: str | Technique,
    workload: Workload,
    *,
    backend: Backend,
    noise: NoiseSpec,
    options: object | None = None,
    seed: int | None = 0,
) -> Estimate:
    """Estimates `workload`'s observable with `technique` (a name in `TECHNIQUES`, or a `Technique`) on
    `backend`, whose noise is `noise`; `options`: the technique's options object (None: its defaults).

    Raises QecInputError for an unknown technique, options of another technique's type, and what
    `check_technique` refuses.
    """
    check_instance(workload, Workload, name="workload", fix="give e.g. workloads.workload('ghz', qubits=3)")
    check_instance(backend, Backend, name="backend", fix="give e.g. backends.aer_backend([circuit], noise=noise)")
    check_instance(noise, NoiseSpec, name="noise", fix="give e.g. NoiseSpec(depolarizing_2q=0.01)")
    if seed is not None:
        check_integer(seed, name="seed", low=0, high=MAX_SEED, fix="give a seed such as 0, or None")
    entry = check_technique(
        technique,
        noise,
        qubits=workload.circuit.num_qubits,
        options=options,
        measured=measured_width(workload.observable),
    )
    readout = backend.readout_rates(noise) if entry.readout_corrected else 0.0
    executor = backend.executor(workload.observable, readout=readout)
    run = TechniqueRun(workload, executor, backend, noise, entry.checked_options(options), seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        estimate = entry.run(run)
    notes = summarized_warnings(caught)
    if entry.readout_corrected and not np.any(readout):
        notes = (f"{entry.name}: the noise has no readout error, so there is nothing for REM to invert",) + notes
    error = estimate.standard_error
    return dataclasses.replace(
        estimate,
        value=float(np.real(estimate.value)),
        standard_error=None if error is None or not math.isfinite(error) else float(error),
        warnings=estimate.warnings + notes,
    )


def measured_width(observable: Observable) -> int:
    """The most qubits one of `observable`'s measurement groups reads (what REM inverts at once).

    >>> from mitiq import PauliString
    >>> measured_width(Observable(PauliString("ZZI"), PauliString("XIX")))
    2
    """
    return max((len({q for p in group.elements for q in p.support()}) for group in observable.groups), default=1)


def summarized_warnings(caught: Sequence[warnings.WarningMessage], *, width: int = 160) -> tuple[str, ...]:
    """One line per distinct warning caught during a run, in the order first seen: who warned (Mitiq, Qiskit,
    Aer or the warning's category), its message with whitespace (Mitiq prints circuit diagrams) collapsed and cut
    to `width` characters, and how many times it came.

    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     for _ in range(3):
    ...         warnings.warn("No representation found for \\n\\nq_0: ───H───.")
    >>> summarized_warnings(caught)
    ('UserWarning (3 times): No representation found for q_0: ───H───.',)
    """
    counts: dict[tuple[str, str], int] = {}
    for record in caught:
        text = " ".join(str(record.message).split())
        text = text if len(text) <= width else text[: width - 3] + "..."
        source = record.filename.replace("\\", "/")
        who = next((name for part, name in _WARNING_SOURCES if part in source), record.category.__name__)
        counts[who, text] = counts.get((who, text), 0) + 1
    return tuple(f"{who}{'' if count == 1 else f' ({count} times)'}: {text}" for (who, text), count in counts.items())


_WARNING_SOURCES = (("/mitiq/", "Mitiq"), ("/qiskit_aer/", "Aer"), ("/qiskit/", "Qiskit"), ("/cirq", "Cirq"))


def check_technique(
    technique: str | Technique,
    noise: NoiseSpec,
    *,
    qubits: int = 1,
    options: object | None = None,
    measured: int = 1,
) -> Technique:
    """The technique's entry, after refusing (QecInputError) an unknown technique, options of another type,
    a technique that needs depolarizing rates under a fake backend (none to represent), REM on more than
    `MAX_REM_QUBITS` qubits, and REM under a readout error it cannot invert on `measured` qubits at once (the most
    that one measurement group reads; `backends.check_rem_rates`: singular at 0.5, near-singular beyond).

    >>> check_technique("rem", NoiseSpec(readout=0.01), qubits=20)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    qec.errors.QecInputError: REM on 20 qubits inverts a 2^20 x 2^20 confusion matrix; the limit is 12 qubits: ...
    """
    entry = get_technique(technique)
    entry.checked_options(options)
    if entry.readout_corrected and qubits > MAX_REM_QUBITS:
        raise QecInputError(
            f"REM on {qubits} qubits inverts a 2^{qubits} x 2^{qubits} confusion matrix; the limit "
            f"is {MAX_REM_QUBITS} qubits: use fewer qubits or zne"
        )
    if entry.readout_corrected and noise.fake_backend is None and noise.readout > 0:
        check_rem_rates([noise.readout] * measured)
    if entry.needs_depolarizing_rates and noise.fake_backend is not None:
        raise QecInputError(
            f"{entry.name} builds its representations from depolarizing rates (p1, p2), and "
            f"fake={noise.fake_backend} gives none: use zne, rem or rem+zne with a fake backend, "
            f"or give the noise as rates for {entry.name}"
        )
    return entry


def circuits_per_run(technique: str | Technique, options: object | None = None) -> int:
    """How many circuits `technique` sends to the executor in its largest call (each then measured in every
    group), with `options` (None: its defaults); for `lre`, at most (a circuit with fewer layers than its
    chunks runs fewer).

    >>> circuits_per_run("zne"), circuits_per_run("pec", PecOptions(samples=300)), circuits_per_run("rem")
    (3, 300, 1)
    >>> circuits_per_run("lre"), circuits_per_run("pt", TwirlOptions(variants=10)), circuits_per_run("pt+zne")
    (10, 10, 48)
    """
    entry = get_technique(technique)
    return entry.circuits(entry.checked_options(options))


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
    return np.array([extrapolate(make_factory, scale_factors, row) for row in unit])


def extrapolation_spread(
    scale_factors: Sequence[float], values: Sequence[float], value: float, *, asymptote: float
) -> tuple[float, str]:
    """The systematic error of a zero-noise extrapolation: the largest |v - value| over the zero-noise values v
    of the other models that fit these points (linear, each polynomial order up to len - 1, the last being
    Richardson's, and the exponential decay to `asymptote` where it fits), with their names. The shot-noise
    standard error says how far the data may move the chosen fit; this says how far the choice of fit moves
    the value, which no number of shots reduces.

    Richardson's 0.9825 through three points, beside the line's 0.9667 and the exponential's 0.9889:

    >>> spread, fits = extrapolation_spread([1, 3, 5], [0.9, 0.75, 0.62], 0.9825, asymptote=0.0)
    >>> round(spread, 4), fits
    (0.0158, 'linear, poly-2, exponential')
    """
    factors = [float(f) for f in scale_factors]
    models: dict[str, Callable[[], zne.inference.Factory]] = {"linear": lambda: LinearFactory(factors)}
    for order in range(2, len(factors)):
        models[f"poly-{order}"] = functools.partial(PolyFactory, factors, order)
    models["exponential"] = lambda: ExpFactory(factors, asymptote=float(asymptote))
    fitted = {name: _extrapolate_or_nan(make, factors, values) for name, make in models.items()}
    fitted = {name: v for name, v in fitted.items() if math.isfinite(v)}
    spread = max((abs(v - value) for v in fitted.values()), default=0.0)
    return float(spread), ", ".join(fitted)


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
        representation = pec.represent_operation_with_global_depolarizing_noise(cirq.Circuit(operation), rate)
        representations.append(_in_fixed_order(representation))
    return representations


def _in_fixed_order(representation: pec.OperationRepresentation) -> pec.OperationRepresentation:
    """`representation` with its terms, and the operations within each moment of a term, in a fixed order.

    Mitiq unpacks a two-qubit gate's qubits from a frozenset (`q0, q1 = circuit.all_qubits()`), whose order follows
    Python's hash seed; its sampler then draws the same index for a different Pauli, so a seed would not fix PEC.

    >>> q = cirq.LineQubit.range(2)
    >>> cz = pec.represent_operation_with_global_depolarizing_noise(cirq.Circuit(cirq.CZ(*q)), 0.1)
    >>> ordered = _in_fixed_order(cz)
    >>> [str(op) for op in ordered.noisy_operations[1].circuit.all_operations()]
    ['CZ(q(0), q(1))', 'X(q(0))']
    """

    def ordered(circuit: cirq.Circuit) -> cirq.Circuit:
        return cirq.Circuit(cirq.Moment(sorted(moment, key=repr)) for moment in circuit)

    terms = sorted(
        ((coeff, ordered(operation.circuit)) for coeff, operation in representation.basis_expansion),
        key=lambda term: (-term[0], [[repr(op) for op in moment] for moment in term[1]]),
    )
    return pec.OperationRepresentation(
        representation.ideal,
        [pec.NoisyOperation(circuit) for _, circuit in terms],
        [coeff for coeff, _ in terms],
        representation.is_qubit_dependent,
    )


def _factors(factors: Sequence[float]) -> str:
    return ",".join(f"{factor:g}" for factor in factors)


def _mean_and_error(values: Sequence[float]) -> tuple[float, float]:
    """The mean of `values` and its standard error (sample standard deviation over sqrt(n))."""
    array = np.asarray(values, dtype=float)
    return float(array.mean()), float(array.std(ddof=1) / math.sqrt(len(array)))


def extrapolate(make_factory: Callable[[], zne.inference.Factory], scale_factors: Sequence[float], values) -> float:
    """The zero-noise value of a fresh factory from `make_factory` through these scaled values (Mitiq's `push`
    then `reduce`).

    >>> round(extrapolate(lambda: RichardsonFactory([1.0, 3.0]), [1.0, 3.0], [0.9, 0.7]), 9)
    1.0
    """
    factory = make_factory()
    for scale, value in zip(scale_factors, values):
        factory.push({"scale_factor": float(scale)}, float(value))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(factory.reduce())


def extrapolation_error(
    make_factory: Callable[[], zne.inference.Factory],
    scale_factors: Sequence[float],
    values: Sequence[float],
    errors: Sequence[float],
    rng: np.random.Generator,
) -> float:
    """The 1-sigma standard error of `extrapolate`'s value from the values' standard errors `errors`: exact for a
    linear factory (sqrt(sum c_i^2 s_i^2)), else a parametric bootstrap (values drawn from N(y_i, s_i), refitted,
    `BOOTSTRAP_SAMPLES` times); NaN when no bootstrap fit succeeds.

    >>> extrapolation_error(lambda: RichardsonFactory([1.0, 3.0]), [1.0, 3.0], [0.9, 0.7], [0.01, 0.01], None)
    ... # doctest: +ELLIPSIS
    0.0158...
    """
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
        return extrapolate(make_factory, scale_factors, values)
    except Exception:  # a bootstrap draw whose fit fails (e.g. an exponential fit of values below its asymptote)
        return math.nan


def _zne(
    circuit: QPROGRAM,
    executor: AerExecutor,
    factory: zne.inference.Factory,
    scale_noise: Callable[[QPROGRAM, float], QPROGRAM],
    rng: np.random.Generator,
    asymptote: float,
) -> tuple[float, float, tuple[float, str]]:
    """Mitiq's `execute_with_zne`, the standard error of its extrapolation and its systematic error
    (`extrapolation_spread`)."""
    check_noise_levels(circuit, _factory_scale_factors(factory), scale_noise)
    start = len(executor.standard_errors)
    value = zne.execute_with_zne(circuit, executor, factory=factory, scale_noise=scale_noise)
    scale_factors, values = factory.get_scale_factors(), factory.get_expectation_values()
    errors = executor.standard_errors[start:]
    fresh = copy.deepcopy(factory)
    error = extrapolation_error(lambda: copy.deepcopy(fresh).reset(), scale_factors, values, errors, rng)
    return float(value), error, extrapolation_spread(scale_factors, values, float(value), asymptote=asymptote)


def _twirled_zne(
    circuit: QPROGRAM,
    executor: AerExecutor,
    options: TwirledZneOptions,
    asymptote: float,
    *,
    seed: int | None,
    rng: np.random.Generator,
) -> tuple[float, float, tuple[float, str]]:
    """ZNE whose every folded circuit is Pauli-twirled `options.twirl.variants` times; all circuits in one
    executor call, each scale factor's twirls averaged, then extrapolated."""
    zne_options, variants = options.zne, options.twirl.variants
    scale_noise = zne_options.scale_noise(seed)
    folded = [scale_noise(circuit, scale) for scale in zne_options.scale_factors]
    check_noise_levels(circuit, zne_options.scale_factors, scale_noise, folded=folded)
    twirled = [twirl for i, c in enumerate(folded) for twirl in pauli_twirls(c, variants, seed=_child(seed, i))]
    values = np.reshape(executor.evaluate(twirled), (len(folded), variants))
    means, errors = zip(*(_mean_and_error(row) for row in values))
    make_factory = functools.partial(zne_options.factory_object, asymptote)
    value = extrapolate(make_factory, zne_options.scale_factors, means)
    error = extrapolation_error(make_factory, zne_options.scale_factors, means, errors, rng)
    return value, error, extrapolation_spread(zne_options.scale_factors, means, value, asymptote=asymptote)


def _factory_scale_factors(factory: zne.inference.Factory) -> tuple[float, ...]:
    """The scale factors a fresh (unpushed) Mitiq factory will run at."""
    return tuple(float(s) for s in getattr(factory, "_scale_factors", ()))


def realized_scale_factors(
    circuit: QPROGRAM,
    scale_factors: Sequence[float],
    scale_noise: Callable[[QPROGRAM, float], QPROGRAM],
    *,
    folded: Sequence[QPROGRAM] | None = None,
) -> tuple[float, ...]:
    """The noise scale each folded circuit really has: its gates over the circuit's (for gate folding), or its
    layers over the circuit's (for identity insertion, which scales depth). Folding rounds to whole folds, so on a
    small circuit scale factors near each other can give the same circuit.

    >>> bell = QuantumCircuit(2)
    >>> _ = bell.h(0), bell.cx(0, 1)
    >>> realized_scale_factors(bell, [1, 1.2, 3], fold_global)
    (1.0, 1.0, 3.0)
    """
    folded = [scale_noise(circuit, scale) for scale in scale_factors] if folded is None else folded
    by_depth = getattr(scale_noise, "func", scale_noise) is insert_id_layers

    def size(c: QPROGRAM) -> int:
        mitiq_circuit = convert_to_mitiq(c)[0]
        return len(mitiq_circuit) if by_depth else sum(1 for _ in mitiq_circuit.all_operations())

    base = max(1, size(circuit))
    return tuple(size(c) / base for c in folded)


def check_noise_levels(
    circuit: QPROGRAM,
    scale_factors: Sequence[float],
    scale_noise: Callable[[QPROGRAM, float], QPROGRAM],
    *,
    folded: Sequence[QPROGRAM] | None = None,
) -> None:
    """Refuses (QecInputError) scale factors that fold `circuit` to coinciding noise levels
    (`realized_scale_factors`): equal levels measure the same thing twice, and an extrapolation through them
    extrapolates shot noise (Richardson's system is singular there).

    >>> bell = QuantumCircuit(2)
    >>> _ = bell.h(0), bell.cx(0, 1)
    >>> check_noise_levels(bell, [1, 1.2, 1.4], fold_global)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    qec.errors.QecInputError: ZNE scale factors 1,1.2,1.4 fold this 2-gate circuit to the same noise level ...
    """
    realized = realized_scale_factors(circuit, scale_factors, scale_noise, folded=folded)
    distinct = len({round(level, 9) for level in realized})
    if distinct < len(realized):
        gates = sum(1 for _ in convert_to_mitiq(circuit)[0].all_operations())
        raise QecInputError(
            f"ZNE scale factors {_factors(scale_factors)} fold this {gates}-gate circuit to the same noise level "
            f"more than once (it has scale factors {_factors(realized)}, {distinct} distinct): an extrapolation "
            "through equal levels extrapolates shot noise; give scale factors further apart, e.g. 1,3,5 (odd "
            "integers fold every gate exactly)"
        )


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
    with numpy_global_seed(seed):  # Mitiq picks between two equally near Clifford angles from np.random
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
    if np.ptp(noisy[1:]) == 0:  # every training circuit gave the same noisy value: no line through them
        raise QecInputError(
            f"CDR's {len(noisy) - 1} training circuits all gave the noisy value {noisy[1]:.6g}, so its fit of ideal "
            "against noisy values is undetermined: use more training circuits or more shots, or zne"
        )
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
    circuit: QPROGRAM, executor: AerExecutor, backend: Backend, rng: np.random.Generator, asymptote: float
) -> tuple[float, float, str, int, int, tuple[float, str]]:
    """Mitiq's calibration on `backend` (its benchmark circuits' bitstrings), then the best strategy on the
    circuit through `executor`. Returns value, standard error, what was picked, calibration's circuits and
    executor calls, and the extrapolation's systematic error."""

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
    value, error, systematic = _zne(circuit, executor, factory, scale_noise, rng, asymptote)
    folding = getattr(scale_noise, "func", scale_noise).__name__
    scales = _factors(factory.get_scale_factors())
    calibration_circuits = len(calibrator.executor.executed_circuits)
    detail = (
        f"zne with {type(factory).__name__} at scale factors {scales}, {folding}: the best of "
        f"{len(calibrator.strategies)} strategies on {len(calibrator.problems)} Mitiq benchmark circuits of "
        f"{width} qubits ({calibration_circuits} calibration circuits of {calibrating.shots} shots)"
    )
    return value, error, detail, calibration_circuits, calibrator.executor.calls_to_executor, systematic
