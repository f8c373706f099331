"""`Estimator`: Qiskit's `BaseEstimatorV2` on Aer, with qiskit-ibm-runtime's resilience options done locally.

A program written for runtime's `EstimatorV2` runs by changing its constructor: PUBs of (circuit, observables,
parameter values, precision) broadcast as Qiskit does, `precision` sets the shots (ceil(1 / precision^2), as
runtime and `BackendEstimatorV2`), and each `PubResult` holds `evs` and `stds` (1 sigma) and metadata: the
technique, circuits run, shots, seconds and the options used.

**Backend**: None (noiseless Aer), an Aer `NoiseModel`, a qec `NoiseSpec`, a fake IBM backend
(`qiskit_ibm_runtime.fake_provider.FakeManilaV2()`: `AerSimulator.from_backend`) or your own `AerSimulator`.
On a backend with a coupling map, circuits must be ISA circuits (transpiled for it, observables laid out with
`apply_layout`), as runtime demands; on the others they are translated to Aer's gates, qubits kept.

**Options** (runtime's names; `resilience_level` 1 by default, as runtime):

| option                                  | values                    | here                                  |
|-----------------------------------------|---------------------------|---------------------------------------|
| `default_precision`, `default_shots`    | float, int                | shots when neither PUB nor run says   |
| `seed_estimator`                        | int                       | fixes every draw: twirls, folds, Aer  |
| `resilience_level`                      | 0, 1, 2                   | none; TREX; TREX + ZNE, gates twirled |
| `resilience.measure_mitigation`         | bool                      | TREX (`qec.mitigation.trex`)          |
| `resilience.zne_mitigation`             | bool                      | ZNE by folding two-qubit gates        |
| `resilience.zne.noise_factors`          | floats >= 1, distinct     | default (1, 3, 5)                     |
| `resilience.zne.extrapolator`           | a name or names           | `EXTRAPOLATORS` (Mitiq's fits)        |
| `resilience.zne.amplifier`              | gate_folding(_front/back) | or "pea": the learned noise amplified |
| `resilience.pec_mitigation`             | bool                      | PEC from the learned noise            |
| `resilience.pec.max_overhead`           | float >= 1 or None        | gamma^2 above it refused (100)        |
| `resilience.pec.noise_gain`             | float in [0, 1]           | 0: full PEC (runtime: "auto")         |
| `resilience.layer_noise_learning.*`     | `num_randomizations`, ... | `learn_layer_noise`'s twirls, depths  |
| `resilience.layer_noise_model`          | `LearnedNoise` or path    | used instead of learning              |
| `twirling.enable_gates`                 | bool                      | Pauli twirls of 2q gates (Qiskit's)   |
| `twirling.enable_measure`               | bool                      | X twirls before measurements          |
| `twirling.num_randomizations`           | int or "auto"             | runtime's "auto" rule                 |
| `twirling.shots_per_randomization`      | int or "auto"             | (`trex.randomizations_for`)           |
| `technique` (qec's own)                 | a `TECHNIQUES` name       | Mitiq per (circuit, observable)       |

Options are frozen dataclasses (`EstimatorOptions`, `ResilienceOptions`, `ZneResilienceOptions`,
`TwirlingOptions`), validated when built and recorded whole in each PUB's metadata. `Estimator(options=...)`
takes one of them or runtime's nested dict (`{"resilience": {"zne_mitigation": True}}`); `estimator.options`
is a view that reads them and, on assignment (`estimator.options.resilience.zne_mitigation = True`) or
`update(...)`, builds and validates new frozen options in their place; a run keeps the options it started with.

**PEA and PEC** (`layer_noise`, `learned_mitigation`) use a sparse Pauli-Lindblad model of each distinct layer of
two-qubit gates: the given `layer_noise_model`, or one learned on the Estimator's simulator at the first PUB of a
circuit structure (distinct layers, active qubits) and reused for later PUBs and parameter values of it. PEA
samples `num_randomizations` twirled circuits per noise factor with the learned noise amplified and extrapolates
as ZNE does; PEC samples gamma^2 times as many circuits from the inverse, with signs (its error bar then about the
precision asked for). Both are gate-twirled by construction; TREX corrects their readout. Metadata: the learned
model's `describe()`, where it came from ("learned", "cached", "given"), PEC's gamma and sampling overhead.

ZNE extrapolates each Pauli term on its own (runtime's "heterogeneous fit"): the first extrapolator of the list
whose fit is finite and within [-1, 1] up to 3 sigma is used; `evs_noise_factors` and `stds_noise_factors` hold
the raw (TREX-corrected) values at each noise factor, as runtime returns them. Standard errors: shot noise of
each Pauli term, through TREX's quotient and the fit (linear fits exactly, from their coefficients; the exponential
to first order, from its analytic gradient in each value);
a sum of terms measured in the same shots is bounded by sum |c_i| sigma_i, as `BackendEstimatorV2` does.

>>> from qiskit import QuantumCircuit
>>> from qiskit.quantum_info import SparsePauliOp
>>> bell = QuantumCircuit(2)
>>> _ = bell.h(0), bell.cx(0, 1)
>>> estimator = Estimator(options={"seed_estimator": 1, "default_shots": 2000})
>>> pub = estimator.run([(bell, [SparsePauliOp("ZZ"), SparsePauliOp("XX"), SparsePauliOp("ZI")])]).result()[0]
>>> pub.data.evs[:2].tolist(), bool(abs(pub.data.evs[2]) < 5 * pub.data.stds[2])
([1.0, 1.0], True)
>>> pub.metadata["technique"], pub.metadata["shots"], pub.metadata["circuits"]
('trex', 2048, 96)
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import os
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from mitiq.zne.inference import ExpFactory, LinearFactory, PolyFactory, RichardsonFactory
from qiskit import ClassicalRegister, QuantumCircuit, transpile
from qiskit.circuit import CircuitInstruction, Gate, Measure, pauli_twirl_2q_gates
from qiskit.circuit.library import RZGate, SXGate, XGate
from qiskit.primitives import BaseEstimatorV2
from qiskit.primitives.containers import DataBin, EstimatorPubLike, PrimitiveResult, PubResult
from qiskit.primitives.containers.estimator_pub import EstimatorPub
from qiskit.primitives.primitive_job import PrimitiveJob
from qiskit.providers import BackendV2
from qiskit.quantum_info import PauliList, SparsePauliOp
from qiskit_aer import AerSimulator
from qiskit_aer.noise import NoiseModel

from qec.errors import QecInputError, unknown_choice
from qec.mitigation import trex
from qec.mitigation.backends import MAX_SEED, MAX_SHOTS, Backend, check_integer
from qec.mitigation.layer_noise import LayeredCircuit, LearnedNoise, layered, learn_layer_noise
from qec.mitigation.learned_mitigation import pea_circuits, pec_circuits
from qec.mitigation.noise_models import NoiseSpec, fake_readout_errors
from qec.mitigation.techniques import TECHNIQUES, apply_technique, check_technique, extrapolation_coefficients

DEFAULT_PRECISION = 0.015625  # runtime's and BackendEstimatorV2's: 1 / sqrt(4096)
_MAX_NOISE_FACTOR = 100.0
_MAX_NOISE_FACTORS = 32
_MAX_RANDOMIZATIONS = 10_000
_PHYSICAL_SIGMAS = 3.0  # a Pauli term's fit beyond 1 + 3 sigma is unphysical: the next extrapolator is tried


# --- Extrapolators: runtime's names for Mitiq's fits ---


@dataclass(frozen=True)
class Extrapolator:
    """A zero-noise fit `fit(noise_factors, values) -> value` by Mitiq, the distinct noise factors it needs, and
    whether its value is a fixed linear combination of the values (its error then exact from the coefficients).
    A fit that is not linear gives `gradient(noise_factors, values) -> (value, d value / d values)` instead, for
    its error to first order."""

    fit: Callable[[Sequence[float], Sequence[float]], float]
    points: int
    linear: bool
    gradient: Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray]] | None = None


def _polynomial(order: int) -> Extrapolator:
    return Extrapolator(lambda x, y: PolyFactory.extrapolate(x, y, order), order + 1, True)


_LOG_FLOOR = 1e-6  # Mitiq's `eps`: |value| is floored here before its log


def _exponential_gradient(factors: np.ndarray, values: np.ndarray) -> tuple[float, np.ndarray]:
    """Mitiq's exponential fit towards 0 and its gradient in the values, analytic (no refits).

    Mitiq fits z = log s, s = max(sign * y, 1e-6), by least squares weighted by s (`w = sqrt(s)` in `np.polyfit`),
    and returns sign * exp(z_0). Differentiating the normal equations A^T S A beta = A^T S z: d z_0 / d y_i =
    sign [(A^T S A)^-1 a_i]_0 (1 + r_i), r the fit's residuals, so d value / d y_i = |value| [(A^T S A)^-1 a_i]_0
    (1 + r_i); 0 where the floor holds. Through two points (r = 0) this is value c_i / y_i, c the coefficients of
    the line's intercept. `value` is NaN where Mitiq's fit fails.

    >>> value, gradient = _exponential_gradient(np.array([1.0, 2.0]), np.array([0.5, 0.25]))
    >>> round(value, 12), gradient.round(12).tolist()
    (1.0, [4.0, -4.0])
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value, _, params, _, _ = ExpFactory.extrapolate(
                [float(f) for f in factors], [float(v) for v in values], asymptote=0.0, full_output=True
            )
    except Exception:  # a fit that fails is not successful (see `_fit`)
        return math.nan, np.full(len(values), math.nan)
    value = float(value)
    if not math.isfinite(value):
        return value, np.full(len(values), math.nan)
    sign = math.copysign(1.0, value)
    shifted = sign * np.asarray(values, dtype=float)
    floored = shifted < _LOG_FLOOR
    weights = np.maximum(shifted, _LOG_FLOOR)
    design = np.stack([np.ones(len(factors)), np.asarray(factors, dtype=float)], axis=1)
    residuals = np.log(weights) - design @ np.array([params[1], params[2]])
    lever = np.linalg.solve(design.T @ (weights[:, None] * design), design.T)[0]
    return value, np.where(floored, 0.0, abs(value) * lever * (1 + residuals))


EXTRAPOLATORS: dict[str, Extrapolator] = {
    "linear": Extrapolator(LinearFactory.extrapolate, 2, True),
    "exponential": Extrapolator(
        lambda x, y: ExpFactory.extrapolate(x, y, asymptote=0.0), 2, False, gradient=_exponential_gradient
    ),
    **{f"polynomial_degree_{k}": _polynomial(k) for k in range(1, 8)},
    "richardson": Extrapolator(RichardsonFactory.extrapolate, 2, True),
    "fallback": Extrapolator(lambda x, y: float(y[int(np.argmin(x))]), 1, True),
}
AMPLIFIERS = ("gate_folding", "gate_folding_front", "gate_folding_back", "pea")
DEFAULT_MAX_OVERHEAD = 100.0  # runtime's resilience.pec.max_overhead


# --- Options ---
def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _flag(value: object, name: str) -> None:
    if value is not None and not isinstance(value, bool):
        raise QecInputError(f"{name} must be True, False or None (from resilience_level), got {value!r}")


@dataclass(frozen=True)
class ZneResilienceOptions:
    """runtime's `resilience.zne`: noise factors (>= 1, distinct), extrapolator name(s) tried in order, amplifier.

    >>> ZneResilienceOptions(noise_factors=(1, 3), extrapolator="polynomial_degree_2")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    qec.errors.QecInputError: extrapolator 'polynomial_degree_2' needs at least 3 distinct noise factors, ...
    """

    noise_factors: tuple[float, ...] = (1.0, 3.0, 5.0)
    extrapolator: str | tuple[str, ...] = ("exponential", "linear")
    amplifier: str = "gate_folding"

    def __post_init__(self):
        factors = self.noise_factors
        if isinstance(factors, (str, bytes)) or not isinstance(factors, Iterable):
            raise QecInputError(
                f"noise_factors must be a sequence of numbers >= 1, got {factors!r}: give e.g. (1, 3, 5)"
            )
        factors = tuple(factors)
        object.__setattr__(self, "noise_factors", factors)
        shown = ", ".join(f"{f:g}" if _is_real(f) else repr(f) for f in factors[:8])
        if not 1 <= len(factors) <= _MAX_NOISE_FACTORS or not all(
            _is_real(f) and 1 <= f <= _MAX_NOISE_FACTOR for f in factors
        ):
            raise QecInputError(
                f"noise_factors must be 1 to {_MAX_NOISE_FACTORS} numbers in [1, {_MAX_NOISE_FACTOR:g}], got "
                f"({shown}): give e.g. (1, 3, 5)"
            )
        if len(set(factors)) < len(factors):
            raise QecInputError(f"noise_factors must be distinct, got ({shown}): give e.g. (1, 3, 5)")
        names = (self.extrapolator,) if isinstance(self.extrapolator, str) else tuple(self.extrapolator)
        object.__setattr__(self, "extrapolator", names if not isinstance(self.extrapolator, str) else self.extrapolator)
        if not names:
            raise QecInputError("extrapolator must name at least one fit: give e.g. 'linear'")
        for name in names:
            if name not in EXTRAPOLATORS:
                raise unknown_choice("extrapolator", name, EXTRAPOLATORS)
            if EXTRAPOLATORS[name].points > len(factors):
                raise QecInputError(
                    f"extrapolator {name!r} needs at least {EXTRAPOLATORS[name].points} distinct noise factors, got "
                    f"({shown}): give more noise_factors or another extrapolator"
                )
        if self.amplifier not in AMPLIFIERS:
            raise unknown_choice("ZNE amplifier", self.amplifier, AMPLIFIERS)

    @property
    def extrapolators(self) -> tuple[str, ...]:
        return (self.extrapolator,) if isinstance(self.extrapolator, str) else self.extrapolator


@dataclass(frozen=True)
class PecResilienceOptions:
    """runtime's `resilience.pec`: the largest sampling overhead gamma^2 allowed (None: no limit; a circuit over it
    is refused) and the noise gain g in [0, 1] (0 removes the learned noise, g leaves g times it: gamma is
    exp(2 (1 - g) sum of rates) per layer). runtime's default gain is "auto"; here it is 0 (full PEC)."""

    max_overhead: float | None = DEFAULT_MAX_OVERHEAD
    noise_gain: float = 0.0

    def __post_init__(self):
        if self.max_overhead is not None and not (_is_real(self.max_overhead) and self.max_overhead >= 1):
            raise QecInputError(f"pec.max_overhead must be a number >= 1 or None, got {self.max_overhead!r}: give 100")
        if not (_is_real(self.noise_gain) and 0 <= self.noise_gain <= 1):
            raise QecInputError(
                f"pec.noise_gain must be a number in [0, 1] (0: full PEC), got {self.noise_gain!r}: give 0"
            )


@dataclass(frozen=True)
class LayerNoiseLearningOptions:
    """runtime's `resilience.layer_noise_learning`, mapped onto `layer_noise.learn_layer_noise`: twirls =
    `num_randomizations`, depths = each pair depth times the layers' order (2 for cx, cz, ecr), and
    `shots_per_randomization` shots per learning circuit. Defaults are the learner's (runtime's are 32
    randomizations, pair depths 0,1,2,4,16,32 and 128 shots, for hardware)."""

    num_randomizations: int = 8
    layer_pair_depths: tuple[int, ...] = (0, 1, 2, 4, 8)
    shots_per_randomization: int = 1024

    def __post_init__(self):
        check_integer(
            self.num_randomizations, name="layer_noise_learning.num_randomizations", low=2, high=1000, fix="give 8"
        )
        check_integer(
            self.shots_per_randomization,
            name="layer_noise_learning.shots_per_randomization",
            low=1,
            high=MAX_SHOTS,
            fix="give 1024",
        )
        depths = self.layer_pair_depths
        if isinstance(depths, (str, bytes)) or not isinstance(depths, Iterable):
            raise QecInputError(
                f"layer_noise_learning.layer_pair_depths must be integers, got {depths!r}: give 0,1,2,4"
            )
        depths = tuple(depths)
        for depth in depths:
            check_integer(depth, name="layer_noise_learning.layer_pair_depths", low=0, high=500, fix="give 0,1,2,4,8")
        if len(set(depths)) < 2:
            raise QecInputError(
                f"layer_noise_learning.layer_pair_depths needs two distinct depths, got {list(depths)}: give 0,1,2,4,8"
            )
        object.__setattr__(self, "layer_pair_depths", depths)


@dataclass(frozen=True)
class ResilienceOptions:
    """runtime's `resilience`: None for a flag means "as `resilience_level` says". `layer_noise_model`: a
    `LearnedNoise` or the path of its JSON (`LearnedNoise.save`), used for PEA and PEC instead of learning."""

    measure_mitigation: bool | None = None
    zne_mitigation: bool | None = None
    zne: ZneResilienceOptions = ZneResilienceOptions()
    pec_mitigation: bool | None = None
    pec: PecResilienceOptions = PecResilienceOptions()
    layer_noise_learning: LayerNoiseLearningOptions = LayerNoiseLearningOptions()
    layer_noise_model: LearnedNoise | None = None

    def __post_init__(self):
        for name in ("measure_mitigation", "zne_mitigation", "pec_mitigation"):
            _flag(getattr(self, name), f"resilience.{name}")
        if not isinstance(self.zne, ZneResilienceOptions):
            raise QecInputError(f"resilience.zne must be ZneResilienceOptions or a dict, got {self.zne!r}")
        if not isinstance(self.pec, PecResilienceOptions):
            raise QecInputError(f"resilience.pec must be PecResilienceOptions or a dict, got {self.pec!r}")
        if not isinstance(self.layer_noise_learning, LayerNoiseLearningOptions):
            raise QecInputError("resilience.layer_noise_learning must be LayerNoiseLearningOptions or a dict")
        model = self.layer_noise_model
        if isinstance(model, (str, os.PathLike)):
            object.__setattr__(self, "layer_noise_model", LearnedNoise.load(model))
        elif model is not None and not isinstance(model, LearnedNoise):
            raise QecInputError(
                f"resilience.layer_noise_model must be a LearnedNoise, the path of its JSON or None, got "
                f"{type(model).__name__}"
            )
        if self.pec_mitigation and self.zne_mitigation:
            raise QecInputError("pec_mitigation and zne_mitigation exclude each other (as in runtime): turn one off")


@dataclass(frozen=True)
class TwirlingOptions:
    """runtime's `twirling`: None for a flag means "as `resilience_level` says"; None (or "auto") for the
    randomizations means runtime's rule (`trex.randomizations_for`)."""

    enable_gates: bool | None = None
    enable_measure: bool | None = None
    num_randomizations: int | None = None
    shots_per_randomization: int | None = None

    def __post_init__(self):
        _flag(self.enable_gates, "twirling.enable_gates")
        _flag(self.enable_measure, "twirling.enable_measure")
        for name in ("num_randomizations", "shots_per_randomization"):
            value = getattr(self, name)
            if value == "auto":
                object.__setattr__(self, name, None)
            elif value is not None:
                check_integer(value, name=f"twirling.{name}", low=1, high=_MAX_RANDOMIZATIONS, fix='or give "auto"')


@dataclass(frozen=True)
class EstimatorOptions:
    """The Estimator's options (see the module docstring's table); `technique` names one of qec's Mitiq
    techniques (`techniques.TECHNIQUES`), run with its default options, at `resilience_level=0` only."""

    default_precision: float = DEFAULT_PRECISION
    default_shots: int | None = None
    seed_estimator: int | None = None
    resilience_level: int = 1
    resilience: ResilienceOptions = ResilienceOptions()
    twirling: TwirlingOptions = TwirlingOptions()
    technique: str | None = None

    def __post_init__(self):
        if not _is_real(self.default_precision) or not 1 / math.sqrt(MAX_SHOTS) <= self.default_precision <= 1:
            raise QecInputError(
                f"default_precision must be in [{1 / math.sqrt(MAX_SHOTS):.2g}, 1] (shots = 1/precision^2, at most "
                f"{MAX_SHOTS:,}), got {self.default_precision!r}: give e.g. 0.015625"
            )
        if self.default_shots is not None:
            check_integer(self.default_shots, name="default_shots", low=1, high=MAX_SHOTS, fix="give e.g. 4096")
        if self.seed_estimator is not None:
            check_integer(self.seed_estimator, name="seed_estimator", low=0, high=MAX_SEED, fix="give e.g. 0")
        if self.resilience_level not in (0, 1, 2) or isinstance(self.resilience_level, bool):
            raise QecInputError(
                f"resilience_level must be 0 (none), 1 (TREX) or 2 (TREX + ZNE), got {self.resilience_level!r}"
            )
        if not isinstance(self.resilience, ResilienceOptions) or not isinstance(self.twirling, TwirlingOptions):
            raise QecInputError("resilience and twirling must be ResilienceOptions and TwirlingOptions, or dicts")
        if self.technique is not None:
            if self.technique not in TECHNIQUES:
                raise unknown_choice("technique", self.technique, TECHNIQUES)
            flags = (
                self.resilience.measure_mitigation,
                self.resilience.zne_mitigation,
                self.resilience.pec_mitigation,
            )
            if self.resilience_level != 0 or any(flags) or self.twirling.enable_gates or self.twirling.enable_measure:
                raise QecInputError(
                    f"technique {self.technique!r} is qec's own mitigation and replaces runtime's: give it with "
                    "resilience_level=0 and no measure_mitigation, zne_mitigation, pec_mitigation or twirling"
                )

    @classmethod
    def of(cls, options: EstimatorOptions | Mapping[str, Any] | None) -> EstimatorOptions:
        """`options` itself, the defaults for None, or built from runtime's nested dict (unknown keys refused).

        >>> EstimatorOptions.of({"resilience": {"zne": {"noise_factors": [1, 2, 3]}}}).resilience.zne.noise_factors
        (1, 2, 3)
        """
        if options is None:
            return cls()
        if isinstance(options, cls):
            return options
        if isinstance(options, Mapping):
            return _from_mapping(cls, options, "options")
        raise QecInputError(f"options must be EstimatorOptions, a dict or None, got {type(options).__name__}")

    def as_dict(self) -> dict[str, Any]:
        """Plain data (for metadata and JSON); a layer noise model as its one-line description."""
        model = self.resilience.layer_noise_model
        if model is None:
            return dataclasses.asdict(self)
        plain = dataclasses.asdict(dataclasses.replace(self, resilience=_without_model(self.resilience)))
        plain["resilience"]["layer_noise_model"] = model.describe()
        return plain


def _without_model(resilience: ResilienceOptions) -> ResilienceOptions:
    return dataclasses.replace(resilience, layer_noise_model=None)


def _from_mapping(cls: type, mapping: Mapping[str, Any], where: str) -> Any:
    fields = {field.name: field for field in dataclasses.fields(cls)}
    values = {}
    for key, value in mapping.items():
        if key not in fields:
            raise QecInputError(f"unknown option {where}.{key}: choose among {', '.join(fields)}")
        default = fields[key].default
        nested = dataclasses.is_dataclass(default) and not isinstance(default, type)
        values[key] = (
            _from_mapping(type(default), value, f"{where}.{key}") if nested and isinstance(value, Mapping) else value
        )
    return cls(**values)


def _replaced(options: Any, path: tuple[str, ...], value: Any, where: str) -> Any:
    """`options` with the field at `path` set to `value`, every level rebuilt (so validated)."""
    name = path[0]
    fields = {field.name for field in dataclasses.fields(options)}
    if name not in fields:
        raise QecInputError(f"unknown option {where}.{name}: choose among {', '.join(sorted(fields))}")
    current = getattr(options, name)
    if len(path) > 1:
        value = _replaced(current, path[1:], value, f"{where}.{name}")
    elif dataclasses.is_dataclass(current) and isinstance(value, Mapping):
        value = _from_mapping(type(current), value, f"{where}.{name}")
    return dataclasses.replace(options, **{name: value})


class OptionsView:
    """`estimator.options`: reads the estimator's frozen options; setting an attribute (at any depth) or
    `update(...)` replaces them with validated new ones."""

    def __init__(self, owner: Estimator, path: tuple[str, ...] = ()):
        object.__setattr__(self, "_owner", owner)
        object.__setattr__(self, "_path", path)

    def _current(self) -> Any:
        value: Any = self._owner._options
        for name in self._path:
            value = getattr(value, name)
        return value

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._current(), name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return OptionsView(self._owner, (*self._path, name))
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        self.update(**{name: value})

    def update(self, **values: Any) -> None:
        """Sets several fields at once (for fields that must change together, e.g. noise_factors and extrapolator)."""
        options = self._owner._options
        if self._path:
            fields = {field.name: getattr(self._current(), field.name) for field in dataclasses.fields(self._current())}
            current = _from_mapping(type(self._current()), {**fields, **values}, "")
            options = _replaced(options, self._path, current, "options")
        else:
            for name, value in values.items():
                options = _replaced(options, (name,), value, "options")
        self._owner._options = options

    def __repr__(self) -> str:
        return repr(self._current())


# --- The plan a run follows ---


@dataclass(frozen=True)
class Plan:
    """What one PUB's run does, resolved from the options and its shots."""

    measure_mitigation: bool
    twirl_measure: bool
    twirl_gates: bool
    zne: ZneResilienceOptions | None
    randomizations: int
    shots_per_randomization: int
    technique: str | None
    pec: PecResilienceOptions | None = None
    learning: LayerNoiseLearningOptions = LayerNoiseLearningOptions()
    layer_noise_model: LearnedNoise | None = None

    @property
    def pea(self) -> bool:
        return self.zne is not None and self.zne.amplifier == "pea"

    @property
    def learned(self) -> bool:
        """Whether the run needs the learned layer noise (PEA or PEC)."""
        return self.pea or self.pec is not None

    @classmethod
    def of(cls, options: EstimatorOptions, shots: int) -> Plan:
        level, resilience, twirling = options.resilience_level, options.resilience, options.twirling
        measure = level >= 1 if resilience.measure_mitigation is None else resilience.measure_mitigation
        zne = (
            (level >= 2 and not resilience.pec_mitigation)
            if resilience.zne_mitigation is None
            else resilience.zne_mitigation
        )
        twirl_measure = (level >= 1 or measure) if twirling.enable_measure is None else twirling.enable_measure
        twirl_gates = level >= 2 if twirling.enable_gates is None else twirling.enable_gates
        if measure and not twirl_measure:
            raise QecInputError(
                "measure_mitigation (TREX) twirls the measurements: leave twirling.enable_measure on (or None)"
            )
        randomizations, per = 1, shots
        learned = (zne and resilience.zne.amplifier == "pea") or bool(resilience.pec_mitigation)
        if twirl_measure or twirl_gates or learned:  # PEA and PEC circuits are twirled by construction
            given_r, given_s = twirling.num_randomizations, twirling.shots_per_randomization
            if given_r is None and given_s is None:
                randomizations, per = trex.randomizations_for(shots)
            elif given_s is None and given_r is not None:
                randomizations, per = given_r, math.ceil(shots / given_r)
            elif given_r is None and given_s is not None:
                randomizations, per = math.ceil(shots / given_s), given_s
            elif given_r is not None and given_s is not None:
                randomizations, per = given_r, given_s
        return cls(
            measure,
            twirl_measure,
            twirl_gates,
            resilience.zne if zne else None,
            randomizations,
            per,
            options.technique,
            resilience.pec if resilience.pec_mitigation else None,
            resilience.layer_noise_learning,
            resilience.layer_noise_model,
        )

    @property
    def name(self) -> str:
        if self.technique is not None:
            return self.technique
        gates = "pea" if self.pea else "zne"
        parts = [
            name
            for name, on in (
                ("trex", self.measure_mitigation),
                (gates, self.zne is not None),
                ("pec", self.pec is not None),
            )
            if on
        ]
        return "+".join(parts) or "none"

    @property
    def noise_factors(self) -> tuple[float, ...]:
        return (1.0,) if self.zne is None else tuple(float(f) for f in self.zne.noise_factors)


# --- The primitive ---


class Estimator(BaseEstimatorV2):
    """Qiskit's `BaseEstimatorV2` on Aer with runtime's resilience options (see the module docstring).

    Args:
        backend: None (noiseless), an Aer `NoiseModel`, a `NoiseSpec`, a fake IBM backend or an `AerSimulator`.
        options: `EstimatorOptions`, runtime's nested dict, or None for the defaults.
    """

    def __init__(self, *, backend: object = None, options: EstimatorOptions | Mapping[str, Any] | None = None):
        self._simulator, self._readout, self._spec = _simulator(backend)
        self._options = EstimatorOptions.of(options)
        self._coupled = self._simulator.target.build_coupling_map() is not None
        self._learned: dict[tuple, LearnedNoise] = {}

    @property
    def options(self) -> OptionsView:
        """The options, readable and settable as runtime's (`estimator.options.resilience_level = 2`)."""
        return OptionsView(self)

    @property
    def frozen_options(self) -> EstimatorOptions:
        """The current options object."""
        return self._options

    @property
    def learned_noise(self) -> tuple[LearnedNoise, ...]:
        """The layer noise models this Estimator has learned (one per circuit structure), in order."""
        return tuple(self._learned.values())

    @property
    def backend(self) -> AerSimulator:
        """The Aer simulator the circuits run on."""
        return self._simulator

    def run(
        self, pubs: Iterable[EstimatorPubLike], *, precision: float | None = None
    ) -> PrimitiveJob[PrimitiveResult[PubResult]]:
        """Estimates each PUB's observables; `precision` (> 0) sets the shots of PUBs that give none."""
        if precision is not None and not precision > 0:
            raise QecInputError(f"precision must be > 0 (shots = 1/precision^2), got {precision!r}: give e.g. 0.01")
        coerced = [EstimatorPub.coerce(pub, precision) for pub in pubs]
        for index, pub in enumerate(coerced):
            if pub.precision is not None and not pub.precision > 0:
                raise QecInputError(f"pub {index} has precision {pub.precision}: give a precision > 0, e.g. 0.01")
        job = PrimitiveJob(self._run, coerced, self._options)
        job._submit()
        return job

    def _run(self, pubs: list[EstimatorPub], options: EstimatorOptions) -> PrimitiveResult[PubResult]:
        return PrimitiveResult([self._run_pub(pub, options) for pub in pubs], metadata={"version": 2})

    def _shots(self, precision: float | None, options: EstimatorOptions) -> tuple[int, float]:
        if precision is None and options.default_shots is not None:
            return options.default_shots, 1 / math.sqrt(options.default_shots)
        precision = options.default_precision if precision is None else precision
        shots = math.ceil(1 / precision**2)
        if shots > MAX_SHOTS:
            raise QecInputError(
                f"precision {precision:g} needs {shots:.3g} shots per circuit, more than {MAX_SHOTS:,}: give a "
                f"precision >= {1 / math.sqrt(MAX_SHOTS):.2g}"
            )
        return shots, precision

    def _run_pub(self, pub: EstimatorPub, options: EstimatorOptions) -> PubResult:
        start = time.perf_counter()
        shots, precision = self._shots(pub.precision, options)
        plan = Plan.of(options, shots)
        rng = np.random.default_rng(options.seed_estimator)  # every PUB draws from the seed, as Qiskit's reference
        circuit = self._isa(pub.circuit)
        values = pub.parameter_values
        indices = np.fromiter(np.ndindex(values.shape), dtype=object).reshape(values.shape)
        bc_indices, bc_observables = np.broadcast_arrays(indices, pub.observables)
        if plan.technique is not None:
            evs, stds, circuits, total_shots = self._run_technique(pub, circuit, bc_indices, bc_observables, plan, rng)
            extra: dict[str, Any] = {}
            data = DataBin(evs=evs, stds=stds, shape=evs.shape)
        else:
            needed: dict[tuple, set[str]] = defaultdict(set)
            for index in np.ndindex(*bc_indices.shape):
                needed[bc_indices[index]].update(bc_observables[index])
            terms, circuits, total_shots, extra = self._estimate_terms(circuit, values, needed, plan, rng)
            evs, stds = np.zeros(bc_indices.shape), np.zeros(bc_indices.shape)
            factors = len(plan.noise_factors)
            evs_f, stds_f = np.zeros((*bc_indices.shape, factors)), np.zeros((*bc_indices.shape, factors))
            for index in np.ndindex(*bc_indices.shape):
                for label, coeff in bc_observables[index].items():
                    term = terms[bc_indices[index], label]
                    evs[index] += coeff * term.value
                    stds[index] += abs(coeff) * term.std
                    evs_f[index] += coeff * term.raw_values
                    stds_f[index] += abs(coeff) * term.raw_stds
            fields = {"evs": evs, "stds": stds}
            if plan.zne is not None:
                fields.update(evs_noise_factors=evs_f, stds_noise_factors=stds_f)
            data = DataBin(**fields, shape=evs.shape)
        metadata = {
            "target_precision": precision,
            "shots": plan.randomizations * plan.shots_per_randomization if plan.technique is None else shots,
            "circuit_metadata": pub.circuit.metadata,
            "technique": plan.name,
            "circuits": circuits,
            "total_shots": total_shots,
            "seconds": time.perf_counter() - start,
            "num_randomizations": plan.randomizations,
            "shots_per_randomization": plan.shots_per_randomization,
            **extra,
            "options": options.as_dict(),
        }
        return PubResult(data, metadata=metadata)

    def _isa(self, circuit: QuantumCircuit) -> QuantumCircuit:
        """`circuit` in the simulator's gates: itself when it is ISA; translated (qubits kept) on a backend without a
        coupling map; refused on one with (runtime's rule: transpile it yourself, so the layout is yours)."""
        if any(instruction.operation.name == "measure" for instruction in circuit.data):
            raise QecInputError(
                "an Estimator circuit has no measurements (the Estimator adds its own): remove them, e.g. "
                "circuit.remove_final_measurements()"
            )
        target = self._simulator.target
        if circuit.num_qubits <= target.num_qubits and all(
            instruction.operation.name in ("barrier", "delay", "reset")
            or target.instruction_supported(
                instruction.operation.name, tuple(circuit.find_bit(q).index for q in instruction.qubits)
            )
            for instruction in circuit.data
        ):
            return circuit
        if self._coupled:
            raise QecInputError(
                f"the circuit is not an ISA circuit for this backend ({target.num_qubits} qubits, gates "
                f"{', '.join(sorted(target.operation_names)[:8])}, ...): transpile it with "
                "generate_preset_pass_manager(backend=...) and lay out the observables with apply_layout, as for "
                "qiskit-ibm-runtime"
            )
        return transpile(circuit, self._simulator, optimization_level=0)

    def _estimate_terms(
        self,
        circuit: QuantumCircuit,
        values: Any,
        needed: dict[tuple, set[str]],
        plan: Plan,
        rng: np.random.Generator,
    ) -> tuple[dict[tuple[tuple, str], _Term], int, int, dict[str, Any]]:
        """Every needed (parameter index, Pauli label)'s value: measured in qubit-wise commuting groups, twirled,
        TREX-corrected and extrapolated as `plan` says. Returns the terms, circuits run, shots and extra metadata."""
        n = circuit.num_qubits
        extra: dict[str, Any] = {}
        signs: list[int] | None = None
        gamma = 1.0
        randomizations = plan.randomizations
        if plan.learned:
            actual, variants, signs, gamma, extra = self._learned_variants(circuit, plan, rng)
            randomizations = len(variants[0])
        else:
            folded: list[tuple[float, QuantumCircuit]] = []
            for factor in plan.noise_factors:
                scaled, actual_factor = fold_two_qubit_gates(circuit, factor, amplifier=_amplifier(plan), rng=rng)
                folded.append((actual_factor, scaled))
            actual = np.array([factor for factor, _ in folded])
            variants = [
                pauli_twirl_2q_gates(
                    c, seed=int(rng.integers(MAX_SEED)), num_twirls=plan.randomizations, target=self._simulator.target
                )
                if plan.twirl_gates and _has_two_qubit_gates(c)
                else [c] * plan.randomizations
                for _, c in folded
            ]
        masks = (
            trex.twirl_masks(randomizations, n, rng=rng)
            if plan.twirl_measure
            else np.zeros((randomizations, n), dtype=bool)
        )
        # Each circuit structure (noise factor, randomization, measured group) is built once with its parameters
        # free, and Aer binds every parameter point that measures those groups: one experiment per point.
        # per experiment Aer runs, what it measures: [(factor, parameters, group, support, twirl)]; a circuit without
        # parameters runs once for all the points
        jobs: list[list[tuple[int, tuple, int, tuple[int, ...], int]]] = []
        batch: list[QuantumCircuit] = []
        binds: list[dict] = []
        groups: dict[tuple, list[tuple[tuple[int, ...], list[str]]]] = {}
        points: dict[tuple, list[tuple]] = defaultdict(list)  # the groups measured -> the points that measure them
        grouped: dict[frozenset[str], list[tuple[tuple[int, ...], list[str]]]] = {}  # each set of labels once
        for p, labels in needed.items():
            key = frozenset(label for label in labels if set(label) != {"I"})
            if key not in grouped:
                grouped[key] = _groups(sorted(key), n)
            groups[p] = grouped[key]
            points[tuple((support, tuple(members)) for support, members in groups[p])].append(p)
        table = {}
        if circuit.parameters:
            array = values.as_array(circuit.parameters)
            table = {parameter.name: array[..., k] for k, parameter in enumerate(circuit.parameters)}
        for measured_groups, ps in points.items():
            at_points = _point_values(table, ps)
            for f, factor_variants in enumerate(variants):
                for g, (support, labels_g) in enumerate(measured_groups):
                    bases = _bases(list(labels_g), support, n)
                    for r, variant in enumerate(factor_variants):
                        batch.append(_measured(variant, support, bases, masks[r]))
                        parameters = variant.parameters
                        binds.append({parameter: at_points[parameter.name] for parameter in parameters})
                        if parameters:
                            jobs.extend([(f, p, g, support, r)] for p in ps)
                        else:
                            jobs.append([(f, p, g, support, r) for p in ps])
        measured_qubits = sorted({q for gs in groups.values() for support, _ in gs for q in support})
        calibration_start = len(jobs)
        if plan.measure_mitigation and measured_qubits:
            for r in range(randomizations):
                batch.append(_measured(QuantumCircuit(n), tuple(measured_qubits), {}, masks[r]))
                binds.append({})
        aer_start = time.perf_counter()
        tallies = self._run_batch(batch, plan.shots_per_randomization, rng, binds=binds)
        extra["aer_seconds"] = time.perf_counter() - aer_start

        pooled: dict[tuple, list[tuple[np.ndarray, np.ndarray]]] = defaultdict(list)  # per randomization
        for measured_by, (bits, counts) in zip(jobs, tallies[:calibration_start]):
            for f, p, g, support, r in measured_by:
                pooled[f, p, g].append((bits ^ masks[r, list(support)], counts))
        calibration = None
        if plan.measure_mitigation and measured_qubits:
            calibration = _pool(
                [
                    (bits ^ masks[r, measured_qubits], counts)
                    for r, (bits, counts) in enumerate(tallies[calibration_start:])
                ]
            )
        raw: dict[tuple[tuple, str], tuple[np.ndarray, np.ndarray]] = {}
        attenuations: dict[str, tuple[float, float]] = {}  # TREX's per label: its mean and error on |0...0>
        for p, gs in groups.items():
            for g, (support, members) in enumerate(gs):
                per_factor = []
                supports = _supports(members, support, n)
                for f in range(len(variants)):
                    if plan.learned:
                        per_factor.append(_sampled_parities(pooled[f, p, g], signs, supports, gamma))
                    else:
                        per_factor.append(trex.parities(*_pool(pooled[f, p, g]), supports))
                for j, label in enumerate(members):
                    means = np.array([per_factor[f][0][j] for f in range(len(variants))])
                    stds = np.array([per_factor[f][1][j] for f in range(len(variants))])
                    if calibration is not None:
                        if label not in attenuations:  # the same calibration for every parameter point
                            cal_means, cal_stds = trex.parities(
                                calibration[0], calibration[1], _supports([label], tuple(measured_qubits), n)
                            )
                            attenuations[label] = float(cal_means[0]), float(cal_stds[0])
                        attenuation, attenuation_std = attenuations[label]
                        pairs = [
                            trex.extinguish(m, s, attenuation=attenuation, attenuation_std=attenuation_std)
                            for m, s in zip(means, stds)
                        ]
                        means, stds = np.array([a for a, _ in pairs]), np.array([b for _, b in pairs])
                    raw[p, label] = (means, stds)
        terms: dict[tuple[tuple, str], _Term] = {}
        used: dict[str, int] = defaultdict(int)
        for p, labels in needed.items():
            for label in labels:
                if set(label) == {"I"}:
                    ones = np.ones(len(actual))
                    terms[p, label] = _Term(1.0, 0.0, ones, 0 * ones)
                    continue
                means, stds = raw[p, label]
                if plan.zne is None or len(set(actual)) == 1:
                    terms[p, label] = _Term(float(means[0]), float(stds[0]), means, stds)
                    continue
                value, std, name = _extrapolate(plan.zne.extrapolators, actual, means, stds)
                used[name] += 1
                terms[p, label] = _Term(value, std, means, stds)
        if plan.zne is not None:
            extra["noise_factors"] = [float(f) for f in actual]
            extra["extrapolators_used"] = dict(used)
            if len(set(actual)) == 1:
                extra["zne_note"] = "no two-qubit gates to amplify: the values are as measured"
        if plan.measure_mitigation:
            extra["calibration_circuits"] = len(tallies) - calibration_start
        return terms, len(tallies), len(tallies) * plan.shots_per_randomization, extra

    def _learned_variants(
        self, circuit: QuantumCircuit, plan: Plan, rng: np.random.Generator
    ) -> tuple[np.ndarray, list[list[QuantumCircuit]], list[int] | None, float, dict[str, Any]]:
        """PEA's or PEC's sampled circuits (each twirled, parameters left free): per noise factor (PEC: one, at 1)
        a list of randomizations; PEC's signs and gamma; metadata. PEC draws gamma^2 times the randomizations, so
        its error bar is about the precision asked for."""
        parts = layered(circuit)
        extra: dict[str, Any] = {}
        factors = plan.noise_factors if plan.pea else (1.0,)
        if not parts.layers:
            extra["learned_noise"] = "none: the circuit has no two-qubit gates"
            variants = [[circuit] * plan.randomizations for _ in factors]
            return np.ones(len(factors)), variants, None, 1.0, extra
        learned = self._layer_noise(circuit, parts, plan, extra)
        seeds = rng.integers(MAX_SEED, size=len(factors))
        if plan.pec is None:
            variants = [
                list(
                    pea_circuits(
                        parts, learned, noise_factor=f, samples=max(plan.randomizations, 2), seed=int(seed)
                    ).circuits[: plan.randomizations]
                )
                for f, seed in zip(factors, seeds)
            ]
            return np.array(factors), variants, None, 1.0, extra
        gain = float(plan.pec.noise_gain)
        gamma = math.prod(learned.for_layer(layer).gamma ** (1 - gain) for layer in parts.layers)
        overhead = gamma**2
        if plan.pec.max_overhead is not None and overhead > plan.pec.max_overhead:
            raise QecInputError(
                f"PEC of this circuit has sampling overhead gamma^2 = {overhead:.4g} ({len(parts.layers)} layers), "
                f"over resilience.pec.max_overhead = {plan.pec.max_overhead:g}: raise max_overhead, set pec.noise_gain "
                "above 0, or use zne with amplifier 'pea'"
            )
        samples = max(2, min(MAX_SHOTS, math.ceil(plan.randomizations * overhead)))
        sampled = pec_circuits(parts, learned, samples=samples, seed=int(seeds[0]), noise_gain=gain)
        extra.update(
            gamma=gamma,
            sampling_overhead=overhead,
            noise_gain=gain,
            num_randomizations=samples,
            shots=samples * plan.shots_per_randomization,
        )
        return np.ones(1), [list(sampled.circuits)], list(sampled.signs), sampled.gamma, extra

    def _layer_noise(
        self, circuit: QuantumCircuit, parts: LayeredCircuit, plan: Plan, extra: dict[str, Any]
    ) -> LearnedNoise:
        """The given model, else the one learned for this circuit structure (its distinct layers, active qubits and
        the learning options), learned on the Estimator's simulator at the first PUB that needs it."""
        if plan.layer_noise_model is not None:
            learned, source = plan.layer_noise_model, "given"
        else:
            learning = plan.learning
            key = (circuit.num_qubits, parts.active_qubits, frozenset(parts.distinct_layers()), learning)
            cached = self._learned.get(key)
            if cached is not None:
                learned, source = cached, "cached"
            else:
                start = time.perf_counter()
                order = math.lcm(*(layer.order for layer in parts.distinct_layers()))
                seed = self._options.seed_estimator
                backend = Backend(
                    self._simulator,
                    "CPU",
                    str(self._simulator.options.method),
                    learning.shots_per_randomization,
                    None if seed is None else seed + 1,
                    None,
                )
                learned = learn_layer_noise(
                    circuit,
                    backend,
                    depths=[order * d for d in learning.layer_pair_depths],
                    twirls=learning.num_randomizations,
                    seed=None if seed is None else seed + 2,
                )
                self._learned[key] = learned
                source = "learned"
                circuits = len(parts.distinct_layers()) * learning.num_randomizations * len(learning.layer_pair_depths)
                extra["learning_seconds"] = time.perf_counter() - start
                extra["learning_circuits_per_basis"] = circuits
        extra["learned_noise"] = learned.describe()
        extra["learned_noise_source"] = source
        return learned

    def _run_batch(
        self, circuits: list[QuantumCircuit], shots: int, rng: np.random.Generator, *, binds: list[dict] | None = None
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """All circuits in one Aer call, each once per parameter point of its `binds` entry (Parameter -> values;
        empty: once); per experiment, in that order, the distinct outcomes of the register the Estimator added
        (bool, shape (outcomes, bits), column j = that register's bit j) and their counts."""
        if not circuits:
            return []
        seed = int(rng.integers(MAX_SEED))
        if binds is None or not any(binds):
            result = self._simulator.run(circuits, shots=shots, seed_simulator=seed).result()
            return _tally([result.data(i)["counts"] for i in range(len(circuits))], circuits)
        result = self._simulator.run(circuits, shots=shots, seed_simulator=seed, parameter_binds=binds).result()
        runs = [circuit for circuit, bind in zip(circuits, binds) for _ in range(len(next(iter(bind.values()), [0])))]
        return _tally([result.data(i)["counts"] for i in range(len(runs))], runs)

    def _run_technique(
        self,
        pub: EstimatorPub,
        circuit: QuantumCircuit,
        bc_indices: np.ndarray,
        bc_observables: np.ndarray,
        plan: Plan,
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, np.ndarray, int, int]:
        """qec's Mitiq technique on each (bound circuit, observable) of the PUB (`techniques.apply_technique`)."""
        from qec.mitigation.observables import pauli_sum
        from qec.mitigation.user_circuits import prepare_circuit
        from qec.mitigation.workloads import Workload

        assert plan.technique is not None
        entry = check_technique(plan.technique, self._spec or NoiseSpec(), qubits=circuit.num_qubits)
        if entry.needs_depolarizing_rates and self._spec is None:
            raise QecInputError(
                f"technique {entry.name!r} builds its representations from depolarizing rates: give the backend as a "
                "NoiseSpec (p1, p2), or use zne with this backend"
            )
        seed = int(rng.integers(MAX_SEED))
        backend = Backend(self._simulator, "CPU", "automatic", plan.shots_per_randomization, seed, self._readout)
        evs, stds = np.zeros(bc_indices.shape), np.zeros(bc_indices.shape)
        circuits = 0
        for index in np.ndindex(*bc_indices.shape):
            observable = bc_observables[index]
            identity = sum(c for label, c in observable.items() if set(label) == {"I"})
            rest = {label: c for label, c in observable.items() if set(label) != {"I"}}
            evs[index] = identity
            if not rest:
                continue
            bound = pub.parameter_values.bind(circuit, bc_indices[index]) if circuit.parameters else circuit
            paulis = pauli_sum(SparsePauliOp(list(rest), list(rest.values())), num_qubits=circuit.num_qubits)
            workload = Workload("pub", prepare_circuit(bound), paulis.to_mitiq(), math.nan)
            estimate = apply_technique(entry, workload, backend=backend, noise=self._spec or NoiseSpec(), seed=seed)
            evs[index] += estimate.value
            stds[index] = math.nan if estimate.standard_error is None else estimate.standard_error
            circuits += estimate.circuits
        return evs, stds, circuits, circuits * plan.shots_per_randomization


@dataclass(frozen=True)
class _Term:
    """One Pauli term's estimate, its 1-sigma error, and its values and errors at each noise factor."""

    value: float
    std: float
    raw_values: np.ndarray
    raw_stds: np.ndarray


def fold_two_qubit_gates(
    circuit: QuantumCircuit, factor: float, *, amplifier: str = "gate_folding", rng: np.random.Generator
) -> tuple[QuantumCircuit, float]:
    """`circuit` with its two-qubit gates folded (G -> G G^dagger G) to about `factor` times their count, as
    runtime's gate-folding amplifiers do: every gate k times, and a share of them once more, chosen at random
    ("gate_folding"), from the front or from the back. Returns the circuit and its actual noise factor,
    1 + 2 folds / gates (1 when it has no two-qubit gate).

    >>> circuit = QuantumCircuit(2)
    >>> _ = circuit.cx(0, 1), circuit.cx(1, 0)
    >>> folded, actual = fold_two_qubit_gates(circuit, 2.0, amplifier="gate_folding_front", rng=np.random.default_rng())
    >>> [i.operation.name for i in folded.data], actual
    (['cx', 'cx', 'cx', 'cx'], 2.0)
    """
    positions = [i for i, instruction in enumerate(circuit.data) if _is_two_qubit_gate(instruction.operation)]
    if not positions or factor == 1:
        return circuit, 1.0
    folds = round(len(positions) * (factor - 1) / 2)
    each, extra = divmod(folds, len(positions))
    if amplifier == "gate_folding":
        chosen = set(rng.choice(len(positions), size=extra, replace=False).tolist())
    elif amplifier == "gate_folding_front":
        chosen = set(range(extra))
    else:
        chosen = set(range(len(positions) - extra, len(positions)))
    times = {position: each + (k in chosen) for k, position in enumerate(positions)}
    folded = circuit.copy_empty_like()
    for i, instruction in enumerate(circuit.data):
        folded.append(instruction)
        for _ in range(times.get(i, 0)):
            folded.append(instruction.operation.inverse(), instruction.qubits)
            folded.append(instruction)
    return folded, 1 + 2 * folds / len(positions)


def _amplifier(plan: Plan) -> str:
    return "gate_folding" if plan.zne is None else plan.zne.amplifier


def _is_two_qubit_gate(operation: Any) -> bool:
    return isinstance(operation, Gate) and operation.num_qubits == 2


def _has_two_qubit_gates(circuit: QuantumCircuit) -> bool:
    return any(_is_two_qubit_gate(instruction.operation) for instruction in circuit.data)


def _extrapolate(
    names: Sequence[str], factors: np.ndarray, values: np.ndarray, stds: np.ndarray
) -> tuple[float, float, str]:
    """The first extrapolator whose fit is finite and physical (|value| <= 1 + 3 sigma); else the first finite
    one; else the value at the lowest noise factor ("fallback")."""
    finite: list[tuple[float, float, str]] = []
    for name in names:
        extrapolator = EXTRAPOLATORS[name]
        if extrapolator.linear:  # value and error from its coefficients, the same for every term of a run
            coefficients = _linear_coefficients(name, tuple(float(f) for f in factors))
            value = float(coefficients @ values)
            std = float(np.sqrt(np.sum(coefficients**2 * stds**2)))
        else:
            assert extrapolator.gradient is not None
            value, gradient = extrapolator.gradient(factors, values)
            std = float(np.sqrt(np.sum(gradient**2 * stds**2)))
        if not math.isfinite(value):
            continue
        if abs(value) <= 1 + _PHYSICAL_SIGMAS * (std if math.isfinite(std) else 0.0):
            return value, std, name
        finite.append((value, std, name))
    if finite:
        return finite[0]
    lowest = int(np.argmin(factors))
    return float(values[lowest]), float(stds[lowest]), "fallback"


@functools.lru_cache(maxsize=256)
def _linear_coefficients(name: str, factors: tuple[float, ...]) -> np.ndarray:
    """The coefficients c of a linear extrapolator's value, sum_i c_i value_i, at these noise factors."""
    return extrapolation_coefficients(functools.partial(_Linear, EXTRAPOLATORS[name], np.array(factors)), list(factors))


class _Linear:
    """A stand-in for a Mitiq factory (push, reduce) around a linear extrapolator, for
    `techniques.extrapolation_coefficients`."""

    def __init__(self, extrapolator: Extrapolator, factors: np.ndarray):
        self._extrapolator, self._factors = extrapolator, factors
        self._values: list[float] = []

    def push(self, instack: dict, value: float) -> None:
        self._values.append(value)

    def reduce(self) -> float:
        return _fit(self._extrapolator, self._factors, np.array(self._values))


def _fit(extrapolator: Extrapolator, factors: np.ndarray, values: np.ndarray) -> float:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float(extrapolator.fit([float(f) for f in factors], [float(v) for v in values]))
    except Exception:  # a fit that fails (e.g. an exponential through values of both signs) is not successful
        return math.nan


def _groups(labels: list[str], n: int) -> list[tuple[tuple[int, ...], list[str]]]:
    """Qubit-wise commuting groups of Qiskit labels (qubit 0 rightmost): (support qubits, sorted; labels)."""
    if not labels:
        return []
    grouped = []
    for group in PauliList(labels).group_qubit_wise_commuting():
        members = sorted(group.to_labels())
        support = tuple(q for q in range(n) if any(label[n - 1 - q] != "I" for label in members))
        grouped.append((support, members))
    return grouped


def _bases(labels: list[str], support: tuple[int, ...], n: int) -> dict[int, str]:
    bases = {}
    for q in support:
        letters = {label[n - 1 - q] for label in labels} - {"I"}
        bases[q] = letters.pop()
    return bases


def _supports(labels: list[str], columns: tuple[int, ...], n: int) -> np.ndarray:
    """bool, shape (labels, columns): which measured columns (qubits `columns`) each label reads."""
    return np.array([[label[n - 1 - q] != "I" for q in columns] for label in labels], dtype=bool).reshape(
        len(labels), len(columns)
    )


def _point_values(table: dict[str, np.ndarray], points: list[tuple]) -> dict[str, list[float]]:
    """Each parameter's values at each of `points` (indices into the PUB's parameter values; `table`: parameter
    name -> its values, shaped as the PUB's), for Aer's `parameter_binds` of every circuit run at those points."""
    return {name: [float(values[p]) for p in points] for name, values in table.items()}


def _tally(
    counts: Sequence[Mapping[str, int]], circuits: Sequence[QuantumCircuit]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Aer's raw counts of each circuit (hex keys over all its clbits, clbit 0 lowest) as the distinct outcomes of
    the register the Estimator added last (bool, shape (outcomes, bits), column j = its bit j) and their counts;
    all experiments converted at once."""
    widths = [circuit.cregs[-1].size for circuit in circuits]
    offsets = [circuit.num_clbits - width for circuit, width in zip(circuits, widths)]
    values = [int(key, 16) >> offset for experiment, offset in zip(counts, offsets) for key in experiment]
    wide = max(widths) > 63
    shifts = np.arange(max(widths), dtype=object if wide else np.int64)
    registers = np.array(values, dtype=object if wide else np.int64).reshape(-1, 1)
    bits = ((registers >> shifts) & 1).astype(bool).reshape(len(values), len(shifts))
    numbers = np.fromiter((n for experiment in counts for n in experiment.values()), dtype=np.int64, count=len(values))
    stops = np.cumsum([len(experiment) for experiment in counts])
    return [
        (bits[stop - len(experiment) : stop, :width], numbers[stop - len(experiment) : stop])
        for experiment, width, stop in zip(counts, widths, stops.tolist())
    ]


_MEASURE = Measure()
_X = XGate()
_ROTATIONS = {"X": (RZGate(math.pi / 2), SXGate()), "Y": (SXGate(),)}  # each basis's eigenstates to Z's


def _measured(
    circuit: QuantumCircuit, support: tuple[int, ...], bases: dict[int, str], mask: np.ndarray
) -> QuantumCircuit:
    """`circuit` rotated into each support qubit's basis (in rz, sx: X by rz(pi/2) sx, Y by sx), twirled (X where
    `mask` says) and measured into a new register, bit j = support qubit j."""
    measured = circuit.copy()
    register = ClassicalRegister(len(support), "estimator")
    measured.add_register(register)
    qubits = measured.qubits
    for q in support:
        for gate in _ROTATIONS.get(bases.get(q, "Z"), ()) + ((_X,) if mask[q] else ()):
            measured._append(CircuitInstruction(gate, (qubits[q],)))
    for j, q in enumerate(support):
        measured._append(CircuitInstruction(_MEASURE, (qubits[q],), (register[j],)))
    return measured


def _sampled_parities(
    parts: list[tuple[np.ndarray, np.ndarray]], signs: list[int] | None, supports: np.ndarray, gamma: float
) -> tuple[np.ndarray, np.ndarray]:
    """PEA's and PEC's estimate from sampled circuits, one (bits, counts) per circuit: gamma times the mean over
    circuits of sign * (mean parity), and its error, the spread of those over the circuits / sqrt(circuits), which
    holds both the sampling and the shot noise (a pooled shot-noise error would leave the sampling out)."""
    bits, counts = _pool(parts)
    starts = np.cumsum([0] + [len(part_counts) for _, part_counts in parts[:-1]])
    sums = np.add.reduceat(counts[:, None] * trex.parity_signs(bits, supports), starts, axis=0)  # integers
    values = sums / np.add.reduceat(counts, starts)[:, None]  # (circuits, terms): each circuit's mean parities
    weights = gamma * (np.ones(len(parts)) if signs is None else np.array(signs, dtype=float))
    weighted = weights[:, None] * values
    if len(parts) < 2:
        shots = int(parts[0][1].sum())
        return weighted[0], gamma * np.sqrt(np.clip(1 - values[0] ** 2, 0, None) / shots)
    return weighted.mean(axis=0), weighted.std(axis=0, ddof=1) / math.sqrt(len(parts))


def _pool(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([bits for bits, _ in parts]), np.concatenate([counts for _, counts in parts])


def _simulator(backend: object) -> tuple[AerSimulator, tuple[float, ...] | None, NoiseSpec | None]:
    """The Aer simulator for `backend`, its per-qubit readout flip rates where known (for qec's REM), and the
    NoiseSpec when that is what was given (for PEC's depolarizing rates)."""
    from qec.mitigation.runs import model_readout_rates

    if backend is None:
        return AerSimulator(), None, NoiseSpec()
    if isinstance(backend, AerSimulator):
        model = backend.options.noise_model
        readout = model_readout_rates(model, backend.target.num_qubits) if isinstance(model, NoiseModel) else None
        return backend, readout, None
    if isinstance(backend, NoiseModel):
        simulator = AerSimulator(noise_model=backend)
        return simulator, model_readout_rates(backend, simulator.target.num_qubits), None
    if isinstance(backend, NoiseSpec):
        if backend.fake_backend is not None:
            from qec.mitigation.noise_models import fake_backend

            device = fake_backend(backend.fake_backend)
            return AerSimulator.from_backend(device), fake_readout_errors(device), None
        return AerSimulator(noise_model=backend.to_aer()), None, backend
    if isinstance(backend, BackendV2):
        return AerSimulator.from_backend(backend), fake_readout_errors(backend), None
    raise QecInputError(
        f"backend must be None (noiseless), an Aer NoiseModel, a NoiseSpec, a fake IBM backend or an AerSimulator, "
        f"got {type(backend).__name__}"
    )
