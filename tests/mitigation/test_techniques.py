"""Techniques through Mitiq on real Aer runs: ZNE, LRE, REM, PEC, DDD, CDR, Pauli twirling, calibration, and
their standard errors.

Tolerances: a mean of `shots` +-1 outcomes has standard error sqrt(1 - v^2)/sqrt(shots) <= 1/sqrt(shots);
bounds below are 5 of those (a 5 sigma test fails by chance about once in 1.7 million runs).
"""

import math

import numpy as np
import pytest
from mitiq import Observable, PauliString, lre
from mitiq.interface import convert_to_mitiq
from mitiq.zne.inference import PolyFactory, RichardsonFactory
from mitiq.zne.scaling import fold_global
from qiskit import QuantumCircuit
from qiskit_aer import AerSimulator
from qiskit_aer.noise import NoiseModel, pauli_error

from qec.errors import QecInputError
from qec.mitigation import NoiseSpec, ZneOptions, mitigate_workload
from qec.mitigation.backends import Backend, aer_backend
from qec.mitigation.techniques import (
    FACTORIES,
    SCALINGS,
    TECHNIQUES,
    CdrOptions,
    Extrapolation,
    LreOptions,
    PecOptions,
    TwirledZneOptions,
    TwirlOptions,
    apply_technique,
    check_technique,
    circuits_per_run,
    depolarizing_representations,
    extrapolation_coefficients,
)
from qec.mitigation.workloads import Workload, workload

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
    estimate = apply_technique(
        "zne", task, backend=backend, noise=noise, options=ZneOptions(scale_factors=(1, 3, 5, 7))
    )
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
        options=ZneOptions(factory, scaling),
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
        options=PecOptions(samples=1000),
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


# --- Standard errors, LRE, Pauli twirling and calibration (issue 14) ---

GHZ4_NOISE = NoiseSpec(depolarizing_2q=0.01)


def _ghz4_estimate(technique, shots):
    task = workload("ghz", qubits=4)
    backend = aer_backend([task.circuit], noise=GHZ4_NOISE, device="cpu", shots=shots, seed=11, threads=1)
    noisy = apply_technique("none", task, backend=backend, noise=GHZ4_NOISE)
    return task, noisy, apply_technique(technique, task, backend=backend, noise=GHZ4_NOISE)


@pytest.mark.parametrize(
    ("technique", "shots"),
    # Noisy <XXXX> is ~0.97 (error ~0.03): a 2x reduction needs a mitigated error < ~0.015. With these shots the
    # mitigated standard errors are below 0.0026 (ZNE's Richardson coefficients amplify shot noise 3.5x, LRE's
    # 10 coefficients more; pt+zne averages 16 twirls of 100k shots per scale factor), so 5 sigma < 0.013, and
    # the extrapolations' bias under depolarizing noise is ~1e-3.
    [("zne", 200_000), ("lre", 400_000), ("pt+zne", 100_000)],
)
def test_zne_lre_and_pt_zne_cut_the_ghz4_parity_error_at_least_twice(technique, shots):
    task, noisy, estimate = _ghz4_estimate(technique, shots)
    assert abs(noisy.value - task.ideal) > 0.026
    assert estimate.standard_error < 0.0026
    assert abs(noisy.value - task.ideal) >= 2 * abs(estimate.value - task.ideal), (noisy, estimate)
    assert estimate.executor_calls == 1


def test_every_technique_gives_a_float_standard_error():
    task = workload("qaoa", qubits=3)  # not Clifford, so CDR trains; 2 measurement groups
    noise = NoiseSpec(depolarizing_1q=0.002, depolarizing_2q=0.02, readout=0.02)
    backend = aer_backend([task.circuit], noise=noise, device="cpu", shots=2000, seed=5, threads=1)
    for technique in TECHNIQUES:
        if technique == "auto":
            continue  # slow; see test_auto_picks_a_zne_strategy_and_beats_none
        options = TECHNIQUES[technique].options_from(PecOptions(samples=50), TwirlOptions(variants=4))
        estimate = apply_technique(technique, task, backend=backend, noise=noise, options=options)
        # 2000 shots of a cut value in [0, 3]: per-circuit errors are ~0.03; mitigation amplifies them, PEC most.
        assert isinstance(estimate.standard_error, float) and 0 < estimate.standard_error < 1, (technique, estimate)


def test_none_standard_error_is_the_binomial_one_and_zne_propagates_richardson_coefficients():
    task = workload("ghz", qubits=3)
    backend = aer_backend([task.circuit], noise=GHZ4_NOISE, device="cpu", shots=4000, seed=3, threads=1)
    noisy = apply_technique("none", task, backend=backend, noise=GHZ4_NOISE)
    # One Pauli: a mean of +-1 outcomes, standard error sqrt((1 - v^2) / (shots - 1)) exactly.
    assert math.isclose(noisy.standard_error, math.sqrt((1 - noisy.value**2) / 3999), rel_tol=1e-9)
    # Richardson at 1, 3, 5: c = (15/8, -10/8, 3/8), read off the factory itself.
    coefficients = extrapolation_coefficients(lambda: RichardsonFactory([1.0, 3.0, 5.0]), [1.0, 3.0, 5.0])
    assert np.allclose(coefficients, [15 / 8, -10 / 8, 3 / 8])
    executor = backend.executor(task.observable)
    zne_estimate = apply_technique("zne", task, backend=backend, noise=GHZ4_NOISE)
    values = executor.evaluate([fold_global(task.circuit, s) for s in (1, 3, 5)])
    errors = np.array(executor.standard_errors)
    assert math.isclose(zne_estimate.value, float(coefficients @ values), rel_tol=1e-9)  # same seed, same shots
    assert math.isclose(zne_estimate.standard_error, float(np.sqrt(np.sum(coefficients**2 * errors**2))), rel_tol=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("technique", ["zne", "lre", "pt", "rem"])
def test_standard_errors_match_the_spread_over_seeds(technique):
    task = workload("ghz", qubits=3)
    noise = NoiseSpec(depolarizing_2q=0.02, readout=0.02 if technique == "rem" else 0.0)
    values, errors = [], []
    for seed in range(30):
        backend = aer_backend([task.circuit], noise=noise, device="cpu", shots=1000, seed=seed, threads=1)
        options = TECHNIQUES[technique].options_from(TwirlOptions(variants=4))
        estimate = apply_technique(technique, task, backend=backend, noise=noise, seed=seed, options=options)
        values.append(estimate.value)
        errors.append(estimate.standard_error)
    # The sample standard deviation of 30 values is within ~13% (1 sigma) of the true one: a ratio to the mean
    # reported error in [0.6, 1.5] is > 3 sigma from either end.
    ratio = np.std(values, ddof=1) / np.mean(errors)
    assert 0.6 < ratio < 1.5, (technique, ratio)


def test_pauli_twirling_turns_a_coherent_over_rotation_into_the_twirled_pauli_channel():
    angle = 0.1
    spec = NoiseSpec(over_rotation=angle)
    circuit = QuantumCircuit(2)
    circuit.h(0)
    for _ in range(10):  # ten CX: the identity, so <Z0 + Z1> = 2 without noise
        circuit.cx(0, 1)
    circuit.h(0)
    task = Workload(
        "cx-chain", circuit, Observable(PauliString("Z", support=(0,)), PauliString("Z", support=(1,))), 2.0
    )
    # RX(angle) on both qubits after every CX only (the twirling Paulis are then noiseless), against its Pauli
    # twirl: an X flip with probability sin^2(angle/2) on each qubit (NoiseSpec.pauli_twirled_1q).
    coherent = NoiseModel()
    coherent.add_all_qubit_quantum_error(spec.channel_2q(), ["cx"])
    p_x, p_y, p_z = spec.pauli_twirled_1q(0.0)
    flip = pauli_error([("X", p_x), ("Y", p_y), ("Z", p_z), ("I", 1 - p_x - p_y - p_z)])
    twirled = NoiseModel()
    twirled.add_all_qubit_quantum_error(flip.tensor(flip), ["cx"])

    def backend(model):
        return Backend(AerSimulator(noise_model=model, method="density_matrix"), "CPU", "density_matrix", 20_000, 1)

    noisy = apply_technique("none", task, backend=backend(coherent), noise=spec)
    model = apply_technique("none", task, backend=backend(twirled), noise=spec)
    twirl = apply_technique("pt", task, backend=backend(coherent), noise=spec, options=TwirlOptions(32), seed=4)
    sigma = math.hypot(twirl.standard_error, model.standard_error)
    # Coherently the ten rotations add up (<Z0 + Z1> ~ 1.07); twirled they are independent flips (~1.92).
    assert abs(noisy.value - model.value) > 20 * sigma
    assert abs(twirl.value - model.value) < 5 * sigma, (twirl, model)
    assert twirl.circuits == 32 and twirl.executor_calls == 1


@pytest.mark.slow
def test_auto_picks_a_zne_strategy_and_beats_none():
    task, noisy, estimate = _ghz4_estimate("auto", 100_000)
    # Mitiq's calibration tries its 8 ZNE strategies on a GHZ and a mirror benchmark of 4 qubits (16 mitigated
    # runs of 3 circuits, plus 2 noisy ones, 20k shots each), then runs the best at 100k shots; every strategy
    # amplifies shot noise at most ~4x (0.01), far below the 0.03 noisy error.
    assert estimate.detail.startswith("zne with ") and "the best of 8 strategies" in estimate.detail
    assert estimate.circuits == 50 + 3
    assert abs(estimate.value - task.ideal) < abs(noisy.value - task.ideal) - 3 * estimate.standard_error


def test_twirl_and_lre_options_are_checked():
    with pytest.raises(QecInputError, match="twirl variants must be an integer in \\[2, 1,000\\]"):
        TwirlOptions(variants=1)
    with pytest.raises(QecInputError, match="lre degree must be an integer in \\[1, 4\\]"):
        LreOptions(degree=0)
    assert circuits_per_run("lre", LreOptions(degree=1, chunks=4)) == 5


# --- Honest answers: options that cannot extrapolate are refused when built (issue 19) ---


@pytest.mark.parametrize(
    ("factory", "scale_factors", "message"),
    [
        ("richardson", (1, 1, 1), "ZNE scale factors must be distinct, got \\(1, 1, 1\\)"),
        ("richardson", (1, 3, 3), "must be distinct, got \\(1, 3, 3\\)"),
        ("linear", (2.0, 2.0), "must be distinct, got \\(2, 2\\)"),
        ("exponential", (1, 1.0), "must be distinct"),
        ("poly-exp", (1, 3, 1), "must be distinct"),
        ("richardson", (1,), "ZNE needs 2 to 32 scale factors"),
        ("linear", (1, True), "ZNE needs 2 to 32 scale factors"),
    ],
)
def test_scale_factors_that_cannot_extrapolate_are_refused_when_the_options_are_built(factory, scale_factors, message):
    # Richardson through (1, 1, 1) used to "extrapolate" a GHZ-3 parity of ~0.98 to 0.33 (Mitiq's polyfit of a
    # singular system), printed as the mitigated value with exit code 0.
    with pytest.raises(QecInputError, match=message):
        ZneOptions(factory, "global", scale_factors)
    with pytest.raises(QecInputError, match=message):
        TwirledZneOptions(ZneOptions(factory, "global", scale_factors))


@pytest.mark.parametrize("factory", list(FACTORIES))
def test_every_factory_extrapolates_from_two_distinct_scale_factors(factory):
    # With its asymptote given, Mitiq's exponential fits are linear fits of log(y - asymptote): 2 parameters.
    options = ZneOptions(factory, "global", (1.0, 2.0))
    assert FACTORIES[factory].points == 2
    factory_object = options.factory_object(asymptote=0.0)
    for scale, value in zip(options.scale_factors, (0.9, 0.81)):
        factory_object.push({"scale_factor": scale}, value)
    assert factory_object.reduce() == pytest.approx(1.0, abs=0.011)  # 0.9^s: linear 0.99, exponential 1.0


def test_a_fit_with_more_parameters_needs_that_many_distinct_scale_factors(monkeypatch):
    monkeypatch.setitem(FACTORIES, "cubic", Extrapolation(lambda factors, asymptote: PolyFactory(factors, 3), points=4))
    with pytest.raises(QecInputError, match="the cubic fit needs at least 4 distinct scale factors, got \\(1, 2, 3\\)"):
        ZneOptions("cubic", "global", (1, 2, 3))
    assert isinstance(ZneOptions("cubic", "global", (1, 2, 3, 4)).factory_object(), PolyFactory)


def test_lre_options_that_cannot_fit_are_refused_and_every_allowed_one_gives_a_solvable_fit():
    with pytest.raises(QecInputError, match="lre fold_multiplier must be an integer in \\[1, 4\\], got 0"):
        LreOptions(fold_multiplier=0)  # every chunk at scale 1: one noise level, nothing to extrapolate
    with pytest.raises(QecInputError, match="lre degree must be an integer in \\[1, 4\\], got 0"):
        LreOptions(degree=0)
    circuit = convert_to_mitiq(workload("qaoa", qubits=3).circuit)[0]
    for degree in range(1, 5):
        for fold_multiplier in range(1, 5):
            options = LreOptions(degree=degree, fold_multiplier=fold_multiplier, chunks=3)
            coefficients = lre.inference.multivariate_richardson_coefficients(
                circuit, degree, fold_multiplier, options.chunks_for(len(circuit))
            )
            # Richardson coefficients reproduce constants: they sum to 1, and are finite when the system is solvable.
            assert np.all(np.isfinite(coefficients)) and math.isclose(sum(coefficients), 1.0, abs_tol=1e-6)


def test_options_of_another_technique_are_refused():
    with pytest.raises(QecInputError, match="technique 'pec' takes PecOptions, got ZneOptions"):
        check_technique("pec", NoiseSpec(depolarizing_2q=0.01), options=ZneOptions())
    with pytest.raises(QecInputError, match="cdr training_circuits must be an integer in \\[2, 1,000\\], got 1"):
        CdrOptions(training_circuits=1)  # a line through one point
    with pytest.raises(QecInputError, match="pec samples must be an integer in \\[2, 10,000\\], got 0"):
        PecOptions(samples=0)
    assert circuits_per_run("rem+pt+zne", TwirledZneOptions(twirl=TwirlOptions(variants=3))) == 9
