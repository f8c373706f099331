"""Error mitigation: Mitiq techniques around Qiskit circuits run on Aer noise models, CPU or GPU.

One module per concern: `backends` (Aer device and method, whether the state fits, the batched Mitiq
executor), `noise_models` (`NoiseSpec` -> Aer noise model), `workloads` (circuits with exact ideal values, HHL
among them), `techniques` (the registry `TECHNIQUES`: ZNE, LRE, PEC, REM, DDD, CDR, Pauli twirling and their
combinations, and `auto` by Mitiq's calibration, each with its options object and a 1-sigma error bar;
`apply_technique` runs one, `register_technique` adds your own), `hamiltonians` and `vqe` (a VQE loop, noisy
and mitigated at every step), `logical` (Stim memory circuits on Aer, decoded, with ZNE), `user_circuits` (the
user's OpenQASM 2/3 or QPY file, made foldable), `observables` (the user's Pauli sum or bitstring, its
measurement groups and exact value), `report` (frozen results) and `runs` (one call per whole run: `mitigate`
for the user's circuit and observable, `mitigate_workload`, `mitigate_logical_memory`), and `estimator` (`Estimator`,
Qiskit's `BaseEstimatorV2` with runtime's resilience options: TREX (`trex`) and ZNE).

>>> from qec.mitigation import NoiseSpec, mitigate_workload
>>> report = mitigate_workload("ghz", qubits=4, noise=NoiseSpec(depolarizing_2q=0.01), technique="zne", device="cpu",
...                            threads=1)
>>> report.error_reduction > 2
True
"""

from qec.mitigation.estimator import Estimator
from qec.mitigation.logical import LOGICAL_FAMILIES
from qec.mitigation.noise_models import NoiseSpec
from qec.mitigation.report import LogicalReport, MitigationReport
from qec.mitigation.runs import mitigate, mitigate_logical_memory, mitigate_workload
from qec.mitigation.techniques import (
    TECHNIQUES,
    CdrOptions,
    Estimate,
    LreOptions,
    NoOptions,
    PecOptions,
    Technique,
    TechniqueRun,
    TwirledZneOptions,
    TwirlOptions,
    ZneOptions,
    apply_technique,
    register_technique,
)
from qec.mitigation.workloads import WORKLOADS

__all__ = [
    "LOGICAL_FAMILIES",
    "TECHNIQUES",
    "WORKLOADS",
    "CdrOptions",
    "Estimate",
    "Estimator",
    "LogicalReport",
    "LreOptions",
    "MitigationReport",
    "NoOptions",
    "NoiseSpec",
    "PecOptions",
    "Technique",
    "TechniqueRun",
    "TwirlOptions",
    "TwirledZneOptions",
    "ZneOptions",
    "apply_technique",
    "mitigate",
    "mitigate_logical_memory",
    "mitigate_workload",
    "register_technique",
]
