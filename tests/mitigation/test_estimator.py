"""qec's `Estimator` (Qiskit's BaseEstimatorV2 with runtime's resilience options): a runtime program run by changing
its constructor, broadcasting, seeds, ZNE, options (dicts, attribute setting, refusals) and qec's techniques."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.primitives import StatevectorEstimator
from qiskit.quantum_info import Operator, SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager

from qec.errors import QecInputError
from qec.mitigation import Estimator, NoiseSpec
from qec.mitigation.estimator import EXTRAPOLATORS, EstimatorOptions, fold_two_qubit_gates


def _ghz(n: int) -> QuantumCircuit:
    circuit = QuantumCircuit(n)
    circuit.h(0)
    for q in range(n - 1):
        circuit.cx(q, q + 1)
    return circuit


def test_a_runtime_program_runs_by_changing_the_constructor():
    """The program of qiskit-ibm-runtime's EstimatorV2 docs, on FakeManilaV2; only `Estimator(...)` is ours.
    Tolerance: 5 stds for shot noise plus 0.1 for the device's gate and relaxation errors (TREX removes readout)."""
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    theta = Parameter("theta")
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.ry(theta, 0)
    observable = SparsePauliOp(["ZZ", "XX", "IZ"], [1.0, 0.5, -0.3])
    params = np.array([[0.0], [0.7], [np.pi / 2]])

    backend = FakeManilaV2()
    isa_circuit = generate_preset_pass_manager(optimization_level=1, backend=backend, seed_transpiler=0).run(circuit)
    isa_observable = observable.apply_layout(isa_circuit.layout)
    estimator = Estimator(backend=backend)  # runtime: EstimatorV2(mode=backend)
    estimator.options.default_shots = 4000
    estimator.options.seed_estimator = 1
    job = estimator.run([(isa_circuit, isa_observable, params)])
    result = job.result()[0]

    exact = StatevectorEstimator().run([(circuit, observable, params)]).result()[0].data.evs
    assert result.data.evs.shape == (3,)
    assert np.all(np.abs(result.data.evs - exact) <= 5 * result.data.stds + 0.1)
    assert result.metadata["technique"] == "trex" and result.metadata["shots"] == 4000
    assert result.metadata["options"]["seed_estimator"] == 1 and result.metadata["seconds"] > 0


def test_broadcasting_observables_against_parameter_values():
    theta = Parameter("t")
    circuit = QuantumCircuit(1)
    circuit.ry(theta, 0)
    observables = [[SparsePauliOp("Z")], [SparsePauliOp("X")]]  # shape (2, 1)
    values = np.linspace(0, np.pi, 4).reshape(4, 1)  # shape (4,)
    result = Estimator(options={"seed_estimator": 2}).run([(circuit, observables, values)]).result()[0]
    exact = StatevectorEstimator().run([(circuit, observables, values)]).result()[0].data.evs
    assert result.data.evs.shape == result.data.stds.shape == (2, 4)
    assert np.all(np.abs(result.data.evs - exact) <= 5 * result.data.stds + 1e-9)


def test_a_seed_fixes_every_draw():
    """Level 2 draws twirls of gates and measurements, random folds and Aer's seed: the same seed repeats the
    run exactly; another seed does not."""
    noise = NoiseSpec(depolarizing_2q=0.02, readout=0.02)
    options = {"resilience_level": 2, "seed_estimator": 9, "default_shots": 1000}
    options["resilience"] = {"zne": {"noise_factors": (1, 1.5, 2), "extrapolator": "linear"}}
    pubs = [(_ghz(3), ["XXX", "ZZI"])]
    first = Estimator(backend=noise, options=options).run(pubs).result()[0]
    second = Estimator(backend=noise, options=options).run(pubs).result()[0]
    other = Estimator(backend=noise, options={**options, "seed_estimator": 10}).run(pubs).result()[0]
    np.testing.assert_array_equal(first.data.evs, second.data.evs)
    np.testing.assert_array_equal(first.data.stds, second.data.stds)
    assert not np.array_equal(first.data.evs, other.data.evs)


def test_zne_by_gate_folding_reduces_depolarizing_bias():
    """GHZ(4) <XXXX> under 2% two-qubit depolarizing noise (ideal 1): level 2 (TREX, twirled gates, folds 1, 3, 5,
    exponential then linear fits) brings the error down at least 2x from level 0; each value within 5 stds."""
    noise = NoiseSpec(depolarizing_2q=0.02)
    pubs = [(_ghz(4), "XXXX")]
    raw = Estimator(backend=noise, options={"resilience_level": 0, "seed_estimator": 4}).run(pubs).result()[0]
    zne = Estimator(backend=noise, options={"resilience_level": 2, "seed_estimator": 4}).run(pubs).result()[0]
    assert abs(zne.data.evs - 1) * 2 < abs(raw.data.evs - 1)
    assert abs(zne.data.evs - 1) <= 5 * zne.data.stds
    assert zne.metadata["technique"] == "trex+zne" and zne.metadata["noise_factors"] == [1.0, 3.0, 5.0]
    assert zne.data.evs_noise_factors.shape == (3,)
    assert zne.data.evs_noise_factors[0] > zne.data.evs_noise_factors[2]  # more folds, more noise


def test_fold_two_qubit_gates_keeps_the_unitary_and_reaches_the_factor():
    circuit = _ghz(3)
    circuit.cz(0, 2)
    for amplifier in ("gate_folding", "gate_folding_front", "gate_folding_back"):
        folded, actual = fold_two_qubit_gates(circuit, 2.0, amplifier=amplifier, rng=np.random.default_rng(0))
        assert actual == pytest.approx(1 + 2 * round(3 * 1 / 2) / 3)
        assert Operator(folded).equiv(Operator(circuit))
        assert sum(1 for i in folded.data if i.operation.num_qubits == 2) == 3 + 2 * round(3 / 2)


def test_options_from_dicts_and_attribute_setting():
    estimator = Estimator(options={"resilience": {"zne_mitigation": True, "zne": {"noise_factors": [1, 2, 3]}}})
    assert estimator.options.resilience.zne.noise_factors == (1, 2, 3)
    estimator.options.resilience.zne.extrapolator = "polynomial_degree_2"
    estimator.options.resilience_level = 0
    estimator.options.twirling = {"enable_gates": True}
    frozen = estimator.frozen_options
    assert isinstance(frozen, EstimatorOptions) and frozen.resilience.zne.extrapolator == "polynomial_degree_2"
    assert frozen.resilience_level == 0 and frozen.twirling.enable_gates is True
    estimator.options.resilience.zne.update(noise_factors=(1, 3), extrapolator="linear")
    assert estimator.frozen_options.resilience.zne.noise_factors == (1, 3)
    with pytest.raises(QecInputError, match="needs at least 3 distinct noise factors"):
        estimator.options.resilience.zne.extrapolator = "polynomial_degree_2"
    assert estimator.frozen_options.resilience.zne.extrapolator == "linear"  # a refused setting changes nothing


@pytest.mark.parametrize(
    "options, message",
    [
        ({"resilience": {"zne": {"amplifier": "pea_x"}}}, "ZNE amplifier"),
        ({"resilience": {"pec_mitigation": True, "zne_mitigation": True}}, "exclude each other"),
        ({"resilience": {"zne": {"extrapolator": "double_exponential"}}}, "choose one of linear, exponential"),
        ({"resilience_level": 3}, "resilience_level must be 0"),
        ({"resilience": {"zne_mitgation": True}}, "unknown option options.resilience.zne_mitgation"),
        ({"resilience": {"zne": {"noise_factors": (1, 1)}}}, "noise_factors must be distinct"),
        ({"technique": "zne"}, "give it with resilience_level=0"),
        ({"default_shots": 0}, "default_shots must be an integer"),
    ],
)
def test_options_refused_in_one_line(options, message):
    with pytest.raises(QecInputError, match=message) as error:
        Estimator(options=options)
    assert "\n" not in str(error.value)


def test_extrapolators_are_runtimes_names():
    for name in ("linear", "exponential", "polynomial_degree_1", "polynomial_degree_7", "fallback"):
        assert name in EXTRAPOLATORS


def test_circuits_the_backend_cannot_run_are_refused():
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    with pytest.raises(QecInputError, match="not an ISA circuit"):
        Estimator(backend=FakeManilaV2()).run([(_ghz(2), "ZZ")]).result()
    measured = _ghz(2)
    measured.measure_all()
    with pytest.raises(QecInputError, match="has no measurements"):
        Estimator().run([(measured, "ZZ")]).result()
    with pytest.raises(QecInputError, match="backend must be"):
        Estimator(backend="FakeManilaV2")


def test_qecs_own_technique_by_name():
    """`technique` runs one of qec's Mitiq techniques per (circuit, observable): Mitiq's ZNE (Richardson, global
    folding at 1, 3, 5) on GHZ(3) <XXX> under 2% depolarizing noise, against level 0."""
    noise = NoiseSpec(depolarizing_2q=0.02)
    pubs = [(_ghz(3), ["XXX", "III"])]
    raw = Estimator(backend=noise, options={"resilience_level": 0, "seed_estimator": 1}).run(pubs).result()[0]
    options = {"resilience_level": 0, "technique": "zne", "seed_estimator": 1}
    mitigated = Estimator(backend=noise, options=options).run(pubs).result()[0]
    assert mitigated.metadata["technique"] == "zne" and mitigated.metadata["circuits"] == 3
    assert mitigated.data.evs[1] == 1.0
    assert abs(mitigated.data.evs[0] - 1) * 2 < abs(raw.data.evs[0] - 1)


@pytest.mark.parametrize(
    "factors, values",
    [
        ((1, 3), (0.6, 0.3)),  # through two points: d value / d y_i = value c_i / y_i
        ((1, 1.5, 2, 3, 4), (0.8, 0.7, 0.63, 0.5, 0.41)),  # a weighted fit with residuals
        ((1, 3, 5), (-0.6, -0.35, -0.2)),  # a decay towards 0 from below
        ((1, 3, 5), (-0.0332, -0.0483, -0.0034)),  # values near 0, where a coarse difference is off
        ((1, 3, 5), (0.6, 0.3, -0.01)),  # the last value under Mitiq's floor of the log: no influence
    ],
)
def test_the_exponential_fits_gradient_is_that_of_mitiqs_fit(factors, values):
    """The exponential extrapolator's error comes from its analytic gradient: each entry equals a central
    difference of Mitiq's own fit (step 1e-6; its error is O(step^2) times the curvature, far below 1e-5 here)."""
    exponential = EXTRAPOLATORS["exponential"]
    x, y = np.array(factors, dtype=float), np.array(values, dtype=float)
    value, gradient = exponential.gradient(x, y)
    assert value == exponential.fit(list(x), list(y))
    step = 1e-6
    for i in range(len(y)):
        up, down = y.copy(), y.copy()
        up[i], down[i] = y[i] + step, y[i] - step
        difference = (exponential.fit(list(x), list(up)) - exponential.fit(list(x), list(down))) / (2 * step)
        assert gradient[i] == pytest.approx(difference, rel=1e-5, abs=1e-7)


def test_aer_counts_become_the_estimators_register_bits():
    """`_tally` on experiments of different register widths, one with a classical register of the user's before the
    Estimator's: hex keys over all clbits, the Estimator's register last (its bit j = column j)."""
    from qiskit import ClassicalRegister

    from qec.mitigation.estimator import _tally

    plain = QuantumCircuit(3)
    plain.add_register(ClassicalRegister(2, "estimator"))
    user = QuantumCircuit(3)
    user.add_register(ClassicalRegister(3, "user"))
    user.add_register(ClassicalRegister(3, "estimator"))
    (bits_a, counts_a), (bits_b, counts_b) = _tally([{"0x1": 5, "0x2": 7}, {"0x28": 3, "0x7": 1}], [plain, user])
    assert bits_a.tolist() == [[True, False], [False, True]] and counts_a.tolist() == [5, 7]
    # 0x28 = 0b101_000: the Estimator's bits (above the user's three) are 0b101; 0x7 has none of them set
    assert bits_b.tolist() == [[True, False, True], [False, False, False]] and counts_b.tolist() == [3, 1]


def test_sampled_parities_are_the_mean_and_spread_of_each_circuits_parity():
    """PEA's and PEC's estimate over sampled circuits, computed in one product for all of them, equals the mean of
    gamma * sign * each circuit's own `trex.parities` mean, and the spread of those over sqrt(circuits)."""
    from qec.mitigation import trex
    from qec.mitigation.estimator import _sampled_parities

    rng = np.random.default_rng(3)
    parts = [(rng.integers(0, 2, size=(k, 3)).astype(bool), rng.integers(1, 50, size=k)) for k in (4, 1, 6, 3)]
    supports = np.array([[True, False, False], [True, True, True]])
    signs = [1, -1, 1, 1]
    means, stds = _sampled_parities(parts, signs, supports, 1.5)
    each = np.array(
        [1.5 * sign * trex.parities(bits, counts, supports)[0] for (bits, counts), sign in zip(parts, signs)]
    )
    assert np.array_equal(means, each.mean(axis=0))
    assert np.allclose(stds, each.std(axis=0, ddof=1) / 2, rtol=1e-14, atol=0)
