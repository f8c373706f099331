"""PEA and PEC inside `qec.mitigation.Estimator`, from learned layer noise, on Aer (density matrix).

The circuit: 2 qubits, 3 layers cx(0,1) with rotations between (one distinct layer), a parameter theta; noise:
Stim's two-qubit depolarizing p = 0.1 after every cx, the Pauli-Lindblad model with rate -log(1 - 16 p / 15) / 16
= 0.0072 on each of the pair's 15 Paulis. Observable XX: ideal 0.936 at theta = 0.3, noisy about 0.66.

Tolerances: a mitigated value within 4 of its error bars (the spread over the sampled circuits, which holds the
sampling and the shot noise) of the ideal, while the noisy value lies more than 4 of them away (so the test can
fail). The learned mean rate within 20% of the injected one (its bootstrap error is about 5%).
"""

import math
import re

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.quantum_info import SparsePauliOp, Statevector
from qiskit_aer import AerSimulator

from qec.errors import QecInputError
from qec.mitigation import Estimator, NoiseSpec
from qec.mitigation.layer_noise import LearnedNoise

THETA = Parameter("theta")
P2 = 0.1
RATE = -math.log(1 - 16 * P2 / 15) / 16
OBSERVABLE = SparsePauliOp("XX")
LEARNING = {"num_randomizations": 4, "shots_per_randomization": 1024}


def _circuit() -> QuantumCircuit:
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.ry(THETA, 0)
    circuit.rz(0.2, 1)
    circuit.cx(0, 1)
    circuit.ry(0.4, 1)
    circuit.cx(0, 1)
    return circuit


def _simulator(readout: float = 0.0) -> AerSimulator:
    noise = NoiseSpec(depolarizing_2q=P2, readout=readout).to_aer()
    return AerSimulator(method="density_matrix", noise_model=noise)


def _ideal(theta: float) -> float:
    return float(Statevector(_circuit().assign_parameters({THETA: theta})).expectation_value(OBSERVABLE).real)


def _noisy(theta: float) -> float:
    estimator = Estimator(backend=_simulator(), options={"resilience_level": 0, "seed_estimator": 4})
    return float(estimator.run([(_circuit(), OBSERVABLE, [theta])], precision=0.005).result()[0].data.evs)


@pytest.fixture(scope="module")
def learned_run():
    """One Estimator running PEC on two PUBs of the same circuit with different parameters, then a second run."""
    options = {
        "resilience_level": 0,
        "seed_estimator": 7,
        "resilience": {"pec_mitigation": True, "layer_noise_learning": LEARNING},
        "twirling": {"num_randomizations": 4, "shots_per_randomization": 64},
    }
    estimator = Estimator(backend=_simulator(), options=options)
    first = estimator.run([(_circuit(), OBSERVABLE, [0.3]), (_circuit(), OBSERVABLE, [1.1])]).result()
    again = estimator.run([(_circuit(), OBSERVABLE, [[0.5], [0.7]])]).result()
    return estimator, [*first, *again]


def test_noise_is_learned_once_per_circuit_structure(learned_run):
    estimator, results = learned_run
    assert [r.metadata["learned_noise_source"] for r in results] == ["learned", "cached", "cached"]
    assert len(estimator.learned_noise) == 1 and "learning_seconds" in results[0].metadata
    assert all("learning_seconds" not in r.metadata for r in results[1:])
    (model,) = estimator.learned_noise
    assert [noise.layer.describe() for noise in model.layers] == ["cx(0,1)"]
    rates = np.array(model.layers[0].rates)
    assert abs(rates.mean() - RATE) < 0.2 * RATE
    assert results[2].data.evs.shape == (2,)


def test_pec_metadata(learned_run):
    estimator, results = learned_run
    metadata = results[0].metadata
    (model,) = estimator.learned_noise
    gamma = model.layers[0].gamma ** 3  # three instances of the one layer
    assert metadata["technique"] == "pec"
    assert metadata["gamma"] == pytest.approx(gamma) and metadata["sampling_overhead"] == pytest.approx(gamma**2)
    assert metadata["learned_noise"] == model.describe()
    assert metadata["num_randomizations"] == math.ceil(4 * gamma**2)
    assert metadata["circuits"] == metadata["num_randomizations"] and metadata["shots"] == metadata["circuits"] * 64
    assert metadata["seconds"] >= metadata["aer_seconds"] > 0


def test_given_model_json_is_used_without_learning(learned_run, tmp_path):
    estimator, results = learned_run
    path = tmp_path / "noise.json"
    estimator.learned_noise[0].save(path)
    options = {
        "resilience_level": 0,
        "seed_estimator": 7,
        "resilience": {"zne_mitigation": True, "zne": {"amplifier": "pea", "noise_factors": (1, 2)}},
        "twirling": {"num_randomizations": 4, "shots_per_randomization": 64},
    }
    given = Estimator(backend=_simulator(), options=options)
    given.options.resilience.layer_noise_model = str(path)
    result = given.run([(_circuit(), OBSERVABLE, [0.3])]).result()[0]
    assert given.learned_noise == () and result.metadata["learned_noise_source"] == "given"
    assert "learning_seconds" not in result.metadata and result.metadata["technique"] == "pea"
    assert result.metadata["learned_noise"] == LearnedNoise.load(path).describe()
    assert result.metadata["options"]["resilience"]["layer_noise_model"] == result.metadata["learned_noise"]
    assert result.data.evs_noise_factors.shape == (2,)


@pytest.mark.parametrize(
    "resilience, circuit, message",
    [
        (
            {"pec_mitigation": True, "pec": {"max_overhead": 1.01}, "given": True},
            None,
            "over resilience.pec.max_overhead = 1.01",
        ),
        ({"pec_mitigation": True, "layer_noise_model": "no/such/noise.json"}, None, "cannot read learned noise"),
        ({"pec_mitigation": True, "pec": {"noise_gain": 2}}, None, "pec.noise_gain must be a number in"),
        ({"pec_mitigation": True, "zne_mitigation": True}, None, "exclude each other"),
        ({"layer_noise_learning": {"layer_pair_depths": (1, 1)}}, None, "needs two distinct depths"),
        ({"pec_mitigation": True, "given": True}, "reversed", "layer cx(1,0) was not learned"),
    ],
)
def test_refusals_are_one_line(learned_run, tmp_path, resilience, circuit, message):
    estimator, _ = learned_run
    if resilience.pop("given", False):
        path = tmp_path / "noise.json"
        estimator.learned_noise[0].save(path)
        resilience["layer_noise_model"] = path
    target = _circuit()
    if circuit == "reversed":
        target = QuantumCircuit(2)
        target.h(1)
        target.cx(1, 0)
    with pytest.raises(QecInputError, match=re.escape(message)) as error:
        options = {"resilience_level": 0, "resilience": resilience, "twirling": {"num_randomizations": 4}}
        estimator = Estimator(backend=_simulator(), options=options)
        estimator.run([(target, OBSERVABLE, [0.3][: len(target.parameters)])]).result()
    assert "\n" not in str(error.value)


@pytest.mark.slow
def test_pec_moves_the_noisy_value_to_the_ideal(learned_run):
    estimator, _ = learned_run
    ideal, noisy = _ideal(0.3), _noisy(0.3)
    options = {
        "resilience_level": 0,
        "seed_estimator": 11,
        "resilience": {"pec_mitigation": True, "layer_noise_model": estimator.learned_noise[0]},
        "twirling": {"num_randomizations": 400, "shots_per_randomization": 32},
    }
    result = Estimator(backend=_simulator(), options=options).run([(_circuit(), OBSERVABLE, [0.3])]).result()[0]
    value, std = float(result.data.evs), float(result.data.stds)
    assert abs(value - ideal) < 4 * std < abs(noisy - ideal), (value, std, ideal, noisy)


@pytest.mark.slow
def test_trex_and_pea_move_the_noisy_value_to_the_ideal(learned_run):
    """Readout flips 0.03 as well: TREX corrects them, PEA the gates."""
    estimator, _ = learned_run
    ideal, noisy = _ideal(0.3), _noisy(0.3)
    options = {
        "resilience_level": 1,
        "seed_estimator": 12,
        "resilience": {
            "zne_mitigation": True,
            "zne": {"amplifier": "pea", "noise_factors": (1, 1.5, 2), "extrapolator": ("exponential", "linear")},
            "layer_noise_model": estimator.learned_noise[0],
        },
        "twirling": {"num_randomizations": 300, "shots_per_randomization": 32},
    }
    result = Estimator(backend=_simulator(0.03), options=options).run([(_circuit(), OBSERVABLE, [0.3])]).result()[0]
    value, std = float(result.data.evs), float(result.data.stds)
    assert result.metadata["technique"] == "trex+pea"
    factors = result.data.evs_noise_factors
    assert factors[0] > factors[1] > factors[2]  # amplified noise lowers the value
    assert abs(value - ideal) < 4 * std < abs(noisy - ideal), (value, std, ideal, noisy)
