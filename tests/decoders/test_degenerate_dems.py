"""Every decoder on degenerate DEMs: no detectors, no errors, no observables, probabilities 0, 1/2 and above."""

from __future__ import annotations

import numpy as np
import pytest
import stim

from qec import decoders

SHOTS = 5
# chromobius refuses DEMs whose detectors carry no colour; test_field_decoders.py runs these cases with colours.
NAMES = [name for name in decoders.names() if name != "chromobius"]


def decode(name: str, dem: stim.DetectorErrorModel, detection_events: np.ndarray) -> np.ndarray:
    compiled = decoders.get(name).compile_decoder_for_dem(dem=dem)
    predictions = compiled.decode_shots_bit_packed(bit_packed_detection_event_data=detection_events)
    assert predictions.dtype == np.uint8
    assert predictions.shape == (len(detection_events), (dem.num_observables + 7) // 8)
    return predictions


def no_detection_events(dem: stim.DetectorErrorModel) -> np.ndarray:
    return np.zeros((SHOTS, (dem.num_detectors + 7) // 8), dtype=np.uint8)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "text",
    [
        "",  # nothing at all
        "detector D3",  # detectors, no errors, no observables
        "logical_observable L9",  # observables, nothing flips them
        "detector D11\nlogical_observable L9",  # both, no errors
        "error(0.1) D0",  # no observables
        "error(0.1) D0 D0",  # an error that flips nothing
        "error(0) D0 L0",  # an error that never happens
    ],
)
def test_no_detection_event_predicts_no_flip(name, text):
    dem = stim.DetectorErrorModel(text)
    assert not decode(name, dem, no_detection_events(dem)).any()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("probability", [0.1, 0.5, 0.6, 1.0])
def test_one_detector_one_observable(name, probability):
    # D0 fires exactly when L0 flips, whatever the probability: the prediction is the detection event.
    # (With probability 1, D0 always fires; PyMatching raises on a syndrome that cannot happen.)
    dem = stim.DetectorErrorModel(f"error({probability}) D0 L0")
    detection_events = np.array([[1], [1]] if probability == 1 else [[0], [1], [1], [0]], dtype=np.uint8)
    assert decode(name, dem, detection_events).tolist() == detection_events.tolist()


@pytest.mark.parametrize("name", NAMES)
def test_likely_error_no_detector_sees_is_always_predicted(name):
    # L0 flips with probability 0.7 and nothing detects it: predicting the flip is right 70% of the time.
    dem = stim.DetectorErrorModel("error(0.7) L0\nerror(0.1) D0 L1")
    assert decode(name, dem, no_detection_events(dem)).tolist() == [[0b01]] * SHOTS
    assert decode(name, dem, np.ones((SHOTS, 1), dtype=np.uint8)).tolist() == [[0b11]] * SHOTS


@pytest.mark.parametrize("name", NAMES)
def test_observables_past_the_first_byte(name):
    # L12 is bit 4 of byte 1; D9 is bit 1 of byte 1.
    dem = stim.DetectorErrorModel("error(0.1) D9 L12\nerror(0.1) D0")
    detection_events = np.array([[0, 0b10], [1, 0], [0, 0]], dtype=np.uint8)
    assert decode(name, dem, detection_events).tolist() == [[0, 0b10000], [0, 0], [0, 0]]
