"""Basis inference: Stim's generated circuits and qec's own (tags stripped) come out as they are built, Stim's
detecting regions agree with the backward pass, IBM's [[72,12,6]] circuit is decoded on its Z detectors."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import stim

from qec.codes.css import css
from qec.decoders.basis import BasisAwareCompiledDecoder, circuit_basis, dem_basis, restrict_to_basis, tag_basis
from qec.decoders.basis_inference import (
    has_basis_tags,
    infer_bases,
    infer_detector_bases,
    tagged_circuit,
    tagging_note,
    with_inferred_bases,
)
from qec.decoders.bp_osd import BpOsdDecoder
from qec.decoders.dem_arrays import decoding_dem
from qec.memory import noisy_memory_circuit

IBM_FOLDER = Path(__file__).resolve().parents[3] / "shared" / "data" / "ibm-bb"
HAMMING = np.array([[1, 0, 1, 0, 1, 0, 1], [0, 1, 1, 0, 0, 1, 1], [0, 0, 0, 1, 1, 1, 1]], dtype=np.uint8)
STIM_CSS = [
    "surface_code:rotated_memory_x",
    "surface_code:rotated_memory_z",
    "surface_code:unrotated_memory_x",
    "surface_code:unrotated_memory_z",
    "repetition_code:memory",
]


def stripped(circuit: stim.Circuit) -> stim.Circuit:
    return stim.Circuit(re.sub(r"\[basis=[XZ]\]", "", str(circuit)))


def tags(circuit: stim.Circuit) -> tuple[list[str | None], list[str | None]]:
    """The basis tags of the detectors (in order) and of the observables (by index) of a tagged circuit."""
    flat = circuit.flattened()
    observables: list[str | None] = [None] * circuit.num_observables
    for instruction in flat:
        if instruction.name == "OBSERVABLE_INCLUDE":
            observables[int(instruction.gate_args_copy()[0])] = tag_basis(instruction.tag)
    return [tag_basis(i.tag) for i in flat if i.name == "DETECTOR"], observables


def generated_truth(circuit: stim.Circuit, memory_basis: str) -> list[str]:
    """Each detector's type in Stim's generated surface and repetition circuits, read off their layout: a
    detector with a data measurement (a qubit measured once, at the end) is of the memory basis; any other compares
    an ancilla's outcomes, of an X check where that ancilla gets H gates, else of a Z check."""
    flat = circuit.flattened()
    measured: list[int] = []
    with_h: set[int] = set()
    truth = []
    for instruction in flat:
        qubits = [t.value for t in instruction.targets_copy() if t.is_qubit_target]
        if instruction.name == "H":
            with_h.update(qubits)
        elif instruction.name in ("M", "MR", "MX"):
            measured += qubits
    counts = {q: measured.count(q) for q in set(measured)}
    records = 0
    for instruction in flat:
        if instruction.name in ("M", "MR", "MX"):
            records += len(instruction.targets_copy())
        elif instruction.name == "DETECTOR":
            qubits = [measured[records + t.value] for t in instruction.targets_copy()]
            if any(counts[q] == 1 for q in qubits):
                truth.append(memory_basis)
            else:
                truth.append("X" if qubits[0] in with_h else "Z")
    return truth


@pytest.mark.parametrize("name", STIM_CSS)
@pytest.mark.parametrize("distance", [3, 4])
def test_stims_generated_css_memories_come_out_as_built(name, distance):
    circuit = stim.Circuit.generated(
        name, distance=distance, rounds=3, after_clifford_depolarization=0.001, before_measure_flip_probability=0.001
    )
    memory_basis = "X" if name.endswith("_x") else "Z"
    inference = infer_bases(circuit)
    assert list(inference.detectors) == generated_truth(circuit, memory_basis)
    assert inference.observables == (memory_basis,) and inference.basis == memory_basis and inference.reason == ""
    assert infer_detector_bases(circuit) == list(inference.detectors)


def test_the_xyz_color_code_is_not_of_one_basis():
    circuit = stim.Circuit.generated("color_code:memory_xyz", distance=3, rounds=3)
    inference = infer_bases(circuit)
    # The last detectors (the data measured in Z) see only Z; the others cycle through X, Y and Z.
    assert inference.detectors.count(None) > inference.detectors.count("Z") > 0 and "X" not in inference.detectors
    assert inference.observables == (None,) and inference.basis is None
    assert "neither X- nor Z-type" in inference.reason
    assert with_inferred_bases(circuit) is circuit
    assert dem_basis(decoding_dem(circuit)) is None
    note = tagging_note(circuit)
    assert note.startswith("decoded whole: D0 (and") and "DETECTOR[basis=Z]" in note and "\n" not in note


def regions_rule(circuit: stim.Circuit) -> list[str | None]:
    """The module's rule from Stim's own detecting regions, for circuits with a TICK around every layer: X and Z
    components on the qubits of each layer's two-qubit gates at the ticks just before and after it."""
    layers: list[set[int]] = [set()]
    for instruction in circuit.flattened():
        if instruction.name == "TICK":
            layers.append(set())
        elif stim.gate_data(instruction.name).is_two_qubit_gate and stim.gate_data(instruction.name).is_unitary:
            layers[-1].update(t.value for t in instruction.targets_copy())
    seen: dict[str, set[str]] = {}
    for target, ticks in circuit.detecting_regions().items():
        kinds = seen.setdefault(str(target), set())
        for tick, pauli in ticks.items():
            xs, zs = pauli.to_numpy()
            for layer in (tick, tick + 1):  # tick k is between layer k (before it) and layer k + 1 (after it)
                qubits = sorted(layers[layer]) if layer < len(layers) else []
                if xs[qubits].any():
                    kinds.add("X")
                if zs[qubits].any():
                    kinds.add("Z")
    names = [f"D{k}" for k in range(circuit.num_detectors)] + [f"L{k}" for k in range(circuit.num_observables)]
    return [next(iter(seen[name])) if len(seen.get(name, ())) == 1 else None for name in names]


@pytest.mark.parametrize(
    "name", ["surface_code:rotated_memory_x", "surface_code:unrotated_memory_z", "color_code:memory_xyz"]
)
def test_the_backward_pass_agrees_with_stims_detecting_regions(name):
    circuit = stim.Circuit.generated(name, distance=3, rounds=3)
    inference = infer_bases(circuit)
    assert list(inference.detectors + inference.observables) == regions_rule(circuit)


@pytest.mark.parametrize("basis", ["X", "Z"])
@pytest.mark.parametrize(("family", "distance"), [("bb", 6), ("hgp", 3), ("hgp", 4)])
def test_qecs_own_tagged_circuits_are_inferred_as_tagged(family, distance, basis):
    circuit = noisy_memory_circuit(family, distance=distance, rounds=2, noise="uniform", p=0.001, basis=basis)
    untagged = stripped(circuit)
    assert has_basis_tags(circuit) and not has_basis_tags(untagged)
    inference = infer_bases(untagged)
    assert (list(inference.detectors), list(inference.observables)) == tags(circuit)
    assert inference.basis == basis
    assert str(tagged_circuit(untagged, inference)) == str(circuit)
    assert str(decoding_dem(with_inferred_bases(untagged))) == str(decoding_dem(circuit))


@pytest.mark.parametrize("basis", ["X", "Z"])
def test_the_css_family_steane_code_is_inferred_as_tagged(basis):
    circuit = css(HAMMING, HAMMING, name="steane").memory_circuit(rounds=3, basis=basis)
    inference = infer_bases(stripped(circuit))
    assert (list(inference.detectors), list(inference.observables)) == tags(circuit)


def test_qecs_stim_built_families_are_inferred_and_color_is_not():
    for basis in ("X", "Z"):
        circuit = noisy_memory_circuit("surface", distance=3, rounds=3, noise="si1000", p=0.001, basis=basis)
        assert not has_basis_tags(circuit)
        assert list(infer_bases(circuit).detectors) == generated_truth(circuit, basis)
        assert dem_basis(decoding_dem(with_inferred_bases(circuit))) == basis
        # qec's own families are decoded as their circuits say (tagged or whole): a stored study's decoding
        # does not change under it; inference is for circuits that come from outside (collect --circuits, decode)
        assert dem_basis(decoding_dem(circuit)) is None
    color = noisy_memory_circuit("color", distance=3, rounds=3, noise="uniform", p=0.001)
    assert infer_bases(color).basis is None and dem_basis(decoding_dem(with_inferred_bases(color))) is None


def test_a_tagged_circuit_is_left_as_it_is():
    circuit = noisy_memory_circuit("bb", distance=6, rounds=2, noise="uniform", p=0.001)
    assert with_inferred_bases(circuit) is circuit and tagging_note(circuit) == ""


def test_tags_join_existing_ones_and_repeat_blocks_stay_blocks():
    circuit = stim.Circuit.generated("surface_code:rotated_memory_z", distance=3, rounds=5)
    assert any(isinstance(instruction, stim.CircuitRepeatBlock) for instruction in circuit)
    inference = infer_bases(circuit)
    tagged = tagged_circuit(circuit, inference)
    assert [type(instruction) for instruction in tagged] == [type(instruction) for instruction in circuit]
    assert stripped(tagged) == circuit
    assert tags(tagged) == (list(inference.detectors), list(inference.observables))
    kept = tagged_circuit(stim.Circuit("R 0 1\nCX 0 1\nM 0 1\nDETECTOR[round=3](1, 2) rec[-1] rec[-2]"))
    assert str(kept).splitlines()[-1] == "DETECTOR[round=3,basis=Z](1, 2) rec[-1] rec[-2]"


def test_a_repeat_block_whose_iterations_differ_is_unrolled():
    # Iteration 1's detector sees Z at its CX; iteration 2's is turned by the H into X at iteration 1's CX.
    circuit = stim.Circuit("R 0 1\nREPEAT 2 {\n    CX 0 1\n    MR 1\n    DETECTOR rec[-1]\n    H 0 1\n}")
    inference = infer_bases(circuit)
    assert inference.detectors == ("Z", None)
    tagged = tagged_circuit(circuit, inference)
    assert not any(isinstance(instruction, stim.CircuitRepeatBlock) for instruction in tagged)
    assert [i.tag for i in tagged if i.name == "DETECTOR"] == ["basis=Z", ""]


def test_unsupported_gates_leave_every_detector_undetermined_with_the_gate_named():
    circuit = stim.Circuit("R 0 1\nCX 0 1\nMPP Z0*Z1\nM 0 1\nDETECTOR rec[-3]\nOBSERVABLE_INCLUDE(0) rec[-1]")
    inference = infer_bases(circuit)
    assert inference.detectors == (None,) and inference.basis is None and "MPP" in inference.reason
    feedback = stim.Circuit("R 0 1\nM 0\nCX rec[-1] 1\nCX 0 1\nM 1\nDETECTOR rec[-1]\nOBSERVABLE_INCLUDE(0) rec[-1]")
    assert "classical feedback" in infer_bases(feedback).reason


def test_observables_of_both_bases_give_no_measured_basis():
    circuit = stim.Circuit(
        "RX 0\nR 1\nCX 0 1\nMX 0\nM 1\nOBSERVABLE_INCLUDE(0) rec[-2]\nOBSERVABLE_INCLUDE(1) rec[-1]\nDETECTOR rec[-1]"
    )
    inference = infer_bases(circuit)
    assert inference.observables == ("X", "Z") and inference.basis is None and "both bases" in inference.reason
    alone = stim.Circuit("R 0\nM 0\nDETECTOR rec[-1]\nOBSERVABLE_INCLUDE(0) rec[-1]")  # no two-qubit gate at all
    assert "meets no two-qubit gate" in infer_bases(alone).reason


def ibm_circuit() -> stim.Circuit:
    files = sorted(IBM_FOLDER.glob("*.stim"))
    if not files:
        pytest.skip(f"IBM's published circuit is not in {IBM_FOLDER}")
    return stim.Circuit.from_file(files[0])


def test_ibms_published_bb_circuit_is_inferred_as_a_z_memory():
    circuit = ibm_circuit()
    assert not has_basis_tags(circuit)
    assert not circuit.detecting_regions()  # its TICKs all follow the last gate: no rule over ticks can read it
    inference = infer_bases(circuit)
    assert None not in inference.detectors and inference.observables == ("Z",) * 12 and inference.basis == "Z"
    ours = noisy_memory_circuit("bb", distance=6, rounds=6, noise="uniform", p=0.003)
    assert circuit_basis(ours) == ("Z", inference.detectors.count("Z")) == ("Z", 36 * 7)
    dem = decoding_dem(with_inferred_bases(circuit))
    restriction = restrict_to_basis(dem)
    assert restriction is not None and restriction.basis == "Z"
    assert restriction.dem.num_detectors == 252 and restriction.dem.num_observables == 12
    assert restriction.dem.num_errors == restrict_to_basis(decoding_dem(ours)).dem.num_errors
    # Decoded by decoding: 300 shots of its own noise on the Z detectors. Measured: 6 failures at seed 5 (2.3% per
    # shot over 2,000 shots; its idle noise puts it above our circuit's 0.85%); the whole DEM failed 8 of 100 when
    # the issue was filed. 20 is 5 standard deviations above 2.3% of 300.
    compiled = BpOsdDecoder().compile_decoder_for_dem(dem=dem)
    assert isinstance(compiled, BasisAwareCompiledDecoder)
    events, observables = circuit.compile_detector_sampler(seed=5).sample(
        300, separate_observables=True, bit_packed=True
    )
    predictions = compiled.decode_shots_bit_packed(bit_packed_detection_event_data=events)
    assert np.count_nonzero(np.any(predictions != observables, axis=1)) <= 20


@pytest.mark.parametrize(("error", "flipped"), [("X_ERROR", "Z"), ("Z_ERROR", "X")])
def test_ibms_inferred_bases_are_the_physics(error, flipped):
    # Its noise replaced by X (Z) flips where it has single-qubit depolarizing noise (on the data, at three points
    # of every round): such errors flip Z-type (X-type) checks only, so each DEM error must flip inferred ones only.
    circuit = ibm_circuit()
    inference = infer_bases(circuit)
    pure = stim.Circuit()
    for instruction in circuit.flattened():
        if instruction.name == "DEPOLARIZE1":
            pure.append(error, instruction.targets_copy(), 0.01)
        elif stim.gate_data(instruction.name).produces_measurements:  # M(0.003) -> M
            pure.append(stim.CircuitInstruction(instruction.name, instruction.targets_copy()))
        elif not stim.gate_data(instruction.name).is_noisy_gate:
            pure.append(instruction)
    dem = pure.detector_error_model()
    flips = [
        {inference.detectors[target.val] for target in instruction.targets_copy() if target.is_relative_detector_id()}
        for instruction in dem.flattened()
        if instruction.type == "error"
    ]
    assert len(flips) > 100 and set().union(*flips) == {flipped}
