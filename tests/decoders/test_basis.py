"""Basis-aware decoding: tags read, restriction and merging exact, decoding equal to decoding the restricted DEM."""

from __future__ import annotations

import numpy as np
import pytest
import stim

from qec.decoders.basis import BasisAwareCompiledDecoder, circuit_basis, dem_basis, restrict_to_basis
from qec.decoders.bp_osd import BpOsdDecoder, bp_decoder
from qec.decoders.dem_arrays import decoding_dem
from qec.decoders.lookup import LookupDecoder
from qec.decoders.relay import RelayBpDecoder
from qec.errors import QecInputError
from qec.memory import noisy_memory_circuit

# The Steane code: hx = hz = the [7,4] Hamming code's check matrix; Z_L = X_L = Z (X) on all 7 qubits.
HAMMING = np.array([[1, 0, 1, 0, 1, 0, 1], [0, 1, 1, 0, 0, 1, 1], [0, 0, 0, 1, 1, 1, 1]], dtype=np.uint8)


def css_memory_circuit(
    hx: np.ndarray,
    hz: np.ndarray,
    logical: list[int],
    *,
    basis: str,
    rounds: int,
    p: float,
    data_noise_only: bool = False,
    tags: bool = True,
    observable_tag: str | None = None,
) -> stim.Circuit:
    """A CSS memory experiment written out by hand: data in |0> (Z) or |+> (X), `rounds` rounds measuring
    every Z check then every X check with one ancilla each, data measured in `basis` at the end.

    Noise: depolarizing p on the data before every round; unless `data_noise_only`, also after every
    CNOT (two-qubit depolarizing) and as flips before every measurement. Detectors are tagged with their
    check's type and the observable with `basis` (when `tags`; `observable_tag` overrides the latter).
    """
    n = hx.shape[1]
    z_ancillas = list(range(n, n + len(hz)))
    x_ancillas = list(range(n + len(hz), n + len(hz) + len(hx)))
    checks = [("Z", row, ancilla) for row, ancilla in zip(hz, z_ancillas)]
    checks += [("X", row, ancilla) for row, ancilla in zip(hx, x_ancillas)]
    circuit = stim.Circuit()
    circuit.append("R" if basis == "Z" else "RX", range(n))

    def detector(check_type: str, records: list[int]) -> None:
        tag = f"basis={check_type}" if tags else ""
        circuit.append(stim.CircuitInstruction("DETECTOR", [stim.target_rec(r) for r in records], tag=tag))

    for round_index in range(rounds):
        circuit.append("DEPOLARIZE1", range(n), p)
        circuit.append("R", z_ancillas)
        circuit.append("RX", x_ancillas)
        for check_type, row, ancilla in checks:
            for qubit in np.flatnonzero(row):
                pair = [int(qubit), ancilla] if check_type == "Z" else [ancilla, int(qubit)]
                circuit.append("CX", pair)
                if not data_noise_only:
                    circuit.append("DEPOLARIZE2", pair, p)
        if not data_noise_only:
            circuit.append("X_ERROR", z_ancillas, p)
            circuit.append("Z_ERROR", x_ancillas, p)
        circuit.append("M", z_ancillas)
        circuit.append("MX", x_ancillas)
        num_checks = len(checks)
        for index, (check_type, _, _) in enumerate(checks):
            now = index - num_checks
            if round_index > 0:
                detector(check_type, [now, now - num_checks])
            elif check_type == basis:
                detector(check_type, [now])
    if not data_noise_only:
        circuit.append("X_ERROR" if basis == "Z" else "Z_ERROR", range(n), p)
    circuit.append("M" if basis == "Z" else "MX", range(n))
    matrix = hz if basis == "Z" else hx
    offset = 0 if basis == "Z" else len(hz)
    for index, row in enumerate(matrix):
        ancilla_record = -n - len(checks) + offset + index
        detector(basis, [ancilla_record] + [int(q) - n for q in np.flatnonzero(row)])
    tag = observable_tag if observable_tag is not None else (f"basis={basis}" if tags else "")
    targets = [stim.target_rec(q - n) for q in logical]
    circuit.append(stim.CircuitInstruction("OBSERVABLE_INCLUDE", targets, [0], tag=tag))
    return circuit


def steane(basis: str = "Z", rounds: int = 2, p: float = 0.01, **options) -> stim.Circuit:
    return css_memory_circuit(HAMMING, HAMMING, list(range(7)), basis=basis, rounds=rounds, p=p, **options)


def sample(circuit: stim.Circuit, shots: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    return circuit.compile_detector_sampler(seed=seed).sample(shots, separate_observables=True, bit_packed=True)


def decode(decoder, dem: stim.DetectorErrorModel, detection_events: np.ndarray) -> np.ndarray:
    compiled = decoder.compile_decoder_for_dem(dem=dem)
    return compiled.decode_shots_bit_packed(bit_packed_detection_event_data=detection_events)


@pytest.mark.parametrize("basis", ["X", "Z"])
def test_the_hand_built_circuit_is_a_valid_tagged_css_memory(basis):
    circuit = steane(basis, rounds=3)
    circuit.detector_error_model()  # every detector deterministic, or Stim raises
    dem = circuit.detector_error_model(decompose_errors=True)
    assert dem_basis(dem) == basis
    # Basis-B detectors: 3 per round plus 3 at the end; the other type's: 3 per round after the first.
    assert circuit_basis(circuit) == (basis, 3 * 3 + 3)
    restriction = restrict_to_basis(dem)
    assert restriction.basis == basis and len(restriction.detectors) == 12
    assert restriction.dem.num_detectors == 12 and restriction.dem.num_observables == 1
    assert dem.num_detectors == 12 + 6


def test_untagged_or_mixed_dems_are_not_restricted_and_decode_unchanged():
    untagged = steane(tags=False).detector_error_model(decompose_errors=True)
    mixed = steane().detector_error_model(decompose_errors=True)  # observables of both bases: decoded whole
    mixed.append(stim.DemInstruction("logical_observable", [], [stim.target_logical_observable_id(1)], tag="basis=X"))
    observable_untagged = steane(observable_tag="").detector_error_model(decompose_errors=True)
    for dem in (untagged, mixed, observable_untagged):
        assert dem_basis(dem) is None and restrict_to_basis(dem) is None
    assert circuit_basis(steane(tags=False)) is None
    events, _ = sample(steane(tags=False), 500, seed=3)
    compiled = BpOsdDecoder().compile_decoder_for_dem(dem=untagged)
    assert not isinstance(compiled, BasisAwareCompiledDecoder)
    assert np.array_equal(
        compiled.decode_shots_bit_packed(bit_packed_detection_event_data=events),
        decode(BpOsdDecoder(basis_aware=False), untagged, events),
    )


def test_restriction_merges_errors_with_the_odd_parity_probability():
    dem = stim.DetectorErrorModel("""
        error(0.1) D0 D1 L0
        error(0.2) D0 L0
        error(0.3) D1 D2 ^ D0
        error(0.05) D1
        error(0.25) D1 L0
        error(0.4) D2
        detector[basis=Z](0, 0) D0
        detector[basis=X](1, 0) D1
        detector[basis=Z](2, 0) D2
        logical_observable[basis=Z] L0
    """)
    restriction = restrict_to_basis(dem)
    assert restriction.detectors.tolist() == [0, 2]
    errors = {
        tuple(str(target) for target in instruction.targets_copy()): instruction.args_copy()[0]
        for instruction in restriction.dem
        if instruction.type == "error"
    }
    # D0 D1 L0 and D0 L0 both become D0 L0; D1 D2 ^ D0 becomes D0 D1(new D1 = old D2); D1 alone is dropped;
    # D1 L0 becomes L0 alone (an undetectable observable flip is kept).
    assert errors.keys() == {("D0", "L0"), ("D0", "D1"), ("L0",), ("D1",)}
    assert errors[("D0", "L0")] == pytest.approx(0.1 * 0.8 + 0.2 * 0.9)
    assert errors[("D0", "D1")] == pytest.approx(0.3)
    assert errors[("L0",)] == pytest.approx(0.25)
    assert errors[("D1",)] == pytest.approx(0.4)
    coordinates = {
        str(instruction.targets_copy()[0]): instruction.args_copy()
        for instruction in restriction.dem
        if instruction.type == "detector"
    }
    assert coordinates == {"D0": [0.0, 0.0], "D1": [2.0, 0.0]}
    events = np.packbits(np.array([[1, 1, 0], [0, 1, 1], [1, 0, 1]], dtype=np.uint8), axis=1, bitorder="little")
    selected = np.unpackbits(restriction.select(events), axis=1, count=2, bitorder="little")
    assert selected.tolist() == [[1, 0], [0, 1], [1, 1]]


@pytest.mark.parametrize("name", ["bp", "bposd", "lookup", "relay"])
def test_decoding_a_tagged_dem_equals_decoding_the_hand_restricted_dem(name):
    circuit = steane(rounds=2, p=0.01)
    dem = circuit.detector_error_model(decompose_errors=True)
    events, _ = sample(circuit, 2000, seed=5)
    # Restricted by hand: the Z-tagged detectors' columns, and the DEM rebuilt from the same rules.
    z_detectors = [
        target.val
        for instruction in dem.flattened()
        if instruction.type == "detector" and instruction.tag == "basis=Z"
        for target in instruction.targets_copy()
    ]
    bits = np.unpackbits(events, axis=1, count=dem.num_detectors, bitorder="little")
    hand_events = np.packbits(bits[:, sorted(z_detectors)], axis=1, bitorder="little")
    restricted = restrict_to_basis(dem).dem
    make = {"bp": bp_decoder, "bposd": BpOsdDecoder, "lookup": LookupDecoder, "relay": RelayBpDecoder}[name]
    ours = decode(make(), dem, events)
    by_hand = decode(make(basis_aware=False), restricted, hand_events)
    assert np.array_equal(ours, by_hand)


@pytest.mark.parametrize("name", ["bposd", "lookup", "relay"])
@pytest.mark.parametrize("basis", ["X", "Z"])
def test_every_single_data_error_is_corrected_on_the_basis_part(name, basis):
    # Depolarizing data noise only (X, Y, Z errors, each flipping detectors of one or both types): the
    # restricted DEM merges X with Y (Z memory) into one mechanism, and every single-qubit error of the
    # distance-3 Steane code must still be corrected from the kept detectors alone. (BP alone, and
    # min-sum scaled by 0.625, satisfy some of the Hamming code's syndromes with two errors instead of
    # one, restricted or not, so BP+OSD runs unscaled here, as in test_bp_osd's color-code test.)
    circuit = steane(basis, rounds=2, p=0.01, data_noise_only=True)
    dem = circuit.detector_error_model()
    errors = [instruction for instruction in dem.flattened() if instruction.type == "error"]
    syndromes = np.zeros((len(errors), dem.num_detectors), dtype=np.uint8)
    flips = np.zeros((len(errors), 1), dtype=np.uint8)
    for row, instruction in enumerate(errors):
        for target in instruction.targets_copy():
            if target.is_relative_detector_id():
                syndromes[row, target.val] ^= 1
            elif target.is_logical_observable_id():
                flips[row, 0] ^= 1
    assert flips.any() and (syndromes.sum(axis=1) > 0).all()
    decoder = {"bposd": BpOsdDecoder(scaling_factor=1.0), "lookup": LookupDecoder(), "relay": RelayBpDecoder()}[name]
    compiled = decoder.compile_decoder_for_dem(dem=dem)
    assert isinstance(compiled, BasisAwareCompiledDecoder)
    packed = np.packbits(syndromes, axis=1, bitorder="little")
    assert np.array_equal(compiled.decode_shots_bit_packed(bit_packed_detection_event_data=packed), flips)
    # And a noiseless shot predicts nothing.
    zeros = np.zeros((3, packed.shape[1]), dtype=np.uint8)
    assert not compiled.decode_shots_bit_packed(bit_packed_detection_event_data=zeros).any()


def test_the_basis_part_costs_exact_decoding_only_the_y_correlations():
    # Lookup is exact maximum-likelihood-error decoding of the DEM it is given. The Z part drops what the
    # X detectors say about Y errors, so exact decoding of the whole DEM can only do better; on this small
    # code the price is small (measured on these 4000 shots: 561 failures whole, 618 on the Z part, +10%).
    # Both decode the same shots, so the counts move together; the bounds are far outside that spread.
    circuit = steane(rounds=2, p=0.02)
    dem = circuit.detector_error_model(decompose_errors=True)
    events, observables = sample(circuit, 4000, seed=7)
    whole = np.count_nonzero(decode(LookupDecoder(basis_aware=False), dem, events) != observables)
    z_part = np.count_nonzero(decode(LookupDecoder(), dem, events) != observables)
    assert 400 < whole <= z_part < 1.3 * whole


def test_lookup_admits_a_circuit_whose_basis_part_fits_its_table():
    circuit = steane(rounds=4)  # 3 * 4 + 3 = 15 Z detectors, 9 X detectors: 24 in all
    assert circuit.num_detectors == 24
    LookupDecoder().check_circuit(circuit)
    with pytest.raises(QecInputError, match="24 detectors"):
        LookupDecoder(basis_aware=False).check_circuit(circuit)
    with pytest.raises(QecInputError, match="24 detectors"):
        LookupDecoder().check_circuit(steane(rounds=4, tags=False))


@pytest.mark.slow
def test_the_bb_family_is_decoded_on_its_measured_basis():
    # qec.codes' [[72,12,6]] bivariate bicycle code (Bravyi et al.): 36 X and 36 Z checks, 12 observables.
    for basis in ("X", "Z"):
        circuit = noisy_memory_circuit("bb", distance=6, rounds=2, noise="uniform", p=0.003, basis=basis)
        dem = decoding_dem(circuit)
        assert dem_basis(dem) == basis and circuit_basis(circuit) == (basis, 36 * 3)
        restriction = restrict_to_basis(dem)
        assert restriction.dem.num_detectors == 108 and restriction.dem.num_observables == 12
        assert restriction.dem.num_errors < dem.num_errors / 3  # the other basis's errors merge away
    noiseless = noisy_memory_circuit("bb", distance=6, rounds=2, noise="none")
    events, _ = sample(noiseless, 5, seed=1)
    for decoder in (BpOsdDecoder(), RelayBpDecoder()):
        compiled = decoder.compile_decoder_for_dem(dem=decoding_dem(circuit))
        assert isinstance(compiled, BasisAwareCompiledDecoder)
        assert not compiled.decode_shots_bit_packed(bit_packed_detection_event_data=events).any()
    # And the basis part decodes: 300 shots at p = 0.003, Z memory (measured: bposd 1 failure, relay 0; bposd
    # on the whole DEM 5); the bound leaves room for other seeds' spread.
    events, observables = sample(circuit, 300, seed=2)
    for decoder in (BpOsdDecoder(), RelayBpDecoder()):
        predictions = decode(decoder, decoding_dem(circuit), events)
        assert np.count_nonzero(np.any(predictions != observables, axis=1)) <= 15
