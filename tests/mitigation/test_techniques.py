"""Techniques through Mitiq on real Aer runs: ZNE, REM, PEC, DDD, CDR, REM+ZNE.

Tolerances: a mean of `shots` +-1 outcomes has standard error sqrt(1 - v^2)/sqrt(shots) <= 1/sqrt(shots);
bounds below are 5 of those (a 5 sigma test fails by chance about once in 1.7 million runs).
"""

import math

import pytest

from qec.errors import QecInputError
from qec.mitigation import NoiseSpec, ZneOptions, mitigate_workload
from qec.mitigation.backends import aer_backend
from qec.mitigation.techniques import FACTORIES, SCALINGS, depolarizing_representations, mitigate
from qec.mitigation.workloads import workload

pytestmark = pytest.mark.filterwarnings("ignore:The input circuit is very short")


def test_zne_cuts_ghz4_error_at_least_twice_at_one_percent_2q_depolarizing():
    report = mitigate_workload(
        "ghz", qubits=4, noise=NoiseSpec(depolarizing_2q=0.01), technique="zne", device="cpu", shots=100_000, threads=1
    )
    # Noisy error is ~0.03; Richardson at (1,3,5) multiplies shot noise by |15/8|+|10/8|+|3/8| = 3.5, so the
    # mitigated error's 5 sigma is 5 * 3.5 / sqrt(1e5) = 0.055 in the worst case and ~0.01 in fact (v near 1):
    # a 2x reduction (mitigated error < 0.015) holds far beyond chance.
    assert report.ideal == 1.0
    assert report.error_reduction >= 2, report
    assert report.circuits == 3


def test_zne_batches_all_folded_circuits_in_one_aer_call():
    task = workload("ghz", qubits=3)
    noise = NoiseSpec(depolarizing_2q=0.01)
    backend = aer_backend([task.circuit], noise=noise, device="cpu", shots=1000, seed=1, threads=1)
    estimate = mitigate("zne", task, backend=backend, noise=noise, zne_options=ZneOptions(scale_factors=(1, 3, 5, 7)))
    assert (estimate.circuits, estimate.executor_calls) == (4, 1)


@pytest.mark.parametrize("factory", list(FACTORIES))
@pytest.mark.parametrize("scaling", list(SCALINGS))
def test_every_factory_and_scaling_moves_toward_the_ideal(factory, scaling):
    report = mitigate_workload(
        "ghz",
        qubits=3,
        noise=NoiseSpec(depolarizing_1q=0.005, depolarizing_2q=0.02),
        technique="zne",
        device="cpu",
        shots=50_000,
        threads=1,
        zne_options=ZneOptions(factory, scaling),
    )
    # Noisy error ~0.04 (<XXX> ~ 0.96); Richardson, the noisiest fit, amplifies shot noise by 3.5:
    # 5 sigma = 5 * 3.5 * sqrt(1 - 0.9^2) / sqrt(5e4) = 0.034 < 0.04.
    assert report.error_reduction > 1, report


def test_rem_recovers_a_readout_only_error_within_statistical_error():
    p, n, shots = 0.05, 4, 40_000
    report = mitigate_workload(
        "ghz", qubits=n, noise=NoiseSpec(readout=p), technique="rem", device="cpu", shots=shots, threads=1
    )
    # Readout flips scale <X^n> by (1-2p)^n = 0.656: the noisy error is 0.34. Inverting the confusion matrix
    # divides the shot noise by 0.656, and Mitiq resamples `shots` outcomes from the corrected distribution,
    # adding at most 1/sqrt(shots): sigma <= (1/0.656 + 1)/sqrt(shots) = 0.0126.
    sigma = (1 / (1 - 2 * p) ** n + 1) / math.sqrt(shots)
    assert abs(report.noisy - report.ideal) > 20 * sigma
    assert abs(report.mitigated - report.ideal) < 5 * sigma, report


def test_pec_representations_cover_each_noisy_gate():
    task = workload("ghz", qubits=4)
    assert len(depolarizing_representations(task.circuit, NoiseSpec(depolarizing_2q=0.01))) == 3  # 3 distinct CX
    assert len(depolarizing_representations(task.circuit, NoiseSpec(depolarizing_1q=0.01, depolarizing_2q=0.01))) == 4
    assert depolarizing_representations(task.circuit, NoiseSpec(readout=0.1)) == []


@pytest.mark.slow
def test_pec_is_unbiased_within_its_statistical_error():
    report = mitigate_workload(
        "ghz",
        qubits=4,
        noise=NoiseSpec(depolarizing_2q=0.03),
        technique="pec",
        device="cpu",
        shots=1000,
        pec_samples=1000,
        threads=1,
    )
    # Mitiq's pec_error is the standard deviation of the 1000 signed, rescaled estimates over sqrt(1000),
    # shot noise included (~0.013); their mean is unbiased, so it lies within 4 of them (1 in 16000 to fail).
    # The noisy value, (1 - 16/15 * 0.03)^3 ~ 0.91 +- 0.013 (1000 shots), is ~7 of them away: the test tells
    # a biased estimate apart.
    assert abs(report.mitigated - report.ideal) < 4 * report.standard_error, report
    assert abs(report.noisy - report.ideal) > 4 * report.standard_error


@pytest.mark.parametrize("technique", ["ddd", "rem+zne", "none"])
def test_other_techniques_run_and_count_their_cost(technique):
    report = mitigate_workload(
        "qaoa",
        qubits=3,
        noise=NoiseSpec(depolarizing_1q=0.002, depolarizing_2q=0.02, readout=0.02),
        technique=technique,
        device="cpu",
        shots=2000,
        threads=1,
    )
    assert report.technique == technique and report.device == "CPU"
    assert report.circuits >= 1 and report.shots == report.circuits * 2000
    assert -0.5 <= report.mitigated <= 2.5  # the cut of the 3-ring is in [0, 2]; shot noise and ZNE reach a bit beyond


def test_cdr_trains_on_near_clifford_circuits_and_stays_in_the_spectrum():
    report = mitigate_workload(
        "tfim",
        qubits=3,
        noise=NoiseSpec(depolarizing_1q=0.002, depolarizing_2q=0.02, readout=0.02),
        technique="cdr",
        device="cpu",
        shots=5000,
        threads=1,
    )
    # 10 training circuits + the circuit itself, each measured in every group of the observable (Mitiq groups
    # the 5 TFIM terms into 2 or 3 qubit-wise commuting groups, depending on set order).
    assert report.circuits in (22, 33)
    # CDR's accuracy depends on the training circuits drawn (errors 0.01-0.1 were seen for seeds 0-2 against a
    # noisy error of 0.02-0.1), so only the physical range is asserted: |E| <= (n-1) + n*h = 5.
    assert abs(report.mitigated) <= 5


def test_rem_plus_zne_beats_each_alone_under_readout_and_gate_noise():
    noise = NoiseSpec(depolarizing_2q=0.02, readout=0.03)
    reports = {
        t: mitigate_workload("ghz", qubits=3, noise=noise, technique=t, device="cpu", shots=100_000, threads=1)
        for t in ("zne", "rem", "rem+zne")
    }
    errors = {t: abs(r.mitigated - r.ideal) for t, r in reports.items()}
    # Readout costs ~0.17 and gates ~0.05 of <XXX>; each alone leaves the other's bias.
    assert errors["rem+zne"] < min(errors["zne"], errors["rem"]), errors


def test_unknown_technique_lists_the_known_ones():
    with pytest.raises(QecInputError, match="choose one of none, zne, pec, rem, ddd, cdr, rem\\+zne"):
        mitigate_workload("ghz", qubits=3, technique="magic", device="cpu")
    with pytest.raises(QecInputError, match="choose one of richardson, linear, exponential, poly-exp"):
        ZneOptions(factory="cubic")
