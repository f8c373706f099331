"""A technique added from outside the package: defined here, registered through the public API, then run end to
end on Aer like a built-in one (Python and CLI), its options checked when built.

The technique: ZNE with Mitiq's `PolyFactory` of a chosen order (the built-in ZNE offers Richardson, linear and
exponential fits, not a least-squares polynomial), its standard error propagated through the fit's linear
coefficients as the built-in linear fits do.
"""

import json
import math
from dataclasses import dataclass

import numpy as np
import pytest
from mitiq import zne
from mitiq.zne.inference import PolyFactory
from mitiq.zne.scaling import fold_global

from qec.cli.main import main
from qec.errors import QecInputError
from qec.mitigation import (
    TECHNIQUES,
    Estimate,
    NoiseSpec,
    Technique,
    TechniqueRun,
    ZneOptions,
    mitigate,
    mitigate_workload,
    register_technique,
)
from qec.mitigation.techniques import extrapolation_coefficients

pytestmark = pytest.mark.filterwarnings("ignore:The input circuit is very short")


@dataclass(frozen=True)
class PolyZneOptions:
    """A least-squares polynomial of `order` through the values at `scale_factors` (distinct, more than `order`)."""

    order: int = 2
    scale_factors: tuple[float, ...] = (1.0, 3.0, 5.0, 7.0)

    def __post_init__(self):
        if len(set(self.scale_factors)) != len(self.scale_factors) or len(self.scale_factors) <= self.order:
            raise QecInputError(
                f"a polynomial of order {self.order} needs at least {self.order + 1} distinct scale factors, "
                f"got {self.scale_factors}"
            )


def run_poly_zne(run: TechniqueRun) -> Estimate:
    options = run.options
    factory = PolyFactory(options.scale_factors, order=options.order)
    value = zne.execute_with_zne(run.circuit, run.executor, factory=factory, scale_noise=fold_global)
    coefficients = extrapolation_coefficients(
        lambda: PolyFactory(options.scale_factors, order=options.order), options.scale_factors
    )
    error = math.sqrt(np.sum(coefficients**2 * np.array(run.executor.standard_errors) ** 2))
    return run.estimate(value, error, f"order {options.order} at {len(options.scale_factors)} scale factors")


POLY_ZNE = Technique(
    "poly-zne",
    "zne with a least-squares polynomial fit",
    run_poly_zne,
    options=PolyZneOptions(),
    circuits=lambda options: len(options.scale_factors),
)


@pytest.fixture
def poly_zne():
    technique = register_technique(POLY_ZNE)
    yield technique
    del TECHNIQUES[technique.name]


def test_a_registered_technique_runs_end_to_end_and_cuts_the_ghz4_error(poly_zne):
    report = mitigate_workload(
        "ghz", qubits=4, noise=NoiseSpec(depolarizing_2q=0.01), technique="poly-zne", device="cpu", shots=200_000,
        threads=1,
    )  # fmt: skip
    # Noisy <XXXX> ~ 0.97 (error ~0.03). The fit's coefficients (1.54, -0.24, -0.64, 0.34) amplify per-circuit
    # shot noise (<= 1/sqrt(2e5) = 0.0022) at most 1.7x: a standard error < 0.004, 5 of them < 0.019; the bias of
    # a quadratic through an exp(-0.032 s) decay over s = 1..7 is ~1e-3.
    assert report.technique == "poly-zne" and report.ideal == 1.0 and report.circuits == 4
    assert 0 < report.standard_error < 0.004
    assert abs(report.mitigated - report.ideal) < 5 * report.standard_error + 0.002, report
    assert abs(report.noisy - report.ideal) > 2 * abs(report.mitigated - report.ideal), report
    assert report.detail == "order 2 at 4 scale factors"
    assert report.as_dict()["options"] == {"order": 2, "scale_factors": (1.0, 3.0, 5.0, 7.0)}


def test_its_options_are_checked_when_built_and_by_type(poly_zne):
    with pytest.raises(QecInputError, match="order 3 needs at least 4 distinct scale factors"):
        PolyZneOptions(order=3, scale_factors=(1.0, 2.0, 3.0))
    with pytest.raises(QecInputError, match="technique 'poly-zne' takes PolyZneOptions, got ZneOptions"):
        mitigate_workload("ghz", qubits=3, technique="poly-zne", options=ZneOptions(), device="cpu")


def test_the_cli_lists_and_runs_it_from_the_registry(poly_zne, capsys):
    assert main(["mitigate", "ghz", "--qubits", "3", "--technique", "nope"]) == 2
    assert "rem+pt+zne, auto, poly-zne" in capsys.readouterr().err
    argv = ["mitigate", "ghz", "--qubits", "3", "--technique", "poly-zne", "--shots", "2000", "--threads", "1"]
    assert main(argv + ["--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["technique"] == "poly-zne" and out["circuits"] == 4 and out["options"]["order"] == 2
    assert abs(out["mitigated"] - 1) < 0.2  # 2000 shots: ~0.05 standard error


def test_an_unregistered_technique_object_runs_too():
    from qiskit import QuantumCircuit

    bell = QuantumCircuit(2)
    bell.h(0)
    bell.cx(0, 1)
    options = PolyZneOptions(order=1, scale_factors=(1.0, 3.0))
    report = mitigate(
        bell, "ZZ", noise="p2=0.02", technique=POLY_ZNE, options=options, shots=4000, device="cpu", threads=1
    )
    assert "poly-zne" not in TECHNIQUES and report.technique == "poly-zne" and report.circuits == 2
    assert report.ideal == 1.0 and abs(report.mitigated - 1) < 5 * report.standard_error + 0.01, report
