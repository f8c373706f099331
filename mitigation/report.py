"""Frozen results of a mitigation run; `as_dict()` is the JSON object `qec mitigate --json` prints and
`describe()` the lines of its table.

Every value carries its standard error where one is known: the noisy value's shot noise, the mitigated value's
from the technique (None where the technique gives none). A user's circuit may have no known ideal value (too
large for an exact simulation): `ideal` and `error_reduction` are then None and the report compares noisy with
mitigated only.

>>> from qec.mitigation.report import MitigationReport, error_reduction
>>> error_reduction(ideal=1.0, noisy=0.5, mitigated=0.75)
2.0
>>> report = MitigationReport("ghz", "zne", "CPU", "density_matrix", "p2=0.01", 4, None, 0.962, 0.998, 0.004, 3,
...                           12000, 0.5, noisy_standard_error=0.002)
>>> print(report.describe())
ghz [4 qubits, noise p2=0.01] on CPU, method density_matrix, technique zne
  ideal     unknown (too large to simulate exactly)
  noisy     0.962 ± 0.002
  mitigated 0.998 ± 0.004
  error bars: 1 sigma, shot noise, with the technique's own sampling (twirls, PEC circuits) where it draws any
  cost: 3 circuits, 12000 shots, 0.50 s
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

# What every standard error here covers (the systematic error of an extrapolation is reported beside it).
STANDARD_ERROR_COVERS = "shot noise, with the technique's own sampling (twirls, PEC circuits) where it draws any"


def error_reduction(*, ideal: float, noisy: float, mitigated: float) -> float:
    """|noisy - ideal| / |mitigated - ideal|; inf when the mitigated value is exact."""
    remaining = abs(mitigated - ideal)
    return math.inf if remaining == 0 else abs(noisy - ideal) / remaining


@dataclass(frozen=True)
class MitigationReport:
    """Ideal, noisy and mitigated values of one workload's (or the user's circuit's) observable, their
    standard errors, and what mitigation cost.

    `circuits`, `shots` and `seconds` count the mitigated run only (the noisy baseline is one more circuit per
    measurement group). `ideal` is None when it could not be computed.
    """

    workload: str
    technique: str
    device: str
    method: str
    noise: str
    qubits: int
    ideal: float | None
    noisy: float
    mitigated: float
    standard_error: float | None
    circuits: int
    shots: int
    seconds: float
    noisy_standard_error: float | None = None
    # PEC only: gamma^2, how many times more shots than an unmitigated estimate PEC needs for the same standard
    # error (gamma: the product of the one-norms of the circuit's gate representations).
    sampling_overhead: float | None = None
    observable: str | None = None  # the user's observable as text (`PauliSum.describe`); None for workloads
    detail: str = ""  # what the technique did (`techniques.Estimate.detail`; for auto, what calibration picked)
    options: Any = None  # the technique's options object (`techniques.Technique.options`), a frozen dataclass
    # Extrapolations only: the largest shift of the mitigated value under the other fits of the same data
    # (`techniques.extrapolation_spread`), and those fits' names; None where the technique has no fit model.
    systematic_error: float | None = None
    systematic_fits: str = ""
    warnings: tuple[str, ...] = ()  # one line each: what the run could not do, Mitiq's warnings summarized

    @property
    def error_reduction(self) -> float | None:
        """|noisy - ideal| / |mitigated - ideal| (inf when the mitigated value is exact); None with no ideal."""
        if self.ideal is None:
            return None
        return error_reduction(ideal=self.ideal, noisy=self.noisy, mitigated=self.mitigated)

    def as_dict(self) -> dict[str, Any]:
        """The keys the CLI prints with --json (an exact mitigated value, or no ideal, gives error_reduction None);
        `options` is the technique's options object as a dict of its fields (None when the report has none)."""
        reduction = self.error_reduction
        return {
            "workload": self.workload,
            "technique": self.technique,
            "device": self.device,
            "observable": self.observable,
            "ideal": self.ideal,
            "noisy": self.noisy,
            "noisy_standard_error": self.noisy_standard_error,
            "mitigated": self.mitigated,
            "standard_error": self.standard_error,
            "standard_error_covers": STANDARD_ERROR_COVERS,
            "systematic_error": self.systematic_error,
            "systematic_error_covers": self.systematic_covers,
            "error_reduction": None if reduction is None or math.isinf(reduction) else reduction,
            "circuits": self.circuits,
            "shots": self.shots,
            "sampling_overhead": self.sampling_overhead,
            "detail": self.detail,
            "options": None if self.options is None else dataclasses.asdict(self.options),
            "seconds": round(self.seconds, 3),
            "warnings": list(self.warnings),
        }

    @property
    def systematic_covers(self) -> str | None:
        """What `systematic_error` covers, in words; None without one."""
        if self.systematic_error is None:
            return None
        fits = self.systematic_fits.replace(", ", " or ")
        return f"extrapolation model: largest shift to the {fits} fit of the same data"

    def describe(self) -> str:
        """The report as table lines: what ran, ideal, noisy and mitigated with their error bars, and the cost."""
        lines = [
            f"{self.workload} [{self.qubits} qubits, noise {self.noise}] on {self.device}, method {self.method}, "
            f"technique {self.technique}" + (f" ({self.detail})" if self.detail else "")
        ]
        if self.observable is not None:
            lines.append(f"  observable {self.observable}")
        ideal = "unknown (too large to simulate exactly)" if self.ideal is None else f"{self.ideal:.6g}"
        lines.append(f"  ideal     {ideal}")
        lines.append(f"  noisy     {self.noisy:.6g}{_error_bar(self.noisy_standard_error)}")
        bar = _error_bar(self.standard_error) or " (no error bar: the technique gives none, so not a result to quote)"
        lines.append(f"  mitigated {self.mitigated:.6g}{bar}")
        lines.append(f"  error bars: 1 sigma, {STANDARD_ERROR_COVERS}")
        if self.systematic_error is not None:
            lines.append(f"  systematic ±{self.systematic_error:.2g} ({self.systematic_covers})")
        if self.error_reduction is not None:
            lines.append(f"  error reduction |noisy-ideal|/|mitigated-ideal| = {self.error_reduction:.3g}")
        overhead = "" if self.sampling_overhead is None else f", PEC sampling overhead {self.sampling_overhead:.3g}x"
        lines.append(f"  cost: {self.circuits} circuits, {self.shots} shots{overhead}, {self.seconds:.2f} s")
        lines += [f"  warning: {warning}" for warning in self.warnings]
        return "\n".join(lines)


def _error_bar(standard_error: float | None) -> str:
    return "" if standard_error is None else f" ± {standard_error:.2g}"


@dataclass(frozen=True)
class LogicalReport:
    """A memory experiment's logical <Z_L> = 1 - 2 p_L on Aer, noisy and ZNE-mitigated, beside Stim's estimate.

    A mitigated value above 1 (so a negative mitigated logical error rate) means the extrapolation
    overshot: p_L grows faster than the factory's model at small scales.
    """

    mitigation: MitigationReport
    logical_error_rate_noisy: float
    logical_error_rate_noisy_standard_error: float
    logical_error_rate_mitigated: float
    stim_estimate: float
    stim_estimate_standard_error: float
    logical_error_rate_mitigated_standard_error: float | None = None  # half the mitigated <Z_L>'s

    def as_dict(self) -> dict[str, Any]:
        """The keys the CLI prints with --json for `qec mitigate logical`."""
        return {
            **self.mitigation.as_dict(),
            "logical_error_rate_noisy": self.logical_error_rate_noisy,
            "logical_error_rate_noisy_standard_error": self.logical_error_rate_noisy_standard_error,
            "logical_error_rate_mitigated": self.logical_error_rate_mitigated,
            "logical_error_rate_mitigated_standard_error": self.logical_error_rate_mitigated_standard_error,
            "stim_estimate": self.stim_estimate,
            "stim_estimate_standard_error": self.stim_estimate_standard_error,
        }
