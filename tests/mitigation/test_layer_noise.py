"""Layer noise learning on Aer: layers cut from circuits, the twirl tables against Qiskit's Cliffords, a known
Pauli-Lindblad model injected through Aer and recovered, and the JSON form with hostile input.

Recovery tolerance: each learned rate within 4 of its bootstrap error bars of the injected rate (15 rates: a
4 sigma test fails by chance about once in 1,000 runs; the seeds here are fixed), and those error bars below 10% of
the mean rate (so the test can fail).
"""

import json
import math

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit.library import get_standard_gate_name_mapping
from qiskit.quantum_info import Clifford, Pauli
from qiskit_aer import AerSimulator
from qiskit_aer.noise import NoiseModel, PauliLindbladError

from qec.errors import QecInputError
from qec.mitigation.backends import Backend
from qec.mitigation.layer_noise import (
    LAYER_GATES,
    Layer,
    LayerNoise,
    LearnedNoise,
    LocalPauli,
    layered,
    learn_layer_noise,
    measurement_bases,
    model_generators,
    twirl_gates,
)


def test_layered_puts_each_gate_as_early_as_it_can_go():
    circuit = QuantumCircuit(4)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.cz(2, 3)
    circuit.rz(0.2, 1)
    circuit.barrier()
    circuit.cx(1, 2)
    circuit.x(3)
    circuit.cx(0, 1)
    parts = layered(circuit)
    assert [layer.describe() for layer in parts.layers] == ["cx(0,1) cz(2,3)", "cx(1,2)", "cx(0,1)"]
    assert [[i.operation.name for i in single] for single in parts.singles] == [["h"], ["rz", "x"], [], []]
    assert parts.distinct_layers() == (parts.layers[0], parts.layers[1], parts.layers[2])
    assert parts.active_qubits == (0, 1, 2, 3)


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda c: c.measure_all(), "measure"),
        (lambda c: c.ccx(0, 1, 2), "acts on 3 qubits"),
        (lambda c: c.rzz(0.3, 0, 1), "not a parameter-free Clifford"),
    ],
)
def test_layered_refuses_what_it_cannot_twirl(build, message):
    circuit = QuantumCircuit(3)
    build(circuit)
    with pytest.raises(QecInputError, match=message):
        layered(circuit)


@pytest.mark.parametrize("name", sorted(LAYER_GATES))
def test_conjugation_table_is_qiskits_clifford(name):
    gate = get_standard_gate_name_mapping()[name]
    circuit = QuantumCircuit(3)
    circuit.append(gate, [2, 0])
    clifford = Clifford(circuit)
    layer = Layer.of([(name, (2, 0))])
    for label in ("XIZ", "YYI", "ZIX", "IZY"):  # qubit 0 leftmost here
        pauli = LocalPauli(label.replace("I", ""), tuple(q for q, letter in enumerate(label) if letter != "I"))
        x, z = layer.conjugate(*pauli.symplectic(3))
        image = Pauli(label[::-1]).evolve(clifford, frame="s")
        assert (x == image.x).all() and (z == image.z).all()


def test_generators_and_bases_cover_every_pair():
    generators = model_generators([0, 1, 2], [(1, 0), (1, 2)])
    assert len(generators) == 9 + 18 and generators[9].describe() == "X0 X1"
    bases = measurement_bases([0, 1, 2], [(0, 1), (1, 2)])
    assert {(b[0], b[1]) for b in bases} == {(a, c) for a in "XYZ" for c in "XYZ"}
    assert {(b[1], b[2]) for b in bases} == {(a, c) for a in "XYZ" for c in "XYZ"}


def _injected_rates(layer: Layer, generators, seed: int) -> dict[LocalPauli, float]:
    """Rates in [0.002, 0.01], equal along each orbit of the layer's conjugation: the symmetry assumption holds,
    so the learned model is the injected one."""
    rng = np.random.default_rng(seed)
    symplectic = {g: g.symplectic(2) for g in generators}
    rates: dict[LocalPauli, float] = {}
    for generator in generators:
        if generator in rates:
            continue
        x, z = layer.conjugate(*symplectic[generator])
        image = next(g for g in generators if (symplectic[g][0] == x).all() and (symplectic[g][1] == z).all())
        rates[generator] = rates[image] = float(rng.uniform(0.002, 0.01))
    return rates


def _qiskit_pauli(pauli: LocalPauli, num_qubits: int) -> Pauli:
    labels = ["I"] * num_qubits
    for letter, qubit in zip(pauli.letters, pauli.qubits):
        labels[qubit] = letter
    return Pauli("".join(reversed(labels)))


def test_recovers_an_injected_pauli_lindblad_model():
    layer = Layer.of([("cx", (0, 1))])
    generators = model_generators([0, 1], [(0, 1)])
    injected = _injected_rates(layer, generators, seed=1)
    model = NoiseModel()
    model.add_quantum_error(
        PauliLindbladError([_qiskit_pauli(g, 2) for g in generators], [injected[g] for g in generators]), "cx", [0, 1]
    )
    backend = Backend(AerSimulator(method="density_matrix", noise_model=model), "CPU", "density_matrix", 2000, 7)
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    # 9 bases x depths 0,2,4,8,16 x 4 twirls = 180 circuits of 2000 shots
    learned = learn_layer_noise(circuit, backend, twirls=4, seed=3)
    noise = learned.layers[0]
    assert noise.layer == layer and noise.generators == generators
    for generator, rate, error in zip(noise.generators, noise.rates, noise.rate_errors):
        assert abs(rate - injected[generator]) < 4 * error, generator.describe()
    assert max(noise.rate_errors) < 0.1 * np.mean(list(injected.values()))
    assert math.isclose(noise.gamma, math.exp(2 * sum(noise.rates)))


def test_learning_refuses_bad_depths_and_twirls():
    circuit = QuantumCircuit(2)
    circuit.cx(0, 1)
    backend = Backend(AerSimulator(method="density_matrix"), "CPU", "density_matrix", 10, 1)
    with pytest.raises(QecInputError, match="multiples of the layers' order 2"):
        learn_layer_noise(circuit, backend, depths=(0, 1, 2))
    with pytest.raises(QecInputError, match="twirls must be an integer"):
        learn_layer_noise(circuit, backend, twirls=1)
    with pytest.raises(QecInputError, match="no two-qubit gates"):
        learn_layer_noise(QuantumCircuit(2), backend)


def _learned() -> LearnedNoise:
    layer = Layer.of([("cx", (1, 2)), ("cz", (0, 3))])
    generators = model_generators([0, 1, 2, 3], [(1, 2), (0, 3)])
    rates = tuple(0.001 * (k % 5) for k in range(len(generators)))
    noise = LayerNoise(layer, generators, rates, tuple(0.0001 for _ in rates))
    return LearnedNoise(4, (noise,), 1000, (0, 2, 4), 8)


def test_json_round_trip(tmp_path):
    learned = _learned()
    path = tmp_path / "noise.json"
    learned.save(path)
    assert LearnedNoise.load(path) == learned
    assert learned.describe().startswith("1 layer, 30 generators")


def _edited(change) -> str:
    data = _learned().as_dict()
    change(data)
    return json.dumps(data)


@pytest.mark.parametrize(
    "text, message",
    [
        ("not json", "not JSON"),
        ("[" * 100_000, "not JSON"),
        ('{"format": "pickle"}', "format 'qec.layer_noise'"),
        (_edited(lambda d: d.update(version=2)), "version 2"),
        (_edited(lambda d: d.update(num_qubits=True)), "'num_qubits' must be an integer"),
        (_edited(lambda d: d["layers"][0]["generators"][0].update(rate=-0.1)), "'rate' must be a finite number"),
        (_edited(lambda d: d["layers"][0]["generators"][0].update(rate="1e-3")), "'rate' must be a finite number"),
        (
            '{"format": "qec.layer_noise", "version": 1, "num_qubits": 4, "layers": [{"gates": [["cx", 0, 1]], '
            '"generators": [{"pauli": "X", "qubits": [0], "rate": NaN, "error": 0}]}], "shots": 1, "depths": [0, 2], '
            '"twirls": 2}',
            "'rate' must be a finite number",
        ),
        (_edited(lambda d: d["layers"][0]["generators"][0].update(qubits=[9])), "'qubits' must be an integer in"),
        (_edited(lambda d: d["layers"][0]["generators"][0].update(pauli="Q")), "one of X, Y, Z"),
        (_edited(lambda d: d["layers"][0].update(gates=[["rzz", 0, 1]])), "not a parameter-free Clifford"),
        (_edited(lambda d: d["layers"][0].update(gates=[["cx", 0, 1], ["cx", 1, 2]])), "disjoint qubits"),
        (_edited(lambda d: d["layers"].append(d["layers"][0])), "names a layer twice"),
        (_edited(lambda d: d.pop("shots")), "'shots' must be an integer"),
    ],
)
def test_json_refuses_hostile_input(text, message):
    with pytest.raises(QecInputError, match=message) as raised:
        LearnedNoise.from_json(text)
    assert "\n" not in str(raised.value)


def test_load_of_a_missing_file_is_one_line(tmp_path):
    with pytest.raises(QecInputError, match="cannot read learned noise"):
        LearnedNoise.load(tmp_path / "absent.json")


@pytest.mark.parametrize("seed", range(4))
def test_a_twirled_layer_with_a_sampled_pauli_is_the_layer_then_that_pauli(seed):
    """`twirl_gates` (as PEC and PEA sample): whatever twirl it draws, the gates it appends are the layer followed by
    the extra Pauli, up to a global phase; the extra one here also acts on qubit 4, outside the layer."""
    from qiskit.quantum_info import Operator

    layer = Layer.of([("cx", (0, 1)), ("cz", (2, 3))])
    extra = Pauli("XZIYZ"[::-1])  # Qiskit's label: qubit 0 rightmost; X on 0, Z on 1, Y on 3, Z on 4
    twirled = QuantumCircuit(5)
    twirl_gates(twirled, layer, np.random.default_rng(seed), (extra.x.copy(), extra.z.copy()))
    expected = QuantumCircuit(5)
    expected.cx(0, 1)
    expected.cz(2, 3)
    expected.append(extra.to_instruction(), range(5))
    assert Operator(twirled).equiv(Operator(expected))
    assert sum(i.operation.name in ("cx", "cz") for i in twirled.data) == 2
