"""Logical error rates with binomial intervals, per shot and per round, and the suppression factor Lambda.

Intervals are Wilson score intervals (95% by default): good coverage down to a handful of errors and
never outside [0, 1]. Per-round rates convert a shot's failure probability P over R rounds into the
per-round flip probability e with 1 - 2P = (1 - 2e)^R (an observable flips when an odd number of
rounds flip it), as sinter's `shot_error_rate_to_piece_error_rate` does. With k > 1 logical qubits a shot
fails when any observable is wrong; the rate per logical qubit is q with 1 - P = (1 - q)^k (k independent
qubits failing alike). Both maps are monotone, so an interval maps through them end to end.

>>> from qec.stats import wilson_interval, per_round_rate
>>> low, high = wilson_interval(errors=10, shots=1000)
>>> round(low, 4), round(high, 4)
(0.0054, 0.0183)
>>> round(per_round_rate(0.1, rounds=5), 5)
0.02182
>>> round(per_qubit_rate(0.1, observables=12), 5)
0.00874
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, cast

import numpy as np

from qec.metadata import mapped_metadata
from qec.task import Counts, TaskTotals

Z_95 = 1.959963984540054
RATE_KINDS = ("shot", "round", "qubit")  # what a rate is per: a shot, a round, a logical qubit


def wilson_interval(*, errors: int, shots: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a binomial rate (95% for the default z)."""
    if shots <= 0:
        return 0.0, 1.0
    rate = errors / shots
    denominator = 1 + z * z / shots
    centre = (rate + z * z / (2 * shots)) / denominator
    half = z * math.sqrt(rate * (1 - rate) / shots + z * z / (4 * shots * shots)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def relative_half_width(errors: int, shots: int) -> float:
    """Half the width of the 95% Wilson interval divided by the rate (inf with no errors)."""
    if errors == 0:
        return math.inf
    low, high = wilson_interval(errors=errors, shots=shots)
    return (high - low) / 2 / (errors / shots)


def per_round_rate(shot_rate: Any, *, rounds: Any) -> Any:
    """The per-round logical error rate e with 1 - 2 * shot_rate = (1 - 2e)^rounds, elementwise on NumPy arrays.

    A shot rate >= 1/2 (no better than a guess) gives 1/2 and one below 0 gives 0, whatever the rounds.

    >>> per_round_rate(np.array([0.1, 0.6]), rounds=np.array([1, 5])).tolist()
    [0.1, 0.5]
    """
    shot_rate, rounds = np.clip(np.asarray(shot_rate, dtype=float), 0, 0.5), np.asarray(rounds)
    per_round = np.where(rounds == 1, shot_rate, (1 - (1 - 2 * shot_rate) ** (1 / rounds)) / 2)
    return float(per_round) if per_round.ndim == 0 else per_round


def per_qubit_rate(shot_rate: Any, *, observables: Any) -> Any:
    """The rate q per logical qubit with 1 - shot_rate = (1 - q)^observables, elementwise on NumPy arrays; a
    shot rate outside [0, 1] is clipped to it.

    >>> per_qubit_rate(np.array([0.19, 0.5]), observables=np.array([2, 1])).tolist()
    [0.09999999999999998, 0.5]
    """
    shot_rate, observables = np.clip(np.asarray(shot_rate, dtype=float), 0, 1), np.asarray(observables)
    per_qubit = np.where(observables == 1, shot_rate, 1 - (1 - shot_rate) ** (1 / observables))
    return float(per_qubit) if per_qubit.ndim == 0 else per_qubit


@dataclass(frozen=True)
class ObservableRate:
    """The logical error rate of one observable (logical qubit) of a task: the kept shots whose observable
    `observable` was mispredicted, with its 95% Wilson interval."""

    observable: int
    errors: int
    shots: int

    @property
    def rate(self) -> float:
        return self.errors / self.shots if self.shots else math.nan

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(errors=self.errors, shots=self.shots)

    def as_dict(self) -> dict[str, Any]:
        low, high = self.interval
        return {"observable": self.observable, "errors": self.errors, "rate": self.rate, "low": low, "high": high}


@dataclass(frozen=True)
class Point:
    """One task's counts, and where its metadata places it: family, distance, rounds, noise, p and decoder.

    What the metadata does not give is None (rounds: 1), never a made-up value; a threshold fit refuses points
    without a distance or p (`is_placed` tells). `metadata` is the task's metadata with other tools' keys mapped
    onto ours (`qec.metadata`); `observable_errors[k]` counts the kept shots whose observable k was wrong (None
    when some chunk did not record them, as rows imported from a sinter CSV do not).
    """

    family: str | None
    distance: int | None
    rounds: int
    noise: str | None
    p: float | None
    decoder: str
    counts: Counts
    metadata: Mapping[str, Any] = field(default_factory=dict, compare=False)
    observable_errors: tuple[int, ...] | None = None

    @staticmethod
    def from_totals(totals: TaskTotals, *, observable_errors: tuple[int, ...] | None = None) -> Point:
        """The point of a stored task: distance, rounds (default 1), p, family and noise from the metadata with
        other tools' keys mapped onto ours (`d` -> distance, `error_rate` -> p, ...; `qec.metadata`), validated
        when stored (`qec.validation`); `observable_errors` as the store summed them, if it did.

        >>> from qec.task import Counts, TaskTotals
        >>> point = Point.from_totals(TaskTotals("ab12", "uf", {"d": 5, "p": 0.01}, Counts(100, 3), 1, 1))
        >>> point.distance, point.rounds, point.family, point.is_placed
        (5, 1, None, True)
        """
        metadata = mapped_metadata(totals.metadata)

        def first(*keys: str) -> Any:
            return next((metadata[key] for key in keys if metadata.get(key) is not None), None)

        distance, rounds, p = first("distance", "d"), first("rounds", "r"), first("p")
        family, noise = first("family"), first("noise")
        return Point(
            family=None if family is None else str(family),
            distance=None if distance is None else int(distance),
            rounds=1 if rounds is None else int(rounds),
            noise=None if noise is None else str(noise),
            p=None if p is None else float(p),
            decoder=totals.decoder,
            counts=totals.counts,
            metadata=metadata,
            observable_errors=observable_errors,
        )

    @property
    def noise_label(self) -> str:
        """The noise model with the parameters its metadata records beside p: `biased(eta=100)`,
        `code-capacity(independent)`, `erasure(R_e=0.5)`; '-' when none is recorded.

        >>> from qec.task import Counts, TaskTotals
        >>> Point.from_totals(TaskTotals("ab", "uf", {"noise": "biased", "bias": "inf"}, Counts(), 0, 0)).noise_label
        'biased(eta=inf)'
        >>> erasure = {"noise": "erasure", "erasure_fraction": 0.5}
        >>> Point.from_totals(TaskTotals("ab", "uf", erasure, Counts(), 0, 0)).noise_label
        'erasure(R_e=0.5)'
        """
        bias, pauli = self.metadata.get("bias"), self.metadata.get("pauli")
        parameters = []
        if pauli == "independent":
            parameters.append(pauli)
        if bias == "inf" or (isinstance(bias, (int, float)) and not isinstance(bias, bool) and math.isfinite(bias)):
            parameters.append(f"eta={bias:g}" if not isinstance(bias, str) else "eta=inf")
        fraction = self.metadata.get("erasure_fraction")
        if isinstance(fraction, (int, float)) and not isinstance(fraction, bool) and 0 <= fraction <= 1:
            parameters.append(f"R_e={fraction:g}")
        name = self.noise or "-"
        return f"{name}({', '.join(parameters)})" if parameters else name

    @property
    def decoder_label(self) -> str:
        """The decoder with the options its metadata records: `bposd(osd_order=4)`.

        >>> from qec.task import Counts, TaskTotals
        >>> totals = TaskTotals("ab", "bposd", {"decoder_options": {"osd_order": 4}}, Counts(), 0, 0)
        >>> Point.from_totals(totals).decoder_label
        'bposd(osd_order=4)'
        """
        options = self.metadata.get("decoder_options")
        if not isinstance(options, dict) or not options:
            return self.decoder
        shown = ", ".join(f"{key}={json.dumps(value)}" for key, value in sorted(options.items()))
        shown = "".join(c if c.isprintable() else "?" for c in shown)  # metadata from a file: nothing raw
        return f"{self.decoder}({shown if len(shown) <= 60 else shown[:57] + '...'})"

    @property
    def is_placed(self) -> bool:
        """Whether the point has a distance and a p, as a threshold study needs."""
        return self.distance is not None and self.p is not None

    @property
    def rate(self) -> float:
        """Logical errors per kept shot (NaN with no kept shot)."""
        return self.counts.errors / self.counts.kept if self.counts.kept else math.nan

    @property
    def discard_rate(self) -> float:
        """The share of shots discarded by postselection (NaN with no shot)."""
        return self.counts.discards / self.counts.shots if self.counts.shots else math.nan

    @property
    def rate_interval(self) -> tuple[float, float]:
        return wilson_interval(errors=self.counts.errors, shots=self.counts.kept)

    @property
    def unit(self) -> str:
        """What the per-operation rate counts: the experiment's `unit` from the metadata (a CNOT, a surgery), else
        a round (memory and stability experiments, and tasks of other tools)."""
        unit = self.metadata.get("unit")
        return unit if isinstance(unit, str) and unit.isidentifier() and len(unit) <= 20 else "round"

    @property
    def operations(self) -> int:
        """How many operations of `unit` a shot holds: the metadata's `operations` (experiments other than memory
        record it), else the rounds."""
        operations = self.metadata.get("operations")
        if isinstance(operations, int) and not isinstance(operations, bool) and operations >= 1:
            return operations
        return self.rounds

    @property
    def rate_per_operation(self) -> float:
        """The rate per `unit` (per round for a memory): 1 - 2 * rate = (1 - 2 e)^operations."""
        return per_round_rate(self.rate, rounds=self.operations)

    @property
    def rate_per_operation_interval(self) -> tuple[float, float]:
        low, high = self.rate_interval
        return per_round_rate(low, rounds=self.operations), per_round_rate(high, rounds=self.operations)

    @property
    def observables(self) -> int | None:
        """k, the number of observables (logical qubits): from the stored per-observable counts, else from a
        metadata key `k`; None when neither gives it."""
        if self.observable_errors:
            return len(self.observable_errors)
        k = self.metadata.get("k")
        return k if isinstance(k, int) and not isinstance(k, bool) and k >= 1 else None

    @property
    def rate_per_qubit(self) -> float:
        """The rate per logical qubit, 1 - (1 - rate)^(1/k) (NaN when k is not known)."""
        k = self.observables
        return math.nan if k is None else per_qubit_rate(self.rate, observables=k)

    @property
    def rate_per_qubit_interval(self) -> tuple[float, float]:
        k = self.observables
        if k is None:
            return math.nan, math.nan
        low, high = self.rate_interval
        return per_qubit_rate(low, observables=k), per_qubit_rate(high, observables=k)

    def rate_of(self, kind: str) -> tuple[float, float, float]:
        """(rate, low, high) per `kind`: "shot", "round" or "qubit" (`RATE_KINDS`)."""
        if kind == "shot":
            return (self.rate, *self.rate_interval)
        if kind == "round":
            return (self.rate_per_operation, *self.rate_per_operation_interval)
        if kind == "qubit":
            return (self.rate_per_qubit, *self.rate_per_qubit_interval)
        raise ValueError(f"rate must be one of {', '.join(RATE_KINDS)}, got {kind!r}")

    @property
    def observable_rates(self) -> list[ObservableRate]:
        """Each observable's own rate, when the store recorded per-observable counts (else empty)."""
        return [ObservableRate(k, errors, self.counts.kept) for k, errors in enumerate(self.observable_errors or ())]

    def as_dict(self, *, per_observable: bool = False) -> dict[str, Any]:
        """The point as JSON; `per_observable` adds k (`observables`), the rate per logical qubit with its
        interval, and each observable's own rate (`observable_rates`, empty when the store has no such counts)."""
        low, high = self.rate_interval
        extra: dict[str, Any] = {}
        if per_observable:
            qubit_low, qubit_high = self.rate_per_qubit_interval
            extra = {
                "observables": self.observables,
                "rate_per_qubit": self.rate_per_qubit,
                "rate_per_qubit_low": qubit_low,
                "rate_per_qubit_high": qubit_high,
                "observable_rates": [rate.as_dict() for rate in self.observable_rates],
            }
        return {
            "family": self.family,
            "distance": self.distance,
            "rounds": self.rounds,
            "noise": self.noise,
            "p": self.p,
            "decoder": self.decoder,
            "shots": self.counts.shots,
            "errors": self.counts.errors,
            "discards": self.counts.discards,
            "rate": self.rate,
            "rate_low": low,
            "rate_high": high,
            "rate_per_operation": self.rate_per_operation,
            "unit": self.unit,
            **({"erasure_fraction": self.metadata["erasure_fraction"]} if "erasure_fraction" in self.metadata else {}),
            **extra,
        }


@dataclass(frozen=True)
class LambdaEstimate:
    """Suppression factor between two successive distances at one p: per-round rate(d_small) / rate(d_large)."""

    p: float
    distance_small: int
    distance_large: int
    value: float
    low: float
    high: float

    def as_dict(self) -> dict:
        return {
            "p": self.p,
            "distance_small": self.distance_small,
            "distance_large": self.distance_large,
            "lambda": self.value,
            "low": self.low,
            "high": self.high,
        }


def suppression_factors(points: Iterable[Point]) -> list[LambdaEstimate]:
    """Lambda between successive distances at each p where both have errors; the interval combines the
    two Wilson intervals conservatively (low = low_small / high_large, high = high_small / low_large)."""
    by_p: dict[float, dict[int, Point]] = {}
    for point in points:
        if point.p is not None and point.distance is not None:
            by_p.setdefault(point.p, {})[point.distance] = point
    estimates = []
    for p, by_distance in sorted(by_p.items()):
        distances = sorted(by_distance)
        for small, large in zip(distances, distances[1:]):
            a, b = by_distance[small], by_distance[large]
            if a.counts.errors == 0 or b.counts.errors == 0:
                continue
            a_low, a_high = a.rate_per_operation_interval
            b_low, b_high = b.rate_per_operation_interval
            estimates.append(
                LambdaEstimate(
                    p,
                    small,
                    large,
                    a.rate_per_operation / b.rate_per_operation,
                    a_low / b_high,
                    a_high / b_low if b_low > 0 else math.inf,
                )
            )
    return estimates


@dataclass(frozen=True)
class LambdaFit:
    """Lambda at one p fitted across all distances, as below-threshold experiments report it: the per-round
    rates follow ln e_d = a - (d / 2) ln Lambda (so Lambda = e_d / e_(d+2)), fitted by least squares weighted
    by each rate's Wilson interval in log space; the 95% interval is widened by sqrt(chi^2/dof) when > 1."""

    p: float
    value: float
    low: float
    high: float
    distances: tuple[int, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "p": self.p,
            "lambda": self.value,
            "low": self.low,
            "high": self.high,
            "distances": list(self.distances),
        }


def fit_suppression(points: Iterable[Point]) -> list[LambdaFit]:
    """The Lambda fit at each p where >= 2 distances have errors and do better than a guess (a per-operation rate
    below 1/2: a rate clipped there, above threshold, says nothing of suppression and has no interval).

    >>> from qec.task import Counts
    >>> points = [Point("surface", d, d, "sd6", 0.001, "m", Counts(10**7, e)) for d, e in [(3, 8000), (5, 4000),
    ...                                                                                  (7, 2000)]]
    >>> (fit,) = fit_suppression(points)
    >>> round(fit.value, 2), fit.low < fit.value < fit.high, fit.distances
    (3.12, True, (3, 5, 7))
    """
    by_p: dict[float, list[Point]] = {}
    for point in points:
        useful = point.counts.errors > 0 and point.rate_per_operation < 0.5
        if point.p is not None and point.distance is not None and useful:
            by_p.setdefault(point.p, []).append(point)
    fits = []
    for p, group in sorted(by_p.items()):
        group = sorted(group, key=lambda pt: cast(int, pt.distance))
        if len({pt.distance for pt in group}) < 2:
            continue
        d = np.array([pt.distance for pt in group], dtype=float)
        log_rate = np.log([pt.rate_per_operation for pt in group])
        intervals = [pt.rate_per_operation_interval for pt in group]
        sigma = np.array([(math.log(high) - math.log(low)) / (2 * Z_95) for low, high in intervals])
        weights = 1 / sigma**2
        design = np.column_stack([np.ones_like(d), d])
        covariance = np.linalg.inv(design.T @ (design * weights[:, None]))
        intercept, slope = covariance @ design.T @ (weights * log_rate)
        dof = len(d) - 2
        chi2 = float(np.sum(weights * (log_rate - intercept - slope * d) ** 2))
        scale = math.sqrt(chi2 / dof) if dof > 0 and chi2 > dof else 1.0
        half = Z_95 * scale * math.sqrt(covariance[1, 1])
        fits.append(
            LambdaFit(
                p,
                math.exp(-2 * slope),
                math.exp(-2 * (slope + half)),
                math.exp(-2 * (slope - half)),
                tuple(int(x) for x in d),
            )
        )
    return fits
