"""Frozen results of a mitigation run; `as_dict()` is the JSON object `qec mitigate --json` prints.

>>> from qec.mitigation.report import MitigationReport, error_reduction
>>> error_reduction(ideal=1.0, noisy=0.5, mitigated=0.75)
2.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def error_reduction(*, ideal: float, noisy: float, mitigated: float) -> float:
    """|noisy - ideal| / |mitigated - ideal|; inf when the mitigated value is exact."""
    remaining = abs(mitigated - ideal)
    return math.inf if remaining == 0 else abs(noisy - ideal) / remaining


@dataclass(frozen=True)
class MitigationReport:
    """Ideal, noisy and mitigated values of one workload's observable, and what mitigation cost.

    `circuits`, `shots` and `seconds` count the mitigated run only (the noisy baseline is one more
    circuit of `shots / circuits` shots).
    """

    workload: str
    technique: str
    device: str
    method: str
    noise: str
    qubits: int
    ideal: float
    noisy: float
    mitigated: float
    standard_error: float | None
    circuits: int
    shots: int
    seconds: float

    @property
    def error_reduction(self) -> float:
        return error_reduction(ideal=self.ideal, noisy=self.noisy, mitigated=self.mitigated)

    def as_dict(self) -> dict[str, float | int | str | None]:
        """The keys the CLI prints with --json (an exact mitigated value gives error_reduction None)."""
        reduction = self.error_reduction
        return {
            "workload": self.workload,
            "technique": self.technique,
            "device": self.device,
            "ideal": self.ideal,
            "noisy": self.noisy,
            "mitigated": self.mitigated,
            "error_reduction": None if math.isinf(reduction) else reduction,
            "circuits": self.circuits,
            "shots": self.shots,
            "seconds": round(self.seconds, 3),
        }


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

    def as_dict(self) -> dict[str, float | int | str | None]:
        """The keys the CLI prints with --json for `qec mitigate logical`."""
        return {
            **self.mitigation.as_dict(),
            "logical_error_rate_noisy": self.logical_error_rate_noisy,
            "logical_error_rate_mitigated": self.logical_error_rate_mitigated,
            "stim_estimate": self.stim_estimate,
        }
