"""Stim memory circuits on Aer: exact conversion, agreement with Stim under Pauli noise, ZNE of <Z_L>."""

import math

import pytest
from mitiq.zne.inference import RichardsonFactory

from qec.errors import QecInputError
from qec.mitigation import NoiseSpec, mitigate_logical_memory
from qec.mitigation.backends import aer_backend
from qec.mitigation.logical import LogicalExperiment, fold_gates, logical_zne
from qec.mitigation.techniques import ZneOptions

PAULI_NOISE = NoiseSpec(depolarizing_1q=0.01, depolarizing_2q=0.02, readout=0.02)


@pytest.mark.parametrize("family, basis", [("repetition", "Z"), ("shor", "X"), ("shor", "Z"), ("surface", "X")])
def test_noiseless_aer_run_gives_no_detection_events_and_no_flip(family, basis):
    experiment = LogicalExperiment.build(family, distance=3, rounds=2, noise=PAULI_NOISE, basis=basis)
    circuit = experiment.qiskit_circuit
    assert circuit.num_clbits == experiment.z_basis_circuit.num_measurements
    backend = aer_backend([circuit], noise=None, device="cpu", shots=200, seed=3, threads=1)
    assert backend.method == "stabilizer"
    converter = experiment.z_basis_circuit.compile_m2d_converter()
    measurements = backend.measurement_records([circuit])[0]
    detection_events, flips = converter.convert(measurements=measurements, separate_observables=True)
    assert not detection_events.any() and not flips.any()


def test_twirled_circuit_is_the_pauli_noise_itself():
    experiment = LogicalExperiment.build("repetition", distance=3, rounds=2, noise=PAULI_NOISE)
    text = str(experiment.twirled_circuit)
    assert "DEPOLARIZE2(0.02)" in text and "DEPOLARIZE1(0.01)" in text and "X_ERROR(0.02)" in text
    assert "PAULI_CHANNEL_1" not in text  # no T1/T2/rotation: nothing to twirl


def test_fold_gates_keeps_measurements_and_resets():
    circuit = LogicalExperiment.build("repetition", distance=3, rounds=1, noise=PAULI_NOISE).qiskit_circuit
    folded = fold_gates(circuit, 5)
    ops, folded_ops = circuit.count_ops(), folded.count_ops()
    assert folded_ops["cx"] == 5 * ops["cx"] and folded_ops["measure"] == ops["measure"]
    assert folded_ops["reset"] == ops["reset"]
    # Scale 2 folds each gate once with probability 1/2: 1 + 2 * Binomial(n, 1/2) gates per gate kind.
    half = fold_gates(circuit, 2, seed=1).count_ops()["cx"]
    assert ops["cx"] < half < 3 * ops["cx"] and (half - ops["cx"]) % 2 == 0


def test_repetition_code_on_aer_agrees_with_stim_under_pauli_noise():
    experiment = LogicalExperiment.build("repetition", distance=3, rounds=3, noise=PAULI_NOISE)
    backend = aer_backend(
        [experiment.qiskit_circuit], noise=PAULI_NOISE, device="cpu", shots=20_000, seed=11, threads=1
    )
    aer = experiment.logical_rate(backend.measurement_records([experiment.qiskit_circuit])[0])
    stim = experiment.stim_estimate(shots=400_000, seed=11)
    # Same Pauli noise at the same places, so the rates agree up to binomial noise: 5 sigma of the difference.
    sigma = math.hypot(aer.standard_error, stim.standard_error)
    assert abs(aer.rate - stim.rate) < 5 * sigma, (aer, stim)
    assert aer.errors > 100  # enough errors for the binomial standard error to mean something


def test_non_pauli_noise_runs_on_statevector_beside_its_twirl():
    noise = NoiseSpec(depolarizing_2q=0.01, t1_us=20, t2_us=20, over_rotation=0.1)
    report = mitigate_logical_memory(
        "repetition", distance=3, rounds=2, noise=noise, device="cpu", shots=300, stim_shots=10_000, threads=1
    )
    assert report.mitigation.method == "density_matrix" or report.mitigation.method == "statevector"
    assert 0 <= report.logical_error_rate_noisy <= 0.5 and 0 < report.stim_estimate < 0.5


@pytest.mark.slow
def test_logical_zne_scales_the_noise_and_extrapolates_with_mitiqs_factory():
    experiment = LogicalExperiment.build("repetition", distance=3, rounds=3, noise=PAULI_NOISE)
    backend = aer_backend([experiment.qiskit_circuit], noise=PAULI_NOISE, device="cpu", shots=20_000, seed=5, threads=1)
    options = ZneOptions(scale_factors=(1.0, 2.0, 3.0))
    zne = logical_zne(experiment, backend, options=options)
    # Folding each gate 2x and 3x on average raises p_L from ~0.016 to ~0.05 and ~0.08: every step is more
    # than 10 binomial standard errors (<= 0.002 each), so the ordering is no accident.
    rates = [r.rate for r in zne.rates]
    assert rates[0] + 5 * zne.rates[1].standard_error < rates[1] < rates[2] - 5 * zne.rates[2].standard_error
    expected = RichardsonFactory.extrapolate(list(options.scale_factors), [1 - 2 * r for r in rates])
    assert math.isclose(zne.mitigated_expectation, expected, abs_tol=1e-12)
    # p_L(scale) bends down toward 0 below scale 1 (it goes like scale^2 for d = 3), which a quadratic through
    # scales 1-3 cannot follow: the extrapolation overshoots past the noiseless p_L (~0.001 from readout alone).
    assert zne.mitigated_logical_error_rate < rates[0]


def test_logical_input_errors():
    with pytest.raises(QecInputError, match="choose one of repetition, shor, surface"):
        LogicalExperiment.build("color", distance=3, rounds=3, noise=PAULI_NOISE)
    experiment = LogicalExperiment.build("repetition", distance=3, rounds=1, noise=PAULI_NOISE)
    with pytest.raises(QecInputError, match="scale factors must be >= 1"):
        experiment.scaled_circuits((1, 0.5))
