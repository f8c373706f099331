"""Issue 23's physics at a small, fast scale (slow tests, each well under a minute on one core): the stability
experiment's threshold under SI1000 lies near the memory's, joint decoding of a transversal CNOT fails less than
block-by-block decoding on the same shots below threshold and crosses near where the memory crosses, and the
lattice-surgery ZZ measurement fails less as d grows below threshold. The README's "Experiments" section gives the
full studies these scale down."""

import numpy as np
import pytest
import stim

from qec import codes, decoders, noise
from qec.crossings import pairwise_crossings
from qec.decoders.blocks import SeparateBlocksDecoder
from qec.decoders.dem_arrays import decoding_dem
from qec.lattice_surgery import build_surgery
from qec.stability import build_stability
from qec.stats import Point
from qec.task import Counts
from qec.transversal_cnot import build_cnot

SURFACE = codes.family("surface")


def _matching_failures(circuit: stim.Circuit, *, p: float, shots: int, seed: int, decoder: str = "pymatching") -> int:
    """Shots (SI1000 at p, seeded) whose prediction by `decoder` (default PyMatching) gets some observable wrong."""
    noisy = noise.noise_model("si1000", p).apply(circuit)
    events, flips = noisy.compile_detector_sampler(seed=seed).sample(shots, separate_observables=True, bit_packed=True)
    compiled = decoders.get(decoder).compile_decoder_for_dem(dem=decoding_dem(noisy))
    predictions = compiled.decode_shots_bit_packed(bit_packed_detection_event_data=events)
    return int(np.any(predictions != flips, axis=1).sum())


def _crossing(build, distances: tuple[int, int], *, ps: list[float], shots: int, decoder: str = "pymatching"):
    points = [
        Point(
            "surface",
            d,
            d,
            "si1000",
            p,
            decoder,
            Counts(shots, _matching_failures(build(d), p=p, shots=shots, seed=round(p * 1e6) + d, decoder=decoder)),
        )
        for d in distances
        for p in ps
    ]
    (crossing,) = pairwise_crossings(points, seed=3)
    return crossing


@pytest.mark.slow
def test_stability_crosses_where_memory_crosses():
    """SI1000, PyMatching, rounds = d, 40,000 seeded shots a point at p = 0.35..0.75%: the stability experiment's
    d = 6/8 crossing and the memory's d = 5/7 crossing both lie inside the range, and their 95% bootstrap intervals
    overlap (measured: memory 0.511% [0.492, 0.539], stability 0.530% [0.502, 0.582]). Smaller sizes would not do:
    the stability crossings fall towards the memory's from above (d = 4/6: 0.61%), the memory's climb from below
    (d = 3/5: 0.47%), and their intervals at those sizes are apart."""
    ps = [0.0035, 0.0045, 0.0058, 0.0075]
    memory = _crossing(lambda d: SURFACE.circuit(distance=d, rounds=d, basis="Z"), (5, 7), ps=ps, shots=40_000)
    stability = _crossing(
        lambda d: build_stability(SURFACE, distance=d, rounds=d, basis="Z"), (6, 8), ps=ps, shots=40_000
    )
    for crossing in (memory, stability):
        assert crossing.p is not None, crossing.reason
        assert ps[0] < crossing.p < ps[-1]
    assert memory.low <= stability.high and stability.low <= memory.high, (memory, stability)


def _cnot_failures(distance: int, *, p: float, shots: int, seed: int, decoder: str, separate: str):
    """Per shot, whether joint decoding with `decoder` and block-by-block decoding with `separate` get an
    observable wrong, on the same shots."""
    circuit = build_cnot(SURFACE, distance=distance, rounds=distance, basis="Z")
    noisy = noise.noise_model("si1000", p).apply(circuit)
    dem = decoding_dem(noisy)
    events, flips = noisy.compile_detector_sampler(seed=seed).sample(shots, separate_observables=True, bit_packed=True)
    failed = []
    for each in (decoders.get(decoder), SeparateBlocksDecoder(decoder=separate)):
        predictions = each.compile_decoder_for_dem(dem=dem).decode_shots_bit_packed(
            bit_packed_detection_event_data=events
        )
        failed.append((predictions != flips).any(axis=1))
    return failed[0], failed[1]


@pytest.mark.slow
@pytest.mark.parametrize("decoder", ["bposd", "pymatching-ordered"])
def test_joint_cnot_decoding_beats_separate_below_threshold(decoder):
    """One transversal CNOT, rounds = d, SI1000 p = 0.3% (below both thresholds), the same 3,000 seeded shots
    decoded jointly (BP+OSD on the whole DEM, or ordered matching) and block by block with BP+OSD: at d = 3 and 5
    the shots only block-by-block decoding fails outnumber those only joint decoding fails by more than 3 sigma of
    their sum (McNemar), and joint decoding's rate falls from d = 3 to 5 by more than 3 sigma of the counts'
    Poisson spread. Measured with BP+OSD: d = 3 joint 211, separate 267 failures (70 shots only separate fails, 14
    only joint); d = 5 joint 127, separate 206 (100, 21)."""
    joint_failures = []
    for distance in (3, 5):
        joint, separate = _cnot_failures(
            distance, p=0.003, shots=3000, seed=23 + distance, decoder=decoder, separate="bposd"
        )
        only_separate = int((separate & ~joint).sum())
        only_joint = int((joint & ~separate).sum())
        assert only_separate - only_joint > 3 * np.sqrt(only_separate + only_joint), (
            distance,
            only_separate,
            only_joint,
        )
        joint_failures.append(int(joint.sum()))
    worse, better = joint_failures
    assert worse - better > 3 * np.sqrt(worse + better), joint_failures


@pytest.mark.slow
def test_joint_cnot_crosses_where_memory_crosses():
    """SI1000, rounds = d, one CNOT decoded by ordered matching against the memory decoded by PyMatching (the same
    matching, one block at a time), 40,000 seeded shots a point at p = 0.35..0.75%: both d = 5/7 crossings lie
    inside the range and the cnot's is within 10% of the memory's, as Sahay et al. and Cain et al. find that
    correlated decoding keeps the memory's threshold. Measured: cnot 0.485% [0.471, 0.497], memory 0.511% [0.492,
    0.539] (95% bootstrap intervals); block-by-block decoding crosses at about 0.55 of the memory at d = 3/5 (README
    "Experiments", where the cnot's crossings climb with d to the memory's: 7/9 0.529% against 0.518%)."""
    ps = [0.0035, 0.0045, 0.0058, 0.0075]
    memory = _crossing(lambda d: SURFACE.circuit(distance=d, rounds=d, basis="Z"), (5, 7), ps=ps, shots=40_000)
    cnot = _crossing(
        lambda d: build_cnot(SURFACE, distance=d, rounds=d, basis="Z"),
        (5, 7),
        ps=ps,
        shots=40_000,
        decoder="pymatching-ordered",
    )
    for crossing in (memory, cnot):
        assert crossing.p is not None, crossing.reason
        assert ps[0] < crossing.p < ps[-1]
    assert abs(cnot.p / memory.p - 1) < 0.1, (memory, cnot)


@pytest.mark.slow
def test_surgery_error_per_measurement_falls_with_d():
    """Logical ZZ measurement by merge and split, rounds = d, SI1000 p = 0.1%, 40,000 seeded shots, a failure
    being any of the outcome and the two memories wrong: d = 3, 5, 7 each fail less than the one before, by more
    than 4 sigma of the two counts' Poisson spread. Measured: 578, 111, 24 failures."""
    failures = [
        _matching_failures(build_surgery(SURFACE, distance=d, rounds=d, basis="Z"), p=0.001, shots=40_000, seed=d)
        for d in (3, 5, 7)
    ]
    for worse, better in zip(failures, failures[1:]):
        assert worse - better > 4 * np.sqrt(worse + better), failures
