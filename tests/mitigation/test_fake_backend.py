"""An IBM fake backend's calibrated noise (qiskit-ibm-runtime's FakeManilaV2, offline) behind ZNE and REM.

FakeManilaV2 is a 5-qubit line 0-1-2-3-4 whose snapshot has CX errors of about 0.6-1.4 % and symmetric
readout errors of 3.5, 2.2, 9.6, 1.4, 1.9 % on qubits 0..4. A 3-qubit GHZ chain lands on qubits 0-2
unrouted, so readout alone caps its parity <XXX> at prod_q (1 - 2 p_q) ~ 0.717, and gate noise takes it
lower. ZNE only scales gates, so it moves the parity up toward that readout cap and no further; REM with
the device's per-qubit readout errors removes the cap, and REM + ZNE lands near the ideal 1.
"""

import json
import math

import pytest
from mitiq import Observable, PauliString
from qiskit import QuantumCircuit

from qec.cli.main import main
from qec.errors import QecInputError
from qec.mitigation import NoiseSpec, mitigate_workload
from qec.mitigation.backends import aer_backend
from qec.mitigation.noise_models import fake_backend_names
from qec.mitigation.techniques import apply_technique
from qec.mitigation.workloads import workload

pytest.importorskip("qiskit_ibm_runtime")
pytestmark = pytest.mark.filterwarnings("ignore:The input circuit is very short")
MANILA = NoiseSpec(fake_backend="FakeManilaV2")


def test_ghz_parity_on_fake_manila_zne_and_rem_move_it_toward_ideal():
    ghz = workload("ghz", qubits=3)
    backend = aer_backend([ghz.circuit], noise=MANILA, device="cpu", shots=40_000, seed=0, threads=1)
    assert backend.method == "density_matrix" and len(backend.readout_errors) == 5
    readout_cap = math.prod(1 - 2 * backend.readout_errors[q] for q in range(3))
    assert 0.6 < readout_cap < 0.8  # the snapshot's qubit 2 reads out badly

    value = {
        technique: apply_technique(technique, ghz, backend=backend, noise=MANILA, seed=0).value
        for technique in ("none", "zne", "rem", "rem+zne")
    }
    # Standard errors at 40k shots: ~0.003 noisy, ~0.007 zne, ~0.004 rem, ~0.007 rem+zne (measured over seeds).
    assert value["none"] < readout_cap - 0.015  # gate noise on top of readout (measured: 0.688 vs 0.717)
    assert abs(value["zne"] - readout_cap) < abs(value["none"] - readout_cap)  # ZNE removes gate noise only
    assert abs(value["rem"] - ghz.ideal) < abs(value["none"] - ghz.ideal) / 3  # measured ~0.96
    assert abs(value["rem+zne"] - ghz.ideal) < 0.05  # measured ~0.99
    assert abs(value["rem+zne"] - ghz.ideal) < abs(value["rem"] - ghz.ideal) + 0.02


def test_rem_inverts_the_readout_error_of_the_physical_qubit_each_bit_was_measured_on():
    # CX(0, 4) twice is routed with swaps on the line, so virtual qubits end on other physical qubits; the
    # bad-readout qubit 2 (9.6 %) then holds some other virtual qubit, and REM must use its rate, not the
    # rate of the virtual index or of the classical bit.
    circuit = QuantumCircuit(5)
    circuit.x(range(5))
    circuit.cx(0, 4)
    circuit.cx(0, 4)
    circuit.x(range(5))  # identity overall: every <Z_q> is 1
    backend = aer_backend([circuit], noise=MANILA, device="cpu", shots=10_000, seed=1, threads=1)
    noisy, corrected = [], []
    for q in range(5):
        observable = Observable(PauliString("Z", support=(q,)))
        noisy.append(backend.executor(observable).evaluate(circuit)[0])
        corrected.append(backend.executor(observable, readout=backend.readout_rates(MANILA)).evaluate(circuit)[0])
    assert min(noisy) < 0.8  # one virtual qubit sits on physical qubit 2 (measured: 0.76)
    assert min(corrected) > 0.9, corrected  # measured 0.94-0.99; a wrong qubit's rate leaves ~0.79


def test_cli_runs_rem_plus_zne_on_a_fake_backend(capsys):
    assert (
        main(
            [
                "mitigate",
                "ghz",
                "--qubits",
                "2",
                "--noise",
                "fake=FakeManilaV2",
                "--technique",
                "rem+zne",
                "--device",
                "cpu",
                "--shots",
                "4000",
                "--threads",
                "1",
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["ideal"] == 1.0 and out["mitigated"] > out["noisy"] and out["circuits"] == 3


def test_fake_backend_refusals_say_what_to_do():
    assert "FakeManilaV2" in fake_backend_names() and "FakeProviderForBackendV2" not in fake_backend_names()
    with pytest.raises(QecInputError, match="unknown fake backend 'FakeNope'.*FakeManilaV2"):
        mitigate_workload("ghz", qubits=3, noise=NoiseSpec(fake_backend="FakeNope"), device="cpu", threads=1)
    with pytest.raises(QecInputError, match="6 qubits do not fit on FakeManilaV2, which has 5"):
        mitigate_workload("ghz", qubits=6, noise=MANILA, device="cpu", threads=1)
    with pytest.raises(QecInputError, match="p2, readout would be ignored"):
        NoiseSpec.parse("fake=FakeManilaV2,p2=0.01,readout=0.02")
    with pytest.raises(QecInputError, match="pec builds its representations from depolarizing rates"):
        mitigate_workload("ghz", qubits=3, noise=MANILA, technique="pec", device="cpu", threads=1)
    assert NoiseSpec.parse(MANILA.describe()) == MANILA and not MANILA.is_pauli


def test_to_aer_is_the_devices_noise_model_with_its_readout_errors():
    model = MANILA.to_aer()
    assert {"cx", "sx", "x", "measure"} <= set(model.noise_instructions)
    backend = aer_backend([workload("ghz", qubits=2).circuit], noise=MANILA, device="cpu", threads=1)
    applied = {q[0]: error.probabilities[0][1] for q, error in model._local_readout_errors.items()}
    assert applied == pytest.approx(dict(enumerate(backend.readout_errors)))
