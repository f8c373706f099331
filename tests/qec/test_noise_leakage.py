"""The leakage model: leaks after two-qubit gates, each heralded at the leaked qubit's next measurement."""

import math

import numpy as np
import pytest
import stim

from qec import codes, decoders
from qec.decoders.dem_arrays import decoding_dem
from qec.decoders.heralds import herald_detectors, heralded_columns, heralded_graph
from qec.errors import QecInputError
from qec.noise import HERALD_TAG, NOISE_FAMILIES, NoiseModel, noise_model


def _windows(circuit: stim.Circuit) -> list[int]:
    """The two-qubit gates each qubit took part in since its previous measurement, at each of its measurements
    that closes a window with at least one: the heralds in circuit order, worked out from the noiseless circuit."""
    since: dict[int, int] = {}
    windows = []
    for instruction in circuit.flattened():
        if instruction.name in ("TICK", "DETECTOR", "OBSERVABLE_INCLUDE", "QUBIT_COORDS", "SHIFT_COORDS"):
            continue
        gate = stim.gate_data(instruction.name)
        qubits = [t.value for t in instruction.targets_copy() if t.is_qubit_target]
        if gate.is_unitary and gate.is_two_qubit_gate:
            for qubit in qubits:
                since[qubit] = since.get(qubit, 0) + 1
        elif gate.produces_measurements:
            windows += [since.pop(qubit) for qubit in qubits if since.get(qubit)]
    return windows


def test_zero_fraction_is_sd6():
    circuit = codes.memory_circuit("surface", distance=3, rounds=3)
    assert noise_model("leakage", 0.01, erasure_fraction=0).apply(circuit) == noise_model("sd6", 0.01).apply(circuit)


@pytest.mark.parametrize("family", ["surface", "color", "bb"])
def test_leakage_circuits_are_deterministic_with_one_herald_per_window(family):
    circuit = codes.memory_circuit(family, distance=6 if family == "bb" else 3, rounds=2)
    noisy = noise_model("leakage", 0.01).apply(circuit)
    dem = noisy.detector_error_model(approximate_disjoint_errors=True)  # raises on a non-deterministic detector
    assert len(herald_detectors(dem)) == noisy.num_detectors - circuit.num_detectors == len(_windows(circuit)) > 0
    assert noisy.num_observables == circuit.num_observables
    assert not noisy.without_noise().compile_detector_sampler().sample(16).any()
    # the other places keep their full sd6 channels; each leak is a HERALDED_ERASE of R_e q / 2 = 0.0025
    names = {instruction.name: instruction.gate_args_copy() for instruction in noisy.flattened()}
    assert names["HERALDED_ERASE"] == [0.0025] and names["DEPOLARIZE2"] == [0.005] and names["X_ERROR"] == [0.01]


def test_heralds_fire_at_their_windows_rates():
    """A window of n leak places (probability r each) heralds an odd number of leaks: (1 - (1 - 2r)^n) / 2.
    Counted per window length, each within 5 sigma; a herald that fired on any leak (1 - (1 - r)^n) would be
    about 8 sigma off on the data qubits' 12-gate windows here."""
    circuit = codes.memory_circuit("surface", distance=3, rounds=3)
    p, fraction, shots = 0.02, 1.0, 20_000
    noisy = noise_model("leakage", p, erasure_fraction=fraction).apply(circuit)
    heralds = herald_detectors(noisy.detector_error_model(approximate_disjoint_errors=True))
    events = noisy.compile_detector_sampler(seed=11).sample(shots)[:, heralds]
    windows = np.array(_windows(circuit))
    r = fraction * p / 2
    assert {4, 12} <= set(windows.tolist())
    for n in np.unique(windows):
        fire = (1 - (1 - 2 * r) ** n) / 2
        count = np.count_nonzero(windows == n)
        expected, sigma = shots * count * fire, math.sqrt(shots * count * fire * (1 - fire))
        assert abs(events[:, windows == n].sum() - expected) < 5 * sigma, n


def test_each_herald_follows_its_qubits_measurement():
    circuit = stim.Circuit("R 0 1 2\nTICK\nCX 0 1\nTICK\nCX 0 2\nTICK\nM 0\nTICK\nM 1 2\nDETECTOR rec[-1] rec[-2]")
    noisy = noise_model("leakage", 0.1, erasure_fraction=1.0).apply(circuit)
    heralds = [i for i in noisy.flattened() if i.name == "DETECTOR" and i.tag == HERALD_TAG]
    assert [len(i.targets_copy()) for i in heralds] == [2, 1, 1]  # qubit 0 leaks at two places, 1 and 2 at one
    assert str(noisy).index("M 0") < str(noisy).index("DETECTOR[herald]") < str(noisy).index("M 1 2")
    # each herald is the parity of its leaks' records: sampled records agree
    records = noisy.compile_sampler(seed=3).sample(2000)
    detectors = noisy.compile_m2d_converter().convert(measurements=records, append_observables=False)
    erasures = records[:, [0, 1, 2, 3]]  # HERALDED_ERASE 0 1, then HERALDED_ERASE 0 2
    assert (detectors[:, 0] == erasures[:, 0] ^ erasures[:, 2]).all()
    assert (detectors[:, 1] == erasures[:, 1]).all() and (detectors[:, 2] == erasures[:, 3]).all()


def test_the_heralded_decoders_take_the_dem():
    """Each leak error flips one herald, so the heralded columns and graph are built; a data qubit's herald
    announces leaks from every round."""
    circuit = codes.memory_circuit("surface", distance=3, rounds=3)
    dem = decoding_dem(noise_model("leakage", 0.005).apply(circuit))
    columns = heralded_columns(dem)
    assert columns.heralds.num_heralds == len(_windows(circuit))
    assert (np.diff(columns.herald_offsets) > 0).all()  # every herald announces some error
    assert heralded_graph(dem).heralds.num_heralds == columns.heralds.num_heralds


@pytest.mark.parametrize("decoder", ["pymatching", "bposd"])
def test_decoders_decode_leakage(decoder):
    """d=5 surface code, 5 rounds, p=0.003 with R_e=0.5: measured 24/2000 failures (pymatching, herald-blind; 20
    herald-aware) and 16-17 (bposd) with this seed; a decoder of a wrong DEM fails about half the shots."""
    circuit = codes.memory_circuit("surface", distance=5, rounds=5)
    noisy = noise_model("leakage", 0.003).apply(circuit)
    compiled = decoders.get(decoder).compile_decoder_for_dem(dem=decoding_dem(noisy))
    events, observables = noisy.compile_detector_sampler(seed=5).sample(
        2000, separate_observables=True, bit_packed=True
    )
    predictions = compiled.decode_shots_bit_packed(bit_packed_detection_event_data=events)
    assert (predictions != observables).any(axis=1).sum() < 60


def test_leakage_is_a_family_recorded_whole():
    family = NOISE_FAMILIES["leakage"]
    assert family.scan_range and "heralded at its next measurement" in family.description
    model = noise_model("leakage", 0.003)
    assert model.erasure_fraction == 0.5 and model.herald == "leak"
    assert model.metadata() == {"noise": "leakage", "p": 0.003, "erasure_fraction": 0.5}
    assert NoiseModel.from_metadata(model.metadata()) == model
    assert (
        NoiseModel.from_metadata(noise_model("leakage", 0.003, erasure_fraction=0.2).metadata()).erasure_fraction == 0.2
    )
    assert model.describe() == "leakage(p=0.003, R_e=0.5)"
    with pytest.raises(QecInputError, match="Pauli channel"):
        noise_model("leakage", 0.003, pauli="biased")
