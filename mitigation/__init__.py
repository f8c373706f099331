"""Error mitigation: Mitiq techniques around Qiskit circuits run on Aer noise models, CPU or GPU.

One module per concern: `backends` (Aer device/method/memory, the batched Mitiq executor),
`noise_models` (`NoiseSpec` -> Aer noise model), `workloads` (circuits with exact ideal values),
`techniques` (ZNE, PEC, REM, DDD, CDR, REM+ZNE through Mitiq), `logical` (Stim memory circuits on Aer,
decoded, with ZNE), `report` (frozen results) and `jobs` (`run`, `run_logical`).

>>> from qec.mitigation import NoiseSpec, run
>>> report = run("ghz", qubits=4, noise=NoiseSpec(depolarizing_2q=0.01), technique="zne", device="cpu", threads=1)
>>> report.error_reduction > 2
True
"""

from qec.mitigation.jobs import run, run_logical
from qec.mitigation.noise_models import NoiseSpec
from qec.mitigation.report import LogicalReport, MitigationReport
from qec.mitigation.techniques import TECHNIQUES, ZneOptions
from qec.mitigation.workloads import WORKLOADS

__all__ = ["LogicalReport", "MitigationReport", "NoiseSpec", "TECHNIQUES", "WORKLOADS", "ZneOptions", "run",
           "run_logical"]
