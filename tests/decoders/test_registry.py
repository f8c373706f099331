"""Every registered decoder: the registry, sinter's interface, and agreement on zero syndromes."""

from __future__ import annotations

import numpy as np
import pytest
import sinter

from qec import decoders
from qec.decoders.matching import SUPPORTS_CORRELATIONS
from qec.errors import QecInputError
from qec.memory import noisy_memory_circuit

ALL = (
    ["blocks", "bp", "bposd", "lookup", "pymatching", "pymatching-ordered"]
    + ["pymatching-correlated"] * SUPPORTS_CORRELATIONS
    + ["relay", "uf"]
)
# The field's decoders (qec.decoders.field) are listed where the `decoders` extra installed their packages.
FIELD = [
    name
    for name in ["bplsd", "chromobius", "fusion-blossom", "mwpf", "tesseract"]
    if decoders._REGISTRY[name].installed()
]
MATCHABLE = (
    ["blocks", "bp", "bposd", "pymatching", "pymatching-ordered"]
    + ["pymatching-correlated"] * SUPPORTS_CORRELATIONS
    + ["relay", "uf"]
)


def test_names_are_the_issue_names():
    assert decoders.names() == sorted(ALL + FIELD)


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(QecInputError, match=f"unknown decoder 'mwpm': choose one of {', '.join(decoders.names())}$"):
        decoders.get("mwpm")


def test_sinter_decoders_are_sinter_decoders():
    assert all(isinstance(decoder, sinter.Decoder) for decoder in decoders.sinter_decoders().values())


@pytest.mark.parametrize("name", ALL)
def test_zero_syndromes_predict_no_flip(name):
    # Small enough for 'lookup' (8 detectors), decomposed so that the matching decoders accept it.
    circuit = noisy_memory_circuit("surface", distance=3, rounds=1, noise="code-capacity", p=0.05, pauli="independent")
    dem = circuit.detector_error_model(decompose_errors=True)
    compiled = decoders.get(name).compile_decoder_for_dem(dem=dem)
    zeros = np.zeros((17, (dem.num_detectors + 7) // 8), dtype=np.uint8)
    predictions = compiled.decode_shots_bit_packed(bit_packed_detection_event_data=zeros)
    assert predictions.dtype == np.uint8
    assert predictions.shape == (17, 1)
    assert not predictions.any()


@pytest.mark.parametrize("name", MATCHABLE)
def test_circuit_level_zero_syndromes_predict_no_flip(name):
    # A circuit-level DEM (surface d=3, uniform noise): no detection event means no correction.
    circuit = noisy_memory_circuit("surface", distance=3, noise="uniform", p=0.001)
    dem = circuit.detector_error_model(decompose_errors=True)
    compiled = decoders.get(name).compile_decoder_for_dem(dem=dem)
    zeros = np.zeros((5, (dem.num_detectors + 7) // 8), dtype=np.uint8)
    assert not compiled.decode_shots_bit_packed(bit_packed_detection_event_data=zeros).any()


@pytest.mark.slow
def test_uf_runs_inside_sinter_collect():
    circuit = noisy_memory_circuit("surface", distance=3, noise="uniform", p=0.002)
    task = sinter.Task(circuit=circuit, detector_error_model=circuit.detector_error_model(decompose_errors=True))
    [stats] = sinter.collect(
        num_workers=1, tasks=[task], decoders=["uf"], max_shots=2000, custom_decoders=decoders.sinter_decoders()
    )
    assert stats.shots == 2000
    assert stats.errors < 100  # LER ~1% at d=3, p=0.002 over 3 rounds
