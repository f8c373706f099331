"""BP+OSD's complementary gap (`BpOsdCompiledDecoder.decode_shots_with_gap`): OSD's lightest correction in each other
logical class, against the lightest found."""

from __future__ import annotations

import numpy as np
import pytest
import stim

from qec import decoders
from qec.decoders.bp_osd import BpOsdDecoder
from qec.errors import QecInputError
from qec.memory import noisy_memory_circuit
from qec.parts import memory_task


def gaps_and_failures(circuit: stim.Circuit, shots: int, **options):
    dem = circuit.detector_error_model(decompose_errors=True, ignore_decomposition_failures=True)
    events, observables = circuit.compile_detector_sampler(seed=5).sample(
        shots, separate_observables=True, bit_packed=True
    )
    compiled = BpOsdDecoder(**options).compile_decoder_for_dem(dem=dem)
    plain = compiled.decode_shots_bit_packed(bit_packed_detection_event_data=events)
    predictions, gaps = compiled.decode_shots_with_gap(bit_packed_detection_event_data=events)
    return plain, predictions, gaps, np.any(predictions != observables, axis=1)


@pytest.mark.parametrize(("family", "noise", "p"), [("surface", "si1000", 0.005), ("color", "uniform", 0.004)])
def test_the_gap_says_how_sure_bposd_is(family, noise, p):
    circuit = noisy_memory_circuit(family, distance=5, rounds=5, noise=noise, p=p)
    plain, predictions, gaps, failed = gaps_and_failures(circuit, 10_000, schedule="layered")
    assert gaps.dtype == np.float64 and (gaps >= 0).all() and np.isfinite(gaps).all()
    # the second search may find a lighter correction than the first: predictions mostly agree, and the shots
    # where they differ are the surest's opposite (a gap of at most the first correction's excess)
    assert np.count_nonzero(np.any(predictions != plain, axis=1)) < 0.02 * len(plain)
    # a coin flip: shots with a gap under 1 dB fail about half the time (measured: 68 of 140 on the surface code,
    # 15 of 30 on the colour code); 5 standard deviations either side
    coin = gaps < 1
    assert coin.sum() >= 20
    half, spread = 0.5 * coin.sum(), 5 * np.sqrt(0.25 * coin.sum())
    assert half - spread < failed[coin].sum() < half + spread
    # and sure shots fail less: the logical error rate falls as the gap threshold rises
    rates = [failed[gaps >= threshold].mean() for threshold in (0, 4, 8)]
    assert rates[0] > rates[1] > rates[2] and rates[2] < 0.7 * rates[0]


def test_an_unreachable_class_has_an_infinite_gap():
    # L0 is flipped by no error: no correction of the other class exists, however the syndrome looks
    dem = stim.DetectorErrorModel("error(0.1) D0\nerror(0.1) D0 D1\nerror(0.1) D1\nlogical_observable L0")
    compiled = BpOsdDecoder().compile_decoder_for_dem(dem=dem)
    events = np.packbits(np.array([[0, 0], [1, 0], [1, 1]], dtype=np.uint8), axis=1, bitorder="little")
    predictions, gaps = compiled.decode_shots_with_gap(bit_packed_detection_event_data=events)
    assert (predictions == 0).all() and np.isinf(gaps).all()


def test_gap_post_selection_with_bposd_in_a_study_and_its_refusal_past_four_observables():
    task = memory_task("color-superdense", distance=3, noise="uniform", p=0.003, decoder="bposd", postselect_gap=2.0)
    assert task.metadata["postselect_gap"] == 2.0
    assert "bposd" in __import__("qec.parts", fromlist=["decoders_with_gap"]).decoders_with_gap()
    bb = noisy_memory_circuit("bb", distance=6, rounds=1, noise="uniform", p=0.003)
    with pytest.raises(QecInputError, match="12 observables"):
        decoders.get("bposd").check_gap_circuit(bb)
