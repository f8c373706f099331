"""Noise models put each channel where their docstring says, at the stated strengths."""

import pytest
import stim

from qec import codes, noise
from qec.errors import QecInputError


def stim_uniform(task: str, distance: int, p: float) -> stim.Circuit:
    return stim.Circuit.generated(
        task,
        distance=distance,
        rounds=distance,
        after_clifford_depolarization=p,
        after_reset_flip_probability=p,
        before_measure_flip_probability=p,
        before_round_data_depolarization=p,
    )


@pytest.mark.parametrize("basis", ["X", "Z"])
@pytest.mark.parametrize("distance", [3, 5, 7])
def test_uniform_gives_stims_own_dem_for_the_rotated_surface_code(basis, distance):
    ours = noise.noise_model("uniform", 0.003).apply(
        codes.memory_circuit("surface", distance=distance, rounds=distance, basis=basis)
    )
    theirs = stim_uniform(f"surface_code:rotated_memory_{basis.lower()}", distance, 0.003)
    assert ours.detector_error_model() == theirs.detector_error_model()


def test_uniform_gives_stims_own_dem_for_the_repetition_code():
    ours = noise.noise_model("uniform", 0.01).apply(codes.memory_circuit("repetition", distance=5, rounds=5))
    assert ours.detector_error_model() == stim_uniform("repetition_code:memory", 5, 0.01).detector_error_model()


def channel_totals(circuit: stim.Circuit) -> dict[tuple[str, float], int]:
    """How many qubit-applications of each (channel, probability) the flattened circuit has."""
    totals: dict[tuple[str, float], int] = {}
    for instruction in circuit.flattened():
        gate = stim.gate_data(instruction.name)
        if gate.is_noisy_gate and not gate.produces_measurements:
            key = (instruction.name, round(instruction.gate_args_copy()[0], 12))
            totals[key] = totals.get(key, 0) + len(instruction.targets_copy())
    return totals


def test_code_capacity_is_data_noise_once():
    clean = codes.memory_circuit("surface", distance=3, rounds=3)
    noisy = noise.noise_model("code-capacity", 0.05, pauli="independent").apply(clean)
    assert channel_totals(noisy) == {("X_ERROR", 0.05): 9, ("Z_ERROR", 0.05): 9}


def test_phenomenological_is_data_noise_every_round_and_ancilla_flips():
    clean = codes.memory_circuit("surface", distance=3, rounds=4)
    noisy = noise.noise_model("phenomenological", 0.02).apply(clean)
    assert channel_totals(noisy) == {("DEPOLARIZE1", 0.02): 9 * 4, ("X_ERROR", 0.02): 8 * 4}


def test_si1000_strengths_relative_to_p():
    clean = codes.memory_circuit("repetition", distance=3, rounds=2)
    totals = channel_totals(noise.noise_model("si1000", 0.01).apply(clean))
    probabilities = {key[1] for key in totals}
    assert ("DEPOLARIZE2", 0.01) in totals  # CX
    assert ("X_ERROR", 0.05) in totals  # measurement flips 5p
    assert ("X_ERROR", 0.02) in totals  # reset flips 2p
    assert ("DEPOLARIZE1", 0.02) in totals  # data idle while ancillas are measured: resonator idle 2p
    assert ("DEPOLARIZE1", 0.001) in totals  # idle in gate layers p/10
    assert probabilities <= {0.01, 0.05, 0.02, 0.001}


def test_sd6_idles_every_untouched_qubit():
    clean = codes.memory_circuit("repetition", distance=3, rounds=1)
    noisy = noise.noise_model("sd6", 0.01).apply(clean)
    # Layers: reset all | CX 0-1 2-3 (qubit 4 idles) | CX 2-1 4-3 (qubit 0 idles) | MR 1 3 (0 2 4 idle)
    assert channel_totals(noisy)[("DEPOLARIZE1", 0.01)] == 1 + 1 + 3


def test_biased_channel_has_the_stated_bias():
    noisy = noise.noise_model("biased", 0.03, bias=100).apply(codes.memory_circuit("surface", distance=3, rounds=1))
    channel = next(i for i in noisy.flattened() if i.name == "PAULI_CHANNEL_1")
    px, py, pz = channel.gate_args_copy()
    assert px == py and pz / (px + py) == pytest.approx(100) and px + py + pz == pytest.approx(0.03)


def test_repeat_blocks_survive_so_many_rounds_stay_small():
    noisy = noise.noise_model("si1000", 0.001).apply(codes.memory_circuit("surface", distance=3, rounds=1000))
    assert len(str(noisy)) < 20_000
    assert noisy.num_detectors == 4 + 8 * 999 + 4  # Z checks in round 1, all 8 after, 4 from the data


def test_code_capacity_on_a_circuit_whose_first_round_is_inside_a_repeat():
    """The color code starts its rounds inside REPEAT: the first iteration is unrolled, the rest repeats."""
    noisy = noise.noise_model("code-capacity", 0.01).apply(codes.memory_circuit("color", distance=3, rounds=5))
    assert channel_totals(noisy) == {("DEPOLARIZE1", 0.01): 7}


@pytest.mark.parametrize(
    "args,kwargs,message",
    [
        (("sd6", 1.5), {}, r"p must be a probability in \[0, 1\], got 1.5"),
        (("sd6", -0.1), {}, r"p must be a probability in \[0, 1\], got -0.1"),
        (("si1000", 0.3), {}, r"use p <= 0.2"),
        (("nosuch", 0.1), {}, "choose one of none, code-capacity"),
        (("sd6", 0.1), {"pauli": "independent"}, "takes the Pauli channel depolarizing"),
        (("biased", 0.1), {"bias": -1}, "bias eta must be a number > 0"),
    ],
)
def test_bad_noise_parameters(args, kwargs, message):
    with pytest.raises(QecInputError, match=message):
        noise.noise_model(*args, **kwargs)


def test_already_noisy_circuit_is_refused():
    noisy = stim_uniform("surface_code:rotated_memory_z", 3, 0.001)
    with pytest.raises(QecInputError, match="already has noise"):
        noise.noise_model("sd6", 0.001).apply(noisy)
