"""The kicked Ising workload (`qec.mitigation.kicked_ising`) and `qec mitigate kicked-ising`."""

from __future__ import annotations

import json
import math

import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import Clifford, Operator, Pauli, SparsePauliOp, Statevector
from qiskit_aer import AerSimulator
from qiskit_ibm_runtime.fake_provider import FakeKolkataV2
from typer.testing import CliRunner

from qec.cli.main import app, main
from qec.errors import QecInputError
from qec.mitigation.backends import is_clifford
from qec.mitigation.estimator import Estimator
from qec.mitigation.kicked_ising import (
    edge_colouring,
    heavy_hex_patch,
    ideal_expectation,
    kicked_ising_circuit,
    learn_kicked_ising_noise,
    magnetization,
    run_kicked_ising,
)
from qec.mitigation.noise_models import NoiseSpec


def test_the_12_qubit_patch_is_a_heavy_hex_cell_of_the_device():
    patch = heavy_hex_patch(12)
    device_edges = {tuple(sorted(e)) for e in FakeKolkataV2().coupling_map.get_edges()}
    for a, b in patch.edges:
        assert tuple(sorted((patch.physical[a], patch.physical[b]))) in device_edges
    degrees = [sum(q in edge for edge in patch.edges) for q in range(12)]
    assert len(patch.edges) == 12 and degrees == [2] * 12  # a 12-cycle: one hexagon with a qubit on each side
    coloured = [edge for colour in patch.colours for edge in colour]
    assert sorted(coloured) == sorted(patch.edges)
    for colour in patch.colours:
        qubits = [q for edge in colour for q in edge]
        assert len(qubits) == len(set(qubits))


def test_larger_patches_stay_connected_and_three_colourable():
    patch = heavy_hex_patch(20)
    assert patch.num_qubits == 20 and len(patch.colours) <= 3
    reached, frontier = {0}, [0]
    while frontier:
        q = frontier.pop()
        for a, b in patch.edges:
            for x, y in ((a, b), (b, a)):
                if x == q and y not in reached:
                    reached.add(y)
                    frontier.append(y)
    assert reached == set(range(20))
    with pytest.raises(QecInputError, match="qubits"):
        heavy_hex_patch(28)
    with pytest.raises(QecInputError, match="3 colours"):
        edge_colouring([(0, 1), (0, 2), (0, 3), (0, 4)])


def test_the_cx_gadget_is_rzz_minus_pi_over_2():
    reference = QuantumCircuit(2)
    reference.rzz(-math.pi / 2, 0, 1)
    patch = heavy_hex_patch(2)
    step = kicked_ising_circuit(patch, steps=1, theta_h=0.0)
    assert Operator(step).equiv(Operator(reference))


@pytest.mark.parametrize("theta_h", [0.0, math.pi / 2])
def test_clifford_angle_ideal_matches_a_stabilizer_simulation(theta_h):
    """The circuit's Clifford tableau (Qiskit's own simulation, independent of Aer) gives each <Z_q> exactly."""
    patch = heavy_hex_patch(12)
    circuit = kicked_ising_circuit(patch, steps=3, theta_h=theta_h)
    tableau = Clifford(circuit)
    values = []
    for q in range(12):
        # <0|U^dag Z_q U|0> = sign of the stabilizer when U^dag Z_q U is a Z-type word, else 0
        evolved = Pauli("I" * (11 - q) + "Z" + "I" * q).evolve(tableau, frame="s")
        values.append(0.0 if evolved.x.any() else (-1.0) ** (evolved.phase // 2))
    assert ideal_expectation(circuit, magnetization(12)) == pytest.approx(sum(values) / 12, abs=1e-12)
    word = SparsePauliOp("Z" * 12)
    evolved = Pauli("Z" * 12).evolve(tableau, frame="s")
    expected = 0.0 if evolved.x.any() else (-1.0) ** (evolved.phase // 2)
    assert ideal_expectation(circuit, word) == pytest.approx(expected, abs=1e-12)


def test_a_non_clifford_ideal_by_mps_matches_the_statevector():
    patch = heavy_hex_patch(12)
    circuit = kicked_ising_circuit(patch, steps=2, theta_h=math.pi / 4)
    exact = float(Statevector(circuit).expectation_value(magnetization(12)).real)
    assert ideal_expectation(circuit, magnetization(12)) == pytest.approx(exact, abs=1e-9)
    assert exact == pytest.approx(0.75, abs=1e-9)


@pytest.mark.parametrize(("theta_h", "steps"), [(0.3, 2), (0.6, 3), (1.3, 3)])
def test_mps_ideal_matches_qiskits_statevector_at_other_angles(theta_h, steps):
    """Aer's MPS against Qiskit's own statevector (independent code), for the magnetization and a weight-3 word."""
    patch = heavy_hex_patch(12)
    circuit = kicked_ising_circuit(patch, steps=steps, theta_h=theta_h)
    state = Statevector(circuit)
    word = SparsePauliOp.from_sparse_list([("ZZZ", [0, 1, 11], 1.0)], 12)
    for observable in (magnetization(12), word):
        exact = float(state.expectation_value(observable).real)
        assert ideal_expectation(circuit, observable) == pytest.approx(exact, abs=1e-9)
    assert not is_clifford(circuit)


def test_noisy_runs_take_mps_beyond_13_qubits_and_match_readout_only_noise():
    """14 qubits, non-Clifford: the noisy run goes by MPS; with readout flips r only, <Z_i> is (1 - 2r) times the
    ideal exactly, so the estimate lies within 5 sigma of it (1 in 1.7 million to fail by chance)."""
    readout = 0.05
    report = run_kicked_ising(
        qubits=14, steps=1, theta_h=0.4, noise=NoiseSpec(readout=readout), techniques=["noisy"], shots=4000
    )
    assert report.ideal_method == "matrix_product_state" and report.noisy_method == "matrix_product_state"
    (noisy,) = report.results
    assert abs(noisy.value - (1 - 2 * readout) * report.ideal) < 5 * noisy.standard_error
    assert report.ideal - noisy.value > 5 * noisy.standard_error  # the readout flips are seen


@pytest.mark.slow
def test_noisy_mps_agrees_with_noisy_statevector_under_gate_noise():
    """14 qubits, non-Clifford, depolarizing CX noise: qec's MPS run and an Aer statevector run of the same circuit
    (independent trajectories) agree within 5 combined sigma (about 20 s)."""
    noise = NoiseSpec(depolarizing_2q=0.02, readout=0.01)
    report = run_kicked_ising(qubits=14, steps=1, theta_h=0.3, noise=noise, techniques=["noisy"], shots=2000)
    assert report.noisy_method == "matrix_product_state"
    (mps,) = report.results
    circuit = kicked_ising_circuit(heavy_hex_patch(14), steps=1, theta_h=0.3)
    simulator = AerSimulator(method="statevector", noise_model=noise.to_aer())
    options = {"resilience_level": 0, "seed_estimator": 1, "default_shots": 2000}
    pub = Estimator(backend=simulator, options=options).run([(circuit, magnetization(14))]).result()[0]
    statevector, sigma = float(pub.data.evs), float(pub.data.stds)
    assert abs(mps.value - statevector) < 5 * math.hypot(mps.standard_error, sigma)
    assert report.ideal - mps.value > 5 * mps.standard_error  # the noise is seen


def test_a_27_qubit_clifford_run_goes_by_the_stabilizer_method():
    """The whole of FakeKolkataV2 at theta_h 0: ideal 1 exactly (RZZ commutes with Z), and the noise (p2 = 0.01 on
    56 CXs, readout 0.01) pulls the magnetization clearly below it (0.93 at 12 qubits), within seconds."""
    report = run_kicked_ising(qubits=27, steps=2, theta_h=0.0, techniques=["noisy"], shots=1000)
    assert report.noisy_method == "stabilizer" and report.ideal_method == "stabilizer"
    (noisy,) = report.results
    assert len(report.physical_qubits) == 27 and report.ideal == 1.0
    assert 0.8 < noisy.value < 1 - 5 * noisy.standard_error


def test_layer_noise_learned_once_serves_another_angle():
    """The CX layers do not depend on theta_h: noise learned at the Clifford layers drives PEC at theta_h 0.5, and
    the report counts no learning of its own."""
    patch = heavy_hex_patch(2)  # one CX layer: the cheapest learning
    noise = NoiseSpec(depolarizing_2q=0.02)
    learned = learn_kicked_ising_noise(patch, steps=1, noise=noise, shots=100)
    report = run_kicked_ising(
        qubits=2,
        steps=1,
        theta_h=0.5,
        noise=noise,
        techniques=["pec"],
        sample_shots=50,
        pec_samples=20,
        learned=learned,
    )
    (pec,) = report.results
    assert report.learning_circuits == 0 and pec.circuits == 20 and pec.gamma is not None and pec.gamma > 1
    assert report.noisy_method == "density_matrix"
    assert abs(pec.value - report.ideal) < 5 * pec.standard_error  # unbiased up to the learned model's error


def test_refuses_a_fake_backend_noise_and_unknown_techniques():
    with pytest.raises(QecInputError, match="rates"):
        run_kicked_ising(noise=NoiseSpec(fake_backend="FakeKolkataV2"))
    with pytest.raises(QecInputError, match="choose from"):
        run_kicked_ising(techniques=["magic"])


def test_the_cli_runs_with_tiny_shots_and_prints_json():
    """6 qubits, 1 step, few shots: every technique runs and reports cost; noisy sits below the ideal 1."""
    result = CliRunner().invoke(
        app,
        [
            "mitigate",
            "kicked-ising",
            "--qubits",
            "6",
            "--steps",
            "1",
            "--shots",
            "200",
            "--sample-shots",
            "50",
            "--pec-samples",
            "10",
            "--pea-samples",
            "4",
            "--learning-shots",
            "100",
            "--noise",
            "p2=0.02,readout=0.01",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ideal"] == 1.0 and report["ideal_method"] == "stabilizer"
    assert report["noisy_method"] == "stabilizer"  # Clifford at theta_h 0, Pauli noise
    rows = {row["technique"]: row for row in report["results"]}
    assert set(rows) == {"noisy", "zne (fold)", "zne (pea)", "pec"}
    assert rows["pec"]["circuits"] == 10 and rows["pec"]["shots"] == 500 and rows["pec"]["gamma"] > 1
    assert rows["zne (pea)"]["circuits"] == 16
    assert rows["noisy"]["value"] < 1
    assert report["learning_circuits"] > 0


def test_the_cli_refuses_bad_input_with_exit_code_2():
    assert main(["mitigate", "kicked-ising", "--steps", "0"]) == 2
