"""PEC and PEA from learned layer noise on Aer: the learned model of depolarizing noise, PEC and PEA moving a
noisy expectation towards the ideal one, gamma, reuse of a stored model across runs and parameter values.

The circuit: 3 qubits, 6 layers alternating cx(0,1) and cx(1,2), with rotations between; noise: Stim's
two-qubit depolarizing p = 0.05 after every cx (`NoiseSpec(depolarizing_2q=0.05)`), which is the Pauli-Lindblad
model with rate -log(1 - 16 p / 15) / 16 = 0.00343 on each of the gate pair's 15 Paulis and 0 elsewhere.
Observable ZZI + XXX: ideal 0.921, noisy about 0.65.
Tolerances: learned rates within 4 of their error bars (54 rates); a mitigated value within 4 of its error bars
(PEA: plus its systematic error) of the ideal and at most half as far from it as the noisy value.
"""

import math

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter

from qec.errors import QecInputError
from qec.mitigation import NoiseSpec
from qec.mitigation.backends import aer_backend
from qec.mitigation.layer_noise import Layer, LayerNoise, LearnedNoise, LocalPauli, layered, learn_layer_noise
from qec.mitigation.learned_mitigation import extrapolate, pea_circuits, pea_expectation, pec_circuits, pec_expectation
from qec.mitigation.observables import ideal_value, measure, pauli_sum

NOISE = NoiseSpec(depolarizing_2q=0.05)
RATE = -math.log(1 - 16 * 0.05 / 15) / 16
OBSERVABLE = pauli_sum("ZZI + XXX", num_qubits=3)


def _circuit(angle: float | Parameter = 0.4) -> QuantumCircuit:
    circuit = QuantumCircuit(3)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.cx(1, 2)
    circuit.ry(angle, 0)
    circuit.rz(0.3, 2)
    for _ in range(2):
        circuit.cx(0, 1)
        circuit.cx(1, 2)
    return circuit


@pytest.fixture(scope="module")
def backend():
    return aer_backend([_circuit()], noise=NOISE, device="cpu", shots=2000, seed=11, threads=1)


@pytest.fixture(scope="module")
def learned(backend):
    # 2 layers x 9 bases x depths 0,2,4,8,16 x 4 twirls = 360 circuits of 2000 shots
    return learn_layer_noise(_circuit(), backend, twirls=4, seed=5)


def test_learned_model_of_depolarizing_noise(learned):
    assert len(learned.layers) == 2
    for noise in learned.layers:
        pair = set(noise.layer.qubits)
        for generator, rate, error in zip(noise.generators, noise.rates, noise.rate_errors):
            expected = RATE if set(generator.qubits) <= pair else 0.0
            assert abs(rate - expected) < 4 * error + 1e-5, (noise.layer.describe(), generator.describe())
        assert max(noise.rate_errors) < 0.1 * RATE


def _noisy() -> float:
    backend = aer_backend([_circuit()], noise=NOISE, device="cpu", shots=20_000, seed=2, threads=1)
    return measure(backend, _circuit(), OBSERVABLE).value


def test_pec_moves_the_noisy_value_to_the_ideal(learned, backend):
    ideal, noisy = ideal_value(_circuit(), OBSERVABLE), _noisy()
    assert abs(noisy - ideal) > 0.2
    estimate = pec_expectation(_circuit(), OBSERVABLE, learned, backend, samples=400, seed=1)
    assert abs(estimate.value - ideal) < 4 * estimate.standard_error
    assert abs(estimate.value - ideal) < abs(noisy - ideal) / 2
    gamma = math.prod(learned.for_layer(layer).gamma for layer in layered(_circuit()).layers)
    assert estimate.gamma == pytest.approx(gamma) and estimate.sampling_overhead == pytest.approx(gamma**2)
    assert 1.5 < gamma < 2.3  # exp(2 * 6 layers * 15 * 0.00343) = 1.85
    assert estimate.circuits == 400 * 2 and estimate.shots == 400 * 2 * 2000


@pytest.mark.slow
def test_pea_moves_the_noisy_value_to_the_ideal(learned, backend):
    ideal, noisy = ideal_value(_circuit(), OBSERVABLE), _noisy()
    estimate = pea_expectation(_circuit(), OBSERVABLE, learned, backend, noise_factors=(1, 2, 3), samples=200, seed=2)
    assert abs(estimate.value - ideal) < 4 * estimate.standard_error + estimate.systematic_error
    assert abs(estimate.value - ideal) < abs(noisy - ideal) / 2
    assert estimate.values[0] > estimate.values[1] > estimate.values[2]  # amplified noise lowers the value
    assert estimate.circuits == 3 * 200 * 2 and estimate.sampling_overhead > 1


def test_stored_model_is_reused_across_runs_and_parameter_values(learned, backend, tmp_path):
    path = tmp_path / "noise.json"
    learned.save(path)
    loaded = LearnedNoise.load(path)
    theta = Parameter("theta")
    first = pec_expectation(_circuit(), OBSERVABLE, learned, backend, samples=20, seed=3)
    again = pec_expectation(
        _circuit(theta).assign_parameters({theta: 0.4}), OBSERVABLE, loaded, backend, samples=20, seed=3
    )
    assert again == first  # same seed, same samples, same Aer seed
    other = pec_expectation(
        _circuit(theta).assign_parameters({theta: 1.2}), OBSERVABLE, loaded, backend, samples=20, seed=3
    )
    assert other.value != first.value and other.gamma == first.gamma


def test_pec_samples_insert_paulis_with_signs(learned):
    sampled = pec_circuits(_circuit(), learned, samples=200, seed=4)
    signs = np.array(sampled.signs)
    # each layer's expected number of inserted generators is sum_k q_k ~ 15 * 0.0034: some samples carry one
    assert 0 < np.mean(signs == -1) < 0.5
    for circuit in sampled.circuits[:10]:  # the same layers, each gate qubit twirled on both sides
        assert circuit.count_ops()["cx"] == 6 and layered(circuit).layers == layered(_circuit()).layers
        assert sum(circuit.count_ops().get(name, 0) for name in ("id", "x", "y", "z")) >= 6 * 2 * 2


def test_refusals(learned, backend):
    other = QuantumCircuit(3)
    other.cx(0, 2)
    with pytest.raises(QecInputError, match=r"layer cx\(0,2\) was not learned"):
        pec_circuits(other, learned, samples=10)
    with pytest.raises(QecInputError, match="unbound parameters"):
        pec_circuits(_circuit(Parameter("t")), learned, samples=10)
    with pytest.raises(QecInputError, match="needs at least 3 distinct noise factors"):
        pea_expectation(
            _circuit(), OBSERVABLE, learned, backend, noise_factors=(1, 2), extrapolator="polynomial_degree_2"
        )
    with pytest.raises(QecInputError, match="unknown extrapolator"):
        extrapolate([1, 2], [0.5, 0.4], [0.01, 0.01], extrapolator="cubic")
    with pytest.raises(QecInputError, match="noise factors must be numbers in"):
        pea_expectation(_circuit(), OBSERVABLE, learned, backend, noise_factors=(0.5, 2))
    wide = QuantumCircuit(4)
    wide.cx(0, 1)
    with pytest.raises(QecInputError, match="learned on 3"):
        pec_circuits(wide, learned, samples=10)


def test_extrapolate_errors_propagate():
    value, error = extrapolate([1, 3], [0.8, 0.4], [0.01, 0.01], extrapolator="linear")
    assert value == pytest.approx(1.0) and error == pytest.approx(math.sqrt(1.5**2 + 0.5**2) * 0.01)
    assert math.isnan(extrapolate([1, 2], [0.2, -0.1], [0.01, 0.01], extrapolator="exponential")[0])


def test_pea_samples_at_factor_one_are_the_circuit_for_every_parameter_value():
    """At noise factor 1 PEA inserts no Pauli, so each sample (twirled) is the circuit itself; the samples of a
    circuit with parameters keep them free (the Estimator's Aer binds them), each sample its own copy."""
    from qiskit.quantum_info import Operator

    theta = Parameter("theta")
    layers = (Layer.of([("cx", (0, 1))]), Layer.of([("cx", (1, 2))]))
    noise = LearnedNoise(
        3,
        tuple(LayerNoise(layer, (LocalPauli("ZZ", layer.qubits),), (0.01,), (0.001,)) for layer in layers),
        100,
        (0, 2),
        4,
    )
    samples = pea_circuits(layered(_circuit(theta)), noise, noise_factor=1.0, samples=3, seed=2).circuits
    assert all(set(sample.parameters) == {theta} for sample in samples)
    bound = samples[0].assign_parameters({theta: 0.9})
    assert Operator(bound).equiv(Operator(_circuit(0.9)))
    assert Operator(samples[1].assign_parameters({theta: 0.2})).equiv(Operator(_circuit(0.2)))
    assert samples[2].parameters and not bound.parameters
