"""Heralded noise (erasure_fraction > 0): heralds as tagged detectors, records rewritten, strengths split."""

import math

import numpy as np
import pytest
import stim

from qec import codes
from qec.decoders.heralds import Heralds, herald_detectors, heralded_columns
from qec.errors import QecInputError
from qec.noise import NoiseModel, noise_model


def _surface(distance=3, rounds=3):
    return codes.memory_circuit("surface", distance=distance, rounds=rounds)


def test_zero_fraction_is_the_plain_model():
    circuit = _surface()
    assert noise_model("erasure", 0.01, erasure_fraction=0).apply(circuit) == noise_model("sd6", 0.01).apply(circuit)


@pytest.mark.parametrize("family", ["surface", "color", "bb"])
@pytest.mark.parametrize("name", ["erasure", "heralded-pauli"])
def test_heralded_circuits_are_deterministic_and_tagged(family, name):
    distance = 6 if family == "bb" else 3
    circuit = codes.memory_circuit(family, distance=distance, rounds=2)
    noisy = noise_model(name, 0.01, erasure_fraction=0.5).apply(circuit)
    dem = noisy.detector_error_model(approximate_disjoint_errors=True)  # raises on a non-deterministic detector
    heralds = herald_detectors(dem)
    assert len(heralds) == noisy.num_detectors - circuit.num_detectors > 0
    assert noisy.num_observables == circuit.num_observables
    # without noise every detector and observable is quiet; the herald-free part matches the noiseless circuit
    assert not noise_model(name, 0.0, erasure_fraction=0.5).apply(circuit).compile_detector_sampler().sample(8).any()


def test_heralds_fire_at_their_rate():
    """Each herald fires with its place's heralded strength R_e * q: counted against the total over heralds."""
    circuit = _surface()
    model = noise_model("erasure", 0.02, erasure_fraction=1.0)
    noisy = model.apply(circuit)
    heralds = Heralds.of(noisy.detector_error_model(approximate_disjoint_errors=True))
    shots = 20_000
    events = noisy.compile_detector_sampler(seed=7).sample(shots)
    fired = events[:, heralds.herald_detectors].sum()
    expected = (
        sum(
            instruction.gate_args_copy()[0] * len(instruction.targets_copy())
            for instruction in noisy.flattened()
            if instruction.name == "HERALDED_ERASE"
        )
        * shots
    )
    assert abs(fired - expected) < 5 * math.sqrt(expected)


def test_heralded_records_point_at_the_same_measurements():
    """Detectors of a heralded circuit flip exactly as the plain circuit's under the same unheralded error."""
    circuit = _surface()
    plain = noise_model("sd6", 0.01).apply(circuit)
    heralded = noise_model("erasure", 0.01, erasure_fraction=1e-12).apply(circuit)  # heralds never fire
    plain_dem = plain.detector_error_model(decompose_errors=True)
    heralded_dem = heralded.detector_error_model(decompose_errors=True, approximate_disjoint_errors=True)
    columns = heralded_columns(heralded_dem)
    unheralded = columns.column_heralds < 0
    from qec.decoders.dem_arrays import check_matrices

    plain_columns = check_matrices(plain_dem)
    symptoms = lambda m, keep: {  # noqa: E731
        (tuple(m.check_matrix[:, j].indices), tuple(m.observables_matrix[:, j].indices)) for j in np.flatnonzero(keep)
    }
    assert symptoms(columns.check_matrices, unheralded) == symptoms(plain_columns, np.ones(len(plain_columns.priors)))


def test_erasure_fraction_is_checked_and_recorded():
    with pytest.raises(QecInputError, match="erasure_fraction"):
        noise_model("erasure", 0.01, erasure_fraction=1.5)
    model = noise_model("heralded-pauli", 0.01, pauli="biased", bias=math.inf)
    assert model.erasure_fraction == 0.98
    assert NoiseModel.from_metadata(model.metadata()) == model
    assert "erasure_fraction" not in noise_model("si1000", 0.01).metadata()
    assert (
        NoiseModel.from_metadata(noise_model("si1000", 0.01, erasure_fraction=0.3).metadata()).erasure_fraction == 0.3
    )


def test_pure_heralded_pauli_flips_only_with_its_herald():
    circuit = stim.Circuit("R 0\nTICK\nMR 1\nTICK\nM 0\nDETECTOR rec[-1]")
    noisy = noise_model("heralded-pauli", 0.2, erasure_fraction=1.0).apply(circuit)
    dem = noisy.detector_error_model(approximate_disjoint_errors=True)
    columns = heralded_columns(dem)
    assert (columns.column_heralds >= 0).all()  # every error comes with its herald
