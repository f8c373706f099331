"""Herald-aware BP, BP+OSD and Relay-BP (`heralds=True`): per-shot priors from the fired heralds, set in the kernels.

Every test decodes real sampled shots of small heralded circuits (`qec.noise`, erasure_fraction > 0) and compares
herald-aware decoding with herald-blind decoding (`heralds=False`: heralds as ordinary detectors) on the same shots.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import stim

from qec import codes, decoders, noise
from qec.decoders.bp_kernels import LANES
from qec.decoders.bp_osd import BpOsdDecoder
from qec.decoders.dem_arrays import decoding_dem
from qec.decoders.heralds import Heralds
from qec.decoders.relay import RelayBpDecoder
from qec.errors import QecInputError


def _sample(family: str, p: float, erasure_fraction: float, *, distance: int, shots: int, seed: int):
    circuit = codes.memory_circuit("surface", distance=distance, rounds=distance)
    noisy = noise.noise_model(family, p, erasure_fraction=erasure_fraction).apply(circuit)
    events, observables = noisy.compile_detector_sampler(seed=seed).sample(
        shots, separate_observables=True, bit_packed=True
    )
    return decoding_dem(noisy), events, observables


def _failures(decoder, dem: stim.DetectorErrorModel, events: np.ndarray, observables: np.ndarray) -> np.ndarray:
    compiled = decoder.compile_decoder_for_dem(dem=dem)
    return np.any(compiled.decode_shots_bit_packed(bit_packed_detection_event_data=events) != observables, axis=1)


def _untagged(dem: stim.DetectorErrorModel) -> stim.DetectorErrorModel:
    """The DEM with its herald tags dropped: the heralds become ordinary detectors."""
    model = stim.DetectorErrorModel()
    for instruction in dem.flattened():
        model.append(stim.DemInstruction(instruction.type, instruction.args_copy(), instruction.targets_copy()))
    return model


def _assert_not_worse(aware: np.ndarray, blind: np.ndarray) -> None:
    """Paired on the same shots: the shots only herald-aware decoding fails may outnumber those only herald-blind
    decoding fails by at most 3 sigma of the discordant count (sqrt(n), as in McNemar's test) plus one."""
    aware_only = int(np.count_nonzero(aware & ~blind))
    blind_only = int(np.count_nonzero(blind & ~aware))
    assert aware_only <= blind_only + 3 * math.sqrt(aware_only + blind_only) + 1, (aware_only, blind_only)


def test_herald_aware_bposd_not_worse_than_blind_surface_d3():
    # surface d=3, 3 rounds, erasure p=0.01, R_e=0.98, 10,000 shots: measured 46 (aware) against 54 (blind) failures
    dem, events, observables = _sample("erasure", 0.01, 0.98, distance=3, shots=10_000, seed=11)
    aware = _failures(BpOsdDecoder(), dem, events, observables)
    blind = _failures(BpOsdDecoder(heralds=False), dem, events, observables)
    _assert_not_worse(aware, blind)
    assert 0 < np.count_nonzero(aware) < 0.02 * len(aware)


def test_herald_aware_bposd_not_worse_than_blind_surface_d5():
    dem, events, observables = _sample("erasure", 0.03, 0.98, distance=5, shots=300, seed=3)
    aware = _failures(BpOsdDecoder(), dem, events, observables)
    blind = _failures(BpOsdDecoder(heralds=False), dem, events, observables)
    _assert_not_worse(aware, blind)


def test_pure_erasure_code_capacity_fails_rarely():
    # d=5, every data qubit erased with probability 0.3 (R_e=1): far below the 50% erasure threshold, so decoding
    # with the heralds fails on a few percent of shots (measured 198 of 5,000), well below p
    dem, events, observables = _sample("code-capacity", 0.3, 1.0, distance=5, shots=5_000, seed=5)
    aware = _failures(BpOsdDecoder(), dem, events, observables)
    assert np.count_nonzero(aware) < 0.1 * len(aware)


def test_shots_without_fired_heralds_decode_as_the_unheralded_dem():
    dem, events, observables = _sample("erasure", 0.01, 0.5, distance=3, shots=20_000, seed=7)
    heralds = Heralds.of(dem)
    kept, fired = heralds.split(events)
    quiet = ~fired.any(axis=1)
    assert np.count_nonzero(quiet) > 1000
    herald_set = set(heralds.herald_detectors.tolist())
    renumber = {int(detector): index for index, detector in enumerate(heralds.kept_detectors)}
    unheralded = stim.DetectorErrorModel()  # the DEM's errors that flip no herald, over the kept detectors
    for instruction in dem.flattened():
        targets = instruction.targets_copy()
        if instruction.type != "error" or any(t.is_relative_detector_id() and t.val in herald_set for t in targets):
            continue
        unheralded.append(
            "error",
            instruction.args_copy(),
            [stim.target_relative_detector_id(renumber[t.val]) if t.is_relative_detector_id() else t for t in targets],
        )
    expected = (
        BpOsdDecoder()
        .compile_decoder_for_dem(dem=unheralded)
        .decode_shots_bit_packed(bit_packed_detection_event_data=np.ascontiguousarray(kept[quiet]))
    )
    got = (
        BpOsdDecoder()
        .compile_decoder_for_dem(dem=dem)
        .decode_shots_bit_packed(bit_packed_detection_event_data=np.ascontiguousarray(events[quiet]))
    )
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("factory", [BpOsdDecoder, RelayBpDecoder])
def test_heralds_false_decodes_heralds_as_ordinary_detectors(factory):
    dem, events, _ = _sample("erasure", 0.01, 0.98, distance=3, shots=200, seed=2)
    options = {"num_legs": 10} if factory is RelayBpDecoder else {}
    blind = factory(heralds=False, **options).compile_decoder_for_dem(dem=dem)
    untagged = factory(**options).compile_decoder_for_dem(dem=_untagged(dem))  # no heralds: today's path
    np.testing.assert_array_equal(
        blind.decode_shots_bit_packed(bit_packed_detection_event_data=events),
        untagged.decode_shots_bit_packed(bit_packed_detection_event_data=events),
    )


@pytest.mark.parametrize("factory", [BpOsdDecoder, RelayBpDecoder])
def test_without_heralds_the_option_changes_nothing(factory):
    circuit = noise.noise_model("sd6", 0.005).apply(codes.memory_circuit("surface", distance=3, rounds=3))
    dem = decoding_dem(circuit)
    events = circuit.compile_detector_sampler(seed=4).sample(300, bit_packed=True)
    options = {"num_legs": 10} if factory is RelayBpDecoder else {}
    on = factory(**options).compile_decoder_for_dem(dem=dem)
    off = factory(heralds=False, **options).compile_decoder_for_dem(dem=dem)
    np.testing.assert_array_equal(
        on.decode_shots_bit_packed(bit_packed_detection_event_data=events),
        off.decode_shots_bit_packed(bit_packed_detection_event_data=events),
    )


@pytest.mark.parametrize(
    "decoder",
    [
        BpOsdDecoder(),
        BpOsdDecoder(schedule="layered"),
        BpOsdDecoder(schedule="layered", descent=4),
        BpOsdDecoder(osd_method="osd0", ensemble=(0.5, 1.0)),
        BpOsdDecoder(osd_method=None),
        RelayBpDecoder(num_legs=20),
    ],
)
def test_lanes_and_one_by_one_agree_with_heralds(decoder):
    # a batch of >= LANES shots runs in lanes, one of fewer a shot at a time: the same per-shot priors either way
    dem, events, _ = _sample("erasure", 0.02, 0.9, distance=3, shots=3 * LANES, seed=9)
    compiled = decoder.compile_decoder_for_dem(dem=dem)
    in_lanes = compiled.decode_shots_bit_packed(bit_packed_detection_event_data=events)
    one_by_one = np.concatenate(
        [
            compiled.decode_shots_bit_packed(bit_packed_detection_event_data=events[start : start + LANES - 1])
            for start in range(0, len(events), LANES - 1)
        ]
    )
    np.testing.assert_array_equal(in_lanes, one_by_one)


def test_herald_aware_relay_not_worse_than_blind():
    # surface d=3, 3 rounds, erasure p=0.01, R_e=0.98, 2,000 shots, 50 legs
    dem, events, observables = _sample("erasure", 0.01, 0.98, distance=3, shots=2_000, seed=5)
    aware = _failures(RelayBpDecoder(num_legs=50), dem, events, observables)
    blind = _failures(RelayBpDecoder(num_legs=50, heralds=False), dem, events, observables)
    _assert_not_worse(aware, blind)
    assert np.count_nonzero(aware) < 0.02 * len(aware)


def test_gap_with_heralds():
    dem, events, observables = _sample("erasure", 0.01, 0.98, distance=3, shots=500, seed=6)
    compiled = BpOsdDecoder().compile_decoder_for_dem(dem=dem)
    predictions, gaps = compiled.decode_shots_with_gap(bit_packed_detection_event_data=events)
    failed = np.any(predictions != observables, axis=1)
    assert np.all(gaps >= 0)
    assert np.count_nonzero(failed) < 0.03 * len(failed)
    if failed.any():  # the failures sit among the least sure shots
        assert np.median(gaps[failed]) < np.median(gaps)


def test_heralds_option_is_a_registry_option():
    spec = decoders.DecoderSpec.parse("bposd", ["heralds=false"])
    assert spec.metadata() == {"decoder_options": {"heralds": False}}
    assert spec.build().heralds is False
    assert decoders.DecoderSpec.parse("relay", ["heralds=false"]).build().heralds is False
    assert decoders.DecoderSpec.parse("bp", ["heralds=false"]).build().heralds is False
    with pytest.raises(QecInputError, match="heralds"):
        decoders.DecoderSpec.parse("bposd", ["heralds=3"])
