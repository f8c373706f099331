"""TREX (`qec.mitigation.trex`, run by `Estimator` at resilience level 1) against REM on the same circuit under
asymmetric readout error.

The circuit: X on qubit 0, a Bell pair on qubits 1-2; the observable Z0 + X1X2 + Z1Z2 (Qiskit labels "IIZ",
"XXI", "ZZI"), ideal 1 (-1 + 1 + 1). Every qubit reads 0 as 1 with 4% and 1 as 0 with 10%. Unmitigated:
-0.80 + 0.743 + 0.743 = 0.686. REM here inverts each qubit's symmetric flip at the mean rate 7% (what qec's REM
does with a NoiseModel, `runs.model_readout_rates`): Z0 -> -0.80 / 0.86 = -0.930, each two-qubit parity
0.7432 / 0.7396 = 1.005, so REM keeps a bias of about +0.08. TREX twirls the readout into a symmetric one,
learns its attenuation on |000> and is unbiased.
"""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp
from qiskit_aer.noise import NoiseModel, ReadoutError

from qec.errors import QecInputError
from qec.mitigation import Estimator, mitigate, trex

FLIP_0_TO_1, FLIP_1_TO_0 = 0.04, 0.10


def _readout_model() -> NoiseModel:
    model = NoiseModel()
    error = ReadoutError([[1 - FLIP_0_TO_1, FLIP_0_TO_1], [FLIP_1_TO_0, 1 - FLIP_1_TO_0]])
    model.add_all_qubit_readout_error(error)
    return model


def _circuit() -> QuantumCircuit:
    circuit = QuantumCircuit(3)
    circuit.x(0)
    circuit.h(1)
    circuit.cx(1, 2)
    return circuit


OBSERVABLE = SparsePauliOp(["IIZ", "XXI", "ZZI"])  # Qiskit order: qubit 0 rightmost
IDEAL = 1.0


def test_trex_is_unbiased_where_rem_keeps_a_bias():
    """40,000 shots per configuration: TREX within 5 of its stds of the ideal; REM's bias (+0.08 predicted) within
    5 of its standard errors of that prediction and more than 5 away from the ideal, so TREX's error is the smaller
    (seeded: 0.012 against 0.066)."""
    shots = 40_000
    noisy = Estimator(backend=_readout_model(), options={"resilience_level": 0, "seed_estimator": 3})
    mitigated = Estimator(backend=_readout_model(), options={"resilience_level": 1, "seed_estimator": 3})
    precision = 1 / np.sqrt(shots)
    raw = noisy.run([(_circuit(), OBSERVABLE)], precision=precision).result()[0]
    twirled = mitigated.run([(_circuit(), OBSERVABLE)], precision=precision).result()[0]
    rem = mitigate(_circuit(), "ZII + IXX + IZZ", noise=_readout_model(), technique="rem", shots=shots, seed=3)

    assert abs(float(raw.data.evs) - 0.686) < 0.02  # the unmitigated value the docstring predicts
    trex_error = abs(float(twirled.data.evs) - IDEAL)
    assert trex_error <= 5 * float(twirled.data.stds)
    assert rem.standard_error is not None and abs(rem.mitigated - IDEAL - 0.08) < 5 * rem.standard_error
    assert abs(rem.mitigated - IDEAL) > 5 * rem.standard_error
    assert trex_error < abs(rem.mitigated - IDEAL)
    # cost: TREX runs 32 twirls of each of 2 measurement groups and 32 calibration circuits; REM 2 circuits
    assert twirled.metadata["circuits"] == 96 and twirled.metadata["calibration_circuits"] == 32
    assert rem.circuits == 2


def test_trex_on_a_fake_device_corrects_its_readout():
    """FakeManilaV2's calibrated readout errors (2-3%): |1> on two qubits, <Z0 Z1> = 1 and <Z0> = -1."""
    from qiskit.transpiler import generate_preset_pass_manager
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    device = FakeManilaV2()
    circuit = QuantumCircuit(2)
    circuit.x([0, 1])
    isa = generate_preset_pass_manager(optimization_level=1, backend=device, seed_transpiler=1).run(circuit)
    observables = [SparsePauliOp("ZZ").apply_layout(isa.layout), SparsePauliOp("IZ").apply_layout(isa.layout)]
    results = {}
    for level in (0, 1):
        estimator = Estimator(backend=device, options={"resilience_level": level, "seed_estimator": 5})
        results[level] = estimator.run([(isa, observables)], precision=0.005).result()[0].data
    exact = np.array([1.0, -1.0])
    assert np.all(np.abs(results[0].evs - exact) > 0.01)  # the device's readout error shows
    assert np.all(np.abs(results[1].evs - exact) <= 5 * results[1].stds + 0.01)  # + gate and relaxation errors


def test_extinguish_refuses_an_attenuation_it_cannot_divide_by():
    with pytest.raises(QecInputError, match="too close to 0"):
        trex.extinguish(0.01, 0.01, attenuation=0.02, attenuation_std=0.01)


def test_masks_flip_back_exactly():
    """Noiseless: a twirled measurement of |1>|0> flipped back reads exactly (-1, 1) with every mask."""
    estimator = Estimator(options={"seed_estimator": 0, "twirling": {"num_randomizations": 8}})
    circuit = QuantumCircuit(2)
    circuit.x(0)
    result = estimator.run([(circuit, ["IZ", "ZI", "ZZ"])]).result()[0]
    assert result.data.evs.tolist() == [-1.0, 1.0, -1.0]
    assert result.metadata["num_randomizations"] == 8 and result.data.stds.tolist() == [0.0, 0.0, 0.0]
