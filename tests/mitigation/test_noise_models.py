"""Noise specs: parsing, validation, the Aer channels, and the Pauli twirl Stim gets."""

import math

import numpy as np
import pytest
from qiskit.quantum_info import process_fidelity

from qec.errors import QecInputError
from qec.mitigation.noise_models import NoiseSpec


def test_parse_round_trips_through_describe():
    spec = NoiseSpec.parse("p1=0.001,p2=0.01,readout=0.02,t1=50,t2=70,rotation=0.05")
    assert spec == NoiseSpec(0.001, 0.01, 0.02, 50.0, 70.0, over_rotation=0.05)
    assert NoiseSpec.parse(spec.describe()) == spec
    assert NoiseSpec().describe() == "none"


@pytest.mark.parametrize("text", ["p2=1.5", "readout=-0.1", "p1=2"])
def test_rate_outside_unit_interval_refused(text):
    with pytest.raises(QecInputError, match=r"must be a probability in \[0, 1\]"):
        NoiseSpec.parse(text)


@pytest.mark.parametrize(
    "text, message",
    [
        ("p3=0.1", "keys p1, p2, readout"),
        ("p2=abc", "needs a number"),
        ("t1=10,t2=30", "unphysical"),
        ("t1=-1", "must be > 0"),
    ],
)
def test_bad_noise_text_says_what_is_allowed(text, message):
    with pytest.raises(QecInputError, match=message):
        NoiseSpec.parse(text)


def test_depolarizing_channels_use_stims_convention():
    spec = NoiseSpec(depolarizing_1q=0.03, depolarizing_2q=0.15)
    one = spec.channel_1q().to_quantumchannel()
    two = spec.channel_2q().to_quantumchannel()
    # Process fidelity of DEPOLARIZE(p) is 1 - p: the identity keeps probability 1 - p.
    assert math.isclose(process_fidelity(one), 0.97, abs_tol=1e-12)
    assert math.isclose(process_fidelity(two), 0.85, abs_tol=1e-12)
    assert NoiseSpec().channel_1q() is None and NoiseSpec().channel_2q() is None


def test_twirl_of_thermal_relaxation():
    spec = NoiseSpec(t1_us=10, t2_us=5)
    px, py, pz = spec.pauli_twirled_1q(1000.0)  # t = 1 us
    d1, d2 = 1 - math.exp(-0.1), 1 - math.exp(-0.2)
    assert np.allclose([px, py, pz], [d1 / 4, d1 / 4, d2 / 2 - d1 / 4])


def test_twirl_of_over_rotation_composes_with_relaxation():
    x, y, z = NoiseSpec(over_rotation=0.2).pauli_twirled_1q(50.0)
    assert math.isclose(x, math.sin(0.1) ** 2) and y == 0 and z == 0
    assert NoiseSpec(over_rotation=0.2).is_pauli is False and NoiseSpec(depolarizing_2q=0.1, readout=0.1).is_pauli


def test_fake_backend_needs_its_package():
    try:
        import qiskit_ibm_runtime  # noqa: F401

        pytest.skip("qiskit-ibm-runtime is installed: the fake backends are available")
    except ImportError:
        pass
    with pytest.raises(QecInputError, match="needs the package 'qiskit-ibm-runtime'"):
        NoiseSpec.parse("fake=FakeManilaV2").to_aer()
