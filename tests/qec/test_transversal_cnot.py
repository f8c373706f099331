"""The `cnot` experiment (qec.transversal_cnot): deterministic under every noise model, detectors that follow the
CNOT's propagation, circuit distance d on the rotated surface code, and a bb code that builds and decodes."""

import numpy as np
import pytest
import stim

from qec import codes, decoders, noise
from qec.codes.distance import circuit_distance
from qec.decoders.blocks import tag_block
from qec.decoders.dem_arrays import decoding_dem
from qec.errors import QecInputError
from qec.transversal_cnot import build_cnot, cnot_operations, surface_css_code

LAYOUTS = [(1, 1), (2, 0), (3, 2)]  # (cnots, rounds_between)


@pytest.mark.parametrize("basis", ["X", "Z"])
@pytest.mark.parametrize("cnots, rounds_between", LAYOUTS)
@pytest.mark.parametrize("distance", [3, 5])
def test_deterministic_under_every_noise_model(distance, basis, cnots, rounds_between):
    circuit = build_cnot(
        codes.family("surface"), distance=distance, rounds=2, basis=basis, cnots=cnots, rounds_between=rounds_between
    )
    assert not circuit.compile_detector_sampler(seed=1).sample(256).any()
    for name in ("sd6", "si1000", "uniform"):
        noisy = noise.noise_model(name, 0.001).apply(circuit)
        # Raises on a non-deterministic detector or observable; d = 3 even decomposes into graphlike parts.
        noisy.detector_error_model(decompose_errors=True, ignore_decomposition_failures=distance > 3)
    checks = distance * distance - 1
    total_rounds = 4 + (cnots - 1) * rounds_between
    # both blocks: half the checks in round 0 and at the end, all of them in every later round
    assert circuit.num_detectors == 2 * (checks // 2 * 2 + checks * (total_rounds - 1))
    assert circuit.num_observables == 2


def test_unrotated_surface_is_deterministic():
    circuit = build_cnot(codes.family("unrotated-surface"), distance=3, rounds=2, basis="X", cnots=2)
    noise.noise_model("si1000", 0.001).apply(circuit).detector_error_model(decompose_errors=True)


def test_tags_say_basis_and_block():
    circuit = build_cnot(codes.family("surface"), distance=3, rounds=2, basis="Z")
    tags = [instruction.tag for instruction in circuit if instruction.name == "DETECTOR"]
    assert {tag_block(tag) for tag in tags} == {0, 1}
    assert all(tag.startswith("basis=X,") or tag.startswith("basis=Z,") for tag in tags)
    observables = [instruction.tag for instruction in circuit if instruction.name == "OBSERVABLE_INCLUDE"]
    assert observables == ["basis=Z,block=0", "basis=Z,block=1"]


def _with_error(circuit: stim.Circuit, *, after_tick: int, gate: str, qubit: int) -> stim.DetectorErrorModel:
    """The DEM of `circuit` with one `gate`(0.1) on `qubit` after its `after_tick`-th TICK."""
    ticks = [i for i, instruction in enumerate(circuit) if instruction.name == "TICK"]
    noisy = circuit.copy()
    noisy.insert(ticks[after_tick] + 1, stim.CircuitInstruction(gate, [qubit], [0.1]))
    return noisy.detector_error_model()


@pytest.mark.parametrize("basis", ["X", "Z"])
def test_errors_propagate_through_the_cnot(basis):
    """Z memory: an X error on the control before its first round flips both blocks' Z logicals (X_c -> X_c X_t)
    and fires only the control's detectors (the target's compare with the propagated checks); right after the CNOT
    it flips the control's logical alone. X memory: the same for a Z error on the target (Z_t -> Z_c Z_t)."""
    code = surface_css_code(distance=3)
    circuit = build_cnot(codes.family("surface"), distance=3, rounds=1, basis=basis)
    logical = code.logical_z[0] if basis == "Z" else code.logical_x[0]
    block = 0 if basis == "Z" else 1
    qubit = block * (code.n + code.checks) + int(np.flatnonzero(logical)[0])
    gate = "X_ERROR" if basis == "Z" else "Z_ERROR"
    dem_blocks = [tag_block(i.tag) for i in circuit.detector_error_model().flattened() if i.type == "detector"]
    cnot_tick = len(code.schedule.layers) + 2  # TICKs: reset, the round's CNOT layers, its measurement, the CNOT
    before = _with_error(circuit, after_tick=0, gate=gate, qubit=qubit)
    after = _with_error(circuit, after_tick=cnot_tick, gate=gate, qubit=qubit)
    for dem, flipped in ((before, {0, 1}), (after, {block})):
        (error,) = [i for i in dem.flattened() if i.type == "error"]
        targets = error.targets_copy()
        assert {t.val for t in targets if t.is_logical_observable_id()} == flipped
        assert {dem_blocks[t.val] for t in targets if t.is_relative_detector_id()} == {block}


@pytest.mark.parametrize("basis", ["X", "Z"])
def test_circuit_distance_is_d_at_distance_3(basis):
    circuit = build_cnot(codes.family("surface"), distance=3, rounds=2, basis=basis, cnots=2, rounds_between=1)
    found = circuit_distance(noise.noise_model("sd6", 0.001).apply(circuit), max_seconds=5)
    assert (found.value, found.exact) == (3, True)


def test_graphlike_distance_is_5_at_distance_5():
    """An upper bound (Stim's shortest graphlike error among the graphlike mechanisms); the d = 3 test is exact."""
    circuit = build_cnot(codes.family("surface"), distance=5, rounds=3, basis="Z", cnots=2, rounds_between=0)
    noisy = noise.noise_model("sd6", 0.001).apply(circuit)
    assert len(noisy.shortest_graphlike_error(ignore_ungraphlike_errors=True)) == 5


def test_bb_code_builds_is_deterministic_and_decodes():
    circuit = build_cnot(codes.family("bb"), distance=6, rounds=2, basis="Z")
    assert (circuit.num_observables, circuit.num_qubits) == (24, 288)
    assert not circuit.compile_detector_sampler(seed=2).sample(64).any()
    for name in ("sd6", "si1000", "uniform"):
        noise.noise_model(name, 0.001).apply(circuit).detector_error_model()
    noisy = noise.noise_model("si1000", 0.001).apply(circuit)
    dem = decoding_dem(noisy)  # too many symptoms per case for Stim to decompose: left whole
    events, flips = noisy.compile_detector_sampler(seed=3).sample(200, separate_observables=True, bit_packed=True)
    predictions = (
        decoders.get("bposd")
        .compile_decoder_for_dem(dem=dem)
        .decode_shots_bit_packed(bit_packed_detection_event_data=events)
    )
    # 0 of 500 failed at this p in a measured run; undecoded, most shots flip some observable
    assert int((predictions != flips).any(axis=1).sum()) <= 3 < int(flips.any(axis=1).sum())


def test_refusals():
    family = codes.family("surface")
    with pytest.raises(QecInputError, match="cnots must be a whole number >= 1"):
        build_cnot(family, distance=3, rounds=1, basis="Z", cnots=0)
    with pytest.raises(QecInputError, match="rounds_between must be a whole number >= 0"):
        build_cnot(family, distance=3, rounds=1, basis="Z", rounds_between=-1)
    with pytest.raises(QecInputError, match="needs a CSS code: 'color' is not one"):
        build_cnot(codes.family("color"), distance=3, rounds=1, basis="Z")
    assert cnot_operations(3, {"cnots": 4, "rounds_between": 1}) == 4
