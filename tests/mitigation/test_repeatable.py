"""What a run reports is true and repeatable (issue 24 point 7): a seed fixes every technique (the same `--seed`
gives the same values whatever Python's hash seed, and a second run in one process repeats the first); OpenQASM 2
without its version line is read; gates a user's NoiseModel leaves noiseless, REM with nothing to invert and Mitiq's
warnings are one line each; an extrapolation's systematic error is reported beside its shot noise."""

import json
import os
import subprocess
import sys
from pathlib import Path

import cirq
import numpy as np
import pytest
from mitiq import pec
from qiskit import QuantumCircuit
from qiskit_aer.noise import NoiseModel, depolarizing_error

from qec.cli.main import main
from qec.mitigation import NoiseSpec, mitigate, mitigate_workload
from qec.mitigation.techniques import PecOptions, _in_fixed_order
from qec.mitigation.user_circuits import load_circuit

# Two T gates per qubit: CDR's nearest Clifford angle to pi/4 is a tie, which Mitiq breaks with np.random.
T_CIRCUIT = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
h q[0];
t q[0];
cx q[0],q[1];
t q[1];
h q[1];
t q[0];
cx q[0],q[1];
h q[0];
"""

_RUNS = """
import json, sys
from qec.cli.main import main
for args in json.loads(sys.argv[1]):
    main(args)
"""


def _cli_values(hash_seed: str, runs: list[list[str]], *, cwd: Path) -> list[tuple[float, float]]:
    """The runs' (value, error) in a fresh interpreter with this hash seed, started outside the checkout (whose
    qec/ folder is not the installed package)."""
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run(
        [sys.executable, "-c", _RUNS, json.dumps(runs)], env=env, capture_output=True, text=True, check=True, cwd=cwd
    )
    reports = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(reports) == len(runs), done.stderr[-2000:]
    return [(report["mitigated"], report["standard_error"]) for report in reports]


@pytest.mark.slow
def test_the_same_seed_gives_the_same_values_under_any_hash_seed(tmp_path: Path):
    qasm = tmp_path / "t.qasm"
    qasm.write_text(T_CIRCUIT)
    common = ["--shots", "400", "--seed", "5", "--threads", "1", "--json"]
    runs = [
        ["mitigate", "tfim", "--qubits", "3", "--technique", "pec", "--noise", "p2=0.02", "--pec-samples", "30"],
        ["mitigate", "tfim", "--qubits", "3", "--technique", "rem", "--noise", "p2=0.02,readout=0.03"],
        ["mitigate", "circuit", str(qasm), "--observable", "ZZ + XI", "--technique", "cdr", "--noise", "p2=0.03"],
    ]
    runs = [run + common for run in runs]
    assert _cli_values("1", runs, cwd=tmp_path) == _cli_values("2", runs, cwd=tmp_path)


def test_rem_and_cdr_repeat_within_one_process(tmp_path: Path):
    first, second = (
        mitigate_workload(
            "tfim",
            qubits=3,
            noise=NoiseSpec.parse("p2=0.02,readout=0.03"),
            technique="rem",
            shots=400,
            seed=5,
            threads=1,
            device="cpu",
        )
        for _ in range(2)
    )
    assert (first.mitigated, first.standard_error) == (second.mitigated, second.standard_error)
    qasm = tmp_path / "t.qasm"
    qasm.write_text(T_CIRCUIT)
    circuit = load_circuit(str(qasm))
    first, second = (
        mitigate(circuit, "ZZ + XI", noise="p2=0.03", technique="cdr", shots=400, seed=5, threads=1, device="cpu")
        for _ in range(2)
    )
    assert (first.mitigated, first.standard_error) == (second.mitigated, second.standard_error)


def test_pec_representations_sample_the_same_circuits_in_any_term_order():
    """Another hash seed gives Mitiq's terms of a two-qubit gate in another order; ours are put in one order."""
    q = cirq.LineQubit.range(2)
    representation = pec.represent_operation_with_global_depolarizing_noise(cirq.Circuit(cirq.CNOT(*q)), 0.3)
    terms = representation.basis_expansion
    permuted = pec.OperationRepresentation(
        representation.ideal,
        [terms[0][1]] + [operation for _, operation in reversed(terms[1:])],
        [terms[0][0]] + [coeff for coeff, _ in reversed(terms[1:])],
    )

    def drawn(rep: pec.OperationRepresentation) -> list[str]:
        rng = np.random.RandomState(3)
        return [str(rep.sample(rng)[0].circuit) for _ in range(40)]

    assert drawn(representation) != drawn(permuted)  # what a different hash order did to PEC
    assert drawn(_in_fixed_order(representation)) == drawn(_in_fixed_order(permuted))


def test_openqasm2_without_its_version_line_is_read(tmp_path: Path, capsys):
    qasm = tmp_path / "headless.qasm"
    qasm.write_text(T_CIRCUIT.replace("OPENQASM 2.0;\n", ""))
    args = ["mitigate", "circuit", str(qasm), "--observable", "ZZ", "--technique", "none", "--shots", "200"]
    assert main(args + ["--threads", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ideal"] is not None


def test_gates_a_users_noise_model_leaves_noiseless_are_named_in_one_warning():
    model = NoiseModel()
    model.add_all_qubit_quantum_error(depolarizing_error(0.02, 2), ["cx"])
    circuit = QuantumCircuit(2)
    circuit.h(0), circuit.cx(0, 1), circuit.t(1)
    report = mitigate(circuit, "ZZ", noise=model, technique="zne", shots=500, device="cpu", threads=1)
    assert report.warnings[0] == "the NoiseModel has no error for rz, sx: those gates run noiseless"
    assert "warning: the NoiseModel has no error for rz, sx" in report.describe()


def test_rem_without_readout_error_says_so_and_mitiqs_warnings_are_one_line_each():
    rem = mitigate_workload("ghz", qubits=3, noise=NoiseSpec(depolarizing_2q=0.02), technique="rem", shots=300)
    assert rem.warnings == ("rem: the noise has no readout error, so there is nothing for REM to invert",)
    pec = mitigate_workload(
        "ghz", qubits=3, noise=NoiseSpec(depolarizing_2q=0.02), technique="pec", options=PecOptions(20), shots=300
    )
    assert pec.warnings == (
        "pec: the error bar is the spread of only 20 signed samples, itself uncertain by about 16%, and blind to "
        "sign flips too rare to be drawn: use 30 samples or more",
        "Mitiq (2 times): No representation found for q_0: ───H───.",
    )
    assert all("\n" not in line for line in rem.warnings + pec.warnings)


def test_an_extrapolation_reports_its_systematic_error_beside_shot_noise(capsys):
    args = ["mitigate", "tfim", "--qubits", "3", "--technique", "zne", "--noise", "p2=0.05", "--shots", "500"]
    assert main(args + ["--threads", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["standard_error_covers"].startswith("shot noise")
    assert report["systematic_error"] > 0 and "linear" in report["systematic_error_covers"]
    assert main(args + ["--threads", "1"]) == 0
    assert "  systematic ±" in capsys.readouterr().out
    rem = mitigate_workload("ghz", qubits=3, noise=NoiseSpec(readout=0.05), technique="rem", shots=300)
    assert rem.systematic_error is None and rem.as_dict()["systematic_error_covers"] is None
